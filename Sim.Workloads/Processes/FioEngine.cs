namespace Sim.Workloads.Processes;

/// <summary>How a fio job issues its reads (fio's ioengine).</summary>
public enum FioEngine
{
    /// <summary>pread: one read in flight a job, the job asleep until it completes.</summary>
    Psync,

    /// <summary>Linux's native asynchronous I/O (io_submit, io_getevents): a queue of reads a job.</summary>
    Libaio,
}
