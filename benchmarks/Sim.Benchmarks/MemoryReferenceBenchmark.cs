using BenchmarkDotNet.Attributes;
using Sim.Engine.Randomness;
using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Benchmarks;

/// <summary>
/// Memory references per second through the MMU (TLBs, paging-structure caches, page walks) and
/// the cache hierarchy, on the Nehalem profile. <c>Sequential</c> touches 8-byte words in order
/// over 4 MiB (TLB- and cache-friendly); <c>Random</c> touches random words over 256 MiB (a
/// GUPS-like, TLB-hostile pattern: most references walk). The baseline is the same loop drawing
/// the same random addresses and summing them without simulating anything.
/// </summary>
public class MemoryReferenceBenchmark
{
    private const int ReferencesPerInvoke = 1_000_000;
    private const ulong Base = 0x0000_1000_0000_0000;

    private Mmu _mmu = null!;
    private MemoryPath _path = null!;
    private RandomStream _random = null!;
    private ulong _cursor;

    [Params(4UL << 20, 256UL << 20)]
    public ulong FootprintBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        HardwareProfile p = HardwareProfiles.NehalemX5570;
        var stats = new StatRegistry();
        var memory = new PhysicalMemory(512UL << 20);
        _path = MemorySystem.SingleCore(p, stats.Group("host")).AddCore(stats.Group("cpu0"));
        var space = new AddressSpaceBuilder(memory);
        for (ulong offset = 0; offset < FootprintBytes; offset += 4096)
        {
            space.Map4K(Base + offset, memory.AllocateFrame(), PageEntry.Writable | PageEntry.User);
        }
        _mmu = new Mmu(p, memory, _path, stats.Group("cpu0"));
        _mmu.LoadCr3(space.Pml4);
        _random = new RandomStream(7);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ReferencesPerInvoke)]
    public ulong AddressGenerationOnly()
    {
        ulong sum = 0;
        for (int i = 0; i < ReferencesPerInvoke; i++)
        {
            sum += Base + (_random.NextBelow(FootprintBytes / 8) * 8);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = ReferencesPerInvoke)]
    public long Random()
    {
        long cycles = 0;
        for (int i = 0; i < ReferencesPerInvoke; i++)
        {
            cycles += Reference(Base + (_random.NextBelow(FootprintBytes / 8) * 8));
        }
        return cycles;
    }

    [Benchmark(OperationsPerInvoke = ReferencesPerInvoke)]
    public long Sequential()
    {
        long cycles = 0;
        for (int i = 0; i < ReferencesPerInvoke; i++)
        {
            cycles += Reference(Base + _cursor);
            _cursor = (_cursor + 8) % FootprintBytes;
        }
        return cycles;
    }

    private int Reference(ulong linear)
    {
        TranslationResult t = _mmu.Translate(linear, MemoryAccessKind.Read, user: true);
        return t.Cycles + _path.Access(t.PhysicalAddress, MemoryAccessKind.Read);
    }
}
