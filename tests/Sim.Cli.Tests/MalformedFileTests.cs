namespace Sim.Cli.Tests;

/// <summary>Malformed files through the commands that read them: a clear refusal (exit code 2, no stack trace) and nothing written.</summary>
public class MalformedFileTests
{
    public static TheoryData<string, string> Files() => new()
    {
        { "deep", "base: " + new string('[', 200_000) + new string(']', 200_000) + "\n" }, // overflowed the YAML reader's stack
        { "garbage", "\u0001\u00ff: [: {\n\u0000" },
        { "bomb", "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n" },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_command_refuses_it_and_writes_nothing(string name, string text)
    {
        string root = Virtsim.TempFolder();
        string file = Path.Combine(root, name + ".yaml");
        File.WriteAllText(file, text);
        foreach (string command in new[] { "run", "sweep", "density" })
        {
            var (code, _, stderr) = Virtsim.Run(command, file, "--out", Path.Combine(root, "out"));
            Assert.Equal(2, code);
            Assert.StartsWith($"virtsim {command}: ", stderr, StringComparison.Ordinal);
            Assert.Contains($"{name}.yaml", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
        Assert.Equal([file], Directory.GetFileSystemEntries(root));
    }
}
