using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// Which lines a stream prefetcher asks for: it watches the L2's demand accesses, keeps one
/// stream per 4 KiB page, and once two successive lines of a page have been accessed in
/// ascending order it runs ahead of them by its distance, never past the end of the page (the
/// behaviour Intel's optimization manuals describe for the NetBurst and the later L2 streamers,
/// ascending streams only). A page without a stream takes the oldest entry (first in, first out:
/// the hardware's replacement is not documented).
/// </summary>
public sealed class StreamPrefetcher
{
    private const int LinesPerPage = 64;
    private readonly ulong[] _page; // page number + 1 per entry, 0 when unused: scanned as one vector
    private readonly ulong[] _last;
    private readonly ulong[] _next; // the first line not yet asked for
    private readonly bool[] _confirmed;
    private readonly int _distance;
    private int _allocate;
    private int _recent; // the entry matched last: a sequential access usually matches it again

    public StreamPrefetcher(PrefetcherGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        geometry.Validate();
        _page = new ulong[geometry.Streams];
        _last = new ulong[geometry.Streams];
        _next = new ulong[geometry.Streams];
        _confirmed = new bool[geometry.Streams];
        _distance = geometry.DistanceLines;
    }

    /// <summary>
    /// Notes a demand access to <paramref name="line"/> (a line number, address / 64) and returns
    /// the first and last line to prefetch now (an empty range when there is nothing to do).
    /// </summary>
    public (ulong First, ulong Last) OnDemand(ulong line)
    {
        ulong page = line / LinesPerPage;
        int i = _page[_recent] == page + 1 ? _recent : Array.IndexOf(_page, page + 1);
        if (i < 0)
        {
            i = _allocate;
            _allocate = (_allocate + 1) % _page.Length;
            (_page[i], _last[i], _next[i], _confirmed[i]) = (page + 1, line, line + 1, false);
            _recent = i;
            return (1, 0);
        }
        _recent = i;
        bool ascending = line == _last[i] + 1 || (_confirmed[i] && line > _last[i] && line < _next[i]);
        _last[i] = line;
        if (!ascending)
        {
            _confirmed[i] = false;
            _next[i] = line + 1;
            return (1, 0);
        }
        _confirmed[i] = true;
        ulong target = Math.Min(line + (ulong)_distance, ((page + 1) * LinesPerPage) - 1);
        ulong first = Math.Max(_next[i], line + 1);
        _next[i] = Math.Max(_next[i], target + 1);
        return first <= target ? (first, target) : (1, 0);
    }
}
