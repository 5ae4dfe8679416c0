namespace Sim.Models.Virtualization;

/// <summary>The device a monitor's device model emulates an access for: what the model counts accesses, and keeps state lines, by.</summary>
public enum EmulatedDevice
{
    /// <summary>Legacy port I/O (the serial port, port 0x80, the ATA channel).</summary>
    Ports,

    LocalApic,

    IoApic,

    /// <summary>The AHCI adapter.</summary>
    Disk,

    /// <summary>The e1000-style NIC.</summary>
    Nic,

    /// <summary>The virtio block device.</summary>
    Virtio,

    /// <summary>The virtio network card.</summary>
    VirtioNet,

    /// <summary>The memory balloon (virtio-balloon).</summary>
    Balloon,
}
