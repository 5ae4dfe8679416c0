using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Scenarios;

/// <summary>
/// A planner's own host as a hardware profile file (docs/planning.md, "Your own host"): YAML, one
/// mapping whose keys are the profile's figures in snake case, nested as the profile is (its
/// caches, TLBs, paging-structure caches, prefetcher, virtualization features, topology,
/// coherence, core timing with its named instructions' cycles, VMX transition costs, sources).
/// <c>base: NAME</c> starts from a built-in profile and the file overrides only what it gives; a
/// file without it gives every figure (<c>virtsim profiles show NAME</c> writes a built-in profile
/// so). A scenario names one as <c>profile: file:PATH</c>. Unknown keys, values of the wrong
/// type, missing figures and a profile the machine cannot have are refused with the file and line.
/// </summary>
public static class ProfileFile
{
    /// <summary>How a scenario's <c>profile</c> names a file rather than a built-in profile.</summary>
    public const string Prefix = "file:";

    private static readonly ConcurrentDictionary<string, (HardwareProfile Profile, IReadOnlyDictionary<string, string> Host)> s_loaded = new(StringComparer.Ordinal);

    /// <summary>The keys of a file's <c>host</c> section, each the scenario key it gives a default to.</summary>
    private static readonly (string Key, string ScenarioKey)[] HostKeys =
        [("memory_mib", "host_memory_mib"), ("nic", "nic"), ("disk", "disk"), ("disk_interface", "disk_interface")];

    /// <summary>Whether a scenario's profile value names a file.</summary>
    public static bool Names(string profile) => profile.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The profile of the file a scenario's <c>file:PATH</c> names (relative to the working directory), read once a run.</summary>
    public static HardwareProfile Load(string profile)
    {
        return Loaded(profile).Profile;
    }

    /// <summary>
    /// What the file's <c>host</c> section gives the scenario that names it, as scenario keys and
    /// values (<c>host_memory_mib</c>, <c>nic</c>, <c>disk</c>, <c>disk_interface</c>): the machine
    /// around the CPU generation, which a scenario's own keys override. Empty for a file without one.
    /// </summary>
    public static IReadOnlyDictionary<string, string> HostOf(string profile) => Loaded(profile).Host;

    private static (HardwareProfile Profile, IReadOnlyDictionary<string, string> Host) Loaded(string profile)
    {
        string path = Names(profile) ? profile[Prefix.Length..] : profile;
        if (path.Length == 0)
        {
            throw new ScenarioException($"profile '{profile}': give the file's path after '{Prefix}', such as {Prefix}host.yaml");
        }
        return s_loaded.GetOrAdd(Path.GetFullPath(path), full => ParseWithHost(YamlFile.Read(full, "hardware profile"), path));
    }

