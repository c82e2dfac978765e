//! Register state, as the kernel's `struct bpf_reg_state`
//! (`include/linux/bpf_verifier.h`, Linux 6.12): a base type plus type
//! flags, a fixed offset, the variable part as a [`Scalar`] (for scalars,
//! the value itself), the packet range, and the ids that tie copies
//! together for null checks, packet ranges and references.

use bpfproof_domains::scalar::Scalar;
use std::fmt;

/// `enum bpf_reg_type` base types (`base_type(type)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BaseType {
    /// `NOT_INIT`: never written on this path.
    NotInit,
    /// `SCALAR_VALUE`.
    Scalar,
    /// `PTR_TO_CTX`.
    Ctx,
    /// `CONST_PTR_TO_MAP`.
    MapPtr,
    /// `PTR_TO_MAP_VALUE`.
    MapValue,
    /// `PTR_TO_MAP_KEY`.
    MapKey,
    /// `PTR_TO_STACK`.
    Stack,
    /// `PTR_TO_PACKET_META`.
    PacketMeta,
    /// `PTR_TO_PACKET`.
    Packet,
    /// `PTR_TO_PACKET_END`.
    PacketEnd,
    /// `PTR_TO_FLOW_KEYS`.
    FlowKeys,
    /// `PTR_TO_SOCKET`.
    Socket,
    /// `PTR_TO_SOCK_COMMON`.
    SockCommon,
    /// `PTR_TO_TCP_SOCK`.
    TcpSock,
    /// `PTR_TO_TP_BUFFER`.
    TpBuffer,
    /// `PTR_TO_XDP_SOCK`.
    XdpSock,
    /// `PTR_TO_BTF_ID`.
    BtfId,
    /// `PTR_TO_MEM`.
    Mem,
    /// `PTR_TO_ARENA`.
    Arena,
    /// `PTR_TO_BUF`.
    Buf,
    /// `PTR_TO_FUNC`.
    Func,
    /// `CONST_PTR_TO_DYNPTR`.
    DynptrPtr,
}

impl BaseType {
    /// The name `reg_type_str` prints for the base type.
    pub const fn name(self) -> &'static str {
        match self {
            BaseType::NotInit => "?",
            BaseType::Scalar => "scalar",
            BaseType::Ctx => "ctx",
            BaseType::MapPtr => "map_ptr",
            BaseType::MapValue => "map_value",
            BaseType::MapKey => "map_key",
            BaseType::Stack => "fp",
            BaseType::PacketMeta => "pkt_meta",
            BaseType::Packet => "pkt",
            BaseType::PacketEnd => "pkt_end",
            BaseType::FlowKeys => "flow_keys",
            BaseType::Socket => "sock",
            BaseType::SockCommon => "sock_common",
            BaseType::TcpSock => "tcp_sock",
            BaseType::TpBuffer => "tp_buffer",
            BaseType::XdpSock => "xdp_sock",
            BaseType::BtfId => "ptr_",
            BaseType::Mem => "mem",
            BaseType::Arena => "arena",
            BaseType::Buf => "buf",
            BaseType::Func => "func",
            BaseType::DynptrPtr => "dynptr_ptr",
        }
    }

    /// `reg_is_pkt_pointer_any`: packet data, meta or end.
    pub const fn is_pkt_pointer_any(self) -> bool {
        matches!(
            self,
            BaseType::Packet | BaseType::PacketMeta | BaseType::PacketEnd
        )
    }

    /// `type_is_pkt_pointer`: packet data or meta.
    pub const fn is_pkt_pointer(self) -> bool {
        matches!(self, BaseType::Packet | BaseType::PacketMeta)
    }
}

/// Type flags of `enum bpf_type_flag` that change how a pointer may be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TypeFlags(pub u32);

impl TypeFlags {
    /// `PTR_MAYBE_NULL`.
    pub const MAYBE_NULL: u32 = 1 << 0;
    /// `MEM_RDONLY`.
    pub const RDONLY: u32 = 1 << 1;
    /// `MEM_RINGBUF`.
    pub const RINGBUF: u32 = 1 << 2;
    /// `MEM_USER`.
    pub const USER: u32 = 1 << 3;
    /// `MEM_PERCPU`.
    pub const PERCPU: u32 = 1 << 4;
    /// `MEM_RCU`.
    pub const RCU: u32 = 1 << 5;
    /// `PTR_UNTRUSTED`.
    pub const UNTRUSTED: u32 = 1 << 6;
    /// `PTR_TRUSTED`.
    pub const TRUSTED: u32 = 1 << 7;
    /// `MEM_ALLOC`.
    pub const ALLOC: u32 = 1 << 8;
    /// `DYNPTR_TYPE_SKB`: a slice of an skb dynptr.
    pub const DYNPTR_SKB: u32 = 1 << 9;
    /// `DYNPTR_TYPE_XDP`: a slice of an xdp dynptr.
    pub const DYNPTR_XDP: u32 = 1 << 10;

