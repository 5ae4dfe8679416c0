namespace Sim.Experiments.Output;

/// <summary>
/// Writes a results folder atomically: every file goes into a hidden staging folder beside the
/// target, which is renamed into place only when all of it is written. An interrupted or failed
/// run leaves no folder that looks complete (only a staging folder, named as such, which the
/// next run to that target removes).
/// </summary>
public sealed class ResultsFolder
{
    private readonly string _target;
    private readonly string _staging;
    private readonly bool _replace;

    private ResultsFolder(string target, bool replace)
    {
        _target = Path.GetFullPath(target);
        _replace = replace;
        string parent = Path.GetDirectoryName(_target) ?? throw new ArgumentException($"'{target}' has no parent folder.", nameof(target));
        _staging = Path.Combine(parent, "." + Path.GetFileName(_target) + ".partial");
    }

    public string Target => _target;

    /// <summary>
    /// Checks that <paramref name="target"/> may be written (it must not exist unless
    /// <paramref name="replace"/>) before any simulation time is spent, and prepares staging.
    /// </summary>
    public static ResultsFolder Begin(string target, bool replace)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        var folder = new ResultsFolder(target, replace);
        if (!replace && (Directory.Exists(folder._target) || File.Exists(folder._target)))
        {
            throw new IOException($"The results folder '{folder._target}' already exists; choose another --out or pass --force to replace it.");
        }
        if (Directory.Exists(folder._staging))
        {
            Directory.Delete(folder._staging, recursive: true);
        }
        Directory.CreateDirectory(folder._staging);
        return folder;
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
    /// work (an <see cref="IOException"/> if it exists and may not be replaced), has
    /// <paramref name="fill"/> write its files, and moves it into place; if anything throws, the
    /// staging folder is removed and the exception goes on. Returns the folder's full path.
    /// </summary>
    public static string Produce(string target, bool replace, Action<ResultsFolder> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        ResultsFolder folder = Begin(target, replace);
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

    /// <summary>Moves the finished folder into place.</summary>
    public void Commit()
    {
        if (Directory.Exists(_target))
        {
            if (!_replace)
            {
                throw new IOException($"The results folder '{_target}' appeared while the run was going; nothing was replaced.");
            }
            Directory.Delete(_target, recursive: true);
        }
        Directory.Move(_staging, _target);
    }

    /// <summary>Removes the staging folder after a failure.</summary>
    public void Abandon()
    {
        if (Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
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
