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
