using Sim.Engine;
using Sim.Engine.Time;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Virtualization;

/// <summary>
/// A virtual machine as its guest kernel sees it: guest-physical memory, the devices of a PC (the
/// hypervisor's device models, <see cref="PlatformDevices"/> built as emulated, with a local
/// APIC per virtual CPU), and its virtual CPUs, each placed on a physical core. The guest's memory is backed by a contiguous run of host
/// memory, mapped by the VM's <see cref="Ept"/> under nested paging. Components are named vmN.*.
/// </summary>
/// <remarks>
/// Model: the contents of guest memory live in the VM's own store, indexed by guest-physical
/// address, while every reference to it goes through the caches at the host-physical address
/// that backs it: the host frames are allocated and addressed, not copied. By default the whole
/// of guest memory is backed and mapped before the guest starts (as Xen populates a domain's
/// memory when it builds it, or QEMU's -mem-prealloc), so a running guest meets no EPT
/// violations on its own memory. Backed on first touch (<see cref="BacksOnTouch"/>), as KVM backs
/// a VM's memory (anonymous memory of the VMM process, faulted in by the EPT-violation handler),
/// the EPT starts empty and each guest page, or 2 MiB region with large EPT pages, gets a host
/// frame when the guest first references it (<see cref="Back"/>). A paravirtual guest
/// (direct paging) has no guest-physical space of its own: it allocates machine memory (the
/// whole machine beyond the hypervisor's, as a single domain would) and its tables hold machine
/// addresses. A VM is one NUMA node to its guest (no virtual NUMA topology), whatever host
/// nodes its virtual CPUs run on; its memory lies on the node of its first virtual CPU's core.
/// </remarks>
public sealed class VirtualMachine : IPlatform
{
    private readonly ulong?[] _stealTime; // each virtual CPU's registered struct kvm_steal_time, guest-physical

