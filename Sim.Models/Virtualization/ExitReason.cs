namespace Sim.Models.Virtualization;

/// <summary>
/// VMX basic exit reasons, with the numbers of Intel SDM Vol. 3D, Appendix C ("VMX Basic Exit
/// Reasons"). Only the reasons the models can produce are listed.
/// </summary>
public enum ExitReason
{
    ExceptionOrNmi = 0,
    ExternalInterrupt = 1,
    InterruptWindow = 7,
    Cpuid = 10,
    Hlt = 12,
    Invlpg = 14,
    Rdtsc = 16,
    Vmcall = 18,
    Vmread = 23,
    Vmresume = 24,
    Vmwrite = 25,
    ControlRegisterAccess = 28,
    IoInstruction = 30,
    Rdmsr = 31,
    Wrmsr = 32,
    Pause = 40,

    /// <summary>A MOV to CR8 under the TPR shadow dropped the virtual priority below the TPR threshold: trap-like, after the instruction.</summary>
    TprBelowThreshold = 43,
    ApicAccess = 44,
    GdtrIdtrAccess = 46,
    LdtrTrAccess = 47,
    EptViolation = 48,
    EptMisconfiguration = 49,
    Wbinvd = 54,

    /// <summary>A write to the APIC-access page that APICv completes only with the monitor's help (an ICR write): trap-like, after the write.</summary>
    ApicWrite = 56,
}
