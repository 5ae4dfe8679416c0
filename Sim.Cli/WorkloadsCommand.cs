using System.CommandLine;
using Sim.Workloads;

namespace Sim.Cli;

/// <summary><c>virtsim workloads</c>: the workloads and what their size means.</summary>
internal static class WorkloadsCommand
{
    public static Command Build()
    {
        var command = new Command("workloads", "List the workloads that 'virtsim run --workload' can run.");
        command.SetAction(_ =>
        {
            int width = WorkloadCatalog.All.Max(entry => entry.Workload.Name.Length);
            foreach ((IWorkload w, long size) in WorkloadCatalog.All)
            {
                Console.WriteLine($"{w.Name.PadRight(width)}  {w.Description} [default size {size:N0}]");
            }
            Console.WriteLine($"{"file:PATH".PadRight(width)}  your own service, from a workload file of what you measured per request (docs/planning.md; check it with 'virtsim workload check PATH') [default size {Sim.Experiments.Scenarios.WorkloadFile.DefaultSize:N0}]");
            return 0;
        });
        return command;
    }
}
