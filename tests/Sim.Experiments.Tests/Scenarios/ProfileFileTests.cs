using Sim.Experiments.Runs;
using Sim.Experiments.Scenarios;
using Sim.Models.Cpu;
using Sim.Models.Hardware;

namespace Sim.Experiments.Tests.Scenarios;

/// <summary>A planner's own host as a profile file (docs/planning.md, "Your own host"): written from a built-in profile, derived from one, refused when wrong.</summary>
public class ProfileFileTests
{
    [Fact]
    public void Every_built_in_profile_written_as_a_file_reads_back_to_the_same_figures()
    {
        foreach (HardwareProfile profile in HardwareProfiles.All)
        {
            string file = ProfileFile.Write(profile);
            HardwareProfile read = ProfileFile.Parse(file, profile.Name + ".yaml");
            Assert.Equal(file, ProfileFile.Write(read));
            Assert.Equal(profile.Timing.InstructionCycles.OrderBy(p => p.Key), read.Timing.InstructionCycles.OrderBy(p => p.Key));
            Assert.Equal(profile.Sources, read.Sources);
            Assert.Equal(profile with { Sources = read.Sources, Timing = read.Timing }, read); // the records' own figures, the lists compared above
        }
    }

    [Fact]
    public void A_profile_file_equal_to_a_built_in_one_gives_byte_identical_results()
    {
        string path = Path.Combine(Path.GetTempPath(), $"virtsim-profile-{Environment.ProcessId}-nehalem.yaml");
        File.WriteAllText(path, ProfileFile.Write(HardwareProfiles.NehalemX5570));
        try
        {
            var builtIn = new WorkloadScenario { Workload = "netperf-rr", Profile = "nehalem-x5570", Preset = "type1", Size = 200 };
            WorkloadScenario fromFile = builtIn with { Profile = ProfileFile.Prefix + path };
            Assert.Null(fromFile.FirstProblem());
            WorkloadRunResult a = builtIn.RunOnce(1), b = fromFile.RunOnce(1);
            Assert.Equal(a.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)), b.Run.Samples.Select(s => (s.Path, s.Statistic, s.Value)));
            Assert.Equal(builtIn.DefaultFolderName(), fromFile.DefaultFolderName());
            Assert.Equal(64, ((string)fromFile.Resolved()["profile_sha256"]).Length); // the file as it was, recorded with the results
            Assert.False(builtIn.Resolved().ContainsKey("profile_sha256"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_profile_derived_from_a_built_in_one_changes_only_what_it_gives_and_says_so_in_its_sources()
    {
        HardwareProfile mine = ProfileFile.Parse("base: skylake-sp\nfrequency_hz: 2000000000\ntopology:\n  sockets: 1\ntiming:\n  instruction_cycles:\n    Cpuid: 150\n", "dir/host.yaml");
        HardwareProfile skylake = HardwareProfiles.SkylakeSp8180;
        Assert.Equal("host", mine.Name); // the file's name, as the file gives none
        Assert.Equal(2_000_000_000UL, mine.FrequencyHz);
        Assert.Equal(skylake.Topology with { Sockets = 1 }, mine.Topology);
        Assert.Equal(150, mine.Timing.InstructionCycles[Instruction.Cpuid]);
        Assert.Equal(skylake.Timing.InstructionCycles[Instruction.Rdtsc], mine.Timing.InstructionCycles[Instruction.Rdtsc]);
        Assert.Equal(skylake.L3, mine.L3);
        Assert.Contains("frequency_hz: given by host.yaml, the planner's figure", mine.Sources);
        Assert.Contains("timing.instruction_cycles.Cpuid: given by host.yaml, the planner's figure", mine.Sources);
        Assert.Equal(skylake.Sources.Count + 3, mine.Sources.Count);
    }

    [Theory]
    [InlineData("base: skylake-sp\nfrequency: 2\n", "host.yaml, line 2: unknown key 'frequency'; the keys are: name, description, frequency_hz")]
    [InlineData("base: skylake-sp\nl2:\n  sets: 4\n", "host.yaml, line 3: l2: unknown key 'sets'; the keys are: name, size_bytes, ways, line_bytes, latency_cycles")]
    [InlineData("base: skylake-sp\nfrequency_hz: fast\n", "host.yaml, line 2: frequency_hz: 'fast' is not a whole number, 0 or more")]
    [InlineData("base: skylake-sp\nfeatures:\n  ept: maybe\n", "host.yaml, line 3: features.ept: 'maybe' is not true or false")]
    [InlineData("base: haswell\n", "host.yaml, line 1: base: there is no built-in profile 'haswell'; the profiles are: p4-672")]
    [InlineData("base: skylake-sp\ntiming:\n  instruction_cycles:\n    Vmfunc: 9\n", "host.yaml, line 4: timing.instruction_cycles: there is no instruction 'Vmfunc'")]
    [InlineData("base: skylake-sp\nvmx:\n  vm_entry_cycles: -5\n", "host.yaml: not a profile the machine can have: Profile host: VMX transition costs cannot be negative")]
    [InlineData("base: skylake-sp\nfrequency_hz: 0\n", "host.yaml: not a profile the machine can have: Profile host: the clock must be 1 Hz to 999.999999999 GHz")]
    [InlineData("base: skylake-sp\ntopology:\n  cores_per_socket: 0\n", "host.yaml: not a profile the machine can have: Profile host: a topology has at least one socket, one core per socket")]
    [InlineData("base: skylake-sp\nl2:\n  ways: 7\n", "host.yaml: not a profile the machine can have: Cache L2: the line size must be a power of two and the size a whole number of sets")]
    [InlineData("name: mine\nfrequency_hz: 2000000000\n", "host.yaml, line 1: the profile lacks description, l1_data, l2")]
    [InlineData("base: skylake-sp\nl2: 4\n", "host.yaml, line 2: l2: a mapping of name, size_bytes")]
    [InlineData("- a\n- b\n", "host.yaml: a hardware profile is a mapping of its figures")]
    [InlineData("base: skylake-sp\nhost:\n  nic: rtl8139\n", "host.yaml, line 3: host: nic: there is no NIC 'rtl8139'; the NICs are: e1000, 82599")]
    [InlineData("base: skylake-sp\nhost:\n  memory_mib: 32 GiB\n", "host.yaml, line 3: host: memory_mib: '32 GiB' is not a whole number of MiB from 64")]
    [InlineData("base: skylake-sp\nhost:\n  gpus: 2\n", "host.yaml, line 3: unknown key 'gpus' in host; the keys are memory_mib, nic, disk, disk_interface")]
    public void A_wrong_profile_file_is_refused_with_the_file_the_line_and_what_is_allowed(string text, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ProfileFile.Parse(text, "host.yaml"));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_naming_a_profile_file_that_is_not_there_is_refused_at_the_profile_key()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Parse("profile: file:/nonexistent/host.yaml\n", "s.yaml"));
        Assert.StartsWith("s.yaml, line 1: profile: /nonexistent/host.yaml: cannot read the hardware profile", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_profile_file_s_host_gives_the_scenario_its_memory_nic_and_disk_unless_the_scenario_gives_them()
    {
        string path = Path.Combine(Path.GetTempPath(), $"virtsim-profile-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "base: nehalem-x5570\nhost:\n  memory_mib: 3072\n  nic: 82599\n  disk: nvme\n  disk_interface: nvme\n");
        try
        {
            WorkloadScenario host = ScenarioFile.Parse($"workload: web\nprofile: file:{path}\n", "s.yaml");
            Assert.Equal((3072L, "82599", "nvme", "nvme"), (host.HostMemoryMiB!.Value, host.Nic, host.Disk, host.DiskInterface));
            WorkloadScenario mine = ScenarioFile.Parse($"workload: web\nprofile: file:{path}\nnic: e1000\nhost_memory_mib: 2048\n", "s.yaml");
            Assert.Equal((2048L, "e1000", "nvme"), (mine.HostMemoryMiB!.Value, mine.Nic, mine.Disk)); // the scenario's keys over the host's
            Assert.Equal(HardwareProfiles.NehalemX5570.L3, ProfileFile.Load("file:" + path).L3); // the CPU generation is the base's
        }
        finally
        {
            File.Delete(path);
        }
    }
}
