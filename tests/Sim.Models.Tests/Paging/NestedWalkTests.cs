using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Tests.Paging;

/// <summary>The two-dimensional walk of a guest under EPT: guest tables in guest-physical memory, each guest-physical address translated through the EPT in host memory.</summary>
public class NestedWalkTests
{
    private const ulong Va = 0x0000_7F12_3456_7000;
    private const ulong GuestBytes = 16UL << 20;

    private sealed class Rig
    {
        public Rig(bool caches, bool largeEptPages)
        {
            Profile = HardwareProfiles.NehalemX5570;
            Host = new MemoryRig(Profile);
            Guest = new PhysicalMemory(GuestBytes);
            Ept = new Ept(Host.Memory);
            HostBase = Host.Memory.AllocateLargeFrame(); // a 2 MiB-aligned start, so 2 MiB EPT pages fit
            for (int i = 1; i < (int)(GuestBytes >> 21); i++)
            {
                Host.Memory.AllocateLargeFrame();
            }
            Ept.Map(0, HostBase, GuestBytes, largeEptPages);
            GuestSpace = new AddressSpaceBuilder(Guest);
            var stats = new StatRegistry();
            PagingStructureCaches? Psc(string name) => caches ? new PagingStructureCaches(Profile.PagingStructureCaches, stats.Group(name)) : null;
            Walker = new PageWalker(Guest, Host.Path, Psc("psc"), new EptWalker(Ept, Host.Memory, Host.Path, Psc("ept_psc")));
        }

        public HardwareProfile Profile { get; }

        public MemoryRig Host { get; }

        public PhysicalMemory Guest { get; }

        public Ept Ept { get; }

        public ulong HostBase { get; }

        public AddressSpaceBuilder GuestSpace { get; }

        public PageWalker Walker { get; }

        public WalkResult Walk(ulong va, MemoryAccessKind kind = MemoryAccessKind.Read) => Walker.Walk(GuestSpace.Pml4, new TranslationTag(1, 0), va, kind, user: true);
    }

    [Fact]
    public void With_every_cache_off_a_4_level_guest_under_a_4_level_EPT_makes_24_references()
    {
        var r = new Rig(caches: false, largeEptPages: false);
        ulong gpa = r.Guest.AllocateFrame();
        r.GuestSpace.Map4K(Va, gpa, PageEntry.User | PageEntry.Writable);
        WalkResult w = r.Walk(Va + 0x10);
        Assert.Equal(TranslationFault.None, w.Fault);
        Assert.Equal(24, w.References); // 4 guest levels x (4 EPT references + 1 guest entry) + 4 for the data page
        Assert.Equal(r.HostBase + gpa, w.PageBase); // the host page behind the guest's page
        Assert.Equal(PageEntry.SmallPageShift, w.PageShift);
        // The second walk is just as long: nothing was cached.
        Assert.Equal(24, r.Walk(Va + 0x20).References);
    }

    [Fact]
    public void Two_MiB_EPT_pages_shorten_each_EPT_walk_to_three_references()
    {
        var r = new Rig(caches: false, largeEptPages: true);
        r.GuestSpace.Map4K(Va, r.Guest.AllocateFrame(), PageEntry.User);
        Assert.Equal((4 * (3 + 1)) + 3, r.Walk(Va).References);
    }

    [Fact]
    public void The_walk_sets_accessed_and_dirty_bits_in_the_guests_own_tables()
    {
        var r = new Rig(caches: false, largeEptPages: false);
        r.GuestSpace.Map4K(Va, r.Guest.AllocateFrame(), PageEntry.User | PageEntry.Writable);
        r.Walk(Va, MemoryAccessKind.Write);
        ulong pml4e = r.Guest.ReadUInt64(r.GuestSpace.Pml4 + ((ulong)PageEntry.Index(Va, 3) * 8));
        Assert.NotEqual(0UL, pml4e & PageEntry.Accessed);
        Assert.Equal(0UL, r.Host.Memory.ReadUInt64(r.HostBase + r.GuestSpace.Pml4)); // the host frame holds no copy: guest memory is the guest's
    }

    [Fact]
    public void Paging_structure_caches_of_both_dimensions_shorten_the_next_walk()
    {
        var r = new Rig(caches: true, largeEptPages: false);
        r.GuestSpace.Map4K(Va, r.Guest.AllocateFrame(), PageEntry.User);
        r.GuestSpace.Map4K(Va + 4096, r.Guest.AllocateFrame(), PageEntry.User);
        // First walk: the guest PML4's address takes a full EPT walk (4 + 1); the guest's other
        // tables and the data page lie in the same 2 MiB of guest-physical memory, so the EPT
        // PDE cache filled by that walk leaves one EPT reference each: 5 + 3 x (1 + 1) + 1.
        Assert.Equal(12, r.Walk(Va).References);
        int second = r.Walk(Va + 4096).References;
        // The guest PDE cache gives the page table's guest-physical address; the EPT PDE cache
        // leaves one EPT reference for it and one for the data page: 1 + 1 + 1.
        Assert.Equal(3, second);
    }

    [Fact]
    public void A_guest_physical_address_without_an_EPT_mapping_is_an_EPT_violation_not_a_page_fault()
    {
        var r = new Rig(caches: false, largeEptPages: false);
        const ulong Outside = GuestBytes + (64UL << 20); // beyond the guest's memory, never mapped
        r.GuestSpace.Map4K(Va, Outside, PageEntry.User);
        WalkResult w = r.Walk(Va);
        Assert.Equal(TranslationFault.EptViolation, w.Fault);
        Assert.Equal(Outside, w.GuestPhysicalAddress);
    }

    [Fact]
    public void A_page_the_host_maps_read_only_reads_but_a_write_to_it_is_an_EPT_violation_at_its_guest_physical_address()
    {
        // A page shared copy-on-write (KSM): the hypervisor points its entry at the shared frame without write permission.
        var r = new Rig(caches: false, largeEptPages: false);
        ulong gpa = r.Guest.AllocateFrame();
        r.GuestSpace.Map4K(Va, gpa, PageEntry.User | PageEntry.Writable);
        ulong shared = r.Host.Memory.AllocateFrame();
        r.Ept.MapPage(gpa, shared, writable: false);
        WalkResult read = r.Walk(Va);
        Assert.Equal(TranslationFault.None, read.Fault);
        Assert.Equal(shared, read.PageBase);
        WalkResult write = r.Walk(Va, MemoryAccessKind.Write);
        Assert.Equal(TranslationFault.EptViolation, write.Fault);
        Assert.Equal(gpa, write.GuestPhysicalAddress);
        r.Ept.MapPage(gpa, shared, writable: true);
        Assert.Equal(TranslationFault.None, r.Walk(Va, MemoryAccessKind.Write).Fault);
    }
}
