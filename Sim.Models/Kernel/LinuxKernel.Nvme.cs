using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Platform;

namespace Sim.Models.Kernel;

/// <summary>
/// The NVMe driver, after Linux's nvme (drivers/nvme/host/pci.c): at boot the controller enabled
/// and an I/O queue pair made per CPU, whose MSI-X message goes to that CPU, as blk-mq maps a
/// hardware queue to each CPU; per request (nvme_queue_rq) the 64-byte command written at the
/// CPU's submission queue's tail and the tail written to its doorbell, up to the queue's depth, more
/// waiting in the kernel's queue; per interrupt (nvme_irq, nvme_process_cq) every completion
/// entry whose phase tag is the current one taken from memory and its request completed, the
/// waiting requests submitted, and the completion queue's head written to its doorbell: one
/// register write per request and one per interrupt, no read.
/// </summary>
public sealed partial class LinuxKernel
{
    private NvmeState? _nvme;

    /// <summary>Boot-time set-up (not timed): the controller enabled, and a queue pair per logical CPU of the platform in memory, its messages to that CPU.</summary>
    private void StartNvme()
    {
        NvmeController controller = _platform.Devices.Nvme!;
        controller.Write(NvmeController.Cc, 1); // EN
        int cpus = _platform.Devices.LogicalCpus;
        var queues = new NvmeQueue[cpus];
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            ulong submissions = Memory.AllocateContiguous((ulong)(NvmeController.QueueEntries * NvmeController.CommandBytes));
            ulong completions = Memory.AllocateContiguous((ulong)(NvmeController.QueueEntries * NvmeController.CompletionBytes));
            controller.CreateQueuePair(cpu + 1, submissions, completions, cpu, DiskVector);
            queues[cpu] = new NvmeQueue(cpu + 1, submissions, completions);
        }
        _nvme = new NvmeState(queues);
    }

    /// <summary>nvme_queue_rq on the current CPU's queue: the command at its tail, then the tail doorbell; the kernel's queue holds it when the queue is full.</summary>
    private void NvmeSubmit(KernelPath path, DiskRequest request, ulong lba)
    {
        NvmeQueue q = _nvme!.Queues[_this.Index];
        if (q.FreeId() is not (>= 0 and int id))
        {
            q.Waiting.Enqueue((request, lba));
            return;
        }
        NvmeIssue(path, q, id, request, lba);
    }

    private void NvmeIssue(KernelPath path, NvmeQueue q, int id, DiskRequest request, ulong lba)
    {
        ulong entry = q.Submissions + ((ulong)q.Tail * NvmeController.CommandBytes);
        Memory.WriteUInt64(entry, (request.Write ? NvmeController.WriteCommand : NvmeController.ReadCommand) | ((ulong)id << 16) | (1UL << 32)); // opcode, CID; NSID 1
        Memory.WriteUInt64(entry + 24, request.Buffer); // PRP1: one page, no list
        Memory.WriteUInt64(entry + 40, lba); // SLBA
        Memory.WriteUInt64(entry + 48, (ulong)(request.Sectors - 1)); // NLB, 0-based
        path.Store(entry); // the command fills one line
        q.Tail = (q.Tail + 1) % NvmeController.QueueEntries;
        q.Requests[id] = request;
        q.Outstanding++;
        path.Execute(Op.MmioWrite(SubmissionDoorbell(q), (ulong)q.Tail));
    }

    /// <summary>The interrupt on this CPU's queue: its completion entries taken by their phase, their requests completed, waiting requests submitted, the head doorbell written.</summary>
    private OpSequence NvmeInterrupt(Core core, KernelPath path, bool preemptible)
    {
        NvmeQueue q = _nvme!.Queues[_this.Index];
        int taken = 0;
        while (true)
        {
            ulong entry = q.Completions + ((ulong)q.Head * NvmeController.CompletionBytes);
            if (taken == 0 || entry % KernelObjects.LineBytes == 0)
            {
                path.Load(entry); // four entries a line
            }
            ulong dw23 = Memory.ReadUInt64(entry + 8);
            if ((int)((dw23 >> 48) & 1) != q.Phase)
            {
                break;
            }
            int id = (int)((dw23 >> 32) & 0xFFFF);
            DiskRequest request = q.Requests[id] ?? throw new InvalidOperationException($"NVMe queue {q.Id}: a completion for command {id}, which is not in flight.");
            q.Requests[id] = null;
            q.Outstanding--;
            q.Head++;
            if (q.Head == NvmeController.QueueEntries)
            {
                q.Head = 0;
                q.Phase ^= 1;
            }
            taken++;
            CompleteDisk(path, request);
        }
        if (taken > 0)
        {
            path.Execute(Op.MmioWrite(SubmissionDoorbell(q) + 4, (ulong)q.Head));
        }
        while (q.Waiting.Count > 0 && q.FreeId() is >= 0 and int free)
        {
            (DiskRequest request, ulong lba) = q.Waiting.Dequeue();
            NvmeIssue(path, q, free, request, lba);
        }
        return FinishInterrupt(core, path, preemptible);
    }

    private static ulong SubmissionDoorbell(NvmeQueue q) => PlatformDevices.NvmeBase + NvmeController.Doorbells + (8UL * (ulong)q.Id);

    private sealed class NvmeState(NvmeQueue[] queues)
    {
        /// <summary>The queue pairs, one per CPU in CPU order.</summary>
        public NvmeQueue[] Queues { get; } = queues;

        public int InFlight => Queues.Sum(q => q.InFlight);
    }

    private sealed class NvmeQueue(int id, ulong submissions, ulong completions)
    {
        public int Id { get; } = id;

        public ulong Submissions { get; } = submissions;

        public ulong Completions { get; } = completions;

        /// <summary>The requests by command identifier; a queue of N entries holds N - 1 commands (a full ring's tail would meet its head).</summary>
        public DiskRequest?[] Requests { get; } = new DiskRequest?[NvmeController.QueueEntries - 1];

        public int Tail { get; set; }

        public int Head { get; set; }

        /// <summary>The phase tag of the completion entries of this pass: 1 in the first.</summary>
        public int Phase { get; set; } = 1;

        public BlockQueue<(DiskRequest Request, ulong Lba)> Waiting { get; } = new(r => r.Request.Write);

        /// <summary>Commands written and not yet completed.</summary>
        public int Outstanding { get; set; }

        public int InFlight => Outstanding + Waiting.Count;

        /// <summary>The lowest free command identifier, or -1 when the queue is full.</summary>
        public int FreeId() => Array.IndexOf(Requests, null);
    }
}
