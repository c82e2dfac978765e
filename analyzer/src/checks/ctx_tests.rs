//! Tests of the ctx access rules. Where a case mirrors a kernel selftest, the
//! test names it: `verifier/ctx_skb.c`, `verifier/wide_access.c`,
//! `verifier/perf_event_sample_period.c` (test_verifier, default program
//! type socket_filter) and `progs/verifier_ctx.c`,
//! `progs/verifier_ctx_sk_msg.c`, `progs/verifier_xdp.c` (test_progs) of
//! tools/testing/selftests/bpf in Linux 6.12.

use super::layout::{
    __sk_buff as skb, bpf_cgroup_dev_ctx as dev, bpf_perf_event_data as pe, bpf_sk_lookup as skl,
    bpf_sock as sock, bpf_sock_addr as sa, bpf_sock_ops as sops, bpf_sockopt as sopt,
    bpf_sysctl as sysctl, pt_regs, sk_msg_md as msg, sk_reuseport_md as reuse, xdp_md,
};
use super::*;
use AccessType::{Read, Write};

fn rd(p: ProgType, off: i32, size: u32) -> CtxCheck {
    check_ctx_access(p, None, off, size, Read, false)
}

fn wr(p: ProgType, off: i32, size: u32) -> CtxCheck {
    check_ctx_access(p, None, off, size, Write, false)
}

fn rd_at(p: ProgType, a: AttachType, off: i32, size: u32) -> CtxCheck {
    check_ctx_access(p, Some(a), off, size, Read, false)
}

fn wr_at(p: ProgType, a: AttachType, off: i32, size: u32) -> CtxCheck {
    check_ctx_access(p, Some(a), off, size, Write, false)
}

/// The access, asserting it is valid.
#[track_caller]
fn ok(c: CtxCheck) -> CtxAccess {
    match c {
        CtxCheck::Ok(a) => a,
        other => panic!("expected Ok, got {other:?}"),
    }
}

#[track_caller]
fn ty(c: CtxCheck) -> CtxRegType {
    ok(c).reg_type
}

#[track_caller]
fn invalid(c: CtxCheck) {
    assert_eq!(c, CtxCheck::Invalid);
}

fn o(f: Field) -> i32 {
    f.off
}

use CtxRegType as R;
use ProgType as P;

// ----------------------------------------------------------------------------
// socket_filter
// ----------------------------------------------------------------------------

#[test]
fn socket_filter_narrow_loads_of_len() {
    // Whole field: ctx_field_size recorded, not narrower.
    let a = ok(rd(P::SocketFilter, o(skb::LEN), 4));
    assert_eq!(a.reg_type, R::Scalar);
    assert_eq!(a.ctx_field_size, 4);
    assert_eq!(a.narrow, None);
    assert!(!a.is_retval);

    // Half and byte loads are narrower loads of the 4-byte field.
    let a = ok(rd(P::SocketFilter, 2, 2));
    assert_eq!(a.ctx_field_size, 4);
    assert_eq!(
        a.narrow,
        Some(NarrowLoad {
            size_default: 4,
            load_off: 0,
            shift: 16
        })
    );
    let a = ok(rd(P::SocketFilter, 3, 1));
    assert_eq!(
        a.narrow,
        Some(NarrowLoad {
            size_default: 4,
            load_off: 0,
            shift: 24
        })
    );
    assert!(rd(P::SocketFilter, 0, 1).is_ok());
    assert!(rd(P::SocketFilter, 1, 1).is_ok());

    // Misaligned or wider than the field.
    invalid(rd(P::SocketFilter, 1, 2));
    invalid(rd(P::SocketFilter, 2, 4));
    invalid(rd(P::SocketFilter, 0, 8));
}

#[test]
fn socket_filter_reads_of_the_ctx_skb_c_accept_list() {
    // verifier/ctx_skb.c "access skb fields ok".
    for f in [
        skb::LEN,
        skb::MARK,
        skb::PKT_TYPE,
        skb::QUEUE_MAPPING,
        skb::PROTOCOL,
        skb::VLAN_PRESENT,
        skb::VLAN_TCI,
        skb::NAPI_ID,
    ] {
        assert_eq!(ty(rd(P::SocketFilter, f.off, 4)), R::Scalar, "{f:?}");
    }
}

#[test]
fn socket_filter_refuses_packet_pointers_and_sock_fields() {
    // No direct packet access for socket filters.
    invalid(rd(P::SocketFilter, o(skb::DATA), 4));
    invalid(rd(P::SocketFilter, o(skb::DATA_END), 4));
    invalid(rd(P::SocketFilter, o(skb::DATA_META), 4));
    // verifier/ctx_skb.c "check skb->data half load not permitted".
    invalid(rd(P::SocketFilter, o(skb::DATA), 2));
    // verifier/ctx_skb.c "invalid access __sk_buff family / remote_ip4 /
    // local_ip4 / remote_ip6 / local_ip6 / remote_port".
    for f in [
        skb::FAMILY,
        skb::REMOTE_IP4,
        skb::LOCAL_IP4,
        skb::REMOTE_IP6,
        skb::LOCAL_IP6,
        skb::REMOTE_PORT,
        skb::LOCAL_PORT,
    ] {
        invalid(rd(P::SocketFilter, f.off, 4));
    }
    // verifier/ctx_skb.c "check wire_len is not readable by sockets".
    invalid(rd(P::SocketFilter, o(skb::WIRE_LEN), 4));
    invalid(rd(P::SocketFilter, o(skb::TC_CLASSID), 4));
    invalid(rd(P::SocketFilter, o(skb::TSTAMP), 8));
    invalid(rd(P::SocketFilter, o(skb::HWTSTAMP), 8));
}

