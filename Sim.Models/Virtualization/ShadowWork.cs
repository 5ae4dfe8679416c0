namespace Sim.Models.Virtualization;

/// <summary>
/// The memory a shadow-MMU operation touched and the steps it took, for its handler's cost: the
/// guest entries it read (guest-physical), the shadow entries it read and wrote and the shadow
/// pages it made (host-physical), the leaf tables it let out of sync, the out-of-sync tables it
/// brought back in sync and the entries it examined doing so, and the entries it filled ahead of
/// a fault (prefetch), and the lookups of its hash of shadow pages.
/// </summary>
public sealed class ShadowWork
{
    public List<ulong> GuestEntriesRead { get; } = [];

    public List<ulong> ShadowEntriesRead { get; } = [];

    public List<ulong> ShadowEntriesWritten { get; } = [];

    public List<ulong> ShadowPagesMade { get; } = [];

    /// <summary>The shadow MMU's hash lookups: the guest frame looked up and the shadow pages of it found on the bucket's chain.</summary>
    public List<(ulong Gfn, ulong[] Pages)> HashLookups { get; } = [];

    public int TablesUnsynced { get; set; }

    public int TablesResynced { get; set; }

    public int EntriesResynced { get; set; }

    public int EntriesPrefetched { get; set; }
}
