using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Sim.Cli;

/// <summary><c>virtsim version</c>: the program version, the commit it was built from, and the runtime.</summary>
internal static class VersionCommand
{
    public static Command Build()
    {
        var command = new Command("version", "Print the program version, its commit and the .NET runtime.");
        command.SetAction(_ =>
        {
            (string version, string commit) = ProgramVersion();
            Console.WriteLine($"virtsim {version}");
            Console.WriteLine($"commit  {commit}");
            Console.WriteLine($"runtime .NET {Environment.Version} on {RuntimeInformation.RuntimeIdentifier}");
            return 0;
        });
        return command;
    }

    /// <summary>The version and commit, from the informational version the SDK stamps as "version+commit".</summary>
    public static (string Version, string Commit) ProgramVersion()
    {
        string informational = typeof(VersionCommand).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, "unknown") : (informational[..plus], informational[(plus + 1)..]);
    }
}
