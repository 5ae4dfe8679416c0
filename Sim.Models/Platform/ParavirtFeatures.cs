namespace Sim.Models.Platform;

/// <summary>
/// The paravirtual features a hypervisor offers its guests, as KVM lists them in CPUID leaf
/// 0x40000001 (KVM_FEATURE_* bits, arch/x86/include/uapi/asm/kvm_para.h). A physical machine
/// offers none; a guest kernel looks at them at boot and patches its paths to use them.
/// </summary>
[Flags]
public enum ParavirtFeatures
{
    None = 0,

    /// <summary>KVM_FEATURE_STEAL_TIME (bit 5): each virtual CPU registers a struct kvm_steal_time with MSR_KVM_STEAL_TIME, which the host updates, and whose preempted byte says whether the host descheduled it while it could run.</summary>
    StealTime = 1 << 5,

    /// <summary>KVM_FEATURE_PV_TLB_FLUSH (bit 9, Linux 4.16): a TLB shootdown sends no IPI to a preempted virtual CPU but sets KVM_VCPU_FLUSH_TLB in its steal-time area, and the host flushes its TLB before it next enters the guest. A guest uses it only with <see cref="StealTime"/> (pv_tlb_flush_supported).</summary>
    PvTlbFlush = 1 << 9,
}
