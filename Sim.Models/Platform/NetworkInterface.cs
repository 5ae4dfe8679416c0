namespace Sim.Models.Platform;

/// <summary>The network card the driver programs.</summary>
public enum NetworkInterface
{
    /// <summary>An Intel 8254x (e1000) with legacy descriptor rings: the default, and what hypervisors emulate.</summary>
    E1000,

    /// <summary>A paravirtual virtio-net card with a receive and a transmit virtqueue (a virtual machine's, under paravirtual I/O; there is no such hardware).</summary>
    Virtio,

    /// <summary>An Intel 82599 10 GbE controller with a queue pair per CPU (up to 16) and receive-side scaling, driven as Linux's ixgbe drives it (<see cref="Devices.Nic82599"/>): a physical machine's.</summary>
    Ixgbe,
}
