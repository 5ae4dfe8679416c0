using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Workloads.Nanobenchmarks;

namespace Sim.Workloads.Tests.Nanobenchmarks;

public class NanobenchmarkTests
{
    private static List<Op> Drain(IOpStream s)
    {
        var ops = new List<Op>();
        while (s.TryNext(out Op op))
        {
            ops.Add(op);
        }
        return ops;
    }

    private static WorkloadContext Context(long size)
    {
        var memory = new PhysicalMemory(64UL << 20);
        return new WorkloadContext(new AddressSpaceBuilder(memory), memory, new RandomStreams(1), size);
    }

    [Fact]
    public void Each_iteration_is_the_operation_then_the_loop_control()
    {
        WorkloadContext c = Context(3);
        Nanobenchmark pgfault = Nanobenchmark.Get("pgfault");
        pgfault.Prepare(c);
        ulong b = WorkloadContext.DataBase;
        Assert.Equal(
            [Op.Load(b), Op.Alu(1), Op.Branch(1), Op.Load(b + 4096), Op.Alu(1), Op.Branch(1), Op.Load(b + 8192), Op.Alu(1), Op.Branch(1)],
            Drain(pgfault.CreateStream(c)));
        // The pages are prepared but not present, for the kernel to fix up.
        Assert.Equal(0UL, c.Memory.ReadUInt64(c.Space.LeafEntryAddress(b + 8192)!.Value) & PageEntry.Present);
    }

    [Fact]
    public void The_empty_loop_is_the_loop_control_alone() =>
        Assert.Equal([Op.Alu(1), Op.Branch(1), Op.Alu(1), Op.Branch(1)], Drain(Nanobenchmark.CreateEmptyLoop(2)));

    [Fact]
    public void The_nanobenchmarks_are_those_of_the_paper_except_forkwait_then_rdtsc() =>
        Assert.Equal(["syscall", "in", "cr8wr", "callret", "pgfault", "divzero", "ptemod", "rdtsc"], Nanobenchmark.All.Select(b => b.Name));
}
