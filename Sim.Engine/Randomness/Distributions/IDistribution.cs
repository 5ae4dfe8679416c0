namespace Sim.Engine.Randomness.Distributions;

/// <summary>
/// A probability distribution that draws only from a given <see cref="RandomStream"/>. The
/// samplers are written in this project so that a draw sequence is fixed by its source code and
/// cannot change with a library upgrade; their correctness is tested against the CDFs of
/// MathNet.Numerics.
/// </summary>
public interface IDistribution
{
    double Mean { get; }

    double Sample(RandomStream stream);
}
