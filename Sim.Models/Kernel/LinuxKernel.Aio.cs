using Sim.Engine.Time;
using Sim.Models.Cpu;

namespace Sim.Models.Kernel;

/// <summary>
/// Native asynchronous I/O (fs/aio.c), as fio's libaio engine uses it on a block device opened
/// with O_DIRECT: io_setup makes the process's context and its ring; io_submit hands one read to
/// the block layer and returns at once; the request's end writes an event into the ring in the
/// completing interrupt and wakes the process if it waits for enough; io_getevents reads at least
/// min_nr and at most nr events, sleeping until min_nr are there. Each request's latency, from its
/// io_submit to the return of the io_getevents that read it, goes to block_latency, as a pread's does.
/// </summary>
public sealed partial class LinuxKernel
{
    /// <summary>io_setup(nr_events): the context and its ring; EINVAL for no events or a second context (the model keeps one a process).</summary>
    private void AioSetup(KernelPath path, Process p, long events)
    {
        if (events is <= 0 or > int.MaxValue / AioContext.EventBytes || p.Aio is not null)
        {
            p.Program.SyscallReturned(Einval);
            return;
        }
        _text.LayOutAioRoutines();
        path.Run(AioRoutine.Setup);
        var pages = new List<ulong>();
        for (int page = 0; page < AioContext.PagesFor((int)events); page++)
        {
            ulong frame = CachePageFrame(path, _this.Node);
            path.ZeroPage(frame);
            pages.Add(frame);
        }
        p.Aio = new AioContext(pages, (int)events);
        p.Program.SyscallReturned(0);
    }

    /// <summary>
    /// io_submit of one iocb reading 4 KiB at byte <paramref name="offset"/> of the disk: the read
    /// submitted (1 returned) without waiting; EINVAL with no context, EAGAIN when the context
    /// holds as many requests as its ring has events.
    /// </summary>
    private void AioSubmit(Core core, KernelPath path, Process p, ulong offset)
    {
        if (p.Aio is not { } context)
        {
            p.Program.SyscallReturned(Einval);
            return;
        }
        if (context.InFlight + context.Unread >= context.Capacity)
        {
            p.Program.SyscallReturned(Eagain);
            return;
        }
        path.Run(AioRoutine.SubmitOne);
        Tick submitted = core.LocalTime;
        context.InFlight++;
        var request = new DiskRequest(caller: null, 8, CachePageFrame(path, _this.Node), write: false,
            (end, buffer) => AioComplete(end, context, buffer, submitted), submitted);
        SubmitBlock(path, request, offset / 512);
        p.Program.SyscallReturned(1);
    }

    /// <summary>A request's end (in the completing CPU's interrupt): the event into the ring, the buffer freed, the waiter woken once it has its fewest events; it reads them when it runs.</summary>
    private void AioComplete(KernelPath path, AioContext context, ulong buffer, Tick submitted)
    {
        Release(path, buffer);
        if (context.Closed)
        {
            return; // exit_aio: the process is gone and nobody reads the event
        }
        path.Run(AioRoutine.Complete).Store(context.Push(submitted));
        if (context.Waiter is { } waiter && context.Unread >= waiter.Min)
        {
            context.Waiter = null;
            waiter.Process.OnSwitchIn += run => ReadEvents(run, waiter.Process, context, waiter.Max);
            waiter.Process.State = ProcessState.Ready;
            Wake(waiter.Process, path);
        }
    }

    /// <summary>
    /// io_getevents(min_nr, nr): at least min_nr events read, at most nr; the caller sleeps until
    /// min_nr have come. EINVAL with no context, a min_nr above nr, or a min_nr no request in flight
    /// could reach (Linux would wait for ever: the model says so instead).
    /// </summary>
    private void AioGetEvents(Core core, KernelPath path, Process p, long min, long max)
    {
        if (p.Aio is not { } context || min < 0 || max < Math.Max(1, min) || min > context.InFlight + context.Unread)
        {
            p.Program.SyscallReturned(Einval);
            return;
        }
        if (context.Unread >= min)
        {
            ReadEvents(path, p, context, (int)Math.Min(max, int.MaxValue));
            return;
        }
        context.Waiter = (p, (int)min, (int)Math.Min(max, int.MaxValue));
        p.State = ProcessState.Waiting;
        SwitchToNext(core, path);
    }

    /// <summary>aio_read_events_ring in the process's context: up to <paramref name="max"/> events read from the ring (a load a line of two) and returned; each request's latency ends at the call's return.</summary>
    private void ReadEvents(KernelPath path, Process p, AioContext context, int max)
    {
        path.Run(AioRoutine.ReadEvents);
        int read = Math.Min(max, context.Unread);
        for (int i = 0; i < read; i++)
        {
            (ulong address, Tick submitted) = context.Pop();
            if (i == 0 || address % KernelObjects.LineBytes == 0)
            {
                path.Load(address);
            }
            p.OnReturnToUser += t => _blockLatency.Record((long)((t - submitted).Picoseconds / 1000));
        }
        p.Program.SyscallReturned(read);
    }

    /// <summary>exit_aio: the context closed (requests still in flight end unread) and its ring's pages freed.</summary>
    private void AioExit(KernelPath path, Process dying)
    {
        if (dying.Aio is not { } context)
        {
            return;
        }
        context.Closed = true;
        foreach (ulong page in context.RingPages)
        {
            Release(path, page);
        }
        dying.Aio = null;
    }
}
