using Sim.Experiments.Density;
using Sim.Experiments.Scenarios;
using Sim.Experiments.Sweeps;

namespace Sim.Experiments.Tests.Scenarios;

/// <summary>
/// A hostile corpus for the three readers of the project's YAML files (scenario, sweep, density
/// study): each file is refused with a <see cref="ScenarioException"/> that names the file, and
/// the line where there is one, never a crash, a hang or a silent default.
/// </summary>
public class MalformedFilesTests
{
    private static readonly Func<string, object>[] Readers =
    [
        text => ScenarioFile.Parse(text, "bad.yaml"),
        text => Sweep.Parse(text, "bad.yaml", "bad"),
        text => DensityStudy.Parse(text, "bad.yaml", "bad"),
    ];

    /// <summary>What every reader must refuse: the text, and the line the refusal must name (0: none to name).</summary>
    public static TheoryData<string, string, int> Everywhere()
    {
        var random = new Random(7); // the garbage is fixed: the same bytes every run
        byte[] bytes = new byte[2000];
        random.NextBytes(bytes);
        string garbage = new([.. bytes.Select(b => (char)b)]);
        return new()
        {
            { "empty", "", 0 },
            { "only a comment", "# nothing here\n", 0 },
            { "a scalar", "hello\n", 1 },
            { "a list", "- a\n- b\n", 1 },
            { "binary garbage", garbage, -1 },
            { "unclosed quote", "workload: \"gups\n", 1 },
            { "duplicate keys", "base: {}\nbase: {}\n", 2 },
            { "two documents", "seeds: 1\n---\nseeds: 2\n", 3 },
            { "deep flow nesting", "base: " + new string('[', 100_000) + new string(']', 100_000) + "\n", 1 },
            { "alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n", 1 },
            { "a huge file", "# " + new string('x', (4 << 20)) + "\n", 0 },
            { "a tab for indentation", "base:\n\tworkload: gups\n", -1 },
        };
    }

    [Theory]
    [MemberData(nameof(Everywhere))]
    public void Every_reader_refuses_it_with_the_file_and_line(string what, string text, int line)
    {
        foreach (Func<string, object> read in Readers)
        {
            var e = Assert.Throws<ScenarioException>(() => read(text));
            Assert.StartsWith("bad.yaml", e.Message, StringComparison.Ordinal);
            if (line > 0)
            {
                Assert.Contains($"line {line}", e.Message, StringComparison.Ordinal);
            }
            else if (line < 0)
            {
                Assert.Matches(@"line \d+", e.Message);
            }
            Assert.True(e.Message.Length < 2000, $"{what}: a message should quote, not repeat, the file");
        }
    }

    /// <summary>What the scenario reader must refuse beyond the rest: misspelt keys, wrong types, values out of range or absurd.</summary>
    [Theory]
    [InlineData("workload: gups\nwrkload: stream\n", 2, "unknown key 'wrkload'")]
    [InlineData("Workload: gups\n", 1, "unknown key 'Workload'")]
    [InlineData("size: 99999999999999999999999\n", 1, "is not a whole number")]
    [InlineData("size: -5\n", 1, "positive whole number")]
    [InlineData("size: 1e3\n", 1, "is not a whole number")]
    [InlineData("seed: 1.5\n", 1, "is not a whole number")]
    [InlineData("repetitions: 2147483648\n", 1, "is not a whole number")]
    [InlineData("request_rate: .inf\nworkload: web\n", 1, "is not a number or none")]
    [InlineData("workload: web\nrequest_rate: 1e300\n", 2, "less than a billion")]
    [InlineData("container_cpus: .nan\npreset: oslevel\n", 1, "is not a number or none")]
    [InlineData("guests: [1, 2]\n", 1, "takes a single value")]
    [InlineData("profile: {name: p4}\n", 1, "takes a single value")]
    [InlineData("inline_emulation: yes\n", 1, "true or false")]
    [InlineData("guest_memory_mib: 0x200\n", 1, "is not a whole number")]
    [InlineData("host_memory_mib: 1e9\n", 1, "is not a whole number or none")]
    [InlineData("workload: stream\nsize: 4000000000000000000\n", 0, "touches")]
    public void The_scenario_reader_refuses_wrong_keys_types_and_values(string yaml, int line, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Parse(yaml, "bad.yaml"));
        Assert.StartsWith("bad.yaml", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        if (line > 0)
        {
            Assert.Contains($"line {line}", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_value_too_long_to_quote_is_refused_by_its_length()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Parse("workload: " + new string('x', 100_000) + "\n", "bad.yaml"));
        Assert.Contains("line 1: workload: a value of 100000 characters", e.Message, StringComparison.Ordinal);
    }
}
