using Sim.Models.Cpu;
using Sim.Models.Virtualization;
using Sim.Workloads;

namespace Sim.Experiments.Runs;

/// <summary>What a run of a workload produced, natively or under the virtualization axes it ran with.</summary>
public sealed record WorkloadRunResult(
    string Workload,
    string Profile,
    VirtualizationAxes Axes,
    ulong Seed,
    long Size,
    WorkloadOutcome Outcome,
    IReadOnlyList<Metric> FiguresOfMerit,
    IReadOnlyDictionary<CycleCategory, long> CyclesByCategory,
    RunResult Run)
{
    public double Ipc => (double)Outcome.Instructions / Outcome.CoreCycles;

    /// <summary>The response times the (first) guest's open-loop client measured, in microseconds, ascending; empty for other workloads.</summary>
    public IReadOnlyList<double> ResponseMicroseconds { get; init; } = [];

    /// <summary>Whether the workload is a service answering a client: its kernel's round trips (sendto to the next recvfrom) are then the server's idle time, not a latency anyone sees.</summary>
    public bool IsService { get; init; }

    /// <summary>Every guest's share, when several shared the host (the first is the one this result describes); empty for a single guest.</summary>
    public IReadOnlyList<GuestResult> Guests { get; init; } = [];

    /// <summary>The simulated time the run stopped at because of its time limit, before some workload ended; null when every workload ended.</summary>
    public Sim.Engine.Time.Tick? TimeLimit { get; init; }

    /// <summary>The host memory the (first) guest holds: a virtual machine's reserved memory, a container's peak charge, the machine's memory natively.</summary>
    public ulong GuestMemoryBytes { get; init; }

    /// <summary>How many guests' workloads the time limit cut short (their figures of merit are NaN).</summary>
    public int Unfinished { get; init; }

    /// <summary>Where the (guest) kernel's statistics are: host.kernel natively and under containers (one shared kernel), vm0.kernel in a virtual machine.</summary>
    public string KernelPath => Axes.IsNative || Axes.Hosting == Hosting.SharedKernel ? "host.kernel" : "vm0.kernel";

    /// <summary>
    /// The virtualization holes the run met: sensitive instructions that executed at CPL 3 without
    /// faulting and so did something other than at ring 0 (under a trap-and-emulate monitor, the
    /// guest kernel's POPF, PUSHF, IRET ...), by instruction, most frequent first.
    /// </summary>
    public IReadOnlyList<(Instruction Instruction, long Count)> Holes => ByInstruction("silent_misbehaviour::");

    /// <summary>The guest kernel's instructions a software monitor intercepted (trapped, or called out of the translation cache), by instruction, most frequent first.</summary>
    public IReadOnlyList<(Instruction Instruction, long Count)> Interceptions => ByInstruction("monitor_interceptions::");

    private (Instruction Instruction, long Count)[] ByInstruction(string prefix) =>
        [.. Enum.GetValues<Instruction>()
            .Select(i => (i, (long)Stat("host.cpu0", prefix + i)))
            .Where(e => e.Item2 > 0)
            .OrderByDescending(e => e.Item2)
            .ThenBy(e => e.i)];

    /// <summary>
    /// Register accesses the monitor's device models emulated per disk request and per network
    /// packet (each one an exit, or a trap, or a host trip, under emulated I/O); null where the run
    /// had no request or packet, or no monitor.
    /// </summary>
    public (double? PerBlockRequest, double? PerPacket) EmulatedAccesses
    {
        get
        {
            string monitor = Run.Samples.Any(s => s.Path == "host.hypervisor") ? "host.hypervisor" : "host.monitor";
            double Accesses(EmulatedDevice d) => Stat(monitor, "device_model_accesses::" + d);
            double requests = Stat(KernelPath, "block_latency::count");
            double packets = Stat("vm0.nic0", "frames_sent") + Stat("vm0.nic0", "frames_received");
            return (Axes.IsNative || requests == 0 ? null : (Accesses(EmulatedDevice.Disk) + Accesses(EmulatedDevice.Virtio)) / requests,
                    Axes.IsNative || packets == 0 ? null : (Accesses(EmulatedDevice.Nic) + Accesses(EmulatedDevice.VirtioNet)) / packets);
        }
    }

    /// <summary>The contexts the (first) guest's CPUs ran in: host.cpu0 for a guest of one CPU, each of its virtual CPUs' for a virtual machine of several.</summary>
    public IReadOnlyList<string> FirstGuestCpus { get; init; } = ["host.cpu0"];

    /// <summary>
    /// Each host logical CPU's busy share of the run, whichever contexts ran on it (a virtual CPU
    /// that migrates counts where it ran, a backend thread on the CPU it runs on).
    /// </summary>
    public IReadOnlyList<double> HostCpuUtilization { get; init; } = [];

    /// <summary>
    /// The seconds the host's devices are judged over: up to the last guest's end. A shared wire's
    /// or disk's busy share is its busy time over these, as each CPU's is over the whole run; over
    /// the first guest's time alone (what it was) a device that guests ending later kept busy read
    /// more than 100%.
    /// </summary>
    public double HostSeconds => Guests.Count > 0 ? Guests.Max(g => g.Outcome.SimulatedSeconds) : Outcome.SimulatedSeconds;

    /// <summary>The host's clock in Hz (its profile's), which turns a backend thread's cycles into its CPU's share of the run.</summary>
    public ulong FrequencyHz { get; init; }

    /// <summary>The (first) guest's VM exits by reason, over all its virtual CPUs, with their cycles (exit to entry, handler included), most costly first; empty natively.</summary>
    public IReadOnlyList<(ExitReason Reason, long Count, long Cycles)> Exits =>
        [.. Enum.GetValues<ExitReason>()
            .Select(e => (e, (long)FirstGuestCpus.Sum(c => Stat(c, "vm_exits::" + e)), (long)FirstGuestCpus.Sum(c => Stat(c, "vm_exit_cycles::" + e))))
            .Where(e => e.Item2 > 0)
            .OrderByDescending(e => e.Item3)
            .ThenBy(e => e.e)];

    /// <summary>One statistic of the core's component tree (host.cpu0...), or 0 when absent.</summary>
    public double Stat(string path, string statistic) =>
        Run.Samples.FirstOrDefault(s => s.Path == path && s.Statistic == statistic).Value;
}
