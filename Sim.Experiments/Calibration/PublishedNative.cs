namespace Sim.Experiments.Calibration;

/// <summary>
/// The native cycles per operation that Adams and Agesen measured on the Pentium 4 672
/// (ASPLOS 2006, Figure 4, native column; as listed in the project's calibration.md). These are
/// calibration targets: the P4 profile's instruction costs were set from them (see
/// docs/calibration.md), so agreement shows the calibration holds, not that the model predicts.
/// </summary>
public static class PublishedNative
{
    public const string Profile = "p4-672";

    public static IReadOnlyDictionary<string, double> Pentium4Cycles { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["syscall"] = 242,
        ["in"] = 3209,
        ["cr8wr"] = 150,
        ["callret"] = 11,
        ["pgfault"] = 1093,
        ["divzero"] = 889,
        ["ptemod"] = 1,
    };

    /// <summary>The agreement the machine issue asks for on every nanobenchmark.</summary>
    public const double Tolerance = 0.15;

    /// <summary>forkwait: 40,000 fork + waitpid, in seconds ([AA06] Figure 4: 6.02 s on the Pentium 4, 2.62 s on the Core 2).</summary>
    public static IReadOnlyDictionary<string, double> ForkWaitSeconds { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["p4-672"] = 6.02,
        ["core2-merom"] = 2.62,
    };

    public const int ForkWaitForks = 40_000;

    /// <summary>The agreement the machine issue asks for on forkwait.</summary>
    public const double ForkWaitTolerance = 0.25;
}
