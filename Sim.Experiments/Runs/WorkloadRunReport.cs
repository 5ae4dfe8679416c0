using System.Globalization;
using System.Text;
using Sim.Engine.Statistics;
using Sim.Experiments.Output;
using Sim.Models.Cpu;
using Sim.Models.Virtualization;

namespace Sim.Experiments.Runs;

/// <summary>A native run as text for people and as one JSON object for scripts (the same facts in both).</summary>
public static class WorkloadRunReport
{
    /// <summary>The first run in full; with several runs (seeds), the figures of merit over them with 95% confidence intervals.</summary>
    public static string ToText(IReadOnlyList<WorkloadRunResult> runs, string description)
    {
        ArgumentNullException.ThrowIfNull(runs);
        WorkloadRunResult r = runs[0];
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"workload  {r.Workload}: {description}\n");
        sb.Append(ci, $"machine   {r.Profile}, {Architecture(r)}, seed {r.Seed}, size {r.Size:N0}\n\n");
        foreach (var m in r.FiguresOfMerit)
        {
            sb.Append(ci, $"{m.Name} = {m.Value:G6} {m.Unit}\n");
        }
        sb.Append(CutShort(r));
        if (runs.Count > 1)
        {
            sb.Append(ci, $"\nover {runs.Count} seeds ({runs[0].Seed} to {runs[^1].Seed}), mean and 95% confidence interval:\n");
            foreach ((string name, string unit, ReplicationSummary f) in OverSeeds(runs))
            {
                sb.Append(ci, $"{name} = {f.Mean:G6} {unit} (+/- {f.HalfWidth:G3})\n");
            }
            sb.Append("\nthe details below are of the first seed's run\n");
        }
        if (r.Guests.Count > 0)
        {
            sb.Append(ci, $"\n{r.Guests.Count} guests on {HostCores(r)} host core(s), each with its own workload; the details below are {r.Guests[0].Name}'s\n");
            sb.Append(ci, $"  {"guest",-7} {"workload",-18} {"first figure of merit",-44} {"ends at (ms)",12} {"descheduled",12}\n");
            foreach (GuestRow g in GuestRows(r))
            {
                sb.Append(ci, $"  {g.Name,-7} {g.Workload,-18} {g.Figure,-44} {g.EndMs,12:0.###} {Share(g),12}\n");
            }
            if (!r.Guests[0].IsContainer)
            {
                sb.Append(ci, $"  virtual CPU switches {r.Stat("host.hypervisor", "vcpu_switches"):N0}, of them preemptions {r.Stat("host.hypervisor", "vcpu_preemptions"):N0}\n");
            }
        }
        sb.Append(ci, $"\nsimulated time {r.Outcome.SimulatedSeconds * 1e3:0.###} ms, {r.Outcome.CoreCycles:N0} cycles, {r.Outcome.Instructions:N0} instructions, IPC {r.Ipc:0.###}\n");
        sb.Append(ci, $"{UserSystem(r)}\n\n");
        sb.Append("cycles by category:\n");
        foreach ((CycleCategory c, long cycles) in r.CyclesByCategory)
        {
            sb.Append(ci, $"  {c,-16} {100.0 * cycles / Math.Max(1, r.Outcome.CoreCycles),6:0.0}%  {cycles,16:N0}\n");
        }
        if (r.Exits.Count > 0)
        {
            sb.Append("\nVM exits:                      count           cycles   cycles/exit\n");
            foreach ((ExitReason reason, long count, long cycles) in r.Exits)
            {
                sb.Append(ci, $"  {reason,-22} {count,12:N0} {cycles,16:N0} {(double)cycles / count,13:N0}\n");
            }
        }
        if (DeviceBackend.All(r.Run.Samples) is { Count: > 0 } backends)
        {
            sb.Append(ci, $"\n{"device backends on the host:",-30} {"wake-ups",9} {"completions",12} {"cycles",14} {"polling",12} {"work per completion",20}\n");
            foreach (DeviceBackend b in backends)
            {
                sb.Append(ci, $"  {b.Thread,-28} {b.Wakeups,9:N0} {b.Completions,12:N0} {b.Cycles,14:N0} {b.PollCycles,12:N0} {b.CyclesPerCompletion,20:N0}\n");
            }
        }
        if (DeviceBackend.Trips(r.Run.Samples) is { } trips && trips.UserExits + trips.HostSystemCalls > 0)
        {
            sb.Append(ci, $"{trips.UserExits:N0} device accesses went to the user-space device model, {trips.HostSystemCalls:N0} host system calls did real I/O\n");
        }
        if (HostQueue.All(r.Run.Samples, r.HostSeconds) is { Count: > 0 } queues)
        {
            sb.Append(ci, $"\n{"device queues:",-30} {"requests",9} {"busy",7} {"mean depth",11} {"most",5} {"mean wait (us)",15} {"p99 wait (us)",14}\n");
            foreach (HostQueue q in queues)
            {
                sb.Append(ci, $"  {q.Queue,-28} {q.Requests,9:N0} {100 * q.BusyShare,6:0.0}% {q.MeanDepthText,11} {q.MostDepthText,5} {q.MeanWaitNs / 1e3,15:0.00} {q.P99WaitNs / 1e3,14:0.00}\n");
            }
        }
        if (r.FirstGuestCpus.Count > 1)
        {
            sb.Append(ci, $"\n{(r.Guests.Count > 0 ? r.Guests[0].Name : "the guest") + "'s virtual CPUs:",-26} {"steal",7} {"spin (cycles)",16} {"lost to preemption",20} {"PAUSE exits",13} {"migrations",11}\n");
            foreach (VcpuRow v in VcpuRows(r))
            {
                sb.Append(ci, $"  {v.Context,-24} {v.Steal,6:0.0}% {v.Spin,16:N0} {v.Lost,20:N0} {v.PauseExits,13:N0} {v.Migrations,11:N0}\n");
            }
        }
        if (VmHostMemory.All(r.Run.Samples) is { Count: > 0 } memoryRows)
        {
            sb.Append(ci, $"\n{"host memory of each VM:",-26} {"backed (MiB)",13} {"of (MiB)",9} {"EPT tables (KiB)",17} {"vCPU structures (KiB)",22} {"first touches",14}\n");
            foreach (VmHostMemory m in memoryRows)
            {
                sb.Append(ci, $"  {m.Vm,-24} {m.Backed / (1 << 20),13:N1} {m.Guest / (1 << 20),9:N0} {m.EptTables / 1024,17:N0} {m.Structures / 1024,22:N0} {m.FirstTouches,14:N0}\n");
            }
            foreach (VmHostMemory m in memoryRows.Where(m => m.HugeSplits + m.Refaults > 0 || m.Swapped is not null))
            {
                sb.Append(ci, $"  {RefaultLine(m)}\n");
            }
        }
        if (HugePages.All(r.Run.Samples) is { Count: > 0 } hugeRows)
        {
            sb.Append(ci, $"\n{"transparent huge pages:",-26} {"huge faults",12} {"fell back",10} {"splits",8} {"collapses",10}\n");
            foreach (HugePages h in hugeRows)
            {
                sb.Append(ci, $"  {h.Kernel + "'s kernel",-24} {h.Faults,12:N0} {h.Fallbacks,10:N0} {h.Splits,8:N0} {h.Collapses,10:N0}\n");
            }
        }
        if (Swapping.All(r.Run.Samples) is { Count: > 0 } swapRows)
        {
            sb.Append(ci, $"\n{"swap:",-26} {"pages out",10} {"pages in",10} {"major faults",13} {"median (us)",12} {"p99 (us)",10} {"waits for writes",17}\n");
            foreach (Swapping w in swapRows)
            {
                sb.Append(ci, $"  {(w.Kernel == Swapping.HostGuestMemory ? w.Kernel : w.Kernel + "'s kernel"),-24} {w.PagesOut,10:N0} {w.PagesIn,10:N0} {w.MajorFaults,13:N0} {w.MedianMajorFaultNs / 1000,12:N1} {w.P99MajorFaultNs / 1000,10:N1} {w.WritebackWaits,17:N0}\n");
            }
        }
        if (PageMerging.Of(r.Run.Samples) is { } ksm)
        {
            sb.Append(ci, $"\npage merging (KSM): {ksm.PagesShared:N0} shared pages hold {ksm.PagesShared + ksm.PagesSharing:N0} guest pages, saving {ksm.SavedBytes / (1 << 20):N1} MiB; {ksm.CowBreaks:N0} writes broke a page's sharing\n");
            sb.Append(ci, $"  ksmd scanned {ksm.PagesScanned:N0} pages in {ksm.FullScans:N0} full passes: {ksm.ScanCycles:N0} host cycles, {ksm.CyclesPerPage:N0} per page\n");
        }
        if (ContainerHostMemory.All(r.Run.Samples) is { Count: > 0 } containerRows)
        {
            sb.Append(ci, $"\n{"host memory of each container:",-30} {"peak (MiB)",11} {"of it page cache",17} {"at the end (MiB)",17} {"of it page cache",17}\n");
            foreach (ContainerHostMemory m in containerRows)
            {
                sb.Append(ci, $"  {m.Container,-28} {m.PeakCharged / (1 << 20),11:N2} {m.PeakCache / (1 << 20),17:N2} {m.Charged / (1 << 20),17:N2} {m.Cache / (1 << 20),17:N2}\n");
            }
        }
        if (r.HostCpuUtilization.Count > 0)
        {
            sb.Append(ci, $"\nhost CPUs busy: {string.Join("  ", r.HostCpuUtilization.Select((u, i) => string.Create(ci, $"cpu{i} {100 * u:0.0}%")))}\n");
        }
        sb.Append(ci, $"binding resource: {BindingResource.Of(r).Summary()}\n");
        if (r.EmulatedAccesses is { PerBlockRequest: { } perRequest })
        {
            sb.Append(ci, $"\nemulated register accesses per disk request: {perRequest:0.##}\n");
        }
        if (r.EmulatedAccesses is { PerPacket: { } perPacket })
        {
            sb.Append(ci, $"emulated register accesses per network packet: {perPacket:0.##}\n");
        }
        if (r.Interceptions.Count > 0)
        {
            sb.Append("\nguest kernel instructions the monitor intercepted:\n");
            foreach ((Instruction i, long count) in r.Interceptions)
            {
                sb.Append(ci, $"  {InstructionTable.Of(i).Mnemonic,-22} {count,12:N0}\n");
            }
        }
        if (Translator(r) is { } translator)
        {
            sb.Append(ci, $"\nbinary translator: {translator}\n");
        }
        if (r.Holes.Count > 0 && !r.Axes.IsNative)
        {
            sb.Append("\nvirtualization holes (sensitive instructions that ran at CPL 3 without a fault, so misbehaved silently):\n");
            foreach ((Instruction i, long count) in r.Holes)
            {
                sb.Append(ci, $"  {InstructionTable.Of(i).Mnemonic,-22} {count,12:N0}\n");
            }
        }
        sb.Append("\nTLBs and page walks:\n");
        foreach ((string name, double value) in TlbFigures(r))
        {
            sb.Append(ci, $"  {name,-22} {value,16:N0}\n");
        }
        sb.Append("\ncaches (hits / misses):\n");
        foreach ((string name, double hits, double misses) in CacheFigures(r))
        {
            sb.Append(ci, $"  {name,-6} {hits,16:N0} / {misses:N0}  ({100.0 * hits / Math.Max(1, hits + misses):0.0}% hits)\n");
        }
        Latency[] latencies = [.. Latencies(r)];
        if (latencies.Length > 0)
        {
            sb.Append("\nlatencies (us):          count       mean        p50        p90        p99\n");
            foreach (Latency l in latencies)
            {
                sb.Append(ci, $"  {l.Name,-16} {l.Count,12:N0} {l.MeanUs,10:0.##} {l.P50Us,10:0.##} {l.P90Us,10:0.##} {l.P99Us,10:0.##}\n");
            }
        }
        return sb.ToString();
    }

    private static Dictionary<string, object> BindingJson(BindingResource binding) => new()
    {
        ["binding"] = binding.Binding ?? "none",
        ["bottleneck"] = binding.Bottleneck?.Resource ?? "none",
        ["saturated"] = binding.IsSaturated,
        ["resources"] = binding.Resources.ToDictionary(u => u.Resource, u => (object)new Dictionary<string, object> { ["kind"] = u.Kind, ["busy"] = u.Utilization }),
    };

    /// <summary>The run's device queues, when it has any (docs/virtualization.md, "Shared host devices").</summary>
    private static void AppendQueues(StringBuilder md, WorkloadRunResult r)
    {
        CultureInfo ci = CultureInfo.InvariantCulture;
        if (HostQueue.All(r.Run.Samples, r.HostSeconds) is not { Count: > 0 } queues)
        {
            return;
        }
        md.Append("\n| device queue | requests | device busy | mean depth | most in the device | mean wait (us) | p99 wait (us) |\n|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (HostQueue q in queues)
        {
            md.Append(ci, $"| {q.Queue} | {q.Requests:N0} | {100 * q.BusyShare:0.0}% | {q.MeanDepthText} | {q.MostDepthText} | {q.MeanWaitNs / 1e3:0.00} | {q.P99WaitNs / 1e3:0.00} |\n");
        }
    }

    /// <summary>The run's device backend threads and its trips to a user-space device model, when it has any (docs/virtualization.md, "Backend threads").</summary>
    private static void AppendBackends(StringBuilder md, WorkloadRunResult r)
    {
        CultureInfo ci = CultureInfo.InvariantCulture;
        IReadOnlyList<DeviceBackend> backends = DeviceBackend.All(r.Run.Samples);
        (long userExits, long systemCalls) = DeviceBackend.Trips(r.Run.Samples);
        if (backends.Count == 0 && userExits + systemCalls == 0)
        {
            return;
        }
        md.Append(ci, $"\n{userExits:N0} device accesses went to the user-space device model (a return from KVM_RUN each) and {systemCalls:N0} host system calls did real I/O.\n");
        if (backends.Count > 0)
        {
            md.Append("\n| device backend on the host | wake-ups | completions | cycles | of them polling | work cycles per completion | share of the run's cycles |\n|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (DeviceBackend b in backends)
            {
                md.Append(ci, $"| {b.Thread} | {b.Wakeups:N0} | {b.Completions:N0} | {b.Cycles:N0} | {b.PollCycles:N0} | {b.CyclesPerCompletion:N0} | {100.0 * b.Cycles / Math.Max(1, r.Outcome.CoreCycles):0.0}% |\n");
            }
        }
    }

    /// <summary>The run as a short Markdown report that embeds the cycles chart (cycles.png beside it) and the latency chart, unless <paramref name="plots"/> is false (no pictures written).</summary>
    public static string ToMarkdown(IReadOnlyList<WorkloadRunResult> runs, string description, bool plots = true)
    {
        ArgumentNullException.ThrowIfNull(runs);
        WorkloadRunResult r = runs[0];
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(ci, $"# {r.Workload} on {r.Profile} ({Architecture(r)})\n\n{description}. Seed {r.Seed}, size {r.Size:N0}.\n\n");
        md.Append("| figure of merit | value | unit |\n|---|---:|---|\n");
        foreach (var m in r.FiguresOfMerit)
        {
            md.Append(ci, $"| {m.Name} | {m.Value:G6} | {m.Unit} |\n");
        }
        md.Append(CutShort(r).Length > 0 ? "\n" + CutShort(r) : "");
        if (runs.Count > 1)
        {
            md.Append(ci, $"\nOver {runs.Count} seeds ({runs[0].Seed} to {runs[^1].Seed}):\n\n| figure of merit | mean | 95% confidence interval | unit |\n|---|---:|---|---|\n");
            foreach ((string name, string unit, ReplicationSummary f) in OverSeeds(runs))
            {
                md.Append(ci, $"| {name} | {f.Mean:G6} | {f.Lower:G6} to {f.Upper:G6} | {unit} |\n");
            }
            md.Append("\nThe rest is the first seed's run.\n");
        }
        if (r.Guests.Count > 0)
        {
            md.Append(ci, $"\n{r.Guests.Count} guests on {HostCores(r)} host core(s), each with its own workload; the rest is {r.Guests[0].Name}'s.\n\n");
            md.Append("| guest | workload | first figure of merit | ends at (ms) | descheduled |\n|---|---|---|---:|---:|\n");
            foreach (GuestRow g in GuestRows(r))
            {
                md.Append(ci, $"| {g.Name} | {g.Workload} | {g.Figure} | {g.EndMs:0.###} | {Share(g)} |\n");
            }
        }
        md.Append(ci, $"\nSimulated time {r.Outcome.SimulatedSeconds * 1e3:0.###} ms: {r.Outcome.CoreCycles:N0} cycles, {r.Outcome.Instructions:N0} instructions, IPC {r.Ipc:0.###}; {UserSystem(r)}.\n\n");
        md.Append(plots ? "![cycles by category](cycles.png)\n\n" : "").Append("| category | cycles | share |\n|---|---:|---:|\n");
        foreach ((CycleCategory c, long cycles) in r.CyclesByCategory.Where(c => c.Value > 0))
        {
            md.Append(ci, $"| {c} | {cycles:N0} | {100.0 * cycles / Math.Max(1, r.Outcome.CoreCycles):0.0}% |\n");
        }
        CpuRow[] cpus = [.. CpuRows(r)];
        if (cpus.Length > 1)
        {
            bool numa = r.Run.Samples.Any(s => s.Path == "host.socket1.memory_controller");
            md.Append("\nThe host's CPUs over the whole run (where an interrupt CPU or an uneven placement binds")
                .Append(numa ? "; local memory: the share of the CPU's demand misses to memory that its own socket's memory served" : "")
                .Append("):\n\n| CPU | busy | user | system | idle |").Append(numa ? " local memory |\n|---|---:|---:|---:|---:|---:|\n" : "\n|---|---:|---:|---:|---:|\n");
            foreach (CpuRow c in cpus)
            {
                md.Append(ci, $"| {c.Index} | {c.Busy:0.0}% | {c.User:0.0}% | {c.Busy - c.User:0.0}% | {100 - c.Busy:0.0}% |")
                    .Append(numa ? (c.LocalMemory is { } local ? string.Create(ci, $" {local:0.0}% |") : " n/a |") : "").Append('\n');
            }
        }
        if (BusiestLink(r) is { } link)
        {
            md.Append(ci, $"\nThe busiest network link, `{link.Path}`, carried frames {link.ToPeer:0.0}% of the run towards the peer and {link.ToNic:0.0}% towards the machine (preamble and gap included; a share near the part of the run the load lasted means the link, not the machine, binds).\n");
        }
        if (r.Exits.Count > 0)
        {
            md.Append("\n| VM exit reason | count | cycles | cycles per exit |\n|---|---:|---:|---:|\n");
            foreach ((ExitReason reason, long count, long cycles) in r.Exits)
            {
                md.Append(ci, $"| {reason} | {count:N0} | {cycles:N0} | {(double)cycles / count:N0} |\n");
            }
        }
        AppendBackends(md, r);
        AppendQueues(md, r);
        if (r.FirstGuestCpus.Count > 1)
        {
            md.Append("\n| virtual CPU (its context) | steal | spin (cycles) | lost to preemption | PAUSE exits | migrations |\n|---|---:|---:|---:|---:|---:|\n");
            foreach (VcpuRow v in VcpuRows(r))
            {
                md.Append(ci, $"| {v.Context} | {v.Steal:0.0}% | {v.Spin:N0} | {v.Lost:N0} | {v.PauseExits:N0} | {v.Migrations:N0} |\n");
            }
        }
        if (VmHostMemory.All(r.Run.Samples) is { Count: > 0 } memoryRows)
        {
            md.Append("\n| VM | host memory backed (MiB) | of (MiB) | EPT tables (KiB) | vCPU structures (KiB) | first touches |\n|---|---:|---:|---:|---:|---:|\n");
            foreach (VmHostMemory m in memoryRows)
            {
                md.Append(ci, $"| {m.Vm} | {m.Backed / (1 << 20):N1} | {m.Guest / (1 << 20):N0} | {m.EptTables / 1024:N0} | {m.Structures / 1024:N0} | {m.FirstTouches:N0} |\n");
            }
            foreach (VmHostMemory m in memoryRows.Where(m => m.HugeSplits + m.Refaults > 0 || m.Swapped is not null))
            {
                md.Append(ci, $"\n{RefaultLine(m)}.\n");
            }
        }
        if (HugePages.All(r.Run.Samples) is { Count: > 0 } hugeRows)
        {
            md.Append("\n| kernel | huge page faults | fell back to 4 KiB | huge pages split | ranges collapsed |\n|---|---:|---:|---:|---:|\n");
            foreach (HugePages h in hugeRows)
            {
                md.Append(ci, $"| {h.Kernel} | {h.Faults:N0} | {h.Fallbacks:N0} | {h.Splits:N0} | {h.Collapses:N0} |\n");
            }
        }
        if (Swapping.All(r.Run.Samples) is { Count: > 0 } swapRows)
        {
            md.Append("\n| kernel | pages to swap | pages from swap | major faults | their median (us) | their p99 (us) | faults that waited for writes |\n|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (Swapping w in swapRows)
            {
                md.Append(ci, $"| {w.Kernel} | {w.PagesOut:N0} | {w.PagesIn:N0} | {w.MajorFaults:N0} | {w.MedianMajorFaultNs / 1000:N1} | {w.P99MajorFaultNs / 1000:N1} | {w.WritebackWaits:N0} |\n");
            }
        }
        if (PageMerging.Of(r.Run.Samples) is { } ksm)
        {
            md.Append("\n| page merging (KSM) | value |\n|---|---:|\n");
            md.Append(ci, $"| shared pages (KSM pages) | {ksm.PagesShared:N0} |\n| guest pages on them | {ksm.PagesShared + ksm.PagesSharing:N0} |\n| saved (MiB) | {ksm.SavedBytes / (1 << 20):N1} |\n");
            md.Append(ci, $"| writes that broke a sharing | {ksm.CowBreaks:N0} |\n| pages scanned | {ksm.PagesScanned:N0} |\n| full passes | {ksm.FullScans:N0} |\n");
            md.Append(ci, $"| ksmd's host cycles | {ksm.ScanCycles:N0} |\n| per page scanned | {ksm.CyclesPerPage:N0} |\n");
        }
        if (ContainerHostMemory.All(r.Run.Samples) is { Count: > 0 } containerRows)
        {
            md.Append("\n| container | host memory at its peak (MiB) | of it page cache (MiB) | at the end (MiB) | of it page cache (MiB) |\n|---|---:|---:|---:|---:|\n");
            foreach (ContainerHostMemory m in containerRows)
            {
                md.Append(ci, $"| {m.Container} | {m.PeakCharged / (1 << 20):N2} | {m.PeakCache / (1 << 20):N2} | {m.Charged / (1 << 20):N2} | {m.Cache / (1 << 20):N2} |\n");
            }
        }
        BindingResource binding = BindingResource.Of(r);
        if (binding.Resources.Count > 0)
        {
            md.Append(ci, $"\nBinding resource: {binding.Summary()}.\n\n| host resource | kind | busy |\n|---|---|---:|\n");
            foreach (ResourceUse u in binding.Resources)
            {
                md.Append(ci, $"| {u.Resource} | {u.Kind} | {100 * u.Utilization:0.0}% |\n");
            }
        }
        if (Translator(r) is { } translator)
        {
            md.Append(ci, $"\nBinary translator: {translator}.\n");
        }
        if (r.Holes.Count > 0 && !r.Axes.IsNative)
        {
            md.Append("\n| virtualization hole (ran at CPL 3, misbehaved silently) | count |\n|---|---:|\n");
            foreach ((Instruction i, long count) in r.Holes)
            {
                md.Append(ci, $"| {InstructionTable.Of(i).Mnemonic} | {count:N0} |\n");
            }
        }
        Latency[] latencies = [.. Latencies(r)];
        if (latencies.Length > 0)
        {
            md.Append(plots ? $"\n![{Output.LatencyChart.Subject(r)}](latency.png)\n" : "").Append("\n| latency (us) | count | mean | p50 | p90 | p99 |\n|---|---:|---:|---:|---:|---:|\n");
            foreach (Latency l in latencies)
            {
                md.Append(ci, $"| {l.Name} | {l.Count:N0} | {l.MeanUs:0.##} | {l.P50Us:0.##} | {l.P90Us:0.##} | {l.P99Us:0.##} |\n");
            }
        }
        md.Append("\nEvery statistic of the machine is in `stats.csv`; the scenario in `scenario.json`; how and where it ran in `manifest.json`.\n");
        return md.ToString();
    }

    public static string ToJson(IReadOnlyList<WorkloadRunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        WorkloadRunResult r = runs[0];
        var o = new Dictionary<string, object>
        {
            ["workload"] = r.Workload,
            ["profile"] = r.Profile,
            ["architecture"] = new Dictionary<string, object>
            {
                ["cpu"] = AxisNames.Of(r.Axes.Cpu), ["mmu"] = AxisNames.Of(r.Axes.Mmu), ["io"] = AxisNames.Of(r.Axes.Io), ["hosting"] = AxisNames.Of(r.Axes.Hosting),
            },
            ["seed"] = r.Seed,
            ["size"] = r.Size,
            ["figures_of_merit"] = Figures(r.FiguresOfMerit),
            ["time_limit_reached_ms"] = r.TimeLimit is { } limit ? limit.Picoseconds / 1e9 : "no",
            ["unfinished_guests"] = r.Unfinished,
            ["simulated_seconds"] = r.Outcome.SimulatedSeconds,
            ["cycles"] = r.Outcome.CoreCycles,
            ["instructions"] = r.Outcome.Instructions,
            ["ipc"] = r.Ipc,
            ["system_time_share"] = r.Outcome.SystemTimeShare,
            ["cycles_by_category"] = r.CyclesByCategory.ToDictionary(k => k.Key.ToString(), k => k.Value),
            ["tlb"] = TlbFigures(r).ToDictionary(k => k.Name, k => k.Value),
            ["caches"] = CacheFigures(r).ToDictionary(k => k.Name, k => new Dictionary<string, double> { ["hits"] = k.Hits, ["misses"] = k.Misses }),
            ["vm_exits"] = r.Exits.ToDictionary(e => e.Reason.ToString(), e => new Dictionary<string, long> { ["count"] = e.Count, ["cycles"] = e.Cycles }),
            ["binding_resource"] = BindingJson(BindingResource.Of(r)),
            ["emulated_accesses_per_disk_request"] = (object?)r.EmulatedAccesses.PerBlockRequest ?? "none",
            ["emulated_accesses_per_packet"] = (object?)r.EmulatedAccesses.PerPacket ?? "none",
            ["monitor_interceptions"] = r.Interceptions.ToDictionary(e => InstructionTable.Of(e.Instruction).Mnemonic, e => e.Count),
            ["virtualization_holes"] = r.Axes.IsNative ? new Dictionary<string, long>() : r.Holes.ToDictionary(e => InstructionTable.Of(e.Instruction).Mnemonic, e => e.Count),
            ["latencies_us"] = Latencies(r).ToDictionary(l => l.Name, l => new Dictionary<string, double>
            {
                ["count"] = l.Count, ["mean"] = l.MeanUs, ["p50"] = l.P50Us, ["p90"] = l.P90Us, ["p99"] = l.P99Us,
            }),
        };
        if (r.Guests.Count > 0)
        {
            o["host_cores"] = HostCores(r);
            o["guests"] = GuestRows(r).Zip(r.Guests, (g, guest) => new Dictionary<string, object?>
            {
                ["name"] = g.Name, ["workload"] = g.Workload, ["figure_of_merit"] = g.Merit.Name, ["value"] = Finite(g.Merit.Value), ["unit"] = g.Merit.Unit, ["ends_at_ms"] = g.EndMs,
                ["descheduled_percent"] = (object?)g.DescheduledShare ?? "n/a",
                ["figures_of_merit"] = Figures(guest.FiguresOfMerit),
            }).ToArray();
        }
        if (runs.Count > 1)
        {
            o["over_seeds"] = new Dictionary<string, object>
            {
                ["runs"] = runs.Count,
                ["figures_of_merit"] = OverSeeds(runs).Select(f => new Dictionary<string, object?>
                {
                    ["name"] = f.Name, ["unit"] = f.Unit, ["mean"] = Finite(f.Summary.Mean), ["ci95_low"] = Finite(f.Summary.Lower), ["ci95_high"] = Finite(f.Summary.Upper),
                }).ToArray(),
            };
        }
        return JsonText.Of(o);
    }

    /// <summary>Each figure of merit over the runs: mean and Student-t 95% interval (MathNet.Numerics, through <see cref="ReplicationSummary"/>).</summary>
    public static IReadOnlyList<(string Name, string Unit, ReplicationSummary Summary)> OverSeeds(IReadOnlyList<WorkloadRunResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return [.. runs[0].FiguresOfMerit.Select((m, i) => (m.Name, m.Unit, ReplicationSummary.Of([.. runs.Select(r => r.FiguresOfMerit[i].Value)])))];
    }

    private static IEnumerable<(string Name, double Value)> TlbFigures(WorkloadRunResult r)
    {
        foreach (string s in new[] { "l1_hits", "l1_misses", "stlb_hits", "stlb_misses", "walks", "walk_references", "walk_cycles", "faults" })
        {
            yield return (s, r.Stat("host.cpu0.tlb", s));
        }
    }

    private static IEnumerable<(string Name, double Hits, double Misses)> CacheFigures(WorkloadRunResult r)
    {
        foreach ((string name, string path) in new[] { ("l1i", "host.cpu0.l1i"), ("l1d", "host.cpu0.l1d"), ("l2", "host.cpu0.l2"), ("l3", "host.l3") })
        {
            if (r.Run.Samples.Any(s => s.Path == path))
            {
                yield return (name, r.Stat(path, "hits"), r.Stat(path, "misses"));
            }
        }
    }

    /// <summary>
    /// The latencies of the run, in microseconds: the response times a service's open-loop client
    /// measured, then the kernel's histograms that recorded anything and are a latency (disk
    /// requests; request-response round trips, but not a server's, which are its idle time).
    /// </summary>
    private static IEnumerable<Latency> Latencies(WorkloadRunResult r)
    {
        if (r.ResponseMicroseconds is { Count: > 0 } times)
        {
            double Rank(double p) => times[Math.Max(0, (int)Math.Ceiling(p * times.Count) - 1)];
            yield return new Latency("response", times.Count, times.Average(), Rank(0.50), Rank(0.90), Rank(0.99));
        }
        foreach (string name in Output.LatencyChart.Histograms(r))
        {
            double Us(string statistic) => r.Stat(r.KernelPath, name + "::" + statistic) / 1000;
            yield return new Latency(name, (long)r.Stat(r.KernelPath, name + "::count"), Us("mean"), Us("p50"), Us("p90"), Us("p99"));
        }
    }

    /// <summary>Each guest of a consolidated run: its first figure of merit, when its workload ended, and for a virtual machine the share of that time it waited for its core.</summary>
    private static IEnumerable<GuestRow> GuestRows(WorkloadRunResult r) =>
        r.Guests.Select(g => new GuestRow(g.Name, g.Workload, g.FiguresOfMerit[0], g.Outcome.SimulatedSeconds * 1e3,
            g.IsContainer ? null : 100.0 * g.CyclesByCategory[CycleCategory.Descheduled] / Math.Max(1, g.Outcome.CoreCycles)));

    /// <summary>
    /// Each host CPU's time over the whole run, in percent of its cycles: busy (neither idle nor
    /// descheduled), and of that the user-mode part (<c>user_mode_cycles</c>), and the share of its
    /// memory-served accesses that its own socket served (<c>served_by</c>); none for a run of one CPU.
    /// </summary>
    private static IEnumerable<CpuRow> CpuRows(WorkloadRunResult r)
    {
        Dictionary<string, double> values = r.Run.Samples.Where(s => s.Path.StartsWith("host.cpu", StringComparison.Ordinal))
            .ToDictionary(s => s.Path + "/" + s.Statistic, s => s.Value, StringComparer.Ordinal);
        for (int i = 0; values.TryGetValue($"host.cpu{i}/cycles::total", out double total) && total > 0; i++)
        {
            double Part(string statistic) => values.GetValueOrDefault($"host.cpu{i}/{statistic}") / total * 100;
            double local = values.GetValueOrDefault($"host.cpu{i}.memory/served_by::Dram"), remote = values.GetValueOrDefault($"host.cpu{i}.memory/served_by::RemoteDram");
            yield return new CpuRow(i, 100 - Part("cycles::Idle") - Part("cycles::Descheduled"), Part("user_mode_cycles"), local + remote > 0 ? local / (local + remote) * 100 : null);
        }
    }

    /// <param name="LocalMemory">Of the CPU's demand accesses that memory served, the share its own socket's memory served (percent); null without any.</param>
    private readonly record struct CpuRow(int Index, double Busy, double User, double? LocalMemory);

    /// <summary>The link that was busiest towards the peer over the whole run, in percent of the run each way; null without one that carried a frame.</summary>
    private static LinkRow? BusiestLink(WorkloadRunResult r)
    {
        double runNs = r.Run.SimulatedTime.Picoseconds / 1000.0;
        return runNs <= 0 ? null : r.Run.Samples
            .Where(s => s.Statistic == "line_ns_to_peer" && s.Value > 0)
            .Select(s => new LinkRow(s.Path, s.Value / runNs * 100, r.Run.Value(s.Path, "line_ns_to_nic") / runNs * 100))
            .OrderByDescending(l => l.ToPeer).ThenBy(l => l.Path, StringComparer.Ordinal)
            .Cast<LinkRow?>().FirstOrDefault();
    }

    private readonly record struct LinkRow(string Path, double ToPeer, double ToNic);

    /// <summary>
    /// The first guest's virtual CPUs, each by the context it ran in: its steal time (the share of
    /// its cycles it waited for its physical core), the cycles it spun for kernel spinlocks, those
    /// of them spent while the lock waited for a descheduled virtual CPU, its PAUSE-loop exits, and
    /// its moves to another core by the load balancer (0 where there is none to move it).
    /// </summary>
    /// <summary>What split regions and zapped entries cost a VM: its pages mapped again one by one, and with host swap its memory in swap.</summary>
    private static string RefaultLine(VmHostMemory m) => m.Swapped is { } swapped
        ? string.Create(CultureInfo.InvariantCulture, $"{m.Vm}: {swapped / (1 << 20):N1} MiB in the host's swap at the end, {m.Refaults:N0} pages mapped again after host reclaim zapped their EPT entries to age them")
        : string.Create(CultureInfo.InvariantCulture, $"{m.Vm}: {m.HugeSplits:N0} of the host's 2 MiB regions split, {m.Refaults:N0} pages of them mapped again one by one");

    private static IEnumerable<VcpuRow> VcpuRows(WorkloadRunResult r) =>
        r.FirstGuestCpus.Select((c, i) =>
        {
            // Named by its number in the guest; the first guest's first virtual CPUs run in the
            // machine's own core contexts (host.cpuN), where their statistics are kept.
            return new VcpuRow($"vcpu{i} ({c})", 100 * r.Stat(c, "cycles::" + CycleCategory.Descheduled) / Math.Max(1, r.Stat(c, "cycles::total")), r.Stat(c, "lock_spin_cycles"),
                r.Stat(c, "lock_spin_preempted_cycles"), r.Stat(c, "vm_exits::" + ExitReason.Pause), r.Stat(c, "vcpu_migrations"));
        });

    private readonly record struct VcpuRow(string Context, double Steal, double Spin, double Lost, double PauseExits, double Migrations);

    /// <summary>The host's physical cores: the cores with statistics of their own (host.cpuN).</summary>
    private static int HostCores(WorkloadRunResult r) =>
        r.Run.Samples.Where(s => s.Statistic == "instructions" && s.Path.StartsWith("host.cpu", StringComparison.Ordinal)).Select(s => s.Path).Distinct().Count();

    /// <summary>A binary-translating monitor's work in a sentence (docs/virtualization.md, "Binary translation"), or null for the other monitors.</summary>
    private static string? Translator(WorkloadRunResult r)
    {
        if (r.Axes.Cpu != CpuVirtualization.BinaryTranslation)
        {
            return null;
        }
        double Stat(string name) => r.Stat("host.monitor.translation_cache", name);
        double lines = Stat("translations");
        double perLine = r.CyclesByCategory[CycleCategory.Translation] / Math.Max(1, lines);
        return string.Create(CultureInfo.InvariantCulture,
            $"{lines:N0} kernel code lines translated ({perLine:N0} cycles of translation and chaining a line), {Stat("chains"):N0} jumps chained, {Stat("lookups"):N0} indirect targets looked up, "
            + $"{Stat("retranslations"):N0} lines adapted and {Stat("adapted_writes"):N0} writes called out by them, {Stat("invalidations"):N0} translations dropped for code writes, {Stat("flushes"):N0} cache flushes");
    }

    /// <summary>"native", or the virtualization axes.</summary>
    private static string Architecture(WorkloadRunResult r) => r.Axes.IsNative ? "native" : r.Axes.ToString();

    /// <summary>The busy cycles split as <c>time</c> splits them: user-mode code (its stalls and walks included) and the rest.</summary>
    private static string UserSystem(WorkloadRunResult r) => double.IsNaN(r.Outcome.SystemTimeShare) ? "no busy cycles"
        : string.Create(CultureInfo.InvariantCulture, $"user time {100 * (1 - r.Outcome.SystemTimeShare):0.0}%, system time {100 * r.Outcome.SystemTimeShare:0.0}% of the busy cycles");

    private static string Share(GuestRow g) => g.DescheduledShare is { } d ? d.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "n/a";

    /// <summary>The line that says a run stopped at its time limit with workloads unfinished; empty when every workload ended.</summary>
    private static string CutShort(WorkloadRunResult r) => r.TimeLimit is { } limit
        ? string.Create(CultureInfo.InvariantCulture, $"the run stopped at its time limit of {limit.Picoseconds / 1e9:0.###} ms before the workload of {r.Unfinished} guest(s) ended: their figures of merit are NaN (not a number)\n")
        : "";

    private static Dictionary<string, object?>[] Figures(IReadOnlyList<Sim.Workloads.Metric> figures) =>
        [.. figures.Select(m => new Dictionary<string, object?> { ["name"] = m.Name, ["value"] = Finite(m.Value), ["unit"] = m.Unit })];

    /// <summary>A figure for JSON: null when it is not a finite number (a workload the time limit cut short, an interval of one run), as JSON has no NaN.</summary>
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private readonly record struct GuestRow(string Name, string Workload, Sim.Workloads.Metric Merit, double EndMs, double? DescheduledShare)
    {
        public string Figure => string.Create(CultureInfo.InvariantCulture, $"{Merit.Name} = {Merit.Value:G6} {Merit.Unit}");
    }

    private readonly record struct Latency(string Name, long Count, double MeanUs, double P50Us, double P90Us, double P99Us);
}