    /// <param name="cores">The contexts its virtual CPUs run in, one per CPU of <paramref name="configuration"/> (each may be a context that time-shares its physical core).</param>
    /// <param name="physicalCore">The host's logical CPU the first virtual CPU runs on: the VM's memory is on its node.</param>
    /// <param name="deliver">Delivers an interrupt vector to the virtual CPU of the given index.</param>
    /// <param name="backOnTouch">Back guest memory with host frames as the guest first touches it, instead of all of it up front; needs nested paging.</param>
    /// <param name="hostDevices">The host's physical disk and port the VM's devices share with the others', or null for devices of its own.</param>
    internal VirtualMachine(Machine host, int index, MachineConfiguration configuration, IReadOnlyList<Core> cores, int physicalCore, bool nestedPaging, bool largeEptPages,
        Action<int, int> deliver, bool directPaging = false, bool assignedDevices = false, bool backOnTouch = false, HostDevices? hostDevices = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(cores);
        ArgumentNullException.ThrowIfNull(deliver);
        configuration.Validate();
        if (configuration.ThreadsPerCore != 1 || cores.Count != configuration.Cores)
        {
            throw new ArgumentException($"A virtual machine has one context per virtual CPU and no virtual SMT: {configuration.Cores} virtual CPUs, {cores.Count} contexts.", nameof(configuration));
        }
        Host = host;
        Index = index;
        Name = $"vm{index}";
        Cores = [.. cores];
        _stealTime = new ulong?[cores.Count];
        if (directPaging)
        {
            // A paravirtual guest works with machine frames: its page tables hold host-physical
            // addresses and the hardware walks them. It allocates from the machine's memory.
            Memory = host.Memory;
            HostBase = 0;
            BackedBytes = configuration.MemoryBytes; // a Xen domain's memory is populated when it is built
        }
        else if (backOnTouch)
        {
            if (!nestedPaging)
            {
                throw new ArgumentException("Backing guest memory on first touch needs nested paging: the EPT violation is where the host backs a page.", nameof(backOnTouch));
            }
            Memory = new PhysicalMemory(configuration.MemoryBytes);
            _node = host.SocketOfCpu(physicalCore);
            _backing = new ulong[configuration.MemoryBytes >> PageEntry.SmallPageShift];
            if (largeEptPages)
            {
                _hugeMapped = new bool[configuration.MemoryBytes >> PageEntry.LargePageShift];
                _split = new bool[_hugeMapped.Length];
            }
        }
        else
        {
            Memory = new PhysicalMemory(configuration.MemoryBytes);
            // Contiguous, and on the NUMA node of the physical core the virtual CPU runs on, where
            // its thread touches the memory first (or the next node with room).
            HostBase = host.Memory.AllocateLargeFrames(host.SocketOfCpu(physicalCore), PhysicalMemory.LargeFramesFor(configuration.MemoryBytes));
            BackedBytes = configuration.MemoryBytes;
        }
        if (nestedPaging)
        {
            Ept = new Ept(host.Memory);
            if (_backing is null)
            {
                Ept.Map(0, HostBase, configuration.MemoryBytes, largeEptPages);
                Ept.TakeNewTables(); // made before the guest starts: no handler zeroes them
            }
        }
        // What the guest costs the host in memory, part by part (docs/virtualization.md, "Guest memory on the host").
        Sim.Engine.Statistics.StatGroup memory = host.Sim.Stats.Group(Name + ".memory");
        _memoryStats = memory;
        memory.Probe("guest_bytes", "bytes", "the guest-physical memory the VM has", () => (long)configuration.MemoryBytes);
        memory.Probe("backed_bytes", "bytes", "guest memory the host backs with frames: all of it when preallocated, what the guest touched when backed on first touch", () => (long)BackedBytes);
        memory.Probe("ept_table_bytes", "bytes", "the host frames of the VM's EPT tables", () => (long)(Ept?.TableFrames ?? 0) * PhysicalMemory.FrameBytes);
        memory.Probe("vcpu_structure_bytes", "bytes", "the hypervisor's per-vCPU frames: its register save area (the VMCS's role), device state and world-switch area", () => (long)StructureBytes);
        _firstTouches = memory.Counter("first_touches", "count", "EPT violations that backed guest memory on its first touch");
        if (_hugeMapped is not null)
        {
            _hugeSplits = memory.Counter("huge_splits", "count", "2 MiB regions backed whole whose 2 MiB EPT entry was zapped because one of their pages was merged or given back (split_huge_page and KVM's invalidation)");
            _refaults = memory.Counter("refaults", "count", RefaultsWhat);
        }
        if (configuration.Balloon)
        {
            _discards = memory.Counter("discarded_pages", "count", "backed guest pages the host freed because the guest's balloon gave them up");
        }
        Devices = new PlatformDevices(host.Sim, Name, Name + ".vcpu", host.Profile, configuration, Memory, cpu => vector => deliver(cpu, vector), emulated: true,
            assignedDevices, hostDevices, index);
        if (assignedDevices)
        {
            // One IOMMU domain for the VM: the assigned disk adapter's and NIC function's DMA share its IOTLB.
            Tick dram = host.Profile.Clock().EdgeTick(new Cycles((ulong)host.Profile.DramLatencyCycles)); // one memory reference
            var iommu = new Iommu(host.Memory, _backing is null ? (HostBase, configuration.MemoryBytes) : null, HostAddress, dram, host.Sim.Stats.Group(Name + ".iommu"));
            if (configuration.Disk != DiskKind.None)
            {
                if (Devices.Nvme is { } nvme)
                {
                    nvme.DmaTranslation = iommu.Translate;
                }
                else
                {
                    AhciDisk disk = Devices.Ahci ?? throw new ArgumentException("Only a disk on the AHCI or NVMe interface can be assigned to a virtual machine here.", nameof(configuration));
                    disk.DmaTranslation = iommu.Translate;
                }
            }
            if (Devices.Nic is { } nic)
            {
                nic.DmaTranslation = iommu.Translate;
            }
        }
    }

    /// <summary>The physical machine the VM runs on.</summary>
    public Machine Host { get; }

    public Simulator Sim => Host.Sim;

    public HardwareProfile Profile => Host.Profile;

    public string Name { get; }

    /// <summary>The VM's number on its host, in order of creation (named vmN).</summary>
    public int Index { get; }

    /// <summary>Guest-physical memory.</summary>
    public PhysicalMemory Memory { get; }

