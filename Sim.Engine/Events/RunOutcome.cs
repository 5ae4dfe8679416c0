namespace Sim.Engine.Events;

/// <summary>Why a call to <see cref="Simulator.Run"/> returned.</summary>
public enum RunOutcome
{
    QueueEmpty,
    TimeLimit,
    EventLimit,
    Stopped,
    ConditionFalse,
}
