using Sim.Models.Kernel;
using Sim.Models.Memory;

namespace Sim.Models.Tests.Kernel;

public class PageCacheTests
{
    [Fact]
    public void A_cached_page_outlives_the_processes_that_map_it_and_is_found_by_file_and_index()
    {
        var memory = new PhysicalMemory(64UL << 20);
        var frames = new PageFrames(memory, new PageAllocator(memory));
        var cache = new PageCache(frames);
        var path = new KernelPath(new KernelText(memory, LinuxKernelCosts.Default), NativePrivilegedOperations.Instance);
        ulong frame = memory.AllocateFrame();
        ulong used = memory.FramesInUse;

        cache.Add(file: 3, page: 7, frame);
        Assert.True(cache.TryFind(3, 7, out ulong found));
        Assert.Equal(frame, found);
        Assert.False(cache.TryFind(3, 8, out _));
        Assert.False(cache.TryFind(4, 7, out _));

        frames.TakeReference(path, frame); // a process maps it
        Assert.False(frames.Release(path, frame)); // and unmaps it: the cache's reference keeps the page
        Assert.Equal(used, memory.FramesInUse);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void A_page_already_cached_is_refused_rather_than_leaking_the_first_frame()
    {
        var memory = new PhysicalMemory(64UL << 20);
        var cache = new PageCache(new PageFrames(memory, new PageAllocator(memory)));
        cache.Add(1, 0, memory.AllocateFrame());

        var refused = Assert.Throws<InvalidOperationException>(() => cache.Add(1, 0, memory.AllocateFrame()));
        Assert.Contains("already in the page cache", refused.Message);
    }
}
