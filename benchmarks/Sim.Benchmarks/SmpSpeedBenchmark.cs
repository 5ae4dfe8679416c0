using BenchmarkDotNet.Attributes;
using Sim.Engine;
using Sim.Engine.Randomness;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Paging;
using Sim.Models.Platform;
using Sim.Workloads.Synthetic;

namespace Sim.Benchmarks;

/// <summary>
/// What the multiprocessor machinery costs per simulated instruction: <see cref="Cpus"/> cores
/// of a Skylake-SP socket each run <c>compute</c>'s SPECint-like mix over a 256 KiB region of
/// their own (no sharing, so the coherence directory, the shared memory channel and the cores'
/// turns are all the difference), in exact time order or with a 100 ns synchronization quantum.
/// docs/performance.md turns the time per run into simulated instructions per second per host
/// core, against the one-CPU run of the same job.
/// </summary>
[InvocationCount(1)]
public class SmpSpeedBenchmark
{
    /// <summary>Blocks of the mix each core runs: about 2 million instructions.</summary>
    public const int BlocksPerCore = 250_000;

    private Simulator _sim = null!;

    [Params(1, 16)]
    public int Cpus { get; set; }

    [Params(0.0, 100.0)]
    public double QuantumNs { get; set; }

    [IterationSetup]
    public void Prepare()
    {
        _sim = new Simulator(1);
        var host = new Host();
        var machine = new Machine(_sim, HardwareProfiles.SkylakeSp8180,
            MachineConfiguration.Default with { Cores = Cpus, MemoryBytes = 256UL << 20, SyncQuantumNanoseconds = QuantumNs }, m => { host.Machine = m; return host; });
        AddressSpaceBuilder space = machine.NewAddressSpace();
        for (int c = 0; c < Cpus; c++)
        {
            ulong region = 0xFFFF_8000_0000_0000 + ((ulong)c << 24);
            for (ulong page = 0; page < 64; page++)
            {
                space.Map4K(region + (page * 4096), machine.Memory.AllocateFrame(), PageEntry.Writable);
            }
            RandomStream random = _sim.Random.For($"bench.cpu{c}");
            machine.Cores[c].Mmu.LoadCr3(space.Pml4);
            machine.Cores[c].Start(new GeneratedOps(random, region), cpl: 0);
        }
    }

    [Benchmark]
    public ulong Run()
    {
        _sim.Run(Tick.MaxValue);
        return _sim.EventsProcessed;
    }

    /// <summary>The mix, block by block, as a stream that allocates nothing per operation.</summary>
    private sealed class GeneratedOps(RandomStream random, ulong region) : IOpStream
    {
        private int _block;
        private int _step;

        public bool TryNext(out Op op)
        {
            if (_block == BlocksPerCore)
            {
                op = default;
                return false;
            }
            op = Compute.MixOp(random, region, _block, _step);
            if (++_step == Compute.OpsPerBlock)
            {
                (_step, _block) = (0, _block + 1);
            }
            return true;
        }
    }

    /// <summary>Nothing traps: the cores only compute.</summary>
    private sealed class Host : ICoreHost
    {
        public Machine? Machine { get; set; }

        public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress) =>
            throw new InvalidOperationException($"{vector} at 0x{faultAddress:X} on {core.Path}");

        public IOpStream OnSyscall(Core core, ulong number) => throw new InvalidOperationException();

        public IOpStream OnInterrupt(Core core, int vector) => throw new InvalidOperationException();

        public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) => throw new InvalidOperationException();

        public IOpStream? OnStreamEnd(Core core) => null;
    }
}
