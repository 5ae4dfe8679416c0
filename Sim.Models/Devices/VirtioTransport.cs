namespace Sim.Models.Devices;

/// <summary>
/// How a virtio device signals the driver (virtio 1.1, sections 4.1 and 4.2). The model keeps
/// virtio-mmio's register layout for both; what differs is the interrupt.
/// </summary>
public enum VirtioTransport
{
    /// <summary>
    /// virtio-pci with MSI-X, QEMU's default for x86 guests: each used-buffer notification is a
    /// message of its own, edge-triggered (merged in the local APIC while the vector is still
    /// pending), and the driver's handler (vp_vring_interrupt) reads and acknowledges nothing.
    /// </summary>
    Pci,

    /// <summary>
    /// virtio-mmio (ARM guests, Firecracker): one level-triggered line that stays up while
    /// InterruptStatus has a bit set; the driver's handler (vm_interrupt) reads InterruptStatus
    /// and writes it to InterruptACK, two register accesses an interrupt.
    /// </summary>
    Mmio,
}
