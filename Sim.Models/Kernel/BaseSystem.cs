namespace Sim.Models.Kernel;

/// <summary>
/// What a guest's installed system holds in memory once it has booted, before its service runs:
/// the page cache its boot read from the image (the kernel's modules, systemd and the daemons'
/// binaries and libraries, their configuration) and the anonymous memory of the daemons it
/// started (systemd, journald, udevd, sshd, cron: their heaps and stacks), beside the kernel's
/// own structures, which the kernel lays out itself.
/// </summary>
/// <remarks>
/// No measured figure of an idle Linux guest's resident memory was found (docs/calibration;
/// Agarwal, Jain and Porter, "Containing the Hype", APSys 2015, measured one, but its figures
/// were not at hand): both sizes are parameters a study sets, marked assumed where it picks them.
/// The cache's pages are one file of the image, so guests booted from one image hold equal pages
/// (what the host's page merging finds) and the guest's reclaim may drop them; the anonymous
/// pages are private and stay, unless the guest's kernel has swap, whose reclaim sends them there
/// (the daemons are idle: nothing touches them again in a run).
/// </remarks>
/// <param name="Image">The image's name: guests of one image read the same files.</param>
/// <param name="CacheBytes">The page cache its boot left, in whole pages.</param>
/// <param name="AnonymousBytes">Its daemons' anonymous memory, in whole pages.</param>
public sealed record BaseSystem(string Image, ulong CacheBytes, ulong AnonymousBytes)
{
    /// <summary>Both parts together.</summary>
    public ulong Bytes => CacheBytes + AnonymousBytes;
}