#[test]
fn socket_filter_writes_only_cb() {
    invalid(wr(P::SocketFilter, o(skb::MARK), 4));
    invalid(wr(P::SocketFilter, o(skb::LEN), 4));
    invalid(wr(P::SocketFilter, o(skb::PRIORITY), 4));
    // verifier/ctx_skb.c "check skb->mark is not writeable by sockets",
    // "__sk_buff->hash, offset 0, byte store not permitted",
    // "__sk_buff->tc_index, offset 3, byte store not permitted", "check
    // __sk_buff->hash, offset 0, half store not permitted", "check
    // __sk_buff->tc_index, offset 2, half store not permitted".
    invalid(wr(P::SocketFilter, o(skb::HASH), 1));
    invalid(wr(P::SocketFilter, o(skb::TC_INDEX) + 3, 1));
    invalid(wr(P::SocketFilter, o(skb::HASH), 2));
    invalid(wr(P::SocketFilter, o(skb::TC_INDEX) + 2, 2));
    // verifier/ctx_skb.c "check cb access: byte / half / word / double".
    for off in skb::CB.off..skb::CB.end() {
        let w = wr(P::SocketFilter, off, 1);
        assert_eq!(ok(w).ctx_field_size, 0, "cb byte store at {off}");
        let r = ok(rd(P::SocketFilter, off, 1));
        // cb falls outside bpf_skb_is_valid_access's default case: no field
        // size, no narrowing.
        assert_eq!(r.ctx_field_size, 0);
        assert_eq!(r.narrow, None);
    }
    for off in (skb::CB.off..skb::CB.end()).step_by(2) {
        assert!(wr(P::SocketFilter, off, 2).is_ok());
        assert!(rd(P::SocketFilter, off, 2).is_ok());
    }
    for off in (skb::CB.off..skb::CB.end()).step_by(4) {
        assert!(wr(P::SocketFilter, off, 4).is_ok());
        assert!(rd(P::SocketFilter, off, 4).is_ok());
    }
    assert!(wr(P::SocketFilter, o(skb::CB), 8).is_ok()); // cb[0]
    assert!(wr(P::SocketFilter, o(skb::CB) + 8, 8).is_ok()); // cb[2]
    assert!(rd(P::SocketFilter, o(skb::CB) + 8, 8).is_ok());
    // "check cb access: double, oob 1 / oob 2": cb[4] is the last word.
    invalid(wr(P::SocketFilter, o(skb::CB) + 16, 8));
    invalid(rd(P::SocketFilter, o(skb::CB) + 16, 8));
    // Unaligned (the kernel rejects these even without strict alignment).
    invalid(wr(P::SocketFilter, o(skb::CB) + 4, 8));
    invalid(wr(P::SocketFilter, o(skb::CB) + 1, 2));
}

#[test]
fn socket_filter_hash_half_loads() {
    // verifier/ctx_skb.c "check skb->hash half load permitted (2)" and
    // "... not permitted, unaligned 1 / 3" (little endian).
    assert!(rd(P::SocketFilter, o(skb::HASH), 2).is_ok());
    assert!(rd(P::SocketFilter, o(skb::HASH) + 2, 2).is_ok());
    invalid(rd(P::SocketFilter, o(skb::HASH) + 1, 2));
    invalid(rd(P::SocketFilter, o(skb::HASH) + 3, 2));
    // "check skb->hash byte load permitted {,1,2,3}".
    for i in 0..4 {
        assert!(rd(P::SocketFilter, o(skb::HASH) + i, 1).is_ok());
    }
    // "check __sk_buff->ifindex dw store / dw load not permitted".
    invalid(wr(P::SocketFilter, o(skb::IFINDEX), 8));
    invalid(rd(P::SocketFilter, o(skb::IFINDEX), 8));
}

#[test]
fn socket_filter_out_of_range_and_sk() {
    // verifier/ctx_skb.c "access skb fields bad1" reads at -4.
    invalid(rd(P::SocketFilter, -4, 4));
    invalid(rd(P::SocketFilter, skb::SIZEOF, 4));
    invalid(rd(P::SocketFilter, skb::SIZEOF + 4, 1));
    invalid(rd(P::SocketFilter, i32::MIN, 8));
    // flow_keys is never readable through the ctx.
    invalid(rd(P::SocketFilter, o(skb::FLOW_KEYS), 8));
    // skb->sk: PTR_TO_SOCK_COMMON_OR_NULL, 8 bytes only, read only.
    let a = ok(rd(P::SocketFilter, o(skb::SK), 8));
    assert_eq!(a.reg_type, R::SockCommonOrNull);
    assert!(a.reg_type.may_be_null());
    assert_eq!(a.reg_type.reg_type_str(), "sock_common_or_null");
    assert_eq!(a.ctx_field_size, 0);
    invalid(rd(P::SocketFilter, o(skb::SK), 4));
    // progs/verifier_ctx.c narrow_load("tc", __sk_buff, sk): off sk + 4.
    invalid(rd(P::SchedCls, o(skb::SK) + 4, 4));
    invalid(wr(P::SchedCls, o(skb::SK), 8));
    // gso fields are plain readable words.
    assert!(rd(P::SocketFilter, o(skb::GSO_SEGS), 4).is_ok());
    assert!(rd(P::SocketFilter, o(skb::GSO_SIZE), 4).is_ok());
}

#[test]
fn invalid_message_format() {
    assert_eq!(
        invalid_ctx_access_msg(164, 4),
        "invalid bpf_context access off=164 size=4"
    );
    assert_eq!(
        invalid_ctx_access_msg(-4, 4),
        "invalid bpf_context access off=-4 size=4"
    );
}

#[test]
fn sizes_the_verifier_never_passes_are_invalid() {
    invalid(rd(P::SocketFilter, 0, 0));
    invalid(rd(P::SocketFilter, 0, 3));
    invalid(rd(P::Kprobe, 0, 16));
    invalid(rd(P::Syscall, 0, 0));
}

// ----------------------------------------------------------------------------
// sched_cls / sched_act
// ----------------------------------------------------------------------------

#[test]
fn sched_cls_packet_pointers() {
    let a = ok(rd(P::SchedCls, o(skb::DATA), 4));
    assert_eq!(a.reg_type, R::Packet);
    assert_eq!(a.ctx_field_size, 0);
    assert_eq!(a.reg_type.reg_type_str(), "pkt");
    assert_eq!(ty(rd(P::SchedCls, o(skb::DATA_END), 4)), R::PacketEnd);
    assert_eq!(ty(rd(P::SchedCls, o(skb::DATA_META), 4)), R::PacketMeta);
    assert_eq!(ty(rd(P::SchedAct, o(skb::DATA), 4)), R::Packet);
    assert_eq!(
        R::PacketEnd.base_type(),
        crate::state::reg::BaseType::PacketEnd
    );
    // Whole-word only, and no sign-extending loads.
    invalid(rd(P::SchedCls, o(skb::DATA), 2));
    invalid(rd(P::SchedCls, o(skb::DATA), 8));
    invalid(rd(P::SchedCls, o(skb::DATA_END) + 2, 2));
    invalid(check_ctx_access(
        P::SchedCls,
        None,
        o(skb::DATA),
        4,
        Read,
        true,
    ));
    // A sign-extending load of an ordinary field is fine.
    assert!(check_ctx_access(P::SchedCls, None, o(skb::LEN), 2, Read, true).is_ok());
    // Packet pointers are not writable.
    invalid(wr(P::SchedCls, o(skb::DATA), 4));
}

