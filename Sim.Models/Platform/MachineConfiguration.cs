using Sim.Models.Devices;
using Sim.Models.Hardware;

namespace Sim.Models.Platform;

/// <summary>How a machine is put together beyond its CPU generation: cores, memory, platform latencies, disk.</summary>
/// <param name="Cores">The physical cores in use: the first ones of the machine's topology, socket by socket.</param>
/// <param name="CoresPerSocket">How many cores each socket has, at most the profile's; null for the profile's own. The sockets are as many as the cores in use fill.</param>
/// <param name="ThreadsPerCore">Hardware threads (logical CPUs) per core, at most the profile's: 2 turns SMT on.</param>
/// <param name="IrqCpu">The logical CPU the kernel routes the machine's device interrupts to (their affinity, as /proc/irq/N/smp_affinity sets it).</param>
/// <param name="Balloon">Whether the machine (a virtual one) has a memory balloon device (virtio-balloon).</param>
/// <param name="VirtioTransport">How a virtual machine's virtio disk and NIC interrupt: virtio-pci's MSI-X messages (QEMU's default on x86) or virtio-mmio's line.</param>
/// <param name="SyncQuantumNanoseconds">On a machine of several cores, how far a core may run ahead of the others before it yields to them (<see cref="Cpu.Core.SyncQuantumCycles"/>); 0 for exact time order. A model parameter: docs/performance.md measures what it moves and what it saves.</param>
public sealed record MachineConfiguration(
    int Cores, ulong MemoryBytes, PlatformTimings Timings, DiskKind Disk = DiskKind.SolidState, ulong DiskSectors = 64UL << 21, bool Nic = true,
    DiskInterface DiskInterface = DiskInterface.Ahci, NetworkInterface Network = NetworkInterface.E1000, int? CoresPerSocket = null,
    double SyncQuantumNanoseconds = MachineConfiguration.DefaultSyncQuantumNanoseconds, int ThreadsPerCore = 1, int IrqCpu = 0, bool Balloon = false,
    VirtioTransport VirtioTransport = VirtioTransport.Pci)
{
    /// <summary>The logical CPUs: every hardware thread of every core in use. Logical CPU <c>i</c> is thread <c>i / Cores</c> of core <c>i % Cores</c>, so the first <see cref="Cores"/> are on distinct cores, as Linux numbers Intel's.</summary>
    public int LogicalCpus => Cores * ThreadsPerCore;

    /// <summary>The default synchronization quantum: see docs/performance.md for the error and speed it was chosen by.</summary>
    public const double DefaultSyncQuantumNanoseconds = 0;

    /// <summary>
    /// The machine's shape on <paramref name="profile"/>: as many sockets as the cores in use
    /// fill, each of <see cref="CoresPerSocket"/> cores (the profile's by default). A shape the part
    /// cannot have is refused with the allowed values.
    /// </summary>
    public Topology TopologyOn(HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Topology most = profile.Topology;
        int perSocket = CoresPerSocket ?? most.CoresPerSocket;
        if (perSocket < 1 || perSocket > most.CoresPerSocket)
        {
            throw new ArgumentException($"A socket of {profile.Name} has 1 to {most.CoresPerSocket} cores (got {perSocket}).", nameof(profile));
        }
        int sockets = (Cores + perSocket - 1) / perSocket;
        if (sockets > most.Sockets)
        {
            throw new ArgumentException(
                $"{Cores} cores of {perSocket} per socket need {sockets} sockets; a machine of {profile.Name} has at most {most.Sockets} ({most.Cores} cores: {most}).", nameof(profile));
        }
        if (Cores > profile.MostCores)
        {
            throw new ArgumentException($"Profile {profile.Name} has no coherence model yet, so a machine of it uses 1 core ({most} on the real part).", nameof(profile));
        }
        if (ThreadsPerCore < 1 || ThreadsPerCore > most.ThreadsPerCore)
        {
            throw new ArgumentException($"A core of {profile.Name} runs 1 to {most.ThreadsPerCore} hardware thread(s) (got {ThreadsPerCore}).", nameof(profile));
        }
        return new Topology(sockets, perSocket, ThreadsPerCore);
    }

    public static readonly MachineConfiguration Default = new(Cores: 1, MemoryBytes: 512UL << 20, PlatformTimings.Default);

    public void Validate()
    {
        if (Cores is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Cores), Cores, "A machine has 1 to 256 cores.");
        }
        if (ThreadsPerCore is < 1 or > 2 || LogicalCpus > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(ThreadsPerCore), ThreadsPerCore, "A core runs 1 or 2 hardware threads, and a machine has at most 256 logical CPUs.");
        }
        if (IrqCpu < 0 || IrqCpu >= LogicalCpus)
        {
            throw new ArgumentOutOfRangeException(nameof(IrqCpu), IrqCpu, $"Device interrupts go to one of the machine's logical CPUs, 0 to {LogicalCpus - 1}.");
        }
        if (SyncQuantumNanoseconds is < 0 or > Memory.LineChannel.HorizonNanoseconds)
        {
            throw new ArgumentOutOfRangeException(nameof(SyncQuantumNanoseconds), SyncQuantumNanoseconds,
                $"The synchronization quantum is 0 (exact order) to {Memory.LineChannel.HorizonNanoseconds} ns, as far back as the memory channels keep their reservations.");
        }
    }
}