    /// <summary>The host-physical address where guest-physical address 0 is backed, where guest memory is backed whole and contiguous; 0 when it is backed on first touch (<see cref="HostAddress"/>).</summary>
    public ulong HostBase { get; }

    // Backed on first touch: the host frame behind each 4 KiB guest page, 0 while none is; null
    // when guest memory is backed whole at HostBase.
    private readonly ulong[]? _backing;
    private readonly bool[]? _hugeMapped; // with large EPT pages: each 2 MiB region mapped by one 2 MiB EPT entry
    private readonly bool[]? _split; // with large EPT pages: each 2 MiB region split once, backed page by page from then on
    private readonly int _node;
    private readonly Sim.Engine.Statistics.Counter? _hugeSplits; // with large EPT pages backed on touch only
    private Sim.Engine.Statistics.Counter? _refaults; // with large EPT pages or host swap
    private readonly Sim.Engine.Statistics.StatGroup _memoryStats;
    private const string RefaultsWhat = "EPT violations on a backed page without an entry (a page of a split 2 MiB region, or one whose entry host reclaim zapped to age it): mapped again as a 4 KiB page, no frame allocated";
    private readonly Sim.Engine.Statistics.Counter _firstTouches;
    private readonly Sim.Engine.Statistics.Counter? _discards; // with a balloon only

    /// <summary>The host memory of the hypervisor's per-vCPU structures (set when its virtual CPUs are made).</summary>
    internal ulong StructureBytes { get; set; }

    /// <summary>Its structures in its monitor's memory that handlers look things up in (memory slots, I/O bus, shadow-page hash).</summary>
    internal MonitorStructures Structures { get; set; } = null!;

    /// <summary>How the message of a host that ran out of frames for a first touch begins.</summary>
    public const string HostOutOfMemory = "The host ran out of memory";

    /// <summary>Whether guest memory is backed as the guest first touches it (KVM's way) rather than whole before it starts.</summary>
    public bool BacksOnTouch => _backing is not null;

    /// <summary>The guest memory the host backs with frames: all of it when backed up front, what the guest has touched when backed on first touch.</summary>
    public ulong BackedBytes { get; private set; }

    /// <summary>The host-physical address behind guest-physical <paramref name="gpa"/>, backing its page first if the guest has not touched it (as KVM's kvm_write_guest faults a page in when the host writes guest memory).</summary>
    public ulong HostAddress(ulong gpa)
    {
        if (_backing is null)
        {
            return HostBase + gpa;
        }
        if (IsUnbacked(gpa))
        {
            Back(gpa);
        }
        else if (IsSwapped(gpa))
        {
            Swap!.MakeRoomNow(this, gpa);
            Swap.SwapIn(this, gpa, vcpu: null, Sim.Now); // the host's access faults the page in at once (untimed)
        }
        return _backing[gpa >> PageEntry.SmallPageShift] + (gpa & (PhysicalMemory.FrameBytes - 1));
    }

    /// <summary>Whether <paramref name="gpa"/> is guest memory that is not backed yet: an EPT violation there is a first touch.</summary>
    public bool IsUnbacked(ulong gpa) => _backing is not null && gpa < Memory.SizeBytes && _backing[gpa >> PageEntry.SmallPageShift] == 0 && Swap?.Holds(this, gpa) != true;

    /// <summary>Whether the page of <paramref name="gpa"/> is in the host's swap (being written, written, or being read back): a guest's touch of it is a swap-in.</summary>
    public bool IsSwapped(ulong gpa) => Swap is not null && gpa < Memory.SizeBytes && _backing![gpa >> PageEntry.SmallPageShift] == 0 && Swap.Holds(this, gpa);

    /// <summary>Whether <paramref name="gpa"/> is backed but has no EPT entry: a page of a 2 MiB region whose 2 MiB entry was zapped (<see cref="SplitHugeRegion"/>), or one whose entry host reclaim zapped to age it (<see cref="HostSwap"/>), mapped again page by page as the guest touches it.</summary>
    public bool IsUnmapped(ulong gpa)
    {
        if (_backing is null || gpa >= Memory.SizeBytes || _backing[gpa >> PageEntry.SmallPageShift] == 0
            || (_split is null ? Swap is null : !_split[gpa >> PageEntry.LargePageShift]))
        {
            return false;
        }
        return Ept!.ExistingEntryAddress(gpa) is not { } entry || Host.Memory.ReadUInt64(entry) == 0;
    }

