using Sim.Models.Cpu;

namespace Sim.Models.Hardware;

/// <summary>
/// The named hardware profiles. Sources, abbreviated here and listed in full in
/// docs/hardware-profiles.md:
/// [AA06] Adams and Agesen, ASPLOS 2006, Table 1; [SX11] Landau et al., WIOV 2011;
/// [AG10] Agesen et al., SIGOPS OSR 44(4) 2010; [IA32-OPT] IA-32 Intel Architecture
/// Optimization Reference Manual (248966-011), Table 1-1; [OPT] Intel 64 and IA-32 Architectures
/// Optimization Reference Manual (248966), cache and TLB tables of each microarchitecture;
/// [SDM2] Intel SDM Vol. 2A, CPUID leaf 2 descriptor table; [SDM3] Intel SDM Vol. 3A 4.10.3;
/// [PAG] Levinthal, Performance Analysis Guide for Intel Core i7 and Xeon 5500 (2009), p. 22.
/// </summary>
public static class HardwareProfiles
{
    private const string NextLinePrefetchSource =
        "DCU prefetcher: the next line into the L1 data cache on an ascending access to recently loaded data ([OPT], data prefetching of the Intel Core microarchitecture and its successors); not crossing a 4 KiB page (assumed)";

    /// <summary>Pentium 4 672 (Prescott 2M, family 15 model 4), 3.8 GHz, first-generation VT-x: the P4 of [AA06].</summary>
    public static readonly HardwareProfile Pentium4672 = new()
    {
        Name = "p4-672",
        Description = "Pentium 4 672 (Prescott 2M), 3.8 GHz, 800 MHz bus; first-generation VT-x, no EPT, VPID or PCID",
        FrequencyHz = 3_800_000_000,
        // The 12K-uop execution trace cache, modelled as a cache of code lines (assumed: 16 KiB,
        // 8 ways); a hit delivers within the pipeline, so its latency is 0 here.
        L1Instruction = new("TC", 16 * 1024, 8, 64, 0),
        L1Data = new("L1D", 16 * 1024, 8, 64, 4),
        L2 = new("L2", 2 * 1024 * 1024, 8, 64, 20),
        L3 = null,
        // [IA32-OPT], text after Table 1-1: ~12 core cycles to the bus and back plus 6-12 bus cycles to memory
        // without congestion; at the 200 MHz bus clock one bus cycle is 19 core cycles, so the
        // worst uncongested case is 12 + 12 x 19 = 240 cycles.
        DramLatencyCycles = 240,
        DramBytesPerSecond = 6.4e9, // the 800 MT/s front-side bus, 8 bytes wide
        Prefetcher = new(Streams: 8, DistanceLines: 4),
        Tlbs = new(
            InstructionSmall: new(64, 64),
            InstructionLarge: new(64, 64),
            DataSmall: new(64, 64),
            DataLarge: new(64, 64),
            SecondLevel: null,
            SecondLevelHoldsLargePages: false,
            SecondLevelHitCycles: 0),
        PagingStructureCaches = PagingStructureCacheGeometry.None,
        // Calibrated to the native nanobenchmarks of [AA06] Figure 4 (docs/calibration.md):
        // syscall 242 = SYSCALL + 10-cycle kernel path + SYSRET, split evenly; cr8wr 150 = MOV CR8;
        // callret 11 = one call/return pair; divzero 889 = exception delivery + 10-cycle handler +
        // IRET, with IRET assumed at 200. pgfault and ptemod are left to follow.
        Topology = new(Sockets: 1, CoresPerSocket: 1, ThreadsPerCore: 2),
        Timing = CoreTiming.Uncalibrated(new Dictionary<Instruction, int>
        {
            [Instruction.Cli] = 60,
            [Instruction.Sti] = 60,
            [Instruction.Syscall] = 116,
            [Instruction.Sysret] = 116,
            [Instruction.MovToCr8] = 150,
            [Instruction.Iret] = 200,
        }) with
        {
            CallReturnMilliCycles = 11_000,
            ExceptionDeliveryCycles = 679,
            LockedOperationCycles = 100,
            DecodeCyclesPerMissedLine = 16,
            StoreBufferEntries = 24,
            FillBuffers = 8,
            IssueWidth = 3,
        },
        Features = new(Vmx: true, Ept: false, Vpid: false, Pcid: false, ApicVirtualization: false, PostedInterrupts: false),
        Vmx = new(VmEntryCycles: 2409, VmExitCycles: 1931, VmcsReadCycles: 178, VmcsWriteCycles: 171),
        Sources =
        [
            "clock 3.8 GHz: [AA06], description of the test machines",
            "issue width 3 micro-ops a cycle (the trace cache delivers, and retirement retires, up to three): [IA32-OPT], Intel NetBurst microarchitecture; two hardware threads (Hyper-Threading) share them",
            "L1D 16 KiB, 8 ways, 64 B lines, 4 cycles; L2 2 MiB, 8 ways, 64 B lines, 20 cycles: [IA32-OPT] Table 1-1 (models 3, 4, 6); replacement is pseudo-LRU there, LRU here",
            "memory 240 cycles beyond L2: derived from the text after [IA32-OPT] Table 1-1 (12 core cycles + 12 bus cycles of 19 core cycles at 800 MT/s)",
            "TLBs: one 64-entry fully associative DTLB for 4 KiB and 4 MiB pages and one 64-entry ITLB [SDM2] descriptors 5BH and 50H; modelled as separate 4K and 2M arrays of 64 entries each; no STLB",
            "paging-structure caches: none modelled; no source documents any on this core",
            "VM entry 2409, page-fault VM exit 1931, VMREAD 178, VMWRITE 171 cycles: [AA06] Table 1; used for every exit reason (no figure for another reason on this part in hand)",
            "no TPR shadow: no source read here says whether the Pentium 4 6x2 had it (the earliest VMX capability MSRs in hand are Merom's); assumed absent, so a guest's MOV CR8 exits",
            "memory bandwidth 6.4 GB/s: the 800 MT/s, 8-byte front-side bus ([AA06]'s machine description gives the bus); hardware prefetcher: 8 streams ([IA32-OPT] 2-55: 'can track 8 independent streams'), one per 4 KiB page, not crossing it, into the L2 ([IA32-OPT] 6-5), running 4 lines (256 bytes) ahead (recalled from the same list, not re-read: treat as assumed)",
            "trace cache: 12K uops ([IA32-OPT] 1-14), modelled as a 16 KiB, 8-way cache of 64-byte code lines (the equivalence is assumed); a line that misses it is decoded by the single decoder at one instruction per clock ([IA32-OPT] 1-14), 16 cycles for 16 instructions of 4 bytes (assumed length)",
            "locked read-modify-write 100 cycles: 'a LOCK prefix typically costs more than a hundred clock cycles, even on single-processor systems' (A. Fog, Instruction tables, the NetBurst-era editions' note on LOCK)",
            "store buffer 24 entries: Hinton et al., 'The Microarchitecture of the Pentium 4 Processor', Intel Technology Journal Q1 2001 (Willamette; assumed unchanged in Prescott); 8 line-fill buffers: assumed",
            "core timing: CLI and STI 60 cycles ('cli costs 60 cycles natively', [AA06], as quoted in the project's calibration.md); SYSCALL and SYSRET 116 each, MOV CR8 150, a call/return pair 11, exception delivery 679 cycles: calibrated to the native nanobenchmarks of [AA06] Figure 4 (syscall 242, cr8wr 150, callret 11, divzero 889), with IRET assumed at 200 and the syscall cost split evenly (assumed); docs/calibration.md; every other cost an uncalibrated placeholder (assumed)",
        ],
    };

