using Sim.Engine;
using Sim.Engine.Time;
using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Platform;
using Sim.Workloads;

namespace Sim.Experiments.Tests.Runs;

/// <summary>A machine with no disk or NIC booted with the Linux-like kernel and its tick, for tests that start processes in containers themselves.</summary>
internal sealed class KernelRig
{
    public KernelRig(HardwareProfile profile)
    {
        Sim = new Simulator(1);
        LinuxKernel linux = null!;
        Machine = new Machine(Sim, profile, MachineConfiguration.Default with { Disk = DiskKind.None, Nic = false },
            m => linux = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        Linux = linux;
        Linux.StartTimer(WorkloadRun.TimerVector, (uint)(MachineConfiguration.Default.Timings.ApicTimerHz / WorkloadRun.TimerHz));
    }

    public Simulator Sim { get; }

    public Machine Machine { get; }

    public LinuxKernel Linux { get; }

    /// <summary>Starts <paramref name="workload"/>'s first process in <paramref name="container"/>, its random streams under <paramref name="prefix"/>.</summary>
    public void Start(IProcessWorkload workload, long size, Container container, string prefix)
    {
        var context = new WorkloadContext(Machine.NewAddressSpace(), Machine.Memory, Sim.Random.Within(prefix), size);
        workload.ConfigureKernel(Linux, context);
        Linux.Start(workload.CreateProgram(context), workload.CreateImage(Linux, context), container);
    }

    /// <summary>Runs to the end; the value of the kernel's container statistic <paramref name="statistic"/>.</summary>
    public double RunAndCount(string statistic)
    {
        Sim.Run(Tick.MaxValue);
        return Sim.Stats.Snapshot(Sim.Now).Single(s => s.Path == "host.kernel.container" && s.Statistic == statistic).Value;
    }
}
