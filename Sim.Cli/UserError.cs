using Sim.Experiments.Scenarios;

namespace Sim.Cli;

/// <summary>
/// The failures a user can mend (a scenario the machine cannot run, an output folder that cannot
/// be written), told as one line, whether they come alone or from the parallel runs of a command
/// (an <see cref="AggregateException"/>); anything else is a bug and keeps its stack trace.
/// </summary>
internal static class UserError
{
    /// <summary>The message of <paramref name="e"/> if it is the user's to mend, else null.</summary>
    public static string? Of(Exception e) => e switch
    {
        ScenarioException or IOException => e.Message,
        AggregateException many when many.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(x => Of(x) is not null) => Of(inner[0]),
        _ => null,
    };
}