    /// <summary>Core 2 Duo (Core microarchitecture), 2.66 GHz, VT-x without EPT: the second machine of [AA06].</summary>
    public static readonly HardwareProfile Core2Merom = new()
    {
        Name = "core2-merom",
        Description = "Core 2 Duo (Core microarchitecture), 2.66 GHz; VT-x without EPT, VPID or PCID",
        FrequencyHz = 2_660_000_000,
        L1Instruction = new("L1I", 32 * 1024, 8, 64, 3),
        L1Data = new("L1D", 32 * 1024, 8, 64, 3),
        L2 = new("L2", 4 * 1024 * 1024, 16, 64, 14),
        L3 = null,
        DramLatencyCycles = HardwareProfile.CyclesIn(80, 2_660_000_000), // assumed: no source in hand
        DramBytesPerSecond = 8.53e9, // a 1066 MT/s front-side bus, 8 bytes wide (assumed bus speed)
        Prefetcher = new(Streams: 16, DistanceLines: 8),
        L1NextLinePrefetch = true,
        Tlbs = new(
            InstructionSmall: new(128, 4),
            InstructionLarge: new(8, 4),
            DataSmall: new(16, 4),       // DTLB0 (loads)
            DataLarge: new(16, 4),       // DTLB0 large pages
            SecondLevel: new(256, 4),    // DTLB1, modelled as the second level for data and instructions
            SecondLevelHoldsLargePages: false,
            SecondLevelHitCycles: 2),
        PagingStructureCaches = PagingStructureCacheGeometry.None,
        Topology = new(Sockets: 1, CoresPerSocket: 2, ThreadsPerCore: 1), // no coherence model: its two cores share the L2, which the model's private L2s are not
        Timing = CoreTiming.Uncalibrated() with { StoreBufferEntries = 20, FillBuffers = 8 },
        Features = new(Vmx: true, Ept: false, Vpid: false, Pcid: false, ApicVirtualization: false, PostedInterrupts: false, TprShadow: true),
        Vmx = new(VmEntryCycles: 937, VmExitCycles: 1186, VmcsReadCycles: 52, VmcsWriteCycles: 44),
        Sources =
        [
            "clock 2.66 GHz: [AA06], description of the test machines",
            "L1I and L1D 32 KiB, 8 ways, 64 B lines, 3 cycles; L2 4 MiB, 16 ways, 14 cycles: [OPT] cache parameters of the Intel Core microarchitecture",
            "memory 80 ns beyond L2: assumed (no source in hand); a parameter",
            NextLinePrefetchSource,
            "memory bandwidth 8.53 GB/s: a 1066 MT/s, 8-byte front-side bus (the bus speed of a 2.66 GHz Core 2 Duo is assumed); prefetcher: 16 ascending streams as [IA32-OPT] gives for the Core Solo's hardware prefetcher (assumed to carry over), 8 lines ahead (assumed)",
            "TLBs: DTLB0 16 entries 4-way (4K and 4M), DTLB1 256 entries 4-way (4K), ITLB 128 entries 4-way (4K), 8 large: [SDM2] descriptors 56H, 57H, B4H, B0H, B1H; DTLB1 is modelled as a second level shared with instructions",
            "a DTLB0 miss that hits DTLB1 costs 2 cycles: [OPT], Intel Core microarchitecture, memory sub-system",
            "paging-structure caches: none modelled; no source documents any on this core",
            "VM entry 937, page-fault VM exit 1186, VMREAD 52, VMWRITE 44 cycles: [AA06] Table 1; used for every exit reason, though the steady CPUID round trip on a Core 2 T7400 (Merom) is 1,681 TSC ticks (yulyugin/vmlatency, results/) against [AA06]'s 2,123 for a page fault: an exception exit may cost some 440 cycles more than an instruction exit, which the model does not split (two machines and two methods, not a per-reason figure of one part)",
            "TPR shadow: bit 21 (use TPR shadow) of IA32_VMX_PROCBASED_CTLS's allowed-1 half is set from Merom on, as the VMX capability MSRs of a Core 2 T7400 read by yulyugin/vmlatency (results/) show; Merom had no secondary controls",
            "one core with Hyper-Threading (two threads), one socket: Intel's Pentium 4 672 specification; no coherence model (one core)",
            "store buffer 20 entries: [OPT] Intel Core microarchitecture, memory sub-system; 8 line-fill buffers: assumed",
            .. CoreTiming.UncalibratedSources,
        ],
    };

