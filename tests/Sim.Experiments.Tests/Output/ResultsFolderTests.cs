using Sim.Experiments.Output;

namespace Sim.Experiments.Tests.Output;

public sealed class ResultsFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "virtsim-results-" + Guid.NewGuid().ToString("N"));

    public ResultsFolderTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Nothing_appears_under_the_target_name_until_commit()
    {
        string target = Path.Combine(_root, "run");
        var folder = ResultsFolder.Begin(target, replace: false);
        folder.WriteText("a.csv", w => w.Write("x\n"));
        Assert.False(Directory.Exists(target));
        folder.Commit();
        Assert.Equal("x\n", File.ReadAllText(Path.Combine(target, "a.csv")));
        Assert.Equal([target], Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void A_failure_while_writing_leaves_no_folder_that_looks_complete()
    {
        string target = Path.Combine(_root, "run");
        var folder = ResultsFolder.Begin(target, replace: false);
        folder.WriteText("stats.csv", w => w.Write("partial"));
        Assert.Throws<InvalidOperationException>(() => folder.WriteText("report.md", _ => throw new InvalidOperationException("boom")));
        folder.Abandon();
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void A_leftover_staging_folder_of_an_interrupted_run_is_cleared()
    {
        string target = Path.Combine(_root, "run");
        Directory.CreateDirectory(Path.Combine(_root, ".run.partial"));
        File.WriteAllText(Path.Combine(_root, ".run.partial", "old.csv"), "stale");
        var folder = ResultsFolder.Begin(target, replace: false);
        folder.WriteText("new.csv", w => w.Write("fresh"));
        folder.Commit();
        Assert.Equal(["new.csv"], Directory.GetFiles(target).Select(Path.GetFileName));
    }

    [Fact]
    public void A_second_writer_of_the_same_target_is_refused_until_the_first_lets_go()
    {
        string target = Path.Combine(_root, "run");
        var first = ResultsFolder.Begin(target, replace: true);
        var refused = Assert.Throws<ResultsFolderException>(() => ResultsFolder.Begin(target, replace: true));
        Assert.Contains("another virtsim process is writing", refused.Message, StringComparison.Ordinal);
        first.WriteText("a.csv", w => w.Write("first"));
        first.Commit();
        var second = ResultsFolder.Begin(target, replace: true);
        second.Abandon();
        Assert.Equal("first", File.ReadAllText(Path.Combine(target, "a.csv")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("/")]
    public void A_target_that_names_no_folder_is_refused_clearly(string target)
    {
        var e = Assert.Throws<ResultsFolderException>(() => ResultsFolder.Begin(target, replace: true));
        Assert.DoesNotContain("Parameter", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_under_a_folder_that_cannot_be_written_is_refused_clearly()
    {
        var e = Assert.Throws<ResultsFolderException>(() => ResultsFolder.Begin("/proc/virtsim-cannot-be-here/x", replace: true));
        Assert.Contains("cannot write the results folder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_existing_target_is_kept_unless_replacing()
    {
        string target = Path.Combine(_root, "run");
        Directory.CreateDirectory(target);
        Assert.Throws<ResultsFolderException>(() => ResultsFolder.Begin(target, replace: false));
        var folder = ResultsFolder.Begin(target, replace: true);
        folder.WriteText("b.csv", w => w.Write("y"));
        folder.Commit();
        Assert.True(File.Exists(Path.Combine(target, "b.csv")));
    }

    [Fact]
    public void File_names_cannot_escape_the_folder()
    {
        var folder = ResultsFolder.Begin(Path.Combine(_root, "run"), replace: false);
        Assert.Throws<ArgumentException>(() => folder.WriteText("../evil.csv", _ => { }));
        folder.Abandon();
    }
}
