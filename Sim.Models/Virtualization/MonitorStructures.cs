using Sim.Engine.Statistics;
using Sim.Models.Memory;

namespace Sim.Models.Virtualization;

/// <summary>
/// The structures of one virtual machine in its monitor's memory that an exit handler looks
/// things up in, laid out in frames of their own so that their lines compete for the caches with
/// everything else: the memory slots, the in-kernel I/O bus, and under shadow paging the hash of
/// shadow pages with their headers. Each lookup is the loads of KVM's path for it; the layouts
/// (sizes, the bus's device count, where a shadow page's header is) are assumed where the source
/// does not fix them (docs/virtualization.md, "Handler memory").
/// </summary>
internal sealed class MonitorStructures
{
    /// <summary>The lookups, by kind.</summary>
    public enum Lookup
    {
        MemorySlot,
        IoBus,
        ShadowHash,

        /// <summary>A physical CPU's run queue (<see cref="HostCpuStructures"/>).</summary>
        RunQueue,

        /// <summary>A physical CPU's timer queue (<see cref="HostCpuStructures"/>).</summary>
        TimerQueue,
    }

    /// <summary>Ranges on each in-kernel I/O bus: QEMU/KVM's PIO bus holds the PIC's two chips, the PIT, the ELCR, the i8042 and the POST-port stubs, its MMIO bus the I/O APIC, HPET and ioeventfds; 8 assumed.</summary>
    public const int BusRanges = 8;

    /// <summary>KVM_MMU_HASH_SHIFT: the shadow-page hash has 4,096 buckets of one pointer (arch/x86/include/asm/kvm_host.h).</summary>
    public const int HashBuckets = 1 << 12;

    /// <summary>Bytes of a struct kvm_io_range (a gpa_t, an int length and a device pointer, padded): 24.</summary>
    private const ulong RangeBytes = 24;

    /// <summary>Header lines kept for shadow pages: a shadow page's struct kvm_mmu_page is taken to be at a line chosen by its frame (assumed; KVM takes them from a slab).</summary>
    private const ulong HeaderLines = 512;

    private readonly ulong _frame; // memslots at 0, the I/O bus at 256
    private readonly ulong[] _hash; // the buckets, then the headers, frame by frame
    private readonly VectorCounter<Lookup> _lookups;

    private MonitorStructures(ulong frame, ulong[] hash, VectorCounter<Lookup> lookups) => (_frame, _hash, _lookups) = (frame, hash, lookups);

    /// <summary>Allocates a machine's structures in <paramref name="memory"/>: one frame, and the shadow-page hash and headers (16 frames) under shadow paging.</summary>
    public static MonitorStructures Allocate(PhysicalMemory memory, bool shadowPaging, VectorCounter<Lookup> lookups)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ulong frame = memory.AllocateFrame();
        ulong[] hash = [.. Enumerable.Range(0, Frames(shadowPaging) - 1).Select(_ => memory.AllocateFrame())];
        return new MonitorStructures(frame, hash, lookups);
    }

    /// <summary>The frames the structures take.</summary>
    public static int Frames(bool shadowPaging) => shadowPaging ? 1 + (int)((HashBuckets * 8UL + (HeaderLines * 64)) / PhysicalMemory.FrameBytes) : 1;

    /// <summary>
    /// The memory slot of a guest frame (KVM's __gfn_to_memslot, search_memslots): the slots'
    /// header with the last slot found (lru_slot) read, then that slot; guest memory is one slot,
    /// so the last slot found is the one.
    /// </summary>
    public HypervisorPath MemslotLookup(HypervisorPath path)
    {
        _lookups.Increment(Lookup.MemorySlot);
        return path.LoadWords(_frame, 1).LoadWords(_frame + 64, 1);
    }

    /// <summary>
    /// The in-kernel I/O bus's search for the device at a port or address (KVM's
    /// kvm_io_bus_get_first_dev: a binary search of the bus's sorted ranges after its header):
    /// the header, then each range the search compares, for the device in slot <paramref name="slot"/>.
    /// </summary>
    public HypervisorPath IoBusLookup(HypervisorPath path, int slot)
    {
        _lookups.Increment(Lookup.IoBus);
        ulong bus = _frame + 256;
        path.LoadWords(bus, 1);
        int target = Math.Abs(slot % BusRanges), lo = 0, hi = BusRanges - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            path.LoadWords(bus + 64 + ((ulong)mid * RangeBytes), 1);
            if (mid == target)
            {
                break;
            }
            (lo, hi) = mid < target ? (mid + 1, hi) : (lo, mid - 1);
        }
        return path;
    }

    /// <summary>
    /// The shadow MMU's lookup of the shadow pages of guest frame <paramref name="gfn"/> (KVM's
    /// for_each_gfn_valid_sp over mmu_page_hash[kvm_page_table_hashfn(gfn)], hash_64 of the gfn):
    /// the bucket read, then the header of each shadow page <paramref name="pages"/> found on its chain.
    /// </summary>
    public HypervisorPath ShadowHashLookup(HypervisorPath path, ulong gfn, IEnumerable<ulong> pages)
    {
        if (_hash.Length == 0)
        {
            throw new InvalidOperationException("A shadow-page lookup in a machine without shadow paging.");
        }
        _lookups.Increment(Lookup.ShadowHash);
        ulong bucket = (gfn * GoldenRatio64) >> (64 - 12);
        path.LoadWords(HashAddress(bucket * 8), 1);
        foreach (ulong page in pages)
        {
            path.LoadWords(HashAddress((HashBuckets * 8UL) + ((page >> PhysicalMemory.FrameShift) % HeaderLines * 64)), 1);
        }
        return path;
    }

    private ulong HashAddress(ulong offset) => _hash[offset / PhysicalMemory.FrameBytes] + (offset % PhysicalMemory.FrameBytes);

    /// <summary>Linux's GOLDEN_RATIO_64, the multiplier of hash_64 (include/linux/hash.h).</summary>
    private const ulong GoldenRatio64 = 0x61C8864680B583EB;
}
