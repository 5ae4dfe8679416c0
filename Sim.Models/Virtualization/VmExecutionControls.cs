using Sim.Models.Cpu;

namespace Sim.Models.Virtualization;

/// <summary>
/// What exits, as data: the VM-execution controls and the exception bitmap of a VMCS (Intel SDM
/// Vol. 3C, 24.6, and "Instructions That Cause VM Exits", 25.1), as far as the machine's
/// instructions and events reach them. The hypervisor sets them; the core consults them for each
/// instruction, exception and interrupt of a guest.
/// </summary>
/// <param name="HltExiting">HLT exits (a hypervisor wants the idle CPU back).</param>
/// <param name="InvlpgExiting">INVLPG exits (needed by shadow paging).</param>
/// <param name="Cr3LoadExiting">MOV to CR3 exits (needed by shadow paging).</param>
/// <param name="Cr3StoreExiting">MOV from CR3 exits (shadow paging hides the real root).</param>
/// <param name="Cr8LoadExiting">MOV to CR8 exits (without a TPR shadow).</param>
/// <param name="UseTprShadow">"Use TPR shadow" (SDM 3C 24.6.2, 29.3): with CR8-load exiting off, a MOV to CR8 writes the virtual TPR on the virtual-APIC page, and exits (TPR below threshold, trap-like) only if it drops the priority class below the TPR threshold, which the hypervisor sets at each entry to the class of a pending interrupt the guest's priority masks (KVM's update_cr8_intercept). With virtual-interrupt delivery the threshold is not used (SDM 29.1.2).</param>
/// <param name="RdtscExiting">RDTSC exits (off with TSC offsetting).</param>
/// <param name="UnconditionalIoExiting">Every IN and OUT exits (no I/O bitmaps).</param>
/// <param name="MsrExiting">RDMSR and WRMSR exit (no MSR bitmaps, or bitmaps that cover the MSRs used).</param>
/// <param name="DescriptorTableExiting">LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR exit.</param>
/// <param name="WbinvdExiting">WBINVD exits.</param>
/// <param name="PauseExiting">Every PAUSE exits (no hypervisor here sets it: a spin would exit at each round).</param>
/// <param name="PauseLoopExiting">PAUSE-loop exiting (SDM 3C 25.1.3): a guest's PAUSE at CPL 0 exits once its loop of PAUSEs, each within <paramref name="PleGap"/> of the last, has run longer than <paramref name="PleWindow"/>.</param>
/// <param name="PleGap">PLE_Gap, in TSC cycles: KVM's and Xen's default 128 (KVM_DEFAULT_PLE_GAP; xen/arch/x86/hvm/vmx/vmcs.c, ple_gap).</param>
/// <param name="PleWindow">PLE_Window, in TSC cycles: KVM's and Xen's default 4096 (KVM_VMX_DEFAULT_PLE_WINDOW, "most spinlocks are held for less than 2^12 cycles"; Xen's ple_window).</param>
/// <param name="MmioExiting">Device registers are not mapped in the guest (EPT violation on access): every MMIO access exits.</param>
/// <param name="ExternalInterruptExiting">External interrupts exit (set by every hypervisor here).</param>
/// <param name="VirtualInterruptDelivery">APIC-register virtualization and virtual-interrupt delivery (APICv): the guest's accesses to its local APIC (EOI, TPR, reads) are done on the virtual-APIC page without an exit, except a write to the ICR's low half, which sends an IPI: that takes an APIC-write exit (SDM Vol. 3C, 29.4.3.2; a self-IPI would not, and the model's kernels send none). Model: every other local-APIC access, not only EOI and TPR writes.</param>
/// <param name="ProcessPostedInterrupts">Posted interrupts: an interrupt for a running guest is delivered to it without an exit.</param>
/// <param name="AssignedMmio">The register ranges of devices assigned to the guest (passthrough: the disk's adapter, the NIC's virtual function), mapped in its EPT or shadows so that their accesses do not exit; null for none.</param>
/// <param name="MmioExitsAsPageFaults">Device pages are left out of the shadow page tables: an MMIO access exits as a page fault (exception exit), not an EPT violation.</param>
/// <param name="VirtualizeApicAccesses">The guest's local APIC page is the APIC-access page: accesses to it exit as APIC accesses (reason 44) rather than EPT violations or page faults.</param>
/// <param name="ExceptionBitmap">Bit n set: exception vector n exits instead of going to the guest's handler.</param>
public sealed record VmExecutionControls(
    bool HltExiting = true,
    bool InvlpgExiting = false,
    bool Cr3LoadExiting = false,
    bool Cr3StoreExiting = false,
    bool Cr8LoadExiting = false,
    bool UseTprShadow = false,
    bool RdtscExiting = false,
    bool UnconditionalIoExiting = true,
    bool MsrExiting = true,
    bool DescriptorTableExiting = false,
    bool WbinvdExiting = true,
    bool PauseExiting = false,
    bool PauseLoopExiting = false,
    uint PleGap = VmExecutionControls.DefaultPleGap,
    uint PleWindow = VmExecutionControls.DefaultPleWindow,
    bool MmioExiting = true,
    bool ExternalInterruptExiting = true,
    bool VirtualizeApicAccesses = false,
    bool MmioExitsAsPageFaults = false,
    bool VirtualInterruptDelivery = false,
    bool ProcessPostedInterrupts = false,
    IReadOnlyList<MmioRange>? AssignedMmio = null,
    uint ExceptionBitmap = 0)
{
    /// <summary>KVM's and Xen's default PLE gap, 128 TSC cycles.</summary>
    public const uint DefaultPleGap = 128;

    /// <summary>KVM's and Xen's default PLE window, 4096 TSC cycles.</summary>
    public const uint DefaultPleWindow = 4096;

    /// <summary>What a hypervisor with nested paging (EPT) sets: no exits for the guest's page-table management; the APIC-access page (which came before EPT). The TPR shadow is set by the CPU's features (<see cref="ForTprShadow"/>).</summary>
    public static readonly VmExecutionControls NestedPaging = new(VirtualizeApicAccesses: true);

    /// <summary>What a hypervisor with shadow paging sets: CR3 loads and stores, INVLPG and page faults exit; device pages are unmapped in the shadows.</summary>
    public static readonly VmExecutionControls ShadowPaging = new(InvlpgExiting: true, Cr3LoadExiting: true, Cr3StoreExiting: true,
        MmioExitsAsPageFaults: true, ExceptionBitmap: 1u << (int)ExceptionVector.PageFault);

    /// <summary>These controls with the TPR shadow where the CPU has it (KVM sets it whenever cpu_has_vmx_tpr_shadow), and CR8-load exiting where it has not.</summary>
    public VmExecutionControls ForTprShadow(bool cpuHasIt) => this with { UseTprShadow = cpuHasIt, Cr8LoadExiting = !cpuHasIt };

    /// <summary>Whether <paramref name="instruction"/> exits, by the table's VT-x behaviour and these controls.</summary>
    public bool Exits(Instruction instruction) => InstructionTable.Of(instruction).Vtx switch
    {
        VtxBehaviour.AlwaysExits => true,
        VtxBehaviour.NeverExits => false,
        _ => instruction switch
        {
            Instruction.Hlt => HltExiting,
            Instruction.Invlpg => InvlpgExiting,
            Instruction.MovToCr3 => Cr3LoadExiting,
            Instruction.MovFromCr3 => Cr3StoreExiting,
            Instruction.MovToCr8 => Cr8LoadExiting,
            Instruction.Rdtsc => RdtscExiting,
            Instruction.In or Instruction.Out => UnconditionalIoExiting,
            Instruction.Rdmsr or Instruction.Wrmsr => MsrExiting,
            Instruction.Wbinvd => WbinvdExiting,
            Instruction.Pause => PauseExiting,
            Instruction.MmioRead or Instruction.MmioWrite => MmioExiting,
            Instruction.Lgdt or Instruction.Lidt or Instruction.Lldt or Instruction.Ltr or
            Instruction.Sgdt or Instruction.Sidt or Instruction.Sldt or Instruction.Str => DescriptorTableExiting,
            Instruction.Lmsw or Instruction.Clts => true, // the CR0 guest/host mask is taken to own TS and the low bits
            _ => throw new InvalidOperationException($"{instruction} exits under a control that the VM-execution controls do not model."),
        },
    };

    /// <summary>Whether <paramref name="instruction"/> at <paramref name="operand"/> exits: as <see cref="Exits(Instruction)"/>, except that with virtual-interrupt delivery the local APIC's page is the CPU's own.</summary>
    public bool Exits(Instruction instruction, ulong operand) =>
        !(instruction is Instruction.MmioRead or Instruction.MmioWrite &&
          ((VirtualInterruptDelivery && Platform.PlatformDevices.IsLocalApic(operand) && !SendsIpi(instruction, operand)) || IsAssigned(operand)))
        && Exits(instruction);

    /// <summary>Whether the access is a write to the local APIC's ICR low half, whose write sends an IPI (xAPIC offset 300H).</summary>
    private static bool SendsIpi(Instruction instruction, ulong operand) => instruction == Instruction.MmioWrite && operand == Devices.LocalApic.DefaultBase + 0x300;

    /// <summary>Whether <paramref name="address"/> is a register of a device assigned to the guest.</summary>
    public bool IsAssigned(ulong address) => AssignedMmio?.Any(r => r.Contains(address)) ?? false;

    /// <summary>The basic exit reason of <paramref name="instruction"/> at <paramref name="operand"/> when it exits: an MMIO access to the APIC-access page is an APIC access.</summary>
    public ExitReason ReasonFor(Instruction instruction, ulong operand) => instruction switch
    {
        Instruction.MmioWrite when VirtualInterruptDelivery && SendsIpi(instruction, operand) => ExitReason.ApicWrite,
        Instruction.MmioRead or Instruction.MmioWrite when VirtualizeApicAccesses && Platform.PlatformDevices.IsLocalApic(operand) => ExitReason.ApicAccess,
        Instruction.MmioRead or Instruction.MmioWrite when MmioExitsAsPageFaults => ExitReason.ExceptionOrNmi,
        _ => InstructionTable.Of(instruction).Exit ?? ExitReason.ExceptionOrNmi,
    };

    /// <summary>Whether exception <paramref name="vector"/> exits (the exception bitmap).</summary>
    public bool Exits(ExceptionVector vector) => (ExceptionBitmap & (1u << (int)vector)) != 0;

    /// <summary>The controls as lines of text, for reports and lectures.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"HLT exiting: {HltExiting}";
        yield return $"INVLPG exiting: {InvlpgExiting}";
        yield return $"CR3-load exiting: {Cr3LoadExiting}, CR3-store exiting: {Cr3StoreExiting}";
        yield return $"CR8-load exiting: {Cr8LoadExiting}, use TPR shadow: {UseTprShadow}";
        yield return $"RDTSC exiting: {RdtscExiting}";
        yield return $"unconditional I/O exiting: {UnconditionalIoExiting}";
        yield return $"MSR exiting: {MsrExiting}";
        yield return $"descriptor-table exiting: {DescriptorTableExiting}";
        yield return $"WBINVD exiting: {WbinvdExiting}";
        yield return $"PAUSE exiting: {PauseExiting}";
        yield return PauseLoopExiting ? $"PAUSE-loop exiting: True (gap {PleGap}, window {PleWindow} TSC cycles)" : "PAUSE-loop exiting: False";
        yield return $"MMIO exiting (device pages unmapped): {MmioExiting}";
        yield return $"external-interrupt exiting: {ExternalInterruptExiting}";
        yield return $"virtualize APIC accesses: {VirtualizeApicAccesses}";
        yield return $"MMIO exits as page faults (device pages unmapped in shadow tables): {MmioExitsAsPageFaults}";
        yield return $"virtual-interrupt delivery (APICv): {VirtualInterruptDelivery}, posted interrupts: {ProcessPostedInterrupts}";
        yield return AssignedMmio is not { Count: > 0 } ranges ? "assigned devices: none"
            : $"assigned device registers (no exits): {string.Join(", ", ranges.Select(r => $"0x{r.Base:X} to 0x{r.Base + r.Size - 1:X}"))}";
        yield return $"exception bitmap: 0x{ExceptionBitmap:X8}";
    }
}
