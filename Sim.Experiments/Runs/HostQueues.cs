using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// A queue in front of a physical device in a run (docs/virtualization.md, "Shared host devices"):
/// a disk medium's (<c>host.disk0.medium</c>, or a VM's own assigned disk's) or one direction of a
/// wire (<c>host.link</c> towards the peer or from it). Its requests, the device's busy share of the
/// run, the requests' mean and largest number in the device (disks only: a wire's frames are
/// counted by their wait), and each request's wait before the device took it.
/// </summary>
public sealed record HostQueue(string Queue, long Requests, double BusyShare, double? MeanDepth, long? MostDepth, double MeanWaitNs, double P99WaitNs)
{
    /// <summary>The mean depth as a report writes it, a dash for a wire.</summary>
    public string MeanDepthText => MeanDepth is { } d ? d.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "-";

    /// <summary>The largest depth as a report writes it, a dash for a wire.</summary>
    public string MostDepthText => MostDepth is { } m ? m.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-";

    /// <summary>The run's device queues that took any request, disks first, in the order of their statistics' paths.</summary>
    /// <param name="seconds">The run's simulated time, over which busy time and the requests' time in the device are shares.</param>
    public static IReadOnlyList<HostQueue> All(IReadOnlyList<StatSample> samples, double seconds)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double ns = Math.Max(1e-9, seconds) * 1e9;
        var rows = new List<HostQueue>();
        foreach (StatSample s in samples.Where(s => s.Statistic == "requests" && s.Value > 0 && s.Path.EndsWith(".medium", StringComparison.Ordinal)).OrderBy(s => s.Path, StringComparer.Ordinal))
        {
            rows.Add(new HostQueue(s.Path, (long)s.Value, Part(samples, s.Path, "busy_ns") / ns, Part(samples, s.Path, "residence_ns") / ns, (long)Part(samples, s.Path, "depth_max"),
                Part(samples, s.Path, "wait::mean"), Part(samples, s.Path, "wait::p99")));
        }
        foreach (string link in samples.Where(s => s.Statistic.StartsWith("wait_to_", StringComparison.Ordinal)).Select(s => s.Path).Distinct().OrderBy(p => p, StringComparer.Ordinal))
        {
            foreach ((string way, string name) in new[] { ("peer", " to the peer"), ("nic", " from the peer") })
            {
                double frames = Part(samples, link, $"wait_to_{way}::count");
                if (frames > 0)
                {
                    rows.Add(new HostQueue(link + name, (long)frames, Part(samples, link, $"line_ns_to_{way}") / ns, null, null,
                        Part(samples, link, $"wait_to_{way}::mean"), Part(samples, link, $"wait_to_{way}::p99")));
                }
            }
        }
        return rows;
    }

    private static double Part(IReadOnlyList<StatSample> samples, string path, string statistic) =>
        samples.Where(s => s.Path == path && s.Statistic == statistic).Select(s => s.Value).FirstOrDefault();
}
