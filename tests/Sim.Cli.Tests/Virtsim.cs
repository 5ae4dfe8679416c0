using System.Diagnostics;

namespace Sim.Cli.Tests;

/// <summary>Runs the built program in its own process, as a user would.</summary>
internal static class Virtsim
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        Dotnet(Environment.CurrentDirectory, [Path.Combine(AppContext.BaseDirectory, "virtsim.dll"), .. args]);

    /// <summary>Starts the built program with <paramref name="args"/> and returns at once; its output is discarded.</summary>
    public static Process Start(params string[] args) => Start(null, args);

    /// <summary>Starts the built program with <paramref name="args"/> and returns at once; each line it prints goes to <paramref name="printed"/>, if given.</summary>
    public static Process Start(Action<string>? printed, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Environment.CurrentDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "virtsim.dll"), .. args])
        {
            start.ArgumentList.Add(a);
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                printed?.Invoke(line);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in <paramref name="folder"/>; its exit code and what it printed.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Dotnet(string folder, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>A fresh folder under the system's temporary folder, removed when the test process ends.</summary>
    public static string TempFolder()
    {
        string path = Path.Combine(TestRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static readonly Lazy<string> TestRoot = new(() =>
    {
        string root = Path.Combine(Path.GetTempPath(), "virtsim-tests-" + Environment.ProcessId);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        };
        return root;
    });
}
