namespace Sim.Models.Virtualization;

/// <summary>What runs a virtual machine's device backends on the host (<see cref="IoThread"/>).</summary>
public enum BackendKind
{
    /// <summary>A QEMU-like process's I/O thread in user space: a host system call for each real I/O, the guest interrupted through an irqfd write.</summary>
    UserSpace,

    /// <summary>A vhost worker, a kernel thread of the host: the I/O submitted in the kernel, no system call.</summary>
    HostKernel,

    /// <summary>
    /// Xen's driver domain (dom0): netback and blkback in its kernel, on its virtual CPU. The guest's
    /// notification is an event channel; each frame crosses by a grant copy and each block request's
    /// page is mapped by grant and unmapped when it is done; the guest is notified by an event
    /// channel in return.
    /// </summary>
    Dom0,
}
