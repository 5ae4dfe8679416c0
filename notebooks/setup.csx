// Shared by every notebook: the project's libraries as the command-line program builds them
// (build first: dotnet build Simulation.sln), and SkiaSharp's native libraries beside them,
// which a notebook does not find by itself.
#r "../Sim.Cli/bin/Debug/net10.0/ScottPlot.dll"
#r "../Sim.Cli/bin/Debug/net10.0/SkiaSharp.dll"
#r "../Sim.Cli/bin/Debug/net10.0/HarfBuzzSharp.dll"
#r "../Sim.Cli/bin/Debug/net10.0/MathNet.Numerics.dll"
#r "../Sim.Cli/bin/Debug/net10.0/YamlDotNet.dll"
#r "../Sim.Cli/bin/Debug/net10.0/CsvHelper.dll"
#r "../Sim.Cli/bin/Debug/net10.0/Sim.Engine.dll"
#r "../Sim.Cli/bin/Debug/net10.0/Sim.Models.dll"
#r "../Sim.Cli/bin/Debug/net10.0/Sim.Workloads.dll"
#r "../Sim.Cli/bin/Debug/net10.0/Sim.Experiments.dll"

using System.Runtime.InteropServices;

static string NativeFolder(string rid) => System.IO.Path.GetFullPath(System.IO.Path.Combine("..", "Sim.Cli", "bin", "Debug", "net10.0", "runtimes", rid, "native"));

foreach (var assembly in new[] { typeof(SkiaSharp.SKTypeface).Assembly, typeof(HarfBuzzSharp.Blob).Assembly })
{
    NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
    {
        string file = System.IO.Path.Combine(NativeFolder(RuntimeInformation.RuntimeIdentifier), name + (OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so"));
        if (!System.IO.File.Exists(file))
        {
            file = System.IO.Path.Combine(NativeFolder(OperatingSystem.IsLinux() ? "linux-x64" : OperatingSystem.IsMacOS() ? "osx" : "win-x64"), name + (OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so"));
        }
        return System.IO.File.Exists(file) ? NativeLibrary.Load(file) : IntPtr.Zero;
    });
}

/// <summary>Shows a PNG (a chart of the project's) in the notebook.</summary>
static void Show(byte[] png) => Microsoft.DotNet.Interactive.Kernel.display(
    Microsoft.DotNet.Interactive.Kernel.HTML($"<img src='data:image/png;base64,{Convert.ToBase64String(png)}' width='900'/>"));
