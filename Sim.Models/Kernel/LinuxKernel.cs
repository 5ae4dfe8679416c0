using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// A Linux-like kernel on one core: processes with their own address spaces (real page tables
/// sharing the kernel half), fork with copy-on-write, exit, wait4, getpid, demand-zero and
/// copy-on-write page faults, round-robin scheduling with context switches (MOV CR3), and a
/// periodic timer tick acknowledged with an EOI. Each path is an operation stream built from
/// bookkeeping work (<see cref="LinuxKernelCosts"/>), the memory it really touches (page-table
/// entries, zeroed and copied pages, through the direct map) and the privileged operations of
/// <see cref="IPrivilegedOperations"/>; the kernel changes memory and scheduling state as it
/// builds a path, and the core executes the path for its cost.
/// </summary>
/// <remarks>
/// Model: one core; a process whose program ends without exit() is left as a zombie; a fatal
/// fault (outside any region, or a write to a read-only region) kills the process with the
/// signal's exit status; wait4 with no runnable process to switch to is an error (no idle loop
/// yet); no exec, files, signals handlers or page cache yet.
/// </remarks>
public sealed class LinuxKernel : ICoreHost
{
    private const long Echild = -10;
    private const long Enosys = -38;

    private readonly Machine _machine;
    private readonly IPrivilegedOperations _ops;
    private readonly LinuxKernelCosts _costs;
    private readonly AddressSpaceBuilder _kernelSpace;
    private readonly Queue<Process> _ready = new();
    private readonly Dictionary<ulong, int> _frameReferences = []; // looked up by frame only, never iterated
    private readonly Queue<AddressSpaceBuilder> _deadSpaces = new();
    private readonly IdleThread _idle = new();
    private int? _timerVector;
    private DiskRequest? _disk;
    private int _sleepers;
    private NetworkState? _net;
    private int _nextPid = 1;
    private readonly Counter _contextSwitches;
    private readonly Counter _forks;
    private readonly Counter _exits;
    private readonly Counter _demandZeroFaults;
    private readonly Counter _copyOnWriteFaults;
    private readonly Counter _syscalls;

