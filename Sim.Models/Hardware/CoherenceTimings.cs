namespace Sim.Models.Hardware;

/// <summary>
/// What keeping the cores' private caches coherent costs on one part, as load-to-use cycles of
/// the access that needs another core's cache, and what crossing the socket interconnect adds.
/// </summary>
/// <param name="SnoopCycles">A last-level hit on a line another core of the socket may hold clean: the LLC snoops (or invalidates) that core before it answers.</param>
/// <param name="ModifiedTransferCycles">A line modified in another core of the same socket: that core writes it back and forwards it.</param>
/// <param name="RemoteCacheCycles">A line held by a core of the other socket, forwarded (or invalidated) over the interconnect.</param>
/// <param name="RemoteDramExtraCycles">What a line from the other socket's memory costs beyond one from local memory.</param>
/// <param name="InterconnectBytesPerSecond">The socket interconnect's bandwidth in each direction.</param>
public sealed record CoherenceTimings(int SnoopCycles, int ModifiedTransferCycles, int RemoteCacheCycles, int RemoteDramExtraCycles, double InterconnectBytesPerSecond)
{
    public void Validate(string profile)
    {
        if (SnoopCycles <= 0 || ModifiedTransferCycles <= 0 || RemoteCacheCycles <= 0 || RemoteDramExtraCycles < 0 || InterconnectBytesPerSecond <= 0)
        {
            throw new ArgumentException($"Profile {profile}: coherence costs must be positive (got {this}).");
        }
    }
}
