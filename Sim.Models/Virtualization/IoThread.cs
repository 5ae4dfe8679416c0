using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Models.Devices;

namespace Sim.Models.Virtualization;

/// <summary>
/// A virtual machine's device backend as a thread on a host CPU (<see cref="Kind"/>): under a
/// KVM-like hypervisor a QEMU-like process's I/O thread in user space or a vhost worker in the
/// host kernel; under the Xen-like paravirtual monitor, dom0's netback and blkback, woken by the
/// guest's event channel rather than an eventfd, and notifying it by one in return (see
/// <see cref="BackendKind.Dom0"/>). A virtio kick's exit only signals the thread's eventfd (ioeventfd);
/// the thread, woken on its CPU, pops the virtqueue and submits each request to the host (a
/// preadv or io_submit system call in user space; submit_bio from the vhost worker); when the host
/// I/O completes, the host's completion wakes it again, and it fills the used ring and interrupts
/// the guest through irqfd. The user-space thread also takes the emulated e1000's frames from the
/// tap and the AHCI adapter's finished commands, whose submissions the vCPU thread made. Each piece runs when the thread gets its CPU, taking that CPU from
/// whatever ran there (a virtual CPU exits for it, as a woken thread preempts a vCPU thread under
/// CFS, or as Xen's credit scheduler boosts dom0's virtual CPU woken by an event), and its cycles
/// are charged to device emulation on that CPU and counted per virtual machine.
/// </summary>
/// <remarks>
/// Model: the thread runs on the host CPU of its machine's first virtual CPU, or on the one it is
/// pinned to (<see cref="MonitorParameters.IoThreadCpu"/>), which idles in the host's loop when no
/// virtual CPU is placed there; it is not a scheduling entity of the host's scheduler, so it never
/// waits behind a virtual CPU's slice, and the switch to it is a cost in its wake-up path rather
/// than a switch of contexts (for dom0: its virtual CPU is not one the credit scheduler
/// time-shares; its boost on an event is taken to win every time). The wake-up signal reaches its CPU when the simulation next takes
/// events, up to a synchronization quantum after the exit that sent it.
/// </remarks>
internal sealed class IoThread : IDeviceBackend
{
    /// <summary>The vector that wakes a backend thread on its CPU (a free one below kswapd's; the reschedule IPI of a real host).</summary>
    public const int WakeVector = 0xE9;

    private readonly Queue<(bool Completion, Action Work)> _pending = new();
    private readonly List<IPolledDevice> _polled = [];
    private readonly CallbackEvent _wake;
    private readonly Counter _wakeups;
    private readonly Counter _completions;
    private readonly Counter _cycles;
    private readonly Counter? _pollCycles; // registered only for a thread that may poll
    private readonly Counter? _polledWork;
    private readonly Counter? _grantCopies; // dom0's only
    private readonly Counter? _grantMaps;
    private readonly Counter? _grantUnmaps;
    private readonly Counter? _eventsSent;
    private Engine.Time.Tick _waitStart;

