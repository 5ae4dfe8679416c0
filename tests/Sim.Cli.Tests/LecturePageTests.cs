using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace Sim.Cli.Tests;

/// <summary>
/// A test that drives the lecture page in headless Chromium (Debian's, at <see cref="LectureSite.Chromium"/>:
/// ../shared/TOOLCHAIN.md). Where there is no Chromium it is skipped and says why, unless
/// <c>VIRTSIM_REQUIRE_BROWSER=1</c> (as CI sets it, having installed the browser), where it fails.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!File.Exists(LectureSite.Chromium) && Environment.GetEnvironmentVariable("VIRTSIM_REQUIRE_BROWSER") != "1")
        {
            Skip = $"no Chromium at {LectureSite.Chromium} (apt-get install chromium; .ci/run installs it)";
        }
    }
}

/// <summary><c>virtsim serve</c> on a free port, and a headless Chromium to look at it where there is one; one for the tests of a class.</summary>
public sealed class LectureSite : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private Process? _server;
    private IPlaywright? _playwright;

    public Uri Address { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var address = new TaskCompletionSource<Uri>();
        _server = Virtsim.Start(line =>
        {
            if (line.StartsWith("virtsim serve: the lecture page is at ", StringComparison.Ordinal))
            {
                address.TrySetResult(new Uri(line.Split(" ").First(w => w.StartsWith("http://", StringComparison.Ordinal))));
            }
        }, "serve", "--port", "0");
        Address = await address.Task.WaitAsync(TimeSpan.FromSeconds(60));
        if (!File.Exists(Chromium) && Environment.GetEnvironmentVariable("VIRTSIM_REQUIRE_BROWSER") != "1")
        {
            return; // the browser's tests are skipped; the server's run
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }
        _server?.Dispose();
    }

    /// <summary>A page of its own (a tab), at projection size: 1600 by 1000.</summary>
    public async Task<IPage> NewPageAsync(string fragment = "")
    {
        IPage page = await Browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        await page.GotoAsync(new Uri(Address, "/" + fragment).ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }
}

/// <summary>
/// The lecture page in a real browser: it shows what <c>virtsim explain --json</c> prints, to the
/// digit; it steps through the phases; a bad request is told on the page and the server goes on;
/// the URL holds the view; and each view is kept as a screenshot under results/lecture/.
/// </summary>
public sealed class LecturePageTests(LectureSite site) : IClassFixture<LectureSite>
{
    private static readonly string Shots = Path.Combine(DocsTests.RepositoryRoot(), "results", "lecture");

    private static async Task RunAsync(IPage page)
    {
        await page.ClickAsync("#run");
        await page.WaitForFunctionAsync("() => document.querySelector('#status').textContent.startsWith('Done') || !document.querySelector('#error').hidden", null, new() { Timeout = 120_000 });
    }

    private static long Number(string text) => long.Parse(text.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);

