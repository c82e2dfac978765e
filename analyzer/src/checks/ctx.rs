//! Context access rules: what `check_ctx_access` (kernel/bpf/verifier.c,
//! Linux 6.12) decides for a load or store through a `PTR_TO_CTX` register.
//!
//! The kernel asks the program type's `env->ops->is_valid_access(off, size,
//! type, prog, &info)`. A `true` answer gives the type of the loaded value
//! (`info.reg_type`), the field size the load is rewritten to
//! (`info.ctx_field_size`, recorded in `insn_aux_data[].ctx_field_size` and
//! used by `convert_ctx_accesses` for narrow loads) and `is_retval`; a
//! `false` answer is `invalid bpf_context access off=%d size=%d` (`-EACCES`).
//!
//! Each program type's callback is mirrored by a function of the same name
//! (`net/core/filter.c`, `kernel/trace/bpf_trace.c`, `kernel/bpf/cgroup.c`,
//! `kernel/bpf/syscall.c`, `net/netfilter/nf_bpf_link.c`,
//! `drivers/media/rc/bpf-lirc.c`). The ctx struct layouts are those of the
//! 6.12 uapi headers on x86_64 (offsets taken with `offsetof` from a C
//! program compiled against `include/uapi`), in [`layout`].
//!
//! Not modelled here (the caller's job, as in `check_mem_access`): `R%d
//! leaks addr into ctx`, `check_ptr_off_reg` (`dereference of modified ctx
//! ptr`), and the `BPF_ST` / `BPF_ATOMIC` stores into ctx that `do_check`
//! refuses before any of this runs.
//!
//! Program types whose rules need BTF (`btf_ctx_access`: tracing, LSM,
//! struct_ops; ext takes its target's rules) answer [`CtxCheck::Unsupported`].

use crate::platform::{AttachType, ProgType};
use crate::state::reg::{BaseType, TypeFlags};

/// Load (`BPF_READ`) or store (`BPF_WRITE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessType {
    /// `BPF_READ`.
    Read,
    /// `BPF_WRITE`.
    Write,
}

/// The register type a ctx load produces (`info->reg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtxRegType {
    /// `SCALAR_VALUE`.
    Scalar,
    /// `PTR_TO_PACKET`.
    Packet,
    /// `PTR_TO_PACKET_META`.
    PacketMeta,
    /// `PTR_TO_PACKET_END`.
    PacketEnd,
    /// `PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL`.
    SockCommonOrNull,
    /// `PTR_TO_SOCKET | PTR_MAYBE_NULL`.
    SocketOrNull,
    /// `PTR_TO_SOCK_COMMON`.
    SockCommon,
    /// `PTR_TO_SOCKET`.
    Socket,
    /// `PTR_TO_FLOW_KEYS`.
    FlowKeys,
    /// `PTR_TO_TP_BUFFER`.
    TpBuffer,
    /// `PTR_TO_BTF_ID` of the vmlinux struct `struct_name`
    /// (`| PTR_MAYBE_NULL` when `or_null`, `| PTR_TRUSTED` when `trusted`).
    BtfId {
        /// The vmlinux struct, e.g. `sk_buff`.
        struct_name: &'static str,
        /// `PTR_MAYBE_NULL`.
        or_null: bool,
        /// `PTR_TRUSTED`.
        trusted: bool,
    },
}

impl CtxRegType {
    /// `base_type(reg_type)`.
    pub const fn base_type(self) -> BaseType {
        match self {
            CtxRegType::Scalar => BaseType::Scalar,
            CtxRegType::Packet => BaseType::Packet,
            CtxRegType::PacketMeta => BaseType::PacketMeta,
            CtxRegType::PacketEnd => BaseType::PacketEnd,
            CtxRegType::SockCommonOrNull | CtxRegType::SockCommon => BaseType::SockCommon,
            CtxRegType::SocketOrNull | CtxRegType::Socket => BaseType::Socket,
            CtxRegType::FlowKeys => BaseType::FlowKeys,
            CtxRegType::TpBuffer => BaseType::TpBuffer,
            CtxRegType::BtfId { .. } => BaseType::BtfId,
        }
    }

    /// The `enum bpf_type_flag` bits of the type.
    pub const fn type_flags(self) -> TypeFlags {
        match self {
            CtxRegType::SockCommonOrNull | CtxRegType::SocketOrNull => {
                TypeFlags(TypeFlags::MAYBE_NULL)
            }
            CtxRegType::BtfId {
                or_null, trusted, ..
            } => {
                let mut f = 0;
                if or_null {
                    f |= TypeFlags::MAYBE_NULL;
                }
                if trusted {
                    f |= TypeFlags::TRUSTED;
                }
                TypeFlags(f)
            }
            _ => TypeFlags(0),
        }
    }

    /// `type_may_be_null(reg_type)`: the loaded register gets a fresh id.
    pub const fn may_be_null(self) -> bool {
        self.type_flags().has(TypeFlags::MAYBE_NULL)
    }

    /// `reg_type_str()` of the type (kernel/bpf/log.c), e.g. `pkt_end`,
    /// `sock_common_or_null`, `trusted_ptr_`.
    pub fn reg_type_str(self) -> String {
        match self {
            CtxRegType::Scalar => "scalar".into(),
            CtxRegType::Packet => "pkt".into(),
            CtxRegType::PacketMeta => "pkt_meta".into(),
            CtxRegType::PacketEnd => "pkt_end".into(),
            CtxRegType::SockCommonOrNull => "sock_common_or_null".into(),
            CtxRegType::SocketOrNull => "sock_or_null".into(),
            CtxRegType::SockCommon => "sock_common".into(),
            CtxRegType::Socket => "sock".into(),
            CtxRegType::FlowKeys => "flow_keys".into(),
            CtxRegType::TpBuffer => "tp_buffer".into(),
            CtxRegType::BtfId {
                or_null, trusted, ..
            } => format!(
                "{}ptr_{}",
                if trusted { "trusted_" } else { "" },
                if or_null { "or_null_" } else { "" }
            ),
        }
    }
}

/// How `convert_ctx_accesses` rewrites a narrower load: a load of
/// `size_default` bytes at `load_off`, shifted right by `shift` bits and
/// masked to the access size (little endian,
/// `bpf_ctx_narrow_access_offset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NarrowLoad {
    /// `bpf_ctx_off_adjust_machine(ctx_field_size)`.
    pub size_default: u32,
    /// `off & ~(size_default - 1)`: offset of the whole-field load.
    pub load_off: i32,
    /// `bpf_ctx_narrow_access_offset(off, size, size_default) * 8`.
    pub shift: u32,
}

/// A valid ctx access: what `check_ctx_access` hands back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtxAccess {
    /// Type of the loaded value (meaningful for reads).
    pub reg_type: CtxRegType,
    /// `info.ctx_field_size`: non-zero for fields that may be loaded
    /// narrower than the field; `0` for whole-field-only accesses (and
    /// always `0` for `PTR_TO_BTF_ID` results, whose `info` holds a BTF id).
    pub ctx_field_size: u32,
    /// `info.is_retval`: the load reads the traced function's return value.
    /// Only `btf_ctx_access` sets it, so it is `false` for every program
    /// type modelled here.
    pub is_retval: bool,
    /// `Some` when the access is a narrower load (`size < ctx_field_size`).
    pub narrow: Option<NarrowLoad>,
}

