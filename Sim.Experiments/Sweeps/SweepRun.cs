using System.Globalization;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Sweeps;

/// <summary>One run of a sweep: a point at one of its seeds, and what it measured (its figures of merit and its simulated time).</summary>
/// <param name="Binding">The run's binding resource in a few words (<see cref="Runs.BindingResource.Brief"/>); empty in a run file written before sweeps recorded it.</param>
public sealed record JobResult(string Point, int SeedIndex, ulong Seed, IReadOnlyList<Metric> Metrics, string Binding = "");

/// <summary>Which part of a sweep's points (or a density study's presets) a run does: shard K of N takes the points whose number is K - 1 modulo N, every seed of each.</summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard Whole = new(1, 1);

    public bool Has(SweepPoint point) => Has(point.Index);

    /// <summary>Whether the part numbered <paramref name="number"/> (from 0) is this shard's.</summary>
    public bool Has(int number) => number % Count == Index - 1;

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
/// Runs a sweep's jobs in parallel and keeps each result in its own checked file in the sweep's
/// folder (<see cref="SweepFolder"/>), so that an interrupted sweep resumes where it stopped (a
/// job whose file exists is not run again) and shards run apart can be merged.
/// </summary>
public static class SweepRun
{
    /// <summary>
    /// Runs the jobs of <paramref name="shard"/> not done yet in <paramref name="folder"/>;
    /// <paramref name="done"/> hears of each as it ends. Returns how many ran. The folder is checked
    /// (bound to this sweep, its run files whole) before anything runs.
    /// </summary>
    public static int Run(Sweep sweep, string folder, Shard shard, int threads, Action<int, int, JobResult>? done = null)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        SweepFolder target = SweepFolder.Open(sweep, folder);
        target.Bind();
        (SweepPoint Point, int SeedIndex)[] pending = [.. sweep.Jobs().Where(j => shard.Has(j.Point) && !target.Has(j.Point, j.SeedIndex))];
        int finished = 0;
        Parallel.ForEach(pending, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, job =>
        {
            JobResult result = RunJob(job.Point, job.SeedIndex);
            target.Write(result, job.Point);
            done?.Invoke(Interlocked.Increment(ref finished), pending.Length, result);
        });
        return pending.Length;
    }

    private static JobResult RunJob(SweepPoint point, int seedIndex)
    {
        WorkloadScenario s = point.Scenario;
        ulong seed = s.Seed + (ulong)seedIndex;
        WorkloadRunResult r = s.RunOnce(seed);
        // The run's time is the first guest's, as its figures are; where several guests share the
        // host, the last one's end says when all the work was done (NaN if one did not finish).
        double last = r.Guests.Count == 0 ? r.Outcome.SimulatedSeconds
            : r.Guests.All(g => g.Finished) ? r.Guests.Max(g => g.Outcome.SimulatedSeconds) : double.NaN;
        Runs.BindingResource binding = Runs.BindingResource.Of(r);
        return new JobResult(point.Id, seedIndex, seed,
            [.. r.FiguresOfMerit, new Metric("simulated_seconds", r.Outcome.SimulatedSeconds, "s"), new Metric("last_guest_seconds", last, "s"),
                new Metric("bottleneck_utilization", binding.Bottleneck?.Utilization ?? 0, "share")], binding.Brief());
    }
}
