using Sim.Models.Hardware;

namespace Sim.Models.Memory;

/// <summary>
/// Which lines a stream prefetcher asks for: it watches the L2's demand accesses, keeps one
/// stream per 4 KiB page (least recently used replaced), and once two successive lines of a page
/// have been accessed in ascending order it runs ahead of them by its distance, never past the
/// end of the page (the behaviour Intel's optimization manuals describe for the NetBurst and the
/// later L2 streamers, ascending streams only).
/// </summary>
public sealed class StreamPrefetcher
{
    private const int LinesPerPage = 64;
    private readonly Stream[] _streams;
    private readonly int _distance;
    private ulong _clock;
    private int _last; // the stream matched last: a sequential access usually matches it again

    public StreamPrefetcher(PrefetcherGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        geometry.Validate();
        _streams = new Stream[geometry.Streams];
        _distance = geometry.DistanceLines;
    }

    /// <summary>
    /// Notes a demand access to <paramref name="line"/> (a line number, address / 64) and returns
    /// the first and last line to prefetch now (an empty range when there is nothing to do).
    /// </summary>
    public (ulong First, ulong Last) OnDemand(ulong line)
    {
        ulong page = line / LinesPerPage;
        if (_streams[_last].Used && _streams[_last].Page == page)
        {
            return Advance(ref _streams[_last], line, page);
        }
        int victim = 0;
        for (int i = 0; i < _streams.Length; i++)
        {
            ref Stream s = ref _streams[i];
            if (s.Used && s.Page == page)
            {
                _last = i;
                return Advance(ref s, line, page);
            }
            if (s.Stamp < _streams[victim].Stamp)
            {
                victim = i; // an unused entry has stamp 0, so it goes first
            }
        }
        _streams[victim] = new Stream { Used = true, Page = page, Last = line, Next = line + 1, Stamp = ++_clock };
        _last = victim;
        return (1, 0);
    }

    private (ulong First, ulong Last) Advance(ref Stream s, ulong line, ulong page)
    {
        s.Stamp = ++_clock;
        bool ascending = line == s.Last + 1 || (s.Confirmed && line > s.Last && line < s.Next);
        s.Last = line;
        if (!ascending)
        {
            s.Confirmed = false;
            s.Next = line + 1;
            return (1, 0);
        }
        s.Confirmed = true;
        ulong target = Math.Min(line + (ulong)_distance, ((page + 1) * LinesPerPage) - 1);
        ulong first = Math.Max(s.Next, line + 1);
        s.Next = Math.Max(s.Next, target + 1);
        return first <= target ? (first, target) : (1, 0);
    }

    private struct Stream
    {
        public bool Used;
        public bool Confirmed;
        public ulong Page;
        public ulong Last;
        public ulong Next; // the first line not yet asked for
        public ulong Stamp;
    }
}