/// The verdict on one ctx access.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CtxCheck {
    /// `is_valid_access` said yes.
    Ok(CtxAccess),
    /// `invalid bpf_context access off=%d size=%d` (see
    /// [`invalid_ctx_access_msg`]).
    Invalid,
    /// A program type (or ctx) whose rules are not modelled; names it.
    Unsupported(String),
}

impl CtxCheck {
    /// True for [`CtxCheck::Ok`].
    pub fn is_ok(&self) -> bool {
        matches!(self, CtxCheck::Ok(_))
    }

    /// True for [`CtxCheck::Invalid`].
    pub fn is_invalid(&self) -> bool {
        matches!(self, CtxCheck::Invalid)
    }

    /// The access, when valid.
    pub fn access(&self) -> Option<&CtxAccess> {
        match self {
            CtxCheck::Ok(a) => Some(a),
            _ => None,
        }
    }
}

/// The kernel's message for a refused ctx access.
pub fn invalid_ctx_access_msg(off: i32, size: u32) -> String {
    format!("invalid bpf_context access off={off} size={size}")
}

/// Facts about the load that `is_valid_access` looks at besides
/// `expected_attach_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtxOptions {
    /// `bpf_token_capable(prog->aux->token, CAP_BPF)` (cgroup_skb
    /// `data`/`data_end` reads and `tstamp` writes need it).
    pub bpf_capable: bool,
    /// `bpf_prog_is_offloaded(prog->aux)` (offloaded XDP may write
    /// `rx_queue_index`).
    pub offloaded: bool,
}

impl Default for CtxOptions {
    fn default() -> Self {
        CtxOptions {
            bpf_capable: true,
            offloaded: false,
        }
    }
}

/// One member of a ctx struct: `offsetof` and `sizeof_field`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    /// `offsetof(TYPE, MEMBER)`.
    pub off: i32,
    /// `sizeof_field(TYPE, MEMBER)`.
    pub size: i32,
}

impl Field {
    /// A member at `off` of `size` bytes.
    pub const fn new(off: i32, size: i32) -> Self {
        Field { off, size }
    }

    /// `offsetofend(TYPE, MEMBER)`.
    pub const fn end(self) -> i32 {
        self.off + self.size
    }

    /// `case bpf_ctx_range(TYPE, MEMBER):` (also `bpf_ctx_range_ptr` on
    /// 64-bit).
    pub const fn range(self, off: i32) -> bool {
        off >= self.off && off < self.end()
    }

    /// `case offsetof(TYPE, MEMBER):`.
    pub const fn at(self, off: i32) -> bool {
        off == self.off
    }
}

/// `case bpf_ctx_range_till(TYPE, MEMBER1, MEMBER2):`.
const fn range_till(first: Field, last: Field, off: i32) -> bool {
    off >= first.off && off < last.end()
}

/// The uapi ctx structs of Linux 6.12 on x86_64: one module per struct,
/// named as in C, with each member's offset and size and the struct's
/// `SIZEOF`.
#[allow(missing_docs)]
pub mod layout {
    /// `struct __sk_buff` (include/uapi/linux/bpf.h).
    pub mod __sk_buff {
        use super::super::Field;
        pub const SIZEOF: i32 = 192;
        pub const LEN: Field = Field::new(0, 4);
        pub const PKT_TYPE: Field = Field::new(4, 4);
        pub const MARK: Field = Field::new(8, 4);
        pub const QUEUE_MAPPING: Field = Field::new(12, 4);
        pub const PROTOCOL: Field = Field::new(16, 4);
        pub const VLAN_PRESENT: Field = Field::new(20, 4);
        pub const VLAN_TCI: Field = Field::new(24, 4);
        pub const VLAN_PROTO: Field = Field::new(28, 4);
        pub const PRIORITY: Field = Field::new(32, 4);
        pub const INGRESS_IFINDEX: Field = Field::new(36, 4);
        pub const IFINDEX: Field = Field::new(40, 4);
        pub const TC_INDEX: Field = Field::new(44, 4);
        /// `__u32 cb[5]`.
        pub const CB: Field = Field::new(48, 20);
        pub const HASH: Field = Field::new(68, 4);
        pub const TC_CLASSID: Field = Field::new(72, 4);
        pub const DATA: Field = Field::new(76, 4);
        pub const DATA_END: Field = Field::new(80, 4);
        pub const NAPI_ID: Field = Field::new(84, 4);
        pub const FAMILY: Field = Field::new(88, 4);
        pub const REMOTE_IP4: Field = Field::new(92, 4);
        pub const LOCAL_IP4: Field = Field::new(96, 4);
        /// `__u32 remote_ip6[4]`.
        pub const REMOTE_IP6: Field = Field::new(100, 16);
        /// `__u32 local_ip6[4]`.
        pub const LOCAL_IP6: Field = Field::new(116, 16);
        pub const REMOTE_PORT: Field = Field::new(132, 4);
        pub const LOCAL_PORT: Field = Field::new(136, 4);
        pub const DATA_META: Field = Field::new(140, 4);
        /// `__bpf_md_ptr(struct bpf_flow_keys *, flow_keys)`.
        pub const FLOW_KEYS: Field = Field::new(144, 8);
        pub const TSTAMP: Field = Field::new(152, 8);
        pub const WIRE_LEN: Field = Field::new(160, 4);
        pub const GSO_SEGS: Field = Field::new(164, 4);
        /// `__bpf_md_ptr(struct bpf_sock *, sk)`.
        pub const SK: Field = Field::new(168, 8);
        pub const GSO_SIZE: Field = Field::new(176, 4);
        /// `__u8 tstamp_type`, followed by 3 bytes of padding.
        pub const TSTAMP_TYPE: Field = Field::new(180, 1);
        pub const HWTSTAMP: Field = Field::new(184, 8);
    }

    /// `struct xdp_md`.
    pub mod xdp_md {
        use super::super::Field;
        pub const SIZEOF: i32 = 24;
        pub const DATA: Field = Field::new(0, 4);
        pub const DATA_END: Field = Field::new(4, 4);
        pub const DATA_META: Field = Field::new(8, 4);
        pub const INGRESS_IFINDEX: Field = Field::new(12, 4);
        pub const RX_QUEUE_INDEX: Field = Field::new(16, 4);
        pub const EGRESS_IFINDEX: Field = Field::new(20, 4);
    }

    /// `struct bpf_sock`.
    pub mod bpf_sock {
        use super::super::Field;
        pub const SIZEOF: i32 = 80;
        pub const BOUND_DEV_IF: Field = Field::new(0, 4);
        pub const FAMILY: Field = Field::new(4, 4);
        pub const TYPE: Field = Field::new(8, 4);
        pub const PROTOCOL: Field = Field::new(12, 4);
        pub const MARK: Field = Field::new(16, 4);
        pub const PRIORITY: Field = Field::new(20, 4);
        pub const SRC_IP4: Field = Field::new(24, 4);
        pub const SRC_IP6: Field = Field::new(28, 16);
        pub const SRC_PORT: Field = Field::new(44, 4);
        /// `__be16 dst_port`, followed by 2 bytes of zero padding.
        pub const DST_PORT: Field = Field::new(48, 2);
        pub const DST_IP4: Field = Field::new(52, 4);
        pub const DST_IP6: Field = Field::new(56, 16);
        pub const STATE: Field = Field::new(72, 4);
        pub const RX_QUEUE_MAPPING: Field = Field::new(76, 4);
    }

