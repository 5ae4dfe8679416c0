using System.Text;

namespace Sim.Experiments.Output;

/// <summary>
/// Writes one file whole or not at all: into a temporary file beside it, named for this process
/// and a counter so that concurrent writers (the threads of a sweep, or the array tasks of a
/// cluster sharing a folder) never share one, then renamed over the target.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, string text) => Write(path, new UTF8Encoding(false).GetBytes(text));

    public static void Write(string path, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(bytes);
        string partial = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            File.WriteAllBytes(partial, bytes);
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }
}
