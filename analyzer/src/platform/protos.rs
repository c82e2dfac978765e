//! BPF helper prototypes (`struct bpf_func_proto`) and which program types
//! may call which helper, as Linux 6.12's `*_func_proto()` dispatchers
//! decide it (what the verifier's `check_helper_call` asks through
//! `env->ops->get_func_proto`).
//!
//! The tables live in the generated `protos_data.rs`
//! (`corpus/tools/gen_helper_protos.py`, from the kernel sources); this
//! module holds the record types and the lookup API.
//!
//! A `(program type, helper)` pair can have several alternatives
//! ([`Alt`]) when the dispatcher picks a proto depending on the program
//! (expected attach type, sleepable, ...) or on the loader's privileges.
//! Each alternative carries the C conditions along its path, e.g.
//! `bpf_token_capable(prog->aux->token, CAP_PERFMON)`, `CONFIG_INET`
//! (an `#ifdef` around the `case`) or
//! `prog->expected_attach_type == BPF_TRACE_ITER`; see
//! [`privileged_condition`] for the ones a fully privileged root loader
//! satisfies.

use super::ProgType;
pub use super::protos_data::{
    ARG_ALIASES, ArgBase, BPF_BASE_TYPE_BITS, HELPER_IDS, PAIR_COUNT, RET_ALIASES, RetBase,
    SOURCE_VERSION, TYPE_FLAG_NAMES,
};
use super::protos_data::{PROG_TYPE_HELPERS, PROTOS};

/// A set of `enum bpf_type_flag` bits (kernel bit values, i.e. already
/// shifted by [`BPF_BASE_TYPE_BITS`]); the flag constants are generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TypeFlags(pub u32);

impl TypeFlags {
    /// No flag.
    pub const NONE: TypeFlags = TypeFlags(0);

    /// Union of two flag sets.
    pub const fn union(self, other: TypeFlags) -> TypeFlags {
        TypeFlags(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: TypeFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// C names of the set flags, in kernel order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        TYPE_FLAG_NAMES
            .iter()
            .filter(move |(_, f)| self.contains(*f))
            .map(|(n, _)| *n)
    }
}

/// Formats `base | FLAG | FLAG`, or the kernel's alias name when one
/// matches exactly.
fn c_type_name(
    f: &mut core::fmt::Formatter<'_>,
    alias: Option<&str>,
    base: &str,
    flags: TypeFlags,
) -> core::fmt::Result {
    if let Some(a) = alias {
        return f.write_str(a);
    }
    f.write_str(base)?;
    for n in flags.names() {
        write!(f, " | {n}")?;
    }
    Ok(())
}

/// An argument type: `enum bpf_arg_type` base value plus type flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgType {
    /// Base type (`ARG_PTR_TO_MEM`, ...).
    pub base: ArgBase,
    /// Flags combined with `|` (`MEM_RDONLY`, `PTR_MAYBE_NULL`, ...).
    pub flags: TypeFlags,
}

impl ArgType {
    /// Base plus flags.
    pub const fn new(base: ArgBase, flags: TypeFlags) -> ArgType {
        ArgType { base, flags }
    }

    /// The kernel alias naming exactly this combination, if any
    /// (e.g. `ARG_PTR_TO_MAP_VALUE_OR_NULL`).
    pub fn alias(self) -> Option<&'static str> {
        ARG_ALIASES
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
    }

    /// Whether this is `ARG_DONTCARE` (no argument).
    pub fn is_unused(self) -> bool {
        self.base == ArgBase::Dontcare && self.flags.is_empty()
    }
}

impl core::fmt::Display for ArgType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let alias = if self.flags.is_empty() {
            None
        } else {
            self.alias()
        };
        c_type_name(f, alias, self.base.c_name(), self.flags)
    }
}

/// A return type: `enum bpf_return_type` base value plus type flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetType {
    /// Base type (`RET_INTEGER`, `RET_PTR_TO_MAP_VALUE`, ...).
    pub base: RetBase,
    /// Flags combined with `|` (`PTR_MAYBE_NULL`, `MEM_RINGBUF`, ...).
    pub flags: TypeFlags,
}

