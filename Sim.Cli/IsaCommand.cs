using System.CommandLine;
using Sim.Experiments.Reports;

namespace Sim.Cli;

/// <summary><c>virtsim isa</c>: the table of privileged and sensitive instructions and what VT-x does with each (as docs/isa.md).</summary>
internal static class IsaCommand
{
    public static Command Build()
    {
        var command = new Command("isa", "Print which x86 instructions are privileged or sensitive, and what VT-x does with each.");
        command.SetAction(_ =>
        {
            Console.Write(InstructionTableReport.ToMarkdown());
            return 0;
        });
        return command;
    }
}
