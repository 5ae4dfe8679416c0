namespace Sim.Models.Kernel;

/// <summary>
/// The bookkeeping instructions of each kernel routine, beside the memory traffic, locked
/// operations and privileged operations the paths make explicitly. No source in hand gives
/// per-path instruction counts for Linux 2.6 on x86-64, so these are assumed orders of
/// magnitude, sized from what each path does in that kernel (docs/machine.md): copy_process sets
/// up credentials, files, fs, signal handlers, pid, scheduler and /proc state; do_exit tears the
/// same down and notifies the parent; wait4 reaps through release_task; the page-fault paths find
/// the VMA, take the page-table lock and update the LRU lists. They are not fitted to any
/// published figure.
/// </summary>
public sealed class LinuxKernelCosts
{
    private readonly int[] _instructions;

    public LinuxKernelCosts(IReadOnlyDictionary<KernelRoutine, int> instructions)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        _instructions = new int[Enum.GetValues<KernelRoutine>().Length];
        foreach (KernelRoutine r in Enum.GetValues<KernelRoutine>())
        {
            if (!instructions.TryGetValue(r, out int n) || n <= 0)
            {
                throw new ArgumentException($"The kernel costs need a positive instruction count for {r}.", nameof(instructions));
            }
            _instructions[(int)r] = n;
        }
    }

    public int this[KernelRoutine routine] => _instructions[(int)routine];

    public static readonly LinuxKernelCosts Default = new(new Dictionary<KernelRoutine, int>
    {
        [KernelRoutine.SyscallEntry] = 30,
        [KernelRoutine.Fork] = 15_000,
        [KernelRoutine.ForkPerRegion] = 600,
        [KernelRoutine.PerPteCopy] = 40,
        [KernelRoutine.Exit] = 12_000,
        [KernelRoutine.ExitPerRegion] = 500,
        [KernelRoutine.PageAllocator] = 300,
        [KernelRoutine.PerPteUnmap] = 40,
        [KernelRoutine.PerTableFree] = 100,
        [KernelRoutine.Wait] = 5_000,
        [KernelRoutine.ContextSwitch] = 1_500,
        [KernelRoutine.DemandZeroFault] = 1_000,
        [KernelRoutine.CopyOnWriteFault] = 1_500,
        [KernelRoutine.FileFault] = 1_200,
        [KernelRoutine.TimerTick] = 500,
        [KernelRoutine.Mmap] = 1_500,
        [KernelRoutine.BlockRequest] = 1_000,
        [KernelRoutine.BlockCompletion] = 500,
        [KernelRoutine.NetworkSend] = 2_500,
        [KernelRoutine.NetworkReceive] = 2_000,
        [KernelRoutine.Open] = 1_000,
        [KernelRoutine.FileRead] = 400,
        [KernelRoutine.FileWrite] = 500,
        [KernelRoutine.Close] = 200,
        [KernelRoutine.Exec] = 15_000,
        [KernelRoutine.SignalAction] = 300,
        [KernelRoutine.Kill] = 700,
        [KernelRoutine.SignalDelivery] = 1_500,
        [KernelRoutine.SignalReturn] = 800,
        [KernelRoutine.PathComponent] = 250,
        [KernelRoutine.Stat] = 400,
    });
}