#[test]
fn sched_cls_writes() {
    // verifier/ctx_skb.c "write skb fields from tc_cls_act prog".
    assert!(wr(P::SchedCls, o(skb::MARK), 4).is_ok());
    assert!(wr(P::SchedCls, o(skb::TC_INDEX), 4).is_ok());
    assert!(wr(P::SchedCls, o(skb::CB) + 12, 4).is_ok());
    assert!(rd(P::SchedCls, o(skb::TSTAMP), 8).is_ok());
    assert!(wr(P::SchedCls, o(skb::TSTAMP), 8).is_ok());
    assert!(wr(P::SchedCls, o(skb::PRIORITY), 4).is_ok());
    assert!(wr(P::SchedCls, o(skb::TC_CLASSID), 4).is_ok());
    assert!(wr(P::SchedCls, o(skb::QUEUE_MAPPING), 4).is_ok());
    // Narrow stores are refused outside cb.
    invalid(wr(P::SchedCls, o(skb::MARK), 2));
    invalid(wr(P::SchedCls, o(skb::TSTAMP), 4));
    invalid(wr(P::SchedCls, o(skb::LEN), 4));
    invalid(wr(P::SchedCls, o(skb::HASH), 4));
    // "check wire_len is readable / not writable by tc classifier".
    assert!(rd(P::SchedCls, o(skb::WIRE_LEN), 4).is_ok());
    invalid(wr(P::SchedCls, o(skb::WIRE_LEN), 4));
    // "check out of range skb->cb access" (sched_act, cb[0] + 256).
    invalid(rd(P::SchedAct, o(skb::CB) + 256, 4));
}

#[test]
fn sched_cls_reads() {
    // verifier/ctx_skb.c "read gso_segs / gso_size / hwtstamp from CLS".
    assert!(rd(P::SchedCls, o(skb::GSO_SEGS), 4).is_ok());
    assert!(rd(P::SchedCls, o(skb::GSO_SIZE), 4).is_ok());
    assert!(rd(P::SchedCls, o(skb::HWTSTAMP), 8).is_ok());
    invalid(rd(P::SchedCls, o(skb::HWTSTAMP), 4));
    // "padding after gso_size is not accessible": off=180 size=4.
    invalid(rd(P::SchedCls, 180, 4));
    invalid(rd(P::SchedCls, 181, 1));
    invalid(rd(P::SchedCls, 182, 2));
    // tstamp_type is a single readable byte for tc.
    let a = ok(rd(P::SchedCls, o(skb::TSTAMP_TYPE), 1));
    assert_eq!(a.ctx_field_size, 0);
    invalid(wr(P::SchedCls, o(skb::TSTAMP_TYPE), 1));
    invalid(rd(P::SocketFilter, o(skb::TSTAMP_TYPE), 1));
    // family .. local_port are socket-only.
    invalid(rd(P::SchedCls, o(skb::FAMILY), 4));
    invalid(rd(P::SchedCls, o(skb::LOCAL_PORT), 4));
}

// ----------------------------------------------------------------------------
// cgroup_skb, lwt, sk_skb, flow_dissector
// ----------------------------------------------------------------------------

#[test]
fn cgroup_skb_rules() {
    // verifier/ctx_skb.c "read/write gso_segs, gso_size, hwtstamp from
    // CGROUP_SKB".
    assert!(rd(P::CgroupSkb, o(skb::GSO_SEGS), 4).is_ok());
    invalid(wr(P::CgroupSkb, 164, 4));
    assert!(rd(P::CgroupSkb, o(skb::GSO_SIZE), 4).is_ok());
    invalid(wr(P::CgroupSkb, 176, 4));
    assert!(rd(P::CgroupSkb, o(skb::HWTSTAMP), 8).is_ok());
    invalid(wr(P::CgroupSkb, 184, 8));
    // Direct packet access needs CAP_BPF.
    assert_eq!(ty(rd(P::CgroupSkb, o(skb::DATA), 4)), R::Packet);
    assert_eq!(ty(rd(P::CgroupSkb, o(skb::DATA_END), 4)), R::PacketEnd);
    let unpriv = CtxOptions {
        bpf_capable: false,
        offloaded: false,
    };
    let up = |off, size, t| check_ctx_access_with(unpriv, P::CgroupSkb, None, off, size, t, false);
    invalid(up(o(skb::DATA), 4, Read));
    invalid(up(o(skb::DATA_END), 4, Read));
    assert!(up(o(skb::LEN), 4, Read).is_ok());
    // Writes: mark, priority, cb; tstamp with CAP_BPF.
    assert!(wr(P::CgroupSkb, o(skb::MARK), 4).is_ok());
    assert!(wr(P::CgroupSkb, o(skb::PRIORITY), 4).is_ok());
    assert!(wr(P::CgroupSkb, o(skb::CB), 4).is_ok());
    assert!(wr(P::CgroupSkb, o(skb::TSTAMP), 8).is_ok());
    invalid(up(o(skb::TSTAMP), 8, Write));
    invalid(wr(P::CgroupSkb, o(skb::TC_INDEX), 4));
    invalid(rd(P::CgroupSkb, o(skb::TC_CLASSID), 4));
    invalid(rd(P::CgroupSkb, o(skb::DATA_META), 4));
    invalid(rd(P::CgroupSkb, o(skb::WIRE_LEN), 4));
    // Socket fields are readable.
    assert!(rd(P::CgroupSkb, o(skb::FAMILY), 4).is_ok());
    assert!(rd(P::CgroupSkb, o(skb::REMOTE_IP6) + 12, 4).is_ok());
    invalid(rd(P::CgroupSkb, o(skb::REMOTE_IP6), 2));
}

#[test]
fn lwt_rules() {
    for p in [P::LwtIn, P::LwtOut, P::LwtXmit, P::LwtSeg6local] {
        assert_eq!(ty(rd(p, o(skb::DATA), 4)), R::Packet);
        assert_eq!(ty(rd(p, o(skb::DATA_END), 4)), R::PacketEnd);
        invalid(rd(p, o(skb::DATA_META), 4));
        invalid(rd(p, o(skb::FAMILY), 4));
        assert!(wr(p, o(skb::MARK), 4).is_ok());
        invalid(wr(p, o(skb::TC_INDEX), 4));
    }
}

#[test]
fn sk_skb_rules() {
    // verifier/ctx_skb.c: "invalid access of tc_classid for SK_SKB",
    // "invalid access of skb->mark for SK_SKB", "check skb->mark is not
    // writeable by SK_SKB", "check skb->tc_index / skb->priority is
    // writeable by SK_SKB", "valid access __sk_buff family / remote_ip4 /
    // local_ip4 / remote_ip6 / local_ip6 / remote_port" (sk_skb), "direct
    // packet read for SK_SKB".
    invalid(rd(P::SkSkb, o(skb::TC_CLASSID), 4));
    invalid(rd(P::SkSkb, o(skb::MARK), 4));
    invalid(wr(P::SkSkb, o(skb::MARK), 4));
    assert!(wr(P::SkSkb, o(skb::TC_INDEX), 4).is_ok());
    assert!(wr(P::SkSkb, o(skb::PRIORITY), 4).is_ok());
    for f in [
        skb::FAMILY,
        skb::REMOTE_IP4,
        skb::LOCAL_IP4,
        skb::REMOTE_PORT,
        skb::LOCAL_PORT,
    ] {
        assert!(rd(P::SkSkb, f.off, 4).is_ok(), "{f:?}");
    }
    for i in 0..4 {
        assert!(rd(P::SkSkb, o(skb::REMOTE_IP6) + 4 * i, 4).is_ok());
        assert!(rd(P::SkSkb, o(skb::LOCAL_IP6) + 4 * i, 4).is_ok());
    }
    assert_eq!(ty(rd(P::SkSkb, o(skb::DATA), 4)), R::Packet);
    assert_eq!(ty(rd(P::SkSkb, o(skb::DATA_END), 4)), R::PacketEnd);
    invalid(rd(P::SkSkb, o(skb::DATA_META), 4));
    invalid(wr(P::SkSkb, o(skb::CB), 4));
}

