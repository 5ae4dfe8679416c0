using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Kernel;

public class KernelTextTests
{
    [Fact]
    public void Each_routine_has_its_own_lines_and_a_path_fetches_each_line_it_runs()
    {
        var text = new KernelText(new PhysicalMemory(64UL << 20), LinuxKernelCosts.Default);
        KernelRoutine[] routines = Enum.GetValues<KernelRoutine>();
        var ranges = routines.Select(r => (Start: text.AddressOf(r), End: text.AddressOf(r) + (ulong)(text.Lines(r) * 64))).OrderBy(x => x.Start).ToArray();
        for (int i = 1; i < ranges.Length; i++)
        {
            Assert.True(ranges[i].Start >= ranges[i - 1].End, "routines overlap");
        }

        Op[] ops = Drain(new KernelPath(text, NativePrivilegedOperations.Instance).Run(KernelRoutine.Wait, times: 2).ToStream());
        int lines = text.Lines(KernelRoutine.Wait);
        Op[] fetches = [.. ops.Where(o => o.Kind == OpKind.Fetch)];
        Assert.Equal(2 * lines, fetches.Length);
        Assert.Equal(lines, fetches.Select(o => o.Operand).Distinct().Count()); // the second run fetches the same lines again
        Assert.Equal(DirectMap.Of(text.AddressOf(KernelRoutine.Wait)), fetches[0].Operand);
        RoutineCost wait = LinuxKernelCosts.Default[KernelRoutine.Wait];
        Assert.Equal(2L * wait.Instructions, ops.Where(o => o.Kind == OpKind.Alu).Sum(o => (long)o.Count));
        Assert.Equal(2 * wait.LockedOperations, ops.Count(o => o.Kind == OpKind.Atomic));
        Assert.Equal(2 * wait.InterruptDisables, ops.Count(o => o.Instruction == Instruction.Cli));
        Assert.Equal(ops.Count(o => o.Instruction == Instruction.Pushf), ops.Count(o => o.Instruction == Instruction.Popf)); // balanced
    }

    private static Op[] Drain(OpSequence stream)
    {
        var ops = new List<Op>();
        while (stream.TryNext(out Op op))
        {
            ops.Add(op);
        }
        return [.. ops];
    }

    [Fact]
    public void Costs_must_name_every_routine()
    {
        var e = Assert.Throws<ArgumentException>(() => new LinuxKernelCosts(new Dictionary<KernelRoutine, RoutineCost> { [KernelRoutine.Fork] = new(10) }));
        Assert.Contains("SyscallEntry", e.Message);
    }
}
