namespace Sim.Models.Cpu;

/// <summary>
/// A core's store buffer: a store retires at once and its cache miss completes in the
/// background; the core waits only when every entry is taken by a store still missing, and
/// before a serializing instruction, exception or interrupt, which drain the buffer.
/// </summary>
/// <remarks>
/// Model: up to <c>fillBuffers</c> store misses are outstanding at once (the line-fill buffers
/// that fetch lines for ownership), and stores complete in program order; store hits need no
/// entry beyond their cycle; loads do not forward from it and do not share the fill buffers.
/// </remarks>
public sealed class StoreBuffer
{
    private readonly ulong[] _completes; // completion cycles of pending misses, a ring in program order
    private readonly int _fillBuffers;
    private int _head;
    private int _count;
    private ulong _lastCompletion;

    public StoreBuffer(int entries, int fillBuffers = 1)
    {
        if (entries < 1 || fillBuffers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(entries), $"A store buffer needs at least one entry and one fill buffer (got {entries}, {fillBuffers}).");
        }
        _completes = new ulong[entries];
        _fillBuffers = fillBuffers;
    }

    /// <summary>Adds a store whose miss takes <paramref name="missCycles"/> beyond an L1 hit, at core cycle <paramref name="now"/>; returns the cycles the core must wait first (a full buffer).</summary>
    public ulong Add(ulong now, ulong missCycles)
    {
        Retire(now);
        ulong wait = 0;
        if (_count == _completes.Length)
        {
            ulong oldest = _completes[_head];
            wait = oldest > now ? oldest - now : 0;
            Retire(now + wait);
        }
        // The miss starts when a fill buffer is free: after the store fillBuffers places earlier completes.
        ulong start = now + wait;
        if (_count >= _fillBuffers)
        {
            start = Math.Max(start, _completes[(_head + _count - _fillBuffers) % _completes.Length]);
        }
        _lastCompletion = Math.Max(start + missCycles, _lastCompletion);
        _completes[(_head + _count) % _completes.Length] = _lastCompletion;
        _count++;
        return wait;
    }

    /// <summary>The cycles until every pending store has completed, from <paramref name="now"/>; empties the buffer.</summary>
    public ulong Drain(ulong now)
    {
        ulong wait = _count > 0 && _lastCompletion > now ? _lastCompletion - now : 0;
        _count = 0;
        return wait;
    }

    private void Retire(ulong now)
    {
        while (_count > 0 && _completes[_head] <= now)
        {
            _head = (_head + 1) % _completes.Length;
            _count--;
        }
    }
}
