using Sim.Models.Cpu;
using Sim.Models.Kernel;
using Sim.Models.Paging;

namespace Sim.Workloads.Nanobenchmarks;

/// <summary>
/// One of the nanobenchmarks of Adams and Agesen (ASPLOS 2006, Figure 4): a loop
/// around a single operation whose cost under each virtualization technique the paper compares.
/// <see cref="Body"/> gives the operation of iteration i; <see cref="Prepare"/> sets up what it
/// needs in the process's address space (pages to fault on, a page-table entry to rewrite).
/// </summary>
public sealed record Nanobenchmark(string Name, string Description, int Cpl, Func<NanobenchmarkContext, int, Op> Body, Action<NanobenchmarkContext, int>? Prepare = null)
{
    /// <summary>Where user data of the nanobenchmarks lives.</summary>
    public const ulong UserBase = 0x0000_0000_4000_0000;

    /// <summary>The nanobenchmarks, in the order of the paper's Figure 4 (forkwait needs the full kernel and is not here yet).</summary>
    public static IReadOnlyList<Nanobenchmark> All { get; } =
    [
        new("syscall", "a null system call from user mode: SYSCALL, the kernel's entry path, SYSRET", 3,
            (_, _) => Op.Execute(Instruction.Syscall)),
        new("in", "an IN from port 0x80 (the POST port) in kernel mode: one legacy-bus I/O cycle", 0,
            (_, _) => Op.In(0x80)),
        new("cr8wr", "a write of the task priority register (MOV CR8) in kernel mode", 0,
            (_, _) => Op.Execute(Instruction.MovToCr8, 0)),
        new("callret", "a call to a subroutine that returns at once", 3,
            (_, _) => Op.CallReturn(1)),
        new("pgfault", "a load from a page whose entry is not present; the kernel walks the tables in software, sets the present bit and resumes", 3,
            (c, i) => Op.Load(UserBase + ((ulong)i * 4096)),
            (c, n) =>
            {
                for (int i = 0; i < n; i++)
                {
                    c.Space.Map4K(UserBase + ((ulong)i * 4096), c.Memory.AllocateFrame(), PageEntry.Writable | PageEntry.User, present: false);
                }
            }),
        new("divzero", "a divide by zero in kernel mode; the handler skips the instruction", 0,
            (_, _) => new Op(OpKind.Divide, default, 1, 1)),
        new("ptemod", "a store that rewrites a page-table entry with its current value, through the kernel's direct map", 0,
            (c, _) => Op.Store(MinimalKernel.DirectMapBase + c.PteAddress),
            (c, _) =>
            {
                c.Space.Map4K(UserBase, c.Memory.AllocateFrame(), PageEntry.Writable | PageEntry.User);
                c.PteAddress = c.Space.LeafEntryAddress(UserBase)!.Value;
            }),
    ];

    public static Nanobenchmark Get(string name) =>
        All.FirstOrDefault(b => b.Name == name)
        ?? throw new ArgumentException($"There is no nanobenchmark '{name}'; they are: {string.Join(", ", All.Select(b => b.Name))}.", nameof(name));
}
