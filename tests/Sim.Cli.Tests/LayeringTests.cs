using System.Reflection;

namespace Sim.Cli.Tests;

/// <summary>The layers of DESIGN.md, read from the built assemblies: Cli -> Experiments -> Workloads -> Models -> Engine, never back.</summary>
public class LayeringTests
{
    private static readonly string[] Layers = ["Sim.Engine", "Sim.Models", "Sim.Workloads", "Sim.Experiments", "virtsim"];

    [Fact]
    public void No_assembly_references_a_layer_above_it()
    {
        for (int i = 0; i < Layers.Length; i++)
        {
            Assembly assembly = Assembly.Load(Layers[i]);
            string[] ours = [.. assembly.GetReferencedAssemblies().Select(r => r.Name!).Where(n => Array.IndexOf(Layers, n) >= 0)];
            Assert.All(ours, r => Assert.True(Array.IndexOf(Layers, r) < i, $"{Layers[i]} references {r}, a layer above or beside it"));
        }
    }

    [Fact]
    public void The_engine_knows_nothing_of_files_plots_or_csv()
    {
        string[] references = [.. Assembly.Load("Sim.Engine").GetReferencedAssemblies().Select(r => r.Name!)];
        Assert.DoesNotContain(references, r => r.StartsWith("CsvHelper", StringComparison.Ordinal) || r.StartsWith("ScottPlot", StringComparison.Ordinal));
    }
}
