using Sim.Experiments.Runs;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>Paravirtual I/O: a virtio-blk device with a split virtqueue, under VT-x and under Xen-style paravirtualization.</summary>
public class VirtioRunTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;
    private static readonly VirtualizationAxes Type1Virtio = VirtualizationAxes.ForPreset("type1", Nehalem) with { Io = IoVirtualization.Paravirtual };

    private static WorkloadRunResult Run(IWorkload workload, long size, VirtualizationAxes axes, HardwareProfile? profile = null) =>
        WorkloadRun.Run(profile ?? Nehalem, workload, size, seed: 1, axes: axes);

    private static double ExitsPerRequest(WorkloadRunResult r, long requests) => r.Exits.Sum(e => e.Count) / (double)requests;

    [Fact]
    public void Exits_per_request_fall_as_the_queue_deepens_though_each_request_is_kicked()
    {
        WorkloadRunResult shallow = Run(new FioRandRead(jobs: 1), 200, Type1Virtio);
        WorkloadRunResult deep = Run(new FioRandRead(jobs: 32), 200, Type1Virtio);
        double KicksPerRequest(WorkloadRunResult r) => r.Stat("vm0.kernel.virtio", "kicks") / r.Stat("vm0.disk0", "requests");
        Assert.Equal(1.0, KicksPerRequest(shallow)); // the device is idle at each request: every one is kicked
        // The device turns kicks off only while it drains the queue (virtio_blk_handle_vq); with no polling a request
        // added to a drained queue is kicked, at any depth.
        Assert.InRange(KicksPerRequest(deep), 0.5, 1.0);
        Assert.True(ExitsPerRequest(deep, 200) < ExitsPerRequest(shallow, 200)); // the virtual CPU halts (and is woken) less often between requests
        Assert.Equal(200, deep.Stat("vm0.disk0", "requests"));
    }

    [Fact]
    public void Virtio_needs_fewer_exits_per_request_than_the_emulated_AHCI_adapter()
    {
        WorkloadRunResult virtio = Run(new FioRandRead(), 100, Type1Virtio);
        WorkloadRunResult ahci = Run(new FioRandRead(), 100, VirtualizationAxes.ForPreset("type1", Nehalem));
        Assert.True(ExitsPerRequest(virtio, 100) < ExitsPerRequest(ahci, 100));
        // A request: one kick; an interrupt: the status read and the acknowledgement, and the EOI.
        Assert.Equal(100, virtio.Stat("vm0.disk0", "notifications"));
        Assert.Equal(virtio.Outcome.CoreCycles, (ulong)virtio.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void The_paravirt_preset_runs_with_hypercalls_and_events_only()
    {
        HardwareProfile p4 = HardwareProfiles.Pentium4672;
        WorkloadRunResult r = Run(new FioRandRead(jobs: 4), 100, VirtualizationAxes.ForPreset("paravirt", p4), p4);
        Assert.Equal(100, r.Stat("vm0.disk0", "requests"));
        Assert.Equal([Models.Cpu.Instruction.Syscall], r.Interceptions.Select(i => i.Instruction)); // hypercalls, no register access trapped
        Assert.True(r.Stat("host.monitor", "hypercalls::EventChannelOp") > 0);
        Assert.Equal(r.Outcome.CoreCycles, (ulong)r.CyclesByCategory.Values.Sum());
    }
}

/// <summary>Passthrough: the disk's adapter and a NIC function (SR-IOV) assigned to the guest, their DMA through the IOMMU.</summary>
public class PassthroughRunTests
{
    private static WorkloadRunResult Run(HardwareProfile profile, IoVirtualization io, long size) =>
        WorkloadRun.Run(profile, new FioRandRead(), size, seed: 1, axes: VirtualizationAxes.ForPreset("type1", profile) with { Io = io });

    [Fact]
    public void An_assigned_disk_takes_no_register_exits_and_its_DMA_goes_through_the_IOMMU()
    {
        WorkloadRunResult r = Run(HardwareProfiles.NehalemX5570, IoVirtualization.Passthrough, 50);
        Assert.Equal(0, r.Stat("host.cpu0", "vm_exits::EptViolation"));
        Assert.True(r.Stat("vm0.bus.vm0.disk0", "accesses") >= 50 * 2); // the driver's register accesses happened, on the device itself
        Assert.True(r.Stat("vm0.iommu", "iotlb_misses") > 0);
        Assert.True(r.Stat("vm0.iommu", "iotlb_hits") > 0);             // the command list and tables are reused
        // Each miss walks the domain's real tables, four entries read; a hit reads none. The tables map the guest's memory in 4 KiB pages.
        Assert.Equal(4 * r.Stat("vm0.iommu", "iotlb_misses"), r.Stat("vm0.iommu", "walk_reads"));
        Assert.Equal((double)Sim.Models.Paging.Ept.TableBytes((ulong)r.Stat("vm0.memory", "guest_bytes"), largePages: false), r.Stat("vm0.iommu", "table_bytes"));
        WorkloadRunResult emulated = Run(HardwareProfiles.NehalemX5570, IoVirtualization.Emulated, 50);
        Assert.True(r.Exits.Sum(e => e.Count) < emulated.Exits.Sum(e => e.Count));
    }

    [Fact]
    public void With_posted_interrupts_and_APICv_only_the_idle_guest_s_HLT_exits()
    {
        WorkloadRunResult r = Run(HardwareProfiles.SkylakeSp8180, IoVirtualization.Passthrough, 50);
        Assert.Equal([ExitReason.Hlt], r.Exits.Select(e => e.Reason));
    }

    [Fact]
    public void An_assigned_NIC_function_takes_no_register_exits_and_its_DMA_goes_through_the_IOMMU()
    {
        HardwareProfile nehalem = HardwareProfiles.NehalemX5570;
        VirtualizationAxes Axes(IoVirtualization io) => VirtualizationAxes.ForPreset("type1", nehalem) with { Io = io };
        WorkloadRunResult assigned = WorkloadRun.Run(nehalem, new NetperfRr(), 200, seed: 1, axes: Axes(IoVirtualization.Passthrough));
        WorkloadRunResult emulated = WorkloadRun.Run(nehalem, new NetperfRr(), 200, seed: 1, axes: Axes(IoVirtualization.Emulated));
        WorkloadRunResult native = WorkloadRun.Run(nehalem, new NetperfRr(), 200, seed: 1);
        Assert.Equal(0, assigned.Stat("host.cpu0", "vm_exits::EptViolation"));
        Assert.Equal(0.0, assigned.EmulatedAccesses.PerPacket);
        Assert.True(assigned.Stat("vm0.iommu", "iotlb_misses") > 0);
        Assert.True(assigned.Stat("vm0.nic0", "frames_received") >= 200);
        // Between the two: the register exits are gone, the idle guest's HLT and the interrupt's injection and EOI remain.
        double RoundTrip(WorkloadRunResult r) => r.FiguresOfMerit.Single(m => m.Name == "round_trip").Value;
        Assert.InRange(RoundTrip(assigned), RoundTrip(native), RoundTrip(emulated));
    }

    [Fact]
    public void A_platform_without_an_IOMMU_cannot_assign_a_device() =>
        Assert.Contains("IOMMU", (VirtualizationAxes.ForPreset("type1", HardwareProfiles.Pentium4672) with { Io = IoVirtualization.Passthrough })
            .Problem(HardwareProfiles.Pentium4672), StringComparison.Ordinal);
}

/// <summary>What each way of virtualizing the disk costs per request, in emulated register accesses (each an exit under VT-x).</summary>
public class EmulatedAccessesPerRequestTests
{
    [Theory]
    [InlineData("emulated", "pci", 7.0)]     // AHCI: PxSACT and PxCI; IS, PxIS, PxIS clear, PxSACT, IS clear
    [InlineData("paravirtual", "pci", 1.0)]  // virtio-pci at queue depth 1: the kick; the MSI-X message needs no access
    [InlineData("paravirtual", "mmio", 3.0)] // virtio-mmio: the kick; InterruptStatus and InterruptACK
    [InlineData("passthrough", "pci", 0.0)]  // the assigned device's registers are the guest's own
    public void Each_disk_request_costs_what_its_interface_makes_the_driver_do(string io, string transport, double expected) =>
        Assert.Equal(expected, Run("fio-randread", 50, io, transport).EmulatedAccesses.PerBlockRequest);

    [Theory]
    [InlineData("emulated", "pci", 3.5)]     // e1000: TDT per send; ICR, IMC, STATUS, RDT, IMS, STATUS per interrupt
    [InlineData("paravirtual", "pci", 0.5)]  // virtio-net over virtio-pci: a kick per send; the MSI-X message needs no access
    [InlineData("paravirtual", "mmio", 1.5)] // virtio-net over virtio-mmio: a kick per send; InterruptStatus and InterruptACK per interrupt
    [InlineData("passthrough", "pci", 0.0)]  // the assigned function's registers are the guest's own
    public void Each_network_packet_costs_what_its_card_makes_the_driver_do(string io, string transport, double expected) =>
        Assert.Equal(expected, Run("netperf-rr", 100, io, transport).EmulatedAccesses.PerPacket);

    private static WorkloadRunResult Run(string workload, long size, string io, string transport) =>
        new Sim.Experiments.Scenarios.WorkloadScenario { Workload = workload, Profile = "nehalem-x5570", Preset = "type1", Io = io, VirtioTransport = transport, Size = size }.RunOnce(1);

    [Fact]
    public void A_virtio_net_card_takes_sends_without_kicks_while_the_wire_is_busy()
    {
        // On a 100 Mb/s link a full frame takes 121 us on the wire, longer than a sendto: the web
        // server's eight answer frames queue behind one another and the device asks for no kicks.
        // (Hosted, whose backend has no thread: type1's backend thread returns each sent buffer at once.)
        HardwareProfile nehalem = HardwareProfiles.NehalemX5570;
        VirtualizationAxes virtio = VirtualizationAxes.ForPreset("type2", nehalem) with { Io = IoVirtualization.Paravirtual };
        MachineConfiguration slow = MachineConfiguration.Default with { Timings = MachineConfiguration.Default.Timings with { LinkBitsPerSecond = 100_000_000 } };
        WorkloadRunResult fast = WorkloadRun.Run(nehalem, new Web(), 20, seed: 1, axes: virtio);
        WorkloadRunResult busy = WorkloadRun.Run(nehalem, new Web(), 20, seed: 1, slow, virtio);
        double KicksPerFrame(WorkloadRunResult r) => r.Stat("vm0.kernel.virtio_net", "kicks") / r.Stat("vm0.nic0", "frames_sent");
        Assert.InRange(KicksPerFrame(fast), 0.95, 1.05);
        Assert.InRange(KicksPerFrame(busy), 0.1, 0.3);
        Assert.True(busy.Stat("vm0.kernel.virtio_net", "suppressed_kicks") > 0);
        Assert.True(busy.EmulatedAccesses.PerPacket < fast.EmulatedAccesses.PerPacket);
    }

    [Fact]
    public void Network_packets_are_counted_too()
    {
        HardwareProfile nehalem = HardwareProfiles.NehalemX5570;
        WorkloadRunResult r = WorkloadRun.Run(nehalem, new NetperfRr(), 50, seed: 1, axes: VirtualizationAxes.ForPreset("type1", nehalem));
        Assert.True(r.EmulatedAccesses.PerPacket > 0);
        Assert.Null(WorkloadRun.Run(nehalem, new NetperfRr(), 50, seed: 1).EmulatedAccesses.PerPacket);
    }
}
