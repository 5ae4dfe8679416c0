namespace Sim.Engine.Randomness.Distributions;

/// <summary>Continuous uniform on [Lower, Upper).</summary>
public sealed class Uniform : IDistribution
{
    public Uniform(double lower, double upper)
    {
        if (!double.IsFinite(lower) || !double.IsFinite(upper) || upper <= lower)
        {
            throw new ArgumentOutOfRangeException(nameof(upper), $"Uniform needs finite bounds with lower < upper (got {lower}, {upper}).");
        }
        Lower = lower;
        Upper = upper;
    }

    public double Lower { get; }

    public double Upper { get; }

    public double Mean => (Lower + Upper) / 2;

    public double Sample(RandomStream stream) => Lower + ((Upper - Lower) * stream.NextDouble());
}
