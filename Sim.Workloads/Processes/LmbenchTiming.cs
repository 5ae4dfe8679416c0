using MathNet.Numerics.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Workloads.Processes.ScriptProgram;

namespace Sim.Workloads.Processes;

/// <summary>
/// How an lmbench test times its operations, after lmbench 3's benchmp harness
/// (src/lib_timing.c): the benchmark first runs untimed to warm up (benchmp_child's warmup
/// state), then each of TRIES = 11 repetitions of a constant number of iterations is timed
/// between two clock readings (benchmp_interval), the clock's own overhead (t_overhead) is taken
/// off each, and the median repetition is reported (benchmp_parent: "Compute median time").
/// A run here is <c>Size</c> operations: the first alone between two readings (the cold start,
/// reported on its own), then the warm-up, then the repetitions. The clock's overhead is measured
/// as lmbench measures t_overhead, by timing nothing: the gap between one repetition's closing
/// reading and the next one's opening reading holds one return from and one entry into the clock
/// call, as each repetition does, and the median gap is taken off. lmbench reads the clock
/// through the vDSO; here clock_gettime is a system call (<see cref="LinuxKernel"/>), which this
/// subtraction takes out. The loop's own two instructions stay in (lmbench subtracts them too, as
/// l_overhead; here they are a few cycles of an operation's hundreds).
/// </summary>
internal readonly record struct RepetitionPlan(long Operations, int Repetitions, long PerRepetition)
{
    /// <summary>lmbench's TRIES: benchmp's default number of repetitions (src/lib_timing.c, delta 1.41: "The default is TRIES (11)").</summary>
    public const int Tries = 11;

    /// <summary>The untimed operations between the cold one and the first repetition: a repetition's share and what does not divide evenly.</summary>
    public long Warmup => Operations - 1 - (Repetitions * PerRepetition);

    /// <summary>
    /// The plan for <paramref name="operations"/>: the cold one, then up to 11 repetitions, each
    /// as long as the warm-up before them (at least one operation each); a run of one operation
    /// has only its cold start.
    /// </summary>
    public static RepetitionPlan For(long operations)
    {
        if (operations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(operations), operations, "An lmbench test runs at least one operation.");
        }
        long rest = operations - 1;
        int repetitions = rest == 0 ? 0 : (int)Math.Clamp(rest / 2, 1, Tries);
        long each = repetitions == 0 ? 0 : Math.Max(1, rest / (repetitions + 1));
        return new RepetitionPlan(operations, repetitions, each);
    }

    /// <summary>Whether a clock reading comes before operation <paramref name="i"/>: the cold one's, and each repetition's first.</summary>
    public bool Opens(long i) => i == 0 || (i > Warmup && (i - 1 - Warmup) % PerRepetition == 0);

    /// <summary>Whether a clock reading comes after operation <paramref name="i"/>: the cold one's, and each repetition's last.</summary>
    public bool Closes(long i) => i == 0 || (i > Warmup && (i - Warmup) % PerRepetition == 0);
}

/// <summary>The clock readings an lmbench test took, in nanoseconds: the cold operation's two, then each repetition's two.</summary>
public sealed class LmbenchReadings
{
    private readonly List<long> _nanoseconds = [];

    internal void Add(long nanoseconds) => _nanoseconds.Add(nanoseconds);

    /// <summary>The first operation's time in microseconds, less the clock's overhead, per <paramref name="unit"/> operations; NaN if it was not read.</summary>
    internal double ColdMicroseconds(int unit) => _nanoseconds.Count < 2 ? double.NaN : (_nanoseconds[1] - _nanoseconds[0] - Overhead()) / 1000.0 / unit;

    /// <summary>The median repetition's time in microseconds, less the clock's overhead, per operation of <paramref name="unit"/> per iteration; NaN if no repetition finished.</summary>
    internal double MedianMicroseconds(RepetitionPlan plan, int unit)
    {
        double overhead = Overhead();
        double[] each = [.. Repetitions().Select(r => (r.End - r.Start - overhead) / 1000.0 / (plan.PerRepetition * unit))];
        return each.Length == 0 ? double.NaN : each.Median();
    }

    /// <summary>The clock's overhead in nanoseconds: the median gap between consecutive repetitions' readings; none is known from fewer than two repetitions.</summary>
    private double Overhead()
    {
        var repetitions = Repetitions().ToList();
        return repetitions.Count < 2 ? 0 : repetitions.Zip(repetitions.Skip(1), (a, b) => (double)(b.Start - a.End)).Median();
    }

    private IEnumerable<(long Start, long End)> Repetitions()
    {
        for (int i = 2; i + 1 < _nanoseconds.Count; i += 2)
        {
            yield return (_nanoseconds[i], _nanoseconds[i + 1]);
        }
    }
}

/// <summary>Runs a test's operations with the clock readings of its <see cref="RepetitionPlan"/>.</summary>
internal sealed class LmbenchHarness(RepetitionPlan plan, LmbenchReadings readings)
{
    /// <summary>The operations the test runs in all, timed or not.</summary>
    public long Operations => plan.Operations;

    /// <summary>Every operation's body and the loop's control, with a clock reading where the plan has one; no exit.</summary>
    public IEnumerable<Op> Run(ScriptProgram p, Func<long, IEnumerable<Op>> body)
    {
        for (long i = 0; i < plan.Operations; i++)
        {
            if (plan.Opens(i))
            {
                yield return Call(SyscallNumber.ClockGettime);
                readings.Add(p.LastResult);
            }
            foreach (Op op in body(i))
            {
                yield return op;
            }
            yield return Op.Alu(1);
            yield return Op.Branch(1);
            if (plan.Closes(i))
            {
                yield return Call(SyscallNumber.ClockGettime);
                readings.Add(p.LastResult);
            }
        }
    }

    /// <summary><see cref="Run"/>, then exit.</summary>
    public IEnumerable<Op> RunThenExit(ScriptProgram p, Func<long, IEnumerable<Op>> body) => Run(p, body).Append(Call(SyscallNumber.Exit));
}