    /// <summary>The SHA-256 of the file a scenario's <c>file:PATH</c> names, recorded beside its results.</summary>
    public static string Sha256Of(string profile) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(profile[Prefix.Length..])));

    /// <summary>The profile <paramref name="text"/> describes; <paramref name="source"/> names it in errors, and its file name is the profile's name when the file gives none.</summary>
    public static HardwareProfile Parse(string text, string source) => ParseWithHost(text, source).Profile;

    /// <summary>The profile <paramref name="text"/> describes and its <c>host</c> section (<see cref="HostOf"/>).</summary>
    public static (HardwareProfile Profile, IReadOnlyDictionary<string, string> Host) ParseWithHost(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        if (YamlFile.Root(text, source) is not YamlMappingNode root)
        {
            throw new ScenarioException($"{source}: a hardware profile is a mapping of its figures (start from 'virtsim profiles show NAME', or give 'base: NAME' and what differs)");
        }
        HardwareProfile? start = null;
        IReadOnlyDictionary<string, string> host = new Dictionary<string, string>();
        var given = new List<string>();
        var figures = new YamlMappingNode();
        foreach ((YamlNode key, YamlNode value) in root.Children)
        {
            if (key is YamlScalarNode { Value: "base" })
            {
                string name = Scalar(value, source, "base");
                start = HardwareProfiles.All.FirstOrDefault(p => p.Name == name)
                    ?? throw new ScenarioException($"{source}, line {value.Start.Line}: base: there is no built-in profile '{name}'; the profiles are: {string.Join(", ", HardwareProfiles.All.Select(p => p.Name))}");
                continue;
            }
            if (key is YamlScalarNode { Value: "host" })
            {
                host = Host(value, source);
                continue;
            }
            figures.Add(key, value);
        }
        var profile = (HardwareProfile)Read(typeof(HardwareProfile), figures, start, source, "", given);
        if (!given.Contains("name"))
        {
            profile = profile with { Name = Path.GetFileNameWithoutExtension(source) };
        }
        if (start is not null)
        {
            profile = profile with
            {
                Description = given.Contains("description") ? profile.Description : $"{start.Description} As given by {Path.GetFileName(source)}: {string.Join(", ", given)}.",
                Sources = given.Contains("sources") ? profile.Sources : [.. start.Sources, .. given.Where(g => g is not ("name" or "description")).Select(g => $"{g}: given by {Path.GetFileName(source)}, the planner's figure")],
            };
        }
        try
        {
            profile.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ScenarioException($"{source}: not a profile the machine can have: {e.Message.Split(" (Parameter")[0].TrimEnd('.')}");
        }
        return (profile, host);
    }

    /// <summary>A <c>host</c> section: the host's memory in MiB, its NIC, its disk and the disk's interface, each checked as the scenario key it gives.</summary>
    private static Dictionary<string, string> Host(YamlNode node, string source)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw new ScenarioException($"{source}, line {node.Start.Line}: host is a mapping of {string.Join(", ", HostKeys.Select(k => k.Key))}");
        }
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((YamlNode k, YamlNode v) in mapping.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            string scenarioKey = HostKeys.FirstOrDefault(h => h.Key == key).ScenarioKey
                ?? throw new ScenarioException($"{source}, line {k.Start.Line}: unknown key '{key}' in host; the keys are {string.Join(", ", HostKeys.Select(h => h.Key))}");
            string value = (v as YamlScalarNode)?.Value ?? "";
            string? problem = scenarioKey switch
            {
                "host_memory_mib" => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long mib) && mib is >= 64 and <= 1L << 24 ? null : $"'{value}' is not a whole number of MiB from 64 to {1L << 24}",
                "nic" => WorkloadScenario.Nics.Contains(value) ? null : $"there is no NIC '{value}'; the NICs are: {string.Join(", ", WorkloadScenario.Nics)}",
                "disk" => WorkloadScenario.Disks.Contains(value) ? null : $"there is no disk '{value}'; the disks are: {string.Join(", ", WorkloadScenario.Disks)}",
                _ => WorkloadScenario.DiskInterfaces.Contains(value) ? null : $"there is no disk interface '{value}'; the interfaces are: {string.Join(", ", WorkloadScenario.DiskInterfaces)}",
            };
            if (problem is not null)
            {
                throw new ScenarioException($"{source}, line {v.Start.Line}: host: {key}: {problem}");
            }
            given[scenarioKey] = value;
        }
        return given;
    }

    /// <summary>A profile as a file that <see cref="Parse"/> reads back to the same profile.</summary>
    public static string Write(HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# Hardware profile {profile.Name}, as virtsim profiles show writes it: every figure of the model's profile,\n");
        text.Append("# its sources at the end. Change what your host has, or keep 'base: NAME' and only what differs (docs/planning.md).\n");
        WriteRecord(text, profile, 0);
        return text.ToString();
    }

    private static void WriteRecord(StringBuilder text, object record, int indent)
    {
        foreach (PropertyInfo property in Figures(record.GetType()))
        {
            object? value = property.GetValue(record);
            text.Append(' ', indent).Append(KeyOf(property.Name)).Append(':');
            switch (value)
            {
                case null:
                    text.Append(" null\n");
                    break;
                case IReadOnlyDictionary<Instruction, int> cycles:
                    text.Append('\n');
                    foreach ((Instruction i, int c) in cycles.OrderBy(p => p.Key))
                    {
                        text.Append(' ', indent + 2).Append(CultureInfo.InvariantCulture, $"{i}: {c}\n");
                    }
                    break;
                case IReadOnlyList<string> lines:
                    text.Append('\n');
                    foreach (string line in lines)
                    {
                        text.Append(' ', indent + 2).Append("- ").Append(Quoted(line)).Append('\n');
                    }
                    break;
                case string s:
                    text.Append(' ').Append(Quoted(s)).Append('\n');
                    break;
                case bool b:
                    text.Append(b ? " true\n" : " false\n");
                    break;
                case double d:
                    text.Append(' ').Append(d.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    break;
                case int or long or ulong:
                    text.Append(' ').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
                    break;
                default:
                    text.Append('\n');
                    WriteRecord(text, value, indent + 2);
                    break;
            }
        }
    }

    /// <summary>A string as a double-quoted YAML scalar.</summary>
    private static string Quoted(string s)
    {
        var quoted = new StringBuilder("\"");
        foreach (char c in s)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                < ' ' => quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}"),
                _ => quoted.Append(c),
            };
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>
    /// The record of <paramref name="type"/> that <paramref name="node"/> gives, over
    /// <paramref name="start"/> (the base's) where there is one; each figure given is added to
    /// <paramref name="given"/> by its key path.
    /// </summary>
    private static object Read(Type type, YamlNode node, object? start, string source, string path, List<string> given)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw new ScenarioException($"{source}, line {node.Start.Line}: {Trim(path)}: a mapping of {string.Join(", ", Figures(type).Select(p => KeyOf(p.Name)))}");
        }
        PropertyInfo[] figures = Figures(type);
        var values = new Dictionary<PropertyInfo, object?>();
        foreach ((YamlNode keyNode, YamlNode valueNode) in mapping.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            PropertyInfo property = figures.FirstOrDefault(p => KeyOf(p.Name) == key)
                ?? throw new ScenarioException($"{source}, line {keyNode.Start.Line}: {(path.Length == 0 ? "" : path + ": ")}unknown key '{key}'; the keys are: {string.Join(", ", figures.Select(p => KeyOf(p.Name)))}{(path.Length == 0 ? ", base" : "")}");
            string at = path.Length == 0 ? key : $"{path}.{key}";
            values[property] = Value(property.PropertyType, valueNode, start is null ? null : property.GetValue(start), source, at, given);
        }
        object record;
        if (start is not null)
        {
            record = type.GetMethod("<Clone>$")!.Invoke(start, null)!;
        }
        else if (type.GetConstructor(Type.EmptyTypes) is { } empty)
        {
            record = empty.Invoke(null);
            string[] missing = [.. figures.Where(p => p.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.RequiredMemberAttribute") && !values.ContainsKey(p)).Select(p => KeyOf(p.Name))];
            Missing(missing, mapping, source, path);
        }
        else
        {
            ConstructorInfo constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
            ParameterInfo[] parameters = constructor.GetParameters();
            Missing([.. parameters.Where(p => !p.HasDefaultValue && !values.Keys.Any(v => v.Name == p.Name)).Select(p => KeyOf(p.Name!))], mapping, source, path);
            record = constructor.Invoke([.. parameters.Select(p => values.FirstOrDefault(v => v.Key.Name == p.Name) is { Key: not null } v ? v.Value : p.DefaultValue)]);
        }
        foreach ((PropertyInfo property, object? value) in values)
        {
            property.SetValue(record, value);
        }
        return record;
    }

    private static void Missing(string[] missing, YamlMappingNode mapping, string source, string path)
    {
        if (missing.Length > 0)
        {
            throw new ScenarioException($"{source}, line {mapping.Start.Line}: {(path.Length == 0 ? "the profile" : path)} lacks {string.Join(", ", missing)}; give them, or start from a built-in profile with 'base: NAME'");
        }
    }

    /// <summary>The value of a figure of <paramref name="type"/> that <paramref name="node"/> gives (over <paramref name="start"/> for a nested record or the instructions' cycles).</summary>
    private static object? Value(Type type, YamlNode node, object? start, string source, string path, List<string> given)
    {
        Type actual = Nullable.GetUnderlyingType(type) ?? type;
        if (node is YamlScalarNode { Value: "null" or "~" } && IsNullable(type))
        {
            given.Add(path);
            return null;
        }
        if (actual == typeof(IReadOnlyDictionary<Instruction, int>))
        {
            return Cycles(node, (IReadOnlyDictionary<Instruction, int>?)start, source, path, given);
        }
        if (actual == typeof(IReadOnlyList<string>))
        {
            given.Add(path);
            return node is YamlSequenceNode list && list.Children.All(c => c is YamlScalarNode)
                ? list.Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList()
                : throw new ScenarioException($"{source}, line {node.Start.Line}: {path}: a list of lines");
        }
        if (actual.IsClass && actual != typeof(string))
        {
            return Read(actual, node, start, source, path, given);
        }
        given.Add(path);
        string text = Scalar(node, source, path);
        object? parsed = actual == typeof(string) ? text
            : actual == typeof(bool) ? text switch { "true" => true, "false" => false, _ => null }
            : actual == typeof(int) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
            : actual == typeof(ulong) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong u) ? u
            : actual == typeof(double) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? d
            : null;
        return parsed ?? throw new ScenarioException($"{source}, line {node.Start.Line}: {path}: '{text}' is not {(actual == typeof(bool) ? "true or false" : actual == typeof(double) ? "a number" : actual == typeof(ulong) ? "a whole number, 0 or more" : "a whole number")}");
    }

    /// <summary>The named instructions' cycles: each given one set, over the base's where there is one; every instruction is needed without a base.</summary>
    private static Dictionary<Instruction, int> Cycles(YamlNode node, IReadOnlyDictionary<Instruction, int>? start, string source, string path, List<string> given)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw new ScenarioException($"{source}, line {node.Start.Line}: {path}: a mapping of instructions to cycles");
        }
        var cycles = start is null ? new Dictionary<Instruction, int>() : new Dictionary<Instruction, int>(start);
        foreach ((YamlNode keyNode, YamlNode valueNode) in mapping.Children)
        {
            string name = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!Enum.TryParse(name, ignoreCase: false, out Instruction instruction) || !Enum.IsDefined(instruction) || int.TryParse(name, out _))
            {
                throw new ScenarioException($"{source}, line {keyNode.Start.Line}: {path}: there is no instruction '{name}'; the instructions are: {string.Join(", ", Enum.GetNames<Instruction>())}");
            }
            given.Add($"{path}.{name}");
            string text = Scalar(valueNode, source, $"{path}.{name}");
            cycles[instruction] = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int c) && c >= 0 ? c
                : throw new ScenarioException($"{source}, line {valueNode.Start.Line}: {path}.{name}: '{text}' is not a whole number of cycles, 0 or more");
        }
        return cycles;
    }

    private static string Scalar(YamlNode node, string source, string path) =>
        node is YamlScalarNode { Value: { } value } ? value : throw new ScenarioException($"{source}, line {node.Start.Line}: {path}: a single value, not a list or a mapping");

    private static bool IsNullable(Type type) => Nullable.GetUnderlyingType(type) is not null || (type.IsClass && type != typeof(string));

    private static string Trim(string path) => path.Length == 0 ? "the profile" : path;

    /// <summary>The figures of a profile's record: its public properties that a file can set, in declaration order.</summary>
    private static PropertyInfo[] Figures(Type type) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true } && p.Name != "EqualityContract").OrderBy(p => p.MetadataToken)];

    /// <summary>A property's key: its name in snake case (FrequencyHz, frequency_hz; L1Instruction, l1_instruction).</summary>
    internal static string KeyOf(string name)
    {
        var key = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
            {
                key.Append('_');
            }
            key.Append(char.ToLowerInvariant(c));
        }
        return key.ToString();
    }
}
