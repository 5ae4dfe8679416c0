namespace Sim.Models.Paging;

/// <summary>
/// Access rights accumulated down a walk: writable and user only if every level allows it (the
/// logical AND of R/W and U/S), no-execute if any level forbids it (the OR of XD).
/// </summary>
public readonly record struct WalkRights(bool Writable, bool User, bool NoExecute)
{
    public static readonly WalkRights All = new(true, true, false);

    public WalkRights And(ulong entry) => new(
        Writable && (entry & PageEntry.Writable) != 0,
        User && (entry & PageEntry.User) != 0,
        NoExecute || (entry & PageEntry.NoExecute) != 0);
}
