using Sim.Models.Virtualization;
using static Sim.Models.Cpu.DeprivilegedBehaviour;
using static Sim.Models.Cpu.VtxBehaviour;

namespace Sim.Models.Cpu;

/// <summary>
/// What traps, as data (printed by <c>virtsim isa</c>). Sources:
/// [RI00] J. S. Robin and C. E. Irvine, "Analysis of the Intel Pentium's Ability to Support a
/// Secure Virtual Machine Monitor", USENIX Security 2000, section 4 (the sensitive, unprivileged
/// instructions of IA-32); [SDM2] Intel SDM Vol. 2, the instruction pages (privilege checks,
/// POPF and IRET on IF); [SDM3C] Intel SDM Vol. 3C, "Instructions That Cause VM Exits"
/// (unconditional and conditional exits and their controls); [SDM3D] Intel SDM Vol. 3D,
/// Appendix C (exit reason numbers).
/// </summary>
public static class InstructionTable
{
    private static readonly InstructionInfo[] Rows =
    [
        new(Instruction.Syscall, "SYSCALL", false, false, Unaffected, NeverExits, null, null,
            "enters the kernel at IA32_LSTAR; a monitor points LSTAR at itself [SDM2]"),
        new(Instruction.Sysret, "SYSRET", true, true, Traps, NeverExits, null, null,
            "#GP outside ring 0 [SDM2]; runs in the guest under VT-x"),
        new(Instruction.IntN, "INT n", false, true, MisbehavesSilently, NeverExits, null, null,
            "gate privilege checks depend on CPL [RI00]; software interrupts do not exit [SDM3C]"),
        new(Instruction.Iret, "IRET", false, true, MisbehavesSilently, NeverExits, null, null,
            "restores IF only if CPL <= IOPL, silently otherwise [SDM2]"),
        new(Instruction.MovToCr3, "MOV CR3, r", true, true, Traps, ExitsUnderControl, "CR3-load exiting", ExitReason.ControlRegisterAccess,
            "switches address space; needed under shadow paging, off with EPT [SDM3C]"),
        new(Instruction.MovFromCr3, "MOV r, CR3", true, true, Traps, ExitsUnderControl, "CR3-store exiting", ExitReason.ControlRegisterAccess,
            "reveals the real page-table root [SDM3C]"),
        new(Instruction.MovToCr8, "MOV CR8, r", true, true, Traps, ExitsUnderControl, "CR8-load exiting (off with the TPR shadow)", ExitReason.ControlRegisterAccess,
            "writes the task priority (TPR) [SDM3C]"),
        new(Instruction.Invlpg, "INVLPG", true, true, Traps, ExitsUnderControl, "INVLPG exiting", ExitReason.Invlpg,
            "needed under shadow paging, off with EPT [SDM3C]"),
        new(Instruction.Cpuid, "CPUID", false, true, Unaffected, AlwaysExits, null, ExitReason.Cpuid,
            "the same at every CPL, but reveals the real processor with no trap to hide it; exits unconditionally [SDM3C]"),
        new(Instruction.Rdtsc, "RDTSC", false, true, Unaffected, ExitsUnderControl, "RDTSC exiting (TSC offsetting avoids it)", ExitReason.Rdtsc,
            "the same at every CPL unless CR4.TSD is set, but reveals real time [SDM2, SDM3C]"),
        new(Instruction.Rdmsr, "RDMSR", true, true, Traps, ExitsUnderControl, "MSR bitmaps", ExitReason.Rdmsr,
            "exits for MSRs whose bitmap bit is set, or for all without bitmaps [SDM3C]"),
        new(Instruction.Wrmsr, "WRMSR", true, true, Traps, ExitsUnderControl, "MSR bitmaps", ExitReason.Wrmsr,
            "as RDMSR [SDM3C]"),
        new(Instruction.In, "IN", true, true, Traps, ExitsUnderControl, "unconditional I/O exiting or I/O bitmaps", ExitReason.IoInstruction,
            "#GP when CPL > IOPL and the TSS bitmap denies the port [SDM2]"),
        new(Instruction.Out, "OUT", true, true, Traps, ExitsUnderControl, "unconditional I/O exiting or I/O bitmaps", ExitReason.IoInstruction,
            "as IN [SDM2, SDM3C]"),
        new(Instruction.MmioRead, "MOV r, [mmio]", false, true, Traps, ExitsUnderControl, "EPT or page mapping of the device page (APIC-access page)", ExitReason.EptViolation,
            "an ordinary load; traps only if the monitor leaves the device page unmapped [SDM3C]"),
        new(Instruction.MmioWrite, "MOV [mmio], r", false, true, Traps, ExitsUnderControl, "EPT or page mapping of the device page (APIC-access page)", ExitReason.EptViolation,
            "as the read"),
        new(Instruction.Hlt, "HLT", true, true, Traps, ExitsUnderControl, "HLT exiting", ExitReason.Hlt,
            "#GP outside ring 0 [SDM2]"),
        new(Instruction.Pause, "PAUSE", false, false, Unaffected, ExitsUnderControl, "PAUSE exiting, or PAUSE-loop exiting (PLE window and gap)", ExitReason.Pause,
            "a spin-wait hint, harmless at any CPL [SDM2]; exits so that a hypervisor can run another virtual CPU instead of a spinning one [SDM3C]"),
        new(Instruction.Cli, "CLI", true, true, Traps, NeverExits, null, null,
            "#GP when CPL > IOPL [SDM2]; in non-root mode it changes the guest's IF"),
        new(Instruction.Sti, "STI", true, true, Traps, NeverExits, null, null,
            "as CLI"),
        new(Instruction.Pushf, "PUSHF", false, true, MisbehavesSilently, NeverExits, null, null,
            "reveals the real IF and IOPL [RI00]"),
        new(Instruction.Popf, "POPF", false, true, MisbehavesSilently, NeverExits, null, null,
            "ignores changes to IF (and IOPL) when CPL > IOPL, without a fault [RI00, SDM2]"),
        new(Instruction.Lgdt, "LGDT", true, true, Traps, ExitsUnderControl, "descriptor-table exiting", ExitReason.GdtrIdtrAccess, "[SDM2, SDM3C]"),
        new(Instruction.Lidt, "LIDT", true, true, Traps, ExitsUnderControl, "descriptor-table exiting", ExitReason.GdtrIdtrAccess, "[SDM2, SDM3C]"),
        new(Instruction.Lldt, "LLDT", true, true, Traps, ExitsUnderControl, "descriptor-table exiting", ExitReason.LdtrTrAccess, "[SDM2, SDM3C]"),
        new(Instruction.Ltr, "LTR", true, true, Traps, ExitsUnderControl, "descriptor-table exiting", ExitReason.LdtrTrAccess, "[SDM2, SDM3C]"),
        new(Instruction.Sgdt, "SGDT", false, true, MisbehavesSilently, ExitsUnderControl, "descriptor-table exiting", ExitReason.GdtrIdtrAccess,
            "reveals the monitor's GDT at any CPL [RI00]; in non-root mode it reads the guest's"),
        new(Instruction.Sidt, "SIDT", false, true, MisbehavesSilently, ExitsUnderControl, "descriptor-table exiting", ExitReason.GdtrIdtrAccess,
            "as SGDT, for the IDT [RI00]"),
        new(Instruction.Sldt, "SLDT", false, true, MisbehavesSilently, ExitsUnderControl, "descriptor-table exiting", ExitReason.LdtrTrAccess, "[RI00]"),
        new(Instruction.Str, "STR", false, true, MisbehavesSilently, ExitsUnderControl, "descriptor-table exiting", ExitReason.LdtrTrAccess, "[RI00]"),
        new(Instruction.Smsw, "SMSW", false, true, MisbehavesSilently, NeverExits, null, null,
            "reveals CR0's low bits at any CPL [RI00]; under VT-x it reads the CR0 read shadow [SDM3C]"),
        new(Instruction.Lmsw, "LMSW", true, true, Traps, ExitsUnderControl, "CR0 guest/host mask", ExitReason.ControlRegisterAccess, "[SDM2, SDM3C]"),
        new(Instruction.Clts, "CLTS", true, true, Traps, ExitsUnderControl, "CR0 guest/host mask", ExitReason.ControlRegisterAccess, "[SDM2, SDM3C]"),
        new(Instruction.Lar, "LAR", false, true, MisbehavesSilently, NeverExits, null, null, "result depends on CPL [RI00]"),
        new(Instruction.Lsl, "LSL", false, true, MisbehavesSilently, NeverExits, null, null, "result depends on CPL [RI00]"),
        new(Instruction.Verr, "VERR", false, true, MisbehavesSilently, NeverExits, null, null, "result depends on CPL [RI00]"),
        new(Instruction.Verw, "VERW", false, true, MisbehavesSilently, NeverExits, null, null, "result depends on CPL [RI00]"),
        new(Instruction.PushSegment, "PUSH CS/SS", false, true, MisbehavesSilently, NeverExits, null, null, "the selector's RPL reveals the CPL [RI00]"),
        new(Instruction.PopSegment, "POP seg", false, true, MisbehavesSilently, NeverExits, null, null, "privilege checks depend on CPL [RI00]"),
        new(Instruction.MovSegment, "MOV seg", false, true, MisbehavesSilently, NeverExits, null, null, "privilege checks depend on CPL [RI00]"),
        new(Instruction.FarCall, "CALL far", false, true, MisbehavesSilently, NeverExits, null, null, "call-gate checks depend on CPL [RI00]"),
        new(Instruction.FarJmp, "JMP far", false, true, MisbehavesSilently, NeverExits, null, null, "as CALL far [RI00]"),
        new(Instruction.FarRet, "RET far", false, true, MisbehavesSilently, NeverExits, null, null, "as CALL far [RI00]"),
        new(Instruction.Wbinvd, "WBINVD", true, true, Traps, ExitsUnderControl, "WBINVD exiting", ExitReason.Wbinvd, "[SDM2, SDM3C]"),
        new(Instruction.Vmcall, "VMCALL", false, false, Unaffected, AlwaysExits, null, ExitReason.Vmcall,
            "the hypercall instruction; #UD outside VMX non-root mode [SDM3C]"),
        new(Instruction.Vmresume, "VMRESUME", true, true, Traps, AlwaysExits, null, ExitReason.Vmresume,
            "enters VMX non-root mode from root mode; exits if a guest executes it (nested virtualization) [SDM3C]"),
        new(Instruction.Vmread, "VMREAD", true, true, Traps, AlwaysExits, null, ExitReason.Vmread,
            "reads a VMCS field in root mode; in a guest it exits (without VMCS shadowing) [SDM3C]"),
        new(Instruction.Vmwrite, "VMWRITE", true, true, Traps, AlwaysExits, null, ExitReason.Vmwrite,
            "as VMREAD, for writes [SDM3C]"),
    ];

    private static readonly InstructionInfo[] ByInstruction = Index();

    public static IReadOnlyList<InstructionInfo> All => Rows;

    public static InstructionInfo Of(Instruction instruction) => ByInstruction[(int)instruction];

    private static InstructionInfo[] Index()
    {
        var index = new InstructionInfo[Enum.GetValues<Instruction>().Length];
        foreach (InstructionInfo row in Rows)
        {
            if (index[(int)row.Instruction] is not null)
            {
                throw new InvalidOperationException($"{row.Instruction} has two rows in the instruction table.");
            }
            index[(int)row.Instruction] = row;
        }
        int missing = Array.IndexOf(index, null);
        return missing < 0 ? index : throw new InvalidOperationException($"{(Instruction)missing} has no row in the instruction table.");
    }
}
