using Sim.Engine.Statistics;
using Sim.Models.Cpu;
using Sim.Models.Memory;
using Sim.Models.Paging;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>The kernel's block path: the ATA driver in PIO mode, behind pread and pwrite.</summary>
public sealed partial class LinuxKernel
{
    /// <summary>The vector the disk's interrupt line (IRQ 14) is routed to at boot.</summary>
    public const int DiskVector = 0x2E;

    /// <summary>Routes the disk's interrupt line through the I/O APIC to core 0 (done at boot, not timed).</summary>
    public void StartDisk() => RouteIrq(Machine.DiskIrq, DiskVector, levelTriggered: true);

    /// <summary>
    /// pread or pwrite of 4 KiB at byte <paramref name="offset"/> of the disk: the block layer's
    /// work and the ATA driver's six task-file writes (READ or WRITE SECTORS for 8 sectors); a write
    /// also pushes its 8 sectors through the data port at once (256 word writes each, the data
    /// read from the buffer). The caller blocks until the last interrupt. One request at a time
    /// (PIO has no queue).
    /// </summary>
    private void BlockIo(Core core, KernelPath path, Process p, ulong offset, bool write, Action<KernelPath, ulong>? complete = null)
    {
        if (_machine.Disk is null)
        {
            throw new InvalidOperationException("Block I/O with no disk in the machine.");
        }
        if (_disk is not null)
        {
            throw new InvalidOperationException("The ATA model takes one request at a time; a second request would need a request queue.");
        }
        path.Run(KernelRoutine.BlockRequest);
        ulong lba = offset / 512;
        const int Sectors = 8;
        ushort port = Devices.AtaDisk.CommandBase;
        path.Execute(Op.Out((ushort)(port + 2), Sectors))
            .Execute(Op.Out((ushort)(port + 3), lba & 0xFF))
            .Execute(Op.Out((ushort)(port + 4), (lba >> 8) & 0xFF))
            .Execute(Op.Out((ushort)(port + 5), (lba >> 16) & 0xFF))
            .Execute(Op.Out((ushort)(port + 6), 0xE0 | ((lba >> 24) & 0x0F)))
            .Execute(Op.Out((ushort)(port + 7), write ? Devices.AtaDisk.WriteSectors : Devices.AtaDisk.ReadSectors));
        var request = new DiskRequest(p, Sectors, Memory.AllocateFrame(), write, complete);
        if (write)
        {
            for (int sector = 0; sector < Sectors; sector++)
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
        p.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    /// <summary>A sector is ready (or a write is done): acknowledge by reading the status; for a read, move the sector with 256 word reads into the buffer; wake the caller after the last.</summary>
    private void DiskInterrupt(KernelPath path)
    {
        DiskRequest request = _disk!;
        ushort port = Devices.AtaDisk.CommandBase;
        path.Execute(Op.In((ushort)(port + 7)));
        if (request.Write)
        {
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
            CompleteDisk(path, request);
        }
    }

    /// <summary>The request is done: by default the buffer is freed and 4,096 bytes returned; a completion (a page-cache fill) may keep it and answer otherwise.</summary>
    private void CompleteDisk(KernelPath path, DiskRequest request)
    {
        path.Run(KernelRoutine.BlockCompletion);
        _disk = null;
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
        _ready.AddLast(request.Caller);
    }

    private sealed class DiskRequest(Process caller, int sectors, ulong buffer, bool write, Action<KernelPath, ulong>? complete)
    {
        public Action<KernelPath, ulong>? Complete { get; } = complete;

        public Process Caller { get; } = caller;

        public int Sectors { get; } = sectors;

        public ulong Buffer { get; } = buffer;

        public bool Write { get; } = write;

        public int Remaining { get; set; } = sectors;
    }
}