#[test]
fn flow_dissector_rules() {
    assert_eq!(ty(rd(P::FlowDissector, o(skb::DATA), 4)), R::Packet);
    assert_eq!(ty(rd(P::FlowDissector, o(skb::DATA_END), 4)), R::PacketEnd);
    let a = ok(rd(P::FlowDissector, o(skb::FLOW_KEYS), 8));
    assert_eq!(a.reg_type, R::FlowKeys);
    assert_eq!(a.reg_type.reg_type_str(), "flow_keys");
    invalid(rd(P::FlowDissector, o(skb::FLOW_KEYS), 4));
    invalid(rd(P::FlowDissector, o(skb::LEN), 4));
    invalid(wr(P::FlowDissector, o(skb::CB), 4));
    assert_eq!(layout::bpf_flow_keys::SIZEOF, 56);
}

// ----------------------------------------------------------------------------
// xdp
// ----------------------------------------------------------------------------

#[test]
fn xdp_rules() {
    assert_eq!(ty(rd(P::Xdp, o(xdp_md::DATA), 4)), R::Packet);
    assert_eq!(ty(rd(P::Xdp, o(xdp_md::DATA_END), 4)), R::PacketEnd);
    let a = ok(rd(P::Xdp, o(xdp_md::DATA_META), 4));
    assert_eq!(a.reg_type, R::PacketMeta);
    assert_eq!(a.reg_type.reg_type_str(), "pkt_meta");
    // progs/verifier_xdp.c "XDP, using ifindex from netdev".
    assert_eq!(ty(rd(P::Xdp, o(xdp_md::INGRESS_IFINDEX), 4)), R::Scalar);
    assert!(rd(P::Xdp, o(xdp_md::RX_QUEUE_INDEX), 4).is_ok());
    // egress_ifindex only for devmap programs.
    invalid(rd(P::Xdp, o(xdp_md::EGRESS_IFINDEX), 4));
    invalid(rd_at(P::Xdp, AttachType::Xdp, 20, 4));
    assert!(rd_at(P::Xdp, AttachType::XdpDevmap, 20, 4).is_ok());
    invalid(rd_at(P::Xdp, AttachType::XdpCpumap, 20, 4));
    // No narrow loads, no wide loads, nothing past the struct.
    invalid(rd(P::Xdp, o(xdp_md::INGRESS_IFINDEX), 2));
    invalid(rd(P::Xdp, o(xdp_md::DATA), 8));
    invalid(rd(P::Xdp, xdp_md::SIZEOF, 4));
    invalid(rd(P::Xdp, -4, 4));
    invalid(check_ctx_access(P::Xdp, None, 8, 4, Read, true));
    // No writes unless offloaded (rx_queue_index only).
    invalid(wr(P::Xdp, o(xdp_md::DATA), 4));
    invalid(wr(P::Xdp, o(xdp_md::RX_QUEUE_INDEX), 4));
    let off = CtxOptions {
        bpf_capable: true,
        offloaded: true,
    };
    assert!(check_ctx_access_with(off, P::Xdp, None, 16, 4, Write, false).is_ok());
    invalid(check_ctx_access_with(
        off,
        P::Xdp,
        None,
        12,
        4,
        Write,
        false,
    ));
}

// ----------------------------------------------------------------------------
// kprobe, tracepoint, raw tracepoint, perf_event
// ----------------------------------------------------------------------------

#[test]
fn kprobe_pt_regs() {
    // PT_REGS_PARM1 on x86_64 is di.
    let a = ok(rd(P::Kprobe, o(pt_regs::DI), 8));
    assert_eq!(a.reg_type, R::Scalar);
    assert_eq!(a.ctx_field_size, 0);
    assert_eq!(a.narrow, None);
    assert_eq!(o(pt_regs::DI), 112);
    assert_eq!(o(pt_regs::SI), 104);
    assert_eq!(o(pt_regs::AX), 80);
    assert_eq!(o(pt_regs::IP), 128);
    assert_eq!(o(pt_regs::SP), 152);
    // Any aligned read inside the struct, of any size.
    assert!(rd(P::Kprobe, o(pt_regs::DI), 4).is_ok());
    assert!(rd(P::Kprobe, o(pt_regs::DI) + 6, 2).is_ok());
    assert!(rd(P::Kprobe, o(pt_regs::SS), 8).is_ok());
    assert!(rd(P::Kprobe, pt_regs::SIZEOF - 1, 1).is_ok());
    invalid(rd(P::Kprobe, pt_regs::SIZEOF, 1));
    invalid(rd(P::Kprobe, 164, 8));
    invalid(rd(P::Kprobe, -8, 8));
    invalid(rd(P::Kprobe, 4, 8));
    invalid(wr(P::Kprobe, o(pt_regs::AX), 8));
}

#[test]
fn tracepoint_buffer() {
    // The first 8 bytes (common fields) are off limits.
    invalid(rd(P::Tracepoint, 0, 8));
    invalid(rd(P::Tracepoint, 4, 4));
    invalid(rd(P::Tracepoint, 7, 1));
    invalid(rd(P::Tracepoint, -8, 8));
    assert!(rd(P::Tracepoint, 8, 8).is_ok());
    assert!(rd(P::Tracepoint, 10, 2).is_ok());
    invalid(rd(P::Tracepoint, 10, 4));
    assert!(rd(P::Tracepoint, PERF_MAX_TRACE_SIZE - 8, 8).is_ok());
    assert!(rd(P::Tracepoint, PERF_MAX_TRACE_SIZE - 1, 1).is_ok());
    invalid(rd(P::Tracepoint, PERF_MAX_TRACE_SIZE, 1));
    invalid(wr(P::Tracepoint, 8, 8));
    assert_eq!(ty(rd(P::Tracepoint, 16, 4)), R::Scalar);
    assert_eq!(ctx_size(P::Tracepoint), None);
}

#[test]
fn raw_tracepoint_args() {
    assert!(rd(P::RawTracepoint, 0, 8).is_ok());
    assert!(rd(P::RawTracepoint, 0, 4).is_ok());
    assert!(rd(P::RawTracepoint, 88, 8).is_ok());
    invalid(rd(P::RawTracepoint, 96, 8));
    invalid(rd(P::RawTracepoint, 4, 8));
    invalid(wr(P::RawTracepoint, 0, 8));
    // Writable: args[0] is the PTR_TO_TP_BUFFER, 8 bytes only.
    let a = ok(rd(P::RawTracepointWritable, 0, 8));
    assert_eq!(a.reg_type, R::TpBuffer);
    assert_eq!(a.reg_type.reg_type_str(), "tp_buffer");
    invalid(rd(P::RawTracepointWritable, 0, 4));
    assert_eq!(ty(rd(P::RawTracepointWritable, 8, 8)), R::Scalar);
    invalid(wr(P::RawTracepointWritable, 0, 8));
}