    /// `struct bpf_sock_ops`.
    pub mod bpf_sock_ops {
        use super::super::Field;
        pub const SIZEOF: i32 = 224;
        pub const OP: Field = Field::new(0, 4);
        /// `union { __u32 args[4]; __u32 reply; __u32 replylong[4]; }`.
        pub const ARGS: Field = Field::new(4, 16);
        pub const REPLY: Field = Field::new(4, 4);
        pub const FAMILY: Field = Field::new(20, 4);
        pub const REMOTE_IP4: Field = Field::new(24, 4);
        pub const LOCAL_IP4: Field = Field::new(28, 4);
        pub const REMOTE_IP6: Field = Field::new(32, 16);
        pub const LOCAL_IP6: Field = Field::new(48, 16);
        pub const REMOTE_PORT: Field = Field::new(64, 4);
        pub const LOCAL_PORT: Field = Field::new(68, 4);
        pub const IS_FULLSOCK: Field = Field::new(72, 4);
        pub const SND_CWND: Field = Field::new(76, 4);
        pub const SRTT_US: Field = Field::new(80, 4);
        pub const BPF_SOCK_OPS_CB_FLAGS: Field = Field::new(84, 4);
        pub const STATE: Field = Field::new(88, 4);
        pub const SK_TXHASH: Field = Field::new(164, 4);
        pub const BYTES_RECEIVED: Field = Field::new(168, 8);
        pub const BYTES_ACKED: Field = Field::new(176, 8);
        pub const SK: Field = Field::new(184, 8);
        pub const SKB_DATA: Field = Field::new(192, 8);
        pub const SKB_DATA_END: Field = Field::new(200, 8);
        pub const SKB_LEN: Field = Field::new(208, 4);
        pub const SKB_TCP_FLAGS: Field = Field::new(212, 4);
        pub const SKB_HWTSTAMP: Field = Field::new(216, 8);
    }

    /// `struct sk_msg_md`.
    pub mod sk_msg_md {
        use super::super::Field;
        pub const SIZEOF: i32 = 80;
        pub const DATA: Field = Field::new(0, 8);
        pub const DATA_END: Field = Field::new(8, 8);
        pub const FAMILY: Field = Field::new(16, 4);
        pub const REMOTE_IP4: Field = Field::new(20, 4);
        pub const LOCAL_IP4: Field = Field::new(24, 4);
        pub const REMOTE_IP6: Field = Field::new(28, 16);
        pub const LOCAL_IP6: Field = Field::new(44, 16);
        pub const REMOTE_PORT: Field = Field::new(60, 4);
        pub const LOCAL_PORT: Field = Field::new(64, 4);
        pub const SIZE: Field = Field::new(68, 4);
        pub const SK: Field = Field::new(72, 8);
    }

    /// `struct bpf_sock_addr`.
    pub mod bpf_sock_addr {
        use super::super::Field;
        pub const SIZEOF: i32 = 72;
        pub const USER_FAMILY: Field = Field::new(0, 4);
        pub const USER_IP4: Field = Field::new(4, 4);
        pub const USER_IP6: Field = Field::new(8, 16);
        pub const USER_PORT: Field = Field::new(24, 4);
        pub const FAMILY: Field = Field::new(28, 4);
        pub const TYPE: Field = Field::new(32, 4);
        pub const PROTOCOL: Field = Field::new(36, 4);
        pub const MSG_SRC_IP4: Field = Field::new(40, 4);
        pub const MSG_SRC_IP6: Field = Field::new(44, 16);
        pub const SK: Field = Field::new(64, 8);
    }

    /// `struct bpf_sk_lookup`.
    pub mod bpf_sk_lookup {
        use super::super::Field;
        pub const SIZEOF: i32 = 72;
        pub const SK: Field = Field::new(0, 8);
        pub const FAMILY: Field = Field::new(8, 4);
        pub const PROTOCOL: Field = Field::new(12, 4);
        pub const REMOTE_IP4: Field = Field::new(16, 4);
        pub const REMOTE_IP6: Field = Field::new(20, 16);
        /// `__be16 remote_port`, followed by 2 bytes of zero padding.
        pub const REMOTE_PORT: Field = Field::new(36, 2);
        pub const LOCAL_IP4: Field = Field::new(40, 4);
        pub const LOCAL_IP6: Field = Field::new(44, 16);
        pub const LOCAL_PORT: Field = Field::new(60, 4);
        pub const INGRESS_IFINDEX: Field = Field::new(64, 4);
    }

    /// `struct bpf_sysctl`.
    pub mod bpf_sysctl {
        use super::super::Field;
        pub const SIZEOF: i32 = 8;
        pub const WRITE: Field = Field::new(0, 4);
        pub const FILE_POS: Field = Field::new(4, 4);
    }

    /// `struct bpf_sockopt`.
    pub mod bpf_sockopt {
        use super::super::Field;
        pub const SIZEOF: i32 = 40;
        pub const SK: Field = Field::new(0, 8);
        pub const OPTVAL: Field = Field::new(8, 8);
        pub const OPTVAL_END: Field = Field::new(16, 8);
        pub const LEVEL: Field = Field::new(24, 4);
        pub const OPTNAME: Field = Field::new(28, 4);
        pub const OPTLEN: Field = Field::new(32, 4);
        pub const RETVAL: Field = Field::new(36, 4);
    }

    /// `struct bpf_cgroup_dev_ctx`.
    pub mod bpf_cgroup_dev_ctx {
        use super::super::Field;
        pub const SIZEOF: i32 = 12;
        pub const ACCESS_TYPE: Field = Field::new(0, 4);
        pub const MAJOR: Field = Field::new(4, 4);
        pub const MINOR: Field = Field::new(8, 4);
    }

    /// `struct bpf_flow_keys` (reached through `__sk_buff->flow_keys`).
    pub mod bpf_flow_keys {
        pub const SIZEOF: i32 = 56;
    }

    /// `struct sk_reuseport_md`.
    pub mod sk_reuseport_md {
        use super::super::Field;
        pub const SIZEOF: i32 = 56;
        pub const DATA: Field = Field::new(0, 8);
        pub const DATA_END: Field = Field::new(8, 8);
        pub const LEN: Field = Field::new(16, 4);
        pub const ETH_PROTOCOL: Field = Field::new(20, 4);
        pub const IP_PROTOCOL: Field = Field::new(24, 4);
        pub const BIND_INANY: Field = Field::new(28, 4);
        pub const HASH: Field = Field::new(32, 4);
        pub const SK: Field = Field::new(40, 8);
        pub const MIGRATING_SK: Field = Field::new(48, 8);
        /// `sizeof_field(struct sk_buff, protocol)` (`__be16`).
        pub const SK_BUFF_PROTOCOL_SIZE: i32 = 2;
    }

    /// `struct pt_regs` of x86_64 (21 `unsigned long`s; the kernel's and
    /// the uapi layout agree).
    pub mod pt_regs {
        use super::super::Field;
        pub const SIZEOF: i32 = 168;
        pub const R15: Field = Field::new(0, 8);
        pub const R14: Field = Field::new(8, 8);
        pub const R13: Field = Field::new(16, 8);
        pub const R12: Field = Field::new(24, 8);
        pub const BP: Field = Field::new(32, 8);
        pub const BX: Field = Field::new(40, 8);
        pub const R11: Field = Field::new(48, 8);
        pub const R10: Field = Field::new(56, 8);
        pub const R9: Field = Field::new(64, 8);
        pub const R8: Field = Field::new(72, 8);
        pub const AX: Field = Field::new(80, 8);
        pub const CX: Field = Field::new(88, 8);
        pub const DX: Field = Field::new(96, 8);
        pub const SI: Field = Field::new(104, 8);
        pub const DI: Field = Field::new(112, 8);
        pub const ORIG_AX: Field = Field::new(120, 8);
        pub const IP: Field = Field::new(128, 8);
        pub const CS: Field = Field::new(136, 8);
        pub const FLAGS: Field = Field::new(144, 8);
        pub const SP: Field = Field::new(152, 8);
        pub const SS: Field = Field::new(160, 8);
    }

