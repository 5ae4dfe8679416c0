using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

/// <summary>The Linux-like kernel alone on a Nehalem machine of one core (64 MiB unless told), with its statistics and the frames its boot took; with swap, its disk (an SSD behind AHCI) started and a swap area at its end.</summary>
internal sealed class NativeKernelRig
{
    public NativeKernelRig(HardwareProfile? profile = null, ulong memoryBytes = 64UL << 20, bool transparentHugePages = false, double khugepagedSleepMilliseconds = LinuxKernel.DefaultKhugepagedSleepMilliseconds,
        ulong swapBytes = 0, DiskKind disk = DiskKind.SolidState)
    {
        Sim = new Simulator(1);
        Machine = new Machine(Sim, profile ?? HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = memoryBytes, Disk = disk },
            m => Kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        if (transparentHugePages)
        {
            Kernel.EnableTransparentHugePages(khugepagedSleepMilliseconds);
        }
        if (swapBytes > 0)
        {
            Kernel.EnableSwap(swapBytes);
            Kernel.StartDisk();
        }
        KernelFrames = Machine.Memory.FramesInUse;
    }

    public Simulator Sim { get; }

    public Machine Machine { get; }

    public LinuxKernel Kernel { get; private set; } = null!;

    /// <summary>The frames in use once the kernel has booted: what a run that leaks nothing ends with.</summary>
    public ulong KernelFrames { get; }

    public Core Core => Machine.Cores[0];

    public double Stat(string path, string name) => Sim.Stats.Snapshot(Sim.Now).Single(s => s.Path == path && s.Statistic == name).Value;

    public void Run()
    {
        Sim.Run(Tick.MaxValue);
        Core.SettleIdleTime();
    }
}
