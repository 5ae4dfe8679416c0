using Sim.Models.Kernel;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Kernel;

public class DentryCacheTests
{
    [Fact]
    public void A_path_walk_visits_each_prefix_and_a_bare_name_is_relative()
    {
        Assert.Equal(["/usr", "/usr/include", "/usr/include/stdio.h"], DentryCache.Prefixes("/usr/include/stdio.h"));
        Assert.Equal(["./cc1"], DentryCache.Prefixes("cc1"));
        Assert.Equal(["/a", "/a/b"], DentryCache.Prefixes("//a//b/"));
    }

    [Fact]
    public void Dentries_are_distinct_lines_stable_across_lookups_and_buckets_lie_in_the_table()
    {
        var cache = new DentryCache(new PhysicalMemory(64UL << 20));
        ulong usr = cache.DentryOf("/usr");
        ulong include = cache.DentryOf("/usr/include");
        Assert.NotEqual(usr, include);
        Assert.Equal(usr, cache.DentryOf("/usr"));
        Assert.NotEqual(cache.InodeOf("/usr"), usr);
        Assert.Equal(0UL, usr % 64);
        ulong a = cache.BucketOf("/usr"), b = new DentryCache(new PhysicalMemory(64UL << 20)).BucketOf("/usr");
        Assert.Equal(a, b); // the bucket depends on the name only, not on the process (no string.GetHashCode)
    }
}