#[test]
fn perf_event_sample_period() {
    // verifier/perf_event_sample_period.c: byte, half, word and dword loads
    // of sample_period (at both ends of the field) are accepted.
    let sp = o(pe::SAMPLE_PERIOD);
    for (off, size) in [
        (sp, 1),
        (sp + 7, 1),
        (sp, 2),
        (sp + 6, 2),
        (sp, 4),
        (sp + 4, 4),
        (sp, 8),
    ] {
        let a = ok(rd(P::PerfEvent, off, size));
        assert_eq!(a.ctx_field_size, 8);
        assert_eq!(a.narrow.is_some(), size < 8);
    }
    let a = ok(rd(P::PerfEvent, sp + 4, 4));
    assert_eq!(
        a.narrow,
        Some(NarrowLoad {
            size_default: 8,
            load_off: sp,
            shift: 32
        })
    );
    assert!(rd(P::PerfEvent, o(pe::ADDR), 8).is_ok());
    // regs: unsigned long only.
    assert!(rd(P::PerfEvent, 112, 8).is_ok());
    invalid(rd(P::PerfEvent, 112, 4));
    invalid(rd(P::PerfEvent, pe::SIZEOF, 8));
    invalid(wr(P::PerfEvent, sp, 8));
}

// ----------------------------------------------------------------------------
// sock_ops
// ----------------------------------------------------------------------------

#[test]
fn sock_ops_rules() {
    assert_eq!(ty(rd(P::SockOps, o(sops::OP), 4)), R::Scalar);
    assert!(rd(P::SockOps, o(sops::FAMILY), 4).is_ok());
    assert!(rd(P::SockOps, o(sops::REMOTE_IP6) + 8, 4).is_ok());
    assert!(rd(P::SockOps, o(sops::SKB_LEN), 4).is_ok());
    invalid(rd(P::SockOps, o(sops::FAMILY), 2));
    invalid(rd(P::SockOps, o(sops::OP), 8));
    invalid(rd(P::SockOps, sops::SIZEOF, 4));
    invalid(rd(P::SockOps, -4, 4));
    // Writes: reply and sk_txhash, whole words.
    assert!(wr(P::SockOps, o(sops::REPLY), 4).is_ok());
    assert!(wr(P::SockOps, o(sops::SK_TXHASH), 4).is_ok());
    invalid(wr(P::SockOps, o(sops::REPLY), 2));
    invalid(wr(P::SockOps, o(sops::ARGS) + 4, 4));
    invalid(wr(P::SockOps, o(sops::OP), 4));
    // 64-bit counters.
    assert!(rd(P::SockOps, o(sops::BYTES_RECEIVED), 8).is_ok());
    assert!(rd(P::SockOps, o(sops::BYTES_ACKED), 8).is_ok());
    invalid(rd(P::SockOps, o(sops::BYTES_RECEIVED), 4));
    // Pointers.
    let a = ok(rd(P::SockOps, o(sops::SK), 8));
    assert_eq!(a.reg_type, R::SocketOrNull);
    assert_eq!(a.reg_type.reg_type_str(), "sock_or_null");
    assert_eq!(ty(rd(P::SockOps, o(sops::SKB_DATA), 8)), R::Packet);
    assert_eq!(ty(rd(P::SockOps, o(sops::SKB_DATA_END), 8)), R::PacketEnd);
    assert!(rd(P::SockOps, o(sops::SKB_HWTSTAMP), 8).is_ok());
    // progs/verifier_ctx.c narrow_load("sockops", bpf_sock_ops, sk /
    // skb_data / skb_data_end / skb_hwtstamp): 4-byte loads at field + 4.
    for f in [
        sops::SK,
        sops::SKB_DATA,
        sops::SKB_DATA_END,
        sops::SKB_HWTSTAMP,
    ] {
        invalid(rd(P::SockOps, f.off + 4, 4));
    }
    // skb_tcp_flags may be loaded narrow, but only from its first byte.
    let a = ok(rd(P::SockOps, o(sops::SKB_TCP_FLAGS), 1));
    assert_eq!(a.ctx_field_size, 4);
    assert!(a.narrow.is_some());
    invalid(rd(P::SockOps, o(sops::SKB_TCP_FLAGS) + 1, 1));
}

// ----------------------------------------------------------------------------
// cgroup_sock, cgroup_sock_addr
// ----------------------------------------------------------------------------

#[test]
fn cgroup_sock_attach_type_rules() {
    // No attach type: fixed up to BPF_CGROUP_INET_SOCK_CREATE.
    assert!(wr(P::CgroupSock, o(sock::MARK), 4).is_ok());
    assert!(wr(P::CgroupSock, o(sock::BOUND_DEV_IF), 4).is_ok());
    assert!(rd(P::CgroupSock, o(sock::PRIORITY), 4).is_ok());
    invalid(rd(P::CgroupSock, o(sock::SRC_IP4), 4));
    invalid(wr(P::CgroupSock, o(sock::FAMILY), 4));
    assert!(rd(P::CgroupSock, o(sock::FAMILY), 4).is_ok());
    // post_bind4: src_ip4/src_port read only; mark not even readable.
    let pb4 = AttachType::CgroupInet4PostBind;
    let a = ok(rd_at(P::CgroupSock, pb4, o(sock::SRC_IP4) + 2, 2));
    assert_eq!(a.ctx_field_size, 4);
    invalid(wr_at(P::CgroupSock, pb4, o(sock::SRC_IP4), 4));
    assert!(rd_at(P::CgroupSock, pb4, o(sock::SRC_PORT), 4).is_ok());
    invalid(rd_at(P::CgroupSock, pb4, o(sock::SRC_IP6), 4));
    invalid(rd_at(P::CgroupSock, pb4, o(sock::MARK), 4));
    assert!(
        rd_at(
            P::CgroupSock,
            AttachType::CgroupInet6PostBind,
            o(sock::SRC_IP6) + 12,
            4
        )
        .is_ok()
    );
    // dst_port: a 2-byte field, narrowable; 4-byte reads for compatibility.
    let a = ok(rd(P::CgroupSock, o(sock::DST_PORT), 2));
    assert_eq!(a.ctx_field_size, 2);
    assert_eq!(a.narrow, None);
    let a = ok(rd(P::CgroupSock, o(sock::DST_PORT) + 1, 1));
    assert_eq!(a.ctx_field_size, 2);
    assert_eq!(
        a.narrow,
        Some(NarrowLoad {
            size_default: 2,
            load_off: 48,
            shift: 8
        })
    );
    assert_eq!(
        ok(rd(P::CgroupSock, o(sock::DST_PORT), 4)).ctx_field_size,
        4
    );
    // Padding after dst_port.
    invalid(rd(P::CgroupSock, 50, 2));
    // verifier/ctx_skb.c "check cb access: byte / half / double, wrong type"
    // (cgroup_sock stores at __sk_buff cb offsets).
    invalid(wr(P::CgroupSock, o(skb::CB), 1));
    invalid(wr(P::CgroupSock, o(skb::CB), 2));
    invalid(wr(P::CgroupSock, o(skb::CB), 8));
    assert_eq!(
        effective_attach_type(P::CgroupSock, None),
        AttachType::CgroupInetSockCreate
    );
    assert_eq!(
        effective_attach_type(P::CgroupSock, Some(AttachType::CgroupInetIngress)),
        AttachType::CgroupInetSockCreate
    );
    assert_eq!(
        effective_attach_type(P::SkReuseport, None),
        AttachType::SkReuseportSelect
    );
    assert_eq!(
        effective_attach_type(P::SchedCls, None),
        AttachType::CgroupInetIngress
    );
}

