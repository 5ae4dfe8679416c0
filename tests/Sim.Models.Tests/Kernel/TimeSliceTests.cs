using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Models.Tests.Kernel.SmpKernelTests;

namespace Sim.Models.Tests.Kernel;

/// <summary>The time slice: counted by every tick, whichever mode it interrupts.</summary>
public class TimeSliceTests
{
    /// <summary>
    /// Two processes that spend most of their time in the kernel (reads of a page from
    /// /dev/zero) on one CPU: the slice runs out in kernel mode, and the process leaves on its way
    /// back to user mode, so they take turns and end close together instead of one after the other.
    /// </summary>
    [Fact]
    public void A_slice_spent_in_the_kernel_ends_at_the_return_to_user_mode()
    {
        var rig = new Rig(1, timerCount: 40_000); // a 0.4 ms tick: 10 ms slices
        int zero = rig.Kernel.Files.CreateDevice("/dev/zero", CharacterDevice.Zero);
        var ends = new double[2];
        IEnumerable<Op> Reader(Script s, int which)
        {
            s.PendingArgument = zero;
            yield return Call(SyscallNumber.Open);
            s.PendingArgument = s.LastResult;
            for (int i = 0; i < 80_000; i++)
            {
                yield return Call(SyscallNumber.Read);
            }
            ends[which] = rig.Sim.Now.TotalSeconds;
            yield return Call(SyscallNumber.Exit);
        }
        rig.Kernel.Start(new Script(s => Reader(s, 0)), Image);
        rig.Kernel.Start(new Script(s => Reader(s, 1)), Image);
        rig.Run();
        double both = ends[1];
        double slice = LinuxKernel.SliceTicks * 0.0004;
        Assert.True(both > 3 * slice, $"the work takes {both:F3} s, several slices");
        Assert.True(ends[0] > both - (2 * slice), $"the first ended at {ends[0]:F3} s of {both:F3}: it had to share the CPU");
    }
}
