using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Validation;

/// <summary>Whether a reference figure was used to set parameters (calibration) or never was (validation).</summary>
public enum TargetGroup
{
    /// <summary>Used to set a parameter: agreement shows the calibration holds, not that the model predicts.</summary>
    Calibration,

    /// <summary>Never used to set a parameter: agreement is a prediction that held.</summary>
    Validation,
}

/// <summary>
/// One published result the simulator is compared with: the quantity, its published value and
/// unit, the source (paper, table or figure), the conditions it was measured under (a scenario:
/// profile, preset and axes, workload and size), how the simulated value is measured
/// (<see cref="Measure"/>), and a relative tolerance chosen before the run and justified in one
/// line. Loaded from a file of the suite (<see cref="ValidationSuite"/>).
/// </summary>
public sealed record ReferenceExperiment(
    string Id,
    TargetGroup Group,
    string Quantity,
    double Published,
    string Unit,
    string Source,
    double Tolerance,
    string Justification,
    Measure Measure,
    WorkloadScenario Conditions)
{
    /// <summary>The relative error of <paramref name="simulated"/> against the published value.</summary>
    public double ErrorOf(double simulated) => (simulated - Published) / Published;

    public bool Within(double simulated) => Math.Abs(ErrorOf(simulated)) <= Tolerance;
}
