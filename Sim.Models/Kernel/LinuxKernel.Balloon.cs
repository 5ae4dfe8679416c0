using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Memory;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The memory balloon's driver, after Linux's drivers/virtio/virtio_balloon.c: on the device's
/// configuration-change interrupt it reads the host's target (num_pages) and moves the balloon
/// towards it (towards_target, update_balloon_size_func) a batch of at most
/// <see cref="BalloonBatch"/> pages at a time. Inflating (fill_balloon) allocates each page as
/// balloon_page_alloc does, with __GFP_NORETRY: when memory has no free page, one pass of direct
/// reclaim (page cache first: the model has no swap, so only page cache) and one more try; the
/// page goes on the balloon's list and its frame number into the array; tell_host puts the array
/// in the inflate queue as one buffer, kicks, and waits for the host to use it. Deflating
/// (leak_balloon) takes pages off the list, tells the host on the deflate queue, then frees them.
/// At the end the driver writes the balloon's size to actual.
/// </summary>
/// <remarks>
/// Model: the driver's work runs in its interrupt handler, to the end, where Linux runs it from a
/// work queue (a kernel thread the scheduler may preempt): while the balloon moves, that CPU runs
/// nothing else. A batch that gets no page at all ends the work (Linux's driver logs "Out of
/// puff!"), leaving actual below the target. In a kernel with swap, whose reclaim frees the pages
/// it sends to swap only when their writes end, the driver then tries again
/// <see cref="BalloonRetryMilliseconds"/> later, as Linux's does, from CPU 0's timer tick; a
/// kernel without swap does not retry (its reclaim frees what it can at once).
/// </remarks>
public sealed partial class LinuxKernel
{
    /// <summary>The balloon device's interrupt vector.</summary>
    public const int BalloonVector = 0x2D;

    /// <summary>VIRTIO_BALLOON_ARRAY_PFNS_MAX: the pages one buffer of frame numbers carries.</summary>
    public const int BalloonBatch = 256;

    private BalloonState? _balloon;

    /// <summary>How long the driver waits after a batch that got no page before it tries again: fill_balloon's msleep(200) ("Sleep for at least 1/5 of a second before retry", drivers/virtio/virtio_balloon.c).</summary>
    public const int BalloonRetryMilliseconds = 200;

    /// <summary>The pages the balloon holds.</summary>
    public int BalloonPages => _balloon?.Pages.Count ?? 0;

    /// <summary>Boot-time set-up of the balloon driver (not timed): both queues given to the device, the frame-number array allocated, the line routed.</summary>
    public void StartBalloon()
    {
        VirtioBalloon device = _platform.Devices.Balloon ?? throw new InvalidOperationException("The machine has no memory balloon to drive.");
        CountReclaim();
        StatGroup stats = _platform.Sim.Stats.Group(_platform.Name + ".kernel.balloon");
        _balloon = new BalloonState(
            device,
            new VirtqueueDriver(Memory, device, VirtioBalloon.InflateQueue),
            new VirtqueueDriver(Memory, device, VirtioBalloon.DeflateQueue),
            Memory.AllocateFrame(),
            stats.Counter("allocation_failures", "count", "balloon pages that could not be allocated even after direct reclaim (the driver's \"Out of puff!\")"));
        device.Write(VirtioMmioDevice.Status, 0xF); // ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK
        RouteIrq(PlatformDevices.BalloonIrq, BalloonVector, levelTriggered: true);
    }

    /// <summary>
    /// The balloon inflated to <paramref name="pages"/> pages as the guest booted, before the run
    /// (the host set its target then): fill_balloon's steps, free pages first and then one pass of
    /// reclaim at a time, without their cost (the run begins after boot), and the device told.
    /// Returns the pages given up, for the host to discard; fewer than asked if memory ran out.
    /// Reclaim at boot takes page cache only (no swap write can run before the run begins); a
    /// kernel with swap tries again at its first tick, as the driver's retry would.
    /// </summary>
    public IReadOnlyList<ulong> InflateBalloonAtBoot(uint pages)
    {
        BalloonState b = _balloon ?? throw new InvalidOperationException("The balloon's driver has not started.");
        int got = 0;
        while (got < pages)
        {
            int filled = FillBalloon(NewPath(), b, (int)Math.Min(BalloonBatch, pages - (uint)got), atBoot: true);
            if (filled == 0)
            {
                b.RetryTicks = _swap is null ? 0 : 1; // out of puff: the balloon holds less than asked
                break;
            }
            got += filled;
        }
        b.Device.InflatedAtBoot(pages, (uint)b.Pages.Count);
        return [.. b.Pages.Take(got)];
    }

