using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Paging;
using Sim.Models.Platform;
using Sim.Workloads;

namespace Sim.Experiments.Native;

/// <summary>
/// Runs one workload natively (the `native` preset: no hypervisor) on one core of a machine of
/// the given profile, under the minimal kernel, and gathers its figures of merit, its cycles by
/// category and every statistic of the machine.
/// </summary>
public static class NativeRun
{
    public static NativeRunResult Run(HardwareProfile profile, IWorkload workload, long size, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(workload);
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "A workload needs a positive size.");
        }
        var sim = new Simulator(seed);
        MinimalKernel kernel = null!;
        var machine = new Machine(sim, profile, MachineConfiguration.Default, m => kernel = new MinimalKernel(m));
        AddressSpaceBuilder space = kernel.NewProcessSpace();
        var context = new WorkloadContext(space, machine.Memory, sim.Random, size);
        workload.Prepare(context);
        Core core = machine.Cores[0];
        core.Mmu.LoadCr3(space.Pml4);
        core.Start(workload.CreateStream(context), workload.Cpl);
        sim.Run(Tick.MaxValue);
        core.SettleIdleTime();
        long instructions = (long)sim.Stats.Snapshot(sim.Now).Single(s => s.Path == core.Path && s.Statistic == "instructions").Value;
        var outcome = new WorkloadOutcome(sim.Now.TotalSeconds, core.CyclesElapsed, instructions);
        var byCategory = Enum.GetValues<CycleCategory>().ToDictionary(c => c, core.CyclesIn);
        return new NativeRunResult(
            workload.Name, profile.Name, seed, size, outcome, workload.FiguresOfMerit(context, outcome), byCategory,
            new RunResult($"{workload.Name}-{profile.Name}-seed{seed}", seed, sim.Stats.Snapshot(sim.Now), sim.EventsProcessed, sim.Now, null));
    }
}
