using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Sim.Experiments.Scenarios;

/// <summary>
/// Reads a scenario file: YAML, one mapping of the keys in docs/scenarios.md. Anything else is
/// refused with the file, the line, the key and what is allowed: a key that does not exist, a
/// value of the wrong type, a value that cannot be (an unknown workload, a size of zero), or text
/// that is not YAML.
/// </summary>
public static class ScenarioFile
{
    public static WorkloadScenario Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Parse(YamlFile.Read(path, "scenario"), path);
    }

    public static WorkloadScenario Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        YamlNode? root = YamlFile.Root(text, source);
        return root is null or YamlScalarNode { Value: null or "" }
            ? throw new ScenarioException($"{source}: the file holds no scenario (it is empty or only comments); give at least 'workload: NAME' (docs/scenarios.md).")
            : FromNode(root, source);
    }

    /// <summary>The scenario a YAML mapping describes (a file's root, or the conditions of a reference experiment), checked as a file is.</summary>
    /// <param name="containerLimitsForOslevel">A study's base: the containers' limits it holds apply under oslevel only, so the keys together are checked without them (<see cref="WorkloadScenario.WithoutContainerLimits"/>).</param>
    public static WorkloadScenario FromNode(YamlNode node, string source, bool containerLimitsForOslevel = false)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node is not YamlMappingNode root)
        {
            throw new ScenarioException($"{source}, line {node.Start.Line}: a scenario is a mapping of keys to values ({string.Join(", ", WorkloadScenario.Keys)}).");
        }
        var scenario = new WorkloadScenario();
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach ((YamlNode keyNode, YamlNode valueNode) in root.Children)
        {
            string key = (keyNode as YamlScalarNode)?.Value ?? "";
            given.Add(key);
            if (Array.IndexOf(WorkloadScenario.Keys, key) < 0)
            {
                throw new ScenarioException($"{source}, line {keyNode.Start.Line}: unknown key '{key}'; the keys are: {string.Join(", ", WorkloadScenario.Keys)}.");
            }
            string where = $"{source}, line {valueNode.Start.Line}";
            string? value = valueNode is YamlScalarNode { Value: { } v } ? v
                : key is "guest_workloads" or "outputs" && valueNode is YamlSequenceNode list && list.Children.All(c => c is YamlScalarNode)
                    ? string.Join(",", list.Children.Select(c => ((YamlScalarNode)c).Value))
                    : null;
            if (value is { Length: > MaxValueCharacters })
            {
                throw new ScenarioException($"{where}: {key}: a value of {value.Length} characters; no scenario value is longer than {MaxValueCharacters}.");
            }
            if (value is null)
            {
                throw new ScenarioException($"{where}: '{key}' takes a single value, not {(key == "guest_workloads" ? "a mapping (give a list of workload or workload:size)" : "a list or a mapping")}.");
            }
            scenario = With(scenario, key, value, where);
            if (scenario.Problem(key) is { } problem)
            {
                throw new ScenarioException($"{where}: {key}: {problem}.");
            }
        }
        scenario = WithProfileHost(scenario, given.Contains, source);
        if ((containerLimitsForOslevel ? scenario.WithoutContainerLimits() : scenario).CombinationProblem() is { } combined)
        {
            throw new ScenarioException($"{source}: {combined}.");
        }
        return scenario;
    }

    /// <summary>
    /// <paramref name="scenario"/> with what its profile file's <c>host</c> section gives
    /// (<see cref="ProfileFile.HostOf"/>: the host's memory, NIC, disk and disk interface) for each
    /// key <paramref name="given"/> does not hold: the planner's host as a whole, the scenario's own
    /// keys over it. A built-in profile, or a profile file that cannot be read, gives nothing here.
    /// </summary>
    public static WorkloadScenario WithProfileHost(WorkloadScenario scenario, Func<string, bool> given, string source)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(given);
        if (!ProfileFile.Names(scenario.Profile) || scenario.Problem("profile") is not null)
        {
            return scenario;
        }
        foreach ((string key, string value) in ProfileFile.HostOf(scenario.Profile).Where(kv => !given(kv.Key)))
        {
            scenario = With(scenario, key, value, $"{source} (the host of {scenario.Profile})");
        }
        return scenario;
    }

    /// <summary>The longest value a key may have (the longest real one, a list of guests' workloads, is far shorter), so that an error message can quote it.</summary>
    private const int MaxValueCharacters = 4096;

    private static WorkloadScenario With(WorkloadScenario s, string key, string value, string where) => key switch
    {
        "workload" => s with { Workload = value },
        "profile" => s with { Profile = value },
        "preset" => s with { Preset = value },
        "cpu" => s with { Cpu = value },
        "mmu" => s with { Mmu = value },
        "io" => s with { Io = value },
        "hosting" => s with { Hosting = value },
        "size" => s with { Size = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw WrongType(where, key, value, "a whole number") },
        "seed" => s with { Seed = ulong.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong n) ? n : throw WrongType(where, key, value, "a whole number from 0 to 18446744073709551615") },
        "repetitions" => s with { Repetitions = WholeNumber(where, key, value) },
        "disk" => s with { Disk = value },
        "disk_interface" => s with { DiskInterface = value },
        "nic" => s with { Nic = value },
        "shadow_cache_roots" => s with { ShadowCacheRoots = WholeNumber(where, key, value) },
        "unshadow_after_writes" => s with { UnshadowAfterWrites = WholeNumber(where, key, value) },
        "translation_cache_kib" => s with { TranslationCacheKiB = WholeNumber(where, key, value) },
        "virtio_backend" => s with { VirtioBackend = value },
        "virtio_transport" => s with { VirtioTransport = value },
        "iothread_cpu" => s with { IoThreadCpu = value },
        "iothread_poll_max_ns" => s with { IoThreadPollMaxNs = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long poll) ? poll : throw WrongType(where, key, value, "a whole number of nanoseconds") },
        "host_scheduler" => s with { HostScheduler = value },
        "guest_memory_backing" => s with { GuestMemoryBacking = value },
        "transparent_hugepages" => s with { TransparentHugePages = value },
        "host_swap_mib" => s with { HostSwapMiB = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long hostSwap) ? hostSwap : throw WrongType(where, key, value, "a whole number of MiB") },
        "swap_mib" => s with { SwapMiB = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long swap) ? swap : throw WrongType(where, key, value, "a whole number of MiB") },
        "container_swap" => s with { ContainerSwap = Boolean(where, key, value) },
        "container_network" => s with { ContainerNetwork = value },
        "khugepaged_sleep_ms" => s with { KhugepagedSleepMs = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double khugepaged) ? khugepaged : throw WrongType(where, key, value, "a number of milliseconds") },
        "guest_boot_cache_mib" => s with { GuestBootCacheMiB = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long cache) ? cache : throw WrongType(where, key, value, "a whole number of MiB") },
        "guest_boot_anon_mib" => s with { GuestBootAnonMiB = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long anon) ? anon : throw WrongType(where, key, value, "a whole number of MiB") },
        "balloon_mib" => s with { BalloonMiB = value == "none" ? null : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw WrongType(where, key, value, "a whole number of MiB or none") },
        "balloon_at_ms" => value == "boot" ? s with { BalloonAtBoot = true } : s with { BalloonAtBoot = false, BalloonAtMs = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double at) ? at : throw WrongType(where, key, value, "a number of milliseconds or boot") },
        "ksm_pages_to_scan" => s with { KsmPagesToScan = value == "none" ? null : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long pages) ? pages : throw WrongType(where, key, value, "a whole number of pages or none") },
        "ksm_sleep_ms" => s with { KsmSleepMs = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double sleep) ? sleep : throw WrongType(where, key, value, "a number of milliseconds") },
        "inline_emulation" => s with { InlineEmulation = Boolean(where, key, value) },
        "unsync_shadow_pages" => s with { UnsyncShadowPages = Boolean(where, key, value) },
        "shadow_prefetch" => s with { ShadowPrefetch = Boolean(where, key, value) },
        "large_ept_pages" => s with { LargeEptPages = Boolean(where, key, value) },
        "pv_spinlocks" => s with { PvSpinlocks = Boolean(where, key, value) },
        "pv_tlb_flush" => s with { PvTlbFlush = Boolean(where, key, value) },
        "container_memory_mib" => s with { ContainerMemoryMiB = value == "none" ? null : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw WrongType(where, key, value, "a whole number or none") },
        "container_cpus" => s with { ContainerCpus = value == "none" ? null : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw WrongType(where, key, value, "a number or none") },
        "container_cpuset" => s with { ContainerCpuset = value == "none" ? null : value },
        "container_shares" => s with { ContainerShares = value == "none" ? null : value },
        "guests" => s with { Guests = WholeNumber(where, key, value) },
        "guest_workloads" => s with { GuestWorkloads = value == "none" ? null : value },
        "vcpu_weights" => s with { VcpuWeights = value == "none" ? null : value },
        "vcpu_caps" => s with { VcpuCaps = value == "none" ? null : value },
        "vcpus" => s with { Vcpus = value == "none" ? null : value },
        "vcpu_pinning" => s with { VcpuPinning = value == "none" ? null : value },
        "ple_window" => s with { PleWindow = value },
        "ple_gap" => s with { PleGap = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long gap) ? gap : throw WrongType(where, key, value, "a whole number of TSC cycles") },
        "host_processes" => s with { HostProcesses = WholeNumber(where, key, value) },
        "host_cores" => s with { HostCores = value == "none" ? null : WholeNumber(where, key, value) },
        "irq_cpu" => s with { IrqCpu = WholeNumber(where, key, value) },
        "sockets" => s with { Sockets = value == "none" ? null : WholeNumber(where, key, value) },
        "cores_per_socket" => s with { CoresPerSocket = value == "none" ? null : WholeNumber(where, key, value) },
        "threads_per_core" => s with { ThreadsPerCore = value == "none" ? null : WholeNumber(where, key, value) },
        "jobs" => s with { Jobs = WholeNumber(where, key, value) },
        "ioengine" => s with { IoEngine = value },
        "iodepth" => s with { IoDepth = WholeNumber(where, key, value) },
        "process_threads" => s with { Threads = WholeNumber(where, key, value) },
        "sync_quantum_ns" => s with { SyncQuantumNs = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double q) ? q : throw WrongType(where, key, value, "a number of nanoseconds") },
        "request_rate" => s with { RequestRate = value == "none" ? null : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw WrongType(where, key, value, "a number or none") },
        "guest_memory_mib" => s with { GuestMemoryMiB = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw WrongType(where, key, value, "a whole number") },
        "host_memory_mib" => s with { HostMemoryMiB = value == "none" ? null : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw WrongType(where, key, value, "a whole number or none") },
        "outputs" => s with { Outputs = value },
        "time_limit_ms" => s with { TimeLimitMs = value == "none" ? null : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw WrongType(where, key, value, "a whole number or none") },
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "Not a scenario key."),
    };

    private static int WholeNumber(string where, string key, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw WrongType(where, key, value, "a whole number");

    private static bool Boolean(string where, string key, string value) =>
        value switch { "true" => true, "false" => false, _ => throw WrongType(where, key, value, "true or false") };

    private static ScenarioException WrongType(string where, string key, string value, string expected) =>
        new($"{where}: {key}: '{value}' is not {expected}.");
}

/// <summary>A scenario that cannot run, with where and why.</summary>
public class ScenarioException(string message) : Exception(message);

/// <summary>A scenario whose simulated machine ran out of physical memory while it ran: it asks more of the machine than it has.</summary>
public sealed class MemoryExhaustedException(string message) : ScenarioException(message);
