using System.Collections.Concurrent;
using System.Globalization;
using Sim.Workloads;
using Sim.Workloads.Processes;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Scenarios;

/// <summary>
/// A planner's own service as a workload file (docs/planning.md, "Your own service"): YAML, the
/// figures of one request as measured on a real server (instructions, memory references and their
/// locality, system calls by kind, files opened, minor faults, packets in and out, block reads and
/// writes), the process's worker threads, the clients' arrivals and the resident memory. A scenario
/// names one as <c>workload: file:PATH</c>; it runs as a <see cref="Service"/>. Unknown keys, values
/// that are not numbers of the key's unit, negative counts, and figures the model cannot produce
/// (more memory references and system calls than instructions) are refused with the file and line.
/// </summary>
public static class WorkloadFile
{
    /// <summary>How a scenario's <c>workload</c> names a file rather than a built-in workload.</summary>
    public const string Prefix = "file:";

    /// <summary>The requests a run serves when the scenario gives no size.</summary>
    public const long DefaultSize = 500; // as web's

    private static readonly ConcurrentDictionary<string, Service> s_loaded = new(StringComparer.Ordinal);

    private static readonly string[] TopKeys = ["name", "description", "per_request", "process", "arrival", "memory"];
    private static readonly string[] RequestKeys = ["instructions", "memory", "syscalls", "files_opened", "minor_faults", "major_faults", "context_switches", "packets_in", "packets_out", "block_reads", "block_writes"];
    private static readonly string[] LocalityKeys = ["references", "store_share", "working_set_kib", "hot_kib", "hot_share"];
    private static readonly string[] PacketKeys = ["count", "bytes"];
    private static readonly string[] ProcessKeys = ["threads", "forks_per_request"];
    private static readonly string[] ArrivalKeys = ["rate", "think_time_us", "trace"];
    private static readonly string[] ResidentKeys = ["resident_mib", "mapped_files_mib"];

    /// <summary>Whether a scenario's workload value names a file.</summary>
    public static bool Names(string workload) => workload.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The service of the file a scenario's <c>file:PATH</c> names (relative to the working directory), read once a run.</summary>
    public static Service Load(string workload)
    {
        string path = Names(workload) ? workload[Prefix.Length..] : workload;
        if (path.Length == 0)
        {
            throw new ScenarioException($"workload '{workload}': give the file's path after '{Prefix}', such as {Prefix}service.yaml");
        }
        return s_loaded.GetOrAdd(Path.GetFullPath(path), full => Parse(YamlFile.Read(full, "workload file"), path));
    }

    /// <summary>The SHA-256 of the file a scenario's <c>file:PATH</c> names, and of the arrival trace it names if any, recorded beside its results.</summary>
    public static string Sha256Of(string workload)
    {
        string path = workload[Prefix.Length..];
        byte[] bytes = File.ReadAllBytes(path);
        if (ArrivalTrace.Named(File.ReadAllText(path), path) is { } trace)
        {
            bytes = [.. bytes, .. File.ReadAllBytes(trace)]; // a trace changed under an unchanged file is a changed service
        }
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
    }