    /// `struct bpf_perf_event_data` (`bpf_user_pt_regs_t` is `struct
    /// pt_regs` on x86_64).
    pub mod bpf_perf_event_data {
        use super::super::Field;
        pub const SIZEOF: i32 = 184;
        pub const REGS: Field = Field::new(0, 168);
        pub const SAMPLE_PERIOD: Field = Field::new(168, 8);
        pub const ADDR: Field = Field::new(176, 8);
    }

    /// `struct bpf_nf_ctx` (include/net/netfilter/nf_bpf_link.h).
    pub mod bpf_nf_ctx {
        use super::super::Field;
        pub const SIZEOF: i32 = 16;
        pub const STATE: Field = Field::new(0, 8);
        pub const SKB: Field = Field::new(8, 8);
    }

    /// The lirc_mode2 ctx: one `u32` sample.
    pub mod lirc_mode2 {
        pub const SIZEOF: i32 = 4;
    }
}

use layout::{
    __sk_buff as skb, bpf_cgroup_dev_ctx as dev, bpf_nf_ctx as nf, bpf_perf_event_data as pe,
    bpf_sk_lookup as skl, bpf_sock as sock, bpf_sock_addr as sa, bpf_sock_ops as sops,
    bpf_sockopt as sopt, bpf_sysctl as sysctl, sk_msg_md as msg, sk_reuseport_md as reuse,
};

/// `PERF_MAX_TRACE_SIZE` (include/linux/trace_events.h): the tracepoint ctx
/// limit.
pub const PERF_MAX_TRACE_SIZE: i32 = 8192;
/// `MAX_BPF_FUNC_ARGS` (include/linux/bpf.h).
pub const MAX_BPF_FUNC_ARGS: i32 = 12;
/// `U16_MAX`: the syscall program ctx limit.
pub const SYSCALL_CTX_LIMIT: i32 = u16::MAX as i32;

const SIZE_U32: i32 = 4;
const SIZE_U64: i32 = 8;
/// `sizeof(unsigned long)` / `sizeof(void *)` on x86_64.
const SIZE_LONG: i32 = 8;

/// `sizeof` the ctx struct of a program type, when it has a fixed one.
/// `None` for buffers without a struct (tracepoint, raw tracepoint,
/// syscall) and for the types answered with `Unsupported`.
pub fn ctx_size(prog_type: ProgType) -> Option<u32> {
    let size = match prog_type {
        ProgType::SocketFilter
        | ProgType::SchedCls
        | ProgType::SchedAct
        | ProgType::CgroupSkb
        | ProgType::LwtIn
        | ProgType::LwtOut
        | ProgType::LwtXmit
        | ProgType::LwtSeg6local
        | ProgType::SkSkb
        | ProgType::FlowDissector => skb::SIZEOF,
        ProgType::Xdp => layout::xdp_md::SIZEOF,
        ProgType::Kprobe => layout::pt_regs::SIZEOF,
        ProgType::PerfEvent => pe::SIZEOF,
        ProgType::CgroupSock => sock::SIZEOF,
        ProgType::CgroupSockAddr => sa::SIZEOF,
        ProgType::SockOps => sops::SIZEOF,
        ProgType::SkMsg => msg::SIZEOF,
        ProgType::CgroupDevice => dev::SIZEOF,
        ProgType::CgroupSysctl => sysctl::SIZEOF,
        ProgType::CgroupSockopt => sopt::SIZEOF,
        ProgType::SkReuseport => reuse::SIZEOF,
        ProgType::SkLookup => skl::SIZEOF,
        ProgType::Netfilter => nf::SIZEOF,
        ProgType::LircMode2 => layout::lirc_mode2::SIZEOF,
        ProgType::Unspec
        | ProgType::Tracepoint
        | ProgType::RawTracepoint
        | ProgType::RawTracepointWritable
        | ProgType::Syscall
        | ProgType::Tracing
        | ProgType::StructOps
        | ProgType::Ext
        | ProgType::Lsm => return None,
    };
    u32::try_from(size).ok()
}

/// `prog->expected_attach_type` as `BPF_PROG_LOAD` leaves it: the value
/// given (none is `0`, `BPF_CGROUP_INET_INGRESS`), after
/// `bpf_prog_load_fixup_attach_type` (kernel/bpf/syscall.c) turned `0` into
/// `BPF_CGROUP_INET_SOCK_CREATE` for cgroup_sock and
/// `BPF_SK_REUSEPORT_SELECT` for sk_reuseport.
pub fn effective_attach_type(prog_type: ProgType, attach: Option<AttachType>) -> AttachType {
    let given = attach.unwrap_or(AttachType::CgroupInetIngress);
    if given != AttachType::CgroupInetIngress {
        return given;
    }
    match prog_type {
        ProgType::CgroupSock => AttachType::CgroupInetSockCreate,
        ProgType::SkReuseport => AttachType::SkReuseportSelect,
        _ => given,
    }
}

/// `struct bpf_insn_access_aux`, as `check_ctx_access` initialises it.
#[derive(Clone, Copy, Debug)]
struct Info {
    reg_type: CtxRegType,
    is_ldsx: bool,
    ctx_field_size: i32,
}

/// What of `struct bpf_prog` the callbacks read.
#[derive(Clone, Copy, Debug)]
struct Prog {
    expected_attach_type: AttachType,
    opts: CtxOptions,
}

/// `bpf_ctx_record_field_size`.
fn bpf_ctx_record_field_size(info: &mut Info, size: i32) {
    info.ctx_field_size = size;
}

/// `bpf_ctx_narrow_access_ok`: `size <= size_default` and a power of two.
const fn bpf_ctx_narrow_access_ok(size: i32, size_default: i32) -> bool {
    size > 0 && size <= size_default && (size & (size - 1)) == 0
}

/// `bpf_ctx_wide_access_ok(off, size, type, field)`.
const fn bpf_ctx_wide_access_ok(off: i32, size: i32, field: Field) -> bool {
    size == SIZE_U64 && off >= field.off && off + SIZE_U64 <= field.end() && off % SIZE_U64 == 0
}

/// `bpf_ctx_off_adjust_machine` on a 64-bit machine.
const fn bpf_ctx_off_adjust_machine(size: u32) -> u32 {
    if size > 8 && size.is_multiple_of(8) {
        8
    } else {
        size
    }
}

// ---------------------------------------------------------------------------
// struct __sk_buff (net/core/filter.c)
// ---------------------------------------------------------------------------

