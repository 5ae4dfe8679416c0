using Sim.Models.Hardware;

namespace Sim.Models.Virtualization;

/// <summary>How the CPU is virtualized (DESIGN, "orthogonal techniques").</summary>
public enum CpuVirtualization
{
    /// <summary>No virtualization: the kernel runs on the machine.</summary>
    Native,

    /// <summary>Classic deprivileging: privileged instructions fault to the monitor.</summary>
    TrapAndEmulate,

    /// <summary>VMware's software VMM: guest kernel code translated into a translation cache.</summary>
    BinaryTranslation,

    /// <summary>VT-x: the guest runs in VMX non-root mode; the VMCS controls say what exits.</summary>
    HardwareAssist,

    /// <summary>Xen PV: a modified guest kernel makes hypercalls.</summary>
    Paravirtual,

    /// <summary>OS-level: containers share one kernel.</summary>
    None,
}

/// <summary>How guest address translation is virtualized.</summary>
public enum MmuVirtualization
{
    /// <summary>The one-dimensional walk of a kernel on the machine (or of containers).</summary>
    Native,

    /// <summary>Shadow page tables kept by the hypervisor; guest tables write-protected.</summary>
    Shadow,

    /// <summary>EPT/NPT: the two-dimensional walk.</summary>
    Nested,

    /// <summary>Xen PV: guest tables are the real ones, validated on update by hypercall.</summary>
    Direct,
}

/// <summary>How devices are virtualized.</summary>
public enum IoVirtualization
{
    /// <summary>The kernel drives the machine's devices itself.</summary>
    Native,

    /// <summary>Register-level device models: one exit per register access.</summary>
    Emulated,

    /// <summary>virtio-style split rings with batched notifications.</summary>
    Paravirtual,

    /// <summary>SR-IOV virtual function and IOMMU: no exits on the data path.</summary>
    Passthrough,
}

/// <summary>Where the hypervisor lives.</summary>
public enum Hosting
{
    /// <summary>On the machine: exits go to the hypervisor and return (and a native kernel is on the machine too).</summary>
    BareMetal,

    /// <summary>Type 2: a driver and a user process of a host OS; device exits take a world switch to the host.</summary>
    Hosted,

    /// <summary>Containers: one kernel for all.</summary>
    SharedKernel,
}

/// <summary>
/// One combination of the four virtualization axes; a preset is a named combination
/// (<see cref="ForPreset"/>). Every axis can be set on its own.
/// </summary>
public sealed record VirtualizationAxes(CpuVirtualization Cpu, MmuVirtualization Mmu, IoVirtualization Io, Hosting Hosting)
{
    /// <summary>The preset names of DESIGN.md, in order.</summary>
    public static readonly IReadOnlyList<string> Presets = ["native", "type1", "type2", "paravirt", "oslevel"];

    public static readonly VirtualizationAxes Native = new(CpuVirtualization.Native, MmuVirtualization.Native, IoVirtualization.Native, Hosting.BareMetal);

    public bool IsNative => this == Native;

    /// <summary>
    /// The axes of <paramref name="preset"/> on <paramref name="profile"/>: a hardware-assisted
    /// hypervisor uses nested paging where the CPU has EPT and shadow paging where it does not.
    /// </summary>
    public static VirtualizationAxes ForPreset(string preset, HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        MmuVirtualization assisted = profile.Features.Ept ? MmuVirtualization.Nested : MmuVirtualization.Shadow;
        return preset switch
        {
            "native" => Native,
            "type1" => new(CpuVirtualization.HardwareAssist, assisted, IoVirtualization.Emulated, Hosting.BareMetal),
            "type2" => new(CpuVirtualization.HardwareAssist, assisted, IoVirtualization.Emulated, Hosting.Hosted),
            "paravirt" => new(CpuVirtualization.Paravirtual, MmuVirtualization.Direct, IoVirtualization.Paravirtual, Hosting.BareMetal),
            "oslevel" => new(CpuVirtualization.None, MmuVirtualization.Native, IoVirtualization.Native, Hosting.SharedKernel),
            _ => throw new ArgumentException($"There is no preset '{preset}'; the presets are: {string.Join(", ", Presets)}.", nameof(preset)),
        };
    }