    /// <param name="wake">Interrupts the thread's host CPU with <see cref="WakeVector"/>.</param>
    /// <param name="owner">Its machine's first virtual CPU: where the device models keep their state.</param>
    /// <param name="physical">The host CPU the thread runs on: by default its owner's, or one it is pinned to.</param>
    /// <param name="pollMaxNanoseconds">The longest it polls before it blocks (QEMU's poll-max-ns); 0 never to poll. Only a user-space thread polls.</param>
    public IoThread(VirtualCpu owner, int physical, BackendKind kind, StatGroup stats, Action wake, long pollMaxNanoseconds = 0)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(stats);
        Owner = owner;
        Physical = physical;
        Kind = kind;
        _wake = new CallbackEvent(stats.Path + ".wake", wake);
        string what = kind switch
        {
            BackendKind.HostKernel => "the vhost worker",
            BackendKind.Dom0 => "dom0's netback and blkback",
            _ => "the I/O thread",
        };
        _wakeups = stats.Counter("wakeups", "count", $"times {what} was woken on its host CPU");
        _completions = stats.Counter("completions", "count", $"host I/O completions {what} returned to the guest");
        _cycles = stats.Counter("cycles", "cycles", $"cycles {what} ran on its host CPU");
        stats.Probe("cpu", "index", $"the host logical CPU {what} runs on", () => physical);
        PollMaxNanoseconds = kind == BackendKind.UserSpace ? pollMaxNanoseconds : 0;
        if (kind == BackendKind.Dom0)
        {
            _grantCopies = stats.Counter("grant_copies", "count", "grant copies (GNTTABOP_copy) dom0's netback made, a frame each");
            _grantMaps = stats.Counter("grant_maps", "count", "grant mappings (GNTTABOP_map_grant_ref) dom0's blkback made, a request's page each");
            _grantUnmaps = stats.Counter("grant_unmaps", "count", "grant unmappings (GNTTABOP_unmap_grant_ref) dom0's blkback made as requests completed");
            _eventsSent = stats.Counter("events_sent", "count", "event-channel notifications dom0's backends sent the guest");
        }
        if (PollMaxNanoseconds > 0)
        {
            _pollCycles = stats.Counter("poll_cycles", "cycles", "cycles the I/O thread spent polling its queues, of its cycles");
            _polledWork = stats.Counter("polled", "count", "times a poll found a request or a completion without a wake-up");
        }
    }

    public VirtualCpu Owner { get; }

    public VirtualMachine Vm => Owner.Vm;

    /// <summary>The host CPU it runs on.</summary>
    public int Physical { get; }

    /// <summary>What it is: a user-space I/O thread, a vhost worker, or dom0's backends.</summary>
    public BackendKind Kind { get; }

    /// <summary>The name of its statistics' group under its machine's: <c>iothread</c>, <c>vhost</c> or <c>dom0</c>.</summary>
    public static string StatName(BackendKind kind) => kind switch
    {
        BackendKind.HostKernel => "vhost",
        BackendKind.Dom0 => "dom0",
        _ => "iothread",
    };

    /// <summary>dom0's: the guest-physical frame of the guest's grant table (its version-1 entries of 8 bytes: flags, domain, frame), 0 for the other kinds.</summary>
    public ulong GrantTable { get; set; }

    private int _grant;

    /// <summary>The guest-physical address of the grant entry the next grant operation uses: the guest's grant references taken in turn through its table's frame.</summary>
    public ulong NextGrantEntry()
    {
        if (GrantTable == 0)
        {
            throw new InvalidOperationException($"{Vm.Name}'s {StatName(Kind)} backend has no grant table: only dom0's backends use grants.");
        }
        ulong entry = GrantTable + ((ulong)_grant * GrantEntryBytes);
        _grant = (_grant + 1) % (int)(Memory.PhysicalMemory.FrameBytes / GrantEntryBytes);
        return entry;
    }

    /// <summary>dom0's backends made a grant operation (<see cref="HypervisorRoutine.GrantCopy"/>, <see cref="HypervisorRoutine.GrantMap"/> or <see cref="HypervisorRoutine.GrantUnmap"/>).</summary>
    public void Granted(HypervisorRoutine operation) => (operation switch
    {
        HypervisorRoutine.GrantCopy => _grantCopies,
        HypervisorRoutine.GrantMap => _grantMaps,
        HypervisorRoutine.GrantUnmap => _grantUnmaps,
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "Not a grant operation."),
    })?.Increment();

    /// <summary>dom0's backends sent the guest an event.</summary>
    public void SentEvent() => _eventsSent?.Increment();

    /// <summary>A version-1 grant entry's size (xen/include/public/grant_table.h, grant_entry_v1: flags, domid, frame).</summary>
    private const ulong GrantEntryBytes = 8;

    /// <summary>Its eventfd is signalled and its CPU interrupted, and it has not yet taken its work.</summary>
    public bool Signalled { get; private set; }

    /// <summary>The longest it polls before it blocks (QEMU's poll-max-ns); 0 if it never polls.</summary>
    public long PollMaxNanoseconds { get; }

    /// <summary>How long it polls now (QEMU's adaptive poll_ns): grown from 4 us by doubling while it blocks for less than the most, back to 0 when it blocks for longer.</summary>
    public long PollNanoseconds { get; private set; }

    /// <summary>It is polling: what is posted now it finds itself, with no wake-up.</summary>
    public bool Polling { get; private set; }

    /// <summary>Its virtqueues a poll looks at.</summary>
    public IReadOnlyList<IPolledDevice> Polled => _polled;

    /// <summary>A device whose queue it polls.</summary>
    public void AddPolled(IPolledDevice device) => _polled.Add(device);

    public void Kick(Action take) => Post(completion: false, take);

    public void Completed(Action complete) => Post(completion: true, complete);

    private void Post(bool completion, Action work)
    {
        _pending.Enqueue((completion, work));
        if (!Polling)
        {
            Signal();
        }
    }

    /// <summary>Its eventfd signalled: the wake-up of its CPU scheduled, unless one is already on its way.</summary>
    private void Signal()
    {
        if (!Signalled)
        {
            Signalled = true;
            if (!_wake.Scheduled)
            {
                Vm.Sim.Schedule(_wake, Vm.Sim.Now);
            }
        }
    }

    /// <summary>
    /// The thread has its CPU at <paramref name="now"/>: it counts the wake-up, what is posted from
    /// now on signals it anew, and its polling time adapts to how long it waited, as QEMU's aio_poll
    /// adjusts poll_ns: a wait no longer than it polls leaves it; a wait longer than the most stops
    /// polling (poll-shrink 0, the default); a shorter one doubles it (from 4 us, up to the most).
    /// </summary>
    public void Woke(Engine.Time.Tick now)
    {
        _wakeups.Increment();
        Signalled = false;
        if (PollMaxNanoseconds == 0)
        {
            return;
        }
        long waited = (long)((now - _waitStart).Picoseconds / 1000);
        if (waited <= PollNanoseconds)
        {
            return;
        }
        PollNanoseconds = waited > PollMaxNanoseconds ? 0
            : Math.Min(PollMaxNanoseconds, PollNanoseconds == 0 ? MonitorParameters.FirstIoThreadPollNanoseconds : 2 * PollNanoseconds);
    }

    /// <summary>Its work is done at <paramref name="now"/>: aio_poll starts again, polling (with its queues' kicks off) if it <paramref name="mayPoll"/> and its polling time is not 0.</summary>
    public void Wait(Engine.Time.Tick now, bool mayPoll)
    {
        _waitStart = now;
        if (!mayPoll && Polling)
        {
            StopPolling();
            if (_pending.Count > 0)
            {
                Signal(); // what was posted while it polled, with no wake-up: it blocks now, so its eventfd wakes it as for a post
            }
        }
        if (mayPoll && PollNanoseconds > 0 && !Polling)
        {
            Polling = true;
            foreach (IPolledDevice device in _polled)
            {
                device.PollBegin();
            }
        }
    }

    /// <summary>Whether polling, having started at the wait's start, may go on at <paramref name="now"/>.</summary>
    public bool MayPollAt(Engine.Time.Tick now) => Polling && (long)((now - _waitStart).Picoseconds / 1000) < PollNanoseconds;

    /// <summary>A poll found work: posted completions and requests its queues hold.</summary>
    public bool FoundWork => _pending.Count > 0 || _polled.Exists(d => d.HasAvailable);

    /// <summary>Polling ends (its time is up): kicks are wanted again, and it blocks unless a last look finds work.</summary>
    public void StopPolling()
    {
        Polling = false;
        foreach (IPolledDevice device in _polled)
        {
            device.PollEnd();
        }
    }

    /// <summary>The work a poll found, in the order it is taken: what was posted (completions, a kick that raced the poll's start), then the requests its queues hold.</summary>
    public void TakePolled()
    {
        _polledWork?.Increment();
        foreach (IPolledDevice device in _polled.Where(d => d.HasAvailable))
        {
            _pending.Enqueue((false, device.TakePolled));
        }
    }

    /// <summary>It ran <paramref name="cycles"/> cycles polling (counted in <see cref="Ran"/> too).</summary>
    public void RanPolling(ulong cycles) => _pollCycles?.Add((long)cycles);

    /// <summary>The next piece of posted work, in the order posted.</summary>
    public bool TryTake(out bool completion, out Action work)
    {
        if (_pending.TryDequeue(out (bool Completion, Action Work) next))
        {
            (completion, work) = next;
            if (completion)
            {
                _completions.Increment();
            }
            return true;
        }
        (completion, work) = (false, () => { });
        return false;
    }

    /// <summary>It ran <paramref name="cycles"/> of its CPU's cycles.</summary>
    public void Ran(ulong cycles) => _cycles.Add((long)cycles);
}