fn bpf_skb_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if !(0..skb::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }

    if skb::CB.range(off) {
        if off + size > skb::CB.end() {
            return false;
        }
    } else if skb::DATA.range(off) || skb::DATA_META.range(off) || skb::DATA_END.range(off) {
        if info.is_ldsx || size != size_default {
            return false;
        }
    } else if skb::REMOTE_IP6.range(off)
        || skb::LOCAL_IP6.range(off)
        || skb::REMOTE_IP4.range(off)
        || skb::LOCAL_IP4.range(off)
    {
        if size != size_default {
            return false;
        }
    } else if skb::FLOW_KEYS.range(off) {
        return false;
    } else if skb::HWTSTAMP.range(off) {
        if t == AccessType::Write || size != SIZE_U64 {
            return false;
        }
    } else if skb::TSTAMP.range(off) {
        if size != SIZE_U64 {
            return false;
        }
    } else if skb::SK.range(off) {
        if t == AccessType::Write || size != SIZE_U64 {
            return false;
        }
        info.reg_type = CtxRegType::SockCommonOrNull;
    } else if skb::TSTAMP_TYPE.at(off) {
        return false;
    } else if off >= skb::TSTAMP_TYPE.end() && off < skb::HWTSTAMP.off {
        // Explicitly prohibit access to padding in __sk_buff.
        return false;
    } else if t == AccessType::Write {
        // Only narrow read access allowed for now.
        if size != size_default {
            return false;
        }
    } else {
        bpf_ctx_record_field_size(info, size_default);
        if !bpf_ctx_narrow_access_ok(size, size_default) {
            return false;
        }
    }
    true
}

fn sk_filter_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if skb::TC_CLASSID.range(off)
        || skb::DATA.range(off)
        || skb::DATA_META.range(off)
        || skb::DATA_END.range(off)
        || range_till(skb::FAMILY, skb::LOCAL_PORT, off)
        || skb::TSTAMP.range(off)
        || skb::WIRE_LEN.range(off)
        || skb::HWTSTAMP.range(off)
    {
        return false;
    }
    if t == AccessType::Write && !skb::CB.range(off) {
        return false;
    }
    bpf_skb_is_valid_access(off, size, t, info)
}

fn cg_skb_is_valid_access(
    off: i32,
    size: i32,
    t: AccessType,
    prog: &Prog,
    info: &mut Info,
) -> bool {
    if skb::TC_CLASSID.range(off) || skb::DATA_META.range(off) || skb::WIRE_LEN.range(off) {
        return false;
    }
    if (skb::DATA.range(off) || skb::DATA_END.range(off)) && !prog.opts.bpf_capable {
        return false;
    }
    if t == AccessType::Write {
        if skb::MARK.range(off) || skb::PRIORITY.range(off) || skb::CB.range(off) {
            // allowed
        } else if skb::TSTAMP.range(off) {
            if !prog.opts.bpf_capable {
                return false;
            }
        } else {
            return false;
        }
    }
    if skb::DATA.range(off) {
        info.reg_type = CtxRegType::Packet;
    } else if skb::DATA_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
    }
    bpf_skb_is_valid_access(off, size, t, info)
}

fn lwt_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if skb::TC_CLASSID.range(off)
        || range_till(skb::FAMILY, skb::LOCAL_PORT, off)
        || skb::DATA_META.range(off)
        || skb::TSTAMP.range(off)
        || skb::WIRE_LEN.range(off)
        || skb::HWTSTAMP.range(off)
    {
        return false;
    }
    if t == AccessType::Write
        && !(skb::MARK.range(off) || skb::PRIORITY.range(off) || skb::CB.range(off))
    {
        return false;
    }
    if skb::DATA.range(off) {
        info.reg_type = CtxRegType::Packet;
    } else if skb::DATA_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
    }
    bpf_skb_is_valid_access(off, size, t, info)
}

fn tc_cls_act_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if t == AccessType::Write
        && !(skb::MARK.range(off)
            || skb::TC_INDEX.range(off)
            || skb::PRIORITY.range(off)
            || skb::TC_CLASSID.range(off)
            || skb::CB.range(off)
            || skb::TSTAMP.range(off)
            || skb::QUEUE_MAPPING.range(off))
    {
        return false;
    }
    if skb::DATA.range(off) {
        info.reg_type = CtxRegType::Packet;
    } else if skb::DATA_META.range(off) {
        info.reg_type = CtxRegType::PacketMeta;
    } else if skb::DATA_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
    } else if range_till(skb::FAMILY, skb::LOCAL_PORT, off) {
        return false;
    } else if skb::TSTAMP_TYPE.at(off) {
        // Also sets prog->tstamp_type_access in the kernel.
        return size == 1;
    }
    bpf_skb_is_valid_access(off, size, t, info)
}

fn sk_skb_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if skb::TC_CLASSID.range(off)
        || skb::DATA_META.range(off)
        || skb::TSTAMP.range(off)
        || skb::WIRE_LEN.range(off)
        || skb::HWTSTAMP.range(off)
    {
        return false;
    }
    if t == AccessType::Write && !(skb::TC_INDEX.range(off) || skb::PRIORITY.range(off)) {
        return false;
    }
    if skb::MARK.range(off) {
        return false;
    } else if skb::DATA.range(off) {
        info.reg_type = CtxRegType::Packet;
    } else if skb::DATA_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
    }
    bpf_skb_is_valid_access(off, size, t, info)
}

