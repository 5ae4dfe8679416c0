using Sim.Engine;
using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// A memory balloon (virtio-balloon, virtio 1.1 section 5.5) with the virtio-mmio register
/// interface: the host sets the configuration field num_pages to the number of 4 KiB pages it
/// wants the guest to give up and raises the configuration-change interrupt (QEMU's
/// virtio_balloon_to_target and virtio_notify_config); the driver hands pages over as arrays of
/// 32-bit page frame numbers in buffers on the inflate queue (0) and takes them back on the
/// deflate queue (1), and writes how many the balloon holds to the field actual. The device
/// collects the guest-physical pages each inflate buffer names for the host to discard
/// (<see cref="TakeInflated"/>): the device is the guest's side of it, the freeing of the frames is
/// the hypervisor's.
/// </summary>
/// <remarks>Model: no statistics queue and no feature bits (VIRTIO_BALLOON_F_MUST_TELL_HOST and the rest are not negotiated); a deflated page needs nothing of the host, which backs it again when the guest next touches it.</remarks>
public sealed class VirtioBalloon : VirtioMmioDevice
{
    /// <summary>The configuration fields: num_pages (the host's target) and actual (the pages the balloon holds), little-endian 32-bit.</summary>
    public const ulong NumPages = 0x0, Actual = 0x4;

    public const int InflateQueue = 0, DeflateQueue = 1;

    private readonly List<ulong> _inflated = [];
    private readonly Counter _inflatedPages;
    private readonly Counter _deflatedPages;

    public VirtioBalloon(Simulator sim, string name, PhysicalMemory memory, Action raiseInterrupt, Action lowerInterrupt)
        : base(sim, name, memory, queues: 2, accessCycles: 0, raiseInterrupt, lowerInterrupt)
    {
        _inflatedPages = Stats.Counter("inflated_pages", "count", "pages the guest gave up on the inflate queue");
        _deflatedPages = Stats.Counter("deflated_pages", "count", "pages the guest took back on the deflate queue");
        Stats.Probe("target_pages", "count", "the host's target for the balloon (num_pages)", () => (long)TargetPages);
        Stats.Probe("actual_pages", "count", "the pages the driver last said the balloon holds (actual)", () => (long)ActualPages);
    }

    protected override uint DeviceType => 5; // memory balloon (virtio 1.1, 5)

    /// <summary>The host's target (num_pages), in 4 KiB pages.</summary>
    public uint TargetPages { get; private set; }

    /// <summary>The pages the driver last reported in the balloon (actual).</summary>
    public uint ActualPages { get; private set; }

    /// <summary>The host asks for the balloon to hold <paramref name="pages"/> pages: num_pages is set and the configuration-change interrupt raised.</summary>
    public void Request(uint pages)
    {
        TargetPages = pages;
        ConfigurationChanged();
    }

    /// <summary>The host asked for <paramref name="target"/> pages as the guest booted, before the run, and the balloon was inflated to <paramref name="pages"/> of them (the driver's actual): counted as inflated.</summary>
    public void InflatedAtBoot(uint target, uint pages)
    {
        TargetPages = target;
        ActualPages = pages;
        _inflatedPages.Add(pages);
    }

    /// <summary>The guest-physical addresses of the pages inflate buffers gave up since the last call, in the order the buffers named them, for the host to discard.</summary>
    public IReadOnlyList<ulong> TakeInflated()
    {
        if (_inflated.Count == 0)
        {
            return [];
        }
        ulong[] taken = [.. _inflated];
        _inflated.Clear();
        return taken;
    }

    protected override ulong ReadConfig(ulong offset) => offset switch
    {
        NumPages => TargetPages,
        Actual => ActualPages,
        _ => 0,
    };

    protected override void WriteConfig(ulong offset, ulong value)
    {
        if (offset == Actual)
        {
            ActualPages = (uint)value;
        }
    }

    /// <summary>virtio_balloon_handle_output: each buffer made available is an array of page frame numbers, read and returned used.</summary>
    protected override void Notified(int queue)
    {
        Virtqueue q = Queues[queue];
        while (q.TryTake(out ushort head))
        {
            (ulong array, uint length, _, _) = q.Descriptor(head);
            Emulation?.Read(array, (int)length); // the frame numbers, 4 bytes each
            for (ulong at = array; at < array + length; at += 4)
            {
                ulong page = Memory.ReadField(at, 4) << PhysicalMemory.FrameShift; // VIRTIO_BALLOON_PFN_SHIFT is 12
                if (queue == InflateQueue)
                {
                    _inflated.Add(page);
                    _inflatedPages.Increment();
                }
                else
                {
                    _deflatedPages.Increment();
                }
            }
            q.PutUsed(head, 0);
        }
        Interrupt(q);
    }
}
