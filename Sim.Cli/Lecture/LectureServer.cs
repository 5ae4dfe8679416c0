using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sim.Experiments.Explain;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Cli.Lecture;

/// <summary>
/// The lecture page's web server (<c>virtsim serve</c>): ASP.NET Core's minimal API on Kestrel,
/// bound to one address (127.0.0.1 unless told otherwise). It serves the page (HTML, CSS and
/// JavaScript from the program's resources: nothing from outside) and answers its questions as
/// JSON: what can be chosen (<c>/api/catalog</c>), and one operation explained under the chosen
/// architectures (<c>/api/explain</c>), by the code <c>virtsim explain --json</c> runs. A bad
/// request gets status 400 and a message the page shows; the server keeps serving.
/// </summary>
/// <remarks>
/// Bounded so that a page cannot take the machine: at most <see cref="LectureRequest.MostArchitectures"/>
/// architectures a request, at most <see cref="Simulations"/> explanations running at once (a
/// request waits up to <see cref="QueueWait"/> for its turn, then is told the server is busy), and
/// a request that takes longer than <see cref="Longest"/> is answered with a timeout. Each request
/// runs its own simulations (the machine model keeps no state between runs), so tabs running at
/// once do not interfere. A page that cancels stops waiting; a simulation already started
/// finishes, holding its slot, and is discarded.
/// </remarks>
internal sealed class LectureServer : IAsyncDisposable
{
    /// <summary>Explanations that may run at once: the machine's cores.</summary>
    private static readonly int Simulations = Math.Max(1, Environment.ProcessorCount);

    private static readonly TimeSpan QueueWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(120);

    private readonly WebApplication _app;
    private readonly SemaphoreSlim _slots = new(Simulations, Simulations);

    private readonly RunJobs _runs;

    private LectureServer(WebApplication app)
    {
        _app = app;
        _runs = new RunJobs(_slots);
    }

