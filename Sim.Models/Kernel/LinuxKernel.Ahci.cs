using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The AHCI driver, after Linux's ahci and libata: at boot the command list, FIS area and 32
/// command tables in memory and the port started; per request a command built in memory (header,
/// READ/WRITE FPDMA QUEUED FIS, one PRDT entry) and two register writes (PxSACT, PxCI), up to 32
/// in flight, more waiting in the kernel's queue; per interrupt the handler reads IS and PxIS,
/// clears PxIS, reads PxSACT, completes every request whose bit has cleared, issues waiting ones
/// and clears IS: five register accesses however many requests complete.
/// </summary>
/// <remarks>
/// A tag counts as issued only once its PxSACT write has run (<see cref="DeviceWriteRuns"/>),
/// and on an SMP kernel issuing and completing are serialized by the port's lock (ap->lock: taken
/// by ata_scsi_queuecmd around ahci_qc_issue, and by ahci_port_intr around the PxSACT read and
/// ata_qc_complete_multiple). The model builds a path before it runs, so otherwise a handler
/// could read PxSACT between the building of an issue and its register writes (another CPU's,
/// or on one CPU an interrupt that came in between, which a completion does when the writes'
/// exits take long, as a trip to a user-space device model does) and take the new tag's clear
/// bit for a completion.
/// </remarks>
public sealed partial class LinuxKernel
{
    private AhciState? _ahci;

    /// <summary>Boot-time set-up (not timed): memory for the command list, received FISes and command tables; the port started; interrupts enabled; the line routed.</summary>
    private void StartAhci()
    {
        AhciDisk hba = _platform.Devices.Ahci!;
        ulong list = Memory.AllocateFrame();            // 32 headers of 32 bytes, then the 256-byte FIS area at 0x400
        ulong[] tables = [Memory.AllocateFrame(), Memory.AllocateFrame()]; // 256 bytes per slot's table
        hba.Write(AhciDisk.Ghc, AhciDisk.GhcAhciEnable);
        hba.Write(AhciDisk.PxClb, list);
        hba.Write(AhciDisk.PxFb, list + 0x400);
        hba.Write(AhciDisk.PxCmd, AhciDisk.PxCmdFisReceive | AhciDisk.PxCmdStart);
        hba.Write(AhciDisk.PxIe, AhciDisk.PxIsSetDeviceBits | AhciDisk.PxIsTaskFileError);
        hba.Write(AhciDisk.Ghc, AhciDisk.GhcAhciEnable | AhciDisk.GhcInterruptEnable);
        RouteIrq(PlatformDevices.AhciIrq, DiskVector, levelTriggered: true);
        _ahci = new AhciState(list, tables);
    }

    private void AhciSubmit(KernelPath path, DiskRequest request, ulong lba)
    {
        AhciState ahci = _ahci!;
        int slot = ahci.FreeSlot();
        if (slot < 0)
        {
            ahci.Waiting.Enqueue((request, lba)); // all 32 tags busy: the block layer holds it, reads first
            return;
        }
        ulong? portLock = Smp && !ahci.LockHeld ? ahci.Lock(Memory) : null;
        if (portLock is { } taken)
        {
            path.SpinLockIrqSave(taken);
        }
        Issue(path, ahci, slot, request, lba);
        if (portLock is { } held)
        {
            path.SpinUnlockIrqRestore(held);
        }
    }

    /// <summary>ahci_qc_prep and ahci_qc_issue: the command written to memory, then PxSACT and PxCI.</summary>
    private void Issue(KernelPath path, AhciState ahci, int slot, DiskRequest request, ulong lba)
    {
        ulong header = ahci.CommandList + ((ulong)slot * AhciDisk.CommandHeaderBytes);
        ulong table = ahci.TableOf(slot);
        ulong writeBit = request.Write ? 1UL << 6 : 0;
        Memory.WriteUInt64(header, 5 | writeBit | (1UL << 16));           // CFL 5 dwords, W, PRDTL 1; PRDBC 0
        Memory.WriteUInt64(header + 8, table);                            // CTBA
        byte command = request.Write ? AhciDisk.WriteFpdmaQueued : AhciDisk.ReadFpdmaQueued;
        ulong count = (ulong)request.Sectors;
        Memory.WriteUInt64(table, AhciDisk.FisHostToDevice | (0x80UL << 8) | ((ulong)command << 16) | ((count & 0xFF) << 24) |
                                  ((lba & 0xFF_FFFF) << 32) | (0x40UL << 56));                       // C bit, LBA 23:0, device: LBA mode
        Memory.WriteUInt64(table + 8, ((lba >> 24) & 0xFF_FFFF) | (((count >> 8) & 0xFF) << 24) | ((ulong)slot << 35)); // LBA 47:24, tag in count 7:3
        Memory.WriteUInt64(table + AhciDisk.PrdtOffset, request.Buffer);                           // DBA
        Memory.WriteUInt64(table + AhciDisk.PrdtOffset + 8, (((ulong)request.Sectors * 512) - 1) << 32); // DBC
        path.Store(header).Store(table).Store(table + AhciDisk.PrdtOffset);
        uint bit = 1u << slot;
        path.Execute(Op.MmioWrite(PlatformDevices.AhciBase + AhciDisk.PxSact, bit))
            .Execute(Op.MmioWrite(PlatformDevices.AhciBase + AhciDisk.PxCi, bit));
        ahci.Slots[slot] = request;
        ahci.Outstanding |= bit;
    }

