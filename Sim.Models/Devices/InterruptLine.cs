using Sim.Engine.Statistics;

namespace Sim.Models.Devices;

/// <summary>
/// A device's level-triggered interrupt line: raised while the device has something to report
/// (its status bits set and enabled), lowered once the driver has acknowledged it. Only changes
/// reach the interrupt controller; each rise is counted. A message-signalled device pulses it
/// instead (<see cref="Pulse"/>): an edge per message.
/// </summary>
public sealed class InterruptLine(Action raise, Action lower, Counter rises)
{
    private bool _up;

    /// <summary>Sets the line to <paramref name="up"/>, telling the controller only of a change. Returns whether it rose.</summary>
    public bool Set(bool up)
    {
        bool rose = up && !_up;
        if (rose)
        {
            rises.Increment();
            raise();
        }
        else if (!up && _up)
        {
            lower();
        }
        _up = up;
        return rose;
    }

    /// <summary>A message-signalled interrupt: an edge of its own (raised and lowered at once), counted as a rise, whatever the level was.</summary>
    public void Pulse()
    {
        rises.Increment();
        raise();
        lower();
        _up = false;
    }
}
