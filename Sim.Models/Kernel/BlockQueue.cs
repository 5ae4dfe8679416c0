namespace Sim.Models.Kernel;

/// <summary>
/// The block layer's queue in front of a disk whose tags are all busy, dispatching as the deadline
/// scheduler does (block/deadline-iosched.c, block/mq-deadline.c): reads, which a process waits for,
/// before writes, in batches of <see cref="FifoBatch"/>; once reads have been preferred
/// <see cref="WritesStarved"/> times over waiting writes, a batch of writes goes. Each direction
/// keeps its arrival order (the scheduler's FIFO lists; its sorting by sector and its expiry times
/// are not modelled). A queue of one direction only is a plain FIFO.
/// </summary>
public sealed class BlockQueue<TRequest>(Func<TRequest, bool> isWrite)
{
    /// <summary>fifo_batch: requests dispatched in one batch of a direction.</summary>
    public const int FifoBatch = 16;

    /// <summary>writes_starved: read batches dispatched while writes wait before a write batch.</summary>
    public const int WritesStarved = 2;

    private readonly Queue<TRequest> _reads = new();
    private readonly Queue<TRequest> _writes = new();
    private bool _writing;   // the current batch's direction
    private int _batchLeft;  // requests the current batch may still dispatch
    private int _starved;    // read batches that went while writes waited

    public int Count => _reads.Count + _writes.Count;

    public void Enqueue(TRequest request) => (isWrite(request) ? _writes : _reads).Enqueue(request);

    /// <summary>The next request to dispatch: the current batch's direction while it lasts and has requests, else a new batch's.</summary>
    public TRequest Dequeue()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("The block queue is empty.");
        }
        if (_batchLeft == 0 || (_writing ? _writes : _reads).Count == 0)
        {
            _writing = _reads.Count == 0 || (_writes.Count > 0 && _starved >= WritesStarved);
            _starved = _writing ? 0 : _writes.Count > 0 ? _starved + 1 : 0;
            _batchLeft = FifoBatch;
        }
        _batchLeft--;
        return (_writing ? _writes : _reads).Dequeue();
    }
}