    /// <summary>Xeon X5570 (Nehalem-EP), 2.93 GHz, with EPT and VPID: the machine of [SX11].</summary>
    public static readonly HardwareProfile NehalemX5570 = new()
    {
        Name = "nehalem-x5570",
        Description = "Xeon X5570 (Nehalem-EP), 2.93 GHz; VT-x with EPT and VPID, no PCID",
        FrequencyHz = 2_930_000_000,
        L1Instruction = new("L1I", 32 * 1024, 4, 64, 3),
        L1Data = new("L1D", 32 * 1024, 8, 64, 4),
        L2 = new("L2", 256 * 1024, 8, 64, 10),
        L3 = new("L3", 8 * 1024 * 1024, 16, 64, 38),
        DramLatencyCycles = HardwareProfile.CyclesIn(65, 2_930_000_000) - 38,
        DramBytesPerSecond = 32e9, // three channels of DDR3-1333
        Prefetcher = new(Streams: 32, DistanceLines: 20),
        L1NextLinePrefetch = true,
        Tlbs = new(
            InstructionSmall: new(128, 4),
            InstructionLarge: new(7, 7),
            DataSmall: new(64, 4),
            DataLarge: new(32, 4),
            SecondLevel: new(512, 4),
            SecondLevelHoldsLargePages: false,
            SecondLevelHitCycles: 7),
        PagingStructureCaches = new(Pml4Entries: 2, PdptEntries: 4, PdeEntries: 32),
        Topology = new(Sockets: 2, CoresPerSocket: 4, ThreadsPerCore: 2),
        Coherence = new(
            SnoopCycles: 65,
            ModifiedTransferCycles: 75,
            RemoteCacheCycles: 200,
            RemoteDramExtraCycles: HardwareProfile.CyclesIn(40, 2_930_000_000),
            InterconnectBytesPerSecond: 12.8e9),
        Timing = CoreTiming.Uncalibrated() with { StoreBufferEntries = 32, FillBuffers = 10 },
        Features = new(Vmx: true, Ept: true, Vpid: true, Pcid: false, ApicVirtualization: false, PostedInterrupts: false, Iommu: true, TprShadow: true),
        Vmx = new(VmEntryCycles: 475, VmExitCycles: 475, VmcsReadCycles: 52, VmcsWriteCycles: 44),
        Sources =
        [
            "IOMMU (VT-d) for SR-IOV device assignment: [DO10], Xeon 5500 platform with an SR-IOV NIC assigned to Xen guests",
            "no PAUSE-loop exiting: the Xen and KVM patches that added it (Zhai, October 2009, after the X5570's release) say 'New NHM processors will support' it, so not the first Nehalems (our reading: no feature list of the X5570 in hand)",
            "clock 2.93 GHz: [SX11], description of the test machine",
            "L1I 32 KiB 4-way, L1D 32 KiB 8-way 4 cycles, L2 256 KiB 8-way 10 cycles, L3 8 MiB 16-way 35-40 cycles (38 taken): [OPT] cache parameters of Intel Core i7 (Nehalem)",
            "memory: about 65 ns load-to-use from local DRAM, after Molka et al., PACT 2009 (measured on Xeon X5570); the figure is recalled, not re-read in the paper: a parameter until checked; the L3 share is subtracted",
            NextLinePrefetchSource,
            "memory bandwidth 32 GB/s: three channels of DDR3-1333 (Intel's X5570 specification); L2 streamer: 32 streams, up to 20 lines ahead, one forward stream per 4 KiB page ([OPT], the L2 streamer as described for the Sandy Bridge microarchitecture; assumed to hold for Nehalem)",
            "TLBs: DTLB 64 entries 4-way (4K), 32 4-way (2M); ITLB 128 4-way (4K), 7 fully associative (2M) per thread; STLB 512 entries 4-way, 4K only: [OPT] Nehalem TLB parameters",
            "STLB hit 7 cycles: assumed (no source in hand); a parameter",
            "paging-structure caches 2 PML4, 4 PDPTE, 32 PDE entries: assumed; Intel publishes no sizes [SDM3]",
            "VM exit + entry 950 cycles: the steady round trip of a guest's CPUID loop with a minimal handler on a Core i5-760 (Nehalem), 950 TSC ticks at 256 to 262,144 iterations (yulyugin/vmlatency, results/; the handler's few VMREADs and VMWRITEs included), split evenly (assumed); one latency for every exit reason (no per-reason figure for Nehalem in hand); [SX11]'s 'about 2,000 cycles' is a whole KVM exit, handler included; VMREAD/VMWRITE as on Core 2 (assumed; no source for Nehalem)",
            "TPR shadow: bit 21 (use TPR shadow) of IA32_VMX_PROCBASED_CTLS's allowed-1 half is set from Merom on, as the VMX capability MSRs of a Core 2 T7400 read by yulyugin/vmlatency (results/) show; Merom had no secondary controls",
            "store buffer 32 entries and 10 line-fill buffers: [OPT] Nehalem, memory subsystem",
            "topology: two sockets of four cores with two threads each (Xeon 5500 two-socket platform: HP ProLiant G6 technology brief; Intel's X5570 specification)",
            "coherence: L3 hit with the line clean in another core about 65 cycles, modified in another core about 75, a remote socket's cache 100-300 (200 taken, the middle of Intel's range), DRAM about 60 ns local and 100 ns remote (the 40 ns difference is added to a remote line): [PAG] Levinthal, Performance Analysis Guide for Intel Core i7 and Xeon 5500, p. 22; QPI 6.4 GT/s, 12.8 GB/s in each direction (HP ProLiant G6 technology brief); MESIF with an inclusive L3 whose core-valid bits filter snoops",
            .. CoreTiming.UncalibratedSources,
        ],
    };

