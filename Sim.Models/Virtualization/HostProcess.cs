using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// A CPU-bound process of a hosted hypervisor's host (a build, a browser tab, a backup), competing
/// for a physical core with the virtual CPUs placed there, as a vCPU thread competes with the
/// host's other threads. It runs in a context of its own at CPL 3 over a working set in host
/// memory, reached through the monitor process's user-mode map: each pass touches every line of
/// it once and executes <see cref="AluPerLine"/> instructions per line, so that it takes the core
/// and pollutes the caches the guests share. It runs until every guest has finished.
/// </summary>
/// <remarks>
/// Model: the shape of the load (its working set and its instruction mix) is assumed, a
/// parameter rather than a measurement of any program; it makes no system calls and never blocks.
/// </remarks>
internal sealed class HostProcess(Core context, int physical, ulong workingSet, ulong bytes) : SchedulingEntity(physical), IOpStream
{
    /// <summary>The working set of a host process: 256 KiB (assumed; an L2's worth on the profiles' parts).</summary>
    public const ulong WorkingSetBytes = 256UL << 10;

    /// <summary>Instructions between two of its loads (assumed).</summary>
    public const int AluPerLine = 20;

    private ulong _offset;
    private bool _loadNext = true;

    public override Core Core { get; } = context;

    /// <summary>Set when every guest has finished: the process ends at its next step.</summary>
    public bool Stopped { get; set; }

    public bool TryNext(out Op op)
    {
        if (Stopped)
        {
            op = default;
            return false;
        }
        if (_loadNext)
        {
            op = Op.Load(workingSet + _offset);
            _offset = (_offset + 64) % bytes;
        }
        else
        {
            op = Op.Alu(AluPerLine);
        }
        _loadNext = !_loadNext;
        return true;
    }
}
