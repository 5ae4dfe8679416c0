using System.Globalization;

namespace Sim.Experiments.Scenarios;

/// <summary>
/// A list of CPUs as Linux writes one (cpuset.cpus, /sys/devices/system/cpu/online, taskset -c):
/// numbers and ranges separated by commas, "0-3,8".
/// </summary>
public static class CpuList
{
    /// <summary>The CPUs <paramref name="text"/> names, ascending and each once; null when it is not a CPU list.</summary>
    public static int[]? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cpus = new SortedSet<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] ends = part.Split('-', StringSplitOptions.TrimEntries);
            if (ends.Length is < 1 or > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                return null;
            }
            int first = int.Parse(ends[0], CultureInfo.InvariantCulture), last = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (last < first || last > 4095)
            {
                return null;
            }
            for (int c = first; c <= last; c++)
            {
                cpus.Add(c);
            }
        }
        return [.. cpus];
    }
}
