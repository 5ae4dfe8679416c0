using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Sim.Experiments.Output;

/// <summary>
/// The manifest of a results folder (manifest.json): the program version and commit, the seed,
/// the SHA-256 of the resolved scenario as written beside it, the host, and when the run started
/// and ended with its wall time. It describes the run; unlike the results it differs between
/// reruns (times, host), so comparisons of folders leave it out.
/// </summary>
public static class Manifest
{
    public static string Json(string version, string commit, ulong seed, string resolvedScenario, DateTimeOffset started, DateTimeOffset finished)
    {
        ArgumentNullException.ThrowIfNull(resolvedScenario);
        var ci = CultureInfo.InvariantCulture;
        return JsonText.Of(new Dictionary<string, object>
        {
            ["program"] = "virtsim",
            ["version"] = version,
            ["commit"] = commit,
            ["seed"] = seed,
            ["scenario_sha256"] = ScenarioHash(resolvedScenario),
            ["host"] = new Dictionary<string, object>
            {
                ["name"] = Environment.MachineName,
                ["os"] = RuntimeInformation.OSDescription,
                ["architecture"] = RuntimeInformation.OSArchitecture.ToString(),
                ["processors"] = Environment.ProcessorCount,
                ["runtime"] = RuntimeInformation.FrameworkDescription,
            },
            ["started"] = started.UtcDateTime.ToString("o", ci),
            ["finished"] = finished.UtcDateTime.ToString("o", ci),
            ["wall_seconds"] = Math.Round((finished - started).TotalSeconds, 3),
        });
    }

    /// <summary>SHA-256 of the resolved scenario's text (UTF-8), lower-case hex: the same scenario gives the same hash.</summary>
    public static string ScenarioHash(string resolvedScenario) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(resolvedScenario)));
}