    /// True when every bit of `f` is set.
    pub const fn has(self, f: u32) -> bool {
        self.0 & f == f
    }
}

/// `enum bpf_dynptr_type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DynptrType {
    /// `BPF_DYNPTR_TYPE_INVALID`.
    #[default]
    Invalid,
    /// `BPF_DYNPTR_TYPE_LOCAL`: memory of the program (map value, stack).
    Local,
    /// `BPF_DYNPTR_TYPE_RINGBUF`: a ring-buffer reservation (referenced).
    Ringbuf,
    /// `BPF_DYNPTR_TYPE_SKB`.
    Skb,
    /// `BPF_DYNPTR_TYPE_XDP`.
    Xdp,
}

impl DynptrType {
    /// `dynptr_type_str`.
    pub const fn name(self) -> &'static str {
        match self {
            DynptrType::Invalid => "<invalid>",
            DynptrType::Local => "local",
            DynptrType::Ringbuf => "ringbuf",
            DynptrType::Skb => "skb",
            DynptrType::Xdp => "xdp",
        }
    }
}

/// `BPF_ADD_CONST`: a scalar id with this bit is linked to the registers
/// with the same id as `their value + off` (`rX = rY; rX += const`).
pub const BPF_ADD_CONST: u32 = 1 << 31;

/// One register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegState {
    /// Base type.
    pub base: BaseType,
    /// Type flags.
    pub flags: TypeFlags,
    /// Fixed offset of a pointer (`off`).
    pub off: i32,
    /// For scalars the value; for pointers the variable part of the offset
    /// (`var_off` and the eight bounds).
    pub var: Scalar,
    /// `id`: shared by copies; null checks and packet ranges follow it.
    pub id: u32,
    /// `ref_obj_id`: the acquired reference this pointer holds.
    pub ref_obj_id: u32,
    /// Packet range proven readable past the pointer (`range`).
    pub range: i32,
    /// Map the pointer refers to (index in the object's map table), for
    /// `map_ptr`, `map_value`, `map_key`.
    pub map: Option<u32>,
    /// Size of the memory a `mem` / `buf` pointer refers to (`mem_size`).
    pub mem_size: u32,
    /// Frame a stack pointer points into (`frameno`).
    pub frameno: u8,
    /// For `func`: the first instruction of the function (`subprogno`).
    pub subprog: u32,
    /// For `ptr_`: the struct in the kernel BTF it points to (`btf_id`).
    pub btf_id: u32,
    /// The scalar's value matters to some later decision (`precise`). Set
    /// only in stored states, by precision backtracking.
    pub precise: bool,
    /// For a `STACK_DYNPTR` slot's register and `dynptr_ptr`: the dynptr's
    /// type (`dynptr.type`).
    pub dynptr_type: DynptrType,
    /// For a `STACK_DYNPTR` slot's register: the first (higher) of the two
    /// slots (`dynptr.first_slot`).
    pub dynptr_first_slot: bool,
    /// For a dynptr slice (`mem`): the `id` of the dynptr it came from
    /// (`dynptr_id`).
    pub dynptr_id: u32,
}

impl RegState {
    /// `NOT_INIT`.
    pub fn not_init() -> Self {
        RegState {
            base: BaseType::NotInit,
            flags: TypeFlags::default(),
            off: 0,
            var: Scalar::unknown(),
            id: 0,
            ref_obj_id: 0,
            range: 0,
            map: None,
            mem_size: 0,
            frameno: 0,
            subprog: 0,
            btf_id: 0,
            precise: false,
            dynptr_type: DynptrType::Invalid,
            dynptr_first_slot: false,
            dynptr_id: 0,
        }
    }

    /// An unknown scalar (`mark_reg_unknown`).
    pub fn unknown_scalar() -> Self {
        RegState {
            base: BaseType::Scalar,
            ..Self::not_init()
        }
    }