#[test]
fn sock_addr_wide_access() {
    // verifier/wide_access.c (BPF_CGROUP_UDP6_SENDMSG): wide stores and
    // loads of user_ip6[0,2] and msg_src_ip6[1] are accepted; the others
    // give "invalid bpf_context access off=12/20/44/52/56 size=8".
    let at = AttachType::CgroupUdp6Sendmsg;
    for t in [Read, Write] {
        let c = |off| check_ctx_access(P::CgroupSockAddr, Some(at), off, 8, t, false);
        assert!(c(8).is_ok());
        invalid(c(12));
        assert!(c(16).is_ok());
        invalid(c(20));
        invalid(c(44));
        assert!(c(48).is_ok());
        invalid(c(52));
        invalid(c(56));
    }
    // user_ip4 is for inet4 attach types only.
    invalid(rd_at(P::CgroupSockAddr, at, o(sa::USER_IP4), 4));
    let c4 = AttachType::CgroupInet4Connect;
    let a = ok(rd_at(P::CgroupSockAddr, c4, o(sa::USER_IP4) + 3, 1));
    assert_eq!(a.ctx_field_size, 4);
    assert!(wr_at(P::CgroupSockAddr, c4, o(sa::USER_IP4), 4).is_ok());
    invalid(wr_at(P::CgroupSockAddr, c4, o(sa::USER_IP4), 2));
    invalid(rd_at(P::CgroupSockAddr, c4, o(sa::USER_IP6), 4));
    invalid(rd_at(P::CgroupSockAddr, c4, o(sa::MSG_SRC_IP4), 4));
    assert!(
        rd_at(
            P::CgroupSockAddr,
            AttachType::CgroupUdp4Sendmsg,
            o(sa::MSG_SRC_IP4),
            4
        )
        .is_ok()
    );
    // user_port and read-only words.
    assert!(wr_at(P::CgroupSockAddr, c4, o(sa::USER_PORT), 4).is_ok());
    assert!(rd_at(P::CgroupSockAddr, c4, o(sa::USER_PORT), 2).is_ok());
    assert!(rd_at(P::CgroupSockAddr, c4, o(sa::FAMILY), 4).is_ok());
    invalid(wr_at(P::CgroupSockAddr, c4, o(sa::FAMILY), 4));
    invalid(rd_at(P::CgroupSockAddr, c4, o(sa::PROTOCOL), 2));
    // sk: PTR_TO_SOCKET; progs/verifier_ctx.c narrow_load("cgroup/bind4",
    // bpf_sock_addr, sk).
    assert_eq!(ty(rd_at(P::CgroupSockAddr, c4, o(sa::SK), 8)), R::Socket);
    invalid(rd_at(
        P::CgroupSockAddr,
        AttachType::CgroupInet4Bind,
        o(sa::SK) + 4,
        4,
    ));
    invalid(rd_at(P::CgroupSockAddr, c4, sa::SIZEOF, 4));
}

// ----------------------------------------------------------------------------
// sk_msg, sk_reuseport, sk_lookup
// ----------------------------------------------------------------------------

#[test]
fn sk_msg_rules() {
    // progs/verifier_ctx_sk_msg.c.
    for f in [
        msg::FAMILY,
        msg::REMOTE_IP4,
        msg::LOCAL_IP4,
        msg::REMOTE_PORT,
        msg::LOCAL_PORT,
        msg::SIZE,
    ] {
        assert!(rd(P::SkMsg, f.off, 4).is_ok(), "{f:?}");
    }
    // "invalid 64B read of size", "invalid read past end of SK_MSG",
    // "invalid read offset in SK_MSG".
    invalid(rd(P::SkMsg, o(msg::SIZE), 8));
    invalid(rd(P::SkMsg, o(msg::SIZE) + 4, 4));
    invalid(rd(P::SkMsg, o(msg::FAMILY) + 1, 4));
    // "direct packet read for SK_MSG".
    assert_eq!(ty(rd(P::SkMsg, o(msg::DATA), 8)), R::Packet);
    assert_eq!(ty(rd(P::SkMsg, o(msg::DATA_END), 8)), R::PacketEnd);
    assert_eq!(ty(rd(P::SkMsg, o(msg::SK), 8)), R::Socket);
    invalid(rd(P::SkMsg, o(msg::DATA), 4));
    invalid(wr(P::SkMsg, o(msg::FAMILY), 4));
    invalid(rd(P::SkMsg, -8, 8));
    invalid(rd(P::SkMsg, msg::SIZEOF, 8));
}

#[test]
fn sk_reuseport_rules() {
    assert_eq!(ty(rd(P::SkReuseport, o(reuse::DATA), 8)), R::Packet);
    assert_eq!(ty(rd(P::SkReuseport, o(reuse::DATA_END), 8)), R::PacketEnd);
    assert_eq!(ty(rd(P::SkReuseport, o(reuse::SK), 8)), R::Socket);
    assert_eq!(
        ty(rd(P::SkReuseport, o(reuse::MIGRATING_SK), 8)),
        R::SockCommonOrNull
    );
    assert!(rd(P::SkReuseport, o(reuse::HASH), 4).is_ok());
    invalid(rd(P::SkReuseport, o(reuse::HASH), 2));
    // eth_protocol: at least the 2 bytes of skb->protocol.
    invalid(rd(P::SkReuseport, o(reuse::ETH_PROTOCOL), 1));
    assert!(rd(P::SkReuseport, o(reuse::ETH_PROTOCOL), 2).is_ok());
    assert!(rd(P::SkReuseport, o(reuse::IP_PROTOCOL), 1).is_ok());
    assert_eq!(ok(rd(P::SkReuseport, o(reuse::LEN), 4)).ctx_field_size, 4);
    invalid(wr(P::SkReuseport, o(reuse::HASH), 4));
    invalid(rd(P::SkReuseport, 36, 4));
}

