namespace Sim.Engine.Randomness;

/// <summary>
/// Hands each component its own <see cref="RandomStream"/>, derived only from the scenario seed
/// and a stable hash of the component's path (DESIGN rule 3). A stream's draws therefore do not
/// depend on which other streams exist or in what order they were made: adding a component
/// never changes another's numbers.
/// </summary>
public sealed class RandomStreams
{
    private readonly HashSet<string> _issued;
    private readonly string _prefix;

    public RandomStreams(ulong seed)
        : this(seed, new HashSet<string>(StringComparer.Ordinal), "")
    {
    }

    private RandomStreams(ulong seed, HashSet<string> issued, string prefix) => (Seed, _issued, _prefix) = (seed, issued, prefix);

    public ulong Seed { get; }

    /// <summary>
    /// The stream of the component at <paramref name="path"/> (such as "host.nic0.link").
    /// Each path is issued once, so two components can never share a stream by mistake.
    /// </summary>
    public RandomStream For(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        path = _prefix + path;
        if (!_issued.Add(path))
        {
            throw new InvalidOperationException(
                $"A random stream for '{path}' was already issued; each component path gets one stream.");
        }
        return new RandomStream(DeriveSeed(Seed, path));
    }

    /// <summary>
    /// The streams of the components under <paramref name="prefix"/> (such as "vm1."): each path
    /// asked of it is issued as the prefix followed by the path, from the same seed and the same
    /// record of issued paths, so that the same components in two guests draw different numbers.
    /// </summary>
    public RandomStreams Within(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        return new RandomStreams(Seed, _issued, _prefix + prefix);
    }

    /// <summary>The seed of a path's stream: the scenario seed and the path hash, each mixed, then mixed together.</summary>
    public static ulong DeriveSeed(ulong seed, string path) =>
        SplitMix64.Mix(SplitMix64.Mix(seed) ^ StableHash.Fnv1a64(path));
}
