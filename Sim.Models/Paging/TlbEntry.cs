namespace Sim.Models.Paging;

/// <summary>What a TLB entry holds besides its tag: the page frame, the accumulated rights, whether it is global, and whether the page is known dirty.</summary>
public readonly record struct TlbEntry(ulong PageBase, WalkRights Rights, bool Global, bool Dirty);
