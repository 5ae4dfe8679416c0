using System.Globalization;
using System.Text;

namespace Sim.Models.Virtualization;

/// <summary>The command-line spelling of an axis value: its member name in kebab case (HardwareAssist is hardware-assist).</summary>
public static class AxisNames
{
    public static string Of<TAxis>(TAxis value)
        where TAxis : struct, Enum
    {
        string name = value.ToString();
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('-');
            }
            sb.Append(char.ToLower(name[i], CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Every value's name, in declaration order.</summary>
    public static IReadOnlyList<string> All<TAxis>()
        where TAxis : struct, Enum => Enum.GetValues<TAxis>().Select(Of).ToArray();

    /// <summary>The value named <paramref name="name"/>, or null.</summary>
    public static TAxis? Parse<TAxis>(string name)
        where TAxis : struct, Enum => Enum.GetValues<TAxis>().Where(v => Of(v) == name).Select(v => (TAxis?)v).FirstOrDefault();
}
