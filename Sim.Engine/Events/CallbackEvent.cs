namespace Sim.Engine.Events;

/// <summary>An event that runs a delegate, created once by its owner and rescheduled at will.</summary>
public sealed class CallbackEvent : Event
{
    private readonly Action _callback;
    private readonly string _name;

    public CallbackEvent(string name, Action callback, int priority = EventPriority.Default)
        : base(priority)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _callback = callback;
        _name = name;
    }

    public override string Name => _name;

    protected override void Process() => _callback();
}
