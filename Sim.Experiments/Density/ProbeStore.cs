using System.Globalization;
using System.Text.Json;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Density;

/// <summary>Which run of a density search: a preset, a number of guests, on the host's memory or unbounded, at a seed's index.</summary>
/// <param name="Alone">For a mixed host's run of one guest alone (the <c>alone</c> of DensitySearch's probe): which workload; -1 for a probe of the search.</param>
public readonly record struct ProbeKey(string Preset, int Guests, bool MemoryIgnored, int SeedIndex, int Alone = -1)
{
    /// <summary>The run's file name in a store: <c>type1-0013-host-s001.json</c>, or <c>type1-alone2-s001.json</c>.</summary>
    public string FileName => Alone >= 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Preset}-alone{Alone}-s{SeedIndex + 1:D3}.json")
        : string.Create(CultureInfo.InvariantCulture, $"{Preset}-{Guests:D4}-{(MemoryIgnored ? "unbounded" : "host")}-s{SeedIndex + 1:D3}.json");
}

/// <summary>Where a density search finds the runs an interrupted search finished, and keeps each new one.</summary>
public interface IProbeRuns
{
    /// <summary>The run kept for <paramref name="key"/>, or null when it must be simulated.</summary>
    ProbeRun? Known(ProbeKey key);

    /// <summary>Keeps a finished run.</summary>
    void Keep(ProbeKey key, ProbeRun run);
}

/// <summary>
/// A density study's finished runs, kept as they end in a folder beside its results folder
/// (<c>.NAME.probes/</c>), so that a study interrupted and started again simulates only what it had
/// not finished, and writes the same bytes as a run that was never interrupted (every figure is kept
/// as its shortest round-trip text). The folder is bound to one study and one program:
/// <c>study.json</c> holds the resolved study and the program's version; a changed study is refused
/// (with the keys that changed) unless the caller restarts, a changed program starts afresh (its
/// runs could differ), and a run file that is not whole or not this study's is simulated again.
/// </summary>
public sealed class ProbeStore : IProbeRuns
{
    public const string BindingFile = "study.json";

    private readonly string _folder;
    private readonly string _binding;

    private ProbeStore(string folder, string binding)
    {
        _folder = folder;
        _binding = binding;
    }

    /// <summary>The store's folder.</summary>
    public string Folder => _folder;

    /// <summary>How many runs were taken from an interrupted search.</summary>
    public int Reused => _reused;

    private int _reused;

