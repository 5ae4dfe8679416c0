namespace Sim.Models.Devices;

/// <summary>
/// A software device's backend that runs on a host CPU of its own accord, not inside the exit that
/// kicked it: a QEMU-like process's I/O thread, or a vhost worker in the host kernel. The device
/// hands it the work a kick sets going (the exit only signals an eventfd, KVM's ioeventfd) and the
/// work a host I/O's completion brings (the used ring filled and the guest interrupted by irqfd);
/// the backend runs each piece when its thread gets the CPU, recording it in the device's
/// <see cref="EmulationWork"/> as an exit's emulation would.
/// </summary>
public interface IDeviceBackend
{
    /// <summary>A kick: <paramref name="take"/> pops what the driver made available and submits it.</summary>
    void Kick(Action take);

    /// <summary>A host I/O completed: <paramref name="complete"/> returns it to the guest.</summary>
    void Completed(Action complete);
}

public static class DeviceBackendExtensions
{
    /// <summary>Work a host event brings (a request done, a frame received): done at once by a device with no backend thread, or by the thread once the host's completion wakes it.</summary>
    public static void FromHost(this IDeviceBackend? backend, Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (backend is null)
        {
            work();
            return;
        }
        backend.Completed(work);
    }
}
