using Sim.Models.Cpu;

namespace Sim.Models.Hardware;

/// <summary>
/// The execution costs of a core: thousandths of a cycle per instruction of each ordinary class
/// (so that throughputs above one instruction per cycle are exact in integers), the cost of each
/// named instruction when it executes without a fault, and the cost of delivering an exception
/// or interrupt (through the IDT to the handler's first instruction).
/// </summary>
public sealed record CoreTiming
{
    public required int AluMilliCycles { get; init; }

    public required int BranchMilliCycles { get; init; }

    /// <summary>Thousandths of a cycle per call/return pair.</summary>
    public required int CallReturnMilliCycles { get; init; }

    public required int MultiplyMilliCycles { get; init; }

    public required int DivideMilliCycles { get; init; }

    public required int ExceptionDeliveryCycles { get; init; }

    /// <summary>Entries of the store buffer (see Cpu.StoreBuffer).</summary>
    public int StoreBufferEntries { get; init; } = 32;

    /// <summary>Line-fill buffers: how many store misses may be outstanding at once.</summary>
    public int FillBuffers { get; init; } = 10;

    public required int InterruptDeliveryCycles { get; init; }

    /// <summary>
    /// Cycles the decoders take over one 64-byte line of code (16 instructions of 4 bytes) that
    /// missed the first-level instruction store and came from further out: the legacy decode
    /// path, which hits in the instruction cache or trace cache skip.
    /// </summary>
    public required int DecodeCyclesPerMissedLine { get; init; }

    /// <summary>
    /// Instructions (micro-ops) the core can allocate and retire a cycle: the slots its hardware
    /// threads share (<see cref="Cpu.Core.Sibling"/>). 4 unless the profile says otherwise.
    /// </summary>
    public int IssueWidth { get; init; } = 4;

    /// <summary>Cycles of a locked read-modify-write that hits the L1 (its miss, if any, is added).</summary>
    public required int LockedOperationCycles { get; init; }

    /// <summary>Cycles of each named instruction; every <see cref="Instruction"/> must have one.</summary>
    public required IReadOnlyDictionary<Instruction, int> InstructionCycles { get; init; }

    /// <summary>Where the figures of <see cref="Uncalibrated"/> come from, for a profile's sources.</summary>
    public static IReadOnlyList<string> UncalibratedSources { get; } =
    [
        "core timing: uncalibrated placeholder costs (assumed), to be calibrated against the native nanobenchmarks of [AA06]",
        "decode of a code line that missed the L1I: 4 cycles (four decoders, up to four instructions per cycle: [OPT] chapter 2, 16 instructions of 4 bytes, assumed length)",
        "issue width 4 micro-ops a cycle, shared by a core's hardware threads: [OPT] chapter 2 (rename, allocation and retirement of four a cycle)",
        "PAUSE 10 cycles: [OPT], Skylake microarchitecture, 'Pause Latency in Skylake Microarchitecture' (about 10 cycles on the generations before it)",
        "locked read-modify-write 20 cycles: assumed from uncontended LOCK ADD/XADD/CMPXCHG measurements of 18-21 cycles on Phenom II and Sandy Bridge-E (F. Giesen, atomic_ops_test, gist rygorous/153ea6493ce2efabd41c); no measurement of this core in hand",
    ];

    /// <summary>
    /// Placeholder costs for every profile, assumed and not yet calibrated: calibrating them
    /// against the native nanobenchmarks of Adams and Agesen is the next step of the machine
    /// issue. Ordinary instructions retire one per cycle; named instructions cost the figures
    /// below; port I/O costs 0 here because the bus and device latency is added by the device.
    /// </summary>
    public static CoreTiming Uncalibrated(IReadOnlyDictionary<Instruction, int>? overrides = null)
    {
        var cycles = new Dictionary<Instruction, int>();
        foreach (Instruction i in Enum.GetValues<Instruction>())
        {
            cycles[i] = i switch
            {
                Instruction.In or Instruction.Out or Instruction.MmioRead or Instruction.MmioWrite => 0,
                Instruction.Hlt => 1,
                Instruction.Syscall or Instruction.Sysret => 70,
                Instruction.IntN or Instruction.Iret => 100,
                Instruction.Cpuid => 200,
                Instruction.Rdtsc => 30,
                Instruction.Rdmsr or Instruction.Wrmsr => 100,
                Instruction.MovToCr3 or Instruction.Invlpg or Instruction.Wbinvd => 100,
                Instruction.MovToCr8 or Instruction.MovFromCr3 => 20,
                Instruction.Cli or Instruction.Sti => 10,
                // "about 10 cycles" before Skylake, which extended it to as many as 140 ([OPT], Skylake microarchitecture, "Pause Latency in Skylake Microarchitecture").
                Instruction.Pause => 10,
                Instruction.Vmcall or Instruction.Vmresume or Instruction.Vmread or Instruction.Vmwrite => 1, // the cost comes from the profile's VMX figures
                _ => 20,
            };
        }
        if (overrides is not null)
        {
            foreach ((Instruction i, int c) in overrides)
            {
                cycles[i] = c;
            }
        }
        return new CoreTiming
        {
            AluMilliCycles = 1000,
            BranchMilliCycles = 1000,
            CallReturnMilliCycles = 2000,
            MultiplyMilliCycles = 3000,
            DivideMilliCycles = 25000,
            ExceptionDeliveryCycles = 200,
            InterruptDeliveryCycles = 200,
            // ~18-21 cycles for an uncontended LOCK ADD/XADD/CMPXCHG on Phenom II and Sandy
            // Bridge-E (F. Giesen's atomic_ops_test results, gist rygorous/153ea6493ce2efabd41c).
            LockedOperationCycles = 20,
            // Four decoders, up to four instructions per cycle (Core, Nehalem and Skylake decode
            // paths: [OPT] chapter 2): 16 instructions in 4 cycles. The same chapter gives those
            // cores' rename and retirement four micro-ops a cycle: the issue width.
            DecodeCyclesPerMissedLine = 4,
            IssueWidth = 4,
            InstructionCycles = cycles,
        };
    }

    public void Validate(string profile)
    {
        foreach (Instruction i in Enum.GetValues<Instruction>())
        {
            if (!InstructionCycles.TryGetValue(i, out int c) || c < 0)
            {
                throw new ArgumentException($"Profile {profile}: the core timing has no non-negative cost for {i}.");
            }
        }
        if (DecodeCyclesPerMissedLine < 0)
        {
            throw new ArgumentException($"Profile {profile}: the decode time of a missed code line cannot be negative.");
        }
        if (IssueWidth < 1)
        {
            throw new ArgumentException($"Profile {profile}: a core issues at least one instruction a cycle.");
        }
        if (LockedOperationCycles < 1)
        {
            throw new ArgumentException($"Profile {profile}: a locked operation costs at least one cycle.");
        }
        if (StoreBufferEntries < 1 || FillBuffers < 1)
        {
            throw new ArgumentException($"Profile {profile}: the store buffer needs at least one entry and one fill buffer.");
        }
        if (AluMilliCycles <= 0 || BranchMilliCycles <= 0 || CallReturnMilliCycles <= 0 || MultiplyMilliCycles <= 0 || DivideMilliCycles <= 0 ||
            ExceptionDeliveryCycles < 0 || InterruptDeliveryCycles < 0)
        {
            throw new ArgumentException($"Profile {profile}: instruction class costs must be positive and delivery costs non-negative.");
        }
    }
}
