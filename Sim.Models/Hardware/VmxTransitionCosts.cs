namespace Sim.Models.Hardware;

/// <summary>
/// The hardware cost of VMX transitions on one CPU generation, in cycles: a VM entry, a VM exit
/// (the world switch alone, before any handler runs), and VMCS field reads and writes.
/// </summary>
public sealed record VmxTransitionCosts(int VmEntryCycles, int VmExitCycles, int VmcsReadCycles, int VmcsWriteCycles);
