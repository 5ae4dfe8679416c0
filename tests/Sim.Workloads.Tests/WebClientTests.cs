using Sim.Engine.Time;
using Sim.Workloads.Processes;

namespace Sim.Workloads.Tests;

/// <summary>The web client tells answers apart by the id their frames carry.</summary>
public class WebClientTests
{
    [Fact]
    public void An_answer_is_matched_to_its_request_by_id_whatever_order_answers_come_in()
    {
        var client = new RequestClient();
        uint first = client.Sent(Tick.FromMicroseconds(0)), second = client.Sent(Tick.FromMicroseconds(10));
        client.Arrived(taken: true);
        client.Arrived(taken: true);
        for (int frame = 0; frame < 7; frame++)
        {
            Assert.False(client.Answered(second, Tick.FromMicroseconds(100)));
            Assert.False(client.Answered(first, Tick.FromMicroseconds(100)));
        }
        Assert.True(client.Answered(second, Tick.FromMicroseconds(110))); // the second's eighth frame first: 100 us
        Assert.True(client.Answered(first, Tick.FromMicroseconds(300)));  // then the first's: 300 us
        Assert.Equal([100.0, 300.0], client.ResponseMicroseconds());
    }

    [Fact]
    public void A_dropped_request_is_counted_lost_and_an_answer_to_no_request_is_an_error()
    {
        var client = new RequestClient();
        uint dropped = client.Sent(Tick.FromMicroseconds(0));
        client.Arrived(taken: false);
        Assert.Equal(1, client.Lost);
        var e = Assert.Throws<InvalidOperationException>(() => client.Answered(dropped, Tick.FromMicroseconds(5)));
        Assert.Contains("copy each request's id", e.Message, StringComparison.Ordinal);
    }
}