    /// A known constant scalar (`__mark_reg_known`).
    pub fn known(v: u64) -> Self {
        RegState {
            base: BaseType::Scalar,
            var: Scalar::constant(v),
            ..Self::not_init()
        }
    }

    /// A scalar with the given abstract value.
    pub fn scalar(var: Scalar) -> Self {
        RegState {
            base: BaseType::Scalar,
            var,
            ..Self::not_init()
        }
    }

    /// A pointer of `base` type at fixed offset 0 with no variable part.
    pub fn pointer(base: BaseType) -> Self {
        RegState {
            base,
            var: Scalar::constant(0),
            ..Self::not_init()
        }
    }

    /// `register_is_null`: the known scalar 0.
    pub fn is_null(&self) -> bool {
        self.is_scalar() && self.var.is_const() && self.var.var_off.value == 0
    }

    /// True for `SCALAR_VALUE`.
    pub fn is_scalar(&self) -> bool {
        self.base == BaseType::Scalar
    }

    /// True for any pointer type.
    pub fn is_pointer(&self) -> bool {
        !matches!(self.base, BaseType::Scalar | BaseType::NotInit)
    }

    /// True when the pointer may be NULL (`type_may_be_null`).
    pub fn may_be_null(&self) -> bool {
        self.flags.has(TypeFlags::MAYBE_NULL)
    }

    /// The type name the kernel prints (`reg_type_str`), e.g.
    /// `map_value_or_null`, `rdonly_mem`, `ptr_or_null_`.
    pub fn type_str(&self) -> String {
        let f = self.flags;
        let mut s = String::new();
        for (bit, p) in [
            (TypeFlags::RDONLY, "rdonly_"),
            (TypeFlags::RINGBUF, "ringbuf_"),
            (TypeFlags::USER, "user_"),
            (TypeFlags::PERCPU, "percpu_"),
            (TypeFlags::RCU, "rcu_"),
            (TypeFlags::UNTRUSTED, "untrusted_"),
            (TypeFlags::TRUSTED, "trusted_"),
        ] {
            if f.has(bit) {
                s.push_str(p);
            }
        }
        s.push_str(self.base.name());
        if f.has(TypeFlags::MAYBE_NULL) {
            s.push_str(if self.base == BaseType::BtfId {
                "or_null_"
            } else {
                "_or_null"
            });
        }
        s
    }
}

impl fmt::Display for RegState {
    /// A compact form of the kernel's `print_verifier_state` entry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.base {
            BaseType::NotInit => f.write_str("?"),
            BaseType::Scalar => write!(f, "{}", self.var),
            _ => {
                write!(f, "{}(", self.type_str())?;
                let mut parts = Vec::new();
                if self.id != 0 {
                    parts.push(format!("id={}", self.id));
                }
                if self.ref_obj_id != 0 {
                    parts.push(format!("ref_obj_id={}", self.ref_obj_id));
                }
                if self.off != 0 {
                    parts.push(format!("off={}", self.off));
                }
                if self.base.is_pkt_pointer() {
                    parts.push(format!("r={}", self.range));
                }
                if !self.var.is_const() || self.var.const_value(false) != 0 {
                    parts.push(self.var.render_ranges());
                }
                write!(f, "{})", parts.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_follow_reg_type_str() {
        let mut r = RegState::pointer(BaseType::MapValue);
        assert_eq!(r.type_str(), "map_value");
        r.flags.0 |= TypeFlags::MAYBE_NULL;
        assert_eq!(r.type_str(), "map_value_or_null");
        let mut b = RegState::pointer(BaseType::BtfId);
        b.flags.0 |= TypeFlags::MAYBE_NULL | TypeFlags::TRUSTED;
        assert_eq!(b.type_str(), "trusted_ptr_or_null_");
        let mut m = RegState::pointer(BaseType::Mem);
        m.flags.0 |= TypeFlags::RDONLY | TypeFlags::RINGBUF;
        assert_eq!(m.type_str(), "rdonly_ringbuf_mem");
        assert_eq!(RegState::pointer(BaseType::Stack).type_str(), "fp");
    }

    #[test]
    fn display() {
        assert_eq!(RegState::known(5).to_string(), "5");
        assert_eq!(RegState::not_init().to_string(), "?");
        let mut p = RegState::pointer(BaseType::Packet);
        p.off = 14;
        p.range = 14;
        assert_eq!(p.to_string(), "pkt(off=14,r=14)");
    }
}