    /// <summary>
    /// Backs the page of <paramref name="gpa"/> with a host frame from the VM's node and maps it in
    /// the EPT, as KVM's EPT-violation handler does once the VMM's anonymous page is faulted in.
    /// With large EPT pages (the host's transparent huge pages) a region never split is backed
    /// whole by a 2 MiB run and one 2 MiB entry, or page by page when the host has no free 2 MiB
    /// run (its THP fault falls back). Returns the frame (or run) backed and its bytes.
    /// </summary>
    public (ulong Frame, ulong Bytes) Back(ulong gpa)
    {
        if (_backing is null || !IsUnbacked(gpa))
        {
            throw new InvalidOperationException($"{Name}: guest-physical 0x{gpa:X} is not guest memory waiting to be backed.");
        }
        ulong region = gpa >> PageEntry.LargePageShift;
        if (_hugeMapped is not null && !_split![region] && Host.Memory.TryAllocateLargeFrame(_node, out ulong run))
        {
            ulong first = region << PageEntry.LargePageShift;
            for (ulong offset = 0; offset < PhysicalMemory.LargeFrameBytes; offset += PhysicalMemory.FrameBytes)
            {
                _backing[(first + offset) >> PageEntry.SmallPageShift] = run + offset;
            }
            _hugeMapped[region] = true;
            Ept!.Map(first, run, PhysicalMemory.LargeFrameBytes, largePages: true);
            return Backed(run, PhysicalMemory.LargeFrameBytes);
        }
        if (_split is not null)
        {
            _split[region] = true; // a region with a 4 KiB page stays in 4 KiB pages (no khugepaged on the host)
        }
        Swap?.MakeRoomNow(this, gpa); // a guest's fault made room already; the host's own first touch of a page makes it here
        ulong frame;
        try
        {
            frame = Host.Memory.AllocateFrame(_node);
        }
        catch (InsufficientMemoryException e)
        {
            throw new InsufficientMemoryException($"{HostOutOfMemory} when {Name} first touched guest-physical 0x{gpa:X}: {BackedBytes >> 20} MiB of its {Memory.SizeBytes >> 20} MiB were backed, and the host's {Host.Memory.SizeBytes >> 20} MiB are in use{(Swap is null ? " and the host has no swap (host_swap_mib)" : "")}.", e);
        }
        ulong page = gpa & ~(ulong)(PhysicalMemory.FrameBytes - 1);
        _backing[page >> PageEntry.SmallPageShift] = frame;
        Ept!.Map(page, frame, PhysicalMemory.FrameBytes, largePages: false);
        Swap?.Added(this, page);
        return Backed(frame, PhysicalMemory.FrameBytes);
    }

    private (ulong, ulong) Backed(ulong frame, ulong bytes)
    {
        BackedBytes += bytes;
        _firstTouches.Increment();
        return (frame, bytes);
    }

    /// <summary>Whether <paramref name="gpa"/> lies in a 2 MiB region the EPT maps with one 2 MiB entry.</summary>
    public bool IsHugeMapped(ulong gpa) => _hugeMapped is not null && gpa < Memory.SizeBytes && _hugeMapped[gpa >> PageEntry.LargePageShift];

    /// <summary>
    /// The host splits the 2 MiB region of <paramref name="gpa"/>, backed whole, because one of its
    /// pages is to be merged or given back: the host kernel's split_huge_page, and KVM's mmu
    /// notifier zapping the 2 MiB EPT entry (kvm_unmap_gfn_range). The frames stay; each page is
    /// mapped again as a 4 KiB page at the guest's next touch of it (<see cref="Remap"/>), or by
    /// whoever maps it now. Returns the zapped entry's address; the caller flushes the VM's
    /// translations.
    /// </summary>
    public ulong SplitHugeRegion(ulong gpa)
    {
        if (!IsHugeMapped(gpa))
        {
            throw new InvalidOperationException($"{Name}: guest-physical 0x{gpa:X} is not in a 2 MiB region mapped whole.");
        }
        ulong region = gpa >> PageEntry.LargePageShift;
        ulong entry = Ept!.EntryAddress(region << PageEntry.LargePageShift, 1);
        Host.Memory.WriteUInt64(entry, 0);
        _hugeMapped![region] = false;
        _split![region] = true;
        _hugeSplits!.Increment();
        return entry;
    }

