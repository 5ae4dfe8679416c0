using System.CommandLine;
using Sim.Cli;

return VirtsimCommand.Build().Parse(args).Invoke();
