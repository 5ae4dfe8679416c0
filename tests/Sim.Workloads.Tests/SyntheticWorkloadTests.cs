using Sim.Engine.Randomness;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Workloads.Synthetic;

namespace Sim.Workloads.Tests;

public class SyntheticWorkloadTests
{
    private static List<Op> Drain(IWorkload w, long size, ulong seed)
    {
        var memory = new PhysicalMemory(256UL << 20);
        var c = new WorkloadContext(new AddressSpaceBuilder(memory), memory, new RandomStreams(seed), size);
        w.Prepare(c);
        IOpStream s = w.CreateStream(c);
        var ops = new List<Op>();
        while (s.TryNext(out Op op))
        {
            ops.Add(op);
        }
        return ops;
    }

    [Fact]
    public void Streams_are_deterministic_per_seed_and_differ_between_seeds()
    {
        foreach (IWorkload w in new IWorkload[] { new Gups(), new Compute() })
        {
            Assert.Equal(Drain(w, 500, 1), Drain(w, 500, 1));
            Assert.NotEqual(Drain(w, 500, 1), Drain(w, 500, 2));
        }
    }

    [Fact]
    public void Stream_touches_each_element_of_its_three_arrays_once()
    {
        var ops = Drain(new StreamTriad(), 1000, 1);
        Assert.Equal(2000, ops.Count(o => o.Kind == OpKind.Load));
        Assert.Equal(1000, ops.Count(o => o.Kind == OpKind.Store));
        Assert.Equal(2000, ops.Where(o => o.Kind == OpKind.Load).Select(o => o.Operand).Distinct().Count());
    }

    [Fact]
    public void Gups_updates_random_words_inside_its_table()
    {
        var ops = Drain(new Gups(), 2000, 3);
        var loads = ops.Where(o => o.Kind == OpKind.Load).Select(o => o.Operand).ToArray();
        var stores = ops.Where(o => o.Kind == OpKind.Store).Select(o => o.Operand).ToArray();
        Assert.Equal(loads, stores); // read-modify-write of the same word
        Assert.All(loads, a => Assert.InRange(a, WorkloadContext.DataBase, WorkloadContext.DataBase + Gups.TableBytes - 8));
        Assert.True(loads.Distinct().Count() > 1990);
    }

    [Fact]
    public void The_catalog_names_every_workload_and_refuses_unknown_ones()
    {
        Assert.Equal(
            ["syscall", "in", "cr8wr", "callret", "pgfault", "divzero", "ptemod", "rdtsc", "forkwait", "lat-null", "lat-fork", "lat-ctx-0k", "lat-ctx-16k", "lat-pagefault", "lat-mmap", "lat-nullio", "lat-stat", "lat-sig-install", "lat-sig-catch", "lat-openclose", "lat-fork-exec", "lat-file-read", "fio-randread", "fio-randread-qd32", "idle", "netperf-rr", "netperf-stream", "web", "oltp", "kernel-build", "lock-counter", "mutex-counter", "tlb-shootdown", "stream-threads", "stream", "gups", "compute", "stream-linux", "gups-linux", "compute-linux"],
            WorkloadCatalog.All.Select(w => w.Workload.Name));
        var e = Assert.Throws<ArgumentException>(() => WorkloadCatalog.Get("spec-cpu"));
        Assert.Contains("gups", e.Message, StringComparison.Ordinal);
    }
}

public class WorkloadOutcomeTests
{
    [Fact]
    public void System_time_is_the_busy_time_outside_user_mode_not_counting_idle_or_descheduled_cycles()
    {
        // 1,000 cycles: 200 halted, 300 waiting for the core (another guest's turn), 400 in user mode, 100 in the kernel.
        var outcome = new WorkloadOutcome(1e-6, 1_000, 500, IdleCycles: 200, UserModeCycles: 400, DescheduledCycles: 300);
        Assert.Equal(0.2, outcome.SystemTimeShare, 12);
        Assert.True(double.IsNaN(new WorkloadOutcome(1e-6, 100, 0, IdleCycles: 100).SystemTimeShare));
    }
}
