//! ELF section name → program type, as libbpf 1.5 decides it.
//!
//! [`SECTION_DEFS`] is libbpf 1.5's `section_defs[]` (tools/lib/bpf/libbpf.c),
//! in the same order, and [`sec_def_matches`] / [`find_sec_def`] follow
//! libbpf's `sec_def_matches()` / `find_sec_def()`:
//!
//! * a prefix ending in `/` matches any name starting with it;
//! * a prefix ending in `+` matches the bare name (`SEC("kprobe")`) or the
//!   name followed by `/` and anything (`SEC("kprobe/do_unlinkat")`);
//! * any other prefix must match exactly;
//! * the first matching entry wins.
//!
//! libbpf 1.0 removed `SEC_SLOPPY_PFX` (free prefix matching, e.g.
//! `SEC("xdp_prog")` or `SEC("socket1")`); libbpf 1.5 leaves such sections
//! without a type (they fail to load unless the type is set by hand). As a
//! fallback after the libbpf table, [`prog_type_by_section`] consults
//! [`LEGACY_SECTION_DEFS`]: prefixes that older loaders accepted (libbpf 0.x,
//! the kernel's `samples/bpf/bpf_load.c`, iproute2's tc, bcc, cilium).
//! Those matches carry `legacy: true`.
//!
//! libbpf's convention `SEC("?name")` means `SEC("name")` with autoload
//! off: `bpf_object__init_prog()` drops one leading `?` before matching.

use super::prog_types::{AttachType, ProgType};

/// libbpf `SEC_NONE`: no flags.
pub const SEC_NONE: u32 = 0;
/// libbpf `SEC_EXP_ATTACH_OPT`: expected attach type dropped on old kernels.
pub const SEC_EXP_ATTACH_OPT: u32 = 1;
/// libbpf `SEC_ATTACHABLE`: legacy marker for `BPF_PROG_ATTACH`-able types.
pub const SEC_ATTACHABLE: u32 = 2;
/// libbpf `SEC_ATTACHABLE_OPT`: `SEC_ATTACHABLE | SEC_EXP_ATTACH_OPT`.
pub const SEC_ATTACHABLE_OPT: u32 = SEC_ATTACHABLE | SEC_EXP_ATTACH_OPT;
/// libbpf `SEC_ATTACH_BTF`: attach target given by a BTF id.
pub const SEC_ATTACH_BTF: u32 = 4;
/// libbpf `SEC_SLEEPABLE`: loaded with `BPF_F_SLEEPABLE`.
pub const SEC_SLEEPABLE: u32 = 8;
/// libbpf `SEC_XDP_FRAGS`: XDP loaded with `BPF_F_XDP_HAS_FRAGS`.
pub const SEC_XDP_FRAGS: u32 = 16;
/// libbpf `SEC_USDT`: USDT probe (attach type may become `trace_uprobe_multi`).
pub const SEC_USDT: u32 = 32;

/// One entry of libbpf's `section_defs[]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecDef {
    /// Section prefix as written in libbpf (`"kprobe+"`, `"xdp"`, ...).
    pub prefix: &'static str,
    /// Program type the section selects.
    pub prog_type: ProgType,
    /// Expected attach type; `None` where libbpf passes 0 ("unset").
    pub attach: Option<AttachType>,
    /// libbpf `SEC_*` flag bits (see the `SEC_*` constants).
    pub flags: u32,
}

impl SecDef {
    const fn new(
        prefix: &'static str,
        prog_type: ProgType,
        attach: Option<AttachType>,
        flags: u32,
    ) -> SecDef {
        SecDef {
            prefix,
            prog_type,
            attach,
            flags,
        }
    }

    /// Whether all bits of `flag` are set.
    pub const fn has_flag(&self, flag: u32) -> bool {
        self.flags & flag == flag
    }

    /// Whether libbpf loads programs of this section as sleepable.
    pub const fn is_sleepable(&self) -> bool {
        self.has_flag(SEC_SLEEPABLE)
    }
}

use AttachType as A;
use ProgType as P;

const fn d(prefix: &'static str, t: ProgType, a: Option<AttachType>, flags: u32) -> SecDef {
    SecDef::new(prefix, t, a, flags)
}

