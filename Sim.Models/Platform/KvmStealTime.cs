namespace Sim.Models.Platform;

/// <summary>
/// The layout of KVM's struct kvm_steal_time (arch/x86/include/uapi/asm/kvm_para.h), the area a
/// guest's virtual CPU shares with its host: 64 bytes, 64-byte aligned; u64 steal, u32 version,
/// u32 flags, then the u8 preempted the model reads and writes as the word at its offset.
/// </summary>
public static class KvmStealTime
{
    /// <summary>The size and alignment of the struct: 64 bytes.</summary>
    public const int Bytes = 64;

    /// <summary>The offset of the preempted byte.</summary>
    public const int PreemptedOffset = 16;

    /// <summary>KVM_VCPU_PREEMPTED: the host descheduled the virtual CPU while it could run (kvm_steal_time_set_preempted, from kvm_arch_vcpu_put).</summary>
    public const ulong Preempted = 1 << 0;

    /// <summary>KVM_VCPU_FLUSH_TLB: a shootdown asked the host to flush the virtual CPU's TLB before its next entry (record_steal_time), in place of an IPI.</summary>
    public const ulong FlushTlb = 1 << 1;
}
