namespace Sim.Models.Hardware;

/// <summary>
/// Size, associativity, line size and load-to-use latency of one cache. The latency is the
/// total from the issue of a load to the data, as the optimization manuals give it (a level's
/// latency includes the levels above it).
/// </summary>
public sealed record CacheGeometry(string Name, int SizeBytes, int Ways, int LineBytes, int LatencyCycles)
{
    public int Sets => SizeBytes / (Ways * LineBytes);

    public void Validate()
    {
        if (SizeBytes <= 0 || Ways <= 0 || LineBytes <= 0 || LatencyCycles < 0)
        {
            throw new ArgumentOutOfRangeException(Name, "Cache size, ways and line size must be positive and the latency non-negative.");
        }
        if (!int.IsPow2(LineBytes) || SizeBytes % (Ways * LineBytes) != 0)
        {
            throw new ArgumentException($"Cache {Name}: the line size must be a power of two and the size a whole number of sets ({SizeBytes} B / ({Ways} ways x {LineBytes} B)).");
        }
    }
}
