namespace Sim.Engine.Randomness.Distributions;

/// <summary>Exponential with the given mean, by inversion: -mean * ln(1 - U).</summary>
public sealed class Exponential : IDistribution
{
    public Exponential(double mean)
    {
        if (!double.IsFinite(mean) || mean <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "An exponential distribution needs a finite positive mean.");
        }
        Mean = mean;
    }

    public double Mean { get; }

    // 1 - U lies in (0, 1], so the logarithm is finite.
    public double Sample(RandomStream stream) => -Mean * Math.Log(1.0 - stream.NextDouble());
}
