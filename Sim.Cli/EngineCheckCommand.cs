using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sim.Engine.Time;
using Sim.Engine.Tracing;
using Sim.Experiments;
using Sim.Experiments.EngineDemo;
using Sim.Experiments.Output;

namespace Sim.Cli;

/// <summary>
/// <c>virtsim engine-check</c>: the event engine checked against theory. An M/M/c station runs
/// over several seeds and its waits, queue length and server use are printed beside the exact
/// Erlang C values with 95% intervals; a results folder is written. CI runs it on every change.
/// </summary>
internal static class EngineCheckCommand
{
    private const string DefaultOut = "runs/engine-check";

    public static Command Build()
    {
        var defaults = new EngineDemoScenario();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the first repetition; repetition i uses seed + i.", DefaultValueFactory = _ => defaults.Seed };
        var repetitions = new Option<int>("--repetitions") { Description = "Independent runs to average (1-10000).", DefaultValueFactory = _ => defaults.Repetitions };
        var servers = new Option<int>("--servers") { Description = "Servers of the station.", DefaultValueFactory = _ => defaults.Servers };
        var utilization = new Option<double>("--utilization") { Description = "Offered load per server, strictly between 0 and 1.", DefaultValueFactory = _ => defaults.Utilization };
        var serviceUs = new Option<ulong>("--service-us") { Description = "Mean service time in microseconds.", DefaultValueFactory = _ => (ulong)defaults.MeanServiceTime.TotalMicroseconds };
        var durationMs = new Option<ulong>("--duration-ms") { Description = "Simulated time measured per repetition, in milliseconds.", DefaultValueFactory = _ => (ulong)(defaults.Duration.TotalSeconds * 1000) };
        var warmupMs = new Option<ulong>("--warmup-ms") { Description = "Simulated warm-up before measuring, in milliseconds.", DefaultValueFactory = _ => (ulong)(defaults.WarmUp.TotalSeconds * 1000) };
        var trace = new Option<int>("--trace") { Description = "Keep the last N trace records of the first repetition and write trace.json (Perfetto / chrome://tracing). 0: off.", DefaultValueFactory = _ => 0 };
        var threads = RunCommand.ThreadsOption("Repetitions run in parallel on this many threads; results do not depend on it.");
        var output = new Option<string?>("--out") { Description = $"Results folder to write (default {DefaultOut}, replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var command = new Command("engine-check", "Check the event engine against theory: an M/M/c queueing station over several seeds beside the exact Erlang C values.")
        {
            seed, repetitions, servers, utilization, serviceUs, durationMs, warmupMs, trace, threads, output, force,
        };
        command.SetAction(parse =>
        {
            if (RunCommand.ThreadsProblem(parse.GetValue(threads)) is { } problem)
            {
                return Fail(problem);
            }
            var scenario = new EngineDemoScenario
            {
                Seed = parse.GetValue(seed),
                Repetitions = parse.GetValue(repetitions),
                Servers = parse.GetValue(servers),
                Utilization = parse.GetValue(utilization),
                MeanServiceTime = Tick.FromMicroseconds(parse.GetValue(serviceUs)),
                Duration = Tick.FromMilliseconds(parse.GetValue(durationMs)),
                WarmUp = Tick.FromMilliseconds(parse.GetValue(warmupMs)),
                TraceCapacity = parse.GetValue(trace),
            };
            string? outDir = parse.GetValue(output);
            return Execute(scenario, outDir ?? DefaultOut, replace: outDir is null || parse.GetValue(force), parse.GetValue(threads));
        });
        return command;
    }

    private static int Execute(EngineDemoScenario scenario, string outDir, bool replace, int threads)
    {
        try
        {
            scenario.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            return Fail(e.Message.Split(" (Parameter")[0]);
        }
        var wall = Stopwatch.StartNew();
        EngineDemoReport? report = null;
        string written;
        try
        {
            written = ResultsFolder.Produce(outDir, replace, folder =>
            {
                DateTimeOffset started = DateTimeOffset.UtcNow; // for the manifest only: results never see the wall clock
                IReadOnlyList<RunResult> runs = EngineDemoRun.RunAll(scenario, threads, done =>
                    Console.Error.WriteLine($"  repetition {done}/{scenario.Repetitions} done"));
                wall.Stop();
                report = EngineDemoReport.Build(scenario, runs);
                folder.WriteText("stats.csv", w => StatsCsv.Write(w, runs));
                folder.WriteText("summary.csv", w => SummaryCsv.Write(w, runs));
                folder.WriteText("report.md", w => w.Write(report.ToMarkdown()));
                string resolved = ScenarioJson(scenario);
                folder.WriteText("scenario.json", w => w.Write(resolved));
                (string version, string commit) = VersionCommand.ProgramVersion();
                folder.WriteText("manifest.json", w => w.Write(Manifest.Json(version, commit, scenario.Seed, resolved, started, DateTimeOffset.UtcNow)));
                if (runs[0].Trace is TraceRecorder recorder)
                {
                    folder.WriteBinary("trace.json", s => ChromeTraceWriter.Write(recorder, s));
                }
            });
        }
        catch (IOException e)
        {
            return Fail(e.Message);
        }
        Console.WriteLine(report!.ToMarkdown());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.EventsProcessed:N0} events in {wall.Elapsed.TotalSeconds:0.00} s of wall time ({report.EventsProcessed / Math.Max(wall.Elapsed.TotalSeconds, 1e-9) / 1e6:0.0} M events/s on {Math.Max(1, threads)} threads)."));
        Console.WriteLine($"Results: {written}");
        return 0;
    }

    /// <summary>The fully resolved scenario, times in picoseconds, so the run can be repeated exactly.</summary>
    private static string ScenarioJson(EngineDemoScenario s) => JsonText.Of(new Dictionary<string, object>
    {
        ["kind"] = "engine-demo",
        ["seed"] = s.Seed,
        ["repetitions"] = s.Repetitions,
        ["servers"] = s.Servers,
        ["utilization"] = s.Utilization,
        ["mean_service_time_ps"] = s.MeanServiceTime.Picoseconds,
        ["warm_up_ps"] = s.WarmUp.Picoseconds,
        ["duration_ps"] = s.Duration.Picoseconds,
        ["trace_capacity"] = s.TraceCapacity,
    });

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim engine-check: {message}");
        return 2;
    }
}
