namespace Sim.Models.Cpu;

/// <summary>
/// Who has each kernel ticket spinlock of a machine, by the lock word's physical address: the
/// context that holds it, and the contexts waiting with their tickets. What lets a spinning
/// context tell whether the one it waits for (the holder, or once the lock is released the waiter
/// whose ticket is served next) is a virtual CPU kept from its physical core: the lock cannot move
/// on until that one runs, so the spin meanwhile is wasted (lock-holder and lock-waiter
/// preemption; a ticket lock hands itself to the next waiter in line even when it is
/// descheduled). Shared by every context of a machine, as the lock words are shared through its
/// memory. Bookkeeping of the model: Linux's ticket lock keeps no owner.
/// </summary>
public sealed class SpinLockHolders
{
    private readonly Dictionary<ulong, Core> _holders = [];
    private readonly Dictionary<(ulong Word, ulong Ticket), Core> _waiters = [];
    private readonly HashSet<(ulong Word, ulong Ticket)> _halted = []; // paravirtual waiters halted until kicked (kvm_lock_spinning's waiting_cpus)

    /// <summary>The context the lock at <paramref name="word"/> waits for when its head serves <paramref name="head"/>: its holder, or the waiter with that ticket; null when neither.</summary>
    public Core? Awaited(ulong word, ulong head) => _holders.GetValueOrDefault(word) ?? _waiters.GetValueOrDefault((word, head));

    internal void Waits(ulong word, ulong ticket, Core waiter) => _waiters[(word, ticket)] = waiter;

    internal void Took(ulong word, ulong ticket, Core holder)
    {
        _waiters.Remove((word, ticket));
        _halted.Remove((word, ticket));
        _holders[word] = holder;
    }

    internal void Released(ulong word) => _holders.Remove(word);

    /// <summary>The paravirtual waiter halted with <paramref name="ticket"/> on the lock at <paramref name="word"/>, or null.</summary>
    internal Core? HaltedWith(ulong word, ulong ticket) => _halted.Contains((word, ticket)) ? _waiters.GetValueOrDefault((word, ticket)) : null;

    internal void Halts(ulong word, ulong ticket) => _halted.Add((word, ticket));

    internal void Woke(ulong word, ulong ticket) => _halted.Remove((word, ticket));
}