#[test]
fn sk_lookup_rules() {
    let a = ok(rd(P::SkLookup, o(skl::SK), 8));
    assert_eq!(a.reg_type, R::SocketOrNull);
    // remote_port: 2-byte field, 4-byte loads allowed without narrowing.
    let a = ok(rd(P::SkLookup, o(skl::REMOTE_PORT), 4));
    assert_eq!(a.ctx_field_size, 0);
    assert_eq!(a.narrow, None);
    let a = ok(rd(P::SkLookup, o(skl::REMOTE_PORT), 2));
    assert_eq!(a.ctx_field_size, 2);
    assert_eq!(ok(rd(P::SkLookup, 37, 1)).ctx_field_size, 2);
    // The padding after it reads as zero.
    assert_eq!(ok(rd(P::SkLookup, 38, 2)).ctx_field_size, 2);
    invalid(rd(P::SkLookup, 38, 4));
    assert!(rd(P::SkLookup, o(skl::LOCAL_PORT) + 2, 2).is_ok());
    assert!(rd(P::SkLookup, o(skl::INGRESS_IFINDEX), 4).is_ok());
    invalid(wr(P::SkLookup, o(skl::FAMILY), 4));
    invalid(rd(P::SkLookup, 68, 4));
}

// ----------------------------------------------------------------------------
// cgroup device / sysctl / sockopt, syscall, netfilter, lirc
// ----------------------------------------------------------------------------

#[test]
fn cgroup_sockopt_rules() {
    let get = AttachType::CgroupGetsockopt;
    let set = AttachType::CgroupSetsockopt;
    assert_eq!(ty(rd_at(P::CgroupSockopt, get, o(sopt::SK), 8)), R::Socket);
    assert_eq!(
        ty(rd_at(P::CgroupSockopt, get, o(sopt::OPTVAL), 8)),
        R::Packet
    );
    assert_eq!(
        ty(rd_at(P::CgroupSockopt, get, o(sopt::OPTVAL_END), 8)),
        R::PacketEnd
    );
    // progs/verifier_ctx.c narrow_load("cgroup/getsockopt", bpf_sockopt,
    // sk / optval / optval_end).
    for f in [sopt::SK, sopt::OPTVAL, sopt::OPTVAL_END] {
        invalid(rd_at(P::CgroupSockopt, get, f.off + 4, 4));
    }
    assert!(rd_at(P::CgroupSockopt, get, o(sopt::RETVAL), 4).is_ok());
    invalid(rd_at(P::CgroupSockopt, set, o(sopt::RETVAL), 4));
    assert!(wr_at(P::CgroupSockopt, get, o(sopt::RETVAL), 4).is_ok());
    invalid(wr_at(P::CgroupSockopt, set, o(sopt::RETVAL), 4));
    assert!(wr_at(P::CgroupSockopt, set, o(sopt::OPTNAME), 4).is_ok());
    assert!(wr_at(P::CgroupSockopt, set, o(sopt::LEVEL), 4).is_ok());
    invalid(wr_at(P::CgroupSockopt, get, o(sopt::LEVEL), 4));
    assert!(wr_at(P::CgroupSockopt, get, o(sopt::OPTLEN), 4).is_ok());
    assert!(rd_at(P::CgroupSockopt, set, o(sopt::OPTLEN), 4).is_ok());
    invalid(rd_at(P::CgroupSockopt, set, o(sopt::OPTLEN), 2));
    invalid(wr_at(P::CgroupSockopt, set, o(sopt::OPTVAL), 8));
}

#[test]
fn cgroup_device_and_sysctl() {
    let a = ok(rd(P::CgroupDevice, o(dev::ACCESS_TYPE), 2));
    assert_eq!(a.ctx_field_size, 4);
    assert!(rd(P::CgroupDevice, o(dev::MAJOR), 4).is_ok());
    invalid(rd(P::CgroupDevice, o(dev::MINOR), 2));
    invalid(rd(P::CgroupDevice, o(dev::MINOR), 8));
    invalid(rd(P::CgroupDevice, 12, 4));
    invalid(wr(P::CgroupDevice, 0, 4));

    assert!(rd(P::CgroupSysctl, o(sysctl::WRITE), 1).is_ok());
    invalid(wr(P::CgroupSysctl, o(sysctl::WRITE), 4));
    assert!(wr(P::CgroupSysctl, o(sysctl::FILE_POS), 4).is_ok());
    invalid(wr(P::CgroupSysctl, o(sysctl::FILE_POS), 2));
    assert_eq!(
        ok(rd(P::CgroupSysctl, o(sysctl::FILE_POS) + 2, 2)).ctx_field_size,
        4
    );
    invalid(rd(P::CgroupSysctl, 0, 8));
}

#[test]
fn syscall_netfilter_lirc() {
    assert!(rd(P::Syscall, 0, 8).is_ok());
    assert!(wr(P::Syscall, 16, 4).is_ok());
    assert!(rd(P::Syscall, 65534, 1).is_ok());
    invalid(rd(P::Syscall, 65535, 1));
    invalid(rd(P::Syscall, 2, 4));
    invalid(rd(P::Syscall, -1, 1));

    let a = ok(rd(P::Netfilter, 8, 8));
    assert_eq!(
        a.reg_type,
        R::BtfId {
            struct_name: "sk_buff",
            or_null: false,
            trusted: true
        }
    );
    assert_eq!(a.reg_type.reg_type_str(), "trusted_ptr_");
    assert_eq!(a.ctx_field_size, 0);
    assert!(matches!(
        ty(rd(P::Netfilter, 0, 8)),
        R::BtfId {
            struct_name: "nf_hook_state",
            ..
        }
    ));
    invalid(rd(P::Netfilter, 8, 4));
    invalid(wr(P::Netfilter, 8, 8));
    invalid(rd(P::Netfilter, 16, 8));

    assert!(rd(P::LircMode2, 0, 4).is_ok());
    invalid(rd(P::LircMode2, 0, 2));
    invalid(wr(P::LircMode2, 0, 4));
}

// ----------------------------------------------------------------------------
// Unsupported types, sizes, and a sweep
// ----------------------------------------------------------------------------