impl RetType {
    /// Base plus flags.
    pub const fn new(base: RetBase, flags: TypeFlags) -> RetType {
        RetType { base, flags }
    }

    /// The kernel alias naming exactly this combination, if any
    /// (e.g. `RET_PTR_TO_MAP_VALUE_OR_NULL`).
    pub fn alias(self) -> Option<&'static str> {
        RET_ALIASES
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
    }
}

impl core::fmt::Display for RetType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let alias = if self.flags.is_empty() {
            None
        } else {
            self.alias()
        };
        c_type_name(f, alias, self.base.c_name(), self.flags)
    }
}

/// One `struct bpf_func_proto` definition of the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncProto {
    /// C variable name, e.g. `bpf_map_lookup_elem_proto`.
    pub name: &'static str,
    /// Source file defining it, relative to the kernel tree.
    pub source: &'static str,
    /// `.func`, the C implementation.
    pub func: Option<&'static str>,
    /// The helper id it is returned for by the dispatchers, when exactly
    /// one (protos no dispatcher returns have `None`).
    pub helper_id: Option<i32>,
    /// `.gpl_only`.
    pub gpl_only: bool,
    /// `.pkt_access`.
    pub pkt_access: bool,
    /// `.might_sleep`.
    pub might_sleep: bool,
    /// `.allow_fastcall`.
    pub allow_fastcall: bool,
    /// `.allowed`, a C predicate on the program, if any.
    pub allowed: Option<&'static str>,
    /// `.ret_type`.
    pub ret: RetType,
    /// `.ret_btf_id` as C text (e.g. `&btf_sock_ids[BTF_SOCK_TYPE_TCP]`).
    pub ret_btf_id: Option<&'static str>,
    /// `.arg1_type` .. `.arg5_type` (`ARG_DONTCARE` when absent).
    pub args: [ArgType; 5],
    /// `.argN_size` as C text (e.g. `sizeof(u64)`), for `MEM_FIXED_SIZE`.
    pub arg_sizes: [Option<&'static str>; 5],
    /// `.argN_btf_id` as C text (e.g. `&btf_tracing_ids[BTF_TRACING_TYPE_TASK]`).
    pub arg_btf_ids: [Option<&'static str>; 5],
}

impl FuncProto {
    /// Number of arguments (index of the last non-`ARG_DONTCARE` + 1).
    pub fn arg_count(&self) -> usize {
        self.args
            .iter()
            .rposition(|a| !a.is_unused())
            .map_or(0, |i| i + 1)
    }
}

/// One way a program type's dispatcher returns a proto for a helper.
#[derive(Clone, Copy, Debug)]
pub struct Alt {
    /// The proto returned.
    pub proto: &'static FuncProto,
    /// C conditions along the path (all must hold).
    pub conds: &'static [&'static str],
    /// Dispatchers traversed, outermost first (e.g. `xdp_func_proto`,
    /// `bpf_sk_base_func_proto`, `bpf_base_func_proto`).
    pub via: &'static [&'static str],
}

/// The alternatives of one helper for one program type.
#[derive(Clone, Copy, Debug)]
pub struct HelperRow {
    /// Helper id (`enum bpf_func_id`).
    pub helper_id: i32,
    /// Alternatives in kernel evaluation order (never empty).
    pub alts: &'static [Alt],
}

/// Every proto definition, sorted by name.
pub fn all_protos() -> &'static [FuncProto] {
    &PROTOS
}

/// The proto definition named `name` (e.g. `bpf_map_lookup_elem_proto`).
pub fn proto_by_name(name: &str) -> Option<&'static FuncProto> {
    PROTOS
        .binary_search_by(|p| p.name.cmp(name))
        .ok()
        .map(|i| &PROTOS[i])
}

/// Helpers available to a program type, sorted by id.
pub fn helpers_of(prog_type: ProgType) -> &'static [HelperRow] {
    PROG_TYPE_HELPERS
        .get(prog_type as usize)
        .copied()
        .unwrap_or(&[])
}

