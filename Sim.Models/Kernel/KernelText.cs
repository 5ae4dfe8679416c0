using Sim.Models.Memory;

namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's code in simulated physical memory (a <see cref="CodeLayout{TRoutine}"/> of the
/// <see cref="KernelRoutine"/>s, sized from <see cref="LinuxKernelCosts"/>), and beside it one
/// line of kernel data per routine and CPU holding the locks and counters its locked operations
/// work on; the routines added since (<see cref="AddedRoutine"/>) come in a block of their own
/// when a kernel first needs one.
/// Reached through the direct map's global 2 MiB pages, as Linux's kernel text is reached through
/// its own 2 MiB mapping.
/// </summary>
public sealed class KernelText
{
    public const int InstructionsPerLine = CodeLayout<KernelRoutine>.InstructionsPerLine;

    private readonly PhysicalMemory _memory;
    private readonly CodeLayout<KernelRoutine> _code;
    private readonly List<ulong> _locks = []; // per CPU, a line per routine
    private readonly LaterRoutines<AddedRoutine> _added;
    private readonly LaterRoutines<ReclaimRoutine> _reclaim;
    private readonly LaterRoutines<HugePageRoutine> _hugePages;
    private readonly LaterRoutines<SwapRoutine> _swap;
    private readonly LaterRoutines<BridgeRoutine> _bridge;
    private readonly LaterRoutines<AioRoutine> _aio;
    private readonly LaterRoutines<NatRoutine> _nat;

    public KernelText(PhysicalMemory memory, LinuxKernelCosts costs)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(costs);
        Costs = costs;
        _memory = memory;
        _code = new CodeLayout<KernelRoutine>(memory, r => costs[r].Instructions);
        _locks.Add(NewLockLines());
        _added = new LaterRoutines<AddedRoutine>(memory, r => costs[r].Instructions);
        _reclaim = new LaterRoutines<ReclaimRoutine>(memory, r => costs[r].Instructions);
        _hugePages = new LaterRoutines<HugePageRoutine>(memory, r => costs[r].Instructions);
        _swap = new LaterRoutines<SwapRoutine>(memory, r => costs[r].Instructions);
        _bridge = new LaterRoutines<BridgeRoutine>(memory, r => costs[r].Instructions);
        _aio = new LaterRoutines<AioRoutine>(memory, r => costs[r].Instructions);
        _nat = new LaterRoutines<NatRoutine>(memory, r => costs[r].Instructions);
    }

    /// <summary>
    /// One more CPU: its own lines for the routines' locks and counters (in an SMP kernel they stand
    /// for per-CPU and per-object data, which CPUs do not share), and the added routines' text.
    /// </summary>
    public void AddCpu()
    {
        _locks.Add(NewLockLines());
        LayOutAddedRoutines();
    }

    /// <summary>Lays out the added routines' text and lock lines, once: at a kernel's second CPU or its first use of one.</summary>
    public void LayOutAddedRoutines() => _added.LayOut();

    /// <summary>Lays out the reclaim routines' text and lock lines, once: when a kernel gets its first user of reclaim (a container or a balloon), while memory has room for them.</summary>
    public void LayOutReclaimRoutines() => _reclaim.LayOut();

    /// <summary>Lays out the transparent huge page routines' text and lock lines, once: when a kernel turns THP on, before its first process.</summary>
    public void LayOutHugePageRoutines() => _hugePages.LayOut();

    /// <summary>Lays out the swap routines' text and lock lines, once: when a kernel turns swap on, before its first process.</summary>
    public void LayOutSwapRoutines() => _swap.LayOut();

    /// <summary>Lays out the bridged network's routines' text and lock lines, once: when a kernel gets its first container on a bridge.</summary>
    public void LayOutBridgeRoutines() => _bridge.LayOut();

    /// <summary>Lays out the asynchronous I/O routines' text and lock lines, once: at a kernel's first io_setup.</summary>
    public void LayOutAioRoutines() => _aio.LayOut();

    /// <summary>Lays out the NAT's netfilter routines' text and lock lines, once: when a kernel gets its first container behind NAT.</summary>
    public void LayOutNatRoutines() => _nat.LayOut();

    private ulong NewLockLines() => _memory.AllocateContiguous((ulong)(Enum.GetValues<KernelRoutine>().Length * KernelObjects.LineBytes));

    public LinuxKernelCosts Costs { get; }

    public ulong SizeBytes => _code.SizeBytes;

    /// <summary>Physical address of the first line of <paramref name="routine"/>'s code.</summary>
    public ulong AddressOf(KernelRoutine routine) => _code.AddressOf(routine);

    public int Lines(KernelRoutine routine) => _code.Lines(routine);

    /// <summary>Physical address of the line holding <paramref name="routine"/>'s locks and counters on CPU <paramref name="cpu"/> (kernel data, beside the text).</summary>
    public ulong LockOf(KernelRoutine routine, int cpu = 0) => _locks[cpu] + ((ulong)(int)routine * KernelObjects.LineBytes);

    /// <summary>The added routines' block (their lock lines shared by the CPUs: these routines touch other CPUs' data).</summary>
    internal LaterRoutines<AddedRoutine> Added => _added;

    /// <summary>The reclaim routines' block, laid out at its first use (its lock lines are the LRU lock and the counters every CPU shares).</summary>
    internal LaterRoutines<ReclaimRoutine> Reclaim => _reclaim.LayOut();

    /// <summary>The transparent huge page routines' block.</summary>
    internal LaterRoutines<HugePageRoutine> HugePages => _hugePages;

    /// <summary>The swap routines' block (its lock lines the swap cache's and the swap area's locks).</summary>
    internal LaterRoutines<SwapRoutine> Swap => _swap;

    /// <summary>The bridged network's routines' block (its lock lines the backlog's, the bridge's FDB and the qdisc's locks).</summary>
    internal LaterRoutines<BridgeRoutine> Bridge => _bridge;

    /// <summary>The asynchronous I/O routines' block (its lock lines the context's completion lock and ring mutex, shared by the CPUs).</summary>
    internal LaterRoutines<AioRoutine> Aio => _aio;

    /// <summary>The NAT's netfilter routines' block (its lock lines: conntrack's hash bucket heads and locks).</summary>
    internal LaterRoutines<NatRoutine> Nat => _nat;
}