fn flow_dissector_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if !(0..skb::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if t == AccessType::Write {
        return false;
    }
    if skb::DATA.range(off) {
        if info.is_ldsx || size != size_default {
            return false;
        }
        info.reg_type = CtxRegType::Packet;
        true
    } else if skb::DATA_END.range(off) {
        if info.is_ldsx || size != size_default {
            return false;
        }
        info.reg_type = CtxRegType::PacketEnd;
        true
    } else if skb::FLOW_KEYS.range(off) {
        if size != SIZE_U64 {
            return false;
        }
        info.reg_type = CtxRegType::FlowKeys;
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// struct xdp_md
// ---------------------------------------------------------------------------

fn __is_valid_xdp_access(off: i32, size: i32) -> bool {
    if !(0..layout::xdp_md::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    size == SIZE_U32
}

fn xdp_is_valid_access(off: i32, size: i32, t: AccessType, prog: &Prog, info: &mut Info) -> bool {
    use layout::xdp_md as x;

    if prog.expected_attach_type != AttachType::XdpDevmap && x::EGRESS_IFINDEX.at(off) {
        return false;
    }
    if t == AccessType::Write {
        if prog.opts.offloaded && x::RX_QUEUE_INDEX.at(off) {
            return __is_valid_xdp_access(off, size);
        }
        return false;
    }
    if (x::DATA_META.at(off) || x::DATA.at(off) || x::DATA_END.at(off)) && info.is_ldsx {
        return false;
    }
    if x::DATA.at(off) {
        info.reg_type = CtxRegType::Packet;
    } else if x::DATA_META.at(off) {
        info.reg_type = CtxRegType::PacketMeta;
    } else if x::DATA_END.at(off) {
        info.reg_type = CtxRegType::PacketEnd;
    }
    __is_valid_xdp_access(off, size)
}

// ---------------------------------------------------------------------------
// struct bpf_sock (cgroup_sock)
// ---------------------------------------------------------------------------

fn __sock_filter_check_attach_type(off: i32, t: AccessType, attach: AttachType) -> bool {
    use AttachType as A;

    if sock::BOUND_DEV_IF.at(off) || sock::MARK.at(off) || sock::PRIORITY.at(off) {
        // full access, or nothing
        return matches!(attach, A::CgroupInetSockCreate | A::CgroupInetSockRelease);
    }
    let allowed = if sock::SRC_IP4.range(off) {
        attach == A::CgroupInet4PostBind
    } else if sock::SRC_IP6.range(off) {
        attach == A::CgroupInet6PostBind
    } else if sock::SRC_PORT.range(off) {
        matches!(attach, A::CgroupInet4PostBind | A::CgroupInet6PostBind)
    } else {
        true
    };
    // read_only:
    allowed && t == AccessType::Read
}

/// `bpf_sock_is_valid_access`: also what `check_sock_access` uses for
/// `PTR_TO_SOCKET`.
fn bpf_sock_is_valid_access(off: i32, size: i32, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if !(0..sock::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if sock::STATE.at(off)
        || sock::FAMILY.at(off)
        || sock::TYPE.at(off)
        || sock::PROTOCOL.at(off)
        || sock::SRC_PORT.at(off)
        || sock::RX_QUEUE_MAPPING.at(off)
        || sock::SRC_IP4.range(off)
        || sock::SRC_IP6.range(off)
        || sock::DST_IP4.range(off)
        || sock::DST_IP6.range(off)
    {
        bpf_ctx_record_field_size(info, size_default);
        return bpf_ctx_narrow_access_ok(size, size_default);
    }
    if sock::DST_PORT.range(off) {
        let field_size = if size == size_default {
            size_default
        } else {
            sock::DST_PORT.size
        };
        bpf_ctx_record_field_size(info, field_size);
        return bpf_ctx_narrow_access_ok(size, field_size);
    }
    if off >= sock::DST_PORT.end() && off < sock::DST_IP4.off {
        return false;
    }
    size == size_default
}

fn sock_filter_is_valid_access(
    off: i32,
    size: i32,
    t: AccessType,
    prog: &Prog,
    info: &mut Info,
) -> bool {
    if !bpf_sock_is_valid_access(off, size, info) {
        return false;
    }
    __sock_filter_check_attach_type(off, t, prog.expected_attach_type)
}

// ---------------------------------------------------------------------------
// struct bpf_sock_addr
// ---------------------------------------------------------------------------

fn sock_addr_is_valid_access(
    off: i32,
    size: i32,
    t: AccessType,
    prog: &Prog,
    info: &mut Info,
) -> bool {
    use AttachType as A;
    let size_default = SIZE_U32;

    if !(0..sa::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }

    // Disallow access to fields not belonging to the attach type's address
    // family.
    let attach = prog.expected_attach_type;
    if sa::USER_IP4.range(off) {
        if !matches!(
            attach,
            A::CgroupInet4Bind
                | A::CgroupInet4Connect
                | A::CgroupInet4Getpeername
                | A::CgroupInet4Getsockname
                | A::CgroupUdp4Sendmsg
                | A::CgroupUdp4Recvmsg
        ) {
            return false;
        }
    } else if sa::USER_IP6.range(off) {
        if !matches!(
            attach,
            A::CgroupInet6Bind
                | A::CgroupInet6Connect
                | A::CgroupInet6Getpeername
                | A::CgroupInet6Getsockname
                | A::CgroupUdp6Sendmsg
                | A::CgroupUdp6Recvmsg
        ) {
            return false;
        }
    } else if sa::MSG_SRC_IP4.range(off) {
        if attach != A::CgroupUdp4Sendmsg {
            return false;
        }
    } else if sa::MSG_SRC_IP6.range(off) && attach != A::CgroupUdp6Sendmsg {
        return false;
    }

    if sa::USER_IP4.range(off)
        || sa::USER_IP6.range(off)
        || sa::MSG_SRC_IP4.range(off)
        || sa::MSG_SRC_IP6.range(off)
        || sa::USER_PORT.range(off)
    {
        if t == AccessType::Read {
            bpf_ctx_record_field_size(info, size_default);
            if bpf_ctx_wide_access_ok(off, size, sa::USER_IP6)
                || bpf_ctx_wide_access_ok(off, size, sa::MSG_SRC_IP6)
            {
                return true;
            }
            if !bpf_ctx_narrow_access_ok(size, size_default) {
                return false;
            }
        } else {
            if bpf_ctx_wide_access_ok(off, size, sa::USER_IP6)
                || bpf_ctx_wide_access_ok(off, size, sa::MSG_SRC_IP6)
            {
                return true;
            }
            if size != size_default {
                return false;
            }
        }
    } else if sa::SK.range(off) {
        if t != AccessType::Read || size != SIZE_U64 {
            return false;
        }
        info.reg_type = CtxRegType::Socket;
    } else if sa::USER_FAMILY.range(off)
        || sa::FAMILY.range(off)
        || sa::TYPE.range(off)
        || sa::PROTOCOL.range(off)
    {
        if t != AccessType::Read || size != size_default {
            return false;
        }
    } else {
        return false;
    }
    true
}

// ---------------------------------------------------------------------------
// struct bpf_sock_ops
// ---------------------------------------------------------------------------

fn sock_ops_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if !(0..sops::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }

    if t == AccessType::Write {
        if sops::REPLY.at(off) || sops::SK_TXHASH.at(off) {
            return size == size_default;
        }
        return false;
    }

    if range_till(sops::BYTES_RECEIVED, sops::BYTES_ACKED, off) {
        size == SIZE_U64
    } else if sops::SK.range(off) {
        info.reg_type = CtxRegType::SocketOrNull;
        size == SIZE_U64
    } else if sops::SKB_DATA.range(off) {
        info.reg_type = CtxRegType::Packet;
        size == SIZE_U64
    } else if sops::SKB_DATA_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
        size == SIZE_U64
    } else if sops::SKB_TCP_FLAGS.at(off) {
        bpf_ctx_record_field_size(info, size_default);
        bpf_ctx_narrow_access_ok(size, size_default)
    } else if sops::SKB_HWTSTAMP.range(off) {
        size == SIZE_U64
    } else {
        size == size_default
    }
}

// ---------------------------------------------------------------------------
// struct sk_msg_md
// ---------------------------------------------------------------------------

fn sk_msg_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if t == AccessType::Write {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if msg::DATA.range(off) {
        info.reg_type = CtxRegType::Packet;
        size == SIZE_U64
    } else if msg::DATA_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
        size == SIZE_U64
    } else if msg::SK.range(off) {
        info.reg_type = CtxRegType::Socket;
        size == SIZE_U64
    } else if msg::FAMILY.range(off)
        || msg::REMOTE_IP4.range(off)
        || msg::LOCAL_IP4.range(off)
        || msg::REMOTE_IP6.range(off)
        || msg::LOCAL_IP6.range(off)
        || msg::REMOTE_PORT.range(off)
        || msg::LOCAL_PORT.range(off)
        || msg::SIZE.range(off)
    {
        size == SIZE_U32
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// struct sk_reuseport_md, struct bpf_sk_lookup
// ---------------------------------------------------------------------------

fn sk_reuseport_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if !(0..reuse::SIZEOF).contains(&off) || off % size != 0 || t != AccessType::Read {
        return false;
    }
    if reuse::DATA.at(off) {
        info.reg_type = CtxRegType::Packet;
        size == SIZE_U64
    } else if reuse::DATA_END.at(off) {
        info.reg_type = CtxRegType::PacketEnd;
        size == SIZE_U64
    } else if reuse::HASH.at(off) {
        size == size_default
    } else if reuse::SK.at(off) {
        info.reg_type = CtxRegType::Socket;
        size == SIZE_U64
    } else if reuse::MIGRATING_SK.at(off) {
        info.reg_type = CtxRegType::SockCommonOrNull;
        size == SIZE_U64
    } else if reuse::ETH_PROTOCOL.range(off)
        || reuse::IP_PROTOCOL.range(off)
        || reuse::BIND_INANY.range(off)
        || reuse::LEN.range(off)
    {
        // Fields that allow narrowing.
        if reuse::ETH_PROTOCOL.range(off) && size < reuse::SK_BUFF_PROTOCOL_SIZE {
            return false;
        }
        bpf_ctx_record_field_size(info, size_default);
        bpf_ctx_narrow_access_ok(size, size_default)
    } else {
        false
    }
}

fn sk_lookup_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if !(0..skl::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if t != AccessType::Read {
        return false;
    }
    if skl::SK.range(off) {
        info.reg_type = CtxRegType::SocketOrNull;
        size == SIZE_U64
    } else if skl::FAMILY.range(off)
        || skl::PROTOCOL.range(off)
        || skl::REMOTE_IP4.range(off)
        || skl::LOCAL_IP4.range(off)
        || skl::REMOTE_IP6.range(off)
        || skl::LOCAL_IP6.range(off)
        || skl::LOCAL_PORT.range(off)
        || skl::INGRESS_IFINDEX.range(off)
    {
        bpf_ctx_record_field_size(info, SIZE_U32);
        bpf_ctx_narrow_access_ok(size, SIZE_U32)
    } else if skl::REMOTE_PORT.range(off) {
        // Allow 4-byte access to 2-byte field for backward compatibility.
        if size == SIZE_U32 {
            return true;
        }
        bpf_ctx_record_field_size(info, skl::REMOTE_PORT.size);
        bpf_ctx_narrow_access_ok(size, skl::REMOTE_PORT.size)
    } else if off >= skl::REMOTE_PORT.end() && off < skl::LOCAL_IP4.off {
        // Allow access to zero padding for backward compatibility.
        bpf_ctx_record_field_size(info, 2);
        bpf_ctx_narrow_access_ok(size, 2)
    } else {
        false
    }
}

// ---------------------------------------------------------------------------
// cgroup device, sysctl, sockopt (kernel/bpf/cgroup.c)
// ---------------------------------------------------------------------------

fn cgroup_dev_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if t == AccessType::Write {
        return false;
    }
    if off < 0 || off + size > dev::SIZEOF {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if dev::ACCESS_TYPE.range(off) {
        bpf_ctx_record_field_size(info, size_default);
        bpf_ctx_narrow_access_ok(size, size_default)
    } else {
        size == size_default
    }
}

fn sysctl_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    let size_default = SIZE_U32;

    if off < 0 || off + size > sysctl::SIZEOF || off % size != 0 {
        return false;
    }
    if sysctl::WRITE.range(off) {
        if t != AccessType::Read {
            return false;
        }
        bpf_ctx_record_field_size(info, size_default);
        bpf_ctx_narrow_access_ok(size, size_default)
    } else if sysctl::FILE_POS.range(off) {
        if t == AccessType::Read {
            bpf_ctx_record_field_size(info, size_default);
            bpf_ctx_narrow_access_ok(size, size_default)
        } else {
            size == size_default
        }
    } else {
        false
    }
}

fn cg_sockopt_is_valid_access(
    off: i32,
    size: i32,
    t: AccessType,
    prog: &Prog,
    info: &mut Info,
) -> bool {
    let size_default = SIZE_U32;
    let attach = prog.expected_attach_type;

    if !(0..sopt::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }

    if t == AccessType::Write {
        return if sopt::RETVAL.at(off) {
            size == size_default && attach == AttachType::CgroupGetsockopt
        } else if sopt::OPTNAME.at(off) || sopt::LEVEL.at(off) {
            size == size_default && attach == AttachType::CgroupSetsockopt
        } else if sopt::OPTLEN.at(off) {
            size == size_default
        } else {
            false
        };
    }

    if sopt::SK.range(off) {
        info.reg_type = CtxRegType::Socket;
        size == SIZE_U64
    } else if sopt::OPTVAL.range(off) {
        info.reg_type = CtxRegType::Packet;
        size == SIZE_U64
    } else if sopt::OPTVAL_END.range(off) {
        info.reg_type = CtxRegType::PacketEnd;
        size == SIZE_U64
    } else if sopt::RETVAL.range(off) {
        size == size_default && attach == AttachType::CgroupGetsockopt
    } else {
        size == size_default
    }
}

// ---------------------------------------------------------------------------
// Tracing-side program types (kernel/trace/bpf_trace.c)
// ---------------------------------------------------------------------------

/// bpf+kprobe programs can access fields of `struct pt_regs`.
fn kprobe_prog_is_valid_access(off: i32, size: i32, t: AccessType) -> bool {
    if !(0..layout::pt_regs::SIZEOF).contains(&off) {
        return false;
    }
    if t != AccessType::Read {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    off + size <= layout::pt_regs::SIZEOF
}

fn tp_prog_is_valid_access(off: i32, size: i32, t: AccessType) -> bool {
    // `off < sizeof(void *)` compares unsigned: negative offsets fail the
    // upper bound instead; either way they are refused.
    if !(SIZE_LONG..PERF_MAX_TRACE_SIZE).contains(&off) {
        return false;
    }
    if t != AccessType::Read {
        return false;
    }
    off % size == 0
}

/// `bpf_tracing_ctx_access` (include/linux/bpf.h).
fn bpf_tracing_ctx_access(off: i32, size: i32, t: AccessType) -> bool {
    if !(0..SIZE_U64 * MAX_BPF_FUNC_ARGS).contains(&off) {
        return false;
    }
    if t != AccessType::Read {
        return false;
    }
    off % size == 0
}

fn raw_tp_prog_is_valid_access(off: i32, size: i32, t: AccessType) -> bool {
    bpf_tracing_ctx_access(off, size, t)
}

fn raw_tp_writable_prog_is_valid_access(
    off: i32,
    size: i32,
    t: AccessType,
    info: &mut Info,
) -> bool {
    if off == 0 {
        if size != SIZE_U64 || t != AccessType::Read {
            return false;
        }
        info.reg_type = CtxRegType::TpBuffer;
    }
    raw_tp_prog_is_valid_access(off, size, t)
}

fn pe_prog_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if !(0..pe::SIZEOF).contains(&off) {
        return false;
    }
    if t != AccessType::Read {
        return false;
    }
    // 64-bit: no 4-byte-aligned 8-byte accesses.
    if off % size != 0 {
        return false;
    }
    if pe::SAMPLE_PERIOD.range(off) || pe::ADDR.range(off) {
        bpf_ctx_record_field_size(info, SIZE_U64);
        bpf_ctx_narrow_access_ok(size, SIZE_U64)
    } else {
        size == SIZE_LONG
    }
}

// ---------------------------------------------------------------------------
// Others
// ---------------------------------------------------------------------------

/// kernel/bpf/syscall.c.
fn syscall_prog_is_valid_access(off: i32, size: i32) -> bool {
    if !(0..SYSCALL_CTX_LIMIT).contains(&off) {
        return false;
    }
    off % size == 0
}

/// net/netfilter/nf_bpf_link.c; `nf_ptr_to_btf_id` is assumed to find the
/// vmlinux struct.
fn nf_is_valid_access(off: i32, size: i32, t: AccessType, info: &mut Info) -> bool {
    if !(0..nf::SIZEOF).contains(&off) {
        return false;
    }
    if off % size != 0 {
        return false;
    }
    if t == AccessType::Write {
        return false;
    }
    let (field, name) = if nf::SKB.range(off) {
        (nf::SKB, "sk_buff")
    } else if nf::STATE.range(off) {
        (nf::STATE, "nf_hook_state")
    } else {
        return false;
    };
    if size != field.size {
        return false;
    }
    info.reg_type = CtxRegType::BtfId {
        struct_name: name,
        or_null: false,
        trusted: true,
    };
    true
}

/// drivers/media/rc/bpf-lirc.c: one `u32` field.
fn lirc_mode2_is_valid_access(off: i32, size: i32, t: AccessType) -> bool {
    t == AccessType::Read && off == 0 && size == SIZE_U32
}

// ---------------------------------------------------------------------------
// check_ctx_access
// ---------------------------------------------------------------------------

/// `check_ctx_access` for a privileged, non-offloaded load (see
/// [`check_ctx_access_with`]).
///
/// `off` is the full offset as `check_mem_access` passes it (instruction
/// offset plus the register's fixed offset, which the caller has already
/// required to be zero), `size` the access size in bytes, `attach` the
/// program's expected attach type (`None`: not given at load time).
pub fn check_ctx_access(
    prog_type: ProgType,
    attach: Option<AttachType>,
    off: i32,
    size: u32,
    t: AccessType,
    is_ldsx: bool,
) -> CtxCheck {
    check_ctx_access_with(
        CtxOptions::default(),
        prog_type,
        attach,
        off,
        size,
        t,
        is_ldsx,
    )
}

/// [`check_ctx_access`] with explicit load facts ([`CtxOptions`]).
pub fn check_ctx_access_with(
    opts: CtxOptions,
    prog_type: ProgType,
    attach: Option<AttachType>,
    off: i32,
    size: u32,
    t: AccessType,
    is_ldsx: bool,
) -> CtxCheck {
    let prog = Prog {
        expected_attach_type: effective_attach_type(prog_type, attach),
        opts,
    };
    let mut info = Info {
        reg_type: CtxRegType::Scalar,
        is_ldsx,
        ctx_field_size: 0,
    };
    // The verifier only ever asks with sizes 1, 2, 4 and 8.
    let isize = match size {
        1 | 2 | 4 | 8 => size as i32,
        _ => return CtxCheck::Invalid,
    };

    let valid = match prog_type {
        ProgType::SocketFilter => sk_filter_is_valid_access(off, isize, t, &mut info),
        ProgType::SchedCls | ProgType::SchedAct => {
            tc_cls_act_is_valid_access(off, isize, t, &mut info)
        }
        ProgType::Xdp => xdp_is_valid_access(off, isize, t, &prog, &mut info),
        ProgType::CgroupSkb => cg_skb_is_valid_access(off, isize, t, &prog, &mut info),
        ProgType::LwtIn | ProgType::LwtOut | ProgType::LwtXmit | ProgType::LwtSeg6local => {
            lwt_is_valid_access(off, isize, t, &mut info)
        }
        ProgType::CgroupSock => sock_filter_is_valid_access(off, isize, t, &prog, &mut info),
        ProgType::CgroupSockAddr => sock_addr_is_valid_access(off, isize, t, &prog, &mut info),
        ProgType::SockOps => sock_ops_is_valid_access(off, isize, t, &mut info),
        ProgType::SkSkb => sk_skb_is_valid_access(off, isize, t, &mut info),
        ProgType::SkMsg => sk_msg_is_valid_access(off, isize, t, &mut info),
        ProgType::FlowDissector => flow_dissector_is_valid_access(off, isize, t, &mut info),
        ProgType::SkReuseport => sk_reuseport_is_valid_access(off, isize, t, &mut info),
        ProgType::SkLookup => sk_lookup_is_valid_access(off, isize, t, &mut info),
        ProgType::Kprobe => kprobe_prog_is_valid_access(off, isize, t),
        ProgType::Tracepoint => tp_prog_is_valid_access(off, isize, t),
        ProgType::RawTracepoint => raw_tp_prog_is_valid_access(off, isize, t),
        ProgType::RawTracepointWritable => {
            raw_tp_writable_prog_is_valid_access(off, isize, t, &mut info)
        }
        ProgType::PerfEvent => pe_prog_is_valid_access(off, isize, t, &mut info),
        ProgType::CgroupDevice => cgroup_dev_is_valid_access(off, isize, t, &mut info),
        ProgType::CgroupSysctl => sysctl_is_valid_access(off, isize, t, &mut info),
        ProgType::CgroupSockopt => cg_sockopt_is_valid_access(off, isize, t, &prog, &mut info),
        ProgType::Syscall => syscall_prog_is_valid_access(off, isize),
        ProgType::Netfilter => nf_is_valid_access(off, isize, t, &mut info),
        ProgType::LircMode2 => lirc_mode2_is_valid_access(off, isize, t),
        ProgType::Tracing | ProgType::Lsm => {
            return CtxCheck::Unsupported(format!(
                "{} programs: ctx access goes through btf_ctx_access (BTF of the attach target)",
                prog_type.name()
            ));
        }
        ProgType::StructOps => {
            return CtxCheck::Unsupported(
                "struct_ops programs: ctx access goes through the struct_ops' \
                 is_valid_access / btf_ctx_access"
                    .into(),
            );
        }
        ProgType::Ext => {
            return CtxCheck::Unsupported(
                "ext programs: ctx access follows the target program's type".into(),
            );
        }
        ProgType::Unspec => {
            return CtxCheck::Unsupported("unspec programs have no verifier ops".into());
        }
    };
    if !valid {
        return CtxCheck::Invalid;
    }

    // check_ctx_access: PTR_TO_BTF_ID results carry a BTF id instead of a
    // ctx field size.
    let ctx_field_size = match info.reg_type {
        CtxRegType::BtfId { .. } => 0,
        _ => u32::try_from(info.ctx_field_size).unwrap_or(0),
    };
    // convert_ctx_accesses: `is_narrower_load = size < ctx_field_size`
    // (writes never record a field size).
    let narrow = (t == AccessType::Read && size < ctx_field_size).then(|| {
        let size_default = bpf_ctx_off_adjust_machine(ctx_field_size);
        let mask = size_default.saturating_sub(1) as i32;
        NarrowLoad {
            size_default,
            load_off: off & !mask,
            shift: ((off & mask) as u32) * 8,
        }
    });
    CtxCheck::Ok(CtxAccess {
        reg_type: info.reg_type,
        ctx_field_size,
        is_retval: false,
        narrow,
    })
}

#[cfg(test)]
#[path = "ctx_tests.rs"]
mod tests;

/// Which socket structure a `check_sock_access` is against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockKind {
    /// `PTR_TO_SOCK_COMMON`: `bpf_sock_common_is_valid_access`.
    SockCommon,
    /// `PTR_TO_SOCKET`: `bpf_sock_is_valid_access`.
    Socket,
    /// `PTR_TO_TCP_SOCK`: `bpf_tcp_sock_is_valid_access`.
    TcpSock,
}

/// The rule of `check_sock_access` for `struct bpf_sock` reads through a
/// socket pointer: `bpf_sock_common_is_valid_access` refuses the fields from
/// `type` to `priority`, the rest is `bpf_sock_is_valid_access`.
pub fn sock_access_ok(kind: SockKind, off: i32, size: i32) -> bool {
    if kind == SockKind::TcpSock {
        // struct bpf_tcp_sock (6.12 uapi): bytes_received at 80 and
        // bytes_acked at 88 are u64; it ends after icsk_retransmits at 112.
        if !(0..112).contains(&off) || off % size != 0 {
            return false;
        }
        return if off == 80 || off == 88 {
            size == 8
        } else {
            size == 4
        };
    }
    if kind == SockKind::SockCommon && off >= sock::TYPE.off && off < sock::PRIORITY.end() {
        return false;
    }
    let mut info = Info {
        reg_type: CtxRegType::Scalar,
        is_ldsx: false,
        ctx_field_size: 0,
    };
    bpf_sock_is_valid_access(off, size, &mut info)
}
