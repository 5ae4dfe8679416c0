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
/// <c>virtsim run</c>: runs the engine demonstration (an M/M/c station over several seeds),
/// prints the comparison with Erlang C and writes a results folder.
/// </summary>
internal static class RunCommand
{
    private const string DefaultOut = "runs/engine-demo";

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
        var threads = new Option<int>("--threads") { Description = "Repetitions run in parallel on this many threads; results do not depend on it.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string?>("--out") { Description = $"Results folder to write (default {DefaultOut}, replaced on each run)." };
        var force = new Option<bool>("--force") { Description = "Replace the --out folder if it exists." };
        var workload = new Option<string?>("--workload") { Description = "Run this workload on the machine model instead of the engine demonstration (see 'virtsim workloads')." };
        var profile = new Option<string>("--profile") { Description = "Hardware profile for --workload (see 'virtsim profiles').", DefaultValueFactory = _ => "p4-672" };
        var preset = new Option<string>("--preset") { Description = "Virtualization preset for --workload: native, type1, type2, paravirt, oslevel (docs/virtualization.md says which run today).", DefaultValueFactory = _ => "native" };
        var cpu = new Option<string?>("--cpu") { Description = "With --workload: CPU virtualization instead of the preset's (trap-and-emulate, binary-translation, hardware-assist, paravirtual, none)." };
        var mmu = new Option<string?>("--mmu") { Description = "With --workload: MMU virtualization instead of the preset's (native, shadow, nested, direct)." };
        var io = new Option<string?>("--io") { Description = "With --workload: I/O virtualization instead of the preset's (native, emulated, paravirtual, passthrough)." };
        var hosting = new Option<string?>("--hosting") { Description = "With --workload: hosting instead of the preset's (bare-metal, hosted, shared-kernel)." };
        var shadowCacheRoots = new Option<int?>("--shadow-cache-roots") { Description = "With --workload: guest address spaces whose shadow page tables the monitor keeps (default 16)." };
        var unshadowAfterWrites = new Option<int?>("--unshadow-after-writes") { Description = "With --workload under shadow paging: a guest page table written this many times with no use between stops being shadowed, as KVM does after 3 (default 0: never)." };
        var translationCacheKib = new Option<int?>("--translation-cache-kib") { Description = "With --workload: the binary translator's cache in KiB (default 4096)." };
        var noInlineEmulation = new Option<bool>("--no-inline-emulation") { Description = "With --workload under binary translation: CLI, STI, PUSHF, POPF, MOV CR8 and RDTSC call out to the monitor instead of being emulated inside the translation cache." };
        var largeEptPages = new Option<bool>("--large-ept-pages") { Description = "With --workload: the EPT maps guest memory with 2 MiB pages." };
        var virtioBackend = new Option<string?>("--virtio-backend") { Description = "With --workload: where a hosted monitor's virtio backend runs, user (default) or kernel (vhost)." };
        var containerMemory = new Option<long?>("--container-memory-mib") { Description = "With --workload under oslevel: the container's memory limit in MiB." };
        var containerCpus = new Option<double?>("--container-cpus") { Description = "With --workload under oslevel: each container's CPU quota, a share of the CPU (0 to 1, as Docker's --cpus)." };
        var guests = new Option<int>("--guests") { Description = "With --workload: guests sharing the host, each a virtual machine running the workload (VT-x presets).", DefaultValueFactory = _ => 1 };
        var hostCores = new Option<int>("--host-cores") { Description = "With --workload: the host's physical cores; guests are placed on them round-robin and time-share a core.", DefaultValueFactory = _ => 1 };
        var guestWorkloads = new Option<string?>("--guest-workloads") { Description = "With --workload: the other guests' workloads, comma-separated, each NAME or NAME:SIZE (the first guest runs --workload)." };
        var hostProcesses = new Option<int>("--host-processes") { Description = "With --workload under type2: CPU-bound host processes competing with the guests for the host's cores.", DefaultValueFactory = _ => 0 };
        var requestRate = new Option<double?>("--request-rate") { Description = "With --workload web: each guest's client sends requests open-loop, this many a second on average (Poisson arrivals); figures of merit then include response-time percentiles." };
        var guestMemory = new Option<long?>("--guest-memory-mib") { Description = "With --workload: each guest's memory in MiB, a virtual machine's reserved whole on the host (default 512)." };
        var hostMemory = new Option<long?>("--host-memory-mib") { Description = "With --workload: the host's installed memory in MiB (default: sized to fit the guests); guests that do not fit are refused." };
        var timeLimit = new Option<long?>("--time-limit-ms") { Description = "With --workload: stop after this many simulated milliseconds even if workloads have not ended (their figures of merit are then NaN)." };
        var outputs = new Option<string?>("--outputs") { Description = "With --workload: which of stats, report, plots the results folder holds, comma-separated (default all; scenario.json, manifest.json and summary.json always)." };
        var size = new Option<long?>("--size") { Description = "Workload size (iterations, elements or updates; each workload says which)." };
        var json = new Option<bool>("--json") { Description = "With --workload: print the summary as one JSON object." };
        var disk = new Option<string>("--disk") { Description = "With --workload: the disk's medium, ssd or hdd.", DefaultValueFactory = _ => "ssd" };
        var diskInterface = new Option<string>("--disk-interface") { Description = "With --workload: how the disk is attached, ahci (queued DMA) or ata-pio (programmed I/O, one request at a time).", DefaultValueFactory = _ => "ahci" };

        var scenarioFile = new Argument<string?>("scenario") { Description = "A scenario file (YAML, docs/scenarios.md) naming the workload and machine; instead of --workload.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("run", "Run a scenario file or a workload on the machine model (--workload), or by default the engine demonstration; write a results folder.")
        {
            scenarioFile,
            seed, repetitions, servers, utilization, serviceUs, durationMs, warmupMs, trace, threads, output, force,
            workload, profile, preset, cpu, mmu, io, hosting, size, json, disk, diskInterface,
            shadowCacheRoots, unshadowAfterWrites, translationCacheKib, noInlineEmulation, largeEptPages, virtioBackend, containerMemory, containerCpus, guests, guestWorkloads, hostCores, hostProcesses,
            requestRate, guestMemory, hostMemory, timeLimit, outputs,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(scenarioFile) is { } file)
            {
                if (parse.GetValue(workload) is not null)
                {
                    return WorkloadRunner.Fail("give a scenario file or --workload, not both.");
                }
                return WorkloadRunner.ExecuteFile(file, parse.GetValue(json), parse.GetValue(output), parse.GetValue(force));
            }
            if (parse.GetValue(workload) is { } name)
            {
                var fromFlags = new Sim.Experiments.Scenarios.WorkloadScenario
                {
                    Workload = name, Profile = parse.GetValue(profile)!, Preset = parse.GetValue(preset)!, Size = parse.GetValue(size),
                    Cpu = parse.GetValue(cpu), Mmu = parse.GetValue(mmu), Io = parse.GetValue(io), Hosting = parse.GetValue(hosting),
                    ShadowCacheRoots = parse.GetValue(shadowCacheRoots) ?? Models.Virtualization.MonitorParameters.Default.ShadowCacheRoots,
                    UnshadowAfterWrites = parse.GetValue(unshadowAfterWrites) ?? Models.Virtualization.MonitorParameters.Default.UnshadowAfterWrites,
                    TranslationCacheKiB = parse.GetValue(translationCacheKib) ?? Models.Virtualization.MonitorParameters.Default.TranslationCacheKiB,
                    InlineEmulation = !parse.GetValue(noInlineEmulation),
                    LargeEptPages = parse.GetValue(largeEptPages),
                    VirtioBackend = parse.GetValue(virtioBackend) ?? "user",
                    ContainerMemoryMiB = parse.GetValue(containerMemory), ContainerCpus = parse.GetValue(containerCpus),
                    Guests = parse.GetValue(guests), HostCores = parse.GetValue(hostCores), HostProcesses = parse.GetValue(hostProcesses), GuestWorkloads = parse.GetValue(guestWorkloads),
                    RequestRate = parse.GetValue(requestRate), GuestMemoryMiB = parse.GetValue(guestMemory) ?? new Sim.Experiments.Scenarios.WorkloadScenario().GuestMemoryMiB,
                    HostMemoryMiB = parse.GetValue(hostMemory), TimeLimitMs = parse.GetValue(timeLimit),
                    Outputs = parse.GetValue(outputs) ?? string.Join(",", Sim.Experiments.Scenarios.WorkloadScenario.OutputKinds),
                    Seed = parse.GetValue(seed), Disk = parse.GetValue(disk)!, DiskInterface = parse.GetValue(diskInterface)!,
                    // The engine demonstration's default of 5 repetitions is not a workload run's: one unless asked.
                    Repetitions = parse.GetResult(repetitions) is { Implicit: false } ? parse.GetValue(repetitions) : 1,
                };
                return WorkloadRunner.Execute(fromFlags, parse.GetValue(json), parse.GetValue(output), parse.GetValue(force));
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
            Console.Error.WriteLine($"virtsim run: {e.Message.Split(" (Parameter")[0]}");
            return 2;
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
            Console.Error.WriteLine($"virtsim run: {e.Message}");
            return 2;
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
}
