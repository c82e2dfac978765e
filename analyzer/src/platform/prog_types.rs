//! `enum bpf_prog_type` and `enum bpf_attach_type` of Linux 6.18
//! (`include/uapi/linux/bpf.h`), named as libbpf's `prog_type_name[]` /
//! `attach_type_name[]` (and therefore bpftool) print them.

uapi_enum! {
    /// A BPF program type (`enum bpf_prog_type`).
    pub enum ProgType, prefix "BPF_PROG_TYPE_" {
        Unspec = 0 => "unspec",
        SocketFilter = 1 => "socket_filter",
        Kprobe = 2 => "kprobe",
        SchedCls = 3 => "sched_cls",
        SchedAct = 4 => "sched_act",
        Tracepoint = 5 => "tracepoint",
        Xdp = 6 => "xdp",
        PerfEvent = 7 => "perf_event",
        CgroupSkb = 8 => "cgroup_skb",
        CgroupSock = 9 => "cgroup_sock",
        LwtIn = 10 => "lwt_in",
        LwtOut = 11 => "lwt_out",
        LwtXmit = 12 => "lwt_xmit",
        SockOps = 13 => "sock_ops",
        SkSkb = 14 => "sk_skb",
        CgroupDevice = 15 => "cgroup_device",
        SkMsg = 16 => "sk_msg",
        RawTracepoint = 17 => "raw_tracepoint",
        CgroupSockAddr = 18 => "cgroup_sock_addr",
        LwtSeg6local = 19 => "lwt_seg6local",
        LircMode2 = 20 => "lirc_mode2",
        SkReuseport = 21 => "sk_reuseport",
        FlowDissector = 22 => "flow_dissector",
        CgroupSysctl = 23 => "cgroup_sysctl",
        RawTracepointWritable = 24 => "raw_tracepoint_writable",
        CgroupSockopt = 25 => "cgroup_sockopt",
        Tracing = 26 => "tracing",
        StructOps = 27 => "struct_ops",
        Ext = 28 => "ext",
        Lsm = 29 => "lsm",
        SkLookup = 30 => "sk_lookup",
        Syscall = 31 => "syscall",
        Netfilter = 32 => "netfilter",
    }
}

