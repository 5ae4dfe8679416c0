using System.Globalization;

namespace Sim.Cli;

/// <summary>
/// The Slurm job-array script of a command that shards (<c>sweep</c>, <c>density</c>): task K runs
/// the command's shard K/N with the task's CPUs as threads; a comment says how to submit it and
/// the command that writes the results once every task is done.
/// </summary>
internal static class SlurmScript
{
    /// <summary>The path of this program, as the array's tasks run it.</summary>
    public static string Program => Path.Combine(AppContext.BaseDirectory, "virtsim.dll");

    /// <summary>
    /// Writes <paramref name="script"/> (a file name in <paramref name="folder"/>) for a job array of
    /// <paramref name="tasks"/> tasks, each running <c>virtsim ARGS --shard K/N --threads CPUS</c>,
    /// their logs in <paramref name="folder"/>; <paramref name="then"/> is the virtsim command that
    /// writes the results afterwards. Returns the script's path.
    /// </summary>
    public static string Write(string folder, string script, string what, int tasks, string args, string then)
    {
        string path = Path.Combine(folder, script);
        const string cpus = "${SLURM_CPUS_PER_TASK:-1}"; // expanded by the shell in the job
        string text = string.Create(CultureInfo.InvariantCulture, $"""
            #!/bin/bash
            # A Slurm job array for {what}: task K runs shard K/{tasks}.
            # Submit:   sbatch {path}
            # Then, once every task is done (sbatch --dependency=afterok:JOBID), write the results:
            #           dotnet {Program} {then}
            #SBATCH --job-name=virtsim-{Path.GetFileNameWithoutExtension(script)}
            #SBATCH --array=1-{tasks}
            #SBATCH --cpus-per-task=2
            #SBATCH --output={folder}/slurm-%A_%a.log
            set -euo pipefail
            dotnet {Program} {args} --shard "$SLURM_ARRAY_TASK_ID/{tasks}" --threads "{cpus}"

            """);
        Directory.CreateDirectory(folder);
        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal));
        Console.WriteLine($"Slurm script: {path}");
        return path;
    }
}
