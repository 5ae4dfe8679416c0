using Sim.Experiments.Scenarios;
using Sim.Experiments.Validation;

namespace Sim.Experiments.Tests.Validation;

/// <summary>The validation suite's files: read strictly, measured as they say, judged against their tolerance.</summary>
public class ValidationSuiteTests
{
    private const string CallRet = """
        id: callret
        group: calibration
        quantity: call/ret, native
        published: 11
        unit: cycles
        source: "[AA06] Figure 4"
        tolerance: 0.15
        justification: the calibration agreement
        measure: nanobench
        conditions:
          workload: callret
          size: 100
          profile: p4-672
        """;

    [Fact]
    public void A_file_becomes_an_experiment_whose_error_is_relative_to_the_published_value()
    {
        ReferenceExperiment e = ValidationSuite.Parse(CallRet, "callret.yaml");
        Assert.Equal(("callret", TargetGroup.Calibration, 11.0, MeasureKind.CyclesPerOperation), (e.Id, e.Group, e.Published, e.Measure.Kind));
        Assert.Equal("p4-672", e.Conditions.Profile);
        Assert.Equal(0.1, e.ErrorOf(12.1), 9);
        Assert.True(e.Within(12.6));
        Assert.False(e.Within(12.7));
        Assert.Equal(MeasureKind.ExitCycles, Measure.Parse("exit_cycles:ApicAccess", 1)!.Kind);
        Assert.Null(Measure.Parse("exit_cycles:Nonsense", 1));
        Assert.Equal(new Measure(MeasureKind.FigureOfMerit, Figure: "system_time_share"), Measure.Parse("figure:system_time_share", 1));
        Assert.Null(Measure.Parse("figure:", 1));
    }

    [Theory]
    [InlineData("colour: red", "unknown key 'colour'")]
    [InlineData("group: folklore", "neither calibration")]
    [InlineData("published: many", "published: 'many' is not a positive number")]
    [InlineData("tolerance: -0.1", "tolerance: '-0.1' is not a positive number")]
    [InlineData("measure: vibes", "is not one of: nanobench")]
    public void A_wrong_key_or_value_is_refused_with_the_file_and_line(string replacement, string expected)
    {
        string key = replacement.Split(':')[0];
        string text = CallRet.Contains(key + ":", StringComparison.Ordinal)
            ? string.Join('\n', CallRet.Split('\n').Select(l => l.StartsWith(key + ":", StringComparison.Ordinal) ? replacement : l))
            : CallRet + "\n" + replacement;
        var e = Assert.Throws<ScenarioException>(() => ValidationSuite.Parse(text, "bad.yaml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("bad.yaml", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_keys_bad_conditions_and_a_nanobench_of_something_else_are_refused()
    {
        Assert.Contains("'justification' is missing",
            Assert.Throws<ScenarioException>(() => ValidationSuite.Parse(CallRet.Replace("justification: the calibration agreement\n", "", StringComparison.Ordinal), "a.yaml")).Message,
            StringComparison.Ordinal);
        Assert.Contains("(conditions), line 12: size: size must be a positive whole number",
            Assert.Throws<ScenarioException>(() => ValidationSuite.Parse(CallRet.Replace("size: 100", "size: 0", StringComparison.Ordinal), "b.yaml")).Message,
            StringComparison.Ordinal);
        Assert.Contains("measure nanobench needs a nanobenchmark",
            Assert.Throws<ScenarioException>(() => ValidationSuite.Parse(CallRet.Replace("workload: callret", "workload: forkwait", StringComparison.Ordinal), "c.yaml")).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_suite_with_two_experiments_of_one_id_is_refused()
    {
        string folder = Path.Combine(Path.GetTempPath(), "virtsim-suite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "a.yaml"), CallRet);
            File.WriteAllText(Path.Combine(folder, "b.yaml"), CallRet);
            Assert.Contains("id 'callret' is already used", Assert.Throws<ScenarioException>(() => ValidationSuite.Load(folder)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_simulated_values_do_not_depend_on_the_thread_count()
    {
        ReferenceExperiment callret = ValidationSuite.Parse(CallRet, "callret.yaml");
        ReferenceExperiment syscall = ValidationSuite.Parse(CallRet.Replace("callret", "syscall", StringComparison.Ordinal), "syscall.yaml");
        IReadOnlyList<ValidationResult> one = ValidationRun.RunAll([callret, syscall], threads: 1);
        IReadOnlyList<ValidationResult> two = ValidationRun.RunAll([callret, syscall], threads: 2);
        Assert.Equal(one.Select(r => r.Simulated), two.Select(r => r.Simulated));
        Assert.Equal(["callret", "syscall"], two.Select(r => r.Experiment.Id));
        Assert.Equal(11, one[0].Simulated, 0.5); // the calibrated call/return pair
    }
}
