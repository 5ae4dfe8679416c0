using MathNet.Numerics.Distributions;

namespace Sim.Engine.Statistics;

/// <summary>
/// A statistic summarised over independent repetitions of a run (different seeds): mean,
/// sample standard deviation, and the two-sided Student-t confidence interval of the mean.
/// With one repetition the deviation and interval are undefined (NaN).
/// </summary>
public readonly record struct ReplicationSummary(
    int Count, double Mean, double StandardDeviation, double ConfidenceLevel, double HalfWidth)
{
    public double Lower => Mean - HalfWidth;

    public double Upper => Mean + HalfWidth;

    public static ReplicationSummary Of(IReadOnlyList<double> values, double confidenceLevel = 0.95)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException("A summary needs at least one value.", nameof(values));
        }
        if (confidenceLevel is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidenceLevel), confidenceLevel, "The confidence level lies in (0, 1).");
        }
        double mean = MathNet.Numerics.Statistics.Statistics.Mean(values);
        if (values.Count == 1)
        {
            return new ReplicationSummary(1, mean, double.NaN, confidenceLevel, double.NaN);
        }
        double sd = MathNet.Numerics.Statistics.Statistics.StandardDeviation(values);
        double t = StudentT.InvCDF(0.0, 1.0, values.Count - 1, 1.0 - ((1.0 - confidenceLevel) / 2.0));
        return new ReplicationSummary(values.Count, mean, sd, confidenceLevel, t * sd / Math.Sqrt(values.Count));
    }
}
