using Sim.Experiments.Scenarios;

namespace Sim.Experiments.Tests.Scenarios;

public class ScenarioFileTests
{
    [Fact]
    public void A_run_is_filed_under_its_preset_unless_its_axes_were_set_apart_from_it()
    {
        Assert.Equal("gups-nehalem-x5570-type1", ScenarioFile.Parse("workload: gups\nprofile: nehalem-x5570\npreset: type1\n", "a.yaml").DefaultFolderName());
        Assert.Equal("gups-nehalem-x5570-type1", ScenarioFile.Parse("workload: gups\nprofile: nehalem-x5570\npreset: type1\nmmu: nested\n", "b.yaml").DefaultFolderName()); // what the preset has anyway
        Assert.Equal("rdtsc-p4-672-binary-translation-shadow-emulated-bare-metal",
            ScenarioFile.Parse("workload: rdtsc\nprofile: p4-672\ncpu: binary-translation\nmmu: shadow\n", "c.yaml").DefaultFolderName());
    }

    [Fact]
    public void A_full_scenario_is_read_and_the_defaults_fill_in_the_rest()
    {
        WorkloadScenario s = ScenarioFile.Parse("""
            # fio on the rotating disk
            workload: fio-randread-qd32
            profile: nehalem-x5570
            size: 500
            seed: 7
            disk: hdd
            disk_interface: ahci
            """, "fio.yaml");
        Assert.Equal(new WorkloadScenario { Workload = "fio-randread-qd32", Profile = "nehalem-x5570", Size = 500, Seed = 7, Disk = "hdd" }, s);
        Assert.Equal(new WorkloadScenario(), ScenarioFile.Parse("workload: syscall\n", "plain.yaml"));
        Assert.Null(new WorkloadScenario().FirstProblem());
        Assert.Equal(10_000L, new WorkloadScenario().Resolved()["size"]); // the workload's default size, written out
    }

