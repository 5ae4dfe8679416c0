namespace Sim.Engine.Randomness.Distributions;

/// <summary>Log-normal: exp(N(Mu, Sigma)), with Mu and Sigma the parameters of the underlying normal.</summary>
public sealed class LogNormal : IDistribution
{
    public LogNormal(double mu, double sigma)
    {
        if (!double.IsFinite(mu) || !double.IsFinite(sigma) || sigma <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sigma),
                $"A log-normal distribution needs a finite mu and a finite positive sigma (got {mu}, {sigma}).");
        }
        Mu = mu;
        Sigma = sigma;
    }

    public double Mu { get; }

    public double Sigma { get; }

    public double Mean => Math.Exp(Mu + (Sigma * Sigma / 2));

    public double Sample(RandomStream stream) => Math.Exp(Mu + (Sigma * Normal.StandardSample(stream)));
}
