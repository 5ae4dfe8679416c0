using Sim.Experiments.Runs;
using Sim.Models.Cpu;
using Sim.Models.Devices;
using Sim.Models.Hardware;
using Sim.Models.Platform;
using Sim.Models.Virtualization;
using Sim.Workloads;
using Sim.Workloads.Processes;

namespace Sim.Experiments.Tests.Runs;

/// <summary>
/// The device models' own work (docs/virtualization.md, "Device models"): each register access
/// does what its device's model does (an interrupt cause cleared, descriptors taken, commands
/// read from guest memory), and a model in a host process makes one host system call per real
/// I/O, not per register write.
/// </summary>
public class DeviceModelWorkTests
{
    private static readonly HardwareProfile Nehalem = HardwareProfiles.NehalemX5570;

    /// <summary>A kernel-mode loop of MMIO reads of one register of the e1000.</summary>
    private sealed class NicRegisterReads(ulong register) : IWorkload
    {
        public string Name => "nic-register-reads";

        public string Description => "MMIO reads of one e1000 register";

        public int Cpl => 0;

        public void Prepare(WorkloadContext context)
        {
        }

        public IOpStream CreateStream(WorkloadContext context) => new GeneratedStream(context.Size, 1, (_, _) => Op.MmioRead(PlatformDevices.NicBase + register));

        public IReadOnlyList<Metric> FiguresOfMerit(WorkloadContext context, WorkloadOutcome outcome) => [];

        public IReadOnlyList<string> FigureNames => [];
    }

    private static WorkloadRunResult Reads(ulong register, string preset) =>
        WorkloadRun.Run(Nehalem, new NicRegisterReads(register), 100, seed: 1, axes: VirtualizationAxes.ForPreset(preset, Nehalem));

    [Theory]
    [InlineData("type1")]
    [InlineData("type2")]
    public void Reading_the_interrupt_cause_costs_its_model_more_than_reading_the_status(string preset)
    {
        WorkloadRunResult icr = Reads(Nic8254x.Icr, preset);
        WorkloadRunResult status = Reads(Nic8254x.Status, preset);
        Assert.Equal(100, icr.Stat("host.hypervisor", "device_model_accesses::Nic"));
        Assert.Equal(100, icr.Stat("host.hypervisor", "device_model_steps::InterruptCause"));
        Assert.Equal(0, status.Stat("host.hypervisor", "device_model_steps::InterruptCause"));
        // Everything else about the two exits is the same: the difference is the cause's code, per read.
        Assert.Equal(100L * HypervisorCosts.Default[HypervisorRoutine.NicInterruptCause], icr.Outcome.Instructions - status.Outcome.Instructions);
        Assert.True(icr.CyclesByCategory[CycleCategory.DeviceEmulation] > status.CyclesByCategory[CycleCategory.DeviceEmulation]);
        Assert.Equal(0, icr.Stat("host.hypervisor", "host_io_syscalls")); // neither read sets real I/O going
        Assert.Equal(0, status.Stat("host.hypervisor", "host_io_syscalls"));
    }

    [Fact]
    public void A_hosted_disk_makes_one_host_system_call_per_command_not_per_register_write()
    {
        WorkloadRunResult r = WorkloadRun.Run(Nehalem, new FioRandRead(), 20, seed: 1, axes: VirtualizationAxes.ForPreset("type2", Nehalem));
        double commands = r.Stat("vm0.disk0", "commands");
        Assert.True(commands >= 20);
        Assert.Equal(commands, r.Stat("host.hypervisor", "host_io_syscalls"));
        Assert.Equal(commands, r.Stat("host.hypervisor", "device_model_steps::CommandIssue"));
        Assert.True(r.Stat("host.hypervisor", "device_model_accesses::Disk") > 3 * commands); // PxSACT, PxCI, and the interrupt's reads and clears
        // Each command's header, FIS and PRDT entry read from guest memory: three lines at least.
        Assert.True(r.Stat("host.hypervisor", "device_model_guest_lines") >= 3 * commands);
    }