    [Theory]
    [InlineData("workload: syscall\nwrkload: gups\n", "bad.yaml, line 2: unknown key 'wrkload'; the keys are: workload, profile")]
    [InlineData("size: many\n", "bad.yaml, line 1: size: 'many' is not a whole number")]
    [InlineData("seed: -3\n", "bad.yaml, line 1: seed: '-3' is not a whole number")]
    [InlineData("size: 0\n", "bad.yaml, line 1: size: size must be a positive whole number")]
    [InlineData("repetitions: 0\n", "bad.yaml, line 1: repetitions: repetitions must be 1 to 1000")]
    [InlineData("profile: skylake\n", "bad.yaml, line 1: profile: there is no hardware profile 'skylake'; the profiles are: p4-672, core2-merom")]
    [InlineData("preset: type2\nio: passthrough\nprofile: nehalem-x5570\n", "bad.yaml: preset 'type2' on nehalem-x5570 (hardware-assist / nested / passthrough / hosted): passthrough is built for a bare-metal VT-x hypervisor")]
    [InlineData("preset: paravirt\nhosting: hosted\n", "bad.yaml: preset 'paravirt' on p4-672 (paravirtual / direct / paravirtual / hosted): paravirtual / direct / paravirtual / hosted is not built yet")]
    [InlineData("preset: type1\nmmu: nested\n", "bad.yaml: preset 'type1' on p4-672 (hardware-assist / nested / emulated / bare-metal): nested paging needs EPT, which p4-672 does not have")]
    [InlineData("cpu: vt-x\n", "bad.yaml, line 1: cpu: there is no cpu virtualization 'vt-x'; the choices are: native, trap-and-emulate, binary-translation, hardware-assist")]
    [InlineData("workload: [gups, stream]\n", "bad.yaml, line 1: 'workload' takes a single value")]
    [InlineData("- gups\n", "bad.yaml, line 1: a scenario is a mapping of keys to values")]
    [InlineData("outputs: [report, sound]\n", "bad.yaml, line 1: outputs: there is no output 'sound'; the outputs are: stats, report, plots")]
    [InlineData("time_limit_ms: 0\n", "bad.yaml, line 1: time_limit_ms: time_limit_ms must be a whole number of milliseconds from 1")]
    [InlineData("workload: gups\nrequest_rate: 5\n", "bad.yaml, line 2: request_rate: request_rate is for the services with an open-loop client (web), not gups")]
    [InlineData("guest_memory_mib: 100.5\n", "bad.yaml, line 1: guest_memory_mib: '100.5' is not a whole number")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nguests: 8\nhost_memory_mib: 2048\n", "bad.yaml: the guests do not fit: 8 virtual machines of 512 MiB")]
    [InlineData("workload: \"gups\n", "bad.yaml, line 1: not valid YAML")]
    [InlineData("workload: gups\nworkload: stream\n", "bad.yaml, line 2: not valid YAML: Duplicate key workload")]
    [InlineData("", "bad.yaml: the file holds no scenario (it is empty or only comments)")]
    [InlineData("# only a comment\n", "bad.yaml: the file holds no scenario")]
    [InlineData("workload: gups\n---\nworkload: stream\n", "bad.yaml, line 3: a second YAML document")]
    [InlineData("container_memory_mib: 64\n", "bad.yaml: container_memory_mib limits a container, and preset 'native'")]
    [InlineData("preset: type1\ncontainer_cpus: 0.5\n", "bad.yaml: container_cpus limits a container, and preset 'type1'")]
    [InlineData("preset: native\ncontainer_shares: 512\n", "bad.yaml: container_shares limits a container, and preset 'native'")]
    [InlineData("preset: oslevel\nvcpu_weights: 512\n", "bad.yaml: vcpu_weights places the virtual CPUs of the VT-x hypervisor's scheduler, and preset 'oslevel'")]
    [InlineData("preset: type1\nguests: 2\nvcpu_weights: 512,0\n", "bad.yaml, line 3: vcpu_weights: vcpu_weights must be a weight or a comma list of weights, each 1 to 65535")]
    [InlineData("preset: type1\nguests: 2\nvcpu_caps: 50,101\n", "bad.yaml, line 3: vcpu_caps: vcpu_caps must be a cap or a comma list of caps, each 0 (none) to 100 percent of one CPU for each virtual CPU of its VM")]
    [InlineData("preset: type1\nguests: 2\nvcpus: 2,1\nvcpu_caps: 200,150\n", "bad.yaml, line 4: vcpu_caps: vcpu_caps must be a cap or a comma list of caps, each 0 (none) to 100 percent of one CPU for each virtual CPU of its VM, as xl sched-credit -c takes (got '200,150')")]
    [InlineData("preset: paravirt\nvcpu_caps: 50\n", "bad.yaml: vcpu_caps places the virtual CPUs of the VT-x hypervisor's scheduler, and preset 'paravirt'")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nhost_cores: 2\nguests: 2\nvcpu_pinning: 1,2\n", "bad.yaml, line 5: vcpu_pinning: vcpu_pinning names CPU 2, and the host has CPUs 0 to 1")]
    [InlineData("preset: type1\nvcpu_pinning: 0,0\n", "bad.yaml, line 2: vcpu_pinning: vcpu_pinning names 2 CPUs for 1 guests")]
    [InlineData("preset: type2\nvcpu_pinning: first\n", "bad.yaml, line 2: vcpu_pinning: vcpu_pinning must be a CPU or a comma list of CPUs")]
    [InlineData("preset: type1\nguests: 2\nvcpus: 4,0\n", "bad.yaml, line 3: vcpus: vcpus must be a count or a comma list of counts, one per guest in order (the last for the rest), each 1 to 64 (got '4,0')")]
    [InlineData("workload: kernel-build\npreset: paravirt\nvcpus: 2\n", "bad.yaml: vcpus places the virtual CPUs of the VT-x hypervisor's scheduler, and preset 'paravirt'")]
    [InlineData("workload: kernel-build\nprofile: nehalem-x5570\npreset: type1\nmmu: shadow\nvcpus: 2\n", "bad.yaml: preset 'type1' on nehalem-x5570 (hardware-assist / shadow / emulated / bare-metal): a virtual machine of several virtual CPUs needs nested paging (EPT)")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nple_window: 4096\n", "bad.yaml: ple_window: nehalem-x5570's CPU has no PAUSE-loop exiting (it came after the first Nehalems; of the profiles, skylake-sp has it); leave ple_window default or off")]
    [InlineData("preset: type1\nprofile: skylake-sp\nple_window: soon\n", "bad.yaml, line 3: ple_window: ple_window must be default, off, or a window of 1 to 1000000000 TSC cycles (got 'soon')")]
    [InlineData("preset: type1\nprofile: skylake-sp\nple_gap: 0\n", "bad.yaml, line 3: ple_gap: ple_gap must be 1 to 1000000000 TSC cycles (got 0)")]
    [InlineData("preset: type1\nhost_scheduler: eevdf\n", "bad.yaml, line 2: host_scheduler: there is no host scheduler 'eevdf'; the host schedulers are: default, credit, cfs")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nguest_memory_backing: on_touch\nguest_memory_mib: 256\nballoon_mib: 256\n", "bad.yaml, line 5: balloon_mib: balloon_mib is the memory a VM's balloon holds, 0 to 255 MiB: less than its guest_memory_mib of 256 (got 256)")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nguest_memory_backing: on_touch\nballoon_mib: 64\nballoon_at_ms: -1\n", "bad.yaml, line 5: balloon_at_ms: balloon_at_ms must be 0 or more milliseconds, or boot (got -1)")]
    [InlineData("preset: type1\nguest_memory_mib: 256\nguest_boot_cache_mib: 200\nguest_boot_anon_mib: 56\n", "bad.yaml, line 4: guest_boot_anon_mib: guest_boot_cache_mib and guest_boot_anon_mib are what a VM's boot leaves in its memory, 0 or more MiB each and together less than its guest_memory_mib of 256 (got 200 and 56)")]
    [InlineData("preset: type1\nguest_boot_anon_mib: -1\n", "bad.yaml, line 2: guest_boot_anon_mib: guest_boot_cache_mib and guest_boot_anon_mib are what a VM's boot leaves")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nguest_memory_backing: on_touch\nksm_pages_to_scan: 0\n", "bad.yaml, line 4: ksm_pages_to_scan: ksm_pages_to_scan is the pages ksmd scans per batch, 1 to 1000000 (got 0)")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nguest_memory_backing: on_touch\nksm_pages_to_scan: 100\nksm_sleep_ms: 0\n", "bad.yaml, line 5: ksm_sleep_ms: ksm_sleep_ms is ksmd's sleep between batches, more than 0 and at most 3600000 ms (got 0)")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nksm_pages_to_scan: 100\n", "bad.yaml: ksm_pages_to_scan: page merging maps a VM's guest pages one by one onto shared frames of a VT-x host that backs them on first touch, and this scenario has preset 'type1' on nehalem-x5570 (hardware-assist / nested / emulated / bare-metal), guest_memory_backing preallocated;")]
    [InlineData("preset: oslevel\nguest_memory_backing: on_touch\nksm_pages_to_scan: 100\n", "bad.yaml: ksm_pages_to_scan: page merging maps a VM's guest pages")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nballoon_mib: 64\n", "bad.yaml: balloon_mib: the balloon gives guest pages back to a VT-x host that backs them on first touch, and this scenario has preset 'type1' on nehalem-x5570 (hardware-assist / nested / emulated / bare-metal), guest_memory_backing preallocated;")]
    [InlineData("preset: oslevel\nguest_memory_backing: on_touch\nballoon_mib: 64\n", "bad.yaml: balloon_mib: the balloon gives guest pages back to a VT-x host")]
    [InlineData("preset: type1\nprofile: core2-merom\nlarge_ept_pages: true\n", "bad.yaml: large_ept_pages maps guest memory with 2 MiB EPT pages, and preset 'type1' on core2-merom")]
    [InlineData("preset: type1\ntransparent_hugepages: always\nkhugepaged_sleep_ms: 0\n", "bad.yaml, line 3: khugepaged_sleep_ms: khugepaged_sleep_ms is khugepaged's sleep between batches, more than 0 and at most 3600000 ms (got 0)")]
    [InlineData("preset: type1\nkhugepaged_sleep_ms: 100\n", "bad.yaml: khugepaged_sleep_ms sets khugepaged, which collapses pages into transparent huge pages, and this scenario has transparent_hugepages never")]
    [InlineData("workload: lat-pagefault\npreset: type1\nswap_mib: -1\n", "bad.yaml, line 3: swap_mib: swap_mib is the swap area of each Linux-like kernel, 0 (none) to 32768 MiB (got -1)")]
    [InlineData("workload: lat-pagefault\npreset: type1\nswap_mib: 40000\n", "bad.yaml, line 3: swap_mib: swap_mib is the swap area of each Linux-like kernel, 0 (none) to 32768 MiB (got 40000)")]
    [InlineData("workload: lat-pagefault\npreset: type1\nswap_mib: lots\n", "bad.yaml, line 3: swap_mib: 'lots' is not a whole number of MiB")]
    [InlineData("workload: lat-pagefault\npreset: native\ndisk_interface: ata-pio\nswap_mib: 64\n", "bad.yaml: swap_mib puts a swap area on the disk, and disk_interface ata-pio takes one request at a time while reclaim writes many")]
    [InlineData("workload: lat-pagefault\npreset: type1\ncontainer_swap: false\n", "bad.yaml: container_swap decides whether a container may swap, and preset 'type1'")]
    [InlineData("workload: lat-pagefault\npreset: oslevel\ncontainer_swap: sometimes\n", "bad.yaml, line 3: container_swap: 'sometimes' is not true or false")]
    [InlineData("preset: type1\ntransparent_hugepages: often\n", "bad.yaml, line 2: transparent_hugepages: there is no transparent_hugepages mode 'often'; the modes are: never, always")]
    [InlineData("preset: type1\nio: paravirtual\niothread_cpu: 4\n", "bad.yaml, line 3: iothread_cpu: iothread_cpu is vcpu or one of the host's CPUs, 0 to 0 (got 4)")]
    [InlineData("preset: type1\nio: paravirtual\niothread_cpu: own\n", "bad.yaml, line 3: iothread_cpu: iothread_cpu is vcpu or one of the host's CPUs")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nnic: 82599\n", "bad.yaml: nic 82599 is the machine's own multi-queue NIC, and under preset 'type1'")]
    [InlineData("preset: native\nnic: x710\n", "bad.yaml, line 2: nic: there is no NIC 'x710'; the NICs are: e1000, 82599")]
    [InlineData("preset: type2\nprofile: nehalem-x5570\nhost_cores: 2\niothread_cpu: 1\n", "bad.yaml: iothread_cpu pins the device backends (QEMU's I/O thread and vhost under preset type1 with emulated or paravirtual devices, dom0's netback and blkback under preset paravirt), and preset 'type2'")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nio: passthrough\nhost_cores: 2\niothread_cpu: 1\n", "bad.yaml: iothread_cpu pins the device backends")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nio: passthrough\nguests: 64\n", "bad.yaml: io passthrough gives each of the 64 guests a virtual function of the host's NIC, and its port offers 63")]
    [InlineData("preset: oslevel\ncontainer_network: overlay\n", "bad.yaml, line 2: container_network: there is no container network 'overlay'; the modes are: bridge, host, nat")]
    [InlineData("preset: type1\ncontainer_network: host\n", "bad.yaml: container_network decides how a container reaches the NIC, and preset 'type1'")]
    [InlineData("preset: type1\nprofile: nehalem-x5570\nvirtio_backend: kernel\n", "bad.yaml: virtio_backend kernel puts the virtio devices' backend in the host kernel (vhost), which needs virtio devices (io paravirtual) under a VT-x hypervisor (KVM's ioeventfd and irqfd), and preset 'type1' (hardware-assist / nested / emulated / bare-metal) has no virtio devices")]
    [InlineData("preset: paravirt\nvirtio_backend: kernel\n", "bad.yaml: virtio_backend kernel puts the virtio devices' backend in the host kernel (vhost), which needs virtio devices (io paravirtual) under a VT-x hypervisor (KVM's ioeventfd and irqfd), and preset 'paravirt'")]
    [InlineData("preset: type2\ncpu: binary-translation\nio: paravirtual\nprofile: p4-672\nvirtio_backend: kernel\n", "bad.yaml: virtio_backend kernel puts the virtio devices' backend in the host kernel (vhost), which needs virtio devices (io paravirtual) under a VT-x hypervisor (KVM's ioeventfd and irqfd), and preset 'type2' (binary-translation / shadow / paravirtual / hosted) has no VT-x hypervisor; use preset type1 or type2 with io paravirtual")]
    [InlineData("preset: oslevel\nhost_scheduler: cfs\n", "bad.yaml: host_scheduler chooses the VT-x hypervisor's scheduler of virtual CPUs, and preset 'oslevel'")]
    [InlineData("preset: type1\nguests: 2\nhost_scheduler: cfs\nvcpu_caps: 50\n", "bad.yaml: vcpu_caps under the CFS host scheduler (host_scheduler cfs) would need CFS bandwidth control (cpu.cfs_quota_us), which the model does not have")]
    [InlineData("preset: type2\nguests: 2\nvcpu_caps: 50\n", "bad.yaml: vcpu_caps under the CFS host scheduler (preset 'type2''s default) would need CFS bandwidth control")]
    [InlineData("preset: paravirt\npv_spinlocks: true\n", "bad.yaml: pv_spinlocks are KVM's paravirtual spinlocks, whose kick is a hypercall of the VT-x hypervisor, and preset 'paravirt'")]
    [InlineData("preset: type1\npv_spinlocks: maybe\n", "bad.yaml, line 2: pv_spinlocks: 'maybe' is not true or false")]
    [InlineData("preset: oslevel\npv_tlb_flush: true\n", "bad.yaml: pv_tlb_flush is KVM's paravirtual TLB flush, done by the VT-x hypervisor at a virtual CPU's entry, and preset 'oslevel'")]
    [InlineData("preset: type1\npv_tlb_flush: yes please\n", "bad.yaml, line 2: pv_tlb_flush: 'yes please' is not true or false")]
    [InlineData("preset: oslevel\nprofile: skylake-sp\nple_window: off\n", "bad.yaml: ple_window sets the VT-x hypervisor's PAUSE-loop exiting, and preset 'oslevel'")]
    [InlineData("workload: compute\nprofile: nehalem-x5570\npreset: type1\nvcpus: 2\n", "bad.yaml: preset 'type1' on nehalem-x5570 (hardware-assist / nested / emulated / bare-metal): compute runs on the minimal test kernel, which uses one CPU")]
    [InlineData("workload: kernel-build\nprofile: nehalem-x5570\npreset: type1\nhost_cores: 2\nvcpus: 4\nvcpu_pinning: 1\n", "bad.yaml, line 6: vcpu_pinning: vcpu_pinning gives a virtual machine's 4 virtual CPUs CPUs of their own from the pinned one on, and the host has 2")]
    [InlineData("workload: kernel-build\nprofile: nehalem-x5570\npreset: type1\nguests: 4\nvcpus: 64\n", "bad.yaml: preset 'type1' on nehalem-x5570 (hardware-assist / nested / emulated / bare-metal): the guests' virtual CPUs number 256, and a host runs at most 254")]
    [InlineData("workload: stream\nsize: 30000000\n", "bad.yaml: stream at size 30000000 touches 686 MiB of data, more than the machine's 512 MiB")]
    public void Each_kind_of_mistake_is_refused_with_the_file_the_line_the_key_and_what_is_allowed(string yaml, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Parse(yaml, "bad.yaml"));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_refused_with_its_name()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioFile.Load(Path.Combine(Path.GetTempPath(), "no-such-scenario.yaml")));
        Assert.Contains("no-such-scenario.yaml: cannot read the scenario", e.Message, StringComparison.Ordinal);
    }
}
