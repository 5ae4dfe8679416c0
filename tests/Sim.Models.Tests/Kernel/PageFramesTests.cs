using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Kernel;

public class PageFramesTests
{
    [Fact]
    public void A_page_goes_back_to_the_allocator_with_its_last_reference_and_each_reference_touches_its_descriptor()
    {
        var memory = new PhysicalMemory(64UL << 20);
        var text = new KernelText(memory, LinuxKernelCosts.Default);
        var frames = new PageFrames(memory, new PageAllocator(memory));
        var path = new KernelPath(text, NativePrivilegedOperations.Instance);
        ulong used = memory.FramesInUse;

        ulong page = frames.NewPage(path);
        Assert.Equal(used + 1, memory.FramesInUse);
        Assert.False(frames.IsShared(page));
        frames.TakeReference(path, page); // a fork maps it twice
        Assert.True(frames.IsShared(page));
        Assert.False(frames.Release(path, page)); // one mapping left
        Assert.True(frames.Release(path, page)); // the last: freed
        Assert.Equal(used, memory.FramesInUse);

        Op[] ops = Drain(path.ToStream());
        ulong descriptor = frames.Descriptor(page);
        Assert.Equal(6, ops.Count(o => o.Kind == OpKind.Atomic && o.Operand == DirectMap.Of(descriptor))); // one reference taken, two dropped: two locked updates each
    }

    private static Op[] Drain(OpSequence stream)
    {
        var ops = new List<Op>();
        while (stream.TryNext(out Op op))
        {
            ops.Add(op);
        }
        return [.. ops];
    }
}