    /// <summary>The driver's PxSACT write has run: its tags are issued (<see cref="DeviceWriteRuns"/>).</summary>
    private void AhciTagsWritten(uint tags) => _ahci!.Issued |= tags;

    /// <summary>
    /// The interrupt, in three stages, each built after the registers it depends on were read:
    /// IS and PxIS; then PxIS cleared with the value read, and PxSACT; then every request whose
    /// PxSACT bit is clear completed, waiting requests issued, IS cleared, and the interrupt's end.
    /// </summary>
    private StagedStream AhciInterrupt(Core core, KernelPath path, bool preemptible)
    {
        const ulong Abar = PlatformDevices.AhciBase;
        path.Execute(Op.MmioRead(Abar + AhciDisk.Is)).Execute(Op.MmioRead(Abar + AhciDisk.PxIs));
        return new StagedStream(path.ToStream(), () =>
        {
            Enter(core); // each stage is built when the one before has run: other CPUs' traps may have come between
            AhciState ahci = _ahci!;
            ulong? portLock = Smp ? ahci.Lock(Memory) : null;
            KernelPath acknowledge = NewPath().Execute(Op.MmioWrite(Abar + AhciDisk.PxIs, core.LastReadValue));
            if (portLock is { } taken)
            {
                acknowledge.SpinLock(taken); // interrupts are off in the handler
            }
            acknowledge.Execute(Op.MmioRead(Abar + AhciDisk.PxSact));
            return new StagedStream.Stage(acknowledge.ToStream(), () =>
            {
                Enter(core);
                uint done = ahci.Issued & ~(uint)core.LastReadValue;
                KernelPath rest = NewPath();
                ahci.LockHeld = portLock is not null; // a completion that submits more I/O issues it under the lock the handler holds
                for (int slot = 0; slot < AhciDisk.Slots; slot++)
                {
                    if ((done & (1u << slot)) != 0)
                    {
                        DiskRequest request = ahci.Slots[slot]!;
                        ahci.Slots[slot] = null;
                        ahci.Outstanding &= ~(1u << slot);
                        ahci.Issued &= ~(1u << slot);
                        CompleteDisk(rest, request);
                    }
                }
                while (ahci.Waiting.Count > 0 && ahci.FreeSlot() is >= 0 and int free)
                {
                    (DiskRequest request, ulong lba) = ahci.Waiting.Dequeue();
                    Issue(rest, ahci, free, request, lba);
                }
                ahci.LockHeld = false;
                if (portLock is { } held)
                {
                    rest.SpinUnlock(held);
                }
                rest.Execute(Op.MmioWrite(Abar + AhciDisk.Is, 1));
                return new StagedStream.Stage(FinishInterrupt(core, rest, preemptible), null);
            });
        });
    }

    private sealed class AhciState(ulong commandList, ulong[] tables)
    {
        public ulong CommandList { get; } = commandList;

        public DiskRequest?[] Slots { get; } = new DiskRequest?[AhciDisk.Slots];

        private ulong _lock;

        /// <summary>Tags allocated to requests (the driver's qc_allocated): set as an issue is built, cleared at its completion.</summary>
        public uint Outstanding { get; set; }

        /// <summary>Tags whose PxSACT write has run (the driver's ap->qc_active as the handler sees it under the port's lock).</summary>
        public uint Issued { get; set; }

        /// <summary>While the interrupt handler's last stage is built: it holds the port's lock, which an issue it makes must not take again.</summary>
        public bool LockHeld { get; set; }

        /// <summary>The port's lock word (ap->lock), on a line of its own; allocated on an SMP kernel's first use.</summary>
        public ulong Lock(Sim.Models.Memory.PhysicalMemory memory) => _lock = _lock != 0 ? _lock : memory.AllocateFrame();

        public BlockQueue<(DiskRequest Request, ulong Lba)> Waiting { get; } = new(r => r.Request.Write);

        public int InFlight => System.Numerics.BitOperations.PopCount(Outstanding) + Waiting.Count;

        public ulong TableOf(int slot) => tables[slot / 16] + ((ulong)(slot % 16) * 256);

        /// <summary>The lowest free tag, as libata allocates them; -1 when all are busy.</summary>
        public int FreeSlot() => Outstanding == uint.MaxValue ? -1 : System.Numerics.BitOperations.TrailingZeroCount(~Outstanding);
    }
}
