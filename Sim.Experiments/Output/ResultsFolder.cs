namespace Sim.Experiments.Output;

/// <summary>
/// Writes a results folder atomically and alone. Every file goes into a staging folder of this
/// process's own beside the target, which is renamed into place only when all of it is written,
/// so an interrupted or failed run leaves no folder that looks complete. While it writes, the
/// process holds a lock on the target (<see cref="FolderLock"/>): a second process that asks for
/// the same folder is refused at once with a clear error, before it simulates anything, instead
/// of sharing or deleting the first one's staging folder.
/// </summary>
public sealed class ResultsFolder : IDisposable
{
    private const string StagingSuffix = ".partial";

    private readonly string _target;
    private readonly string _staging;
    private readonly bool _replace;
    private FolderLock? _lock;

    private ResultsFolder(string target, string staging, bool replace, FolderLock held)
    {
        _target = target;
        _staging = staging;
        _replace = replace;
        _lock = held;
    }

    public string Target => _target;

    /// <summary>
    /// Checks that <paramref name="target"/> may be written (it must not exist unless
    /// <paramref name="replace"/>, and no other process may be writing it) before any simulation
    /// time is spent, takes the lock and prepares staging. Every reason it cannot is a
    /// <see cref="ResultsFolderException"/> (an <see cref="IOException"/>) that says which.
    /// </summary>
    public static ResultsFolder Begin(string target, bool replace)
    {
        string full = FullPath(target);
        string parent = Path.GetDirectoryName(full) is { Length: > 0 } p && Path.GetFileName(full).Length > 0
            ? p : throw new ResultsFolderException($"'{target}' cannot be a results folder: it names no folder inside another.");
        if (!replace && (Directory.Exists(full) || File.Exists(full)))
        {
            throw new ResultsFolderException($"The results folder '{full}' already exists; choose another --out or pass --force to replace it.");
        }
        if (File.Exists(full))
        {
            throw new ResultsFolderException($"'{full}' is a file, not a results folder; nothing was replaced.");
        }
        FolderLock held = FolderLock.Take(full);
        try
        {
            string name = "." + Path.GetFileName(full) + StagingSuffix;
            Directory.CreateDirectory(parent);
            // Staging folders of this target left by interrupted runs: no live process owns them, since the lock is ours.
            foreach (string stale in Directory.GetDirectories(parent, name + "*"))
            {
                Directory.Delete(stale, recursive: true);
            }
            string staging = Path.Combine(parent, $"{name}-{Environment.ProcessId}");
            Directory.CreateDirectory(staging);
            return new ResultsFolder(full, staging, replace, held);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            held.Dispose();
            throw new ResultsFolderException($"cannot write the results folder '{full}': {e.Message}");
        }
    }

    /// <summary>Writes one file into the staging folder.</summary>
    public void WriteText(string fileName, Action<TextWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var writer = new StreamWriter(StagedPath(fileName), append: false, new System.Text.UTF8Encoding(false));
        writer.NewLine = "\n";
        write(writer);
    }

    public void WriteBinary(string fileName, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var stream = File.Create(StagedPath(fileName));
        write(stream);
    }

    /// <summary>
    /// Writes the results folder <paramref name="target"/>: checks it may be written before any
    /// work (a <see cref="ResultsFolderException"/> if it exists and may not be replaced, cannot
    /// be written, or another process is writing it), has <paramref name="fill"/> write its files,
    /// and moves it into place; if anything throws, the staging folder is removed and the
    /// exception goes on. Returns the folder's full path.
    /// </summary>
    public static string Produce(string target, bool replace, Action<ResultsFolder> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        using ResultsFolder folder = Begin(target, replace);
        try
        {
            fill(folder);
            folder.Commit();
            return folder.Target;
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    /// <summary>Moves the finished folder into place and lets the target go.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_lock is null, this);
        try
        {
            if (Directory.Exists(_target))
            {
                if (!_replace)
                {
                    throw new ResultsFolderException($"The results folder '{_target}' appeared while the run was going; nothing was replaced.");
                }
                Directory.Delete(_target, recursive: true);
            }
            Directory.Move(_staging, _target);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException and not ResultsFolderException)
        {
            throw new ResultsFolderException($"cannot put the results folder '{_target}' in place: {e.Message}");
        }
        Dispose();
    }

    /// <summary>Removes the staging folder after a failure and lets the target go.</summary>
    public void Abandon()
    {
        if (Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }
        Dispose();
    }

    /// <summary>Lets the target go; a folder neither committed nor abandoned keeps its staging folder, which the next writer removes.</summary>
    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    private static string FullPath(string target)
    {
        if (string.IsNullOrWhiteSpace(target))
        {
            throw new ResultsFolderException("the results folder's name is empty; give --out a folder.");
        }
        try
        {
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new ResultsFolderException($"'{target}' cannot be a results folder: {e.Message}");
        }
    }

    private string StagedPath(string fileName)
    {
        if (fileName.Contains('/', StringComparison.Ordinal) || fileName.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{fileName}' must be a plain file name.", nameof(fileName));
        }
        return Path.Combine(_staging, fileName);
    }
}

/// <summary>Why a results folder cannot be written: it exists, it cannot be created, or another process is writing it.</summary>
public sealed class ResultsFolderException(string message) : IOException(message);
