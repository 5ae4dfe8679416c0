namespace Sim.Models.Devices;

/// <summary>
/// What a device model in software does for one register access beyond the register's own
/// semantics, as the device records it: the pieces of the model's code that run
/// (<see cref="EmulationStep"/>), the guest memory it reads, writes or copies out (a transmit
/// descriptor, an AHCI command table, a virtqueue's ring), and the real I/Os the access sets
/// going (a frame to send, a block request to submit). A monitor turns the record into the
/// handler's operations: the steps' code, a load or a store per line of guest memory, and, for a
/// backend in a host process, one host system call per real I/O. A device records only while a
/// monitor emulates an access (<see cref="Begin"/> to <see cref="End"/>): natively, and in the
/// device's completions outside an access, its DMA bypasses the CPU and nothing is recorded.
/// </summary>
public sealed class EmulationWork
{
    private readonly List<EmulationStep> _steps = [];
    private readonly List<GuestTouch> _touches = [];

    /// <summary>Whether an access is being emulated.</summary>
    public bool Active { get; private set; }

    /// <summary>The steps of the model's code the access ran, in order.</summary>
    public IReadOnlyList<EmulationStep> Steps => _steps;

    /// <summary>The guest memory the access read, wrote or copied, in order.</summary>
    public IReadOnlyList<GuestTouch> Touches => _touches;

    /// <summary>The real I/Os the access set going.</summary>
    public int RealIos { get; private set; }

    /// <summary>Of <see cref="RealIos"/>, the frames sent or received: on the host they also cross its software bridge to the physical port.</summary>
    public int Frames { get; private set; }

    /// <summary>Kicks handed to a backend thread by signalling its eventfd (KVM's ioeventfd: virt/kvm/eventfd.c, ioeventfd_write and eventfd_signal, and the sleeping thread's wake-up).</summary>
    public int Ioeventfds { get; private set; }

    /// <summary>Interrupts a backend thread sent the guest through KVM's irqfd (virt/kvm/eventfd.c: irqfd_wakeup, kvm_set_irq and the delivery to the virtual APIC).</summary>
    public int Irqfds { get; private set; }

    /// <summary>An access starts: the last one's record is dropped.</summary>
    public void Begin()
    {
        _steps.Clear();
        _touches.Clear();
        RealIos = 0;
        Frames = 0;
        Ioeventfds = 0;
        Irqfds = 0;
        Active = true;
    }

    /// <summary>The access is done; the record stays for the monitor to read.</summary>
    public void End() => Active = false;

    public void Step(EmulationStep step)
    {
        if (Active)
        {
            _steps.Add(step);
        }
    }

    /// <summary>The model reads <paramref name="bytes"/> of guest memory at guest-physical <paramref name="address"/>.</summary>
    public void Read(ulong address, int bytes) => Touch(address, bytes, GuestTouchKind.Read);

    /// <summary>The model writes <paramref name="bytes"/> of guest memory at <paramref name="address"/>.</summary>
    public void Write(ulong address, int bytes) => Touch(address, bytes, GuestTouchKind.Write);

    /// <summary>The model copies <paramref name="bytes"/> of guest memory at <paramref name="address"/> into a buffer of its own (e1000's frame assembly).</summary>
    public void CopyOut(ulong address, int bytes) => Touch(address, bytes, GuestTouchKind.CopyOut);

    /// <summary>The access set one real I/O going.</summary>
    public void RealIo()
    {
        if (Active)
        {
            RealIos++;
        }
    }

    /// <summary>The access set one real I/O going that is a frame to or from the network.</summary>
    public void Frame()
    {
        if (Active)
        {
            RealIos++;
            Frames++;
        }
    }

    /// <summary>The access handed a kick to a backend thread through its eventfd.</summary>
    public void Ioeventfd()
    {
        if (Active)
        {
            Ioeventfds++;
        }
    }

    /// <summary>A backend thread interrupted the guest through the irqfd.</summary>
    public void Irqfd()
    {
        if (Active)
        {
            Irqfds++;
        }
    }

    private void Touch(ulong address, int bytes, GuestTouchKind kind)
    {
        if (Active && bytes > 0)
        {
            _touches.Add(new GuestTouch(address, bytes, kind));
        }
    }
}

/// <summary>A piece of a software device model's code, run for a register access besides its dispatch (costs in the monitor's <c>HypervisorCosts</c>).</summary>
public enum EmulationStep
{
    /// <summary>e1000: a read of ICR, the cause register, clears it and the interrupt line is set anew (QEMU hw/net/e1000.c: mac_icr_read, set_interrupt_cause, pci_set_irq).</summary>
    InterruptCause,

    /// <summary>e1000: one transmit descriptor taken on a TDT write (start_xmit's loop: process_tx_desc, xmit_seg, e1000_send_packet, txdesc_writeback); its reads, the frame's copy and the write-back are touches.</summary>
    TransmitDescriptor,

    /// <summary>AHCI: one command taken on a PxCI write (hw/ide/ahci.c: check_cmd, handle_cmd, process_ncq_command, ahci_populate_sglist, and the request's set-up in execute_ncq_command); the command header, FIS and PRDT reads are touches.</summary>
    CommandIssue,

    /// <summary>virtio: one descriptor chain popped on a kick (hw/virtio/virtio.c: virtqueue_pop's ring and descriptor reads, its mapping of the buffers) and handed to the device (virtio_blk_handle_request, virtio_net_flush_tx, virtio_balloon_handle_output); the reads are touches.</summary>
    VirtqueuePop,

    /// <summary>virtio: a buffer returned through the used ring (virtqueue_push: virtqueue_fill and virtqueue_flush); the writes are touches.</summary>
    VirtqueuePush,

    /// <summary>ATA: a command register write decoded and the transfer set up (hw/ide/core.c: ide_exec_cmd and its handler).</summary>
    AtaCommand,

    /// <summary>e1000: a frame from the host's tap written to the next receive buffer (hw/net/e1000.c: e1000_receive_iov's e1000_has_rxbufs and receive filter, the descriptor read, the buffer's pci_dma_write, the descriptor written back, set_ics); the reads and writes are touches.</summary>
    FrameReceive,

    /// <summary>AHCI: a queued command's host I/O completed (hw/ide/ahci.c: ncq_cb, ncq_finish, ahci_write_fis_sdb into the received-FIS area, ahci_check_irq); the FIS write is a touch.</summary>
    CommandComplete,

    /// <summary>e1000: a context descriptor taken on a TDT write (process_tx_desc's context branch: the checksum offsets and the TCP/UDP command saved for the data descriptors after it); its read and write-back are touches.</summary>
    TransmitContext,

    /// <summary>e1000: 64 bytes of a frame summed for the checksum its data descriptor asked to have inserted (TXSM: putsum's net_checksum_add over the model's copy of the frame, then the sum stored into it), one step a line.</summary>
    ChecksumLine,
}

public enum GuestTouchKind
{
    Read,
    Write,

    /// <summary>Read from guest memory and written to the model's own buffer.</summary>
    CopyOut,
}

/// <summary><paramref name="Bytes"/> of guest memory at guest-physical <paramref name="Address"/>, read, written or copied by a device model.</summary>
public readonly record struct GuestTouch(ulong Address, int Bytes, GuestTouchKind Kind);
