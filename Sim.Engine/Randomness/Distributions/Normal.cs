namespace Sim.Engine.Randomness.Distributions;

/// <summary>
/// Normal (Gaussian), by the Box-Muller transform using two uniforms per sample and keeping no
/// spare, so a sample never depends on an earlier call.
/// </summary>
public sealed class Normal : IDistribution
{
    public Normal(double mean, double standardDeviation)
    {
        if (!double.IsFinite(mean) || !double.IsFinite(standardDeviation) || standardDeviation <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation),
                $"A normal distribution needs a finite mean and a finite positive standard deviation (got {mean}, {standardDeviation}).");
        }
        Mean = mean;
        StandardDeviation = standardDeviation;
    }

    public double Mean { get; }

    public double StandardDeviation { get; }

    public double Sample(RandomStream stream) => Mean + (StandardDeviation * StandardSample(stream));

    internal static double StandardSample(RandomStream stream)
    {
        double u1 = 1.0 - stream.NextDouble(); // (0, 1]: the logarithm is finite
        double u2 = stream.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
