using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// What one kernel's swap did in a run, from its <c>kernel.swap</c> statistics (the names
/// /proc/vmstat gives them): pages written out and read back, faults that waited for a read (and
/// how long, median and 99th percentile, in ns), and faults that waited for writes to free memory.
/// The host's swap of guest memory (<c>host.swap</c>, a VT-x host's) is a row of its own, named
/// <see cref="HostGuestMemory"/>.
/// </summary>
public sealed record Swapping(string Kernel, long PagesOut, long PagesIn, long MajorFaults, double MedianMajorFaultNs, double P99MajorFaultNs, long WritebackWaits)
{
    private const string Group = ".kernel.swap";
    private const string HostGroup = "host.swap";

    /// <summary>The name of the row of the host's swap of guest memory.</summary>
    public const string HostGuestMemory = "host (guest memory)";

    /// <summary>Every kernel with swap in <paramref name="samples"/> (host, vm0, ...), in the samples' order; empty when none had it.</summary>
    public static IReadOnlyList<Swapping> All(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return [.. samples.Where(s => s.Statistic == "pswpout" && (s.Path.EndsWith(Group, StringComparison.Ordinal) || s.Path == HostGroup)).Select(s => s.Path).Distinct().Select(path =>
        {
            double Part(string statistic) => samples.Where(s => s.Path == path && s.Statistic == statistic).Select(s => s.Value).FirstOrDefault();
            return new Swapping(path == HostGroup ? HostGuestMemory : path[..^Group.Length], (long)Part("pswpout"), (long)Part("pswpin"), (long)Part("major_faults"),
                Part("major_fault_latency::p50"), Part("major_fault_latency::p99"), (long)Part("writeback_waits"));
        })];
    }
}
