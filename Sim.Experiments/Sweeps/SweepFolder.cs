using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sim.Experiments.Output;
using Sim.Experiments.Scenarios;
using Sim.Workloads;

namespace Sim.Experiments.Sweeps;

/// <summary>
/// A sweep's folder: its run files under points/, each written whole and carrying the hash of the
/// sweep it belongs to and a checksum of its content, and <c>sweep.json</c>, the resolved sweep the
/// folder is bound to. A folder holds the runs of one sweep only: a sweep file edited (values,
/// order, seeds) and run again there, or shards of another file merged into it, is refused rather
/// than served the old results under new labels; a run file emptied, cut or edited by hand is
/// named as damaged rather than read.
/// </summary>
public sealed class SweepFolder
{
    public const string PointsFolder = "points";
    public const string BindingFile = "sweep.json";

    private readonly Sweep _sweep;
    private readonly string _hash;

    private SweepFolder(Sweep sweep, string path)
    {
        _sweep = sweep;
        _hash = sweep.Hash();
        Path = path;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    public static string JobFile(SweepPoint point, int seedIndex) => string.Create(CultureInfo.InvariantCulture, $"{point.Id}-s{seedIndex + 1:D3}.json");

    /// <summary>
    /// Opens <paramref name="folder"/> for <paramref name="sweep"/> without writing anything: a
    /// <see cref="ScenarioException"/> if the name is no folder, if the folder is bound to another
    /// sweep, or if a run file in it is damaged or another sweep's.
    /// </summary>
    public static SweepFolder Open(Sweep sweep, string folder)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        if (string.IsNullOrWhiteSpace(folder))
        {
            throw new ScenarioException("the sweep's folder name is empty; give --out a folder.");
        }
        string full;
        try
        {
            full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(folder));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ScenarioException($"'{folder}' cannot be a sweep's folder: {e.Message}");
        }
        if (File.Exists(full))
        {
            throw new ScenarioException($"'{full}' is a file, not a sweep's folder.");
        }
        var opened = new SweepFolder(sweep, full);
        opened.CheckBinding();
        foreach (string file in opened.JobFiles())
        {
            opened.Read(file);
        }
        return opened;
    }

    /// <summary>Creates the folder and binds it to the sweep (a no-op when it is bound already); a <see cref="ScenarioException"/> if it cannot be written.</summary>
    public void Bind()
    {
        try
        {
            Directory.CreateDirectory(System.IO.Path.Combine(Path, PointsFolder));
            string binding = System.IO.Path.Combine(Path, BindingFile);
            if (!File.Exists(binding))
            {
                AtomicFile.Write(binding, _sweep.ResolvedJson());
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"cannot write the sweep's folder '{Path}': {e.Message}");
        }
    }

    /// <summary>Whether the run of <paramref name="point"/> at <paramref name="seedIndex"/> has its file.</summary>
    public bool Has(SweepPoint point, int seedIndex) => File.Exists(JobPath(point, seedIndex));

    /// <summary>Writes one run's result, whole or not at all.</summary>
    public void Write(JobResult result, SweepPoint point)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(point);
        Dictionary<string, object> file = Fields(result);
        file["sweep"] = _hash;
        file["checksum"] = Checksum(JsonText.Of(Fields(result)));
        AtomicFile.Write(JobPath(point, result.SeedIndex), JsonText.Of(file));
    }

    /// <summary>Every run's result in the sweep's order; the runs still missing are named in <paramref name="missing"/>.</summary>
    public IReadOnlyList<JobResult> Collect(out IReadOnlyList<string> missing)
    {
        var results = new List<JobResult>();
        var absent = new List<string>();
        foreach ((SweepPoint point, int seed) in _sweep.Jobs())
        {
            string file = JobPath(point, seed);
            if (File.Exists(file))
            {
                results.Add(Read(file));
            }
            else
            {
                absent.Add(JobFile(point, seed));
            }
        }
        missing = absent;
        return results;
    }

    /// <summary>The run files present, in name order.</summary>
    public IReadOnlyList<string> JobFiles()
    {
        string points = System.IO.Path.Combine(Path, PointsFolder);
        return Directory.Exists(points) ? [.. Directory.GetFiles(points, "*.json").Order(StringComparer.Ordinal)] : [];
    }

    private string JobPath(SweepPoint point, int seedIndex) => System.IO.Path.Combine(Path, PointsFolder, JobFile(point, seedIndex));

    private void CheckBinding()
    {
        string binding = System.IO.Path.Combine(Path, BindingFile);
        if (File.Exists(binding))
        {
            string hash;
            try
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(binding));
                hash = doc.RootElement.GetProperty("hash").GetString() ?? "";
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new ScenarioException($"{binding} is damaged ({e.Message}); the folder cannot be trusted: use another --out or remove it.");
            }
            if (hash != _hash)
            {
                throw new ScenarioException($"{Path} holds the runs of another sweep (hash {Short(hash)}, this file's {Short(_hash)}): the sweep file changed since they ran. Use another --out, or remove the folder to run again.");
            }
        }
        else if (JobFiles().Count > 0)
        {
            throw new ScenarioException($"{Path} holds runs but no {BindingFile} saying which sweep they belong to (an older virtsim's folder?); use another --out or remove it.");
        }
    }

    /// <summary>One run file, checked: whole JSON, this sweep's, its checksum matching its content, and the run its name says.</summary>
    private JobResult Read(string file)
    {
        string name = System.IO.Path.GetFileName(file);
        string where = $"{System.IO.Path.Combine(Path, PointsFolder, name)}";
        JobResult result;
        string sweep, checksum;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement root = doc.RootElement;
            result = new JobResult(root.GetProperty("point").GetString()!, root.GetProperty("seed_index").GetInt32(), root.GetProperty("seed").GetUInt64(),
                [.. root.GetProperty("metrics").EnumerateArray().Select(m => new Metric(m.GetProperty("name").GetString()!,
                    m.GetProperty("value") is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : double.NaN, m.GetProperty("unit").GetString()!))],
                root.TryGetProperty("binding_resource", out JsonElement binding) ? binding.GetString()! : "");
            sweep = root.GetProperty("sweep").GetString()!;
            checksum = root.GetProperty("checksum").GetString()!;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw Damaged(where, $"not a run file ({e.Message})");
        }
        if (sweep != _hash)
        {
            throw new ScenarioException($"{where} is a run of another sweep (hash {Short(sweep)}, this file's {Short(_hash)}); runs of different sweep files cannot be mixed.");
        }
        if (checksum != Checksum(JsonText.Of(Fields(result))))
        {
            throw Damaged(where, "its checksum does not match its content");
        }
        if (_sweep.Points.FirstOrDefault(p => p.Id == result.Point) is not { } point || result.SeedIndex >= _sweep.Seeds || JobFile(point, result.SeedIndex) != name)
        {
            throw Damaged(where, "its name is not the run it holds");
        }
        return result;
    }

    private static ScenarioException Damaged(string where, string why) =>
        new($"{where} is damaged: {why}. Delete it and run the sweep again to redo that run.");

    /// <summary>What a run file says but its sweep hash and checksum; written as JSON, the text the checksum covers.</summary>
    private static Dictionary<string, object> Fields(JobResult r)
    {
        var fields = new Dictionary<string, object>
        {
            ["point"] = r.Point,
            ["seed_index"] = r.SeedIndex,
            ["seed"] = r.Seed,
            // JSON has no NaN: a figure a time limit cut short is written as null and read back as NaN.
            ["metrics"] = r.Metrics.Select(m => new Dictionary<string, object?> { ["name"] = m.Name, ["value"] = double.IsFinite(m.Value) ? m.Value : null, ["unit"] = m.Unit }).ToArray(),
        };
        if (r.Binding.Length > 0)
        {
            fields["binding_resource"] = r.Binding; // absent from run files written before sweeps recorded it, whose checksums do not cover it
        }
        return fields;
    }

    internal static string Checksum(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}