    private static async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Shots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Shots, name + ".png"), FullPage = true });
    }

    [BrowserFact]
    public async Task The_page_shows_the_exit_reason_cycles_per_exit_and_total_that_explain_prints()
    {
        IPage page = await site.NewPageAsync();
        await page.SelectOptionAsync("#workload", "in");
        Assert.True(await page.IsHiddenAsync("#size"), "one operation has no size");
        await page.SelectOptionAsync("#profile", "nehalem-x5570");
        foreach (string arch in new[] { "native", "type1", "type2" })
        {
            await page.CheckAsync($"input[name=arch][value={arch}]");
        }
        foreach (string arch in new[] { "paravirt", "oslevel", "trap-and-emulate", "binary-translation" })
        {
            await page.UncheckAsync($"input[name=arch][value={arch}]");
        }
        await RunAsync(page);
        Assert.True(await page.IsHiddenAsync("#error"), await page.TextContentAsync("#error"));

        foreach (string preset in new[] { "native", "type1", "type2" })
        {
            var (code, stdout, stderr) = Virtsim.Run("explain", "--workload", "in", "--profile", "nehalem-x5570", "--preset", preset, "--json", "--out", Path.Combine(Virtsim.TempFolder(), "x"));
            Assert.True(code == 0, stderr);
            JsonElement cli = JsonDocument.Parse(stdout).RootElement.GetProperty("architectures")[0];
            string row = $"#summary tr[data-arch={preset}]";
            Assert.Equal(cli.GetProperty("totalCycles").GetInt64(), Number(await page.InnerTextAsync(row + " .total")));
            JsonElement[] exits = [.. cli.GetProperty("exits").EnumerateArray()];
            if (exits.Length == 0)
            {
                Assert.Equal("none", await page.InnerTextAsync(row + " .reason"));
                continue;
            }
            Assert.Equal("IoInstruction (basic reason 30)", exits.Single().GetProperty("reason").GetString());
            Assert.Equal(exits.Single().GetProperty("reason").GetString(), await page.InnerTextAsync(row + " .reason"));
            Assert.Equal(exits.Single().GetProperty("cyclesEach").GetInt64(), Number(await page.InnerTextAsync(row + " .per-exit")));
        }
        await page.SelectOptionAsync("#step-arch", "1");
        await page.ClickAsync("#step-next");
        Assert.Equal("VM transition", await page.InnerTextAsync("#step-where"));
        await ShotAsync(page, "step-through");
        await page.ClickAsync("#tab-categories");
        await ShotAsync(page, "cycles-by-category");
        await page.ClickAsync("#tab-exits");
        Assert.Contains("IoInstruction (basic reason 30)", await page.InnerTextAsync("#exits-table"), StringComparison.Ordinal);
        await ShotAsync(page, "exits-by-reason");
        Assert.Equal(3, await page.Locator("#scenario-links a.scenario-link").CountAsync()); // on every view: the scenario files that produced it
        await page.ClickAsync("#tab-scenario");
        await page.SelectOptionAsync("#scenario-arch", "1");
        Assert.Contains("preset: type1", await page.InnerTextAsync("#scenario-yaml"), StringComparison.Ordinal);
        await ShotAsync(page, "scenario");
    }

    [BrowserFact]
    public async Task Forward_and_back_step_through_the_phases_and_the_URL_keeps_the_slide()
    {
        IPage page = await site.NewPageAsync("#w=in&p=nehalem-x5570&a=native;type1;type2&v=step&sa=1&s=0");
        await page.WaitForFunctionAsync("() => document.querySelector('#status').textContent.startsWith('Done')", null, new() { Timeout = 120_000 });
        Assert.Equal("phase 1 of 7", await page.InnerTextAsync("#step-position"));
        await page.ClickAsync("#step-next");
        Assert.Equal("phase 2 of 7", await page.InnerTextAsync("#step-position"));
        Assert.Equal("VM transition", await page.InnerTextAsync("#step-where"));
        Assert.StartsWith("VM exit: IoInstruction", await page.InnerTextAsync("#step-what"), StringComparison.Ordinal);
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal("device model", await page.InnerTextAsync("#step-where"));
        await page.Keyboard.PressAsync("ArrowLeft");
        Assert.Equal("phase 3 of 7", await page.InnerTextAsync("#step-position"));
        Assert.Equal("hypervisor", await page.InnerTextAsync("#step-where"));
        await page.Keyboard.PressAsync("l");
        await ShotAsync(page, "lecture-mode");

        // The slide's URL, opened in another tab, shows the same phase in lecture mode.
        IPage again = await site.Browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        await again.GotoAsync(page.Url);
        await again.WaitForFunctionAsync("() => document.querySelector('#status').textContent.startsWith('Done')", null, new() { Timeout = 120_000 });
        Assert.Equal("phase 3 of 7", await again.InnerTextAsync("#step-position"));
        Assert.True(await again.EvaluateAsync<bool>("() => document.documentElement.classList.contains('lecture')"));
    }

    [BrowserFact]
    public async Task The_page_walk_grid_lights_24_references_for_a_walk_under_nested_paging_without_the_caches()
    {
        IPage page = await site.NewPageAsync("#w=in&p=nehalem-x5570&a=native;type1;trap-and-emulate&v=walk");
        await page.WaitForSelectorAsync(".walk[data-arch=type1]", new() { Timeout = 120_000 });
        Assert.Equal("24 references", await page.InnerTextAsync(".walk[data-arch=type1] .count"));
        Assert.Equal(24, await page.Locator(".walk[data-arch=type1] td.read").CountAsync());
        Assert.Equal("4 references", await page.InnerTextAsync(".walk[data-arch=native] .count"));
        Assert.Equal("4 references", await page.InnerTextAsync(".walk[data-arch=trap-and-emulate] .count")); // the shadow tables, walked as a native walk is
        await page.Keyboard.PressAsync("ArrowLeft");
        Assert.Equal("reference 23 of 24", await page.InnerTextAsync("#walk-position"));
        Assert.Equal(23, await page.Locator(".walk[data-arch=type1] td.read").CountAsync());
        await ShotAsync(page, "page-walk");

        await page.SelectOptionAsync("#walk-kind", "warm");
        int warm = int.Parse((await page.InnerTextAsync(".walk[data-arch=type1] .count")).Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.InRange(warm, 1, 23);
        Assert.True(await page.Locator(".walk[data-arch=type1] td.skipped").CountAsync() > 0, "the caches' skipped references are shown");
        await ShotAsync(page, "page-walk-warm");
    }

    [BrowserFact]
    public async Task The_virtualization_holes_are_highlighted_as_the_guest_meets_them_under_trap_and_emulate()
    {
        using var http = new HttpClient();
        JsonElement[] phases = [.. JsonDocument.Parse(await http.GetStringAsync(new Uri(site.Address, "/api/explain?workload=lat-pagefault&profile=nehalem-x5570&arch=trap-and-emulate")))
            .RootElement.GetProperty("architectures")[0].GetProperty("phases").EnumerateArray()];
        int first = Array.FindIndex(phases, p => p.GetProperty("holes").GetArrayLength() > 0);
        Assert.True(first >= 0, "the page-fault path's PUSHF and POPF are holes under trap-and-emulate");

        IPage page = await site.NewPageAsync($"#w=lat-pagefault&p=nehalem-x5570&a=native;trap-and-emulate&v=step&sa=1&s={first - 1}");
        await page.WaitForFunctionAsync("() => document.querySelector('#status').textContent.startsWith('Done')", null, new() { Timeout = 120_000 });
        Assert.Equal("none", await page.InnerTextAsync("#summary tr[data-arch=native] td:last-child"));
        Assert.Contains("POPF", await page.InnerTextAsync("#summary tr[data-arch=trap-and-emulate] td:last-child"), StringComparison.Ordinal);
        Assert.True(await page.IsHiddenAsync("#step-hole"));
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.True(await page.IsVisibleAsync("#step-hole"));
        Assert.Contains(phases[first].GetProperty("holes")[0].GetString()!, await page.InnerTextAsync("#step-hole"), StringComparison.Ordinal);
        Assert.True(await page.Locator("#timeline .hole-mark").CountAsync() > 0);
        await ShotAsync(page, "virtualization-hole");
    }

    [BrowserFact]
    public async Task A_workload_run_shows_the_cycles_and_exits_that_run_json_prints()
    {
        IPage page = await site.NewPageAsync();
        await page.SelectOptionAsync("#workload", "web");
        Assert.True(await page.IsVisibleAsync("#size"));
        await page.FillAsync("#size", "100");
        foreach (string arch in new[] { "type2", "paravirt", "oslevel", "trap-and-emulate", "binary-translation" })
        {
            await page.UncheckAsync($"input[name=arch][value={arch}]");
        }
        await page.CheckAsync("input[name=arch][value=native]");
        await page.CheckAsync("input[name=arch][value=type1]");
        await RunAsync(page);
        Assert.True(await page.IsHiddenAsync("#error"), await page.TextContentAsync("#error"));
        Assert.True(await page.IsHiddenAsync("#tab-step"), "a run has no phases to step through");

        var (code, stdout, stderr) = Virtsim.Run("run", "--workload", "web", "--profile", "nehalem-x5570", "--preset", "type1", "--size", "100", "--json", "--out", Path.Combine(Virtsim.TempFolder(), "r"));
        Assert.True(code == 0, stderr);
        JsonElement cli = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(cli.GetProperty("cycles").GetInt64(), Number(await page.InnerTextAsync("#summary tr[data-arch=type1] .total")));
        long exits = cli.GetProperty("vm_exits").EnumerateObject().Sum(x => x.Value.GetProperty("count").GetInt64());
        Assert.Equal(exits, Number(await page.InnerTextAsync("#summary tr[data-arch=type1] .exits")));
        await page.ClickAsync("#tab-exits");
        Assert.Contains("EptViolation", await page.InnerTextAsync("#exits-table"), StringComparison.Ordinal);
        await ShotAsync(page, "workload-run");
    }

    [BrowserFact]
    public async Task A_long_run_shows_its_progress_and_can_be_cancelled()
    {
        IPage page = await site.NewPageAsync("#w=kernel-build&p=nehalem-x5570&a=native;type1;type2");
        await page.WaitForFunctionAsync("() => document.querySelector('#status').textContent.includes('simulated')", null, new() { Timeout = 60_000 });
        Assert.Matches(@"Running architecture \d of 3: simulated [\d,]+ ms", await page.InnerTextAsync("#status"));
        await page.ClickAsync("#cancel");
        await page.WaitForFunctionAsync("() => document.querySelector('#status').textContent === 'Cancelled.'", null, new() { Timeout = 30_000 });
        Assert.True(await page.IsDisabledAsync("#cancel"));
        Assert.True(await page.IsHiddenAsync("#results"), "a cancelled run shows nothing of itself");
    }

    [BrowserFact]
    public async Task A_bad_request_is_told_on_the_page_and_the_server_keeps_serving()
    {
        IPage page = await site.NewPageAsync("#w=in&p=nehalem-x5570&a=type1:cpu=bogus");
        await page.WaitForSelectorAsync("#error:not([hidden])");
        Assert.Contains("There is no cpu virtualization 'bogus'", await page.InnerTextAsync("#error"), StringComparison.Ordinal);
        await ShotAsync(page, "bad-request");

        // The same page runs a good request next, and a second tab runs at the same time without mixing their answers.
        IPage other = await site.NewPageAsync("#w=syscall&p=nehalem-x5570&a=native");
        await page.EvaluateAsync("() => { location.hash = ''; }");
        await page.CheckAsync("input[name=arch][value=native]");
        await page.CheckAsync("input[name=arch][value=type2]");
        await page.EvaluateAsync("() => { document.querySelectorAll('#custom-list button').forEach(b => b.click()); }");
        await RunAsync(page);
        await other.WaitForFunctionAsync("() => document.querySelector('#status').textContent.startsWith('Done')", null, new() { Timeout = 120_000 });
        Assert.True(await page.IsHiddenAsync("#error"), await page.TextContentAsync("#error"));
        Assert.Contains("'in'", await page.InnerTextAsync("#described"), StringComparison.Ordinal);
        Assert.Contains("'syscall'", await other.InnerTextAsync("#described"), StringComparison.Ordinal);
    }
}

