using Sim.Engine.Statistics;
using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Tests.Paging;

public class PageWalkerTests
{
    private const ulong Va = 0x0000_7F12_3456_7000;
    private const ulong UserRw = PageEntry.Writable | PageEntry.User;

    private static (MemoryRig M, PageWalker W) Setup(HardwareProfile? profile = null, bool caches = false)
    {
        var m = new MemoryRig(profile ?? HardwareProfiles.Pentium4672);
        PagingStructureCaches? psc = caches ? new PagingStructureCaches(m.Profile.PagingStructureCaches, new StatRegistry().Group("psc")) : null;
        return (m, new PageWalker(m.Memory, m.Path, psc));
    }

    [Fact]
    public void A_4KiB_walk_reads_four_entries_sets_accessed_bits_and_finds_the_frame()
    {
        var (m, w) = Setup();
        ulong frame = m.Map(Va, 1, UserRw)[0];
        WalkResult r = w.Walk(m.Space.Pml4, TranslationTag.Host, Va + 0x123, MemoryAccessKind.Read, user: true);
        Assert.Equal(TranslationFault.None, r.Fault);
        Assert.Equal(frame, r.PageBase);
        Assert.Equal(12, r.PageShift);
        Assert.Equal(4, r.References);
        // Cold caches: every reference goes to memory.
        Assert.Equal(4 * (m.Profile.L2.LatencyCycles + m.Profile.DramLatencyCycles), r.Cycles);
        // Accessed set at every level; dirty not set by a read.
        ulong table = m.Space.Pml4;
        for (int level = 3; level >= 0; level--)
        {
            ulong entry = m.Memory.ReadUInt64(table + ((ulong)PageEntry.Index(Va, level) * 8));
            Assert.True((entry & PageEntry.Accessed) != 0, $"level {level} accessed");
            Assert.Equal(0UL, entry & PageEntry.Dirty);
            table = entry & PageEntry.AddressMask;
        }
        w.Walk(m.Space.Pml4, TranslationTag.Host, Va, MemoryAccessKind.Write, user: true);
        Assert.True((m.Leaf(Va) & PageEntry.Dirty) != 0);
    }

    [Fact]
    public void A_2MiB_page_takes_three_references()
    {
        var (m, w) = Setup();
        ulong frame = m.Memory.AllocateLargeFrame();
        m.Space.Map2M(0x4000_0000, frame, UserRw);
        WalkResult r = w.Walk(m.Space.Pml4, TranslationTag.Host, 0x4000_0000 + 0x12_3456, MemoryAccessKind.Read, user: false);
        Assert.Equal(TranslationFault.None, r.Fault);
        Assert.Equal(frame, r.PageBase);
        Assert.Equal(21, r.PageShift);
        Assert.Equal(3, r.References);
    }

    [Theory]
    [InlineData(MemoryAccessKind.Read, false, 0)]
    [InlineData(MemoryAccessKind.Write, false, (int)PageFaultErrorCode.Write)]
    [InlineData(MemoryAccessKind.Read, true, (int)PageFaultErrorCode.User)]
    [InlineData(MemoryAccessKind.Write, true, (int)(PageFaultErrorCode.Write | PageFaultErrorCode.User))]
    [InlineData(MemoryAccessKind.Fetch, true, (int)(PageFaultErrorCode.InstructionFetch | PageFaultErrorCode.User))]
    public void A_missing_page_faults_with_the_access_in_the_error_code_and_no_protection_bit(MemoryAccessKind kind, bool user, int expected)
    {
        var (m, w) = Setup();
        m.Map(Va, 1, UserRw);
        WalkResult r = w.Walk(m.Space.Pml4, TranslationTag.Host, Va + 4096, kind, user); // the next page: its PTE is empty
        Assert.Equal(TranslationFault.PageFault, r.Fault);
        Assert.Equal((PageFaultErrorCode)expected, r.ErrorCode);
        Assert.Equal(4, r.References);
        Assert.Equal(0UL, m.Leaf(Va + 4096) & PageEntry.Accessed);
    }

    [Fact]
    public void Protection_violations_set_the_protection_bit_and_leave_the_page_clean()
    {
        var (m, w) = Setup();
        m.Map(Va, 1, PageEntry.Writable);                       // supervisor only
        m.Map(Va + 0x1000, 1, PageEntry.User);                  // read-only
        m.Map(Va + 0x2000, 1, UserRw | PageEntry.NoExecute);    // no execute
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.User,
            w.Walk(m.Space.Pml4, TranslationTag.Host, Va, MemoryAccessKind.Read, user: true).ErrorCode);
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.Write,
            w.Walk(m.Space.Pml4, TranslationTag.Host, Va + 0x1000, MemoryAccessKind.Write, user: false).ErrorCode); // CR0.WP = 1
        Assert.Equal(0UL, m.Leaf(Va + 0x1000) & PageEntry.Dirty);
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.InstructionFetch | PageFaultErrorCode.User,
            w.Walk(m.Space.Pml4, TranslationTag.Host, Va + 0x2000, MemoryAccessKind.Fetch, user: true).ErrorCode);
        Assert.Equal(TranslationFault.None, w.Walk(m.Space.Pml4, TranslationTag.Host, Va, MemoryAccessKind.Write, user: false).Fault);
    }

    [Fact]
    public void Rights_are_the_and_of_every_level()
    {
        var (m, w) = Setup();
        m.Map(Va, 1, UserRw);
        // Clear U/S in the PDE: the user-accessible PTE no longer suffices.
        ulong pml4e = m.Memory.ReadUInt64(m.Space.Pml4 + ((ulong)PageEntry.Index(Va, 3) * 8));
        ulong pdpt = pml4e & PageEntry.AddressMask;
        ulong pd = m.Memory.ReadUInt64(pdpt + ((ulong)PageEntry.Index(Va, 2) * 8)) & PageEntry.AddressMask;
        ulong pdeAddress = pd + ((ulong)PageEntry.Index(Va, 1) * 8);
        m.Memory.WriteUInt64(pdeAddress, m.Memory.ReadUInt64(pdeAddress) & ~PageEntry.User);
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.User, w.Walk(m.Space.Pml4, TranslationTag.Host, Va, MemoryAccessKind.Read, true).ErrorCode);
    }

    [Fact]
    public void Non_canonical_addresses_raise_general_protection_without_a_walk()
    {
        var (m, w) = Setup();
        WalkResult r = w.Walk(m.Space.Pml4, TranslationTag.Host, 0x0000_8000_0000_0000, MemoryAccessKind.Read, false);
        Assert.Equal(TranslationFault.GeneralProtection, r.Fault);
        Assert.Equal(0, r.References);
    }

    [Fact]
    public void Paging_structure_caches_let_a_walk_skip_to_the_page_table()
    {
        var (m, w) = Setup(HardwareProfiles.NehalemX5570, caches: true);
        m.Map(Va, 2, UserRw);
        Assert.Equal(4, w.Walk(m.Space.Pml4, TranslationTag.Host, Va, MemoryAccessKind.Read, true).References);
        WalkResult second = w.Walk(m.Space.Pml4, TranslationTag.Host, Va + 4096, MemoryAccessKind.Read, true);
        Assert.Equal(TranslationFault.None, second.Fault);
        Assert.Equal(1, second.References); // the PDE cache held the page table's address
        // A different PCID does not use those entries.
        Assert.Equal(4, w.Walk(m.Space.Pml4, new TranslationTag(0, 5), Va + 4096, MemoryAccessKind.Read, true).References);
    }
}
