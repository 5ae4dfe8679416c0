using Sim.Models.Cpu;
using Sim.Models.Kernel;
using static Sim.Models.Tests.Kernel.SmpKernelTests;

namespace Sim.Models.Tests.Kernel;

/// <summary>sched_setaffinity and sched_getaffinity: a process's own CPU mask, inherited by its children.</summary>
public class AffinityTests
{
    private static IEnumerable<Op> SetAffinity(Script s, long pid, ulong mask)
    {
        s.PendingArgument = pid;
        s.PendingSecondArgument = (long)mask;
        yield return Call(SyscallNumber.SchedSetaffinity);
    }

    [Fact]
    public void A_process_that_leaves_its_CPU_out_of_its_mask_moves_and_its_child_follows()
    {
        var rig = new Rig(2);
        Script child = new(_ => [.. Enumerable.Repeat(Op.Alu(1_000), 5_000), Call(SyscallNumber.Exit)]);
        var parent = new Script(s => SetAffinity(s, 0, 0b10)
            .Concat(Enumerable.Repeat(Op.Alu(1_000), 5_000))
            .Append(Call(SyscallNumber.Fork))
            .Append(Call(SyscallNumber.Wait4))
            .Append(Call(SyscallNumber.Exit)), () => child);
        rig.Kernel.Start(parent, Image);
        rig.Run();
        Assert.Equal(0L, parent.Results[0]);
        Assert.True(rig.Machine.Cores[0].CyclesIn(CycleCategory.User) < 1_000_000, "CPU 0 ran no more than the first steps");
        Assert.InRange(rig.Machine.Cores[1].CyclesIn(CycleCategory.User), 10_000_000, 10_500_000); // the parent's work and its child's, both on CPU 1
    }

    [Fact]
    public void A_mask_of_no_CPU_the_kernel_has_or_another_process_s_pid_is_refused()
    {
        var rig = new Rig(2);
        var p = new Script(s => SetAffinity(s, 0, 0b100).Concat(SetAffinity(s, 0, 0)).Concat(SetAffinity(s, 42, 0b1)).Append(Call(SyscallNumber.Exit)));
        rig.Kernel.Start(p, Image);
        rig.Run();
        Assert.Equal([-22L, -22L, -3L], p.Results.Take(3)); // EINVAL twice (CPU 2 does not exist; no CPU), ESRCH
    }

    [Theory]
    [InlineData(1, 0b1UL)]
    [InlineData(4, 0b1111UL)]
    public void Getaffinity_gives_the_CPUs_a_process_may_use_as_its_mask_narrows(int cpus, ulong all)
    {
        var rig = new Rig(cpus);
        var p = new Script(s =>
        {
            IEnumerable<Op> Get() { s.PendingArgument = 0; yield return Call(SyscallNumber.SchedGetaffinity); }
            IEnumerable<Op> Other() { s.PendingArgument = 42; yield return Call(SyscallNumber.SchedGetaffinity); }
            return Get().Concat(SetAffinity(s, 0, 0b1)).Concat(Get()).Concat(Other()).Append(Call(SyscallNumber.Exit));
        });
        rig.Kernel.Start(p, Image);
        rig.Run();
        Assert.Equal([(long)all, 0L, 1L, -3L], p.Results.Take(4)); // every CPU the kernel has; set to CPU 0; CPU 0; ESRCH for another pid
    }
}
