using System.Globalization;
using System.Text.Json;
using Sim.Experiments.Output;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Sweeps;

/// <summary>One run of a sweep: a point at one of its seeds, and what it measured (its figures of merit and its simulated time).</summary>
public sealed record JobResult(string Point, int SeedIndex, ulong Seed, IReadOnlyList<Metric> Metrics);

/// <summary>Which part of a sweep's points a run does: shard K of N takes the points whose number is K - 1 modulo N, every seed of each.</summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard Whole = new(1, 1);

    public bool Has(SweepPoint point) => point.Index % Count == Index - 1;

    /// <summary>Reads "K/N" with 1 &lt;= K &lt;= N; null if it is not that.</summary>
    public static Shard? Parse(string text)
    {
        string[] parts = text.Split('/');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 && k >= 1 && k <= n ? new Shard(k, n) : null;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}

/// <summary>
/// Runs a sweep's jobs in parallel and keeps each result in its own file under points/ of the
/// sweep's folder, written whole or not at all, so that an interrupted sweep resumes where it
/// stopped (a job whose file exists is not run again) and shards run apart can be merged.
/// </summary>
public static class SweepRun
{
    public const string PointsFolder = "points";

    public static string JobFile(SweepPoint point, int seedIndex) => string.Create(CultureInfo.InvariantCulture, $"{point.Id}-s{seedIndex + 1:D3}.json");

    /// <summary>Runs the jobs of <paramref name="shard"/> not done yet in <paramref name="folder"/>; <paramref name="done"/> hears of each as it ends. Returns how many ran.</summary>
    public static int Run(Sweep sweep, string folder, Shard shard, int threads, Action<int, int, JobResult>? done = null)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        string points = Path.Combine(folder, PointsFolder);
        Directory.CreateDirectory(points);
        (SweepPoint Point, int SeedIndex)[] pending = [.. sweep.Jobs().Where(j => shard.Has(j.Point) && !File.Exists(Path.Combine(points, JobFile(j.Point, j.SeedIndex))))];
        int finished = 0;
        Parallel.ForEach(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, job =>
        {
            JobResult result = RunJob(job.Point, job.SeedIndex);
            WriteWhole(Path.Combine(points, JobFile(job.Point, job.SeedIndex)), ToJson(result));
            done?.Invoke(Interlocked.Increment(ref finished), pending.Length, result);
        });
        return pending.Length;
    }

    /// <summary>Every job's result from the points/ of <paramref name="folder"/>, in the sweep's order; the jobs still missing are named in <paramref name="missing"/>.</summary>
    public static IReadOnlyList<JobResult> Collect(Sweep sweep, string folder, out IReadOnlyList<string> missing)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var results = new List<JobResult>();
        var absent = new List<string>();
        foreach ((SweepPoint point, int seed) in sweep.Jobs())
        {
            string file = Path.Combine(folder, PointsFolder, JobFile(point, seed));
            if (File.Exists(file))
            {
                results.Add(FromJson(File.ReadAllText(file)));
            }
            else
            {
                absent.Add(JobFile(point, seed));
            }
        }
        missing = absent;
        return results;
    }

    private static JobResult RunJob(SweepPoint point, int seedIndex)
    {
        WorkloadScenario s = point.Scenario;
        ulong seed = s.Seed + (ulong)seedIndex;
        WorkloadRunResult r = s.RunOnce(seed);
        return new JobResult(point.Id, seedIndex, seed, [.. r.FiguresOfMerit, new Metric("simulated_seconds", r.Outcome.SimulatedSeconds, "s")]);
    }

    private static string ToJson(JobResult r) => JsonText.Of(new Dictionary<string, object>
    {
        ["point"] = r.Point,
        ["seed_index"] = r.SeedIndex,
        ["seed"] = r.Seed,
        // JSON has no NaN: a figure a time limit cut short is written as null and read back as NaN.
        ["metrics"] = r.Metrics.Select(m => new Dictionary<string, object?> { ["name"] = m.Name, ["value"] = double.IsFinite(m.Value) ? m.Value : null, ["unit"] = m.Unit }).ToArray(),
    });

    private static JobResult FromJson(string text)
    {
        using JsonDocument doc = JsonDocument.Parse(text);
        JsonElement root = doc.RootElement;
        return new JobResult(root.GetProperty("point").GetString()!, root.GetProperty("seed_index").GetInt32(), root.GetProperty("seed").GetUInt64(),
            [.. root.GetProperty("metrics").EnumerateArray().Select(m => new Metric(m.GetProperty("name").GetString()!, m.GetProperty("value") is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : double.NaN, m.GetProperty("unit").GetString()!))]);
    }

    /// <summary>Writes a file whole or not at all: to a temporary name beside it, then renamed.</summary>
    internal static void WriteWhole(string path, string text)
    {
        string partial = path + ".partial";
        File.WriteAllText(partial, text, new System.Text.UTF8Encoding(false));
        File.Move(partial, path, overwrite: true);
    }
}
