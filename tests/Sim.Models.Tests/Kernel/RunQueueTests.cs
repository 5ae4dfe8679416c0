using Sim.Engine;
using Sim.Models.Cpu;
using Sim.Models.Hardware;
using Sim.Models.Kernel;
using Sim.Models.Memory;
using Sim.Models.Platform;

namespace Sim.Models.Tests.Kernel;

public class RunQueueTests
{
    [Fact]
    public void Processes_run_in_order_a_front_one_first_and_held_ones_leave_the_queue()
    {
        LinuxKernel kernel = null!;
        _ = new Machine(new Simulator(1), HardwareProfiles.NehalemX5570, MachineConfiguration.Default with { MemoryBytes = 64UL << 20 },
            m => kernel = new LinuxKernel(m, NativePrivilegedOperations.Instance, LinuxKernelCosts.Default));
        MemoryRegion[] image = [new("text", ExecutableImage.TextBase, 1, Writable: false)];
        Process a = kernel.Start(new Script(_ => []), image), b = kernel.Start(new Script(_ => []), image), c = kernel.Start(new Script(_ => []), image);

        var queue = new RunQueue();
        queue.Enqueue(a);
        queue.Enqueue(b);
        queue.EnqueueFirst(c); // a forked child runs before those already waiting
        Assert.Equal(3, queue.Count);
        Assert.Same(c, queue.TakeNext(_ => false));
        Assert.Same(b, queue.TakeNext(p => p == a)); // a, held at the front, leaves the queue
        Assert.Null(queue.TakeNext(_ => false));
        Assert.Equal(0, queue.Count);
    }
}
