namespace Sim.Engine.Randomness.Distributions;

/// <summary>
/// Zipf over the ranks 1..N with P(k) proportional to k^-s (s &gt; 0), sampled by
/// rejection-inversion (Hörmann and Derflinger, "Rejection-inversion to generate variates from
/// monotone discrete distributions", ACM TOMACS 6(3), 1996): O(1) memory and expected time for
/// any N, which matters for page- and key-popularity models with millions of ranks.
/// </summary>
public sealed class Zipf : IDistribution
{
    private readonly double _hIntegralX1;
    private readonly double _hIntegralN;
    private readonly double _squeeze;

    public Zipf(long elements, double exponent)
    {
        if (elements < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(elements), elements, "Zipf needs at least one element.");
        }
        if (!double.IsFinite(exponent) || exponent <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "The Zipf exponent must be finite and positive.");
        }
        Elements = elements;
        Exponent = exponent;
        _hIntegralX1 = HIntegral(1.5) - 1.0;
        _hIntegralN = HIntegral(elements + 0.5);
        _squeeze = 2.0 - HIntegralInverse(HIntegral(2.5) - H(2.0));
        Mean = ComputeMean();
    }

    public long Elements { get; }

    public double Exponent { get; }

    public double Mean { get; }

    public double Sample(RandomStream stream) => SampleRank(stream);

    /// <summary>A rank in [1, N]; rank 1 is the most popular.</summary>
    public long SampleRank(RandomStream stream)
    {
        while (true)
        {
            double u = _hIntegralN + (stream.NextDouble() * (_hIntegralX1 - _hIntegralN));
            double x = HIntegralInverse(u);
            long k = Math.Clamp((long)(x + 0.5), 1, Elements);
            if (k - x <= _squeeze || u >= HIntegral(k + 0.5) - H(k))
            {
                return k;
            }
        }
    }

    // h(x) = x^-s, the unnormalised density; H its integral, (x^(1-s) - 1) / (1 - s), written
    // with expm1/log1p helpers so that it stays exact as s approaches 1 (where H = ln x).
    private double H(double x) => Math.Exp(-Exponent * Math.Log(x));

    private double HIntegral(double x)
    {
        double logX = Math.Log(x);
        return ExpM1OverX((1.0 - Exponent) * logX) * logX;
    }

    private double HIntegralInverse(double x)
    {
        double t = Math.Max(x * (1.0 - Exponent), -1.0);
        return Math.Exp(Log1POverX(t) * x);
    }

    private static double ExpM1OverX(double x) =>
        Math.Abs(x) > 1e-8 ? double.ExpM1(x) / x : 1.0 + (x * 0.5 * (1.0 + (x / 3.0 * (1.0 + (x * 0.25)))));

    private static double Log1POverX(double x) =>
        Math.Abs(x) > 1e-8 ? double.LogP1(x) / x : 1.0 - (x * ((1.0 / 2.0) - (x * ((1.0 / 3.0) - (x * 0.25)))));

    // Exact for modest N; for large N the tail sum is replaced by its integral (Euler-Maclaurin
    // to first order), which is within 1e-6 relative for N above the cut-off.
    private double ComputeMean()
    {
        const long DirectTerms = 100_000;
        double num = 0, den = 0;
        long direct = Math.Min(Elements, DirectTerms);
        for (long k = 1; k <= direct; k++)
        {
            double p = Math.Pow(k, -Exponent);
            num += k * p;
            den += p;
        }
        if (Elements > DirectTerms)
        {
            double a = DirectTerms + 0.5, b = Elements + 0.5;
            den += IntegralOfPower(-Exponent, a, b);
            num += IntegralOfPower(1.0 - Exponent, a, b);
        }
        return num / den;
    }

    private static double IntegralOfPower(double power, double a, double b) =>
        Math.Abs(power + 1.0) < 1e-12 ? Math.Log(b / a) : (Math.Pow(b, power + 1.0) - Math.Pow(a, power + 1.0)) / (power + 1.0);
}
