namespace Sim.Models.Devices;

/// <summary>
/// Latencies of the platform around the core, in nanoseconds (converted with the profile's clock).
/// </summary>
/// <param name="LegacyIoNanoseconds">
/// One port access to a legacy device on the LPC bus (port 0x80, the serial port). Calibrated: the
/// native `in` nanobenchmark of Adams and Agesen (ASPLOS 2006, Figure 4) reads port 0x80 in 3209
/// cycles on a 3.8 GHz Pentium 4, 844 ns; the instruction itself is taken to cost nothing beside it.
/// </param>
/// <param name="LocalApicAccessNanoseconds">One access to a local APIC register (in the core's uncore): assumed; no source in hand.</param>
/// <param name="ApicTimerHz">The local APIC timer's input clock (the bus or crystal clock): assumed; it differs by platform.</param>
/// <param name="AtaIoNanoseconds">One access to an ATA task-file register: the 120 ns minimum cycle time of PIO mode 4 (ATA/ATAPI-7, t0).</param>
/// <param name="PcieMmioNanoseconds">One uncached access to a PCI Express device register (the NIC's): assumed; reads cost a round trip over the link.</param>
/// <param name="CommandFetchNanoseconds">A disk adapter's fetch of a command from memory before the disk sees it (the AHCI adapter's header, FIS and PRDT; the NVMe controller's 64-byte submission entry): assumed, the same for both for want of a measured figure; small beside the medium.</param>
/// <param name="LinkBitsPerSecond">The NIC's Ethernet link rate: 10 Gb/s.</param>
/// <param name="LinkPropagationNanoseconds">Cable and switch delay between the NIC and its peer: assumed.</param>
/// <param name="PeerTurnaroundNanoseconds">How long the peer takes to answer a request it received: assumed, standing for the peer's own network stack.</param>
/// <param name="IpiDeliveryNanoseconds">
/// From an ICR write to the target APIC accepting the interrupt: assumed 500 ns. No source in hand
/// measures the one-way hardware delivery on these parts; QNX's hypervisor guide ("Guest IPIs")
/// says an IPI between physical CPUs typically takes less than a microsecond.
/// </param>
public sealed record PlatformTimings(
    double LegacyIoNanoseconds,
    double LocalApicAccessNanoseconds,
    ulong ApicTimerHz,
    double AtaIoNanoseconds = 120,
    double PcieMmioNanoseconds = 300,
    double CommandFetchNanoseconds = 1_000,
    ulong LinkBitsPerSecond = 10_000_000_000,
    double LinkPropagationNanoseconds = 500,
    double PeerTurnaroundNanoseconds = 5_000,
    double IpiDeliveryNanoseconds = 500)
{
    public static readonly PlatformTimings Default = new(LegacyIoNanoseconds: 3209 / 3.8, LocalApicAccessNanoseconds: 20, ApicTimerHz: 100_000_000);
}