/// <summary>
/// The lecture page's server without a browser: what it answers is what <c>virtsim explain --json</c>
/// prints, byte for byte; the scenario file it gives explains to the same numbers; bad requests get
/// a message and status 400, and it keeps serving.
/// </summary>
public sealed class LectureServerTests(LectureSite site) : IClassFixture<LectureSite>
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task The_server_answers_what_explain_json_prints_and_its_scenario_file_explains_the_same()
    {
        string served = await Http.GetStringAsync(new Uri(site.Address, "/api/explain?workload=pgfault&profile=nehalem-x5570&arch=type1"));
        string folder = Virtsim.TempFolder();
        var (code, printed, stderr) = Virtsim.Run("explain", "--workload", "pgfault", "--profile", "nehalem-x5570", "--preset", "type1", "--json", "--out", Path.Combine(folder, "x"));
        Assert.True(code == 0, stderr);
        Assert.Equal(printed.TrimEnd(), served.TrimEnd());

        string scenario = Path.Combine(folder, "pgfault-type1.yaml");
        File.WriteAllText(scenario, JsonDocument.Parse(served).RootElement.GetProperty("architectures")[0].GetProperty("scenario").GetString());
        var (again, fromFile, error) = Virtsim.Run("explain", scenario, "--json", "--out", Path.Combine(folder, "y"));
        Assert.True(again == 0, error);
        Assert.Equal(printed, fromFile);
    }

    [Fact]
    public async Task A_custom_architecture_s_scenario_names_the_nearest_preset_and_the_axes_it_changes()
    {
        string served = await Http.GetStringAsync(new Uri(site.Address, "/api/explain?workload=in&profile=nehalem-x5570&arch=type1:mmu=shadow&arch=trap-and-emulate"));
        JsonElement[] architectures = [.. JsonDocument.Parse(served).RootElement.GetProperty("architectures").EnumerateArray()];
        Assert.Equal("shadow", architectures[0].GetProperty("mmu").GetString());
        Assert.EndsWith("preset: type1\nmmu: shadow\n", architectures[0].GetProperty("scenario").GetString(), StringComparison.Ordinal);
        Assert.Equal("trap-and-emulate", architectures[1].GetProperty("name").GetString());
        Assert.Equal("IN traps to the monitor (#GP delivered)", architectures[1].GetProperty("exits")[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_nested_walk_without_paging_structure_caches_reads_24_entries_in_the_order_of_the_two_dimensional_walk()
    {
        string served = await Http.GetStringAsync(new Uri(site.Address, "/api/walk?profile=nehalem-x5570&arch=type1&arch=native"));
        JsonElement[] architectures = [.. JsonDocument.Parse(served).RootElement.GetProperty("architectures").EnumerateArray()];
        (int Guest, int Ept)[] Cells(JsonElement a, string kind) => [.. a.GetProperty(kind).GetProperty("references").EnumerateArray().Select(r => (r.GetProperty("guest").GetInt32(), r.GetProperty("ept").GetInt32()))];
        (int, int)[] expected = [.. new[] { 3, 2, 1, 0 }.SelectMany(g => new[] { 3, 2, 1, 0, -1 }.Select(e => (g, e))), .. new[] { 3, 2, 1, 0 }.Select(e => (-1, e))];
        Assert.Equal(expected, Cells(architectures[0], "uncached")); // each guest entry's address through a four-level EPT walk, then the entry; then the page's
        Assert.True(Cells(architectures[0], "cold").Length < 24, "emptied caches fill during the walk: later EPT walks start lower");
        Assert.True(Cells(architectures[0], "warm").Length < Cells(architectures[0], "cold").Length);
        Assert.Equal([(3, -1), (2, -1), (1, -1), (0, -1)], Cells(architectures[1], "uncached"));
    }

    [Theory]
    [InlineData("workload=nope&profile=nehalem-x5570&arch=native", "'nope' is not a nanobenchmark or an lmbench latency")]
    [InlineData("workload=in&profile=pentium-1&arch=native", "There is no hardware profile 'pentium-1'")]
    [InlineData("workload=in&profile=nehalem-x5570", "Choose at least one architecture.")]
    [InlineData("workload=in&profile=nehalem-x5570&arch=type3", "'type3' is not an architecture")]
    [InlineData("workload=in&profile=nehalem-x5570&arch=type1:disk=ssd", "'disk=ssd' in 'type1:disk=ssd' is not an axis")]
    [InlineData("workload=in&profile=nehalem-x5570&arch=paravirt", "paravirt: Preset 'paravirt'")]
    [InlineData("workload=in&profile=nehalem-x5570&arch=native&arch=native&arch=native&arch=native&arch=native&arch=native&arch=native&arch=native&arch=native", "At most 8 architectures at once, not 9.")]
    public async Task A_bad_request_gets_status_400_and_a_message_and_the_server_keeps_serving(string query, string expected)
    {
        using HttpResponseMessage response = await Http.GetAsync(new Uri(site.Address, "/api/explain?" + query));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("nanobenchmarks", await Http.GetStringAsync(new Uri(site.Address, "/api/catalog")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_job_reports_what_run_json_prints_and_refuses_a_size_beyond_the_default()
    {
        using HttpResponseMessage started = await Http.PostAsync(new Uri(site.Address, "/api/runs?workload=netperf-rr&profile=nehalem-x5570&arch=type2&size=200"), null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        string id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        JsonElement job;
        do
        {
            await Task.Delay(200);
            job = JsonDocument.Parse(await Http.GetStringAsync(new Uri(site.Address, "/api/runs/" + id))).RootElement;
        }
        while (job.GetProperty("state").GetString() is "waiting" or "running");
        Assert.Equal("done", job.GetProperty("state").GetString());
        JsonElement served = job.GetProperty("result").GetProperty("architectures")[0].GetProperty("run");

        var (code, stdout, stderr) = Virtsim.Run("run", "--workload", "netperf-rr", "--profile", "nehalem-x5570", "--preset", "type2", "--size", "200", "--json", "--out", Path.Combine(Virtsim.TempFolder(), "r"));
        Assert.True(code == 0, stderr);
        JsonElement cli = JsonDocument.Parse(stdout).RootElement;
        foreach (string key in new[] { "cycles", "cycles_by_category", "vm_exits", "figures_of_merit", "simulated_seconds" })
        {
            Assert.Equal(cli.GetProperty(key).GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal),
                served.GetProperty(key).GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
        }

        using HttpResponseMessage tooLarge = await Http.PostAsync(new Uri(site.Address, "/api/runs?workload=web&profile=nehalem-x5570&arch=type1&size=501"), null);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, tooLarge.StatusCode);
        Assert.Contains("from 1 to 500 (its default)", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using HttpResponseMessage unknown = await Http.DeleteAsync(new Uri(site.Address, "/api/runs/999999"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task The_page_loads_nothing_from_outside()
    {
        string page = await Http.GetStringAsync(site.Address);
        string script = await Http.GetStringAsync(new Uri(site.Address, "/lecture.js"));
        string style = await Http.GetStringAsync(new Uri(site.Address, "/lecture.css"));
        foreach (string text in new[] { page, script, style })
        {
            Assert.DoesNotContain("https://", text, StringComparison.Ordinal);
            Assert.DoesNotContain("//cdn", text, StringComparison.Ordinal);
            Assert.DoesNotContain("@import", text, StringComparison.Ordinal);
        }
        Assert.Contains("<script src=\"/lecture.js\">", page, StringComparison.Ordinal);
    }
}
