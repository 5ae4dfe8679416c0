using Sim.Models.Cpu;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Workloads.Tests.Nanobenchmarks;

public class LoopStreamTests
{
    private static List<Op> Drain(LoopStream s)
    {
        var ops = new List<Op>();
        while (s.TryNext(out Op op))
        {
            ops.Add(op);
        }
        return ops;
    }

    [Fact]
    public void Each_iteration_is_the_body_then_the_loop_control()
    {
        var ops = Drain(new LoopStream(3, i => Op.Load((ulong)i * 64)));
        Assert.Equal(
            [Op.Load(0), Op.Alu(1), Op.Branch(1), Op.Load(64), Op.Alu(1), Op.Branch(1), Op.Load(128), Op.Alu(1), Op.Branch(1)],
            ops);
    }

    [Fact]
    public void The_empty_loop_is_the_loop_control_alone() =>
        Assert.Equal([Op.Alu(1), Op.Branch(1), Op.Alu(1), Op.Branch(1)], Drain(new LoopStream(2, null)));

    [Fact]
    public void The_nanobenchmarks_are_those_of_the_paper_except_forkwait() =>
        Assert.Equal(["syscall", "in", "cr8wr", "callret", "pgfault", "divzero", "ptemod"], Nanobenchmark.All.Select(b => b.Name));
}
