using Sim.Engine;
using Sim.Engine.Events;
using Sim.Engine.Statistics;
using Sim.Engine.Time;
using Sim.Models.Memory;

namespace Sim.Models.Devices;

/// <summary>
/// An NVM Express controller with one namespace on its medium (NVM Express Base Specification
/// 1.4): the controller registers (CAP, VS, CC, CSTS) and a submission and completion queue pair
/// per I/O queue, in host memory, with their doorbells at 0x1000 (SQyTDBL at 0x1000 + 8y, CQyHDBL
/// at 0x1000 + 8y + 4: CAP.DSTRD 0). The driver writes each command, 64 bytes (opcode, command
/// identifier, PRP1 for the data, starting LBA and block count), at its submission queue's tail and
/// then the tail to the doorbell: one register write, posted. The controller fetches the commands
/// up to the tail, queues each on the medium, and on its completion writes a 16-byte entry at the
/// completion queue's tail (the command identifier, the submission queue's head, the phase tag
/// that flips at each wrap) and sends the queue's MSI-X message to the CPU it targets. The driver
/// finds the entries by their phase, in memory, and writes the completion queue's head to its
/// doorbell: no register read on either path, against AHCI's three reads an interrupt.
/// </summary>
/// <remarks>
/// Model: the I/O queues are made at boot by <see cref="CreateQueuePair"/>, standing for the admin
/// queue's Create I/O Completion Queue and Create I/O Submission Queue commands (boot is not
/// timed); one namespace of 512-byte blocks; Read and Write only; no interrupt coalescing (the
/// controller's default); the command's fetch costs a fixed time (the platform's <see cref="PlatformTimings.CommandFetchNanoseconds"/>, as AHCI's); a
/// doorbell write that names a tail the controller has passed (a path built earlier whose write
/// runs later) changes nothing; data moves by DMA without touching the CPU caches.
/// </remarks>
public sealed class NvmeController : IMmioDevice
{
    public const ulong Cap = 0x00, Vs = 0x08, Cc = 0x14, Csts = 0x1C, Doorbells = 0x1000;
    public const ulong Size = 0x2000;
    public const int CommandBytes = 64, CompletionBytes = 16;

    /// <summary>Entries per I/O queue: Linux's nvme driver's default io_queue_depth (drivers/nvme/host/pci.c), within the DC P4500's MQES.</summary>
    public const int QueueEntries = 1024;

    /// <summary>The most I/O queues the model's register window holds (a doorbell pair each).</summary>
    public const int MostQueues = (int)((Size - Doorbells) / 8) - 1;

    /// <summary>The NVM command set's Write and Read opcodes.</summary>
    public const byte WriteCommand = 0x01, ReadCommand = 0x02;

    private readonly Simulator _sim;
    private readonly PhysicalMemory _memory;
    private readonly DiskImage _disk;
    private readonly int _accessCycles;
    private readonly Tick _commandFetch;
    private readonly Action<int, int> _message;
    private readonly List<QueuePair> _queues = [];
    private readonly Counter _commands;
    private readonly Counter _sectorsRead;
    private readonly Counter _sectorsWritten;
    private readonly Counter _accesses;
    private readonly Counter _interrupts;
    private readonly Counter _errors;
    private uint _cc;

