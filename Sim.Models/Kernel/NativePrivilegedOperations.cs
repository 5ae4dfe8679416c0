using Sim.Models.Cpu;
using Sim.Models.Devices;

namespace Sim.Models.Kernel;

/// <summary>The privileged operations as the instructions a kernel on bare hardware executes.</summary>
public sealed class NativePrivilegedOperations : IPrivilegedOperations
{
    public static readonly NativePrivilegedOperations Instance = new();

    public void SwitchAddressSpace(KernelPath path, ulong cr3) => Checked(path).Execute(Op.Execute(Instruction.MovToCr3, cr3));

    public void UpdatePageTableEntry(KernelPath path, ulong ptePhysicalAddress) => Checked(path).Store(ptePhysicalAddress);

    public void FlushTlbPage(KernelPath path, ulong linearAddress) => Checked(path).Execute(Op.Execute(Instruction.Invlpg, linearAddress));

    public void FlushTlb(KernelPath path, ulong cr3) => Checked(path).Execute(Op.Execute(Instruction.MovToCr3, cr3));

    public void DisableInterrupts(KernelPath path) => Checked(path).Execute(Op.Execute(Instruction.Pushf)).Execute(Op.Execute(Instruction.Cli));

    public void RestoreInterrupts(KernelPath path) => Checked(path).Execute(Op.Execute(Instruction.Popf));

    public void EndOfInterrupt(KernelPath path) => Checked(path).Execute(Op.MmioWrite(LocalApic.DefaultBase + 0xB0, 0));

    public void ReturnFromSyscall(KernelPath path) => Checked(path).Execute(Op.Execute(Instruction.Sysret));

    public void ReturnFromInterrupt(KernelPath path) => Checked(path).Execute(Op.Execute(Instruction.Iret));

    /// <summary>The ICR's destination half, then its low half, whose write sends (xAPIC: Intel SDM Vol. 3A, "Interrupt Command Register").</summary>
    public void SendInterprocessorInterrupt(KernelPath path, int cpu, int vector) =>
        Checked(path).Execute(Op.MmioWrite(LocalApic.DefaultBase + 0x310, (ulong)cpu << 24)).Execute(Op.MmioWrite(LocalApic.DefaultBase + 0x300, (ulong)vector));

    public IOpStream IdleLoop() => new IdleThread();

    public void NotifyDevice(KernelPath path, ulong register, int queue = 0) => Checked(path).Execute(Op.MmioWrite(register, (ulong)queue)); // virtio-mmio's QueueNotify takes the queue's index

    public bool DriverAcknowledgesDevice => true;

    private static KernelPath Checked(KernelPath path) => path ?? throw new ArgumentNullException(nameof(path));
}