    /// <summary>
    /// The balloon's interrupt: InterruptStatus read and acknowledged; on a configuration change
    /// the target is read (virtio_cread of num_pages) and the balloon moved towards it. A
    /// used-buffer interrupt needs nothing more: the driver took the buffer as it waited for it.
    /// </summary>
    private StagedStream BalloonInterrupt(Core core, KernelPath path, bool preemptible)
    {
        ulong registers = PlatformDevices.BalloonBase;
        path.Execute(Op.MmioRead(registers + VirtioMmioDevice.InterruptStatus));
        return new StagedStream(path.ToStream(), () =>
        {
            Enter(core); // built when the read has run: other CPUs' traps may have come between
            KernelPath rest = NewPath();
            ulong status = core.LastReadValue;
            rest.Execute(Op.MmioWrite(registers + VirtioMmioDevice.InterruptAck, status));
            if ((status & VirtioMmioDevice.ConfigurationChange) == 0)
            {
                return new StagedStream.Stage(FinishInterrupt(core, rest, preemptible), null);
            }
            rest.Execute(Op.MmioRead(registers + VirtioMmioDevice.Config + VirtioBalloon.NumPages));
            return MoveBalloon(core, rest, preemptible);
        });
    }

    /// <summary>
    /// One step towards the target: a batch inflated or deflated and told to the host (its next
    /// step built once the host has used the buffer), or, at the target or out of pages, actual
    /// written and the interrupt finished.
    /// </summary>
    /// <remarks>The target is the device's num_pages, which the handler's read of it returned (nothing changes it between the read and this step).</remarks>
    private StagedStream.Stage MoveBalloon(Core core, KernelPath path, bool preemptible)
    {
        BalloonState b = _balloon!;
        long difference = (long)b.Device.TargetPages - b.Pages.Count;
        int batch = (int)Math.Min(Math.Abs(difference), BalloonBatch);
        if (difference > 0 && FillBalloon(path, b, batch) is > 0 and int filled)
        {
            return TellHost(core, path, preemptible, b.Inflate, VirtioBalloon.InflateQueue, filled, _ => { });
        }
        if (difference > 0 && _swap is not null)
        {
            b.RetryTicks = Math.Max(1, (long)Math.Ceiling(BalloonRetryMilliseconds * 1000.0 / _tickMicroseconds)); // out of puff: again once swap writes have freed pages
        }
        if (difference < 0)
        {
            ulong[] leaked = LeakBalloon(path, b, batch);
            return TellHost(core, path, preemptible, b.Deflate, VirtioBalloon.DeflateQueue, leaked.Length, next =>
            {
                foreach (ulong frame in leaked)
                {
                    _pages.Give(next, frame); // release_pages_balloon, after the host knows: the frames go back to the allocator
                }
            });
        }
        path.Execute(Op.MmioWrite(PlatformDevices.BalloonBase + VirtioMmioDevice.Config + VirtioBalloon.Actual, (ulong)b.Pages.Count));
        return new StagedStream.Stage(FinishInterrupt(core, path, preemptible), null);
    }

    /// <summary>
    /// The balloon's retry after it ran out of puff, from CPU 0's timer tick once its wait is over:
    /// the target read again and the balloon moved towards it (the rest of the tick's interrupt,
    /// its end and return, comes with the move); null when no retry is due.
    /// </summary>
    private StagedStream? BalloonRetry(Core core, KernelPath path, bool preemptible)
    {
        if (_balloon is not { RetryTicks: > 0 } b || _this.Index != 0 || --b.RetryTicks > 0)
        {
            return null;
        }
        return new StagedStream(path.ToStream(), () =>
        {
            Enter(core);
            KernelPath rest = NewPath();
            rest.Execute(Op.MmioRead(PlatformDevices.BalloonBase + VirtioMmioDevice.Config + VirtioBalloon.NumPages)); // towards_target's virtio_cread
            return MoveBalloon(core, rest, preemptible);
        });
    }