    /// <summary>The service <paramref name="text"/> describes; <paramref name="source"/> names it in errors, and its file name is the service's name when the file gives none.</summary>
    public static Service Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        YamlMappingNode root = YamlFile.Root(text, source) as YamlMappingNode
            ?? throw new ScenarioException($"{source}: a workload file is a mapping of {string.Join(", ", TopKeys)} (docs/planning.md, \"Your own service\")");
        var spec = new ServiceSpec { Name = Path.GetFileNameWithoutExtension(source) };
        if (!root.Children.Keys.Any(k => k is YamlScalarNode { Value: "name" }) && NameProblem(spec.Name) is { } unnamed)
        {
            throw new ScenarioException($"{source}: the file's name '{spec.Name}' cannot name the service ({unnamed}); give it a name: key");
        }
        int threads = 1;
        YamlNode? perRequest = null;
        foreach ((string key, YamlNode value) in Keys(root, source, "a workload file", TopKeys))
        {
            switch (key)
            {
                case "name":
                    string name = Text(value, source, key);
                    spec = spec with
                    {
                        Name = NameProblem(name) is { } wrong ? throw new ScenarioException($"{source}, line {value.Start.Line}: name: '{name}' {wrong}") : name,
                    };
                    break;
                case "description":
                    spec = spec with { Description = Text(value, source, key) };
                    break;
                case "per_request":
                    perRequest = value;
                    break;
                case "process":
                    foreach ((string k, YamlNode v) in Keys(value, source, "process", ProcessKeys))
                    {
                        if (k == "forks_per_request")
                        {
                            spec = spec with { ForksPerRequest = Number(v, source, "process: forks_per_request (children a request forks)", 0, ServiceSpec.MostForks) };
                            continue;
                        }
                        threads = (int)Whole(v, source, "process: threads", 1, 1024);
                    }
                    break;
                case "arrival":
                    var arrival = Keys(value, source, "arrival", ArrivalKeys).ToList();
                    if (arrival.Count != 1)
                    {
                        throw new ScenarioException($"{source}, line {value.Start.Line}: arrival gives one of rate (open loop, requests a second), think_time_us (one closed-loop client) or trace");
                    }
                    (string how, YamlNode n) = arrival[0];
                    spec = how switch
                    {
                        "rate" => spec with { RequestRate = Number(n, source, "arrival: rate (requests a second)", 1e-3, 1e8) },
                        "think_time_us" => spec with { ThinkTimeMicroseconds = Number(n, source, "arrival: think_time_us (microseconds)", 0, 1e9) },
                        _ => spec with { ArrivalGapsMicroseconds = ArrivalTrace.Gaps(Text(n, source, "arrival: trace"), source, n.Start.Line) },
                    };
                    break;
                case "memory":
                    foreach ((string k, YamlNode v) in Keys(value, source, "memory", ResidentKeys))
                    {
                        long bytes = (long)(Number(v, source, $"memory: {k} (MiB)", 0.01, 1 << 20) * (1 << 20));
                        spec = k == "resident_mib" ? spec with { ResidentBytes = bytes } : spec with { MappedFileBytes = bytes };
                    }
                    break;
            }
        }
        spec = PerRequest(spec, perRequest ?? throw new ScenarioException($"{source}: per_request is missing: the figures of one request ({string.Join(", ", RequestKeys)})"), source);
        if (spec.Problem() is { } problem)
        {
            throw new ScenarioException($"{source}: the model cannot produce these figures: {problem}");
        }
        return (Service)new Service(spec).WithThreads(threads);
    }

    /// <summary>Why <paramref name="name"/> cannot name a service, or null: it names the run's folder and the service's files in the image.</summary>
    private static string? NameProblem(string name) =>
        name.Length is > 0 and <= 60 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') && !WorkloadCatalog.All.Any(w => w.Workload.Name == name) ? null
            : "must be 1 to 60 letters, digits, '-' or '_', and not a built-in workload's name (it names the run's folder and the service's files)";

    private static ServiceSpec PerRequest(ServiceSpec spec, YamlNode node, string source)
    {
        foreach ((string key, YamlNode value) in Keys(node, source, "per_request", RequestKeys))
        {
            string what = $"per_request: {key}";
            spec = key switch
            {
                "instructions" => spec with { Instructions = Number(value, source, what + " (user-mode instructions a request)", 1, 1e10) },
                "memory" => Locality(spec, value, source),
                "syscalls" => spec with { Syscalls = Syscalls(value, source) },
                "files_opened" => spec with { FilesOpened = Number(value, source, what, 0, 1e4) },
                "minor_faults" => spec with { MinorFaults = Number(value, source, what, 0, 1e5) },
                "major_faults" => spec with { MajorFaults = Number(value, source, what + " (reads of a mapped file's pages from the disk)", 0, ServiceSpec.MostMajorFaults) },
                "context_switches" => spec with { ContextSwitches = Number(value, source, what, 0, 1e5) }, // compared, not imposed (ServiceSpec.ContextSwitches)
                "packets_in" => Datagrams(value, source, what, "request", ServiceSpec.MostRequestPackets, (count, bytes) => spec with { RequestPackets = count, RequestBytes = bytes }),
                "packets_out" => Datagrams(value, source, what, "answer", ServiceSpec.MostResponsePackets, (count, bytes) => spec with { ResponsePackets = count, ResponseBytes = bytes }),
                "block_reads" => Packets(value, source, what, MostBlockBytes, (count, bytes) => spec with { BlockReads = BlockCount(count, bytes, value, source, what) }),
                _ => Packets(value, source, what, MostBlockBytes, (count, bytes) => spec with { BlockWrites = BlockCount(count, bytes, value, source, what) }),
            };
        }
        return spec;
    }

    /// <summary>A request's or an answer's datagrams: a whole count from 1 to <paramref name="most"/>, each of a payload up to one frame's.</summary>
    private static ServiceSpec Datagrams(YamlNode value, string source, string what, string whose, int most, Func<int, int, ServiceSpec> make) =>
        Packets(value, source, what, ServiceSpec.MostPacketBytes, (count, bytes) =>
            count == Math.Floor(count) && count >= 1 && count <= most ? make((int)count, (int)bytes)
                : throw new ScenarioException($"{source}, line {value.Start.Line}: {what}: count is the packets of every {whose}, a whole number from 1 to {most}, not {count}"));

    /// <summary>The largest block I/O a file may name (so that a size the model does not make is refused with why, not with a range).</summary>
    private const int MostBlockBytes = 64 << 20;

    private static double BlockCount(double count, double bytes, YamlNode value, string source, string what) => bytes == ServiceSpec.BlockBytes ? count
        : throw new ScenarioException($"{source}, line {value.Start.Line}: {what}: bytes must be {ServiceSpec.BlockBytes}: the kernel model's block requests are one page; give a larger I/O as that many 4 KiB ones (count * bytes / 4096)");

    /// <summary>A count a request with its size in bytes (packets, block I/Os): <c>{count, bytes}</c>, bytes <paramref name="mostBytes"/> when not given.</summary>
    private static ServiceSpec Packets(YamlNode node, string source, string what, int mostBytes, Func<double, double, ServiceSpec> make)
    {
        double count = 0, bytes = mostBytes == MostBlockBytes ? ServiceSpec.BlockBytes : mostBytes;
        foreach ((string k, YamlNode v) in Keys(node, source, what, PacketKeys))
        {
            if (k == "count")
            {
                count = Number(v, source, $"{what}: count (a request)", 0, 1e5);
            }
            else
            {
                bytes = Whole(v, source, $"{what}: bytes", 1, mostBytes);
            }
        }
        return make(count, bytes);
    }

    private static ServiceSpec Locality(ServiceSpec spec, YamlNode node, string source)
    {
        long? hot = null;
        foreach ((string k, YamlNode v) in Keys(node, source, "per_request: memory", LocalityKeys))
        {
            string what = $"per_request: memory: {k}";
            spec = k switch
            {
                "references" => spec with { MemoryReferences = Number(v, source, what + " (loads and stores a request)", 0, 1e10) },
                "store_share" => spec with { StoreShare = Number(v, source, what + " (of the references)", 0, 1) },
                "working_set_kib" => spec with { WorkingSetBytes = Whole(v, source, what + " (KiB)", 4, 64L << 20) << 10 },
                "hot_share" => spec with { HotShare = Number(v, source, what + " (of the references)", 0, 1) },
                _ => spec,
            };
            if (k == "hot_kib")
            {
                hot = Whole(v, source, what + " (KiB)", 4, 64L << 20) << 10;
            }
        }
        return spec with { HotBytes = hot ?? spec.WorkingSetBytes };
    }

    private static Dictionary<string, double> Syscalls(YamlNode node, string source)
    {
        var counts = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach ((string k, YamlNode v) in Keys(node, source, "per_request: syscalls", ServiceSpec.PlainSyscalls))
        {
            counts[k] = Number(v, source, $"per_request: syscalls: {k} (calls a request)", 0, 1e6);
        }
        return counts;
    }

    /// <summary>The keys of a mapping, each checked against <paramref name="allowed"/>; a duplicate or an unknown key is refused with its line and what is allowed.</summary>
    private static IEnumerable<(string Key, YamlNode Value)> Keys(YamlNode node, string source, string what, string[] allowed)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw new ScenarioException($"{source}, line {node.Start.Line}: {what} is a mapping of {string.Join(", ", allowed)}");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach ((YamlNode k, YamlNode v) in mapping.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            if (!allowed.Contains(key))
            {
                string more = what == "per_request: syscalls"
                    ? "; the calls the packets, files, faults and block I/O make (recvfrom, sendto, open, close, mmap, munmap, pread64, pwrite64) are counted by those keys, and other calls are not modelled from a workload file (docs/planning.md)"
                    : "";
                throw new ScenarioException($"{source}, line {k.Start.Line}: unknown key '{key}' in {what}; the keys are {string.Join(", ", allowed)}{more}");
            }
            if (!seen.Add(key))
            {
                throw new ScenarioException($"{source}, line {k.Start.Line}: '{key}' is given twice in {what}");
            }
            yield return (key, v);
        }
    }

    private static string Text(YamlNode node, string source, string key) => node is YamlScalarNode { Value: { } value } ? value
        : throw new ScenarioException($"{source}, line {node.Start.Line}: {key} is a text");

    private static double Number(YamlNode node, string source, string what, double least, double most)
    {
        string text = (node as YamlScalarNode)?.Value ?? "";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new ScenarioException($"{source}, line {node.Start.Line}: {what}: '{text}' is not a number; give a plain number in the key's unit (no unit after it)");
        }
        return value >= least && value <= most ? value
            : throw new ScenarioException(string.Create(CultureInfo.InvariantCulture, $"{source}, line {node.Start.Line}: {what}: {value} is outside {least} to {most}"));
    }

    private static long Whole(YamlNode node, string source, string what, long least, long most)
    {
        double value = Number(node, source, what, least, most);
        return value == Math.Floor(value) ? (long)value
            : throw new ScenarioException(string.Create(CultureInfo.InvariantCulture, $"{source}, line {node.Start.Line}: {what}: {value} is not a whole number"));
    }
}
