using System.Diagnostics;
using System.Globalization;

namespace Sim.Cli;

/// <summary>
/// Progress of a command's many runs on standard error: how many are done, the elapsed time and
/// the time left (the mean time per run so far times the runs left), on one updating line on a
/// terminal and as plain lines when standard error is redirected (a log, CI). Safe to call from
/// the threads of a parallel loop.
/// </summary>
internal sealed class Progress
{
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly string _label;

    public Progress(string label) => _label = label;

    public TimeSpan Elapsed => _wall.Elapsed;

    private double _lastRunning = -1;

    /// <summary>
    /// One run's liveness, for a run whose end is not known in advance: the simulated time and
    /// events so far, at most once a second of wall time (the engine reports far more often).
    /// </summary>
    public void Running(Engine.Time.Tick simulated, ulong events)
    {
        double now = _wall.Elapsed.TotalSeconds;
        if (now - _lastRunning < 1)
        {
            return;
        }
        _lastRunning = now;
        string line = string.Create(CultureInfo.InvariantCulture, $"{_label}simulated {simulated.Picoseconds / 1e9:N1} ms, {events:N0} events, {now:0} s of wall time");
        lock (Console.Error)
        {
            Console.Error.Write(_terminal ? "\r" + line.PadRight(100) : line + "\n");
        }
    }

    /// <summary>Ends a line <see cref="Running"/> left open on a terminal.</summary>
    public void Finish()
    {
        if (_terminal && _lastRunning >= 0)
        {
            lock (Console.Error)
            {
                Console.Error.Write("\n");
            }
        }
    }

    /// <summary>Reports that <paramref name="done"/> of <paramref name="total"/> are finished, the last being <paramref name="what"/>.</summary>
    public void Report(int done, int total, string what)
    {
        double left = done == 0 ? 0 : _wall.Elapsed.TotalSeconds / done * (total - done);
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{_label}[{done}/{total}] {100.0 * done / Math.Max(1, total):0}%  {what}  {_wall.Elapsed.TotalSeconds:0.0} s, about {TimeSpan.FromSeconds(Math.Round(left)):g} left");
        lock (Console.Error)
        {
            Console.Error.Write(_terminal ? "\r" + line.PadRight(100) + (done == total ? "\n" : "") : line + "\n");
        }
    }
}
