namespace Sim.Models.Virtualization;

/// <summary>
/// The memory a shadow-MMU operation touched and the steps it took, for its handler's cost: the
/// guest entries it read (guest-physical), the shadow entries it read and wrote and the shadow
/// pages it made (host-physical), the leaf tables it let out of sync, the out-of-sync tables it
/// brought back in sync and the entries it examined doing so, and the entries it filled ahead of
/// a fault (prefetch).
/// </summary>
public sealed class ShadowWork
{
    public List<ulong> GuestEntriesRead { get; } = [];

    public List<ulong> ShadowEntriesRead { get; } = [];

    public List<ulong> ShadowEntriesWritten { get; } = [];

    public List<ulong> ShadowPagesMade { get; } = [];

    public int TablesUnsynced { get; set; }

    public int TablesResynced { get; set; }

    public int EntriesResynced { get; set; }

    public int EntriesPrefetched { get; set; }
}
