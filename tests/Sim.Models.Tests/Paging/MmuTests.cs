using Sim.Models.Hardware;
using Sim.Models.Memory;
using Sim.Models.Paging;

namespace Sim.Models.Tests.Paging;

public class MmuTests
{
    private const ulong Va = 0x0000_0040_0000_0000;
    private const ulong UserRw = PageEntry.Writable | PageEntry.User;

    private static TranslationResult Read(MemoryRig m, ulong va) => m.Mmu.Translate(va, MemoryAccessKind.Read, user: true);

    [Fact]
    public void A_second_access_to_a_page_hits_the_first_level_TLB_at_no_cost()
    {
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        ulong frame = m.Map(Va, 1, UserRw)[0];
        TranslationResult first = Read(m, Va + 0x10);
        Assert.True(first.Walked);
        Assert.Equal(frame + 0x10, first.PhysicalAddress);
        TranslationResult second = Read(m, Va + 0x20);
        Assert.False(second.Walked);
        Assert.Equal(0, second.Cycles);
        Assert.Equal(frame + 0x20, second.PhysicalAddress);
    }

    [Fact]
    public void A_guest_translation_adopted_by_another_core_s_MMU_keeps_its_CR3_but_none_of_its_TLB_entries()
    {
        // A migrated virtual CPU: its state (CR3 here, under shadow-like tables in host memory)
        // goes to the new core's MMU, whose TLBs hold nothing of it, so its first access walks.
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        ulong frame = m.Map(Va, 1, UserRw)[0];
        Mmu.GuestTranslation first = m.Mmu.AttachGuest(vpid: 1, m.Memory, ept: null, shadowRootFor: root => root);
        m.Mmu.SelectGuest(first);
        m.Mmu.EnterGuest();
        m.Mmu.LoadCr3(m.Space.Pml4);
        Assert.True(Read(m, Va).Walked);
        Assert.False(Read(m, Va).Walked);
        m.Mmu.ExitGuest();

        var other = new Mmu(m.Profile, m.Memory, m.Path, m.Stats.Group("host.cpu1"));
        Mmu.GuestTranslation moved = other.Adopt(first, earlier: null);
        Assert.Equal(first.Pml4, moved.Pml4);
        other.SelectGuest(moved);
        other.EnterGuest();
        TranslationResult there = other.Translate(Va + 8, MemoryAccessKind.Read, user: true);
        Assert.True(there.Walked);
        Assert.Equal(frame + 8, there.PhysicalAddress);
        other.ExitGuest();
        Assert.Same(moved, other.Adopt(first, moved)); // back again later: the same state, brought up to date
        Assert.Throws<ArgumentException>(() => other.Adopt(moved, first)); // an earlier state of another MMU
    }

    [Fact]
    public void Pages_pushed_out_of_the_first_level_are_found_in_the_STLB_at_its_penalty()
    {
        HardwareProfile p = HardwareProfiles.NehalemX5570; // DTLB 64 entries, STLB 512
        var m = new MemoryRig(p);
        m.Map(Va, 200, UserRw);
        for (ulong i = 0; i < 200; i++)
        {
            Read(m, Va + (i * 4096));
        }
        long walks = m.Mmu.Walks;
        TranslationResult again = Read(m, Va); // least recently used in the DTLB: evicted there, kept in the STLB
        Assert.False(again.Walked);
        Assert.Equal(p.Tlbs.SecondLevelHitCycles, again.Cycles);
        Assert.Equal(walks, m.Mmu.Walks);
    }

    [Fact]
    public void Without_an_STLB_a_first_level_miss_walks()
    {
        var m = new MemoryRig(HardwareProfiles.Pentium4672); // one 64-entry DTLB
        m.Map(Va, 100, UserRw);
        for (ulong i = 0; i < 100; i++)
        {
            Read(m, Va + (i * 4096));
        }
        Assert.True(Read(m, Va).Walked);
    }

    [Fact]
    public void MOV_CR3_without_PCIDs_flushes_all_but_global_translations()
    {
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        m.Map(Va, 1, UserRw);
        m.Map(Va + 0x1000, 1, UserRw | PageEntry.Global);
        Read(m, Va);
        Read(m, Va + 0x1000);
        m.Mmu.LoadCr3(m.Space.Pml4);
        Assert.True(Read(m, Va).Walked);
        Assert.False(Read(m, Va + 0x1000).Walked);
    }

    /// <summary>A PCID-capable MMU with two address spaces mapping <see cref="Va"/> to different frames.</summary>
    private static (MemoryRig Rig, AddressSpaceBuilder Other, ulong FrameA, ulong FrameB) TwoSpacesWithPcids()
    {
        var m = new MemoryRig(HardwareProfiles.SkylakeSp8180);
        m.Mmu.EnablePcid();
        var other = new AddressSpaceBuilder(m.Memory);
        ulong frameA = m.Map(Va, 1, UserRw)[0];
        ulong frameB = m.Memory.AllocateFrame();
        other.Map4K(Va, frameB, UserRw);
        return (m, other, frameA, frameB);
    }

