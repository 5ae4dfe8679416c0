namespace Sim.Models.Kernel;

/// <summary>
/// The kernel's netfilter work for a container published through Docker's NAT
/// (<see cref="ContainerNetwork.Nat"/>), on each frame either way besides the bridge's, laid out in a
/// text block of its own at the kernel's first such container, so that a kernel without one keeps
/// its layout and its results. The connection is taken as established (its conntrack entry and
/// NAT mapping made by its first packet, before the measured run).
/// </summary>
public enum NatRoutine
{
    /// <summary>
    /// Connection tracking's lookup at the hook (net/netfilter/nf_conntrack_core.c: nf_conntrack_in,
    /// the tuple's hash in hash_conntrack_raw, ____nf_conntrack_find's walk of the bucket, and
    /// nf_ct_refresh_acct's timeout and counters): the bucket's head and the entry are read, the
    /// entry written.
    /// </summary>
    ConntrackLookup,

    /// <summary>
    /// The NAT rewrite the entry's mapping asks for (net/netfilter/nf_nat_core.c: nf_nat_inet_fn,
    /// nf_nat_packet, nf_nat_manip_pkt; nf_nat_proto.c: the IPv4 address and the UDP or TCP port
    /// rewritten with their checksums fixed by csum_replace4 and inet_proto_csum_replace4): DNAT of
    /// the published port on the way in, its reverse on the way out.
    /// </summary>
    NatRewrite,

    /// <summary>
    /// The filter table's FORWARD chain Docker sets up (DOCKER-USER, the two DOCKER-ISOLATION stages,
    /// the conntrack match that accepts an established flow, the DOCKER chain's rule for the
    /// published port), walked by ipt_do_table (net/ipv4/netfilter/ip_tables.c) rule by rule.
    /// </summary>
    ForwardFilter,
}