    public LinuxKernel(Machine machine, IPrivilegedOperations ops, LinuxKernelCosts costs)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(ops);
        ArgumentNullException.ThrowIfNull(costs);
        _machine = machine;
        _ops = ops;
        _costs = costs;
        _kernelSpace = DirectMap.Build(machine);
        StatGroup stats = machine.Sim.Stats.Group("host.kernel");
        _syscalls = stats.Counter("syscalls", "count", "system calls");
        _contextSwitches = stats.Counter("context_switches", "count", "switches from one process to another");
        _forks = stats.Counter("forks", "count", "processes created by fork");
        _exits = stats.Counter("exits", "count", "processes that exited or were killed");
        _demandZeroFaults = stats.Counter("demand_zero_faults", "count", "page faults that mapped a fresh zeroed page");
        _copyOnWriteFaults = stats.Counter("copy_on_write_faults", "count", "page faults that broke copy-on-write sharing");
    }

    public Process? Current { get; private set; }

    public long ProcessesCreated => _nextPid - 1;

    private PhysicalMemory Memory => _machine.Memory;

    /// <summary>Creates the first process with its regions (the populated ones resident from the start) and starts it on core 0.</summary>
    public Process Start(IProgram program, IReadOnlyList<MemoryRegion> regions)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(regions);
        Process init = NewProcess(null, regions, program);
        foreach (MemoryRegion r in regions.Where(r => r.Populated))
        {
            for (ulong page = 0; page < r.Pages; page++)
            {
                ulong frame = Memory.AllocateFrame();
                _frameReferences[frame] = 1;
                init.Space.Map4K(r.Start + (page * 4096), frame, PageEntry.User | (r.Writable ? PageEntry.Writable : 0));
            }
        }
        Core core = _machine.Cores[0];
        core.Mmu.LoadCr3(init.Space.Pml4);
        init.State = ProcessState.Running;
        Current = init;
        core.Start(program, 3);
        return init;
    }

    public IOpStream OnSyscall(Core core, ulong number)
    {
        ArgumentNullException.ThrowIfNull(core);
        Process current = Current ?? throw new InvalidOperationException("A system call with no current process.");
        var path = new KernelPath().Work(_costs.SyscallEntry);
        FreeDeadAddressSpaces(path);
        _syscalls.Increment();
        switch ((SyscallNumber)number)
        {
            case SyscallNumber.Getpid:
                current.Program.SyscallReturned(current.Pid);
                break;
            case SyscallNumber.Fork:
                Fork(path, current);
                break;
            case SyscallNumber.Exit:
                Exit(core, path, current, 0);
                break;
            case SyscallNumber.Wait4:
                Wait(core, path, current);
                break;
            case SyscallNumber.SchedYield:
                Yield(core, path, current);
                break;
            case SyscallNumber.Mmap:
                current.Program.SyscallReturned((long)Map(path, current, pages: Math.Max(1, (ulong)current.Program.PendingArgument)));
                break;
            case SyscallNumber.Nanosleep:
                Sleep(core, path, current, (ulong)current.Program.PendingArgument);
                break;
            case SyscallNumber.Sendto:
                Send(path, current, (int)current.Program.PendingArgument);
                break;
            case SyscallNumber.Recvfrom:
                Receive(core, path, current);
                break;
            case SyscallNumber.Pread64:
                BlockIo(core, path, current, (ulong)current.Program.PendingArgument, write: false);
                break;
            case SyscallNumber.Pwrite64:
                BlockIo(core, path, current, (ulong)current.Program.PendingArgument, write: true);
                break;
            case SyscallNumber.Munmap:
                Unmap(path, current, (ulong)current.Program.PendingArgument);
                current.Program.SyscallReturned(0);
                break;
            default:
                current.Program.SyscallReturned(Enosys);
                break;
        }
        _ops.ReturnFromSyscall(path);
        return path.ToStream();
    }

    public ExceptionResponse OnException(Core core, ExceptionVector vector, PageFaultErrorCode errorCode, ulong faultAddress)
    {
        ArgumentNullException.ThrowIfNull(core);
        Process current = Current ?? throw new InvalidOperationException("An exception with no current process.");
        var path = new KernelPath();
        FreeDeadAddressSpaces(path);
        bool retry = vector == ExceptionVector.PageFault && HandlePageFault(path, current, errorCode, faultAddress);
        if (!retry)
        {
            // SIGSEGV (status 139) or SIGFPE (136): the default action kills the process.
            Exit(core, path, current, vector == ExceptionVector.DivideError ? 136 : 139);
        }
        _ops.ReturnFromInterrupt(path);
        return new ExceptionResponse(path.ToStream(), retry);
    }

    public IOpStream OnInterrupt(Core core, int vector)
    {
        ArgumentNullException.ThrowIfNull(core);
        var path = new KernelPath();
        FreeDeadAddressSpaces(path);
        if (vector == DiskVector && _disk is not null)
        {
            DiskInterrupt(path);
        }
        else if (vector == NicVector && _net is not null)
        {
            NicInterrupt(path);
        }
        else
        {
            path.Work(_costs.TimerTick);
            if (Current is { } current && _ready.Count > 0 && vector == _timerVector)
            {
                current.State = ProcessState.Ready;
                _ready.Enqueue(current); // time slice over: round robin
            }
        }
        _ops.EndOfInterrupt(path);
        if (Current is null && _ready.Count > 0)
        {
            SwitchToNext(core, path); // leave the idle loop for a process the interrupt made runnable
        }
        else if (Current is { State: ProcessState.Ready })
        {
            SwitchToNext(core, path);
        }
        _ops.ReturnFromInterrupt(path);
        return path.ToStream();
    }

    /// <summary>The vector the disk's interrupt line (IRQ 14) is routed to at boot.</summary>
    public const int DiskVector = 0x2E;

    /// <summary>Routes the disk's interrupt line through the I/O APIC to core 0 (done at boot, not timed).</summary>
    public void StartDisk()
    {
        Devices.IoApic ioApic = _machine.IoApic;
        ioApic.Write(0x00, (ulong)(0x11 + (2 * Machine.DiskIrq)));
        ioApic.Write(0x10, 0);                                   // destination APIC 0
        ioApic.Write(0x00, (ulong)(0x10 + (2 * Machine.DiskIrq)));
        ioApic.Write(0x10, DiskVector | (1UL << 15));            // level-triggered, unmasked
    }

    public int OnDeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        _machine.DeviceAccess(core, instruction, address, value, out readValue);

    public IOpStream? OnStreamEnd(Core core)
    {
        if (Current is { } current)
        {
            current.State = ProcessState.Zombie; // ended without exit(): left for its parent, at no cost
        }
        else
        {
            // Nothing left to run: the idle core frees what the last exit left, at no cost.
            FreeDeadAddressSpaces(new KernelPath());
        }
        return null;
    }

    /// <summary>The vector the NIC's interrupt line (IRQ 11) is routed to at boot.</summary>
    public const int NicVector = 0x2B;

    private const int RingEntries = 256;

    /// <summary>
    /// Brings the NIC up at boot (not timed): transmit and receive rings of 256 descriptors in
    /// memory, a 2 KiB buffer per receive descriptor, both units enabled, receive interrupts on,
    /// and IRQ 11 routed to core 0 as an edge.
    /// </summary>
    public void StartNetwork()
    {
        Devices.Nic8254x nic = _machine.Nic ?? throw new InvalidOperationException("The machine has no NIC.");
        ulong tx = Memory.AllocateFrame();
        ulong rx = Memory.AllocateFrame();
        for (int i = 0; i < RingEntries; i++)
        {
            Memory.WriteUInt64(rx + ((ulong)i * 16), Memory.AllocateFrame()); // one frame per buffer (2 KiB used)
        }
        nic.Write(Devices.Nic8254x.Tdbal, tx);
        nic.Write(Devices.Nic8254x.Tdlen, RingEntries * 16);
        nic.Write(Devices.Nic8254x.Rdbal, rx);
        nic.Write(Devices.Nic8254x.Rdlen, RingEntries * 16);
        nic.Write(Devices.Nic8254x.Rdt, RingEntries - 1);
        nic.Write(Devices.Nic8254x.Rctl, 0x2);
        nic.Write(Devices.Nic8254x.Tctl, 0x2);
        nic.Write(Devices.Nic8254x.Ims, Devices.Nic8254x.IcrRxt0);
        Devices.IoApic ioApic = _machine.IoApic;
        ioApic.Write(0x00, (ulong)(0x11 + (2 * Machine.NicIrq)));
        ioApic.Write(0x10, 0);
        ioApic.Write(0x00, (ulong)(0x10 + (2 * Machine.NicIrq)));
        ioApic.Write(0x10, NicVector); // edge-triggered, unmasked
        _net = new NetworkState(tx, rx, Memory.AllocateFrame());
    }

    /// <summary>Starts the periodic scheduler tick on core 0's local APIC (done at boot, not timed).</summary>
    public void StartTimer(int vector, uint initialCount)
    {
        _timerVector = vector;
        Devices.LocalApic apic = _machine.ApicOf(0);
        apic.Write(0x3E0, 0xB);                          // divide by 1
        apic.Write(0x320, (uint)vector | (1u << 17));    // periodic
        apic.Write(0x380, initialCount);
    }

    private Process NewProcess(Process? parent, IReadOnlyList<MemoryRegion> regions, IProgram program)
    {
        AddressSpaceBuilder space = _machine.NewAddressSpace();
        space.ShareKernelHalf(_kernelSpace);
        var p = new Process(_nextPid++, parent, space, regions, program);
        parent?.Children.Add(p);
        return p;
    }

    /// <summary>fork: a new process sharing every page copy-on-write; the parent's writable pages become read-only in both.</summary>
    private void Fork(KernelPath path, Process parent)
    {
        _forks.Increment();
        path.Work(_costs.ForkBase);
        Process child = NewProcess(parent, parent.Regions, parent.Program.ForkChild());
        foreach (MemoryRegion r in parent.Regions)
        {
            for (ulong page = 0; page < r.Pages; page++)
            {
                ulong va = r.Start + (page * 4096);
                if (parent.Space.LeafEntryAddress(va) is not { } leaf)
                {
                    continue;
                }
                ulong entry = Memory.ReadUInt64(leaf);
                path.Load(leaf).Work(_costs.PerPteCopy);
                if ((entry & PageEntry.Present) == 0)
                {
                    continue;
                }
                if ((entry & PageEntry.Writable) != 0)
                {
                    entry &= ~PageEntry.Writable;
                    Memory.WriteUInt64(leaf, entry);
                    _ops.UpdatePageTableEntry(path, leaf);
                }
                ulong frame = entry & PageEntry.AddressMask;
                int tablesBefore = child.Space.TableFrames;
                child.Space.Map4K(va, frame, entry & (PageEntry.User | PageEntry.Writable | PageEntry.NoExecute));
                ulong childLeaf = child.Space.LeafEntryAddress(va)!.Value;
                if (child.Space.TableFrames > tablesBefore)
                {
                    path.ZeroPage(childLeaf & ~0xFFFUL);
                }
                path.Store(childLeaf);
                _frameReferences[frame] = _frameReferences.GetValueOrDefault(frame, 1) + 1;
            }
        }
        _ops.FlushTlb(path, parent.Space.Pml4); // the parent's writable translations are now stale
        _ready.Enqueue(child);
        parent.Program.SyscallReturned(child.Pid);
    }

    private void Exit(Core core, KernelPath path, Process dying, int status)
    {
        _exits.Increment();
        path.Work(_costs.ExitBase);
        foreach (MemoryRegion r in dying.Regions)
        {
            for (ulong page = 0; page < r.Pages; page++)
            {
                if (dying.Space.LeafEntryAddress(r.Start + (page * 4096)) is not { } leaf)
                {
                    continue;
                }
                ulong entry = Memory.ReadUInt64(leaf);
                if ((entry & PageEntry.Present) == 0)
                {
                    continue;
                }
                path.Load(leaf).Work(_costs.PerPteUnmap);
                Memory.WriteUInt64(leaf, 0);
                _ops.UpdatePageTableEntry(path, leaf);
                Release(entry & PageEntry.AddressMask);
            }
        }
        dying.State = ProcessState.Zombie;
        dying.ExitCode = status;
        if (dying.Parent is { State: ProcessState.Waiting } parent)
        {
            Reap(path, parent, dying);
            parent.State = ProcessState.Ready;
            _ready.Enqueue(parent);
        }
        SwitchToNext(core, path);
        // The tables are freed at the next kernel entry, when the core surely runs on another
        // address space (as Linux drops the last reference to an mm after the switch).
        _deadSpaces.Enqueue(dying.Space);
    }

    private void FreeDeadAddressSpaces(KernelPath path)
    {
        while (_deadSpaces.TryDequeue(out AddressSpaceBuilder? space))
        {
            path.Work(_costs.PerTableFree * space.ReleaseUserHalf());
        }
    }

    /// <summary>
    /// nanosleep: the caller sleeps for <paramref name="nanoseconds"/>; it becomes runnable when the
    /// time is up and runs from the next timer tick or other kernel entry (tick-granularity sleep,
    /// as in kernels without high-resolution timers).
    /// </summary>
    private void Sleep(Core core, KernelPath path, Process p, ulong nanoseconds)
    {
        p.State = ProcessState.Waiting;
        _sleepers++;
        var wake = new Sim.Engine.Events.CallbackEvent($"host.kernel.wake{p.Pid}", () =>
        {
            _sleepers--;
            p.Program.SyscallReturned(0);
            p.State = ProcessState.Ready;
            _ready.Enqueue(p);
        });
        _machine.Sim.ScheduleIn(wake, Sim.Engine.Time.Tick.FromNanoseconds(nanoseconds));
        SwitchToNext(core, path);
    }

    /// <summary>sched_yield: the caller goes to the back of the run queue if anyone else can run.</summary>
    private void Yield(Core core, KernelPath path, Process current)
    {
        current.Program.SyscallReturned(0);
        if (_ready.Count == 0)
        {
            return;
        }
        current.State = ProcessState.Ready;
        _ready.Enqueue(current);
        SwitchToNext(core, path);
    }

    /// <summary>An anonymous private mapping of <paramref name="pages"/> pages: a new region, demand-zero; returns its address.</summary>
    private ulong Map(KernelPath path, Process p, ulong pages)
    {
        path.Work(_costs.Mmap);
        ulong start = p.NextMapBase;
        p.NextMapBase += (pages + 1) * 4096; // a guard page between mappings
        p.AddRegion(new MemoryRegion("mmap", start, pages, Writable: true, Populated: false));
        return start;
    }

    /// <summary>munmap of the region starting at <paramref name="start"/>: its resident pages are freed and their translations flushed.</summary>
    private void Unmap(KernelPath path, Process p, ulong start)
    {
        path.Work(_costs.Mmap);
        if (p.Regions.FirstOrDefault(r => r.Start == start) is not { } region)
        {
            return;
        }
        for (ulong page = 0; page < region.Pages; page++)
        {
            ulong va = region.Start + (page * 4096);
            if (p.Space.LeafEntryAddress(va) is { } leaf && (Memory.ReadUInt64(leaf) & PageEntry.Present) != 0)
            {
                path.Load(leaf).Work(_costs.PerPteUnmap);
                Release(Memory.ReadUInt64(leaf) & PageEntry.AddressMask);
                Memory.WriteUInt64(leaf, 0);
                _ops.UpdatePageTableEntry(path, leaf);
                _ops.FlushTlbPage(path, va);
            }
        }
        p.RemoveRegion(region);
    }

    /// <summary>
    /// pread or pwrite of 4 KiB at byte <paramref name="offset"/> of the disk: the block layer's
    /// work and the ATA driver's six task-file writes (READ or WRITE SECTORS for 8 sectors); a write
    /// also pushes its 8 sectors through the data port at once (256 word writes each, the data
    /// read from the buffer). The caller blocks until the last interrupt. One request at a time
    /// (PIO has no queue).
    /// </summary>
    private void BlockIo(Core core, KernelPath path, Process p, ulong offset, bool write)
    {
        if (_machine.Disk is null)
        {
            throw new InvalidOperationException("Block I/O with no disk in the machine.");
        }
        if (_disk is not null)
        {
            throw new InvalidOperationException("The ATA model takes one request at a time; a second request would need a request queue.");
        }
        path.Work(_costs.BlockRequest);
        ulong lba = offset / 512;
        const int Sectors = 8;
        ushort port = Devices.AtaDisk.CommandBase;
        path.Execute(Op.Out((ushort)(port + 2), Sectors))
            .Execute(Op.Out((ushort)(port + 3), lba & 0xFF))
            .Execute(Op.Out((ushort)(port + 4), (lba >> 8) & 0xFF))
            .Execute(Op.Out((ushort)(port + 5), (lba >> 16) & 0xFF))
            .Execute(Op.Out((ushort)(port + 6), 0xE0 | ((lba >> 24) & 0x0F)))
            .Execute(Op.Out((ushort)(port + 7), write ? Devices.AtaDisk.WriteSectors : Devices.AtaDisk.ReadSectors));
        var request = new DiskRequest(p, Sectors, Memory.AllocateFrame(), write);
        if (write)
        {
            for (int sector = 0; sector < Sectors; sector++)
            {
                for (int word = 0; word < 256; word++)
                {
                    if (word % 32 == 0)
                    {
                        path.Load(request.Buffer + ((ulong)sector * 512) + ((ulong)(word / 32) * 64)); // rep outsw reads a line per 32 words
                    }
                    path.Execute(Op.Out(port, 0));
                }
            }
            request.Remaining = 0; // all sent; one interrupt when the medium has it
        }
        _disk = request;
        p.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    /// <summary>A sector is ready (or a write is done): acknowledge by reading the status; for a read, move the sector with 256 word reads into the buffer; wake the caller after the last.</summary>
    private void DiskInterrupt(KernelPath path)
    {
        DiskRequest request = _disk!;
        ushort port = Devices.AtaDisk.CommandBase;
        path.Execute(Op.In((ushort)(port + 7)));
        if (request.Write)
        {
            CompleteDisk(path, request);
            return;
        }
        int sector = request.Sectors - request.Remaining;
        for (int word = 0; word < 256; word++)
        {
            path.Execute(Op.In(port));
            if (word % 32 == 31)
            {
                path.Store(request.Buffer + ((ulong)sector * 512) + ((ulong)(word / 32) * 64)); // rep insw fills a line per 32 words
            }
        }
        request.Remaining--;
        if (request.Remaining == 0)
        {
            CompleteDisk(path, request);
        }
    }

    private void CompleteDisk(KernelPath path, DiskRequest request)
    {
        path.Work(_costs.BlockCompletion);
        _disk = null;
        Release(request.Buffer);
        request.Caller.Program.SyscallReturned(4096);
        request.Caller.State = ProcessState.Ready;
        _ready.Enqueue(request.Caller);
    }

    /// <summary>
    /// sendto of <paramref name="bytes"/> (one datagram): the protocol stack's work, the copy of the
    /// payload from the user buffer, a transmit descriptor written in memory, and one TDT write.
    /// </summary>
    private void Send(KernelPath path, Process p, int bytes)
    {
        NetworkState net = _net ?? throw new InvalidOperationException("sendto with no network brought up.");
        int frame = Math.Clamp(bytes + 42, 60, 1514); // UDP, IP and Ethernet headers; Ethernet minimum and maximum
        path.Work(_costs.NetworkSend);
        ulong buffer = net.TxBuffer;
        for (int offset = 0; offset < frame; offset += 64)
        {
            path.Store(buffer + (ulong)offset); // the copy from user space into the socket buffer
        }
        ulong descriptor = net.TxRing + ((ulong)net.TxTail * 16);
        Memory.WriteUInt64(descriptor, buffer);
        Memory.WriteUInt64(descriptor + 8, (ulong)frame | ((ulong)(Devices.Nic8254x.CmdEop | Devices.Nic8254x.CmdRs) << 24));
        path.Store(descriptor).Store(descriptor + 8);
        net.TxTail = (net.TxTail + 1) % RingEntries;
        path.Execute(Op.MmioWrite(Machine.NicBase + Devices.Nic8254x.Tdt, (ulong)net.TxTail));
        p.Program.SyscallReturned(bytes);
    }

    /// <summary>recvfrom: a queued datagram is copied out at once; otherwise the caller blocks until the NIC's interrupt brings one.</summary>
    private void Receive(Core core, KernelPath path, Process p)
    {
        NetworkState net = _net ?? throw new InvalidOperationException("recvfrom with no network brought up.");
        if (net.Queued.TryDequeue(out (int Bytes, ulong Buffer) datagram))
        {
            CopyOut(path, datagram);
            p.Program.SyscallReturned(datagram.Bytes);
            return;
        }
        net.Waiter = p;
        p.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    /// <summary>The NIC's interrupt: read ICR, take every completed receive descriptor through the stack, give the buffers back with one RDT write, wake a waiting receiver.</summary>
    private void NicInterrupt(KernelPath path)
    {
        NetworkState net = _net!;
        path.Execute(Op.MmioRead(Machine.NicBase + Devices.Nic8254x.Icr));
        int taken = 0;
        while (true)
        {
            ulong status = net.RxRing + ((ulong)net.RxNext * 16) + 8;
            path.Load(status);
            ulong word = Memory.ReadUInt64(status);
            if ((word & ((ulong)Devices.Nic8254x.StatusDd << 32)) == 0)
            {
                break;
            }
            Memory.WriteUInt64(status, 0);
            path.Work(_costs.NetworkReceive);
            net.Queued.Enqueue(((int)(word & 0xFFFF) - 42, Memory.ReadUInt64(status - 8)));
            net.RxNext = (net.RxNext + 1) % RingEntries;
            taken++;
        }
        if (taken > 0)
        {
            path.Execute(Op.MmioWrite(Machine.NicBase + Devices.Nic8254x.Rdt, (ulong)((net.RxNext + RingEntries - 1) % RingEntries)));
        }
        if (net.Waiter is { } waiter && net.Queued.TryDequeue(out (int Bytes, ulong Buffer) datagram))
        {
            CopyOut(path, datagram);
            waiter.Program.SyscallReturned(datagram.Bytes);
            waiter.State = ProcessState.Ready;
            _ready.Enqueue(waiter);
            net.Waiter = null;
        }
    }

    /// <summary>The copy of a received datagram from its receive buffer to the user (the user-side stores are not modelled).</summary>
    private static void CopyOut(KernelPath path, (int Bytes, ulong Buffer) datagram)
    {
        for (int offset = 0; offset < datagram.Bytes; offset += 64)
        {
            path.Load(datagram.Buffer + (ulong)offset);
        }
    }

    private sealed class NetworkState(ulong txRing, ulong rxRing, ulong txBuffer)
    {
        public ulong TxRing { get; } = txRing;

        public ulong RxRing { get; } = rxRing;

        /// <summary>Model: one socket buffer frame that every send copies into.</summary>
        public ulong TxBuffer { get; } = txBuffer;

        public int TxTail { get; set; }

        public int RxNext { get; set; }

        public Queue<(int Bytes, ulong Buffer)> Queued { get; } = new();

        public Process? Waiter { get; set; }
    }

    private sealed class DiskRequest(Process caller, int sectors, ulong buffer, bool write)
    {
        public Process Caller { get; } = caller;

        public int Sectors { get; } = sectors;

        public ulong Buffer { get; } = buffer;

        public bool Write { get; } = write;

        public int Remaining { get; set; } = sectors;
    }

    private void Wait(Core core, KernelPath path, Process parent)
    {
        if (parent.Children.FirstOrDefault(c => c.State == ProcessState.Zombie) is { } zombie)
        {
            Reap(path, parent, zombie);
            return;
        }
        if (parent.Children.Count == 0)
        {
            parent.Program.SyscallReturned(Echild);
            return;
        }
        parent.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    private void Reap(KernelPath path, Process parent, Process child)
    {
        path.Work(_costs.Wait);
        parent.Children.Remove(child);
        parent.Program.SyscallReturned(child.Pid);
    }

    private void SwitchToNext(Core core, KernelPath path)
    {
        if (!_ready.TryDequeue(out Process? next))
        {
            if (_disk is not null || _sleepers > 0 || _net?.Waiter is not null)
            {
                Current = null; // someone waits for the disk or a timeout: idle until an interrupt
                core.ReplaceThread(_idle, cpl: 0);
                return;
            }
            if (Current is { State: ProcessState.Waiting })
            {
                throw new InvalidOperationException("No runnable process, and nothing in flight that could wake the one that waits.");
            }
            Current = null; // the last process is gone: the core returns to nothing and halts
            core.ReplaceUserStream(new OpSequence());
            if (_timerVector is not null)
            {
                _machine.ApicOf(0).Write(0x380, 0); // and the tick stops, so the simulation can end
            }
            return;
        }
        _contextSwitches.Increment();
        path.Work(_costs.ContextSwitch);
        _ops.SwitchAddressSpace(path, next.Space.Pml4);
        next.State = ProcessState.Running;
        Current = next;
        core.ReplaceUserStream(next.Program);
    }

    /// <summary>Demand-zero and copy-on-write faults; false for a fault the process cannot survive.</summary>
    private bool HandlePageFault(KernelPath path, Process p, PageFaultErrorCode code, ulong address)
    {
        MemoryRegion? region = p.RegionOf(address);
        bool write = (code & PageFaultErrorCode.Write) != 0;
        if (region is null || (write && !region.Writable))
        {
            return false;
        }
        ulong page = address & ~0xFFFUL;
        ulong flags = PageEntry.User | (region.Writable ? PageEntry.Writable : 0);
        ulong? leaf = p.Space.LeafEntryAddress(page);
        ulong entry = leaf is { } l ? Memory.ReadUInt64(l) : 0;
        if ((entry & PageEntry.Present) == 0)
        {
            _demandZeroFaults.Increment();
            path.Work(_costs.DemandZeroFault);
            ulong frame = Memory.AllocateFrame();
            _frameReferences[frame] = 1;
            path.ZeroPage(frame);
            p.Space.Map4K(page, frame, flags);
            _ops.UpdatePageTableEntry(path, p.Space.LeafEntryAddress(page)!.Value);
            return true;
        }
        if (!write || (entry & PageEntry.Writable) != 0)
        {
            return false; // present and allowed: not a fault this kernel makes
        }
        _copyOnWriteFaults.Increment();
        path.Work(_costs.CopyOnWriteFault);
        ulong old = entry & PageEntry.AddressMask;
        ulong target = old;
        if (_frameReferences.GetValueOrDefault(old, 1) > 1)
        {
            target = Memory.AllocateFrame();
            _frameReferences[target] = 1;
            path.CopyPage(old, target);
            Release(old);
        }
        Memory.WriteUInt64(leaf!.Value, (entry & ~PageEntry.AddressMask) | target | PageEntry.Writable);
        _ops.UpdatePageTableEntry(path, leaf.Value);
        _ops.FlushTlbPage(path, page);
        return true;
    }

    private void Release(ulong frame)
    {
        int refs = _frameReferences.GetValueOrDefault(frame, 1) - 1;
        if (refs <= 0)
        {
            _frameReferences.Remove(frame);
            Memory.FreeFrame(frame);
        }
        else
        {
            _frameReferences[frame] = refs;
        }
    }
}