uapi_enum! {
    /// A BPF attach type (`enum bpf_attach_type`).
    ///
    /// Note that the kernel's value 0 is `BPF_CGROUP_INET_INGRESS`, which is
    /// also what "no expected attach type" looks like at `BPF_PROG_LOAD`.
    pub enum AttachType, prefix "BPF_" {
        CgroupInetIngress = 0 => "cgroup_inet_ingress",
        CgroupInetEgress = 1 => "cgroup_inet_egress",
        CgroupInetSockCreate = 2 => "cgroup_inet_sock_create",
        CgroupSockOps = 3 => "cgroup_sock_ops",
        SkSkbStreamParser = 4 => "sk_skb_stream_parser",
        SkSkbStreamVerdict = 5 => "sk_skb_stream_verdict",
        CgroupDevice = 6 => "cgroup_device",
        SkMsgVerdict = 7 => "sk_msg_verdict",
        CgroupInet4Bind = 8 => "cgroup_inet4_bind",
        CgroupInet6Bind = 9 => "cgroup_inet6_bind",
        CgroupInet4Connect = 10 => "cgroup_inet4_connect",
        CgroupInet6Connect = 11 => "cgroup_inet6_connect",
        CgroupInet4PostBind = 12 => "cgroup_inet4_post_bind",
        CgroupInet6PostBind = 13 => "cgroup_inet6_post_bind",
        CgroupUdp4Sendmsg = 14 => "cgroup_udp4_sendmsg",
        CgroupUdp6Sendmsg = 15 => "cgroup_udp6_sendmsg",
        LircMode2 = 16 => "lirc_mode2",
        FlowDissector = 17 => "flow_dissector",
        CgroupSysctl = 18 => "cgroup_sysctl",
        CgroupUdp4Recvmsg = 19 => "cgroup_udp4_recvmsg",
        CgroupUdp6Recvmsg = 20 => "cgroup_udp6_recvmsg",
        CgroupGetsockopt = 21 => "cgroup_getsockopt",
        CgroupSetsockopt = 22 => "cgroup_setsockopt",
        TraceRawTp = 23 => "trace_raw_tp",
        TraceFentry = 24 => "trace_fentry",
        TraceFexit = 25 => "trace_fexit",
        ModifyReturn = 26 => "modify_return",
        LsmMac = 27 => "lsm_mac",
        TraceIter = 28 => "trace_iter",
        CgroupInet4Getpeername = 29 => "cgroup_inet4_getpeername",
        CgroupInet6Getpeername = 30 => "cgroup_inet6_getpeername",
        CgroupInet4Getsockname = 31 => "cgroup_inet4_getsockname",
        CgroupInet6Getsockname = 32 => "cgroup_inet6_getsockname",
        XdpDevmap = 33 => "xdp_devmap",
        CgroupInetSockRelease = 34 => "cgroup_inet_sock_release",
        XdpCpumap = 35 => "xdp_cpumap",
        SkLookup = 36 => "sk_lookup",
        Xdp = 37 => "xdp",
        SkSkbVerdict = 38 => "sk_skb_verdict",
        SkReuseportSelect = 39 => "sk_reuseport_select",
        SkReuseportSelectOrMigrate = 40 => "sk_reuseport_select_or_migrate",
        PerfEvent = 41 => "perf_event",
        TraceKprobeMulti = 42 => "trace_kprobe_multi",
        LsmCgroup = 43 => "lsm_cgroup",
        StructOps = 44 => "struct_ops",
        Netfilter = 45 => "netfilter",
        TcxIngress = 46 => "tcx_ingress",
        TcxEgress = 47 => "tcx_egress",
        TraceUprobeMulti = 48 => "trace_uprobe_multi",
        CgroupUnixConnect = 49 => "cgroup_unix_connect",
        CgroupUnixSendmsg = 50 => "cgroup_unix_sendmsg",
        CgroupUnixRecvmsg = 51 => "cgroup_unix_recvmsg",
        CgroupUnixGetpeername = 52 => "cgroup_unix_getpeername",
        CgroupUnixGetsockname = 53 => "cgroup_unix_getsockname",
        NetkitPrimary = 54 => "netkit_primary",
        NetkitPeer = 55 => "netkit_peer",
        TraceKprobeSession = 56 => "trace_kprobe_session",
        TraceUprobeSession = 57 => "trace_uprobe_session",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prog_type_values_are_dense_and_complete() {
        // include/uapi/linux/bpf.h (6.18): UNSPEC = 0 .. NETFILTER = 32.
        assert_eq!(ProgType::all().len(), 33);
        for (i, t) in ProgType::all().iter().enumerate() {
            assert_eq!(t.as_u32() as usize, i);
            assert_eq!(ProgType::from_u32(i as u32), Some(*t));
            assert_eq!(ProgType::from_name(t.name()), Some(*t));
        }
        assert_eq!(ProgType::from_u32(33), None);
    }

    #[test]
    fn prog_type_known_values() {
        assert_eq!(ProgType::SocketFilter as u32, 1);
        assert_eq!(ProgType::Xdp as u32, 6);
        assert_eq!(ProgType::Tracing as u32, 26);
        assert_eq!(ProgType::Netfilter as u32, 32);
        assert_eq!(ProgType::SchedCls.name(), "sched_cls");
        assert_eq!(ProgType::SockOps.name(), "sock_ops");
        assert_eq!(ProgType::from_name("syscall"), Some(ProgType::Syscall));
        assert_eq!(
            ProgType::from_name("BPF_PROG_TYPE_XDP"),
            Some(ProgType::Xdp)
        );
        assert_eq!(
            ProgType::from_name("bpf_prog_type_lsm"),
            Some(ProgType::Lsm)
        );
        assert_eq!(ProgType::from_name("nope"), None);
        assert_eq!(ProgType::from_name("BPF_PROG_TYPE_"), None);
        assert_eq!(ProgType::Kprobe.c_name(), "BPF_PROG_TYPE_KPROBE");
        assert_eq!(ProgType::LwtSeg6local.to_string(), "lwt_seg6local");
    }

    #[test]
    fn attach_type_values_are_dense_and_complete() {
        // include/uapi/linux/bpf.h (6.18): CGROUP_INET_INGRESS = 0 ..
        // TRACE_UPROBE_SESSION = 57.
        assert_eq!(AttachType::all().len(), 58);
        for (i, t) in AttachType::all().iter().enumerate() {
            assert_eq!(t.as_u32() as usize, i);
            assert_eq!(AttachType::from_u32(i as u32), Some(*t));
            assert_eq!(AttachType::from_name(t.name()), Some(*t));
        }
        assert_eq!(AttachType::from_u32(58), None);
    }

    #[test]
    fn attach_type_known_values() {
        assert_eq!(AttachType::Xdp as u32, 37);
        assert_eq!(AttachType::TraceKprobeMulti as u32, 42);
        assert_eq!(AttachType::TcxIngress as u32, 46);
        assert_eq!(AttachType::TraceFentry.name(), "trace_fentry");
        assert_eq!(AttachType::ModifyReturn.c_name(), "BPF_MODIFY_RETURN");
        assert_eq!(
            AttachType::from_name("BPF_LSM_MAC"),
            Some(AttachType::LsmMac)
        );
        assert_eq!(
            AttachType::from_name("cgroup_inet_ingress"),
            Some(AttachType::CgroupInetIngress)
        );
    }
}
