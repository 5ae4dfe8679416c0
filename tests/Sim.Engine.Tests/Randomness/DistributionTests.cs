using Sim.Engine.Randomness;
using Sim.Engine.Randomness.Distributions;
using MathNetDist = MathNet.Numerics.Distributions;

namespace Sim.Engine.Tests.Randomness;

/// <summary>
/// Each sampler against the CDF or probability mass of MathNet.Numerics: a Kolmogorov-Smirnov
/// test for the continuous ones, chi-square for the discrete ones, at a 0.1% level. The seeds
/// are fixed, so these tests are deterministic: they fail only if a sampler is wrong.
/// </summary>
public class DistributionTests
{
    private const int Samples = 20_000;

    public static TheoryData<string> Continuous => ["uniform", "exponential", "normal", "lognormal"];

    [Theory]
    [MemberData(nameof(Continuous))]
    public void Continuous_samplers_follow_their_CDF(string name)
    {
        (IDistribution d, Func<double, double> cdf) = name switch
        {
            "uniform" => ((IDistribution)new Uniform(2, 5), (Func<double, double>)(x => MathNetDist.ContinuousUniform.CDF(2, 5, x))),
            "exponential" => (new Exponential(3.0), x => MathNetDist.Exponential.CDF(1.0 / 3.0, x)),
            "normal" => (new Normal(10, 2), x => MathNetDist.Normal.CDF(10, 2, x)),
            _ => (new LogNormal(1.0, 0.5), x => MathNetDist.LogNormal.CDF(1.0, 0.5, x)),
        };
        var stream = new RandomStream(2024);
        var xs = Enumerable.Range(0, Samples).Select(_ => d.Sample(stream)).Order().ToArray();
        double ks = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double f = cdf(xs[i]);
            ks = Math.Max(ks, Math.Max(f - ((double)i / xs.Length), ((i + 1.0) / xs.Length) - f));
        }
        Assert.True(ks < 1.95 / Math.Sqrt(Samples), $"{name}: KS statistic {ks}");
        Assert.Equal(d.Mean, xs.Average(), d.Mean * 0.03);
    }

    [Theory]
    [InlineData(50, 1.1)]
    [InlineData(50, 1.0)] // the exponent where the closed form needs its limit
    [InlineData(1_000, 0.8)]
    public void Zipf_follows_its_probability_mass(long n, double s)
    {
        var zipf = new Zipf(n, s);
        var stream = new RandomStream(5);
        var counts = new long[n + 1];
        const int Draws = 200_000;
        for (int i = 0; i < Draws; i++)
        {
            long k = zipf.SampleRank(stream);
            Assert.InRange(k, 1, n);
            counts[k]++;
        }
        double norm = Enumerable.Range(1, (int)n).Sum(k => Math.Pow(k, -s));
        // Pool the tail so every expected count is at least 5.
        double chi2 = 0, pooledExpected = 0, pooledObserved = 0;
        int cells = 0;
        for (long k = 1; k <= n; k++)
        {
            double expected = Draws * Math.Pow(k, -s) / norm;
            if (expected >= 5)
            {
                chi2 += Math.Pow(counts[k] - expected, 2) / expected;
                cells++;
            }
            else
            {
                pooledExpected += expected;
                pooledObserved += counts[k];
            }
        }
        if (pooledExpected > 0)
        {
            chi2 += Math.Pow(pooledObserved - pooledExpected, 2) / pooledExpected;
            cells++;
        }
        Assert.True(chi2 < MathNetDist.ChiSquared.InvCDF(cells - 1, 0.999), $"chi2 = {chi2} over {cells} cells");
        double exactMean = Enumerable.Range(1, (int)n).Sum(k => k * Math.Pow(k, -s)) / norm;
        Assert.Equal(exactMean, zipf.Mean, 1e-9);
    }

    [Fact]
    public void Zipf_mean_for_millions_of_ranks_uses_an_accurate_tail()
    {
        // Against a direct sum of all 3 million terms.
        const long N = 3_000_000;
        double num = 0, den = 0;
        for (long k = 1; k <= N; k++)
        {
            double p = Math.Pow(k, -0.99);
            num += k * p;
            den += p;
        }
        Assert.Equal(num / den, new Zipf(N, 0.99).Mean, (num / den) * 1e-5);
    }

    [Fact]
    public void Empirical_draws_values_in_proportion_to_their_weights()
    {
        double[] values = [1, 2, 3, 4];
        double[] weights = [0.1, 0.2, 0.3, 0.4];
        var empirical = new Empirical(values, weights);
        var stream = new RandomStream(11);
        var counts = new Dictionary<double, int>();
        const int Draws = 100_000;
        for (int i = 0; i < Draws; i++)
        {
            double v = empirical.Sample(stream);
            counts[v] = counts.GetValueOrDefault(v) + 1;
        }
        double chi2 = values.Select((v, i) => Math.Pow(counts[v] - (Draws * weights[i]), 2) / (Draws * weights[i])).Sum();
        Assert.True(chi2 < MathNetDist.ChiSquared.InvCDF(3, 0.999), $"chi2 = {chi2}");
        Assert.Equal(3.0, empirical.Mean, 1e-12);
        Assert.Equal(2.5, new Empirical(values).Mean, 1e-12);
    }

    [Fact]
    public void Impossible_parameters_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Exponential(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Uniform(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Normal(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogNormal(0, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Zipf(0, 1));
        Assert.Throws<ArgumentException>(() => new Empirical([]));
        Assert.Throws<ArgumentException>(() => new Empirical([1, 2], [0, 0]));
        Assert.Throws<ArgumentException>(() => new Empirical([1, 2], [1]));
    }
}
