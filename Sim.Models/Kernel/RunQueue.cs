namespace Sim.Models.Kernel;

/// <summary>
/// A CPU's run queue, as Linux's struct rq is one per CPU: the process it runs and the processes
/// ready to run on it, in order. The scheduler's policy (round robin with a time slice, the CFS
/// bandwidth throttle) stays with the kernel; this holds the state, so that each CPU of an SMP
/// machine can have its own and a balancer can move processes between them.
/// </summary>
/// <remarks>Model: one queue in FIFO order (Linux's CFS orders by virtual runtime; with equal weights and slices the order is the same round robin).</remarks>
public sealed class RunQueue
{
    private readonly LinkedList<Process> _ready = new();

    /// <summary>The process running on the CPU, or null while it idles.</summary>
    public Process? Current { get; internal set; }

    /// <summary>How many processes wait to run.</summary>
    public int Count => _ready.Count;

    /// <summary>Puts <paramref name="p"/> at the back: it runs after every process ready before it.</summary>
    public void Enqueue(Process p) => _ready.AddLast(p);

    /// <summary>Puts <paramref name="p"/> at the front: it runs next (a forked child, a parent woken to reap it).</summary>
    public void EnqueueFirst(Process p) => _ready.AddFirst(p);

    /// <summary>
    /// Takes the first process that may run now: those at the front for which
    /// <paramref name="held"/> says they may not (a throttled container's) leave the queue; null
    /// when none is left.
    /// </summary>
    public Process? TakeNext(Func<Process, bool> held)
    {
        ArgumentNullException.ThrowIfNull(held);
        while (_ready.First is { } front && held(front.Value))
        {
            _ready.Remove(front);
        }
        if (_ready.First is not { } taken)
        {
            return null;
        }
        _ready.Remove(taken);
        return taken.Value;
    }

    /// <summary>
    /// Takes the last process that may run now and that <paramref name="movable"/> lets move
    /// (what a balancer pulls to another CPU: the one that waited least, so the least cache-hot on
    /// this one, among those allowed there); null when none.
    /// </summary>
    public Process? TakeLast(Func<Process, bool> held, Func<Process, bool> movable)
    {
        ArgumentNullException.ThrowIfNull(movable);
        while (_ready.Last is { } end && held(end.Value))
        {
            _ready.Remove(end);
        }
        for (LinkedListNode<Process>? node = _ready.Last; node is not null; node = node.Previous)
        {
            if (movable(node.Value))
            {
                _ready.Remove(node);
                return node.Value;
            }
        }
        return null;
    }

    /// <summary>The processes waiting to run, in order.</summary>
    public IEnumerable<Process> Waiting => _ready;
}