    /// <summary>The address the page is served at.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Starts a server on <paramref name="host"/>:<paramref name="port"/> (port 0: one the system chooses).</summary>
    public static async Task<LectureServer> StartAsync(IPAddress host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the command prints its own lines; a lecture's terminal stays quiet
        builder.WebHost.ConfigureKestrel(k => k.Listen(host, port));
        WebApplication app = builder.Build();
        var server = new LectureServer(app);
        server.Map();
        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal) + "/");
        return server;
    }

    /// <summary>Until the server stops (Ctrl+C, or <paramref name="stop"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken stop) => _app.WaitForShutdownAsync(stop);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        _slots.Dispose();
    }

    private void Map()
    {
        foreach ((string file, string type) in new[] { ("index.html", "text/html; charset=utf-8"), ("lecture.css", "text/css; charset=utf-8"), ("lecture.js", "text/javascript; charset=utf-8") })
        {
            byte[] content = Resource(file);
            _app.MapGet(file == "index.html" ? "/" : "/" + file, () => Results.Bytes(content, type));
        }
        _app.MapGet("/api/catalog", () => Results.Json(Catalog()));
        _app.MapGet("/api/explain", (Func<HttpContext, Task<IResult>>)(c => SimulateAsync(c, c.Request.Query["workload"], (hw, request) =>
            ExplanationView.Of([.. request.Scenarios.Select(s => Explanation.Of(hw, Explanation.Explainable.First(w => w.Name == request.Workload), s.ResolveAxes()))]).ToJson())));
        _app.MapGet("/api/walk", (Func<HttpContext, Task<IResult>>)(c => SimulateAsync(c, PageWalkView.Workload.Name, (hw, request) =>
            ViewJson.Serialize(new { profile = hw.Name, workload = request.Workload, address = WorkloadContext.DataBase, architectures = request.Scenarios.Select(s => PageWalkView.Of(hw, s.ResolveAxes())).ToArray() }))));
        _app.MapPost("/api/runs", (HttpContext c) =>
        {
            IQueryCollection q = c.Request.Query;
            (LectureRequest? request, string? problem) = LectureRequest.ParseRun(q["workload"], q["profile"], [.. q["arch"].Where(a => !string.IsNullOrEmpty(a)).Select(a => a!)], q["size"]);
            if (request is null)
            {
                return Results.Json(new { error = problem }, statusCode: StatusCodes.Status400BadRequest);
            }
            return _runs.Start(request) is { } id
                ? Results.Json(new { id }, statusCode: StatusCodes.Status202Accepted)
                : Results.Json(new { error = "The server holds as many runs as it keeps; try again in a few minutes." }, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
        _app.MapGet("/api/runs/{id}", (string id) => _runs.Find(id) is { } job
            ? Results.Json(new
            {
                state = job.State, done = job.Done, of = job.Request.Scenarios.Count, simulatedMs = job.SimulatedMs, events = job.Events,
                elapsedSeconds = Math.Round(job.Clock.Elapsed.TotalSeconds, 1), error = job.Error,
                result = job.Result is null ? (System.Text.Json.JsonElement?)null : System.Text.Json.JsonDocument.Parse(job.Result).RootElement,
            })
            : Results.Json(new { error = $"No run {id}: it ended more than ten minutes ago, or never was." }, statusCode: StatusCodes.Status404NotFound));
        _app.MapDelete("/api/runs/{id}", (string id) =>
        {
            if (_runs.Find(id) is not { } job)
            {
                return Results.Json(new { error = $"No run {id}." }, statusCode: StatusCodes.Status404NotFound);
            }
            job.Cancel.Cancel();
            return Results.NoContent();
        });
        _app.MapFallback(() => Results.Json(new { error = "No such page: the lecture page is at /." }, statusCode: StatusCodes.Status404NotFound));
    }

    private static byte[] Resource(string file)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("lecture/" + file)
            ?? throw new InvalidOperationException($"The program lacks the lecture page's {file}: it is built into virtsim.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>What the page offers: the explainable workloads by group, the profiles, the architectures and the axes' values.</summary>
    private static object Catalog() => new
    {
        workloads = Explanation.Explainable.Select(w => new { name = w.Name, description = w.Description, group = w is Lmbench ? "lmbench latencies" : "nanobenchmarks" }),
        profiles = HardwareProfiles.All.Select(p => new { name = p.Name, description = p.Description }),
        architectures = VirtualizationAxes.Presets.Concat(LectureRequest.SoftwareMonitors),
        axes = new
        {
            cpu = AxisNames.All<CpuVirtualization>(),
            mmu = AxisNames.All<MmuVirtualization>(),
            io = AxisNames.All<IoVirtualization>(),
            hosting = AxisNames.All<Hosting>(),
        },
        runs = LectureRequest.Runnable.Select(w => new { name = w.Workload.Name, description = w.Workload.Description, defaultSize = w.DefaultSize }),
        defaults = new { workload = "in", profile = CompareCommand.DefaultProfile, architectures = new[] { "native", "type1", "type2" } },
        mostArchitectures = LectureRequest.MostArchitectures,
    };

    /// <summary>
    /// A request's simulations, <paramref name="simulate"/> on the request's profile, within the
    /// server's bounds: the request checked first (a message and 400 if it is bad), then a slot,
    /// then at most <see cref="Longest"/>.
    /// </summary>
    private async Task<IResult> SimulateAsync(HttpContext context, string? workload, Func<HardwareProfile, LectureRequest, string> simulate)
    {
        IQueryCollection q = context.Request.Query;
        (LectureRequest? request, string? problem) = LectureRequest.Parse(workload, q["profile"], [.. q["arch"].Where(a => !string.IsNullOrEmpty(a)).Select(a => a!)]);
        if (request is null)
        {
            return Results.Json(new { error = problem }, statusCode: StatusCodes.Status400BadRequest);
        }
        if (!await _slots.WaitAsync(QueueWait, context.RequestAborted).ConfigureAwait(false))
        {
            return Results.Json(new { error = $"The server is busy with other pages' simulations ({Simulations} at once); try again in a moment." }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        Task<string> work = Task.Run(() =>
        {
            try
            {
                return simulate(HardwareProfiles.Get(request.Profile), request);
            }
            finally
            {
                _slots.Release();
            }
        });
        try
        {
            return Results.Text(await work.WaitAsync(Longest, context.RequestAborted).ConfigureAwait(false), "application/json; charset=utf-8");
        }
        catch (TimeoutException)
        {
            return Results.Json(new { error = $"The simulation took longer than {Longest.TotalSeconds:0} s; choose fewer architectures or a shorter workload." }, statusCode: StatusCodes.Status504GatewayTimeout);
        }
        catch (Exception e) when (UserError.Of(e) is { } message)
        {
            return Results.Json(new { error = message }, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
