using System.CommandLine;

namespace Sim.Cli;

/// <summary>The command tree of <c>virtsim</c>; each command lives in its own file.</summary>
internal static class VirtsimCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "virtsim: a deterministic discrete-event simulator of virtualization architectures.\n" +
            "'run' alone tours the architectures: a few workloads natively and under five architectures, their slowdowns, exits and cycles;\n" +
            "'run --workload NAME' runs one workload on the machine model, natively or under a preset; 'compare' puts the presets side by side;\n" +
            "'explain' traces one operation through the machine; 'sweep' runs a grid of scenarios; 'density' finds how many guests fit;\n" +
            "'validate' compares with published results; 'reproduce' regenerates results/; 'engine-check' checks the event engine against queueing theory.");
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(CompareCommand.Build());
        root.Subcommands.Add(ProfilesCommand.Build());
        root.Subcommands.Add(IsaCommand.Build());
        root.Subcommands.Add(CalibrateCommand.Build());
        root.Subcommands.Add(NanobenchCommand.Build());
        root.Subcommands.Add(ValidateCommand.Build());
        root.Subcommands.Add(ExplainCommand.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(ReproduceCommand.Build());
        root.Subcommands.Add(SweepCommand.Build());
        root.Subcommands.Add(DensityCommand.Build());
        root.Subcommands.Add(MergeCommand.Build());
        root.Subcommands.Add(WorkloadsCommand.Build());
        root.Subcommands.Add(WorkloadCommand.Build());
        root.Subcommands.Add(EngineCheckCommand.Build());
        root.Subcommands.Add(VersionCommand.Build());
        return root;
    }
}