    /// <summary>
    /// An EPT violation on a backed page with no entry (<see cref="IsUnmapped"/>): the page mapped
    /// again as a 4 KiB page onto its frame, as KVM's fault path maps it once the host's tables
    /// hold it at 4 KiB. Returns the entry's address.
    /// </summary>
    public ulong Remap(ulong gpa)
    {
        if (!IsUnmapped(gpa))
        {
            throw new InvalidOperationException($"{Name}: guest-physical 0x{gpa:X} is not a backed page without an EPT entry.");
        }
        _refaults!.Increment();
        return Ept!.MapPage(gpa & ~(ulong)(PhysicalMemory.FrameBytes - 1), _backing![gpa >> PageEntry.SmallPageShift], writable: true);
    }

    /// <summary>
    /// The guest's boot wrote <paramref name="gpas"/> before the run began (its base system): a host
    /// that backs memory on first touch backs each page as the boot's EPT violations did (counted
    /// as first touches), and where it merges pages, those of contents another VM's boot holds are
    /// merged as ksmd would have merged them since (<see cref="SamePageMerging.SettleAtBoot"/>).
    /// Pages nothing touches again once the boot is over (<paramref name="idle"/>: its base
    /// system's idle daemons and cached image) are, on a host with swap, aged as its LRU would
    /// have aged them since (<see cref="HostSwap.SettleIdle"/>), and the host's free memory is
    /// brought up to kswapd's high watermark (<see cref="HostSwap.SettleFree"/>). Memory backed whole is already backed.
    /// </summary>
    public void Booted(IReadOnlyList<ulong> gpas, bool idle = false)
    {
        ArgumentNullException.ThrowIfNull(gpas);
        if (_backing is null)
        {
            return;
        }
        foreach (ulong gpa in gpas.Where(IsUnbacked))
        {
            Back(gpa);
        }
        Merging?.SettleAtBoot(this, gpas);
        if (idle)
        {
            Swap?.SettleIdle(this, gpas);
        }
        Swap?.SettleFree();
        Ept!.TakeNewTables(); // made as the boot ran, before the run: no exit of the run zeroes them
    }

    /// <summary>
    /// The host takes back the 4 KiB page of <paramref name="gpa"/>, which the guest gave up (its
    /// balloon): its frame is freed and its EPT entry cleared, so that a later touch backs it
    /// afresh; a 2 MiB region backed whole is split first (<see cref="SplitHugeRegion"/>, whose
    /// zapped entry is then the one cleared). False if the page was not backed; otherwise
    /// <paramref name="entry"/> is the address of the entry cleared, or null where the page had
    /// none (a page of a split region not touched since). Needs memory backed on first touch.
    /// </summary>
    public bool Discard(ulong gpa, out ulong? entry)
    {
        if (_backing is null)
        {
            throw new InvalidOperationException($"{Name}: the host gives back guest pages one by one only when it backs them on first touch.");
        }
        entry = null;
        ulong frame = _backing[gpa >> PageEntry.SmallPageShift];
        if (frame == 0)
        {
            if (Swap?.Forget(this, gpa) != true)
            {
                return false;
            }
            _discards?.Increment(); // in the host's swap: its slot freed (a write in flight, its frame too)
            return true;
        }
        Swap?.Removed(this, gpa);
        if (IsHugeMapped(gpa))
        {
            entry = SplitHugeRegion(gpa);
        }
        else if (Ept!.ExistingEntryAddress(gpa) is { } own)
        {
            Host.Memory.WriteUInt64(own, 0);
            entry = own;
        }
        _backing[gpa >> PageEntry.SmallPageShift] = 0;
        if (Merging?.Unmap(this, gpa) != true)
        {
            Host.Memory.FreeFrame(frame); // a merged page's frame is the KSM page's, freed with its last mapping
        }
        BackedBytes -= PhysicalMemory.FrameBytes;
        _discards?.Increment();
        return true;
    }