    [Fact]
    public void A_hosted_nic_makes_one_host_system_call_per_frame_either_way_and_none_for_its_other_registers()
    {
        WorkloadRunResult r = WorkloadRun.Run(Nehalem, new NetperfRr(), 50, seed: 1, axes: VirtualizationAxes.ForPreset("type2", Nehalem));
        double frames = r.Stat("vm0.nic0", "frames_sent");
        Assert.Equal(50, frames);
        Assert.Equal(50, r.Stat("host.hypervisor", "device_model_steps::TransmitDescriptor"));
        // Every host system call is a real I/O: a frame sent or received (read by the monitor's process from the host), a disk command or a byte to the serial console.
        Assert.Equal(50, r.Stat("vm0.nic0", "frames_received"));
        double realIos = frames + r.Stat("vm0.nic0", "frames_received") + r.Stat("vm0.disk0", "commands") + r.Stat("vm0.com1", "bytes_sent");
        Assert.Equal(realIos, r.Stat("host.hypervisor", "host_io_syscalls"));
        Assert.True(r.Stat("host.hypervisor", "device_model_steps::InterruptCause") >= 50); // the ICR reads, which take none
    }

    [Fact]
    public void QEMUs_e1000_sums_each_frame_whose_driver_asks_for_its_checksum_a_step_a_line_after_a_context_descriptor()
    {
        WorkloadRunResult small = WorkloadRun.Run(Nehalem, new NetperfRr(), 50, seed: 1, axes: VirtualizationAxes.ForPreset("type1", Nehalem));
        Assert.Equal(50, small.Stat("host.hypervisor", "device_model_steps::TransmitContext")); // Linux's e1000_tx_csum: a context descriptor a frame
        Assert.Equal(50, small.Stat("host.hypervisor", "device_model_steps::ChecksumLine")); // a 1-byte datagram's UDP header and payload: one line
        WorkloadRunResult full = WorkloadRun.Run(Nehalem, new NetperfStream(), 50, seed: 1, axes: VirtualizationAxes.ForPreset("type1", Nehalem));
        double frames = full.Stat("vm0.nic0", "frames_sent");
        Assert.Equal(frames, full.Stat("host.hypervisor", "device_model_steps::TransmitContext"));
        Assert.Equal(24 * frames, full.Stat("host.hypervisor", "device_model_steps::ChecksumLine")); // 1,514 - 34 bytes from the UDP header on, in 64-byte pieces
    }

    [Fact]
    public void A_KVM_like_e1000_copies_each_frame_through_the_caches_in_its_user_space_model()
    {
        WorkloadRunResult small = WorkloadRun.Run(Nehalem, new NetperfRr(), 50, seed: 1, axes: VirtualizationAxes.ForPreset("type1", Nehalem));
        Assert.Equal(100, small.Stat("host.hypervisor", "host_io_syscalls")); // QEMU's: the frame sent to the tap, the frame read from it
        // A frame's descriptor, its lines copied and its status written back: at least three lines a frame each way.
        Assert.True(small.Stat("host.hypervisor", "device_model_guest_lines") >= 2 * 3 * 50);
        Assert.Equal(small.Outcome.CoreCycles, (ulong)small.CyclesByCategory.Values.Sum());
    }

    [Fact]
    public void The_emulator_fetches_an_MMIO_exits_instruction_through_the_guests_page_tables()
    {
        WorkloadRunResult r = WorkloadRun.Run(Nehalem, new NetperfRr(), 50, seed: 1, axes: VirtualizationAxes.ForPreset("type1", Nehalem));
        double nic = r.Stat("host.hypervisor", "device_model_accesses::Nic");
        Assert.True(nic >= 50 * 5);
        Assert.Equal(nic, r.Stat("host.hypervisor", "mmio_instruction_fetches")); // every e1000 access is an MMIO exit from the driver's code
        // A loop with no code in memory (the nanobenchmarks' kind) has no instruction to fetch.
        Assert.Equal(0, Reads(Nic8254x.Status, "type1").Stat("host.hypervisor", "mmio_instruction_fetches"));
    }
}