    /// <summary>
    /// fill_balloon: up to <paramref name="pages"/> pages allocated, each put on the balloon's list
    /// (its descriptor's lru linked) and its frame number stored in the array; returns how many it
    /// got. A page is taken as balloon_page_alloc takes one: when memory has none, one pass of direct
    /// reclaim and one more try; in a kernel with swap, above the min watermark as a user page is,
    /// with a pass (which may send anonymous pages to swap) when free memory is at it.
    /// </summary>
    private int FillBalloon(KernelPath path, BalloonState b, int pages, bool atBoot = false)
    {
        int got = 0;
        for (; got < pages; got++)
        {
            if (!TryBalloonPage(path, atBoot, out ulong frame))
            {
                b.AllocationFailures.Increment();
                break;
            }
            b.Pages.Push(frame);
            path.Store(_frames.Descriptor(frame));
            Memory.WriteField(b.FrameNumbers + (4UL * (ulong)got), 4, frame >> PhysicalMemory.FrameShift);
        }
        if (got > 0)
        {
            path.StoreRange(DirectMap.Of(b.FrameNumbers), 4L * got);
        }
        return got;
    }

    /// <summary>One page for the balloon, or false: out of puff. At boot, and in a kernel without swap, down to the last free page with page cache reclaim only.</summary>
    private bool TryBalloonPage(KernelPath path, bool atBoot, out ulong frame)
    {
        if (_swap is null || atBoot)
        {
            return _pages.TryTake(path, out frame) || (ReclaimPass(path, AllFileLists(), []) > 0 && _pages.TryTake(path, out frame));
        }
        if (_pages.FreeFrames <= _minFreeFrames)
        {
            ReclaimPass(path, AllFileLists(), AllAnonymousLists());
        }
        frame = 0;
        return _pages.FreeFrames > _minFreeFrames && _pages.TryTake(path, out frame);
    }

    /// <summary>leak_balloon: up to <paramref name="pages"/> pages taken off the balloon's list, their frame numbers stored in the array; the frames, to free once the host is told.</summary>
    private ulong[] LeakBalloon(KernelPath path, BalloonState b, int pages)
    {
        var leaked = new ulong[Math.Min(pages, b.Pages.Count)];
        for (int i = 0; i < leaked.Length; i++)
        {
            leaked[i] = b.Pages.Pop();
            path.Load(_frames.Descriptor(leaked[i]));
            Memory.WriteField(b.FrameNumbers + (4UL * (ulong)i), 4, leaked[i] >> PhysicalMemory.FrameShift);
        }
        path.StoreRange(DirectMap.Of(b.FrameNumbers), 4L * leaked.Length);
        return leaked;
    }

    /// <summary>
    /// tell_host: the array of <paramref name="count"/> frame numbers as one buffer on
    /// <paramref name="queue"/>, a kick, and the wait for the host to use it (the kick's exit is
    /// where the host does its work); then <paramref name="afterwards"/>, and the next step.
    /// </summary>
    private StagedStream.Stage TellHost(Core core, KernelPath path, bool preemptible, VirtqueueDriver queue, int queueIndex, int count, Action<KernelPath> afterwards)
    {
        BalloonState b = _balloon!;
        queue.WriteDescriptor(0, b.FrameNumbers, (uint)(4 * count), 0, 0);
        if (queue.Publish(path, 0, 0))
        {
            _ops.NotifyDevice(path, PlatformDevices.BalloonBase + VirtioMmioDevice.QueueNotify, queueIndex);
        }
        return new StagedStream.Stage(path.ToStream(), () =>
        {
            Enter(core);
            KernelPath next = NewPath();
            next.Load(queue.Used);
            if (!queue.TryTakeUsed(next, out _, out _))
            {
                throw new InvalidOperationException("The balloon's host did not use the buffer it was kicked for.");
            }
            afterwards(next);
            return MoveBalloon(core, next, preemptible);
        });
    }

    private sealed class BalloonState(VirtioBalloon device, VirtqueueDriver inflate, VirtqueueDriver deflate, ulong frameNumbers, Counter allocationFailures)
    {
        public VirtioBalloon Device { get; } = device;

        public VirtqueueDriver Inflate { get; } = inflate;

        public VirtqueueDriver Deflate { get; } = deflate;

        /// <summary>The array of frame numbers one buffer carries (struct virtio_balloon's pfns), in a page of its own.</summary>
        public ulong FrameNumbers { get; } = frameNumbers;

        /// <summary>The balloon's pages, the last inflated on top (vb_dev_info's pages list).</summary>
        public Stack<ulong> Pages { get; } = new();

        public Counter AllocationFailures { get; } = allocationFailures;

        /// <summary>Timer ticks until the driver tries again after running out of puff; 0 when no retry is due.</summary>
        public long RetryTicks { get; set; }
    }
}