    /// <summary>The store's folder for the results folder <paramref name="target"/>: hidden, beside it.</summary>
    public static string FolderFor(string target)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        return Path.Combine(Path.GetDirectoryName(full) ?? ".", "." + Path.GetFileName(full) + ".probes");
    }

    /// <summary>
    /// Opens (or creates) the store of <paramref name="study"/> for <paramref name="target"/>, run
    /// by <paramref name="program"/>. A store of another study is a <see cref="ScenarioException"/>
    /// naming what changed, unless <paramref name="restart"/>, which empties it; a store of another
    /// program is emptied (its runs may differ from this one's). A <paramref name="shared"/> store is
    /// one that shards of the study fill at once (<c>--shard</c>, a Slurm job array): it is never
    /// emptied, since another shard may be writing into it, and a store of another program is refused.
    /// </summary>
    public static ProbeStore Open(DensityStudy study, string target, string program, bool restart, bool shared = false)
    {
        ArgumentNullException.ThrowIfNull(study);
        string folder = FolderFor(target);
        string hash = Sweeps.SweepFolder.Checksum(JsonText.Of(study.Resolved()));
        string binding = JsonText.Of(new Dictionary<string, object> { ["hash"] = hash, ["program"] = program, ["study"] = study.Resolved() });
        string file = Path.Combine(folder, BindingFile);
        if (Directory.Exists(folder) && !restart && File.Exists(file))
        {
            (string? keptHash, string? keptProgram, string? kept) = Read(file);
            if (keptHash is not null && keptHash != hash)
            {
                throw new ScenarioException($"{folder} holds the runs of an interrupted search of a different study ({Changes(kept!, JsonText.Of(study.Resolved()))}); "
                    + "run the study as it was to finish it, or pass --restart to discard those runs and start afresh.");
            }
            if (keptHash is not null && keptProgram == program)
            {
                return new ProbeStore(folder, binding);
            }
            if (shared && keptHash is not null)
            {
                throw new ScenarioException($"{folder} holds the runs of another build of virtsim ({keptProgram}, this is {program}): the shards of a study must all run one build; "
                    + "finish the study with the build that began it, or run it whole with --restart.");
            }
        }
        if (shared)
        {
            Directory.CreateDirectory(folder); // another shard may have made it: nothing in it is removed
            AtomicFile.Write(file, binding);   // the same bytes whichever shard writes it
            return new ProbeStore(folder, binding);
        }
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true); // restarted, another program's, or not bound: nothing in it can be trusted
        }
        Directory.CreateDirectory(folder);
        AtomicFile.Write(file, binding);
        return new ProbeStore(folder, binding);
    }

    /// <summary>Removes the store once the study's results are in place.</summary>
    public void Remove()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    public ProbeRun? Known(ProbeKey key)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, key.FileName)));
            JsonElement run = doc.RootElement.GetProperty("run");
            ProbeRun kept = new(run.GetProperty("seed").GetUInt64(), Number(run.GetProperty("worst")),
                [.. run.GetProperty("figures").EnumerateArray().Select(m => new Metric(m.GetProperty("name").GetString()!, Number(m.GetProperty("value")), m.GetProperty("unit").GetString()!))],
                Number(run.GetProperty("memory_per_guest_mib")),
                new HostUse([.. run.GetProperty("resources").EnumerateArray().Select(u => new HostResource(u.GetProperty("resource").GetString()!, u.GetProperty("kind").GetString()!,
                    Number(u.GetProperty("busy")), Number(u.GetProperty("monitor")), Number(u.GetProperty("backends"))))]),
                run.GetProperty("refused").GetString())
            {
                AlongsideWorst = [.. run.GetProperty("alongside").EnumerateArray().Select(Number)],
            };
            if (doc.RootElement.GetProperty("checksum").GetString() != Checksum(key, kept))
            {
                return null; // not this study's run, or edited: simulate it again
            }
            Interlocked.Increment(ref _reused);
            return kept;
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null; // none kept, or not whole
        }
    }

    public void Keep(ProbeKey key, ProbeRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        AtomicFile.Write(Path.Combine(_folder, key.FileName), JsonText.Of(new Dictionary<string, object> { ["checksum"] = Checksum(key, run), ["run"] = Fields(run) }));
    }

    /// <summary>The checksum of a run as written, with its key and the study and program it belongs to.</summary>
    private string Checksum(ProbeKey key, ProbeRun run) => Sweeps.SweepFolder.Checksum(_binding + key.FileName + JsonText.Of(Fields(run)));

    private static Dictionary<string, object?> Fields(ProbeRun run) => new()
    {
        ["seed"] = run.Seed,
        ["worst"] = Json(run.Worst),
        ["figures"] = run.MeanFigures.Select(m => new Dictionary<string, object?> { ["name"] = m.Name, ["value"] = Json(m.Value), ["unit"] = m.Unit }).ToArray(),
        ["memory_per_guest_mib"] = Json(run.MemoryPerGuestMiB),
        ["resources"] = run.Use.Resources.Select(u => new Dictionary<string, object?>
        {
            ["resource"] = u.Resource, ["kind"] = u.Kind, ["busy"] = Json(u.Utilization), ["monitor"] = Json(u.MonitorShare), ["backends"] = Json(u.BackendShare),
        }).ToArray(),
        ["refused"] = run.Refused,
        ["alongside"] = run.AlongsideWorst.Select(Json).ToArray(),
    };

    // JSON has no NaN: a figure that is not a number is written as null and read back as NaN.
    private static double? Json(double value) => double.IsFinite(value) ? value : null;

    private static double Number(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;

    /// <summary>A store's binding: the study's hash, the program, and the resolved study as JSON (nulls when it is not whole).</summary>
    private static (string? Hash, string? Program, string? Study) Read(string file)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            return (doc.RootElement.GetProperty("hash").GetString(), doc.RootElement.GetProperty("program").GetString(), doc.RootElement.GetProperty("study").GetRawText());
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (null, null, null);
        }
    }

    /// <summary>The keys whose values differ between two resolved studies, as "base.request_rate 500 -> 600".</summary>
    private static string Changes(string kept, string now)
    {
        Dictionary<string, string> Flat(string json)
        {
            var flat = new Dictionary<string, string>(StringComparer.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(json);
            void Walk(JsonElement e, string prefix)
            {
                if (e.ValueKind == JsonValueKind.Object)
                {
                    foreach (JsonProperty p in e.EnumerateObject())
                    {
                        Walk(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}");
                    }
                }
                else if (e.ValueKind == JsonValueKind.Array)
                {
                    int i = 0;
                    foreach (JsonElement item in e.EnumerateArray())
                    {
                        Walk(item, $"{prefix}[{i++}]"); // item by item: raw text would carry the indentation of where it was kept
                    }
                }
                else
                {
                    flat[prefix] = e.GetRawText();
                }
            }
            Walk(doc.RootElement, "");
            return flat;
        }
        Dictionary<string, string> a = Flat(kept), b = Flat(now);
        string[] changed = [.. a.Keys.Union(b.Keys).Order(StringComparer.Ordinal).Where(k => a.GetValueOrDefault(k) != b.GetValueOrDefault(k))
            .Select(k => $"{k} {a.GetValueOrDefault(k) ?? "(none)"} -> {b.GetValueOrDefault(k) ?? "(none)"}")];
        return changed.Length == 0 ? "its keys in another order" : string.Join("; ", changed.Take(5)) + (changed.Length > 5 ? $"; and {changed.Length - 5} more" : "");
    }
}
