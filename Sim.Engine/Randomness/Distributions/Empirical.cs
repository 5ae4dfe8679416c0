namespace Sim.Engine.Randomness.Distributions;

/// <summary>
/// An empirical (observed) distribution: draws one of the given values with probability
/// proportional to its weight (equal weights when none are given, as for resampling measured
/// data). O(1) per draw by Walker's alias method in Vose's numerically stable construction
/// (Vose, IEEE TSE 17(9), 1991).
/// </summary>
public sealed class Empirical : IDistribution
{
    private readonly double[] _values;
    private readonly double[] _acceptProbability;
    private readonly int[] _alias;

    public Empirical(IReadOnlyList<double> values, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        int n = values.Count;
        if (n == 0)
        {
            throw new ArgumentException("An empirical distribution needs at least one value.", nameof(values));
        }
        if (weights is not null && weights.Count != n)
        {
            throw new ArgumentException($"{weights.Count} weights were given for {n} values.", nameof(weights));
        }
        _values = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double w = weights?[i] ?? 1.0;
            if (!double.IsFinite(values[i]) || !double.IsFinite(w) || w < 0)
            {
                throw new ArgumentException($"Value {i} ({values[i]}) must be finite and its weight ({w}) finite and non-negative.");
            }
            _values[i] = values[i];
            total += w;
        }
        if (total <= 0)
        {
            throw new ArgumentException("The weights sum to zero.", nameof(weights));
        }
        double mean = 0;
        var scaled = new double[n];
        for (int i = 0; i < n; i++)
        {
            double p = (weights?[i] ?? 1.0) / total;
            mean += p * _values[i];
            scaled[i] = p * n;
        }
        Mean = mean;
        (_acceptProbability, _alias) = BuildAliasTable(scaled);
    }

    public double Mean { get; }

    public double Sample(RandomStream stream)
    {
        int column = (int)stream.NextBelow((ulong)_values.Length);
        return stream.NextDouble() < _acceptProbability[column] ? _values[column] : _values[_alias[column]];
    }

    private static (double[] Accept, int[] Alias) BuildAliasTable(double[] scaled)
    {
        int n = scaled.Length;
        var accept = new double[n];
        var alias = new int[n];
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (int i = n - 1; i >= 0; i--)
        {
            (scaled[i] < 1.0 ? small : large).Push(i);
        }
        while (small.Count > 0 && large.Count > 0)
        {
            int s = small.Pop(), l = large.Pop();
            accept[s] = scaled[s];
            alias[s] = l;
            scaled[l] = scaled[l] + scaled[s] - 1.0;
            (scaled[l] < 1.0 ? small : large).Push(l);
        }
        // What remains is 1 up to rounding.
        while (large.Count > 0)
        {
            accept[large.Pop()] = 1.0;
        }
        while (small.Count > 0)
        {
            accept[small.Pop()] = 1.0;
        }
        return (accept, alias);
    }
}
