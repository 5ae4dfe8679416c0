using Sim.Engine.Statistics;

namespace Sim.Experiments.Runs;

/// <summary>
/// A VM's device backend thread on the host in a run (docs/virtualization.md, "Backend threads"),
/// from its <c>vmN.iothread</c>, <c>vmN.vhost</c> or <c>vmN.dom0</c> statistics: its wake-ups, the host I/O
/// completions it returned to the guest, and the host cycles it ran.
/// </summary>
public sealed record DeviceBackend(string Thread, long Wakeups, long Completions, long Cycles)
{
    /// <summary>The host logical CPU the thread ran on.</summary>
    public int Cpu { get; init; }

    /// <summary>Of its cycles, those it spent polling its queues (QEMU's poll-max-ns; 0 for a thread that never polls).</summary>
    public long PollCycles { get; init; }

    /// <summary>Its cycles of work: wake-ups, requests and completions, not polling.</summary>
    public long WorkCycles => Cycles - PollCycles;

    /// <summary>Its host cycles of work per completion, or 0 when it returned none.</summary>
    public double CyclesPerCompletion => Completions == 0 ? 0 : (double)WorkCycles / Completions;

    /// <summary>The backend threads that ran in the run, in the order of their statistics' paths.</summary>
    public static IReadOnlyList<DeviceBackend> All(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return
        [
            .. samples.Where(s => s.Statistic == "cycles" && s.Value > 0 && (s.Path.EndsWith(".iothread", StringComparison.Ordinal) || s.Path.EndsWith(".vhost", StringComparison.Ordinal) || s.Path.EndsWith(".dom0", StringComparison.Ordinal)))
                .Select(s => new DeviceBackend(s.Path, Part(samples, s.Path, "wakeups"), Part(samples, s.Path, "completions"), (long)s.Value) { Cpu = (int)Part(samples, s.Path, "cpu"), PollCycles = Part(samples, s.Path, "poll_cycles") })
                .OrderBy(b => b.Thread, StringComparer.Ordinal),
        ];
    }

    /// <summary>The run's trips to a user-space device model and host system calls for real I/O (both 0 without a hypervisor that makes them).</summary>
    public static (long UserExits, long HostSystemCalls) Trips(IReadOnlyList<StatSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return (Part(samples, "host.hypervisor", "user_exits"), Part(samples, "host.hypervisor", "host_io_syscalls"));
    }

    private static long Part(IReadOnlyList<StatSample> samples, string path, string statistic) =>
        samples.Where(s => s.Path == path && s.Statistic == statistic).Select(s => (long)s.Value).FirstOrDefault();
}
