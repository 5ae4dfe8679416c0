using System.Security.Cryptography;
using System.Text;

namespace Sim.Experiments.Output;

/// <summary>
/// An exclusive claim of one process on one output folder, so that two runs given the same
/// <c>--out</c> cannot both write it: the second is refused while the first holds the claim.
/// </summary>
/// <remarks>
/// The claim is a lock file opened with <see cref="FileShare.None"/>, which .NET takes as an
/// exclusive, non-blocking advisory lock (flock on Unix, a share mode on Windows); the operating
/// system drops it when the process ends, so a crashed run leaves no claim behind. The lock files
/// live in the system's temporary folder, one per folder's full path (its SHA-256), and are never
/// deleted: deleting a lock file while another process opens it would let two processes hold
/// locks on two different files of the same name. Model of reach: processes of one machine and
/// one temporary folder; two spellings of a folder through a symbolic link are two folders.
/// </remarks>
public sealed class FolderLock : IDisposable
{
    private readonly FileStream _file;

    private FolderLock(FileStream file) => _file = file;

    /// <summary>Claims <paramref name="fullPath"/>, or throws a <see cref="ResultsFolderException"/> naming the folder if another process holds it.</summary>
    public static FolderLock Take(string fullPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(fullPath);
        string folder = Path.Combine(Path.GetTempPath(), "virtsim-locks");
        string name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fullPath))) + ".lock";
        try
        {
            Directory.CreateDirectory(folder);
            return new FolderLock(new FileStream(Path.Combine(folder, name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            throw new ResultsFolderException($"another virtsim process is writing '{fullPath}' now; wait for it to finish or choose another --out.");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ResultsFolderException($"cannot take the lock of '{fullPath}' in {folder}: {e.Message}");
        }
    }

    public void Dispose() => _file.Dispose();
}
