using System.CommandLine;

namespace Sim.Cli;

/// <summary>The command tree of <c>virtsim</c>; each command lives in its own file.</summary>
internal static class VirtsimCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand(
            "virtsim: a deterministic discrete-event simulator of virtualization architectures.\n" +
            "'run --workload NAME' runs a workload on the x86 machine model, natively or under a preset; 'compare' puts the presets side by side;\n" +
            "'explain' traces one operation through the machine; 'sweep' runs a grid of scenarios; 'validate' compares with published results;\n" +
            "'reproduce' regenerates results/; 'run' alone demonstrates the event engine on a queueing station checked against theory.");
        root.Subcommands.Add(RunCommand.Build());
        root.Subcommands.Add(CompareCommand.Build());
        root.Subcommands.Add(ProfilesCommand.Build());
        root.Subcommands.Add(IsaCommand.Build());
        root.Subcommands.Add(CalibrateCommand.Build());
        root.Subcommands.Add(NanobenchCommand.Build());
        root.Subcommands.Add(ValidateCommand.Build());
        root.Subcommands.Add(ExplainCommand.Build());
        root.Subcommands.Add(ReproduceCommand.Build());
        root.Subcommands.Add(SweepCommand.Build());
        root.Subcommands.Add(DensityCommand.Build());
        root.Subcommands.Add(MergeCommand.Build());
        root.Subcommands.Add(WorkloadsCommand.Build());
        root.Subcommands.Add(VersionCommand.Build());
        return root;
    }
}
