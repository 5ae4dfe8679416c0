using Sim.Models.Kernel;

namespace Sim.Models.Tests.Kernel;

/// <summary>The block layer's queue in front of busy tags: the deadline scheduler's preference for reads, with writes let through after two read batches.</summary>
public class BlockQueueTests
{
    private static List<string> Drain(BlockQueue<string> q)
    {
        var order = new List<string>();
        while (q.Count > 0)
        {
            order.Add(q.Dequeue());
        }
        return order;
    }

    [Fact]
    public void Reads_go_before_writes_queued_earlier_and_writes_get_a_batch_after_two_read_batches()
    {
        var q = new BlockQueue<string>(r => r[0] == 'w');
        for (int i = 0; i < 40; i++)
        {
            q.Enqueue($"w{i}");
        }
        for (int i = 0; i < 40; i++)
        {
            q.Enqueue($"r{i}");
        }
        List<string> order = Drain(q);

        Assert.Equal(Enumerable.Range(0, 32).Select(i => $"r{i}"), order.Take(32)); // two read batches
        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"w{i}"), order.Skip(32).Take(16)); // then a write batch, oldest first
        Assert.Equal(Enumerable.Range(32, 8).Select(i => $"r{i}"), order.Skip(48).Take(8)); // the reads left
        Assert.Equal(Enumerable.Range(16, 24).Select(i => $"w{i}"), order.Skip(56)); // and the writes left, in order
    }

    [Fact]
    public void A_queue_of_one_direction_is_first_in_first_out()
    {
        var q = new BlockQueue<string>(r => r[0] == 'w');
        foreach (string w in new[] { "w0", "w1", "w2" })
        {
            q.Enqueue(w);
        }
        Assert.Equal(["w0", "w1", "w2"], Drain(q));
        Assert.Throws<InvalidOperationException>(() => q.Dequeue());
    }
}
