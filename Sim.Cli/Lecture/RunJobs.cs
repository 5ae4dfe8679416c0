using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Sim.Engine.Time;
using Sim.Experiments.Explain;
using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Hardware;

namespace Sim.Cli.Lecture;

/// <summary>
/// The lecture page's runs of whole workloads: each request is a job that runs its architectures
/// one after another on the server, reporting its progress (simulated time and events, as
/// <c>virtsim run</c> prints them) to a page that polls it, and that the page can cancel. Each
/// architecture's result is what <c>virtsim run --json</c> prints for the same scenario.
/// </summary>
/// <remarks>
/// Bounds: a job waits for a simulation slot it shares with the explanations; at most
/// <see cref="MostJobs"/> jobs are kept (finished ones are forgotten <see cref="Kept"/> after they
/// end); a job is cancelled after <see cref="Longest"/> of wall time. A cancelled run stops at its
/// next progress slice (one simulated millisecond).
/// </remarks>
internal sealed class RunJobs(SemaphoreSlim slots)
{
    private const int MostJobs = 32;
    private static readonly TimeSpan Kept = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Longest = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private long _next;

    /// <summary>One request's runs.</summary>
    internal sealed class Job(LectureRequest request)
    {
        public LectureRequest Request { get; } = request;

        public CancellationTokenSource Cancel { get; } = new(Longest);

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public string State { get; set; } = "waiting"; // waiting, running, done, cancelled, failed

        public int Done { get; set; }

        public double SimulatedMs { get; set; }

        public ulong Events { get; set; }

        public string? Result { get; set; }

        public string? Error { get; set; }

        public DateTime? Ended { get; set; }
    }

    /// <summary>Starts a job for <paramref name="request"/>: its id, or null when too many are kept.</summary>
    public string? Start(LectureRequest request)
    {
        Forget();
        if (_jobs.Count >= MostJobs)
        {
            return null;
        }
        string id = Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var job = new Job(request);
        _jobs[id] = job;
        _ = Task.Run(() => RunAsync(job));
        return id;
    }

    public Job? Find(string id) => _jobs.TryGetValue(id, out Job? job) ? job : null;

    private void Forget()
    {
        foreach ((string id, Job job) in _jobs)
        {
            if (job.Ended is { } ended && DateTime.UtcNow - ended > Kept)
            {
                _jobs.TryRemove(id, out _);
                job.Cancel.Dispose();
            }
        }
    }

    private async Task RunAsync(Job job)
    {
        CancellationToken cancel = job.Cancel.Token;
        try
        {
            await slots.WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            End(job, "cancelled");
            return;
        }
        try
        {
            job.State = "running";
            HardwareProfile profile = HardwareProfiles.Get(job.Request.Profile);
            var architectures = new List<object>();
            foreach (WorkloadScenario scenario in job.Request.Scenarios)
            {
                WorkloadRunResult result = scenario.RunOnce(scenario.Seed, (time, events) =>
                {
                    cancel.ThrowIfCancellationRequested(); // between slices: the run stops here
                    job.SimulatedMs = time.Picoseconds / 1e9;
                    job.Events = events;
                });
                architectures.Add(new
                {
                    name = Explanation.NameOf(result.Axes, profile),
                    run = JsonDocument.Parse(WorkloadRunReport.ToJson([result])).RootElement,
                    scenario = ScenarioText.Of(scenario.Workload, profile, result.Axes, scenario.Size,
                        $"'{scenario.Workload}' under {Explanation.NameOf(result.Axes, profile)} on {profile.Name}: 'virtsim run THIS-FILE --json' prints the same figures."),
                });
                job.Done++;
            }
            job.Result = ViewJson.Serialize(new { workload = job.Request.Workload, profile = profile.Name, architectures });
            End(job, "done");
        }
        catch (OperationCanceledException)
        {
            End(job, "cancelled");
        }
        catch (Exception e)
        {
            job.Error = UserError.Of(e) ?? $"The simulation failed ({e.GetType().Name}: {e.Message}); please report it with the scenario."; // the server keeps serving
            End(job, "failed");
        }
        finally
        {
            slots.Release();
        }
    }

    private static void End(Job job, string state)
    {
        job.Clock.Stop();
        job.State = state;
        job.Ended = DateTime.UtcNow;
    }
}
