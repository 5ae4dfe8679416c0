using Sim.Engine;
using Sim.Models.Devices;

namespace Sim.Models.Platform;

/// <summary>
/// The host's own physical disk and network port under a monitor, shared by its virtual machines:
/// each VM's disk is an image file on the host's disk (the images laid one after another), and
/// each VM's NIC reaches the network through the host's one port. The device models' backends
/// (QEMU's I/O thread, vhost, a hosted monitor's process, a Xen-like monitor's) submit the guests'
/// requests to the one medium's queue and their frames to the one wire, so guests queue behind
/// each other there (<see cref="MediumQueue"/>, <see cref="EthernetLink"/>). A device assigned to
/// a guest keeps a disk of its own; an assigned NIC is a virtual function of the host's port and
/// shares its wire.
/// </summary>
/// <remarks>
/// Model: the host's driver and its device's rings are not simulated as register accesses (the
/// host kernel's path is the backends' cost in host system calls); the disk is the guests' disk
/// kind with room for every image, the port the guests' link rate.
/// </remarks>
public sealed class HostDevices
{
    /// <summary>
    /// The virtual functions the host's port offers its guests: 63, as Linux's ixgbe driver allows
    /// on an Intel 82599 10 GbE port (the 82599 has 64 virtual functions per port, its product
    /// brief says; the driver keeps one pool for the physical function, max_vfs 1 to 63). An
    /// assigned NIC is one of them, so no more guests than that can have one.
    /// </summary>
    public const int MostVirtualFunctions = 63;

    /// <param name="guest">The guests' machine: their disk's kind and size, and their link.</param>
    /// <param name="guests">How many virtual machines the host runs (the disk holds an image for each).</param>
    public HostDevices(Simulator sim, MachineConfiguration guest, int guests)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(guest);
        ArgumentOutOfRangeException.ThrowIfLessThan(guests, 1);
        ImageSectors = guest.DiskSectors;
        Guests = guests;
        if (guest.Disk != DiskKind.None)
        {
            const string name = "host.disk0.medium";
            Disk = new MediumQueue(sim, PlatformDevices.MediumOf(sim, guest.Disk, guest.DiskSectors * (ulong)guests, name), sim.Stats.Group(name));
        }
        if (guest.Nic)
        {
            Port = PlatformDevices.LinkOf(sim, guest.Timings, "host.link");
        }
    }

    /// <summary>The host's disk and its queue, or null when the guests have no disk.</summary>
    public MediumQueue? Disk { get; }

    /// <summary>The host's network port and its wire, or null when the guests have no NIC.</summary>
    public EthernetLink? Port { get; }

    /// <summary>Each guest's image, in sectors.</summary>
    public ulong ImageSectors { get; }

    public int Guests { get; }

    /// <summary>The image of virtual machine <paramref name="vm"/> on the host's disk.</summary>
    public DiskImage ImageOf(int vm)
    {
        MediumQueue disk = Disk ?? throw new InvalidOperationException("The host has no disk.");
        if (vm < 0 || vm >= Guests)
        {
            throw new ArgumentOutOfRangeException(nameof(vm), vm, $"The host's disk holds images for virtual machines 0 to {Guests - 1}.");
        }
        return new DiskImage(disk, (ulong)vm * ImageSectors, ImageSectors);
    }
}
