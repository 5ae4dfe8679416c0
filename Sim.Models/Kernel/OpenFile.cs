namespace Sim.Models.Kernel;

/// <summary>An open file of a process: which file, and where the next read or write goes.</summary>
internal sealed class OpenFile(int fileId)
{
    public int FileId { get; } = fileId;

    public ulong Offset { get; set; }
}
