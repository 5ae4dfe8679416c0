namespace Sim.Engine.Events;

/// <summary>
/// Named priorities for events that fall on the same tick; a lower value runs first. After
/// gem5's <c>Event::Priority</c>: each level exists for a reason, given beside it. Any value
/// in [<see cref="Minimum"/>, <see cref="Maximum"/>] is allowed; among equal (tick, priority)
/// events, the one scheduled first runs first.
/// </summary>
public static class EventPriority
{
    public const int Minimum = -128;
    public const int Maximum = 127;

    /// <summary>Device state changes (a DMA completing, a register latching) happen before anyone samples them.</summary>
    public const int DeviceUpdate = -50;

    /// <summary>Interrupt lines are raised after device updates and before CPUs decide what to run.</summary>
    public const int Interrupt = -20;

    /// <summary>The default for ordinary component events.</summary>
    public const int Default = 0;

    /// <summary>CPUs resume their instruction streams after every same-tick state change is visible.</summary>
    public const int CpuTick = 20;

    /// <summary>Statistics samples and dumps see the state left by every other event of the tick.</summary>
    public const int Statistics = 90;

    /// <summary>Ending the simulation comes last, so no event of the final tick is lost.</summary>
    public const int Exit = 100;
}
