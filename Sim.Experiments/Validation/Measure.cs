using Sim.Models.Virtualization;

namespace Sim.Experiments.Validation;

/// <summary>What a reference experiment measures in its run.</summary>
public enum MeasureKind
{
    /// <summary>A nanobenchmark's cycles per operation, by differences (<c>NanobenchmarkRunner</c>); the size is the iterations.</summary>
    CyclesPerOperation,

    /// <summary>The workload's simulated seconds, times <see cref="Measure.Scale"/> (a run of 1,000 forks scaled to the paper's 40,000).</summary>
    Seconds,

    /// <summary>Cycles per VM exit of one basic exit reason (exit to entry, handler included).</summary>
    ExitCycles,

    /// <summary>The workload's first figure of merit (a rate, over the benchmark's own timed region) over native's, on the same profile, workload, size and seed: 1 is native speed.</summary>
    RelativePerformance,

    /// <summary>The run's time over native time: 1.03 is 3% slower.</summary>
    RelativeTime,

    /// <summary>One of the run's figures of merit, by name (<see cref="Measure.Figure"/>), as the workload reports it.</summary>
    FigureOfMerit,
}

/// <summary>How a reference experiment's simulated value is taken, as written in its file: nanobench, seconds, exit_cycles:REASON, relative_performance, relative_time.</summary>
public sealed record Measure(MeasureKind Kind, double Scale = 1, ExitReason? Reason = null, string? Figure = null)
{
    public const string Choices = "nanobench, seconds, exit_cycles:REASON (an SDM basic exit reason, as in 'virtsim isa'), relative_performance, relative_time, figure:NAME (a figure of merit the workload reports)";

    /// <summary>Reads <paramref name="text"/>; null when it names no measure.</summary>
    public static Measure? Parse(string text, double scale) => text switch
    {
        "nanobench" => new Measure(MeasureKind.CyclesPerOperation),
        "seconds" => new Measure(MeasureKind.Seconds, scale),
        "relative_performance" => new Measure(MeasureKind.RelativePerformance),
        "relative_time" => new Measure(MeasureKind.RelativeTime),
        _ when text.StartsWith("figure:", StringComparison.Ordinal) && text.Length > "figure:".Length => new Measure(MeasureKind.FigureOfMerit, Figure: text["figure:".Length..]),
        _ when text.StartsWith("exit_cycles:", StringComparison.Ordinal) && Enum.TryParse(text["exit_cycles:".Length..], out ExitReason reason) && Enum.IsDefined(reason)
            => new Measure(MeasureKind.ExitCycles, Reason: reason),
        _ => null,
    };

    public override string ToString() => Kind switch
    {
        MeasureKind.CyclesPerOperation => "nanobench",
        MeasureKind.Seconds => Scale == 1 ? "seconds" : $"seconds x {Scale:G}",
        MeasureKind.ExitCycles => $"exit_cycles:{Reason}",
        MeasureKind.RelativePerformance => "relative_performance",
        MeasureKind.FigureOfMerit => $"figure:{Figure}",
        _ => "relative_time",
    };
}
