using Sim.Experiments.Explain;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Cli.Lecture;

/// <summary>
/// What the lecture page asks to explain: a workload, a profile, and up to
/// <see cref="MostArchitectures"/> architectures, each a preset name, <c>trap-and-emulate</c> or
/// <c>binary-translation</c> (the software monitors, on the native preset's other axes, as
/// <c>explain --compare</c> takes them), or <c>PRESET:cpu=X,mmu=Y,io=Z,hosting=W</c> with any of
/// the four axes changed. Each becomes the scenario <c>virtsim explain</c> takes, so the page and
/// the command run one code path.
/// </summary>
internal sealed record LectureRequest(string Workload, string Profile, IReadOnlyList<WorkloadScenario> Scenarios)
{
    /// <summary>The workloads the page runs whole (with progress) rather than explains: every built-in one that is not one operation.</summary>
    public static IReadOnlyList<(IWorkload Workload, long DefaultSize)> Runnable { get; } =
        [.. WorkloadCatalog.All.Where(w => Explanation.Explainable.All(e => e.Name != w.Workload.Name))];

    /// <summary>The most architectures one request explains, so that a page cannot hold the server for long.</summary>
    public const int MostArchitectures = 8;

    /// <summary>The software monitors the page offers beside the presets, by their CPU axis.</summary>
    public static readonly string[] SoftwareMonitors = ["trap-and-emulate", "binary-translation"];

    /// <summary>
    /// A run of a whole workload the page asks for: as <see cref="Parse"/>, of one of
    /// <see cref="Runnable"/>, at a size from 1 to its default (none: the default), so that a page's
    /// run stays short.
    /// </summary>
    public static (LectureRequest? Request, string? Problem) ParseRun(string? workload, string? profile, IReadOnlyList<string> architectures, string? size)
    {
        if (Runnable.FirstOrDefault(w => w.Workload.Name == workload) is not { Workload: not null } found)
        {
            return (null, $"'{workload}' is not a workload the page runs; run one of: {string.Join(", ", Runnable.Select(w => w.Workload.Name))}.");
        }
        long n = found.DefaultSize;
        if (!string.IsNullOrEmpty(size) && (!long.TryParse(size, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n) || n < 1 || n > found.DefaultSize))
        {
            return (null, $"The size of {workload} on the page is from 1 to {found.DefaultSize:N0} (its default), not '{size}'; run larger ones with 'virtsim run'.");
        }
        return Build(workload, profile, architectures, s => s with { Size = n }, s => s.FirstProblem() is { } p ? p + "." : null);
    }

    /// <summary>The request to explain <paramref name="workload"/> (one operation) that <paramref name="profile"/> and <paramref name="architectures"/> describe, or why not (a message for the page).</summary>
    public static (LectureRequest? Request, string? Problem) Parse(string? workload, string? profile, IReadOnlyList<string> architectures) =>
        Build(workload, profile, architectures, s => s, s => Explanation.Problem(s) ?? WorkloadRun.Problem(HardwareProfiles.Get(s.Profile), Explanation.Explainable.First(w => w.Name == s.Workload), s.ResolveAxes()));

    private static (LectureRequest? Request, string? Problem) Build(string? workload, string? profile, IReadOnlyList<string> architectures,
        Func<WorkloadScenario, WorkloadScenario> complete, Func<WorkloadScenario, string?> problemOf)
    {
        if (string.IsNullOrWhiteSpace(workload) || string.IsNullOrWhiteSpace(profile))
        {
            return (null, "Choose a workload and a hardware profile.");
        }
        if (architectures.Count == 0)
        {
            return (null, "Choose at least one architecture.");
        }
        if (architectures.Count > MostArchitectures)
        {
            return (null, $"At most {MostArchitectures} architectures at once, not {architectures.Count}.");
        }
        if (HardwareProfiles.All.All(p => p.Name != profile))
        {
            return (null, $"There is no hardware profile '{profile}'; the profiles are: {string.Join(", ", HardwareProfiles.All.Select(p => p.Name))}.");
        }
        if (Explanation.Problem(new WorkloadScenario { Workload = workload, Profile = profile, Preset = "native" }) is { } unknown && Runnable.All(w => w.Workload.Name != workload))
        {
            return (null, Capitalized(unknown));
        }
        var scenarios = new List<WorkloadScenario>();
        foreach (string architecture in architectures)
        {
            (WorkloadScenario? scenario, string? problem) = ScenarioOf(workload, profile, architecture);
            if (scenario is null)
            {
                return (null, problem);
            }
            scenario = complete(scenario);
            if (problemOf(scenario) is { } cannot)
            {
                return (null, $"{architecture}: {Capitalized(cannot)}");
            }
            scenarios.Add(scenario);
        }
        return (new LectureRequest(workload, profile, scenarios), null);
    }

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static (WorkloadScenario?, string?) ScenarioOf(string workload, string profile, string architecture)
    {
        var scenario = new WorkloadScenario { Workload = workload, Profile = profile };
        if (SoftwareMonitors.Contains(architecture, StringComparer.Ordinal))
        {
            return (scenario with { Preset = "native", Cpu = architecture }, null);
        }
        string[] parts = architecture.Split(':', 2);
        scenario = scenario with { Preset = parts[0] };
        if (!VirtualizationAxes.Presets.Contains(parts[0], StringComparer.Ordinal))
        {
            return (null, $"'{parts[0]}' is not an architecture; choose a preset ({string.Join(", ", VirtualizationAxes.Presets)}), {string.Join(" or ", SoftwareMonitors)}.");
        }
        if (parts.Length == 1)
        {
            return (scenario, null);
        }
        foreach (string setting in parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = setting.Split('=', 2);
            string value = kv.Length == 2 ? kv[1] : "";
            scenario = kv[0] switch
            {
                "cpu" => scenario with { Cpu = value },
                "mmu" => scenario with { Mmu = value },
                "io" => scenario with { Io = value },
                "hosting" => scenario with { Hosting = value },
                _ => null!,
            };
            if (scenario is null)
            {
                return (null, $"'{setting}' in '{architecture}' is not an axis; give cpu=, mmu=, io= or hosting=.");
            }
        }
        return (scenario, null);
    }
}