    /// <summary>The host's page merging (KSM) where it scans this VM's memory; null otherwise. Set once, when the VM is registered with it.</summary>
    internal SamePageMerging? Merging
    {
        get;
        set
        {
            if (_backing is null)
            {
                throw new InvalidOperationException($"{Name}: page merging needs guest memory backed on first touch.");
            }
            field = value;
            Memory.ContentChanging = value is null ? null : (frame, content) => value.ContentChanging(this, frame, content);
        }
    }

    /// <summary>The host frame behind the 4 KiB guest page of <paramref name="gpa"/>, or 0 while none is (memory backed on first touch).</summary>
    internal ulong BackingOf(ulong gpa) => _backing![gpa >> PageEntry.SmallPageShift];

    /// <summary>
    /// Backs the guest page of <paramref name="gpa"/>, already backed, with host frame
    /// <paramref name="frame"/> instead, writable or not (a page merged copy-on-write is read-only);
    /// the frame it had is the caller's to free. Returns the EPT entry's address, for the store.
    /// </summary>
    internal ulong Rebind(ulong gpa, ulong frame, bool writable)
    {
        if (BackingOf(gpa) == 0 || IsHugeMapped(gpa))
        {
            throw new InvalidOperationException($"{Name}: guest-physical 0x{gpa:X} is not backed by a page of its own (unbacked, or in a 2 MiB region not split), so it cannot be rebound.");
        }
        _backing![gpa >> PageEntry.SmallPageShift] = frame;
        if (writable)
        {
            Swap?.Added(this, gpa); // a page of its own again (copied out of a KSM page)
        }
        else
        {
            Swap?.Removed(this, gpa); // merged: not swapped by the model
        }
        return Ept!.MapPage(gpa & ~(ulong)(PhysicalMemory.FrameBytes - 1), frame, writable);
    }

    /// <summary>Host reclaim takes the frame of the page of <paramref name="gpa"/>, whose EPT entry it zapped, for its swap write: the page is not backed from now on.</summary>
    internal ulong Unback(ulong gpa)
    {
        ulong frame = BackingOf(gpa);
        if (frame == 0 || (Ept!.ExistingEntryAddress(gpa) is { } entry && Host.Memory.ReadUInt64(entry) != 0))
        {
            throw new InvalidOperationException($"{Name}: guest-physical 0x{gpa:X} is not a backed page without an EPT entry, so reclaim cannot take it.");
        }
        _backing![gpa >> PageEntry.SmallPageShift] = 0;
        BackedBytes -= PhysicalMemory.FrameBytes;
        return frame;
    }

    /// <summary>The page of <paramref name="gpa"/>, back from the host's swap in <paramref name="frame"/>, backed and mapped writable again; returns its EPT entry's address.</summary>
    internal ulong Rebacked(ulong gpa, ulong frame)
    {
        if (BackingOf(gpa) != 0)
        {
            throw new InvalidOperationException($"{Name}: guest-physical 0x{gpa:X} is backed already.");
        }
        ulong page = gpa & ~(ulong)(PhysicalMemory.FrameBytes - 1);
        _backing![page >> PageEntry.SmallPageShift] = frame;
        BackedBytes += PhysicalMemory.FrameBytes;
        ulong entry = Ept!.MapPage(page, frame, writable: true);
        Hypervisor.LinkNewTables(this, null); // its tables are there from its first mapping
        return entry;
    }

    /// <summary>kvm_flush_remote_tlbs: every translation the VM's virtual CPUs may hold of its memory dropped.</summary>
    internal void FlushTranslations()
    {
        foreach (Core core in Cores)
        {
            core.Mmu.FlushGuest();
        }
    }

    /// <summary>The host's major faults on this VM's memory (with host swap).</summary>
    internal Sim.Engine.Statistics.Counter? HostMajorFaults { get; private set; }

