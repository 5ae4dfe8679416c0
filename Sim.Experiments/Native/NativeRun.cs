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
    /// <summary>The scheduler tick of the Linux-like kernel: 250 Hz, Linux 2.6's default CONFIG_HZ.</summary>
    public const ulong TimerHz = 250;

    public const int TimerVector = 0xEF;

    public static NativeRunResult Run(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration? configuration = null) =>
        Prepare(profile, workload, size, seed, configuration).Execute();

    /// <summary>Builds the machine, boots the kernel and prepares the workload's memory, without running it (benchmarks time <see cref="PreparedRun.Execute"/> alone).</summary>
    public static PreparedRun Prepare(HardwareProfile profile, IWorkload workload, long size, ulong seed, MachineConfiguration? configuration = null)
    {
        configuration ??= MachineConfiguration.Default;
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(workload);
        if (size < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "A workload needs a positive size.");
        }
        var sim = new Simulator(seed);
        if (workload is IProcessWorkload processes)
        {
            // Processes run under the Linux-like kernel, natively.
            LinuxKernel linux = null!;
            var host = new Machine(sim, profile, configuration,
                m => linux = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
            var processContext = new WorkloadContext(host.NewAddressSpace(), host.Memory, sim.Random, size);
            processes.ConfigurePlatform(host);
            if (host.HasDisk)
            {
                linux.StartDisk();
            }
            if (host.Nic is not null)
            {
                linux.StartNetwork();
            }
            linux.StartTimer(vector: TimerVector, initialCount: (uint)(configuration.Timings.ApicTimerHz / TimerHz));
            processes.ConfigureKernel(linux, processContext);
            linux.Start(processes.CreateProgram(processContext), processes.CreateImage(linux, processContext));
            return new PreparedRun(sim, host.Cores[0], profile, workload, processContext, seed);
        }
        MinimalKernel kernel = null!;
        var machine = new Machine(sim, profile, configuration, m => kernel = new MinimalKernel(m));
        AddressSpaceBuilder space = kernel.NewProcessSpace();
        var context = new WorkloadContext(space, machine.Memory, sim.Random, size);
        workload.Prepare(context);
        Core core = machine.Cores[0];
        core.Mmu.LoadCr3(space.Pml4);
        core.Start(workload.CreateStream(context), workload.Cpl);
        return new PreparedRun(sim, core, profile, workload, context, seed);
    }

    /// <summary>A machine with its workload loaded, ready to run.</summary>
    public sealed class PreparedRun
    {
        private readonly Simulator _sim;
        private readonly Core _core;
        private readonly HardwareProfile _profile;
        private readonly IWorkload _workload;
        private readonly WorkloadContext _context;
        private readonly ulong _seed;

        internal PreparedRun(Simulator sim, Core core, HardwareProfile profile, IWorkload workload, WorkloadContext context, ulong seed)
        {
            (_sim, _core, _profile, _workload, _context, _seed) = (sim, core, profile, workload, context, seed);
        }

        public NativeRunResult Execute()
        {
            _sim.Run(Tick.MaxValue);
            _core.SettleIdleTime();
            IReadOnlyList<StatSample> samples = _sim.Stats.Snapshot(_sim.Now);
            long instructions = (long)samples.Single(s => s.Path == _core.Path && s.Statistic == "instructions").Value;
            var outcome = new WorkloadOutcome(_sim.Now.TotalSeconds, _core.CyclesElapsed, instructions, (ulong)_core.CyclesIn(CycleCategory.Idle));
            var byCategory = Enum.GetValues<CycleCategory>().ToDictionary(c => c, _core.CyclesIn);
            return new NativeRunResult(
                _workload.Name, _profile.Name, _seed, _context.Size, outcome, _workload.FiguresOfMerit(_context, outcome), byCategory,
                new RunResult($"{_workload.Name}-{_profile.Name}-seed{_seed}", _seed, samples, _sim.EventsProcessed, _sim.Now, null));
        }
    }
}
