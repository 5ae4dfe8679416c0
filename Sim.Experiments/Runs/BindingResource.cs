namespace Sim.Experiments.Runs;

/// <summary>One resource of the host in a run and its utilization: the share of the run it was busy.</summary>
/// <param name="Resource">Its name: a host CPU (host.cpu3), a backend thread and its CPU (vm0.iothread on host.cpu7), a device queue (host.disk0.medium, host.link to the peer).</param>
/// <param name="Kind">cpu, backend thread, disk or wire.</param>
public sealed record ResourceUse(string Resource, string Kind, double Utilization)
{
    /// <summary>The host CPU the resource is, or the one a backend thread's row stands for; null for a device.</summary>
    public int? Cpu { get; init; }
}

/// <summary>
/// Which resource binds a run (docs/virtualization.md, "The binding resource"), by operational
/// analysis (P. J. Denning and J. P. Buzen, "The Operational Analysis of Queueing Network Models",
/// ACM Computing Surveys 10(3), 1978): each resource's utilization is its completions' rate times
/// its demand per completion (the utilization law), so the one with the highest utilization has the
/// highest demand and bounds the rate: the run could go at most 1/U_max times as fast before it
/// saturates (the bottleneck law). The resources are every host CPU that ran anything, every backend
/// thread (its share of the CPU it runs on, without the time it spent polling: a polling thread's
/// spin is time it would give up to work), and every device queue (a disk medium's busy time at
/// its random-access rate, a wire's line time). A CPU whose busy time is mostly one backend
/// thread's is named by that thread. A bottleneck below <see cref="Saturated"/> is the one that
/// would bind first as the load grew; what holds the rate below it is the workload's own
/// concurrency and the latencies on its path (a closed loop's requests in flight).
/// </summary>
public sealed record BindingResource(IReadOnlyList<ResourceUse> Resources)
{
    /// <summary>
    /// Where the requests of a workload that reports its mean latency (fio's reads) spend their
    /// time, when no resource is saturated: the device queue they spend most of it in, its time per
    /// request (submission to completion) and the requests' mean latency, in microseconds; null
    /// otherwise.
    /// </summary>
    public (string Queue, double DeviceUs, double LatencyUs)? Latency { get; init; }

    /// <summary>The share of a request's latency from which a device whose latency holds the requests is named the binding resource (assumed: most of the time).</summary>
    public const double MostOfTheTime = 0.5;

    /// <summary>The utilization from which a resource is reported saturated (assumed: a resource busy nine tenths of the run leaves little to gain).</summary>
    public const double Saturated = 0.9;

    /// <summary>The resource with the highest utilization, or null when nothing was busy.</summary>
    public ResourceUse? Bottleneck => Resources.Where(r => r.Utilization > 0).OrderByDescending(r => r.Utilization).ThenBy(r => r.Resource, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>Whether the bottleneck is saturated (<see cref="Saturated"/>), so that it, rather than the workload's concurrency, sets the rate.</summary>
    public bool IsSaturated => Bottleneck is { Utilization: >= Saturated };

    /// <summary>One line that names the binding resource: saturated, or the one that would bind first and how much faster the run could go before it did.</summary>
    public string Summary()
    {
        if (Bottleneck is not { } b)
        {
            return "no resource was busy";
        }
        string share = (100 * b.Utilization).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        string busiest = $"the busiest is {b.Resource} ({b.Kind}, {share}%), which would bind at {(1 / b.Utilization).ToString("0.0", ci)} times the rate";
        if (IsSaturated)
        {
            return $"bound by {b.Resource} ({b.Kind}, busy {share}% of the run)";
        }
        return BoundByLatency && Latency is { } l
            ? $"bound by {l.Queue}'s latency: {l.DeviceUs.ToString("0.0", ci)} of each request's {l.LatencyUs.ToString("0.0", ci)} us are spent in the device (no resource saturated; {busiest})"
            : $"no resource saturated: {busiest}; the workload's requests in flight and their latency set it";
    }

    /// <summary>The binding resource in a few words, for a table: "host.cpu0 (busy 97%)", "host.disk0.medium's latency", or "none saturated; busiest host.cpu1 (62%)".</summary>
    public string Brief()
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        return Bottleneck is not { } b ? "nothing busy"
            : IsSaturated ? string.Create(ci, $"{b.Resource} (busy {100 * b.Utilization:0}%)")
            : BoundByLatency ? $"{Latency!.Value.Queue}'s latency"
            : string.Create(ci, $"none saturated; busiest {b.Resource} ({100 * b.Utilization:0}%)");
    }

    /// <summary>Whether no resource is saturated and the requests spend most of their time in one device (<see cref="Latency"/>): that device's latency, at the workload's concurrency, binds.</summary>
    public bool BoundByLatency => !IsSaturated && Latency is { } l && l.DeviceUs >= MostOfTheTime * l.LatencyUs;

    /// <summary>The binding resource's name: the saturated or latency-binding one, or the busiest.</summary>
    public string? Binding => BoundByLatency ? Latency!.Value.Queue : Bottleneck?.Resource;

    /// <summary>The resources of <paramref name="r"/>'s host and their utilizations.</summary>
    public static BindingResource Of(WorkloadRunResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        double seconds = r.HostSeconds;
        double cyclesOfOneCpu = Math.Max(1, seconds * r.FrequencyHz);
        IReadOnlyList<DeviceBackend> threads = DeviceBackend.All(r.Run.Samples);
        var resources = new List<ResourceUse>();
        for (int cpu = 0; cpu < r.HostCpuUtilization.Count; cpu++)
        {
            // A polling thread's spin is no demand: it would give the time up to work that came (the CPU's busy share without it).
            double busy = r.HostCpuUtilization[cpu] - (threads.Where(t => t.Cpu == cpu).Sum(t => t.PollCycles) / cyclesOfOneCpu);
            if (busy <= 0)
            {
                continue;
            }
            // A CPU whose busy time is mostly a backend thread's is that thread's resource.
            DeviceBackend? thread = threads.Where(t => t.Cpu == cpu).OrderByDescending(t => t.WorkCycles).FirstOrDefault();
            resources.Add((thread is not null && thread.WorkCycles / cyclesOfOneCpu > busy / 2
                ? new ResourceUse($"{thread.Thread} on host.cpu{cpu}", "backend thread", busy)
                : new ResourceUse($"host.cpu{cpu}", "cpu", busy)) with { Cpu = cpu });
        }
        IReadOnlyList<HostQueue> queues = HostQueue.All(r.Run.Samples, seconds);
        foreach (HostQueue q in queues)
        {
            resources.Add(new ResourceUse(q.Queue, q.MeanDepth is null ? "wire" : "disk", q.BusyShare));
        }
        // Little's law: a queue's mean depth over the run is its requests' time in it per second.
        HostQueue? disk = queues.Where(q => q.MeanDepth is not null).OrderByDescending(q => q.MeanDepth).FirstOrDefault();
        double? latency = r.FiguresOfMerit.Where(m => m.Name == "mean_latency" && m.Unit == "us").Select(m => (double?)m.Value).FirstOrDefault();
        return new BindingResource(resources)
        {
            Latency = disk is not null && latency is > 0 ? (disk.Queue, disk.MeanDepth!.Value * seconds * 1e6 / disk.Requests, latency.Value) : null,
        };
    }
}
