using Sim.Models.Hardware;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Memory;

public class StreamPrefetcherTests
{
    [Fact]
    public void Random_lines_never_start_a_stream_and_the_oldest_stream_is_replaced()
    {
        var prefetcher = new StreamPrefetcher(new PrefetcherGeometry(Streams: 2, DistanceLines: 4));
        foreach (ulong line in new ulong[] { 5, 900, 77, 3_000, 64 * 10 })
        {
            (ulong first, ulong last) = prefetcher.OnDemand(line);
            Assert.True(first > last);
        }
        Assert.Equal((641UL + 1, 641UL + 4), prefetcher.OnDemand(641)); // page 10's stream, still tracked
        prefetcher.OnDemand(64 * 20);
        prefetcher.OnDemand(64 * 30); // two new pages take both entries, page 10's among them
        (ulong f, ulong l) = prefetcher.OnDemand(642);
        Assert.True(f > l);
    }

    [Fact]
    public void A_confirmed_stream_asks_only_for_lines_it_has_not_asked_for()
    {
        var prefetcher = new StreamPrefetcher(new PrefetcherGeometry(Streams: 4, DistanceLines: 4));
        prefetcher.OnDemand(0);
        Assert.Equal((2UL, 5UL), prefetcher.OnDemand(1));
        Assert.Equal((6UL, 6UL), prefetcher.OnDemand(2));
        Assert.Equal((7UL, 7UL), prefetcher.OnDemand(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPrefetcher(new PrefetcherGeometry(0, 4)));
    }
}