    /// <summary>Xeon Platinum 8180 (Skylake-SP), 2.5 GHz: a server part with EPT, VPID, PCID, APIC virtualization and posted interrupts.</summary>
    public static readonly HardwareProfile SkylakeSp8180 = new()
    {
        Name = "skylake-sp",
        Description = "Xeon Platinum 8180 (Skylake-SP), 2.5 GHz; VT-x with EPT, VPID, PCID, APIC virtualization, posted interrupts and PAUSE-loop exiting",
        FrequencyHz = 2_500_000_000,
        L1Instruction = new("L1I", 32 * 1024, 8, 64, 4),
        L1Data = new("L1D", 32 * 1024, 8, 64, 4),
        L2 = new("L2", 1024 * 1024, 16, 64, 14),
        L3 = new("L3", 28 * 1408 * 1024, 11, 64, 60), // 1.375 MiB per core x 28 cores
        DramLatencyCycles = HardwareProfile.CyclesIn(90, 2_500_000_000) - 60,
        DramBytesPerSecond = 128e9, // six channels of DDR4-2666
        Prefetcher = new(Streams: 32, DistanceLines: 20),
        L1NextLinePrefetch = true,
        Tlbs = new(
            InstructionSmall: new(128, 8),
            InstructionLarge: new(8, 8),
            DataSmall: new(64, 4),
            DataLarge: new(32, 4),
            SecondLevel: new(1536, 12),
            SecondLevelHoldsLargePages: true,
            SecondLevelHitCycles: 9),
        PagingStructureCaches = new(Pml4Entries: 2, PdptEntries: 4, PdeEntries: 32),
        Topology = new(Sockets: 2, CoresPerSocket: 28, ThreadsPerCore: 2),
        Coherence = new(
            SnoopCycles: HardwareProfile.CyclesIn(53.7, 2_500_000_000),
            ModifiedTransferCycles: HardwareProfile.CyclesIn(53.7, 2_500_000_000),
            RemoteCacheCycles: HardwareProfile.CyclesIn(145.9, 2_500_000_000),
            RemoteDramExtraCycles: HardwareProfile.CyclesIn(131.1 - 81.4, 2_500_000_000),
            InterconnectBytesPerSecond: 51e9),
        Timing = CoreTiming.Uncalibrated(new Dictionary<Instruction, int> { [Instruction.Pause] = 140 }) with { StoreBufferEntries = 56, FillBuffers = 12 },
        Features = new(Vmx: true, Ept: true, Vpid: true, Pcid: true, ApicVirtualization: true, PostedInterrupts: true, Iommu: true, PauseLoopExiting: true, TprShadow: true),
        Vmx = new(VmEntryCycles: 318, VmExitCycles: 318, VmcsReadCycles: 20, VmcsWriteCycles: 20),
        Sources =
        [
            "IOMMU (VT-d) with posted interrupts: assumed present on a Xeon Scalable platform (no source in hand)",
            "PAUSE-loop exiting: on Intel's server parts after the first Nehalems (the 2009 Xen and KVM patches that support it: 'New NHM processors will support Pause-Loop Exiting'); assumed present on Skylake-SP (no feature list of the part in hand)",
            "L1D and L1I 32 KiB 8-way, 4 cycles; L2 1 MiB 16-way, 14 cycles; L3 1.375 MiB per core, 11-way, non-inclusive: [OPT] Skylake Server microarchitecture",
            "L3 latency 60 cycles and memory 90 ns load-to-use: assumed (no source in hand); parameters",
            NextLinePrefetchSource,
            "memory bandwidth 128 GB/s: six channels of DDR4-2666 (Intel's Platinum 8180 specification); L2 streamer: 32 streams, up to 20 lines ahead ([OPT] L2 streamer, assumed unchanged from Sandy Bridge)",
            "TLBs: ITLB 128 8-way (4K), 8 (2M); DTLB 64 4-way (4K), 32 4-way (2M); STLB 1536 12-way for 4K and 2M: [OPT] Table 2-15 (Skylake, same core as the server part)",
            "STLB hit 9 cycles: assumed; a parameter",
            "paging-structure caches 2 PML4, 4 PDPTE, 32 PDE entries: assumed; Intel publishes no sizes [SDM3]",
            "VM exit + entry 636 cycles: the steady round trip of a guest's CPUID loop with a minimal handler on a Xeon Gold 6140 (Skylake-SP, the 8180's die), 634 to 636 TSC ticks (yulyugin/vmlatency, results/; TSC ticks taken as core cycles at the nominal clock), split evenly (assumed); one latency for every exit reason (no per-reason figure in hand); VMREAD/VMWRITE 20: assumed",
            "TPR shadow: bit 21 (use TPR shadow) of IA32_VMX_PROCBASED_CTLS's allowed-1 half is set from Merom on, as the VMX capability MSRs of a Core 2 T7400 read by yulyugin/vmlatency (results/) show; Merom had no secondary controls",
            "store buffer 56 entries and 12 line-fill buffers: [OPT] Skylake microarchitecture",
            "PAUSE 140 cycles: [OPT], Skylake microarchitecture, 'Pause Latency in Skylake Microarchitecture' (extended from about 10 to as many as 140 cycles)",
            "topology: two sockets of 28 cores with two threads each (Intel's Platinum 8180 specification: 28 cores, 56 threads, up to 8 sockets; the two-socket board of FD.io CSIT's test servers)",
            "coherence, Intel MLC on a two-socket Platinum 8180 (FD.io CSIT, 'Calibration Data - Skylake'): a modified line from another core 53.7 ns on the same socket, 113.9-177.9 ns across UPI (145.9 taken, the middle); memory idle latency 81.4 ns local, 131.1 ns remote (the 49.7 ns difference added to a remote line); about 51 GB/s read across sockets, taken as UPI's bandwidth in each direction. A clean line held by another core is assumed to cost what a modified one does: the non-inclusive L3 forwards it from that core's L2",
            .. CoreTiming.UncalibratedSources,
        ],
    };

    public static IReadOnlyList<HardwareProfile> All { get; } = [Pentium4672, Core2Merom, NehalemX5570, SkylakeSp8180];

    /// <summary>The profile named <paramref name="name"/>; an error listing the names otherwise.</summary>
    public static HardwareProfile Get(string name)
    {
        foreach (HardwareProfile p in All)
        {
            if (string.Equals(p.Name, name, StringComparison.Ordinal))
            {
                return p;
            }
        }
        throw new ArgumentException($"There is no hardware profile '{name}'; the profiles are: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));
    }
}