#[test]
fn btf_driven_types_are_unsupported() {
    for p in [P::Tracing, P::Lsm, P::StructOps, P::Ext, P::Unspec] {
        match rd(p, 0, 8) {
            CtxCheck::Unsupported(why) => assert!(!why.is_empty()),
            other => panic!("{p}: expected Unsupported, got {other:?}"),
        }
        assert_eq!(ctx_size(p), None);
    }
    match rd(P::Tracing, 0, 8) {
        CtxCheck::Unsupported(why) => assert!(why.contains("btf_ctx_access"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ctx_sizes() {
    assert_eq!(ctx_size(P::SocketFilter), Some(192));
    assert_eq!(ctx_size(P::SchedCls), Some(192));
    assert_eq!(ctx_size(P::Xdp), Some(24));
    assert_eq!(ctx_size(P::Kprobe), Some(168));
    assert_eq!(ctx_size(P::PerfEvent), Some(184));
    assert_eq!(ctx_size(P::CgroupSock), Some(80));
    assert_eq!(ctx_size(P::CgroupSockAddr), Some(72));
    assert_eq!(ctx_size(P::SockOps), Some(224));
    assert_eq!(ctx_size(P::SkMsg), Some(80));
    assert_eq!(ctx_size(P::CgroupSysctl), Some(8));
    assert_eq!(ctx_size(P::CgroupSockopt), Some(40));
    assert_eq!(ctx_size(P::CgroupDevice), Some(12));
    assert_eq!(ctx_size(P::SkReuseport), Some(56));
    assert_eq!(ctx_size(P::SkLookup), Some(72));
    assert_eq!(ctx_size(P::Netfilter), Some(16));
    assert_eq!(ctx_size(P::RawTracepoint), None);
    assert_eq!(ctx_size(P::Syscall), None);
}

/// Every valid access of a fixed-size ctx lies inside the struct, and every
/// modelled type answers without panicking for any offset and size.
#[test]
fn sweep_valid_accesses_stay_inside_the_struct() {
    let modelled: Vec<ProgType> = ProgType::all()
        .iter()
        .copied()
        .filter(|p| !matches!(rd(*p, 0, 8), CtxCheck::Unsupported(_)))
        .collect();
    assert_eq!(modelled.len(), 28);
    let attaches = [
        None,
        Some(AttachType::CgroupInet4PostBind),
        Some(AttachType::CgroupUdp6Sendmsg),
        Some(AttachType::CgroupGetsockopt),
        Some(AttachType::XdpDevmap),
    ];
    for &p in &modelled {
        let limit = ctx_size(p).map(|s| s as i32);
        for attach in attaches {
            for off in -16..260 {
                for size in [1u32, 2, 4, 8] {
                    for t in [Read, Write] {
                        for ldsx in [false, true] {
                            let c = check_ctx_access(p, attach, off, size, t, ldsx);
                            let Some(a) = c.access() else { continue };
                            assert!(off >= 0, "{p} off={off}");
                            if let Some(limit) = limit {
                                assert!(
                                    off + size as i32 <= limit,
                                    "{p} {attach:?} off={off} size={size} {t:?}"
                                );
                            }
                            if t == Write {
                                assert_eq!(a.narrow, None);
                            }
                            if let Some(n) = a.narrow {
                                assert!(size < a.ctx_field_size);
                                assert!(n.load_off <= off);
                                assert!(off + size as i32 <= n.load_off + n.size_default as i32);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Members lie inside their structs and do not overlap (except the
/// `bpf_sock_ops` args/reply union).
#[test]
fn layouts_are_consistent() {
    let structs: &[(&str, i32, &[Field])] = &[
        (
            "__sk_buff",
            skb::SIZEOF,
            &[
                skb::LEN,
                skb::PKT_TYPE,
                skb::MARK,
                skb::QUEUE_MAPPING,
                skb::PROTOCOL,
                skb::VLAN_PRESENT,
                skb::VLAN_TCI,
                skb::VLAN_PROTO,
                skb::PRIORITY,
                skb::INGRESS_IFINDEX,
                skb::IFINDEX,
                skb::TC_INDEX,
                skb::CB,
                skb::HASH,
                skb::TC_CLASSID,
                skb::DATA,
                skb::DATA_END,
                skb::NAPI_ID,
                skb::FAMILY,
                skb::REMOTE_IP4,
                skb::LOCAL_IP4,
                skb::REMOTE_IP6,
                skb::LOCAL_IP6,
                skb::REMOTE_PORT,
                skb::LOCAL_PORT,
                skb::DATA_META,
                skb::FLOW_KEYS,
                skb::TSTAMP,
                skb::WIRE_LEN,
                skb::GSO_SEGS,
                skb::SK,
                skb::GSO_SIZE,
                skb::TSTAMP_TYPE,
                skb::HWTSTAMP,
            ],
        ),
        (
            "bpf_sock",
            sock::SIZEOF,
            &[
                sock::BOUND_DEV_IF,
                sock::FAMILY,
                sock::TYPE,
                sock::PROTOCOL,
                sock::MARK,
                sock::PRIORITY,
                sock::SRC_IP4,
                sock::SRC_IP6,
                sock::SRC_PORT,
                sock::DST_PORT,
                sock::DST_IP4,
                sock::DST_IP6,
                sock::STATE,
                sock::RX_QUEUE_MAPPING,
            ],
        ),
        (
            "bpf_sock_addr",
            sa::SIZEOF,
            &[
                sa::USER_FAMILY,
                sa::USER_IP4,
                sa::USER_IP6,
                sa::USER_PORT,
                sa::FAMILY,
                sa::TYPE,
                sa::PROTOCOL,
                sa::MSG_SRC_IP4,
                sa::MSG_SRC_IP6,
                sa::SK,
            ],
        ),
        (
            "sk_msg_md",
            msg::SIZEOF,
            &[
                msg::DATA,
                msg::DATA_END,
                msg::FAMILY,
                msg::REMOTE_IP4,
                msg::LOCAL_IP4,
                msg::REMOTE_IP6,
                msg::LOCAL_IP6,
                msg::REMOTE_PORT,
                msg::LOCAL_PORT,
                msg::SIZE,
                msg::SK,
            ],
        ),
        (
            "bpf_sk_lookup",
            skl::SIZEOF,
            &[
                skl::SK,
                skl::FAMILY,
                skl::PROTOCOL,
                skl::REMOTE_IP4,
                skl::REMOTE_IP6,
                skl::REMOTE_PORT,
                skl::LOCAL_IP4,
                skl::LOCAL_IP6,
                skl::LOCAL_PORT,
                skl::INGRESS_IFINDEX,
            ],
        ),
        (
            "pt_regs",
            pt_regs::SIZEOF,
            &[
                pt_regs::R15,
                pt_regs::R14,
                pt_regs::R13,
                pt_regs::R12,
                pt_regs::BP,
                pt_regs::BX,
                pt_regs::R11,
                pt_regs::R10,
                pt_regs::R9,
                pt_regs::R8,
                pt_regs::AX,
                pt_regs::CX,
                pt_regs::DX,
                pt_regs::SI,
                pt_regs::DI,
                pt_regs::ORIG_AX,
                pt_regs::IP,
                pt_regs::CS,
                pt_regs::FLAGS,
                pt_regs::SP,
                pt_regs::SS,
            ],
        ),
    ];
    for (name, sizeof, fields) in structs {
        let mut prev_end = 0;
        for f in fields.iter() {
            assert!(f.off >= prev_end, "{name}: {f:?} overlaps");
            assert!(f.end() <= *sizeof, "{name}: {f:?} past the end");
            prev_end = f.end();
        }
    }
    assert_eq!(pe::REGS.size, pt_regs::SIZEOF);
    assert_eq!(pe::SAMPLE_PERIOD.off, pt_regs::SIZEOF);
}