    /// <summary>
    /// The axes of <paramref name="preset"/> with some set on their own. A CPU axis that differs
    /// from the preset's brings its usual companions for the axes left unset (a monitor without
    /// VT-x shadow paging and emulated devices, VT-x nested paging where the CPU has EPT, a
    /// paravirtual kernel direct paging and paravirtual devices, containers a shared kernel), so
    /// that <c>--cpu binary-translation --hosting hosted</c> means what it says.
    /// </summary>
    public static VirtualizationAxes Resolve(string preset, HardwareProfile profile, CpuVirtualization? cpu, MmuVirtualization? mmu, IoVirtualization? io, Hosting? hosting)
    {
        VirtualizationAxes start = ForPreset(preset, profile);
        if (cpu is { } c && c != start.Cpu)
        {
            MmuVirtualization assisted = profile.Features.Ept ? MmuVirtualization.Nested : MmuVirtualization.Shadow;
            start = c switch
            {
                CpuVirtualization.Native => Native,
                CpuVirtualization.HardwareAssist => new(c, assisted, IoVirtualization.Emulated, start.Hosting == Hosting.Hosted ? Hosting.Hosted : Hosting.BareMetal),
                CpuVirtualization.TrapAndEmulate or CpuVirtualization.BinaryTranslation =>
                    new(c, MmuVirtualization.Shadow, IoVirtualization.Emulated, start.Hosting == Hosting.Hosted ? Hosting.Hosted : Hosting.BareMetal),
                CpuVirtualization.Paravirtual => new(c, MmuVirtualization.Direct, IoVirtualization.Paravirtual, Hosting.BareMetal),
                _ => new(c, MmuVirtualization.Native, IoVirtualization.Native, Hosting.SharedKernel),
            };
        }
        return new VirtualizationAxes(start.Cpu, mmu ?? start.Mmu, io ?? start.Io, hosting ?? start.Hosting);
    }

    /// <summary>
    /// Why these axes cannot run on <paramref name="profile"/>, or null when they can: combinations
    /// the hardware forbids, and those whose models are not built yet.
    /// </summary>
    public string? Problem(HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (Mmu == MmuVirtualization.Nested && !profile.Features.Ept)
        {
            return $"nested paging needs EPT, which {profile.Name} does not have (use --mmu shadow, or a profile with EPT)";
        }
        if (Cpu == CpuVirtualization.HardwareAssist && !profile.Features.Vmx)
        {
            return $"hardware-assisted virtualization needs VT-x, which {profile.Name} does not have";
        }
        if (Mmu == MmuVirtualization.Nested && Cpu != CpuVirtualization.HardwareAssist)
        {
            return "nested paging is a feature of hardware-assisted virtualization (--cpu hardware-assist)";
        }
        if (Cpu is CpuVirtualization.TrapAndEmulate or CpuVirtualization.BinaryTranslation && Mmu != MmuVirtualization.Shadow)
        {
            return "a monitor without VT-x virtualizes memory with shadow page tables (--mmu shadow)";
        }
        if (Mmu == MmuVirtualization.Direct && Cpu != CpuVirtualization.Paravirtual)
        {
            return "direct paging needs a paravirtual kernel, which updates its page tables by hypercall (--cpu paravirtual)";
        }
        if (Cpu == CpuVirtualization.Paravirtual && Mmu != MmuVirtualization.Direct)
        {
            return "a paravirtual kernel's page tables are the ones the hardware walks (--mmu direct)";
        }
        if (Io == IoVirtualization.Passthrough && !profile.Features.Iommu)
        {
            return $"device assignment (passthrough) needs an IOMMU (VT-d), which {profile.Name}'s platform does not have";
        }
        if (Io == IoVirtualization.Passthrough && (Cpu != CpuVirtualization.HardwareAssist || Hosting != Hosting.BareMetal))
        {
            return "passthrough is built for a bare-metal VT-x hypervisor (--cpu hardware-assist --hosting bare-metal)";
        }
        if (Hosting == Hosting.SharedKernel && Cpu != CpuVirtualization.None)
        {
            return "a shared kernel (containers) has no hypervisor: --cpu none";
        }
        if (Cpu == CpuVirtualization.None && (Hosting != Hosting.SharedKernel || Mmu != MmuVirtualization.Native || Io != IoVirtualization.Native))
        {
            return "containers (--cpu none) share the machine's kernel: --mmu native --io native --hosting shared-kernel";
        }
        bool built = IsNative ||
            (Cpu is CpuVirtualization.HardwareAssist or CpuVirtualization.TrapAndEmulate or CpuVirtualization.BinaryTranslation &&
             Mmu is MmuVirtualization.Nested or MmuVirtualization.Shadow && Io is IoVirtualization.Emulated or IoVirtualization.Paravirtual or IoVirtualization.Passthrough &&
             Hosting is Hosting.BareMetal or Hosting.Hosted) ||
            (Cpu == CpuVirtualization.Paravirtual && Io is IoVirtualization.Emulated or IoVirtualization.Paravirtual && Hosting == Hosting.BareMetal) ||
            Cpu == CpuVirtualization.None;
        return built ? null
            : $"{this} is not built yet (docs/virtualization.md lists what runs)";
    }

    /// <summary>The axes as the command line names them: cpu / mmu / io / hosting.</summary>
    public override string ToString() => $"{AxisNames.Of(Cpu)} / {AxisNames.Of(Mmu)} / {AxisNames.Of(Io)} / {AxisNames.Of(Hosting)}";
}
