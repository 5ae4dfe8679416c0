using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

/// <summary>A container's memory cgroup: page cache charged to it, reclaimed from its LRU lists before the OOM killer runs.</summary>
public class MemoryCgroupTests
{
    private const ulong Page = 4096;
    private const int LimitPages = 64;

    private static Op Call(SyscallNumber n) => Op.Execute(Instruction.Syscall, (ulong)n);

    /// <summary>A kernel with a disk and one container limited to <see cref="LimitPages"/> pages, running <paramref name="body"/> (given the file it may read) to its end.</summary>
    private static (Container Container, Script Program, IReadOnlyList<StatSample> Stats) Run(ulong filePages, Func<Script, int, IEnumerable<Op>> body)
    {
        var sim = new Simulator(1);
        LinuxKernel kernel = null!;
        _ = new Machine(sim, HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 },
            m => kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        kernel.StartDisk();
        int file = kernel.Files.Create("data.bin", filePages * Page);
        Container container = kernel.AddContainer(new ContainerConfiguration(MemoryLimitBytes: LimitPages * Page));
        var program = new Script(s => body(s, file));
        kernel.Start(program, [new MemoryRegion("data", 0x60_0000, 1, Writable: true)], container);
        sim.Run(Sim.Engine.Time.Tick.FromSeconds(1));
        return (container, program, sim.Stats.Snapshot(sim.Now));
    }

    private static IEnumerable<Op> ReadWhole(Script s, int file, ulong pages)
    {
        s.PendingArgument = file;
        yield return Call(SyscallNumber.Open);
        s.PendingArgument = s.LastResult;
        for (ulong i = 0; i < pages; i++)
        {
            yield return Call(SyscallNumber.Read);
        }
    }

    private static double Stat(IReadOnlyList<StatSample> stats, string name) => name switch
    {
        "reclaim_freed" => stats.Single(s => s.Path == "host.kernel.reclaim" && s.Statistic == "freed").Value,
        "reclaim_scanned" => stats.Single(s => s.Path == "host.kernel.reclaim" && s.Statistic == "scanned").Value,
        _ => stats.Single(s => s.Path == "host.kernel.container" && s.Statistic == name).Value,
    };

    [Fact]
    public void A_container_reading_more_than_its_limit_keeps_running_on_reclaimed_page_cache()
    {
        (Container container, Script program, IReadOnlyList<StatSample> stats) = Run(256, (s, file) => ReadWhole(s, file, 256).Append(Call(SyscallNumber.Exit)));

        Assert.Equal(0, Stat(stats, "oom_kills"));
        Assert.All(program.Results.Skip(1), r => Assert.Equal(4096L, r)); // every read returned its page
        Assert.True(container.PeakChargedBytes <= LimitPages * Page, "the charge never passes the limit");
        Assert.True(container.PeakCacheBytes > LimitPages / 2 * Page, "the cache filled the limit before reclaim");
        // Every page read beyond what fits was paid for by one reclaimed: the cache holds what the limit left it.
        Assert.Equal(256 - (container.CacheBytes / Page), Stat(stats, "reclaim_freed"));
        Assert.True(Stat(stats, "reclaim_scanned") >= Stat(stats, "reclaim_freed"));
        Assert.Equal(0UL, container.ChargedBytes - container.CacheBytes); // its one data page was never touched
    }

    [Fact]
    public void A_container_whose_own_pages_outgrow_its_limit_loses_its_page_cache_first_and_then_the_process()
    {
        const ulong cached = 16;
        (Container container, Script program, IReadOnlyList<StatSample> stats) = Run(cached, (s, file) => Body(s, file));
        static IEnumerable<Op> Body(Script s, int file)
        {
            foreach (Op op in ReadWhole(s, file, cached))
            {
                yield return op;
            }
            s.PendingArgument = 2 * LimitPages;
            yield return Call(SyscallNumber.Mmap);
            ulong start = (ulong)s.LastResult;
            for (ulong i = 0; i < 2 * LimitPages; i++)
            {
                yield return Op.Store(start + (i * Page)); // a demand-zero page each
            }
            yield return Call(SyscallNumber.Exit);
        }

        Assert.Equal(cached * Page, container.PeakCacheBytes);
        Assert.Equal(cached, Stat(stats, "reclaim_freed")); // all of the cache went before the kill
        Assert.Equal(1, Stat(stats, "oom_kills"));
        Assert.Equal(0UL, container.CacheBytes);
        Assert.Equal(0UL, container.ChargedBytes); // the killed process's pages went back with it
        Assert.DoesNotContain(program.Results, r => r < 0);
    }

    [Fact]
    public void Reclaim_is_deterministic()
    {
        static string Snapshot() =>
            string.Join('\n', Run(200, (s, file) => ReadWhole(s, file, 200).Concat(ReadWhole(s, file, 200)).Append(Call(SyscallNumber.Exit))).Stats.Select(s => $"{s.Path}/{s.Statistic}={s.Value}"));
        Assert.Equal(Snapshot(), Snapshot());
    }
}
