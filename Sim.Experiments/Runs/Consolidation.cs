namespace Sim.Experiments.Runs;

/// <summary>
/// How many guests share one host, and its physical cores: each guest is a virtual machine of one
/// virtual CPU running its own copy of the workload with its own kernel, placed round-robin on the
/// host's cores (<c>Sim.Models.Virtualization.VcpuScheduler</c> time-shares a core's guests).
/// The default is one guest on one core: the run of a single workload.
/// </summary>
/// <param name="Guests">Guests on the host (virtual machines, each with the workload).</param>
/// <param name="HostCores">The host's physical cores.</param>
/// <param name="HostProcesses">Under a hosted hypervisor, CPU-bound processes of the host competing with the guests for the cores.</param>
/// <param name="Others">The workloads of the guests after the first, when they differ from the run's (which the first guest runs): one per other guest; empty for copies of the run's workload.</param>
public sealed record Consolidation(int Guests = 1, int HostCores = 1, int HostProcesses = 0, IReadOnlyList<GuestWorkload>? Others = null)
{
    /// <summary>Guest <paramref name="index"/>'s workload and size: the run's for the first guest, and for all when <see cref="Others"/> is not given.</summary>
    public GuestWorkload WorkloadOf(int index, GuestWorkload run) => index == 0 || Others is not { Count: > 0 } others ? run : others[index - 1];

    /// <summary>The most guests of a run, and of their virtual CPUs together: VT-x's VPIDs here are 8 bits, one per virtual CPU, and a host's VPID 0 is its own.</summary>
    public const int MaxGuests = 254;

    /// <summary>The most physical cores of a host (what a machine of the model may have).</summary>
    public const int MaxHostCores = 256;

    /// <summary>The most host processes of a run.</summary>
    public const int MaxHostProcesses = 256;

    public static readonly Consolidation OneGuest = new();

    public bool IsSingle => Guests == 1;

    /// <summary>
    /// The host's installed memory, or null to size it to fit: under a hypervisor each virtual
    /// machine's memory is reserved whole from it (no overcommit) beside the hypervisor's
    /// allowance (<see cref="WorkloadRun.HostSoftwareBytes"/>); under containers the one kernel
    /// allocates from what the allowance leaves.
    /// </summary>
    public ulong? HostMemoryBytes { get; init; }

    /// <summary>What each virtual machine's boot leaves in its memory (its base system), or null for the model's bare kernel; containers and native runs have none (the host's own system is in its allowance).</summary>
    public Sim.Models.Kernel.BaseSystem? GuestBaseSystem { get; init; }

    /// <summary>Whether every Linux-like kernel of the run (natively, each VM's, the containers' one) maps anonymous memory with transparent huge pages ("always"); the minimal test kernel has none.</summary>
    public bool TransparentHugePages { get; init; }

    /// <summary>The swap area of every Linux-like kernel of the run, in bytes; 0 for none.</summary>
    public ulong SwapBytes { get; init; }

    /// <summary>khugepaged's sleep between batches in those kernels, in milliseconds.</summary>
    public double KhugepagedSleepMilliseconds { get; init; } = Sim.Models.Kernel.LinuxKernel.DefaultKhugepagedSleepMilliseconds;

    /// <summary>
    /// The virtual machines' credit-scheduler weights: the k-th value is the k-th guest's, the last
    /// one every later guest's; null or empty for the default weight each.
    /// </summary>
    public IReadOnlyList<int>? VcpuWeights { get; init; }

    /// <summary>
    /// The virtual machines' credit-scheduler caps in percent of one CPU (0 for none): the k-th
    /// value is the k-th guest's, the last one every later guest's; null or empty for no caps.
    /// </summary>
    public IReadOnlyList<int>? VcpuCaps { get; init; }

    /// <summary>
    /// The logical CPUs the virtual machines' virtual CPUs are pinned to: the k-th value is the
    /// k-th guest's; guests beyond the list are placed on the next CPU in turn. Null for all in turn.
    /// </summary>
    public IReadOnlyList<int>? VcpuPinning { get; init; }

    /// <summary>
    /// The virtual machines' virtual CPUs: the k-th value is the k-th guest's, the last one every
    /// later guest's; null or empty for one each. Not for containers, which are given CPUs by
    /// their cpusets.
    /// </summary>
    public IReadOnlyList<int>? Vcpus { get; init; }

    /// <summary>The most virtual CPUs of one virtual machine: the CPUs the guest's SMP kernel runs on.</summary>
    public const int MostVcpus = Sim.Models.Kernel.LinuxKernel.MostCpus;

    /// <summary>Guest <paramref name="index"/>'s virtual CPUs.</summary>
    public int VcpusOf(int index) => ForGuest(Vcpus, index) ?? 1;

    /// <summary>The virtual CPUs of all the guests together.</summary>
    public int TotalVcpus => Enumerable.Range(0, Guests).Sum(VcpusOf);

    /// <summary>Guest <paramref name="index"/>'s virtual CPUs' placement: its first one's pinned CPU, if any (the others go to the CPUs after it), their weight and their cap.</summary>
    public Sim.Models.Virtualization.VcpuPlacement PlacementOf(int index) => new(
        VcpuPinning is { } pins && index < pins.Count ? pins[index] : null,
        ForGuest(VcpuWeights, index) ?? Sim.Models.Virtualization.VcpuPlacement.DefaultWeight,
        ForGuest(VcpuCaps, index) ?? 0);

    /// <summary>The k-th value of a per-guest list whose last value serves every later guest; null for an empty list.</summary>
    private static int? ForGuest(IReadOnlyList<int>? values, int index) => values is { Count: > 0 } ? values[Math.Min(index, values.Count - 1)] : null;

    /// <summary>Why this consolidation is impossible, or null.</summary>
    public string? Problem() =>
        Guests is < 1 or > MaxGuests ? $"guests must be 1 to {MaxGuests}, not {Guests}"
        : HostCores is < 1 or > MaxHostCores ? $"host cores must be 1 to {MaxHostCores}, not {HostCores}"
        : HostProcesses is < 0 or > MaxHostProcesses ? $"host processes must be 0 to {MaxHostProcesses}, not {HostProcesses}"
        : Others is { Count: > 0 } others && others.Count != Guests - 1 ? $"{Guests} guests need {Guests - 1} other workloads, not {others.Count}"
        : Vcpus is { } v && v.Any(n => n is < 1 or > MostVcpus) ? $"a virtual machine has 1 to {MostVcpus} virtual CPUs, not {v.First(n => n is < 1 or > MostVcpus)}"
        : TotalVcpus > MaxGuests ? $"the guests' virtual CPUs number {TotalVcpus}, and a host runs at most {MaxGuests} (VT-x's VPIDs here are 8 bits, one per virtual CPU)"
        : null;
}
