using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Paging;
using Sim.Models.Platform;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Experiments.Calibration;

/// <summary>
/// Measures a nanobenchmark natively: the cycles one operation adds to a loop, as a real
/// measurement would, by differences. Four runs on a fresh machine each: the loop with the
/// operation at n and 2n iterations, and the empty loop at n and 2n. The operation's cost is
/// ((B(2n) - B(n)) - (E(2n) - E(n))) / n, which removes the loop control, the start-up and the
/// cold caches of the first n iterations.
/// </summary>
public static class NanobenchmarkRunner
{
    public static NanobenchmarkResult Measure(HardwareProfile profile, Nanobenchmark benchmark, int iterations)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(benchmark);
        if (iterations < 10)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "At least 10 iterations are needed for a steady state.");
        }
        Run b1 = Once(profile, benchmark, iterations, withBody: true);
        Run b2 = Once(profile, benchmark, 2 * iterations, withBody: true);
        Run e1 = Once(profile, benchmark, iterations, withBody: false);
        Run e2 = Once(profile, benchmark, 2 * iterations, withBody: false);
        double perOp = ((double)(b2.Cycles - b1.Cycles) - (e2.Cycles - e1.Cycles)) / iterations;
        var byCategory = new Dictionary<CycleCategory, double>();
        foreach (CycleCategory c in Enum.GetValues<CycleCategory>())
        {
            byCategory[c] = ((double)(b2.ByCategory[c] - b1.ByCategory[c]) - (e2.ByCategory[c] - e1.ByCategory[c])) / iterations;
        }
        return new NanobenchmarkResult(benchmark.Name, profile.Name, perOp, byCategory);
    }

    private static Run Once(HardwareProfile profile, Nanobenchmark benchmark, int iterations, bool withBody)
    {
        var sim = new Simulator(seed: 1);
        MinimalKernel kernel = null!;
        var machine = new Machine(sim, profile, MachineConfiguration.Default, m => kernel = new MinimalKernel(m));
        AddressSpaceBuilder space = kernel.NewProcessSpace();
        var context = new NanobenchmarkContext(space, machine.Memory);
        benchmark.Prepare?.Invoke(context, 2 * iterations);
        Core core = machine.Cores[0];
        core.Mmu.LoadCr3(space.Pml4);
        core.Start(new LoopStream(iterations, withBody ? i => benchmark.Body(context, i) : null), benchmark.Cpl);
        sim.Run(Tick.MaxValue);
        core.SettleIdleTime();
        var byCategory = Enum.GetValues<CycleCategory>().ToDictionary(c => c, core.CyclesIn);
        return new Run((long)core.CyclesElapsed, byCategory);
    }

    private sealed record Run(long Cycles, Dictionary<CycleCategory, long> ByCategory);
}
