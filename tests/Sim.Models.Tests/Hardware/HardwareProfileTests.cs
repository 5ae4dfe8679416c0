using Sim.Models.Hardware;

namespace Sim.Models.Tests.Hardware;

public class HardwareProfileTests
{
    [Fact]
    public void Every_profile_is_consistent_and_cites_its_figures()
    {
        Assert.Equal(["p4-672", "core2-merom", "nehalem-x5570", "skylake-sp"], HardwareProfiles.All.Select(p => p.Name));
        foreach (HardwareProfile p in HardwareProfiles.All)
        {
            p.Validate();
            Assert.NotEmpty(p.Sources);
        }
    }

    [Fact]
    public void The_published_VMX_costs_of_Adams_and_Agesen_are_in_the_profiles()
    {
        Assert.Equal(new VmxTransitionCosts(2409, 1931, 178, 171), HardwareProfiles.Pentium4672.Vmx);
        Assert.Equal(new VmxTransitionCosts(937, 1186, 52, 44), HardwareProfiles.Core2Merom.Vmx);
    }

    [Fact]
    public void Features_follow_the_generations()
    {
        Assert.False(HardwareProfiles.Pentium4672.Features.Ept);
        Assert.False(HardwareProfiles.Core2Merom.Features.Ept);
        Assert.True(HardwareProfiles.NehalemX5570.Features.Ept && HardwareProfiles.NehalemX5570.Features.Vpid);
        var modern = HardwareProfiles.SkylakeSp8180.Features;
        Assert.True(modern.Ept && modern.Vpid && modern.Pcid && modern.ApicVirtualization && modern.PostedInterrupts);
    }

    [Fact]
    public void An_unknown_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => HardwareProfiles.Get("p5"));
        Assert.Contains("p4-672, core2-merom, nehalem-x5570, skylake-sp", e.Message, StringComparison.Ordinal);
        Assert.Same(HardwareProfiles.NehalemX5570, HardwareProfiles.Get("nehalem-x5570"));
    }
}