    /// <param name="message">Sends an MSI-X message: the vector to the logical CPU.</param>
    public NvmeController(Simulator sim, string name, PhysicalMemory memory, DiskImage disk, int accessCycles, Tick commandFetch, Action<int, int> message)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(message);
        (_sim, Name, _memory, _disk, _accessCycles, _commandFetch, _message) = (sim, name, memory, disk, accessCycles, commandFetch, message);
        StatGroup stats = sim.Stats.Group(name);
        _commands = stats.Counter("commands", "count", "read and write commands");
        _sectorsRead = stats.Counter("sectors_read", "sectors", "sectors read by the host");
        _sectorsWritten = stats.Counter("sectors_written", "sectors", "sectors written by the host");
        _accesses = stats.Counter("accesses", "count", "register accesses");
        _interrupts = stats.Counter("interrupts", "count", "MSI-X messages sent");
        _errors = stats.Counter("errors", "count", "malformed commands completed with an error status");
    }

    public string Name { get; }

    /// <summary>The disk behind the controller: its namespace's blocks on a medium's queue.</summary>
    public DiskImage Disk => _disk;

    /// <summary>For a controller assigned to a guest: the time its DMA to an address takes through the IOMMU (null for a device of the host).</summary>
    public Func<ulong, Tick>? DmaTranslation { get; set; }

    /// <summary>Commands fetched and not yet completed, over every queue.</summary>
    public int InFlight => _queues.Sum(q => q.InFlight);

    /// <summary>
    /// Queue pair <paramref name="id"/> (1, 2, ...): its submission and completion queues of
    /// <see cref="QueueEntries"/> entries at <paramref name="submissions"/> and
    /// <paramref name="completions"/>, its MSI-X message <paramref name="vector"/> to logical CPU
    /// <paramref name="cpu"/>. Boot-time set-up, not timed.
    /// </summary>
    public void CreateQueuePair(int id, ulong submissions, ulong completions, int cpu, int vector)
    {
        if (id != _queues.Count + 1 || id > MostQueues)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"{Name}: I/O queues are made in order, 1 to {MostQueues}.");
        }
        var q = new QueuePair(id, submissions, completions, cpu, vector);
        q.Fetch = new CallbackEvent($"{Name}.sq{id}.fetch", () => FetchCommands(q), EventPriority.DeviceUpdate);
        q.Completed = command => Complete(q, command, error: false);
        _queues.Add(q);
    }

    public (ulong Value, int Cycles) Read(ulong offset)
    {
        _accesses.Increment();
        ulong value = offset switch
        {
            Cap => (ulong)(QueueEntries - 1) | (1UL << 16) | (40UL << 24), // MQES, CQR (contiguous queues), TO 20 s; DSTRD 0
            Vs => 0x0001_0400, // 1.4
            Cc => _cc,
            Csts => _cc & 1, // RDY follows EN at once: the model's controller has no reset to wait for
            _ => 0,
        };
        return (value, _accessCycles);
    }

    public int Write(ulong offset, ulong value)
    {
        _accesses.Increment();
        if (offset == Cc)
        {
            _cc = (uint)value;
        }
        else if (offset >= Doorbells && offset < Size && (offset - Doorbells) % 4 == 0)
        {
            int index = (int)((offset - Doorbells) / 4);
            int id = index / 2;
            if (id >= 1 && id <= _queues.Count && index % 2 == 0)
            {
                SubmissionTail(_queues[id - 1], (int)(value % QueueEntries));
            }
        }
        return _accessCycles;
    }

    /// <summary>The submission queue's tail doorbell: the commands up to it are fetched after the fetch time, unless it names a tail already passed.</summary>
    private void SubmissionTail(QueuePair q, int tail)
    {
        if ((_cc & 1) == 0)
        {
            throw new InvalidOperationException($"{Name}: a doorbell was written with CC.EN clear; the driver must enable the controller first.");
        }
        int pending = (q.Tail - q.Head + QueueEntries) % QueueEntries;
        int named = (tail - q.Head + QueueEntries) % QueueEntries;
        if (named <= pending)
        {
            return; // a doorbell built before another's and run after it: those commands are already on their way
        }
        q.Tail = tail;
        if (!q.Fetch!.Scheduled)
        {
            _sim.ScheduleIn(q.Fetch, _commandFetch);
        }
    }

    /// <summary>The controller reads each command up to the tail from memory and queues it on the medium.</summary>
    private void FetchCommands(QueuePair q)
    {
        while (q.Head != q.Tail)
        {
            ulong entry = q.Submissions + ((ulong)q.Head * CommandBytes);
            q.Head = (q.Head + 1) % QueueEntries;
            ulong dw0 = _memory.ReadUInt64(entry);
            ushort id = (ushort)(dw0 >> 16);
            byte opcode = (byte)dw0;
            ulong buffer = _memory.ReadUInt64(entry + 24); // PRP1
            ulong lba = _memory.ReadUInt64(entry + 40); // SLBA
            int count = (int)(_memory.ReadUInt64(entry + 48) & 0xFFFF) + 1; // NLB, 0-based
            q.InFlight++;
            if (opcode is not (ReadCommand or WriteCommand) || lba + (ulong)count > _disk.Sectors)
            {
                _errors.Increment();
                Complete(q, id, error: true);
                continue;
            }
            bool write = opcode == WriteCommand;
            Tick dma = DmaTranslation is { } translate ? translate(entry) + translate(buffer) : default;
            _commands.Increment();
            (write ? _sectorsWritten : _sectorsRead).Add(count);
            _sim.Schedule(q.DoneEvent(Name, id), _disk.Submit(lba, count, write, after: dma));
        }
    }

    /// <summary>A command is done: its completion entry written at the completion queue's tail with the phase tag, and the queue's message sent.</summary>
    private void Complete(QueuePair q, ushort id, bool error)
    {
        ulong entry = q.Completions + ((ulong)q.CompletionTail * CompletionBytes);
        _memory.WriteUInt64(entry, 0); // DW0-1: command specific
        ulong status = error ? 0x2UL : 0; // the status field (DW3 31:17): Invalid Field in Command, a generic status
        _memory.WriteUInt64(entry + 8, (ulong)(uint)q.Head | ((ulong)(uint)q.Id << 16) | ((ulong)id << 32) | ((ulong)(uint)q.Phase << 48) | (status << 49));
        q.CompletionTail++;
        if (q.CompletionTail == QueueEntries)
        {
            q.CompletionTail = 0;
            q.Phase ^= 1;
        }
        q.InFlight--;
        _interrupts.Increment();
        _message(q.Cpu, q.Vector);
    }

    private sealed class QueuePair(int id, ulong submissions, ulong completions, int cpu, int vector)
    {
        private readonly Dictionary<ushort, CallbackEvent> _done = [];

        public int Id { get; } = id;

        public ulong Submissions { get; } = submissions;

        public ulong Completions { get; } = completions;

        public int Cpu { get; } = cpu;

        public int Vector { get; } = vector;

        public CallbackEvent? Fetch { get; set; }

        /// <summary>What the controller does when a command of this queue is done on the medium.</summary>
        public Action<ushort> Completed { get; set; } = _ => { };

        /// <summary>
        /// Command <paramref name="id"/>'s completion event, made at its first use and used again by
        /// every later command with that identifier: a driver keeps identifiers unique among the
        /// commands in flight (NVMe 1.4, 4.2), so a command's end never allocates.
        /// </summary>
        public CallbackEvent DoneEvent(string controller, ushort id)
        {
            if (!_done.TryGetValue(id, out CallbackEvent? done))
            {
                _done[id] = done = new CallbackEvent($"{controller}.sq{Id}.cid{id}.done", () => Completed(id), EventPriority.DeviceUpdate);
            }
            return done.Scheduled ? throw new InvalidOperationException($"{controller}: command identifier {id} of queue {Id} is already in flight.") : done;
        }

        /// <summary>The next submission entry the controller reads, and the tail the driver last rang.</summary>
        public int Head { get; set; }

        public int Tail { get; set; }

        public int CompletionTail { get; set; }

        /// <summary>The phase tag the controller writes in this pass of the completion queue: 1 in the first.</summary>
        public int Phase { get; set; } = 1;

        public int InFlight { get; set; }
    }
}
