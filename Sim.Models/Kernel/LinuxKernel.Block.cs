using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>The kernel's block path behind pread and pwrite: the request, its completion, and the ATA driver in PIO mode (the AHCI driver is in LinuxKernel.Ahci.cs).</summary>
public sealed partial class LinuxKernel
{
    /// <summary>The vector the disk's interrupt line (IRQ 14) is routed to at boot.</summary>
    public const int DiskVector = 0x2E;

    /// <summary>Brings the disk up at boot (not timed): on AHCI the command list and tables and the port; on the ATA channel nothing; either way its interrupt line routed to core 0.</summary>
    public void StartDisk()
    {
        if (_platform.Devices.Ahci is not null)
        {
            StartAhci();
            return;
        }
        if (_platform.Devices.Virtio is not null)
        {
            StartVirtio();
            return;
        }
        if (_platform.Devices.Nvme is not null)
        {
            StartNvme();
            return;
        }
        RouteIrq(PlatformDevices.DiskIrq, DiskVector, levelTriggered: true);
    }

    /// <summary>
    /// Requests the disk holds or the kernel has queued for it whose end will wake someone: while
    /// any is in flight, a blocked system is waiting, not deadlocked. Swap writes no fault waits
    /// for wake no one (after the last process has exited they end on their own).
    /// </summary>
    private int BlockRequestsWaitedOn => (_disk is null ? 0 : 1) + (_ahci?.InFlight ?? 0) + (_virtio?.InFlight ?? 0) + (_nvme?.InFlight ?? 0) - (_memoryWaiters.Count == 0 ? _writeback : 0);

    /// <summary>pread or pwrite of 4 KiB at byte <paramref name="offset"/> of the disk, through the machine's disk interface; the caller blocks until it completes.</summary>
    private void BlockIo(Core core, KernelPath path, Process p, ulong offset, bool write, Action<KernelPath, ulong>? complete = null)
    {
        var request = new DiskRequest(p, 8, CachePageFrame(path, _this.Node), write, complete, core.LocalTime); // the page (cache) from the node of the CPU that asks; the core's time as it entered the kernel
        SubmitBlock(path, request, offset / 512);
        p.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    /// <summary>submit_bio of <paramref name="request"/> at sector <paramref name="lba"/>: the block layer's request made and handed to the machine's disk interface.</summary>
    private void SubmitBlock(KernelPath path, DiskRequest request, ulong lba)
    {
        path.Run(KernelRoutine.BlockRequest);
        if (_platform.Devices.Ahci is not null)
        {
            AhciSubmit(path, request, lba);
        }
        else if (_virtio is not null)
        {
            VirtioSubmit(path, request, lba);
        }
        else if (_nvme is not null)
        {
            NvmeSubmit(path, request, lba);
        }
        else
        {
            AtaSubmit(path, request, lba);
        }
    }

    /// <summary>
    /// The ATA driver's submission: six task-file writes (READ or WRITE SECTORS for 8 sectors); a write
    /// also pushes its 8 sectors through the data port at once (256 word writes each, the data
    /// read from the buffer). The caller blocks until the last interrupt. One request at a time
    /// (PIO has no queue).
    /// </summary>
    private void AtaSubmit(KernelPath path, DiskRequest request, ulong lba)
    {
        if (_platform.Devices.Disk is null)
        {
            throw new InvalidOperationException("Block I/O with no disk in the machine.");
        }
        if (_disk is not null)
        {
            throw new InvalidOperationException("The ATA model takes one request at a time; a second request would need a request queue (use the AHCI interface for queued I/O).");
        }
        int sectors = request.Sectors;
        ushort port = Devices.AtaDisk.CommandBase;
        path.Execute(Op.Out((ushort)(port + 2), (ulong)sectors))
            .Execute(Op.Out((ushort)(port + 3), lba & 0xFF))
            .Execute(Op.Out((ushort)(port + 4), (lba >> 8) & 0xFF))
            .Execute(Op.Out((ushort)(port + 5), (lba >> 16) & 0xFF))
            .Execute(Op.Out((ushort)(port + 6), 0xE0 | ((lba >> 24) & 0x0F)))
            .Execute(Op.Out((ushort)(port + 7), request.Write ? Devices.AtaDisk.WriteSectors : Devices.AtaDisk.ReadSectors));
        if (request.Write)
        {
            for (int sector = 0; sector < sectors; sector++)
            {
                for (int word = 0; word < 256; word++)
                {
                    if (word % 32 == 0)
                    {
                        path.Load(request.Buffer + ((ulong)sector * 512) + ((ulong)(word / 32) * 64)); // rep outsw reads a line per 32 words
                    }
                    path.Execute(Op.Out(port, 0));
                }
            }
            request.Remaining = 0; // all sent; one interrupt when the medium has it
        }
        _disk = request;
    }

    /// <summary>A sector is ready (or a write is done): acknowledge by reading the status; for a read, move the sector with 256 word reads into the buffer; wake the caller after the last.</summary>
    private void DiskInterrupt(KernelPath path)
    {
        DiskRequest request = _disk!;
        ushort port = Devices.AtaDisk.CommandBase;
        path.Execute(Op.In((ushort)(port + 7)));
        if (request.Write)
        {
            _disk = null;
            CompleteDisk(path, request);
            return;
        }
        int sector = request.Sectors - request.Remaining;
        for (int word = 0; word < 256; word++)
        {
            path.Execute(Op.In(port));
            if (word % 32 == 31)
            {
                path.Store(request.Buffer + ((ulong)sector * 512) + ((ulong)(word / 32) * 64)); // rep insw fills a line per 32 words
            }
        }
        request.Remaining--;
        if (request.Remaining == 0)
        {
            _disk = null;
            CompleteDisk(path, request);
        }
    }

    /// <summary>The request is done: by default the buffer is freed and 4,096 bytes returned; a completion (a page-cache fill) may keep it and answer otherwise. A request no caller waits on (swap's) has only its completion.</summary>
    private void CompleteDisk(KernelPath path, DiskRequest request)
    {
        path.Run(KernelRoutine.BlockCompletion);
        if (request.Caller is null)
        {
            request.Complete!(path, request.Buffer);
            return;
        }
        request.Caller.OnReturnToUser += t => _blockLatency.Record((long)((t - request.Submitted).Picoseconds / 1000));
        if (request.Complete is { } complete)
        {
            complete(path, request.Buffer);
        }
        else
        {
            Release(path, request.Buffer);
            request.Caller.Program.SyscallReturned(4096);
        }
        request.Caller.State = ProcessState.Ready;
        Wake(request.Caller, path);
    }

    /// <summary>A block request: the process that waits for it (none for swap's, whose completion wakes whom it must), its sectors, the page its data goes to or comes from, and what its end does.</summary>
    private sealed class DiskRequest(Process? caller, int sectors, ulong buffer, bool write, Action<KernelPath, ulong>? complete, Sim.Engine.Time.Tick submitted)
    {
        /// <summary>When the core entered the kernel for the request's system call or fault (its own time, not the event queue's); unused for a request no caller waits on.</summary>
        public Sim.Engine.Time.Tick Submitted { get; } = submitted;

        public Action<KernelPath, ulong>? Complete { get; } = complete;

        public Process? Caller { get; } = caller;

        public int Sectors { get; } = sectors;

        public ulong Buffer { get; } = buffer;

        public bool Write { get; } = write;

        public int Remaining { get; set; } = sectors;
    }
}
