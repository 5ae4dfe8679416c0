using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Experiments.Output;

namespace Sim.Experiments.Tests.Output;

public class CsvTests
{
    private static RunResult Run(string id, ulong seed, double value) => new(id, seed,
        [new StatSample("host.cpu0", "cycles::user", value, "cycles"), new StatSample("host.cpu0", "ipc", 0.1 + value, "ratio")],
        10, Tick.Zero, null);

    [Fact]
    public void Stats_are_long_format_with_invariant_numbers_and_unix_line_ends()
    {
        var text = new StringWriter();
        StatsCsv.Write(text, [Run("seed1", 1, 1234567.5)]);
        Assert.Equal(
            "run,seed,path,statistic,value,unit\n" +
            "seed1,1,host.cpu0,cycles::user,1234567.5,cycles\n" +
            "seed1,1,host.cpu0,ipc,1234567.6,ratio\n",
            text.ToString());
    }

    [Fact]
    public void Summary_gives_mean_deviation_and_interval_per_statistic()
    {
        var text = new StringWriter();
        SummaryCsv.Write(text, [Run("a", 1, 1), Run("b", 2, 2), Run("c", 3, 3)]);
        string[] lines = text.ToString().Split('\n');
        Assert.Equal("path,statistic,unit,runs,mean,std_dev,ci95_low,ci95_high,note", lines[0]);
        string[] first = lines[1].Split(',');
        Assert.Equal(["host.cpu0", "cycles::user", "cycles", "3", "2", "1"], first[..6]);
        // t(0.975, 2) = 4.302653; half width 4.302653 * 1 / sqrt(3) = 2.484138.
        Assert.Equal(2 - 2.484138, double.Parse(first[6], System.Globalization.CultureInfo.InvariantCulture), 5);
    }

    [Fact]
    public void One_run_has_no_interval_and_says_so_with_empty_cells()
    {
        var text = new StringWriter();
        SummaryCsv.Write(text, [Run("a", 1, 5)]);
        Assert.EndsWith(",1,5,,,,one run: no interval", text.ToString().Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public void An_interval_of_zero_width_says_the_seed_changed_nothing()
    {
        var text = new StringWriter();
        SummaryCsv.Write(text, [Run("a", 1, 7), Run("b", 2, 7)]);
        Assert.EndsWith(",2,7,0,7,7,zero width: every seed gave the same value (it depends on no random draw)", text.ToString().Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Runs_with_different_statistics_cannot_be_summarised()
    {
        var odd = new RunResult("x", 9, [new StatSample("other", "n", 1, "count"), new StatSample("host.cpu0", "ipc", 1, "ratio")], 1, Tick.Zero, null);
        Assert.Throws<InvalidOperationException>(() => SummaryCsv.Summarise([Run("a", 1, 1), odd]));
    }
}
