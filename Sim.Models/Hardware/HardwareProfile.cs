using Sim.Engine.Time;

namespace Sim.Models.Hardware;

/// <summary>
/// One CPU generation as a named parameter set: clock, caches, memory latency, TLBs,
/// paging-structure caches, virtualization features and VMX transition costs. Every figure is
/// cited in <see cref="HardwareProfiles"/> and in docs/hardware-profiles.md; where no source
/// gives a figure, the profile says so and the figure is only a parameter.
/// </summary>
public sealed record HardwareProfile
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    public required ulong FrequencyHz { get; init; }

    /// <summary>The first-level instruction cache (on the Pentium 4, its trace cache as a cache of code lines), or null for none.</summary>
    public CacheGeometry? L1Instruction { get; init; }

    public required CacheGeometry L1Data { get; init; }

    public required CacheGeometry L2 { get; init; }

    /// <summary>The shared last-level cache, or null where L2 is the last level.</summary>
    public CacheGeometry? L3 { get; init; }

    /// <summary>Cycles from a miss in the last cache level to the data arriving: the memory's share of a load-to-use latency.</summary>
    public required int DramLatencyCycles { get; init; }

    /// <summary>The memory's peak bandwidth as one core sees it (the front-side bus, or the integrated controller's channels).</summary>
    public required double DramBytesPerSecond { get; init; }

    /// <summary>The hardware stream prefetcher into the L2, or null for none.</summary>
    public PrefetcherGeometry? Prefetcher { get; init; }

    /// <summary>Whether the L1 data cache has a next-line (DCU) prefetcher.</summary>
    public bool L1NextLinePrefetch { get; init; }

    public required TlbHierarchyGeometry Tlbs { get; init; }

    public required PagingStructureCacheGeometry PagingStructureCaches { get; init; }

    public required VirtualizationFeatures Features { get; init; }

    /// <summary>The largest machine of this part: sockets, cores per socket, threads per core.</summary>
    public required Topology Topology { get; init; }

    /// <summary>What coherence between the cores' private caches and across sockets costs, or null where the model cannot run more than one core of this part.</summary>
    public CoherenceTimings? Coherence { get; init; }

    /// <summary>The most cores a machine of this part may use: its topology's, or one where the model has no coherence for it.</summary>
    public int MostCores => Coherence is null ? 1 : Topology.Cores;

    /// <summary>What instructions, exceptions and interrupts cost on the core.</summary>
    public required CoreTiming Timing { get; init; }

    /// <summary>VMX transition costs, or null for a CPU without VMX.</summary>
    public VmxTransitionCosts? Vmx { get; init; }

    /// <summary>Where each figure comes from, one line per figure or group, "assumed" where no source gives it.</summary>
    public required IReadOnlyList<string> Sources { get; init; }

    public ClockDomain Clock() => new(Name, FrequencyHz);

    /// <summary>The last cache level before memory.</summary>
    public CacheGeometry LastLevel => L3 ?? L2;

    public void Validate()
    {
        L1Instruction?.Validate();
        L1Data.Validate();
        L2.Validate();
        L3?.Validate();
        Prefetcher?.Validate();
        if (DramBytesPerSecond <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DramBytesPerSecond), DramBytesPerSecond, $"Profile {Name}: the memory bandwidth must be positive.");
        }
        Tlbs.Validate();
        PagingStructureCaches.Validate();
        Topology.Validate(Name);
        Coherence?.Validate(Name);
        Timing.Validate(Name);
        if (FrequencyHz is 0 or >= Tick.PicosecondsPerSecond)
        {
            throw new ArgumentOutOfRangeException(nameof(FrequencyHz), FrequencyHz, $"Profile {Name}: the clock must be 1 Hz to 999.999999999 GHz (a cycle of at least the engine's tick, a picosecond).");
        }
        if (DramLatencyCycles <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(DramLatencyCycles), DramLatencyCycles, $"Profile {Name}: the memory latency must be positive.");
        }
        if (Features.Vmx != Vmx is not null)
        {
            throw new ArgumentException($"Profile {Name}: VMX transition costs are given exactly when the CPU has VMX.");
        }
        if (Vmx is { } vmx && (vmx.VmEntryCycles < 0 || vmx.VmExitCycles < 0 || vmx.VmcsReadCycles < 0 || vmx.VmcsWriteCycles < 0))
        {
            throw new ArgumentException($"Profile {Name}: VMX transition costs cannot be negative (got {vmx}).");
        }
        if (Features.Ept && !Features.Vmx)
        {
            throw new ArgumentException($"Profile {Name}: EPT needs VMX.");
        }
    }

    /// <summary>Whole cycles of this clock in <paramref name="nanoseconds"/>, rounded to nearest: for converting published memory latencies.</summary>
    public static int CyclesIn(double nanoseconds, ulong frequencyHz) => (int)Math.Round(nanoseconds * frequencyHz / 1e9);
}
