namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's native asynchronous I/O (fs/aio.c, the io_setup, io_submit and io_getevents system
/// calls fio's libaio engine makes), laid out in a text block of their own when a kernel's first
/// process sets up a context, as the <see cref="SwapRoutine"/>s are, so that a kernel that never
/// does keeps the older layout and its results. The request itself is the block layer's
/// (<see cref="KernelRoutine.BlockRequest"/>, <see cref="KernelRoutine.BlockCompletion"/>).
/// </summary>
public enum AioRoutine
{
    /// <summary>io_setup: ioctx_alloc (the kioctx, its per-CPU request counts) and aio_setup_ring (the ring's pages allocated and mapped, its header written), the context added to the mm's table.</summary>
    Setup,

    /// <summary>
    /// io_submit's work for one iocb: lookup_ioctx, the iocb copied from the user (copy_from_user of
    /// its pointer and its 64 bytes), io_submit_one's aio_get_req (the kiocb from its slab, a
    /// request slot taken), aio_read's aio_prep_rw and import_single_range, and the block device's
    /// direct I/O (blkdev_direct_IO: the bio made, the user's buffer pinned by
    /// get_user_pages_fast) up to submit_bio.
    /// </summary>
    SubmitOne,

    /// <summary>
    /// A request's end in the completing CPU's interrupt: the bio's end_io, aio_complete_rw and
    /// aio_complete (the context's completion lock with interrupts off, the io_event written into
    /// the ring at its tail, the tail advanced), a wake-up of the context's waiter if there is one,
    /// and the kiocb freed.
    /// </summary>
    Complete,

    /// <summary>io_getevents's read_events and aio_read_events_ring: lookup_ioctx, the ring's mutex, its head and tail read; the events' copy to the user is the path's own, a line per two events.</summary>
    ReadEvents,
}