    /// <summary>The host's swap where it swaps this VM's memory; null otherwise. Set once, when the VM is registered with it.</summary>
    internal HostSwap? Swap
    {
        get;
        set
        {
            if (_backing is null || _hugeMapped is not null)
            {
                throw new InvalidOperationException($"{Name}: host swap takes guest memory backed on first touch in 4 KiB pages.");
            }
            field = value;
            _refaults ??= _memoryStats.Counter("refaults", "count", RefaultsWhat);
            HostMajorFaults = _memoryStats.Counter("major_faults", "count", "the guest's touches of its pages in the host's swap that read them back (the host's major faults on this VM's memory)");
            _memoryStats.Probe("swapped_bytes", "bytes", "guest memory in the host's swap at the end (written, or being written)", () => (value?.SwappedPages(this) ?? 0) * PhysicalMemory.FrameBytes);
        }
    }

    /// <summary>A host frame for this VM's memory, from its node (with host swap, room made first where the caller has not); a host out of frames says so as a first touch would.</summary>
    internal ulong NewHostFrame(ulong gpa)
    {
        Swap?.MakeRoomNow(this, gpa);
        try
        {
            return Host.Memory.AllocateFrame(_node);
        }
        catch (InsufficientMemoryException e)
        {
            throw new InsufficientMemoryException($"{HostOutOfMemory} when {Name} needed a frame of its own for guest-physical 0x{gpa:X}: {Host.Memory.SizeBytes >> 20} MiB are in use{(Swap is null ? " and the host has no swap (host_swap_mib)" : "")}.", e);
        }
    }

    /// <summary>The VM's extended page tables, under nested paging; null otherwise.</summary>
    public Ept? Ept { get; }

    public PlatformDevices Devices { get; }

    /// <summary>The contexts of the virtual CPUs, in order: the guest kernel's CPUs.</summary>
    public IReadOnlyList<Core> Cores { get; }

    /// <summary>The context of the first virtual CPU.</summary>
    public Core BootCore => Cores[0];

    /// <summary>Every virtual CPU is on the VM's one node.</summary>
    public int SocketOfCpu(int cpu) => 0;

    /// <summary>The device models' side of an access by the virtual CPU of <paramref name="core"/> (reached only through the hypervisor's exit handlers when I/O is emulated): its own local APIC, or the shared devices.</summary>
    public int DeviceAccess(Core core, Instruction instruction, ulong address, ulong value, out ulong readValue) =>
        Devices.Access(CpuOf(core), instruction, address, value, out readValue);

    /// <summary>The index of the virtual CPU that runs in <paramref name="core"/>.</summary>
    public int CpuOf(Core core)
    {
        for (int i = 0; i < Cores.Count; i++)
        {
            if (Cores[i] == core)
            {
                return i;
            }
        }
        throw new ArgumentException($"{core?.Path} is not a virtual CPU of {Name}.", nameof(core));
    }

    /// <summary>What the hypervisor offers the guest (set when the VM is created).</summary>
    public ParavirtFeatures Paravirt { get; internal set; }

    public void RegisterStealTime(int cpu, ulong physicalAddress)
    {
        if ((Paravirt & ParavirtFeatures.StealTime) == 0)
        {
            throw new InvalidOperationException($"{Name}'s hypervisor offers no steal time (KVM_FEATURE_STEAL_TIME).");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, Cores.Count);
        if (physicalAddress % KvmStealTime.Bytes != 0 || physicalAddress + KvmStealTime.Bytes > Memory.SizeBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(physicalAddress), $"A steal-time area is {KvmStealTime.Bytes} bytes, aligned to its size, in guest memory (got 0x{physicalAddress:X}).");
        }
        _stealTime[cpu] = physicalAddress;
    }

    /// <summary>The guest-physical address of virtual CPU <paramref name="cpu"/>'s steal-time area, once it has registered one.</summary>
    internal ulong? StealTimeOf(int cpu) => _stealTime[cpu];

    public AddressSpaceBuilder NewAddressSpace(Func<int>? node = null) => new(Memory, node);

    public ulong ReadWord(ulong physicalAddress) => Host.Memory.ReadUInt64(HostAddress(physicalAddress));

    public void WriteWord(ulong physicalAddress, ulong value) => Host.Memory.WriteUInt64(HostAddress(physicalAddress), value);
}