    [Fact]
    public void With_PCIDs_each_address_space_keeps_its_translations_across_switches()
    {
        (MemoryRig m, AddressSpaceBuilder other, ulong frameA, ulong frameB) = TwoSpacesWithPcids();
        const ulong NoFlush = 1UL << 63;

        m.Mmu.LoadCr3(m.Space.Pml4 | 1);
        Assert.Equal(frameA, Read(m, Va).PhysicalAddress);
        m.Mmu.LoadCr3(other.Pml4 | 2);
        TranslationResult inB = Read(m, Va);
        Assert.True(inB.Walked); // PCID 1's entry is not used under PCID 2
        Assert.Equal(frameB, inB.PhysicalAddress);

        m.Mmu.LoadCr3(m.Space.Pml4 | 1 | NoFlush);
        TranslationResult backInA = Read(m, Va);
        Assert.False(backInA.Walked); // kept while PCID 2 ran
        Assert.Equal(frameA, backInA.PhysicalAddress);

        m.Mmu.LoadCr3(other.Pml4 | 2); // without the no-flush bit: PCID 2's entries go
        Assert.True(Read(m, Va).Walked);
    }

    [Fact]
    public void A_repeated_access_after_a_switch_without_flush_still_uses_the_new_PCID()
    {
        (MemoryRig m, AddressSpaceBuilder other, ulong frameA, ulong frameB) = TwoSpacesWithPcids();
        m.Mmu.LoadCr3(m.Space.Pml4 | 1);
        Assert.Equal(frameA, Read(m, Va).PhysicalAddress);
        Assert.Equal(frameA + 8, Read(m, Va + 8).PhysicalAddress); // the same page again
        m.Mmu.LoadCr3(other.Pml4 | 2 | (1UL << 63)); // nothing flushed, but another address space
        Assert.Equal(frameB + 8, Read(m, Va + 8).PhysicalAddress);
    }

    [Fact]
    public void INVLPG_drops_one_page_only()
    {
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        m.Map(Va, 2, UserRw);
        Read(m, Va);
        Read(m, Va + 0x1000);
        m.Mmu.Invlpg(Va);
        Assert.True(Read(m, Va).Walked);
        Assert.False(Read(m, Va + 0x1000).Walked);
    }

    [Fact]
    public void A_stale_translation_is_used_until_invalidated()
    {
        // The TLB is not coherent with the tables: an unmapped page still translates until INVLPG.
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        m.Map(Va, 1, UserRw);
        Read(m, Va);
        ulong leaf = m.Space.LeafEntryAddress(Va)!.Value;
        m.Memory.WriteUInt64(leaf, 0);
        Assert.True(Read(m, Va).Succeeded);
        m.Mmu.Invlpg(Va);
        TranslationResult after = Read(m, Va);
        Assert.Equal(TranslationFault.PageFault, after.Fault);
        Assert.Equal(PageFaultErrorCode.User, after.ErrorCode);
    }

    [Fact]
    public void The_first_write_to_a_clean_page_walks_to_set_its_dirty_bit()
    {
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        m.Map(Va, 1, UserRw);
        Read(m, Va);
        Assert.Equal(0UL, m.Leaf(Va) & PageEntry.Dirty);
        TranslationResult write = m.Mmu.Translate(Va, MemoryAccessKind.Write, user: true);
        Assert.True(write.Walked);
        Assert.NotEqual(0UL, m.Leaf(Va) & PageEntry.Dirty);
        Assert.False(m.Mmu.Translate(Va, MemoryAccessKind.Write, user: true).Walked);
    }

    [Fact]
    public void Writing_a_read_only_page_faults_even_after_a_cached_read()
    {
        var m = new MemoryRig(HardwareProfiles.NehalemX5570);
        m.Map(Va, 1, PageEntry.User);
        Assert.True(Read(m, Va).Succeeded);
        TranslationResult write = m.Mmu.Translate(Va, MemoryAccessKind.Write, user: true);
        Assert.Equal(TranslationFault.PageFault, write.Fault);
        Assert.Equal(PageFaultErrorCode.Protection | PageFaultErrorCode.Write | PageFaultErrorCode.User, write.ErrorCode);
    }

    [Fact]
    public void Large_pages_are_cached_in_the_large_page_arrays()
    {
        var m = new MemoryRig(HardwareProfiles.SkylakeSp8180);
        ulong frame = m.Memory.AllocateLargeFrame();
        m.Space.Map2M(0x4000_0000, frame, UserRw);
        Assert.True(Read(m, 0x4000_0000).Walked);
        TranslationResult far = Read(m, 0x4000_0000 + 0x1F_F000); // same 2 MiB page, another 4 KiB
        Assert.False(far.Walked);
        Assert.Equal(frame + 0x1F_F000, far.PhysicalAddress);
    }

    [Fact]
    public void PCIDs_cannot_be_enabled_on_a_CPU_without_them() =>
        Assert.Throws<InvalidOperationException>(() => new MemoryRig(HardwareProfiles.NehalemX5570).Mmu.EnablePcid());
}