/// libbpf 1.5's `section_defs[]`, in libbpf's order (first match wins).
#[rustfmt::skip]
pub static SECTION_DEFS: &[SecDef] = &[
    d("socket", P::SocketFilter, None, SEC_NONE),
    d("sk_reuseport/migrate", P::SkReuseport, Some(A::SkReuseportSelectOrMigrate), SEC_ATTACHABLE),
    d("sk_reuseport", P::SkReuseport, Some(A::SkReuseportSelect), SEC_ATTACHABLE),
    d("kprobe+", P::Kprobe, None, SEC_NONE),
    d("uprobe+", P::Kprobe, None, SEC_NONE),
    d("uprobe.s+", P::Kprobe, None, SEC_SLEEPABLE),
    d("kretprobe+", P::Kprobe, None, SEC_NONE),
    d("uretprobe+", P::Kprobe, None, SEC_NONE),
    d("uretprobe.s+", P::Kprobe, None, SEC_SLEEPABLE),
    d("kprobe.multi+", P::Kprobe, Some(A::TraceKprobeMulti), SEC_NONE),
    d("kretprobe.multi+", P::Kprobe, Some(A::TraceKprobeMulti), SEC_NONE),
    d("kprobe.session+", P::Kprobe, Some(A::TraceKprobeSession), SEC_NONE),
    d("uprobe.multi+", P::Kprobe, Some(A::TraceUprobeMulti), SEC_NONE),
    d("uretprobe.multi+", P::Kprobe, Some(A::TraceUprobeMulti), SEC_NONE),
    d("uprobe.multi.s+", P::Kprobe, Some(A::TraceUprobeMulti), SEC_SLEEPABLE),
    d("uretprobe.multi.s+", P::Kprobe, Some(A::TraceUprobeMulti), SEC_SLEEPABLE),
    d("ksyscall+", P::Kprobe, None, SEC_NONE),
    d("kretsyscall+", P::Kprobe, None, SEC_NONE),
    d("usdt+", P::Kprobe, None, SEC_USDT),
    d("usdt.s+", P::Kprobe, None, SEC_USDT | SEC_SLEEPABLE),
    d("tc/ingress", P::SchedCls, Some(A::TcxIngress), SEC_NONE),
    d("tc/egress", P::SchedCls, Some(A::TcxEgress), SEC_NONE),
    d("tcx/ingress", P::SchedCls, Some(A::TcxIngress), SEC_NONE),
    d("tcx/egress", P::SchedCls, Some(A::TcxEgress), SEC_NONE),
    d("tc", P::SchedCls, None, SEC_NONE),
    d("classifier", P::SchedCls, None, SEC_NONE),
    d("action", P::SchedAct, None, SEC_NONE),
    d("netkit/primary", P::SchedCls, Some(A::NetkitPrimary), SEC_NONE),
    d("netkit/peer", P::SchedCls, Some(A::NetkitPeer), SEC_NONE),
    d("tracepoint+", P::Tracepoint, None, SEC_NONE),
    d("tp+", P::Tracepoint, None, SEC_NONE),
    d("raw_tracepoint+", P::RawTracepoint, None, SEC_NONE),
    d("raw_tp+", P::RawTracepoint, None, SEC_NONE),
    d("raw_tracepoint.w+", P::RawTracepointWritable, None, SEC_NONE),
    d("raw_tp.w+", P::RawTracepointWritable, None, SEC_NONE),
    d("tp_btf+", P::Tracing, Some(A::TraceRawTp), SEC_ATTACH_BTF),
    d("fentry+", P::Tracing, Some(A::TraceFentry), SEC_ATTACH_BTF),
    d("fmod_ret+", P::Tracing, Some(A::ModifyReturn), SEC_ATTACH_BTF),
    d("fexit+", P::Tracing, Some(A::TraceFexit), SEC_ATTACH_BTF),
    d("fentry.s+", P::Tracing, Some(A::TraceFentry), SEC_ATTACH_BTF | SEC_SLEEPABLE),
    d("fmod_ret.s+", P::Tracing, Some(A::ModifyReturn), SEC_ATTACH_BTF | SEC_SLEEPABLE),
    d("fexit.s+", P::Tracing, Some(A::TraceFexit), SEC_ATTACH_BTF | SEC_SLEEPABLE),
    d("freplace+", P::Ext, None, SEC_ATTACH_BTF),
    d("lsm+", P::Lsm, Some(A::LsmMac), SEC_ATTACH_BTF),
    d("lsm.s+", P::Lsm, Some(A::LsmMac), SEC_ATTACH_BTF | SEC_SLEEPABLE),
    d("lsm_cgroup+", P::Lsm, Some(A::LsmCgroup), SEC_ATTACH_BTF),
    d("iter+", P::Tracing, Some(A::TraceIter), SEC_ATTACH_BTF),
    d("iter.s+", P::Tracing, Some(A::TraceIter), SEC_ATTACH_BTF | SEC_SLEEPABLE),
    d("syscall", P::Syscall, None, SEC_SLEEPABLE),
    d("xdp.frags/devmap", P::Xdp, Some(A::XdpDevmap), SEC_XDP_FRAGS),
    d("xdp/devmap", P::Xdp, Some(A::XdpDevmap), SEC_ATTACHABLE),
    d("xdp.frags/cpumap", P::Xdp, Some(A::XdpCpumap), SEC_XDP_FRAGS),
    d("xdp/cpumap", P::Xdp, Some(A::XdpCpumap), SEC_ATTACHABLE),
    d("xdp.frags", P::Xdp, Some(A::Xdp), SEC_XDP_FRAGS),
    d("xdp", P::Xdp, Some(A::Xdp), SEC_ATTACHABLE_OPT),
    d("perf_event", P::PerfEvent, None, SEC_NONE),
    d("lwt_in", P::LwtIn, None, SEC_NONE),
    d("lwt_out", P::LwtOut, None, SEC_NONE),
    d("lwt_xmit", P::LwtXmit, None, SEC_NONE),
    d("lwt_seg6local", P::LwtSeg6local, None, SEC_NONE),
    d("sockops", P::SockOps, Some(A::CgroupSockOps), SEC_ATTACHABLE_OPT),
    d("sk_skb/stream_parser", P::SkSkb, Some(A::SkSkbStreamParser), SEC_ATTACHABLE_OPT),
    d("sk_skb/stream_verdict", P::SkSkb, Some(A::SkSkbStreamVerdict), SEC_ATTACHABLE_OPT),
    d("sk_skb/verdict", P::SkSkb, Some(A::SkSkbVerdict), SEC_ATTACHABLE_OPT),
    d("sk_skb", P::SkSkb, None, SEC_NONE),
    d("sk_msg", P::SkMsg, Some(A::SkMsgVerdict), SEC_ATTACHABLE_OPT),
    d("lirc_mode2", P::LircMode2, Some(A::LircMode2), SEC_ATTACHABLE_OPT),
    d("flow_dissector", P::FlowDissector, Some(A::FlowDissector), SEC_ATTACHABLE_OPT),
    d("cgroup_skb/ingress", P::CgroupSkb, Some(A::CgroupInetIngress), SEC_ATTACHABLE_OPT),
    d("cgroup_skb/egress", P::CgroupSkb, Some(A::CgroupInetEgress), SEC_ATTACHABLE_OPT),
    d("cgroup/skb", P::CgroupSkb, None, SEC_NONE),
    d("cgroup/sock_create", P::CgroupSock, Some(A::CgroupInetSockCreate), SEC_ATTACHABLE),
    d("cgroup/sock_release", P::CgroupSock, Some(A::CgroupInetSockRelease), SEC_ATTACHABLE),
    d("cgroup/sock", P::CgroupSock, Some(A::CgroupInetSockCreate), SEC_ATTACHABLE_OPT),
    d("cgroup/post_bind4", P::CgroupSock, Some(A::CgroupInet4PostBind), SEC_ATTACHABLE),
    d("cgroup/post_bind6", P::CgroupSock, Some(A::CgroupInet6PostBind), SEC_ATTACHABLE),
    d("cgroup/bind4", P::CgroupSockAddr, Some(A::CgroupInet4Bind), SEC_ATTACHABLE),
    d("cgroup/bind6", P::CgroupSockAddr, Some(A::CgroupInet6Bind), SEC_ATTACHABLE),
    d("cgroup/connect4", P::CgroupSockAddr, Some(A::CgroupInet4Connect), SEC_ATTACHABLE),
    d("cgroup/connect6", P::CgroupSockAddr, Some(A::CgroupInet6Connect), SEC_ATTACHABLE),
    d("cgroup/connect_unix", P::CgroupSockAddr, Some(A::CgroupUnixConnect), SEC_ATTACHABLE),
    d("cgroup/sendmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Sendmsg), SEC_ATTACHABLE),
    d("cgroup/sendmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Sendmsg), SEC_ATTACHABLE),
    d("cgroup/sendmsg_unix", P::CgroupSockAddr, Some(A::CgroupUnixSendmsg), SEC_ATTACHABLE),
    d("cgroup/recvmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Recvmsg), SEC_ATTACHABLE),
    d("cgroup/recvmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Recvmsg), SEC_ATTACHABLE),
    d("cgroup/recvmsg_unix", P::CgroupSockAddr, Some(A::CgroupUnixRecvmsg), SEC_ATTACHABLE),
    d("cgroup/getpeername4", P::CgroupSockAddr, Some(A::CgroupInet4Getpeername), SEC_ATTACHABLE),
    d("cgroup/getpeername6", P::CgroupSockAddr, Some(A::CgroupInet6Getpeername), SEC_ATTACHABLE),
    d("cgroup/getpeername_unix", P::CgroupSockAddr, Some(A::CgroupUnixGetpeername), SEC_ATTACHABLE),
    d("cgroup/getsockname4", P::CgroupSockAddr, Some(A::CgroupInet4Getsockname), SEC_ATTACHABLE),
    d("cgroup/getsockname6", P::CgroupSockAddr, Some(A::CgroupInet6Getsockname), SEC_ATTACHABLE),
    d("cgroup/getsockname_unix", P::CgroupSockAddr, Some(A::CgroupUnixGetsockname), SEC_ATTACHABLE),
    d("cgroup/sysctl", P::CgroupSysctl, Some(A::CgroupSysctl), SEC_ATTACHABLE),
    d("cgroup/getsockopt", P::CgroupSockopt, Some(A::CgroupGetsockopt), SEC_ATTACHABLE),
    d("cgroup/setsockopt", P::CgroupSockopt, Some(A::CgroupSetsockopt), SEC_ATTACHABLE),
    d("cgroup/dev", P::CgroupDevice, Some(A::CgroupDevice), SEC_ATTACHABLE_OPT),
    d("struct_ops+", P::StructOps, None, SEC_NONE),
    d("struct_ops.s+", P::StructOps, None, SEC_SLEEPABLE),
    d("sk_lookup", P::SkLookup, Some(A::SkLookup), SEC_ATTACHABLE),
    d("netfilter", P::Netfilter, Some(A::Netfilter), SEC_NONE),
];

/// A section pattern accepted by loaders older than libbpf 1.0 (or other
/// than libbpf) but not by libbpf 1.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacySecDef {
    /// Pattern: a plain prefix, or the whole name if `exact`.
    pub pattern: &'static str,
    /// Whether `pattern` must equal the whole section name.
    pub exact: bool,
    /// Program type those loaders used.
    pub prog_type: ProgType,
    /// Expected attach type those loaders used (`None` = 0 / unset).
    pub attach: Option<AttachType>,
    /// Which loader(s) accepted the pattern.
    pub origin: &'static str,
}

impl LegacySecDef {
    /// Whether `sec_name` matches this legacy pattern.
    pub fn matches(&self, sec_name: &str) -> bool {
        if self.exact {
            sec_name == self.pattern
        } else {
            sec_name.starts_with(self.pattern)
        }
    }
}

const fn lp(
    pattern: &'static str,
    prog_type: ProgType,
    attach: Option<AttachType>,
    origin: &'static str,
) -> LegacySecDef {
    LegacySecDef {
        pattern,
        exact: false,
        prog_type,
        attach,
        origin,
    }
}

const fn lx(
    pattern: &'static str,
    prog_type: ProgType,
    attach: Option<AttachType>,
    origin: &'static str,
) -> LegacySecDef {
    LegacySecDef {
        pattern,
        exact: true,
        prog_type,
        attach,
        origin,
    }
}

const LIBBPF0: &str = "libbpf 0.x (prefix / SEC_SLOPPY_PFX matching)";
const LIBBPF0_SAMPLES: &str = "libbpf 0.x prefix matching; samples/bpf bpf_load.c";
const LIBBPF0_TC: &str = "libbpf 0.x prefix matching; iproute2 tc default section";
const BCC: &str = "bcc (.bpf.fn.<func>, auto-attach by function-name prefix)";
const CILIUM: &str = "cilium (tc/socket-LB sections loaded by iproute2 / cilium)";

/// Fallback patterns of older loaders, tried in order after
/// [`SECTION_DEFS`] found nothing (first match wins; more specific first).
///
/// Patterns that libbpf 1.5 already accepts through a `+` entry
/// (`kprobe/`, `kretprobe/`, `tracepoint/`, `raw_tracepoint/`, ...) are not
/// repeated here. Section names whose type depends on how the loader was
/// invoked (cilium's `from-netdev`, used by both its tc and XDP objects;
/// tail-call sections such as `2/7`; iproute2's `sec` argument) are
/// deliberately absent.
#[rustfmt::skip]
pub static LEGACY_SECTION_DEFS: &[LegacySecDef] = &[
    // libbpf 0.x (before 1.0 made SEC() names strict): plain prefix
    // matching up to 0.5, SEC_SLOPPY_PFX for these entries in 0.6..0.8.
    lp("sk_reuseport/migrate", P::SkReuseport, Some(A::SkReuseportSelectOrMigrate), LIBBPF0),
    lp("sk_reuseport", P::SkReuseport, Some(A::SkReuseportSelect), LIBBPF0),
    lp("socket", P::SocketFilter, None, LIBBPF0_SAMPLES),
    lp("classifier", P::SchedCls, None, LIBBPF0_TC),
    lp("action", P::SchedAct, None, LIBBPF0_TC),
    lp("tc", P::SchedCls, None, LIBBPF0),
    // libbpf 0.2..0.8 (deprecated spelling of xdp/devmap, xdp/cpumap).
    lp("xdp_devmap/", P::Xdp, Some(A::XdpDevmap), LIBBPF0),
    lp("xdp_cpumap/", P::Xdp, Some(A::XdpCpumap), LIBBPF0),
    lp("xdp", P::Xdp, Some(A::Xdp), LIBBPF0_SAMPLES),
    lp("perf_event", P::PerfEvent, None, LIBBPF0_SAMPLES),
    lp("lwt_in", P::LwtIn, None, LIBBPF0),
    lp("lwt_out", P::LwtOut, None, LIBBPF0),
    lp("lwt_xmit", P::LwtXmit, None, LIBBPF0),
    lp("lwt_seg6local", P::LwtSeg6local, None, LIBBPF0),
    lp("sockops", P::SockOps, Some(A::CgroupSockOps), LIBBPF0_SAMPLES),
    lp("sk_skb/stream_parser", P::SkSkb, Some(A::SkSkbStreamParser), LIBBPF0),
    lp("sk_skb/stream_verdict", P::SkSkb, Some(A::SkSkbStreamVerdict), LIBBPF0),
    lp("sk_skb/verdict", P::SkSkb, Some(A::SkSkbVerdict), LIBBPF0),
    lp("sk_skb", P::SkSkb, None, LIBBPF0_SAMPLES),
    lp("sk_msg", P::SkMsg, Some(A::SkMsgVerdict), LIBBPF0_SAMPLES),
    lp("lirc_mode2", P::LircMode2, Some(A::LircMode2), LIBBPF0),
    lp("flow_dissector", P::FlowDissector, Some(A::FlowDissector), LIBBPF0),
    lp("cgroup_skb/ingress", P::CgroupSkb, Some(A::CgroupInetIngress), LIBBPF0),
    lp("cgroup_skb/egress", P::CgroupSkb, Some(A::CgroupInetEgress), LIBBPF0),
    lp("cgroup/skb", P::CgroupSkb, None, LIBBPF0_SAMPLES),
    lp("cgroup/sock_create", P::CgroupSock, Some(A::CgroupInetSockCreate), LIBBPF0),
    lp("cgroup/sock_release", P::CgroupSock, Some(A::CgroupInetSockRelease), LIBBPF0),
    lp("cgroup/sock", P::CgroupSock, Some(A::CgroupInetSockCreate), LIBBPF0_SAMPLES),
    lp("cgroup/post_bind4", P::CgroupSock, Some(A::CgroupInet4PostBind), LIBBPF0),
    lp("cgroup/post_bind6", P::CgroupSock, Some(A::CgroupInet6PostBind), LIBBPF0),
    lp("cgroup/bind4", P::CgroupSockAddr, Some(A::CgroupInet4Bind), LIBBPF0),
    lp("cgroup/bind6", P::CgroupSockAddr, Some(A::CgroupInet6Bind), LIBBPF0),
    lp("cgroup/connect4", P::CgroupSockAddr, Some(A::CgroupInet4Connect), LIBBPF0),
    lp("cgroup/connect6", P::CgroupSockAddr, Some(A::CgroupInet6Connect), LIBBPF0),
    lp("cgroup/sendmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Sendmsg), LIBBPF0),
    lp("cgroup/sendmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Sendmsg), LIBBPF0),
    lp("cgroup/recvmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Recvmsg), LIBBPF0),
    lp("cgroup/recvmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Recvmsg), LIBBPF0),
    lp("cgroup/getpeername4", P::CgroupSockAddr, Some(A::CgroupInet4Getpeername), LIBBPF0),
    lp("cgroup/getpeername6", P::CgroupSockAddr, Some(A::CgroupInet6Getpeername), LIBBPF0),
    lp("cgroup/getsockname4", P::CgroupSockAddr, Some(A::CgroupInet4Getsockname), LIBBPF0),
    lp("cgroup/getsockname6", P::CgroupSockAddr, Some(A::CgroupInet6Getsockname), LIBBPF0),
    lp("cgroup/sysctl", P::CgroupSysctl, Some(A::CgroupSysctl), LIBBPF0),
    lp("cgroup/getsockopt", P::CgroupSockopt, Some(A::CgroupGetsockopt), LIBBPF0),
    lp("cgroup/setsockopt", P::CgroupSockopt, Some(A::CgroupSetsockopt), LIBBPF0),
    lp("cgroup/dev", P::CgroupDevice, Some(A::CgroupDevice), LIBBPF0),
    lp("sk_lookup", P::SkLookup, Some(A::SkLookup), LIBBPF0),
    // bcc puts each function in ".bpf.fn.<name>" and auto-attaches by
    // name prefix (kprobe__, kretprobe__, tracepoint__, ...).
    lp(".bpf.fn.kprobe__", P::Kprobe, None, BCC),
    lp(".bpf.fn.kretprobe__", P::Kprobe, None, BCC),
    lp(".bpf.fn.tracepoint__", P::Tracepoint, None, BCC),
    lp(".bpf.fn.raw_tracepoint__", P::RawTracepoint, None, BCC),
    lp(".bpf.fn.kfunc__", P::Tracing, Some(A::TraceFentry), BCC),
    lp(".bpf.fn.kretfunc__", P::Tracing, Some(A::TraceFexit), BCC),
    lp(".bpf.fn.lsm__", P::Lsm, Some(A::LsmMac), BCC),
    // cilium's pre-libbpf section names (bpf_lxc.c, bpf_host.c,
    // bpf_overlay.c, bpf_network.c: tc; bpf_sock.c: cgroup socket LB).
    lx("from-container", P::SchedCls, None, CILIUM),
    lx("to-container", P::SchedCls, None, CILIUM),
    lx("from-host", P::SchedCls, None, CILIUM),
    lx("to-host", P::SchedCls, None, CILIUM),
    lx("to-netdev", P::SchedCls, None, CILIUM),
    lx("from-network", P::SchedCls, None, CILIUM),
    lx("from-overlay", P::SchedCls, None, CILIUM),
    lx("to-overlay", P::SchedCls, None, CILIUM),
    lx("connect4", P::CgroupSockAddr, Some(A::CgroupInet4Connect), CILIUM),
    lx("connect6", P::CgroupSockAddr, Some(A::CgroupInet6Connect), CILIUM),
    lx("sendmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Sendmsg), CILIUM),
    lx("sendmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Sendmsg), CILIUM),
    lx("recvmsg4", P::CgroupSockAddr, Some(A::CgroupUdp4Recvmsg), CILIUM),
    lx("recvmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Recvmsg), CILIUM),
    lx("getpeername4", P::CgroupSockAddr, Some(A::CgroupInet4Getpeername), CILIUM),
    lx("getpeername6", P::CgroupSockAddr, Some(A::CgroupInet6Getpeername), CILIUM),
    lx("post_bind4", P::CgroupSock, Some(A::CgroupInet4PostBind), CILIUM),
    lx("post_bind6", P::CgroupSock, Some(A::CgroupInet6PostBind), CILIUM),
];

/// Result of classifying a section name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionMatch {
    /// Program type.
    pub prog_type: ProgType,
    /// Expected attach type (`None`: libbpf passes 0).
    pub attach: Option<AttachType>,
    /// Prefix/pattern of the table entry that matched.
    pub sec_def_prefix: &'static str,
    /// libbpf `SEC_*` flags of the entry (0 for legacy matches).
    pub flags: u32,
    /// Loaded with `BPF_F_SLEEPABLE` (entry has `SEC_SLEEPABLE`).
    pub sleepable: bool,
    /// The name had a leading `?` (libbpf: autoload off).
    pub optional: bool,
    /// Matched only by [`LEGACY_SECTION_DEFS`], not by libbpf 1.5.
    pub legacy: bool,
}

impl SectionMatch {
    /// `expected_attach_type` as passed to `BPF_PROG_LOAD` (0 when unset).
    pub fn expected_attach_type_raw(&self) -> u32 {
        self.attach.map_or(0, AttachType::as_u32)
    }

    /// Whether libbpf sets `BPF_F_XDP_HAS_FRAGS` (`SEC_XDP_FRAGS` on XDP).
    pub fn xdp_has_frags(&self) -> bool {
        self.prog_type == ProgType::Xdp && self.flags & SEC_XDP_FRAGS != 0
    }
}

/// libbpf's `sec_def_matches()`: does `sec_name` select `def`?
pub fn sec_def_matches(def: &SecDef, sec_name: &str) -> bool {
    let pfx = def.prefix;
    // "type/" always has to have proper SEC("type/extras") form.
    if pfx.ends_with('/') {
        return sec_name.starts_with(pfx);
    }
    // "type+" means exact SEC("type") or SEC("type/extras").
    if let Some(bare) = pfx.strip_suffix('+') {
        return match sec_name.strip_prefix(bare) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        };
    }
    sec_name == pfx
}

/// libbpf's `find_sec_def()` over [`SECTION_DEFS`] (no `?` handling).
pub fn find_sec_def(sec_name: &str) -> Option<&'static SecDef> {
    SECTION_DEFS.iter().find(|d| sec_def_matches(d, sec_name))
}

/// Classifies an ELF section name: libbpf 1.5's rules first (after
/// dropping one leading `?`), then [`LEGACY_SECTION_DEFS`].
///
/// The name is treated as a C string: anything from the first NUL on is
/// ignored. Returns `None` if neither table knows the name.
pub fn prog_type_by_section(sec: &str) -> Option<SectionMatch> {
    let sec = sec.split('\0').next().unwrap_or_default();
    let (name, optional) = match sec.strip_prefix('?') {
        Some(rest) => (rest, true),
        None => (sec, false),
    };
    if let Some(def) = find_sec_def(name) {
        return Some(SectionMatch {
            prog_type: def.prog_type,
            attach: def.attach,
            sec_def_prefix: def.prefix,
            flags: def.flags,
            sleepable: def.is_sleepable(),
            optional,
            legacy: false,
        });
    }
    LEGACY_SECTION_DEFS
        .iter()
        .find(|l| l.matches(name))
        .map(|l| SectionMatch {
            prog_type: l.prog_type,
            attach: l.attach,
            sec_def_prefix: l.pattern,
            flags: SEC_NONE,
            sleepable: false,
            optional,
            legacy: true,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (section, program type, attach type, legacy, sleepable)
    type Case = (&'static str, ProgType, Option<AttachType>, bool, bool);

    #[rustfmt::skip]
    const LIBBPF_CASES: &[Case] = &[
        // libbpf.c section_defs[]: "socket", "sk_reuseport[/migrate]" (exact).
        ("socket", P::SocketFilter, None, false, false),
        ("sk_reuseport", P::SkReuseport, Some(A::SkReuseportSelect), false, false),
        ("sk_reuseport/migrate", P::SkReuseport, Some(A::SkReuseportSelectOrMigrate), false, false),
        // "kprobe+", "kretprobe+", "uprobe+", "uprobe.s+", ... ('+' rule).
        ("kprobe", P::Kprobe, None, false, false),
        ("kprobe/do_unlinkat", P::Kprobe, None, false, false),
        ("kprobe/tcp_v4_connect+0x10", P::Kprobe, None, false, false),
        ("kretprobe/do_unlinkat", P::Kprobe, None, false, false),
        ("uprobe//usr/lib/libc.so.6:malloc", P::Kprobe, None, false, false),
        ("uprobe.s/bin/bash:readline", P::Kprobe, None, false, true),
        ("uretprobe.s", P::Kprobe, None, false, true),
        ("kprobe.multi/tcp_*", P::Kprobe, Some(A::TraceKprobeMulti), false, false),
        ("kretprobe.multi", P::Kprobe, Some(A::TraceKprobeMulti), false, false),
        ("kprobe.session/bpf_fentry_test*", P::Kprobe, Some(A::TraceKprobeSession), false, false),
        ("uprobe.multi/bin/bash:readline", P::Kprobe, Some(A::TraceUprobeMulti), false, false),
        ("uretprobe.multi.s/bin/bash:*", P::Kprobe, Some(A::TraceUprobeMulti), false, true),
        ("ksyscall/execve", P::Kprobe, None, false, false),
        ("kretsyscall", P::Kprobe, None, false, false),
        ("usdt/./prog:provider:probe", P::Kprobe, None, false, false),
        ("usdt.s", P::Kprobe, None, false, true),
        // "tc/ingress" / "tc/egress" are tcx aliases; "tc", "classifier",
        // "action" exact; "netkit/primary", "netkit/peer".
        ("tc/ingress", P::SchedCls, Some(A::TcxIngress), false, false),
        ("tcx/egress", P::SchedCls, Some(A::TcxEgress), false, false),
        ("tc", P::SchedCls, None, false, false),
        ("classifier", P::SchedCls, None, false, false),
        ("action", P::SchedAct, None, false, false),
        ("netkit/peer", P::SchedCls, Some(A::NetkitPeer), false, false),
        // "tracepoint+", "tp+", "raw_tracepoint+", "raw_tp+", ".w" variants.
        ("tracepoint/syscalls/sys_enter_openat", P::Tracepoint, None, false, false),
        ("tp/sched/sched_switch", P::Tracepoint, None, false, false),
        ("raw_tracepoint/sys_enter", P::RawTracepoint, None, false, false),
        ("raw_tp", P::RawTracepoint, None, false, false),
        ("raw_tp.w/bpf_testmod_test_writable_bare", P::RawTracepointWritable, None, false, false),
        // BTF-attached: "tp_btf+", "fentry+", "fmod_ret+", "fexit+", ".s".
        ("tp_btf/sched_switch", P::Tracing, Some(A::TraceRawTp), false, false),
        ("fentry/do_unlinkat", P::Tracing, Some(A::TraceFentry), false, false),
        ("fentry", P::Tracing, Some(A::TraceFentry), false, false),
        ("fexit/do_unlinkat", P::Tracing, Some(A::TraceFexit), false, false),
        ("fmod_ret/bpf_modify_return_test", P::Tracing, Some(A::ModifyReturn), false, false),
        ("fentry.s/__x64_sys_setdomainname", P::Tracing, Some(A::TraceFentry), false, true),
        ("freplace/xdp_dummy_prog", P::Ext, None, false, false),
        ("lsm/file_open", P::Lsm, Some(A::LsmMac), false, false),
        ("lsm.s/bprm_committed_creds", P::Lsm, Some(A::LsmMac), false, true),
        ("lsm_cgroup/socket_bind", P::Lsm, Some(A::LsmCgroup), false, false),
        ("iter/task", P::Tracing, Some(A::TraceIter), false, false),
        ("iter.s/task_vma", P::Tracing, Some(A::TraceIter), false, true),
        ("syscall", P::Syscall, None, false, true),
        // XDP: "xdp.frags/devmap", "xdp/devmap", ..., "xdp.frags", "xdp".
        ("xdp", P::Xdp, Some(A::Xdp), false, false),
        ("xdp.frags", P::Xdp, Some(A::Xdp), false, false),
        ("xdp/devmap", P::Xdp, Some(A::XdpDevmap), false, false),
        ("xdp.frags/cpumap", P::Xdp, Some(A::XdpCpumap), false, false),
        // "perf_event", "lwt_*", "sockops", "sk_skb*", "sk_msg", ... exact.
        ("perf_event", P::PerfEvent, None, false, false),
        ("lwt_in", P::LwtIn, None, false, false),
        ("lwt_seg6local", P::LwtSeg6local, None, false, false),
        ("sockops", P::SockOps, Some(A::CgroupSockOps), false, false),
        ("sk_skb/stream_parser", P::SkSkb, Some(A::SkSkbStreamParser), false, false),
        ("sk_skb/verdict", P::SkSkb, Some(A::SkSkbVerdict), false, false),
        ("sk_skb", P::SkSkb, None, false, false),
        ("sk_msg", P::SkMsg, Some(A::SkMsgVerdict), false, false),
        ("lirc_mode2", P::LircMode2, Some(A::LircMode2), false, false),
        ("flow_dissector", P::FlowDissector, Some(A::FlowDissector), false, false),
        // cgroup hooks: "cgroup_skb/*", "cgroup/*".
        ("cgroup_skb/ingress", P::CgroupSkb, Some(A::CgroupInetIngress), false, false),
        ("cgroup_skb/egress", P::CgroupSkb, Some(A::CgroupInetEgress), false, false),
        ("cgroup/skb", P::CgroupSkb, None, false, false),
        ("cgroup/sock", P::CgroupSock, Some(A::CgroupInetSockCreate), false, false),
        ("cgroup/sock_release", P::CgroupSock, Some(A::CgroupInetSockRelease), false, false),
        ("cgroup/post_bind6", P::CgroupSock, Some(A::CgroupInet6PostBind), false, false),
        ("cgroup/connect4", P::CgroupSockAddr, Some(A::CgroupInet4Connect), false, false),
        ("cgroup/connect_unix", P::CgroupSockAddr, Some(A::CgroupUnixConnect), false, false),
        ("cgroup/sendmsg6", P::CgroupSockAddr, Some(A::CgroupUdp6Sendmsg), false, false),
        ("cgroup/recvmsg_unix", P::CgroupSockAddr, Some(A::CgroupUnixRecvmsg), false, false),
        ("cgroup/getsockname_unix", P::CgroupSockAddr, Some(A::CgroupUnixGetsockname), false, false),
        ("cgroup/sysctl", P::CgroupSysctl, Some(A::CgroupSysctl), false, false),
        ("cgroup/getsockopt", P::CgroupSockopt, Some(A::CgroupGetsockopt), false, false),
        ("cgroup/dev", P::CgroupDevice, Some(A::CgroupDevice), false, false),
        // "struct_ops+", "struct_ops.s+", "sk_lookup", "netfilter".
        ("struct_ops/bpf_cubic_init", P::StructOps, None, false, false),
        ("struct_ops.s/test_sleepable", P::StructOps, None, false, true),
        ("sk_lookup", P::SkLookup, Some(A::SkLookup), false, false),
        ("netfilter", P::Netfilter, Some(A::Netfilter), false, false),
    ];

    #[rustfmt::skip]
    const LEGACY_CASES: &[Case] = &[
        // libbpf 0.x SEC_SLOPPY_PFX / samples/bpf bpf_load.c prefixes.
        ("socket1", P::SocketFilter, None, true, false),
        ("socket_filter", P::SocketFilter, None, true, false),
        ("xdp_prog", P::Xdp, Some(A::Xdp), true, false),
        ("xdp_redirect_map", P::Xdp, Some(A::Xdp), true, false),
        ("xdp_devmap/xdp_dummy", P::Xdp, Some(A::XdpDevmap), true, false),
        ("xdp_cpumap/redirect", P::Xdp, Some(A::XdpCpumap), true, false),
        ("perf_event_sample", P::PerfEvent, None, true, false),
        ("classifier_ingress", P::SchedCls, None, true, false),
        ("action_mirred", P::SchedAct, None, true, false),
        ("tc_ingress", P::SchedCls, None, true, false),
        ("tcx", P::SchedCls, None, true, false),
        ("sockops_tcp", P::SockOps, Some(A::CgroupSockOps), true, false),
        ("sk_skb1", P::SkSkb, None, true, false),
        ("sk_skb/stream_parser_prog", P::SkSkb, Some(A::SkSkbStreamParser), true, false),
        ("sk_msg1", P::SkMsg, Some(A::SkMsgVerdict), true, false),
        ("lwt_xmit_encap", P::LwtXmit, None, true, false),
        ("cgroup/skb_filter", P::CgroupSkb, None, true, false),
        ("cgroup/sock1", P::CgroupSock, Some(A::CgroupInetSockCreate), true, false),
        ("cgroup/dev_cgroup", P::CgroupDevice, Some(A::CgroupDevice), true, false),
        ("sk_lookup/redir", P::SkLookup, Some(A::SkLookup), true, false),
        ("sk_reuseport/migrate_v2", P::SkReuseport, Some(A::SkReuseportSelectOrMigrate), true, false),
        ("flow_dissector/prog", P::FlowDissector, Some(A::FlowDissector), true, false),
        // bcc.
        (".bpf.fn.kprobe__tcp_v4_connect", P::Kprobe, None, true, false),
        (".bpf.fn.tracepoint__sched__sched_switch", P::Tracepoint, None, true, false),
        (".bpf.fn.kfunc__vmlinux__do_unlinkat", P::Tracing, Some(A::TraceFentry), true, false),
        // cilium.
        ("from-container", P::SchedCls, None, true, false),
        ("to-overlay", P::SchedCls, None, true, false),
        ("connect4", P::CgroupSockAddr, Some(A::CgroupInet4Connect), true, false),
        ("post_bind6", P::CgroupSock, Some(A::CgroupInet6PostBind), true, false),
    ];

    /// Names neither libbpf 1.5 nor the legacy table accepts.
    #[rustfmt::skip]
    const UNKNOWN: &[&str] = &[
        "",
        "?",
        ".text",
        ".data",
        ".rodata",
        ".bss",
        ".maps",
        "maps",
        "license",
        ".BTF",
        "kprobex",            // '+' needs end or '/'
        "kprobe.foo",         // not "kprobe.multi", not "/"
        "tracepoint_sys",     // '+' rule, no legacy prefix
        "fentry_foo",         // '+' rule
        "syscall/foo",        // exact entry
        "??xdp",              // only one '?' is dropped
        "prog",               // iproute2's sec argument, type unknowable
        "from-netdev",        // cilium: tc and XDP objects both use it
        "2/7",                // cilium tail-call section
    ];

    fn check(cases: &[Case]) {
        for &(sec, t, a, legacy, sleepable) in cases {
            let m = prog_type_by_section(sec).unwrap_or_else(|| panic!("{sec:?} unmatched"));
            assert_eq!(m.prog_type, t, "{sec:?}");
            assert_eq!(m.attach, a, "{sec:?}");
            assert_eq!(m.legacy, legacy, "{sec:?}");
            assert_eq!(m.sleepable, sleepable, "{sec:?}");
            assert!(!m.optional, "{sec:?}");
        }
    }

    #[test]
    fn libbpf_sections() {
        assert!(LIBBPF_CASES.len() >= 60);
        check(LIBBPF_CASES);
    }

    #[test]
    fn legacy_sections() {
        check(LEGACY_CASES);
    }

    #[test]
    fn unknown_sections() {
        for sec in UNKNOWN {
            assert_eq!(prog_type_by_section(sec), None, "{sec:?}");
        }
    }

    #[test]
    fn every_libbpf_entry_matches_itself() {
        // libbpf 1.5 has 101 entries in section_defs[].
        assert_eq!(SECTION_DEFS.len(), 101);
        for def in SECTION_DEFS {
            let bare = def.prefix.trim_end_matches('+');
            let first = find_sec_def(bare).expect(bare);
            // Earlier entries never shadow later ones for their own name.
            assert_eq!(first.prefix, def.prefix, "{bare}");
            let m = prog_type_by_section(bare).unwrap();
            assert!(!m.legacy);
            assert_eq!(m.sec_def_prefix, def.prefix);
        }
    }

    #[test]
    fn question_mark_means_optional() {
        // libbpf bpf_object__init_prog(): SEC("?abc") is SEC("abc") with
        // autoload = false.
        let m = prog_type_by_section("?fentry/do_unlinkat").unwrap();
        assert!(m.optional);
        assert_eq!(m.prog_type, P::Tracing);
        assert_eq!(m.attach, Some(A::TraceFentry));
        let m = prog_type_by_section("?xdp_prog").unwrap();
        assert!(m.optional && m.legacy);
        assert!(!prog_type_by_section("xdp").unwrap().optional);
    }

    #[test]
    fn flags_and_raw_attach() {
        let m = prog_type_by_section("xdp.frags").unwrap();
        assert!(m.xdp_has_frags());
        assert_eq!(m.expected_attach_type_raw(), 37);
        assert!(!prog_type_by_section("xdp").unwrap().xdp_has_frags());
        let m = prog_type_by_section("usdt.s/x:y:z").unwrap();
        assert_eq!(m.flags, SEC_USDT | SEC_SLEEPABLE);
        assert_eq!(m.expected_attach_type_raw(), 0);
        let m = prog_type_by_section("fexit.s/foo").unwrap();
        assert_eq!(m.sec_def_prefix, "fexit.s+");
        assert_eq!(m.flags, SEC_ATTACH_BTF | SEC_SLEEPABLE);
        assert!(
            find_sec_def("cgroup/dev")
                .unwrap()
                .has_flag(SEC_ATTACHABLE_OPT)
        );
        assert!(find_sec_def("syscall").unwrap().is_sleepable());
    }

    #[test]
    fn matching_rules() {
        let slash = SecDef::new("type/", P::Kprobe, None, SEC_NONE);
        assert!(sec_def_matches(&slash, "type/x"));
        assert!(sec_def_matches(&slash, "type/"));
        assert!(!sec_def_matches(&slash, "type"));
        let plus = SecDef::new("type+", P::Kprobe, None, SEC_NONE);
        assert!(sec_def_matches(&plus, "type"));
        assert!(sec_def_matches(&plus, "type/"));
        assert!(sec_def_matches(&plus, "type/x/y"));
        assert!(!sec_def_matches(&plus, "typex"));
        assert!(!sec_def_matches(&plus, "typ"));
        let exact = SecDef::new("type", P::Kprobe, None, SEC_NONE);
        assert!(sec_def_matches(&exact, "type"));
        assert!(!sec_def_matches(&exact, "type/x"));
        // Order: "kprobe+" precedes "kprobe.multi+" but cannot match it.
        assert_eq!(
            find_sec_def("kprobe.multi/x").unwrap().prefix,
            "kprobe.multi+"
        );
        // "uprobe.s+" precedes "uprobe.multi.s+"; names stay distinct.
        assert_eq!(
            find_sec_def("uprobe.multi.s").unwrap().prefix,
            "uprobe.multi.s+"
        );
        // C-string semantics: text after a NUL is ignored.
        assert_eq!(prog_type_by_section("xdp\0junk").unwrap().prog_type, P::Xdp);
    }

    #[test]
    fn legacy_table_is_reachable() {
        // Each legacy pattern must classify its own pattern as legacy
        // through itself (no earlier entry or libbpf entry shadows it),
        // except patterns libbpf 1.5 also accepts verbatim.
        for l in LEGACY_SECTION_DEFS {
            let m = prog_type_by_section(l.pattern).unwrap();
            if m.legacy {
                assert_eq!(m.sec_def_prefix, l.pattern, "{}", l.pattern);
            } else {
                assert!(find_sec_def(l.pattern).is_some());
            }
        }
    }
}
