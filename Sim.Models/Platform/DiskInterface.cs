namespace Sim.Models.Platform;

/// <summary>How the disk is attached: the interface its driver programs.</summary>
public enum DiskInterface
{
    /// <summary>A SATA port of an AHCI adapter with native command queuing (32 commands in flight, DMA): the default.</summary>
    Ahci,

    /// <summary>The primary ATA channel in PIO mode (one command at a time, 257 port accesses per sector): emulated IDE's textbook case.</summary>
    AtaPio,

    /// <summary>A paravirtual virtio-blk device with a split virtqueue (a virtual machine's, under paravirtual I/O; there is no such hardware).</summary>
    Virtio,

    /// <summary>An NVMe controller: a submission and completion queue pair per CPU in memory, a doorbell write per command and per interrupt, MSI-X to the queue's CPU; a physical machine's, or assigned to a guest.</summary>
    Nvme,
}