/// Every proto `prog_type` may get for `helper_id`, with the conditions
/// on each path; empty when the helper is never available to the type.
pub fn func_proto_alternatives(prog_type: ProgType, helper_id: i32) -> &'static [Alt] {
    let rows = helpers_of(prog_type);
    rows.binary_search_by_key(&helper_id, |r| r.helper_id)
        .map_or(&[], |i| rows[i].alts)
}

/// The proto `prog_type`'s `get_func_proto` returns for `helper_id`, with
/// the conditions on that path (empty: unconditional).
///
/// When several protos are possible, this is the first alternative whose
/// conditions are all satisfied by a fully privileged loader (see
/// [`privileged_condition`]), otherwise the first in kernel evaluation
/// order; use [`func_proto_alternatives`] to see them all.
pub fn func_proto(
    prog_type: ProgType,
    helper_id: i32,
) -> Option<(&'static FuncProto, &'static [&'static str])> {
    let alts = func_proto_alternatives(prog_type, helper_id);
    alts.iter()
        .find(|a| a.conds.iter().all(|c| privileged_condition(c)))
        .or_else(|| alts.first())
        .map(|a| (a.proto, a.conds))
}

/// Whether a condition string holds for a root loader with CAP_BPF,
/// CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN, no lockdown, and a kernel
/// with the `CONFIG_*` options enabled. Conditions on the program itself
/// (attach type, sleepable, ...) are not privilege conditions: `false`.
pub fn privileged_condition(cond: &str) -> bool {
    let capability = |c: &str| {
        [
            "bpf_token_capable(prog->aux->token, CAP_",
            "capable(CAP_",
            "bpf_capable()",
            "perfmon_capable()",
        ]
        .iter()
        .any(|p| c.starts_with(p))
    };
    capability(cond)
        || cond.starts_with("CONFIG_")
        || (cond.starts_with("IS_ENABLED(CONFIG_") && !cond.contains(' '))
        || (cond.starts_with("security_locked_down(") && cond.ends_with(") >= 0"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{helper_id, helper_name};

    fn id(name: &str) -> i32 {
        helper_id(name).unwrap_or_else(|| panic!("no helper {name}"))
    }

    #[test]
    fn map_lookup_elem_for_socket_filter() {
        let (p, conds) = func_proto(ProgType::SocketFilter, id("bpf_map_lookup_elem")).unwrap();
        assert_eq!(p.name, "bpf_map_lookup_elem_proto");
        assert!(conds.is_empty());
        assert_eq!(p.ret.to_string(), "RET_PTR_TO_MAP_VALUE_OR_NULL");
        assert_eq!(p.ret.base, RetBase::PtrToMapValue);
        assert!(p.ret.flags.contains(TypeFlags::PTR_MAYBE_NULL));
        assert_eq!(p.args[0].base, ArgBase::ConstMapPtr);
        assert_eq!(p.args[1].base, ArgBase::PtrToMapKey);
        assert_eq!(p.args[0].to_string(), "ARG_CONST_MAP_PTR");
        assert_eq!(p.args[1].to_string(), "ARG_PTR_TO_MAP_KEY");
        assert_eq!(p.arg_count(), 2);
        assert_eq!(p.helper_id, Some(1));
        assert!(p.pkt_access);
        assert!(!p.gpl_only);
    }

    #[test]
    fn skb_load_bytes_tc_not_kprobe() {
        let h = id("bpf_skb_load_bytes");
        let (p, _) = func_proto(ProgType::SchedCls, h).unwrap();
        assert_eq!(p.name, "bpf_skb_load_bytes_proto");
        assert_eq!(p.args[2].to_string(), "ARG_PTR_TO_UNINIT_MEM");
        assert!(p.args[2].flags.contains(TypeFlags::MEM_UNINIT));
        assert!(func_proto(ProgType::Kprobe, h).is_none());
        assert!(func_proto_alternatives(ProgType::Kprobe, h).is_empty());
    }

    #[test]
    fn probe_read_kernel_gpl_for_kprobe() {
        let (p, conds) = func_proto(ProgType::Kprobe, id("bpf_probe_read_kernel")).unwrap();
        assert_eq!(p.name, "bpf_probe_read_kernel_proto");
        assert!(p.gpl_only);
        assert_eq!(
            conds,
            &["security_locked_down(LOCKDOWN_BPF_READ_KERNEL) >= 0"]
        );
        assert!(conds.iter().all(|c| privileged_condition(c)));
    }

    #[test]
    fn trace_printk_for_xdp_needs_perfmon() {
        let alts = func_proto_alternatives(ProgType::Xdp, id("bpf_trace_printk"));
        assert_eq!(alts.len(), 1);
        let a = alts[0];
        assert_eq!(a.proto.name, "bpf_trace_printk_proto");
        assert!(a.conds.iter().any(|c| c.contains("CAP_PERFMON")));
        assert_eq!(
            a.via,
            &[
                "xdp_func_proto",
                "bpf_sk_base_func_proto",
                "bpf_base_func_proto",
                "bpf_get_trace_printk_proto"
            ]
        );
        assert!(a.proto.gpl_only);
        assert_eq!(a.proto.args[0].to_string(), "ARG_PTR_TO_MEM | MEM_RDONLY");
    }

    #[test]
    fn xdp_adjust_head_only_for_xdp() {
        let h = id("bpf_xdp_adjust_head");
        let types: Vec<ProgType> = ProgType::all()
            .iter()
            .copied()
            .filter(|t| func_proto(*t, h).is_some())
            .collect();
        assert_eq!(types, vec![ProgType::Xdp]);
    }

    #[test]
    fn conditional_alternatives() {
        // kprobe_prog_func_proto: get_func_ip depends on the attach type.
        let alts = func_proto_alternatives(ProgType::Kprobe, id("bpf_get_func_ip"));
        let names: Vec<&str> = alts.iter().map(|a| a.proto.name).collect();
        assert_eq!(
            names,
            [
                "bpf_get_func_ip_proto_kprobe_multi",
                "bpf_get_func_ip_proto_uprobe_multi",
                "bpf_get_func_ip_proto_kprobe"
            ]
        );
        // sock_addr: bind only for connect hooks.
        let (p, conds) = func_proto(ProgType::CgroupSockAddr, id("bpf_bind")).unwrap();
        assert_eq!(p.name, "bpf_bind_proto");
        assert!(conds[0].contains("BPF_CGROUP_INET4_CONNECT"));
        // tracing iterators get setsockopt from the iterator target.
        let alts = func_proto_alternatives(ProgType::Tracing, id("bpf_setsockopt"));
        assert!(alts.iter().any(|a| a.conds.contains(&"iter target == tcp")));
        // struct_ops: per struct_ops type.
        let (p, conds) = func_proto(ProgType::StructOps, id("bpf_tcp_send_ack")).unwrap();
        assert_eq!(p.name, "bpf_tcp_send_ack_proto");
        assert_eq!(conds, &["st_ops->name == tcp_congestion_ops"]);
        // EXT uses the target's ops; UNSPEC has none.
        assert!(helpers_of(ProgType::Ext).is_empty());
        assert!(helpers_of(ProgType::Unspec).is_empty());
    }

    #[test]
    fn helper_ids_match_platform_table() {
        for (i, n) in HELPER_IDS.iter().enumerate() {
            assert_eq!(helper_name(i as i32), Some(format!("bpf_{n}").as_str()));
        }
        for p in all_protos() {
            if let Some(h) = p.helper_id {
                assert!(helper_name(h).is_some(), "{}", p.name);
            }
        }
    }

    #[test]
    fn counts() {
        assert_eq!(SOURCE_VERSION, "6.12.117");
        let n = all_protos().len();
        assert!(n >= 250, "{n} protos");
        assert_eq!(n, 275);
        let pairs: usize = ProgType::all().iter().map(|t| helpers_of(*t).len()).sum();
        assert_eq!(pairs, PAIR_COUNT);
        assert_eq!(pairs, 2505);
        assert!(all_protos().windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(
            proto_by_name("bpf_sk_release_proto").map(|p| p.args[0].to_string()),
            Some("ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE".to_string())
        );
        for t in ProgType::all() {
            let rows = helpers_of(*t);
            assert!(rows.windows(2).all(|w| w[0].helper_id < w[1].helper_id));
            assert!(rows.iter().all(|r| !r.alts.is_empty()));
        }
    }
}
