using System.Globalization;
using System.Text;
using Sim.Models.Hardware;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Explain;

/// <summary>The scenario file (YAML, docs/scenarios.md) of a workload under an architecture, as the lecture page offers it for download.</summary>
public static class ScenarioText
{
    /// <summary>
    /// A scenario running <paramref name="workload"/> on <paramref name="profile"/> under
    /// <paramref name="axes"/>: the preset it differs least from (the first such), and each axis it
    /// changes; the size when given; <paramref name="comment"/> as its first line.
    /// </summary>
    public static string Of(string workload, HardwareProfile profile, VirtualizationAxes axes, long? size, string comment)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(axes);
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"# {comment}\nworkload: {workload}\n");
        if (size is { } n)
        {
            sb.Append(ci, $"size: {n}\n");
        }
        sb.Append(ci, $"profile: {profile.Name}\n");
        static int Differ(VirtualizationAxes a, VirtualizationAxes b) => (a.Cpu != b.Cpu ? 1 : 0) + (a.Mmu != b.Mmu ? 1 : 0) + (a.Io != b.Io ? 1 : 0) + (a.Hosting != b.Hosting ? 1 : 0);
        string preset = VirtualizationAxes.Presets.MinBy(p => Differ(VirtualizationAxes.ForPreset(p, profile), axes))!;
        sb.Append(ci, $"preset: {preset}\n");
        VirtualizationAxes presetAxes = VirtualizationAxes.ForPreset(preset, profile);
        void Axis(string key, string value, string presetValue)
        {
            if (value != presetValue)
            {
                sb.Append(ci, $"{key}: {value}\n");
            }
        }
        Axis("cpu", AxisNames.Of(axes.Cpu), AxisNames.Of(presetAxes.Cpu));
        Axis("mmu", AxisNames.Of(axes.Mmu), AxisNames.Of(presetAxes.Mmu));
        Axis("io", AxisNames.Of(axes.Io), AxisNames.Of(presetAxes.Io));
        Axis("hosting", AxisNames.Of(axes.Hosting), AxisNames.Of(presetAxes.Hosting));
        return sb.ToString();
    }
}
