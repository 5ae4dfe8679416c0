using Sim.Experiments.Native;
using Sim.Experiments.Output;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Workloads;

namespace Sim.Cli;

/// <summary>The <c>virtsim run --workload</c> path: one workload on one machine, natively for now.</summary>
internal static class WorkloadRunner
{
    public static readonly string[] Presets = ["native", "type1", "type2", "paravirt", "oslevel"];

    public static int Execute(string workloadName, string profileName, string preset, long? size, ulong seed, bool json, string? outDir, bool force, string disk, string diskInterface)
    {
        if (disk is not ("ssd" or "hdd"))
        {
            return Fail($"there is no disk '{disk}'; the disks are: ssd, hdd.");
        }
        if (diskInterface is not ("ahci" or "ata-pio"))
        {
            return Fail($"there is no disk interface '{diskInterface}'; the interfaces are: ahci, ata-pio.");
        }
        var configuration = MachineConfiguration.Default with
        {
            Disk = disk == "ssd" ? DiskKind.SolidState : DiskKind.Rotating,
            DiskInterface = diskInterface == "ahci" ? DiskInterface.Ahci : DiskInterface.AtaPio,
        };
        (IWorkload workload, long defaultSize) found;
        HardwareProfile profile;
        try
        {
            found = WorkloadCatalog.Get(workloadName);
            profile = HardwareProfiles.Get(profileName);
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message.Split(" (Parameter")[0]);
        }
        if (Array.IndexOf(Presets, preset) < 0)
        {
            return Fail($"there is no preset '{preset}'; the presets are: {string.Join(", ", Presets)}.");
        }
        if (preset != "native")
        {
            return Fail($"preset '{preset}' needs the hypervisor models of the virtualization issue, which are not built yet; only 'native' runs today.");
        }
        long n = size ?? found.defaultSize;
        if (n < 1)
        {
            return Fail("--size must be positive.");
        }
        string target = outDir ?? Path.Combine("runs", $"{workloadName}-{profileName}-native");
        ResultsFolder folder;
        try
        {
            folder = ResultsFolder.Begin(target, replace: outDir is null || force);
        }
        catch (IOException e)
        {
            return Fail(e.Message);
        }
        try
        {
            NativeRunResult result = NativeRun.Run(profile, found.workload, n, seed, configuration);
            string summary = NativeRunReport.ToJson(result);
            folder.WriteText("stats.csv", w => StatsCsv.Write(w, [result.Run]));
            folder.WriteText("summary.json", w => w.Write(summary));
            folder.WriteText("scenario.json", w => w.Write(JsonText.Of(
                new Dictionary<string, object> { ["workload"] = workloadName, ["profile"] = profileName, ["preset"] = preset, ["size"] = n, ["seed"] = seed, ["disk"] = disk, ["disk_interface"] = diskInterface })));
            folder.Commit();
            Console.Write(json ? summary : NativeRunReport.ToText(result, found.workload.Description) + $"\nResults: {folder.Target}\n");
            return 0;
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"virtsim run: {message}");
        return 2;
    }
}
