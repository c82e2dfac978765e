//! CO-RE relocation resolution (libbpf `relo_core.c` semantics): parse the
//! local access spec, find target candidates by essential name, match the
//! spec against each candidate, compute the relocated value and patch (or
//! poison) the instruction.

use std::collections::HashMap;

use super::BtfError;
use super::ext::{CoreRelo, CoreReloKind};
use super::parse::{Btf, MAX_RESOLVE_DEPTH};
use super::types::{BTF_INT_SIGNED, BtfType, BtfTypeKind};
use crate::isa::raw::{
    BPF_ALU, BPF_ALU64, BPF_B, BPF_CALL, BPF_DW, BPF_H, BPF_JMP, BPF_K, BPF_LD, BPF_LDX, BPF_ST,
    BPF_STX, BPF_W, CORE_POISON_IMM, RawInsn,
};

/// libbpf's `BPF_CORE_SPEC_MAX_LEN`.
const SPEC_MAX_LEN: usize = 64;
/// Upper bound on structural-comparison steps per relocation (guards against
/// adversarial BTF making the recursive searches exponential).
const STEP_BUDGET: u32 = 1 << 20;

/// Per-local-type cache of target candidate type ids (libbpf's `cand_cache`).
///
/// A cache must only be used with one (local BTF, target BTF) pair.
#[derive(Clone, Debug, Default)]
pub struct CoreCache {
    cands: HashMap<u32, Vec<u32>>,
}

impl CoreCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached candidates of local type `local_id`, if computed yet.
    pub fn candidates(&self, local_id: u32) -> Option<&[u32]> {
        self.cands.get(&local_id).map(Vec::as_slice)
    }
}

/// What applying one CO-RE relocation did to the instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreOutcome {
    /// The relocated field (imm, off or imm64) changed from `old` to `new`
    /// (both may be equal, e.g. `TYPE_ID_LOCAL`).
    Patched {
        /// Value found in the instruction before patching.
        old: i64,
        /// Value written into the instruction.
        new: i64,
    },
    /// The instruction was replaced by `call 0xbad2310` (both ldimm64 slots).
    Poisoned {
        /// Why the relocation could not be satisfied.
        reason: String,
    },
}

fn core_err(msg: impl Into<String>) -> BtfError {
    BtfError::Core(msg.into())
}

/// One high-level accessor: a named field or an array index.
#[derive(Clone, Debug)]
struct Accessor<'a> {
    type_id: u32,
    idx: u32,
    name: Option<&'a str>,
}

/// A parsed/matched access specification (libbpf's `bpf_core_spec`).
#[derive(Clone, Debug)]
struct Spec<'a> {
    btf: &'a Btf,
    root_type_id: u32,
    kind: CoreReloKind,
    raw: Vec<u32>,
    acc: Vec<Accessor<'a>>,
    bit_offset: u32,
}

impl<'a> Spec<'a> {
    fn new(btf: &'a Btf, root_type_id: u32, kind: CoreReloKind) -> Self {
        Spec {
            btf,
            root_type_id,
            kind,
            raw: Vec::new(),
            acc: Vec::new(),
            bit_offset: 0,
        }
    }

    fn add_bits(&mut self, idx: u32, elem_size: u64) -> Result<(), BtfError> {
        let bits = u64::from(idx)
            .checked_mul(elem_size)
            .and_then(|v| v.checked_mul(8))
            .and_then(|v| v.checked_add(u64::from(self.bit_offset)))
            .filter(|v| *v <= u64::from(u32::MAX))
            .ok_or_else(|| core_err("access offset overflow"))?;
        self.bit_offset = bits as u32;
        Ok(())
    }
}

/// Step counter shared by the recursive comparisons of one relocation.
struct Budget(u32);

impl Budget {
    fn step(&mut self) -> Result<(), BtfError> {
        if self.0 == 0 {
            return Err(core_err("type structure too complex"));
        }
        self.0 -= 1;
        Ok(())
    }
}

/// Length of the name without a `___flavor` suffix (`bpf_core_essential_name_len`).
pub fn essential_name_len(name: &str) -> usize {
    let b = name.as_bytes();
    let n = b.len();
    if n >= 5 {
        for i in (0..=n - 5).rev() {
            if b[i] != b'_' && &b[i + 1..i + 4] == b"___" && b[i + 4] != b'_' {
                return i + 1;
            }
        }
    }
    n
}

/// The name without its `___flavor` suffix.
pub fn essential_name(name: &str) -> &str {
    &name[..essential_name_len(name)]
}

fn skip(btf: &Btf, id: u32) -> Result<(u32, &BtfType), BtfError> {
    btf.skip_mods_checked(id).ok_or_else(|| {
        core_err(format!(
            "type [{id}] is invalid or part of a modifier cycle"
        ))
    })
}

fn ty(btf: &Btf, id: u32) -> Result<&BtfType, BtfError> {
    btf.type_by_id(id).ok_or(BtfError::BadTypeId(id))
}

fn resolve(btf: &Btf, id: u32) -> Result<u64, BtfError> {
    btf.resolve_size(id)
}

fn is_flex_arr(btf: &Btf, prev: Option<&Accessor<'_>>, nelems: u32) -> bool {
    let Some(acc) = prev else { return false };
    if acc.name.is_none() || nelems > 0 {
        return false;
    }
    btf.type_by_id(acc.type_id)
        .is_some_and(|t| t.vlen() > 0 && acc.idx as usize == t.vlen() - 1)
}

/// Parses an access string like `0:1:2` into a spec (`bpf_core_parse_spec`).
fn parse_spec<'a>(
    btf: &'a Btf,
    type_id: u32,
    access: &str,
    kind: CoreReloKind,
) -> Result<Spec<'a>, BtfError> {
    let bad = |why: &str| {
        core_err(format!(
            "invalid access string '{access}' for [{type_id}]: {why}"
        ))
    };
    if access.is_empty() || access.starts_with(':') {
        return Err(bad("empty"));
    }
    let mut spec = Spec::new(btf, type_id, kind);
    if kind.is_type_based() {
        if access != "0" {
            return Err(bad("type-based relocation needs \"0\""));
        }
        return Ok(spec);
    }
    for part in access.split(':') {
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("not a list of indices"));
        }
        let v: u32 = part
            .parse()
            .ok()
            .filter(|v| *v <= i32::MAX as u32)
            .ok_or_else(|| bad("index too large"))?;
        if spec.raw.len() == SPEC_MAX_LEN {
            return Err(bad("too long"));
        }
        spec.raw.push(v);
    }
    let (mut id, t) = skip(btf, type_id)?;
    let first = spec.raw[0];
    spec.acc.push(Accessor {
        type_id: id,
        idx: first,
        name: None,
    });
    if kind.is_enumval_based() {
        if !t.is_any_enum() || spec.raw.len() > 1 || first as usize >= t.vlen() {
            return Err(bad("not a valid enumerator access"));
        }
        let e = &t.enum_values()[first as usize];
        spec.acc[0].name = Some(btf.str_at(e.name_off).unwrap_or(""));
        return Ok(spec);
    }
    if !kind.is_field_based() {
        return Err(core_err(format!("unsupported relocation kind {kind:?}")));
    }
    let sz = resolve(btf, id)?;
    spec.add_bits(first, sz)?;
    for i in 1..spec.raw.len() {
        let (sid, t) = skip(btf, id)?;
        id = sid;
        let idx = spec.raw[i];
        match &t.kind {
            BtfTypeKind::Struct { members, .. } | BtfTypeKind::Union { members, .. } => {
                let m = members
                    .get(idx as usize)
                    .ok_or_else(|| bad("member index out of range"))?;
                spec.bit_offset = spec
                    .bit_offset
                    .checked_add(m.bit_offset)
                    .ok_or_else(|| bad("offset overflow"))?;
                if m.name_off != 0 {
                    let name = btf.str_at(m.name_off).unwrap_or("");
                    if name.is_empty() {
                        return Err(bad("member with empty name"));
                    }
                    spec.acc.push(Accessor {
                        type_id: id,
                        idx,
                        name: Some(name),
                    });
                }
                id = m.type_id;
            }
            BtfTypeKind::Array { elem, nelems, .. } => {
                let (eid, _) = skip(btf, *elem)?;
                let flex = is_flex_arr(btf, spec.acc.last(), *nelems);
                if !flex && idx >= *nelems {
                    return Err(bad("array index out of range"));
                }
                spec.acc.push(Accessor {
                    type_id: eid,
                    idx,
                    name: None,
                });
                let sz = resolve(btf, eid)?;
                spec.add_bits(idx, sz)?;
                id = eid;
            }
            _ => {
                return Err(bad(&format!(
                    "captures type [{id}] of unexpected kind {}",
                    t.kind().as_str()
                )));
            }
        }
    }
    Ok(spec)
}

fn kind_core_compat(a: &BtfType, b: &BtfType) -> bool {
    a.kind() == b.kind() || (a.is_any_enum() && b.is_any_enum())
}

fn names_match(lb: &Btf, lname_off: u32, tb: &Btf, tname_off: u32) -> bool {
    let l = lb.str_at(lname_off).unwrap_or("");
    let t = tb.str_at(tname_off).unwrap_or("");
    if t.is_empty() {
        return l.is_empty();
    }
    essential_name(l) == essential_name(t)
}

/// Field-type compatibility for field relocations (`bpf_core_fields_are_compat`).
fn fields_are_compat(lb: &Btf, lid: u32, tb: &Btf, tid: u32) -> Result<bool, BtfError> {
    let (mut lid, mut tid) = (lid, tid);
    for _ in 0..MAX_RESOLVE_DEPTH {
        let (_, lt) = skip(lb, lid)?;
        let (_, tt) = skip(tb, tid)?;
        if lt.is_composite() && tt.is_composite() {
            return Ok(true);
        }
        if !kind_core_compat(lt, tt) {
            return Ok(false);
        }
        match (&lt.kind, &tt.kind) {
            (BtfTypeKind::Ptr { .. }, _) | (BtfTypeKind::Float { .. }, _) => return Ok(true),
            (BtfTypeKind::Fwd { .. }, _)
            | (BtfTypeKind::Enum { .. }, _)
            | (BtfTypeKind::Enum64 { .. }, _) => {
                let ln = essential_name(lb.str_at(lt.name_off).unwrap_or(""));
                let tn = essential_name(tb.str_at(tt.name_off).unwrap_or(""));
                return Ok(ln.is_empty() || tn.is_empty() || ln == tn);
            }
            (BtfTypeKind::Int { offset: lo, .. }, BtfTypeKind::Int { offset: to, .. }) => {
                return Ok(*lo == 0 && *to == 0);
            }
            (BtfTypeKind::Array { elem: le, .. }, BtfTypeKind::Array { elem: te, .. }) => {
                lid = *le;
                tid = *te;
            }
            _ => return Ok(false),
        }
    }
    Err(core_err("array nesting too deep"))
}

/// Type compatibility for type-based relocations (`bpf_core_types_are_compat`).
fn types_are_compat(
    lb: &Btf,
    lid: u32,
    tb: &Btf,
    tid: u32,
    level: i32,
    budget: &mut Budget,
) -> Result<bool, BtfError> {
    budget.step()?;
    if !kind_core_compat(ty(lb, lid)?, ty(tb, tid)?) {
        return Ok(false);
    }
    let (mut lid, mut tid) = (lid, tid);
    for _ in 0..MAX_RESOLVE_DEPTH {
        let (_, lt) = skip(lb, lid)?;
        let (_, tt) = skip(tb, tid)?;
        if !kind_core_compat(lt, tt) {
            return Ok(false);
        }
        match (&lt.kind, &tt.kind) {
            (BtfTypeKind::Void, _)
            | (BtfTypeKind::Struct { .. }, _)
            | (BtfTypeKind::Union { .. }, _)
            | (BtfTypeKind::Enum { .. }, _)
            | (BtfTypeKind::Enum64 { .. }, _)
            | (BtfTypeKind::Fwd { .. }, _) => return Ok(true),
            (BtfTypeKind::Int { offset: lo, .. }, BtfTypeKind::Int { offset: to, .. }) => {
                return Ok(*lo == 0 && *to == 0);
            }
            (BtfTypeKind::Ptr { target: l }, BtfTypeKind::Ptr { target: t }) => {
                lid = *l;
                tid = *t;
            }
            (BtfTypeKind::Array { elem: l, .. }, BtfTypeKind::Array { elem: t, .. }) => {
                lid = *l;
                tid = *t;
            }
            (
                BtfTypeKind::FuncProto {
                    ret: lr,
                    params: lp,
                },
                BtfTypeKind::FuncProto {
                    ret: tr,
                    params: tp,
                },
            ) => {
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (l, t) in lp.iter().zip(tp) {
                    if level <= 0 {
                        return Err(core_err("function prototype nesting too deep"));
                    }
                    let (l, _) = skip(lb, l.type_id)?;
                    let (t, _) = skip(tb, t.type_id)?;
                    if !types_are_compat(lb, l, tb, t, level - 1, budget)? {
                        return Ok(false);
                    }
                }
                lid = skip(lb, *lr)?.0;
                tid = skip(tb, *tr)?.0;
            }
            _ => return Ok(false),
        }
    }
    Err(core_err("type chain too deep"))
}

/// Strict structural match for `TYPE_MATCHES` (`__bpf_core_types_match`).
fn types_match(
    lb: &Btf,
    lid: u32,
    tb: &Btf,
    tid: u32,
    behind_ptr: bool,
    level: i32,
    budget: &mut Budget,
) -> Result<bool, BtfError> {
    if level <= 0 {
        return Err(core_err("type match nesting too deep"));
    }
    budget.step()?;
    let (mut lid, mut tid, mut behind_ptr) = (lid, tid, behind_ptr);
    for _ in 0..MAX_RESOLVE_DEPTH {
        let (_, lt) = skip(lb, lid)?;
        let (_, tt) = skip(tb, tid)?;
        if !names_match(lb, lt.name_off, tb, tt.name_off) {
            return Ok(false);
        }
        match &lt.kind {
            BtfTypeKind::Void => return Ok(matches!(tt.kind, BtfTypeKind::Void)),
            BtfTypeKind::Fwd { is_union } => {
                return Ok(match &tt.kind {
                    BtfTypeKind::Fwd { is_union: t } => is_union == t,
                    BtfTypeKind::Struct { .. } => behind_ptr && !is_union,
                    BtfTypeKind::Union { .. } => behind_ptr && *is_union,
                    _ => false,
                });
            }
            BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. } => {
                if !tt.is_any_enum() || lt.size() != tt.size() {
                    return Ok(false);
                }
                let tv = tt.enum_values();
                if lt.vlen() > tv.len() {
                    return Ok(false);
                }
                for l in lt.enum_values() {
                    budget.step()?;
                    if !tv
                        .iter()
                        .any(|t| names_match(lb, l.name_off, tb, t.name_off))
                    {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            BtfTypeKind::Struct { .. } | BtfTypeKind::Union { .. } => {
                let same_kind = lt.kind() == tt.kind();
                if behind_ptr {
                    if same_kind {
                        return Ok(true);
                    }
                    return Ok(match tt.kind {
                        BtfTypeKind::Fwd { is_union } => {
                            is_union == matches!(lt.kind, BtfTypeKind::Union { .. })
                        }
                        _ => false,
                    });
                }
                if !same_kind {
                    return Ok(false);
                }
                let tm = tt.members();
                if lt.vlen() > tm.len() {
                    return Ok(false);
                }
                for l in lt.members() {
                    let mut matched = false;
                    for t in tm {
                        budget.step()?;
                        if !names_match(lb, l.name_off, tb, t.name_off) {
                            continue;
                        }
                        if types_match(lb, l.type_id, tb, t.type_id, behind_ptr, level - 1, budget)?
                        {
                            matched = true;
                            break;
                        }
                    }
                    if !matched {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            BtfTypeKind::Int {
                encoding: le,
                bits: lbits,
                ..
            } => {
                return Ok(match &tt.kind {
                    BtfTypeKind::Int {
                        encoding: te,
                        bits: tbits,
                        ..
                    } => lbits == tbits && (le & BTF_INT_SIGNED) == (te & BTF_INT_SIGNED),
                    _ => false,
                });
            }
            BtfTypeKind::Ptr { target: l } => {
                let BtfTypeKind::Ptr { target: t } = tt.kind else {
                    return Ok(false);
                };
                behind_ptr = true;
                lid = *l;
                tid = t;
            }
            BtfTypeKind::Array {
                elem: le,
                nelems: ln,
                ..
            } => {
                let BtfTypeKind::Array {
                    elem: te,
                    nelems: tn,
                    ..
                } = tt.kind
                else {
                    return Ok(false);
                };
                if *ln != tn {
                    return Ok(false);
                }
                lid = *le;
                tid = te;
            }
            BtfTypeKind::FuncProto {
                ret: lr,
                params: lp,
            } => {
                let BtfTypeKind::FuncProto {
                    ret: tr,
                    params: tp,
                } = &tt.kind
                else {
                    return Ok(false);
                };
                if lp.len() != tp.len() {
                    return Ok(false);
                }
                for (l, t) in lp.iter().zip(tp) {
                    if !types_match(lb, l.type_id, tb, t.type_id, behind_ptr, level - 1, budget)? {
                        return Ok(false);
                    }
                }
                lid = *lr;
                tid = *tr;
            }
            _ => return Ok(false),
        }
    }
    Err(core_err("type chain too deep"))
}

/// Finds the target member matching local accessor `lacc` (`bpf_core_match_member`).
#[allow(clippy::too_many_arguments)]
fn match_member<'a>(
    lb: &Btf,
    lacc: &Accessor<'_>,
    tb: &'a Btf,
    targ_id: u32,
    spec: &mut Spec<'a>,
    next_targ_id: &mut u32,
    budget: &mut Budget,
    depth: usize,
) -> Result<bool, BtfError> {
    let (targ_id, tt) = skip(tb, targ_id)?;
    if !tt.is_composite() {
        return Ok(false);
    }
    let lm = ty(lb, lacc.type_id)?
        .members()
        .get(lacc.idx as usize)
        .ok_or_else(|| core_err("local accessor out of range"))?;
    let local_name = lacc.name.unwrap_or("");
    for (i, m) in tt.members().iter().enumerate() {
        budget.step()?;
        if spec.raw.len() == SPEC_MAX_LEN || depth > SPEC_MAX_LEN {
            return Err(core_err("struct/union/array nesting too deep"));
        }
        spec.bit_offset = spec
            .bit_offset
            .checked_add(m.bit_offset)
            .ok_or_else(|| core_err("offset overflow"))?;
        spec.raw.push(i as u32);
        let targ_name = tb.str_at(m.name_off).unwrap_or("");
        if targ_name.is_empty() {
            if match_member(
                lb,
                lacc,
                tb,
                m.type_id,
                spec,
                next_targ_id,
                budget,
                depth + 1,
            )? {
                return Ok(true);
            }
        } else if targ_name == local_name {
            spec.acc.push(Accessor {
                type_id: targ_id,
                idx: i as u32,
                name: Some(targ_name),
            });
            *next_targ_id = m.type_id;
            let compat = fields_are_compat(lb, lm.type_id, tb, m.type_id)?;
            if !compat {
                spec.acc.pop();
            }
            return Ok(compat);
        }
        spec.bit_offset -= m.bit_offset;
        spec.raw.pop();
    }
    Ok(false)
}

/// Matches a local spec against candidate `targ_id` (`bpf_core_spec_match`).
fn spec_match<'a>(
    local: &Spec<'_>,
    tb: &'a Btf,
    targ_id: u32,
    budget: &mut Budget,
) -> Result<Option<Spec<'a>>, BtfError> {
    let mut targ = Spec::new(tb, targ_id, local.kind);
    if local.kind.is_type_based() {
        let ok = if local.kind == CoreReloKind::TypeMatches {
            types_match(
                local.btf,
                local.root_type_id,
                tb,
                targ_id,
                false,
                32,
                budget,
            )?
        } else {
            types_are_compat(local.btf, local.root_type_id, tb, targ_id, 32, budget)?
        };
        return Ok(ok.then_some(targ));
    }
    if local.kind.is_enumval_based() {
        let (tid, tt) = skip(tb, targ_id)?;
        if !tt.is_any_enum() {
            return Ok(None);
        }
        let lname = essential_name(local.acc[0].name.unwrap_or(""));
        for (i, e) in tt.enum_values().iter().enumerate() {
            let tname = tb.str_at(e.name_off).unwrap_or("");
            if essential_name(tname) == lname {
                targ.acc.push(Accessor {
                    type_id: tid,
                    idx: i as u32,
                    name: Some(tname),
                });
                targ.raw.push(i as u32);
                return Ok(Some(targ));
            }
        }
        return Ok(None);
    }
    if !local.kind.is_field_based() {
        return Err(core_err(format!(
            "unsupported relocation kind {:?}",
            local.kind
        )));
    }
    let mut targ_id = targ_id;
    for (i, lacc) in local.acc.iter().enumerate() {
        let (tid, tt) = skip(tb, targ_id)?;
        targ_id = tid;
        if lacc.name.is_some() {
            let mut next = 0;
            if !match_member(
                local.btf, lacc, tb, targ_id, &mut targ, &mut next, budget, 0,
            )? {
                return Ok(None);
            }
            targ_id = next;
        } else {
            if i > 0 {
                let BtfTypeKind::Array { elem, nelems, .. } = tt.kind else {
                    return Ok(None);
                };
                let flex = is_flex_arr(tb, targ.acc.last(), nelems);
                if !flex && lacc.idx >= nelems {
                    return Ok(None);
                }
                targ_id = skip(tb, elem)?.0;
            }
            if targ.raw.len() == SPEC_MAX_LEN {
                return Err(core_err("struct/union/array nesting too deep"));
            }
            targ.acc.push(Accessor {
                type_id: targ_id,
                idx: lacc.idx,
                name: None,
            });
            targ.raw.push(lacc.idx);
            let sz = resolve(tb, targ_id)?;
            targ.add_bits(lacc.idx, sz)?;
        }
    }
    Ok(Some(targ))
}

/// Result of computing one side of a field relocation.
struct FieldVal {
    val: u64,
    field_sz: u32,
    type_id: u32,
    validate: bool,
}

/// `bpf_core_calc_field_relo`; Ok(None) requests poisoning.
fn calc_field_relo(
    kind: CoreReloKind,
    spec: Option<&Spec<'_>>,
) -> Result<Option<FieldVal>, BtfError> {
    let mut out = FieldVal {
        val: 0,
        field_sz: 0,
        type_id: 0,
        validate: true,
    };
    if kind == CoreReloKind::FieldExists {
        out.val = u64::from(spec.is_some());
        return Ok(Some(out));
    }
    let Some(spec) = spec else { return Ok(None) };
    let acc = spec.acc.last().ok_or_else(|| core_err("empty spec"))?;
    let t = ty(spec.btf, acc.type_id)?;
    if acc.name.is_none() {
        let sz = resolve(spec.btf, acc.type_id)?;
        let sz = u32::try_from(sz).map_err(|_| core_err("element too large"))?;
        match kind {
            CoreReloKind::FieldByteOffset => {
                out.val = u64::from(spec.bit_offset / 8);
                out.field_sz = sz;
                out.type_id = acc.type_id;
            }
            CoreReloKind::FieldByteSize => out.val = u64::from(sz),
            _ => {
                return Err(core_err(format!(
                    "relocation {} can't be applied to array access",
                    kind.as_str()
                )));
            }
        }
        return Ok(Some(out));
    }
    let m = t
        .members()
        .get(acc.idx as usize)
        .ok_or_else(|| core_err("accessor out of range"))?;
    let (field_type_id, mt) = skip(spec.btf, m.type_id)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = u32::from(m.bitfield_size);
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz);
    if bitfield {
        let mut sz = mt
            .size()
            .filter(|s| *s > 0)
            .ok_or_else(|| core_err("bitfield of unsized type"))?;
        let mut off = bit_off / 8 / sz * sz;
        while u64::from(bit_off) + u64::from(bit_sz) - u64::from(off) * 8 > u64::from(sz) * 8 {
            if sz >= 8 {
                return Err(core_err("bitfield can't be read with 64-bit read"));
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        byte_sz = sz;
        byte_off = off;
    } else {
        let sz = resolve(spec.btf, field_type_id)?;
        byte_sz = u32::try_from(sz).map_err(|_| core_err("field too large"))?;
        byte_off = bit_off / 8;
        bit_sz = byte_sz.wrapping_mul(8);
    }
    out.validate = !bitfield;
    match kind {
        CoreReloKind::FieldByteOffset => {
            out.val = u64::from(byte_off);
            if !bitfield {
                out.field_sz = byte_sz;
                out.type_id = field_type_id;
            }
        }
        CoreReloKind::FieldByteSize => out.val = u64::from(byte_sz),
        CoreReloKind::FieldSigned => {
            let signed = match &mt.kind {
                BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. } => mt.kind_flag,
                BtfTypeKind::Int { encoding, .. } => encoding & BTF_INT_SIGNED != 0,
                _ => false,
            };
            out.val = u64::from(signed);
            out.validate = true;
        }
        CoreReloKind::FieldLshiftU64 => {
            let used = bit_off
                .wrapping_add(bit_sz)
                .wrapping_sub(byte_off.wrapping_mul(8));
            out.val = u64::from(64u32.wrapping_sub(used));
        }
        CoreReloKind::FieldRshiftU64 => {
            out.val = u64::from(64u32.wrapping_sub(bit_sz));
            out.validate = true;
        }
        _ => return Err(core_err(format!("unexpected field relocation {kind:?}"))),
    }
    Ok(Some(out))
}

/// `bpf_core_calc_type_relo`: (value, validate).
fn calc_type_relo(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<(u64, bool), BtfError> {
    let Some(spec) = spec else {
        return Ok((0, true));
    };
    Ok(match kind {
        CoreReloKind::TypeIdTarget => (u64::from(spec.root_type_id), false),
        CoreReloKind::TypeExists | CoreReloKind::TypeMatches => (1, true),
        CoreReloKind::TypeSize => (resolve(spec.btf, spec.root_type_id)?, true),
        _ => return Err(core_err(format!("unexpected type relocation {kind:?}"))),
    })
}

/// `bpf_core_calc_enumval_relo`; Ok(None) requests poisoning.
fn calc_enumval_relo(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Option<u64>, BtfError> {
    match kind {
        CoreReloKind::EnumvalExists => Ok(Some(u64::from(spec.is_some()))),
        CoreReloKind::EnumvalValue => {
            let Some(spec) = spec else { return Ok(None) };
            let acc = spec.acc.first().ok_or_else(|| core_err("empty spec"))?;
            let v = ty(spec.btf, acc.type_id)?
                .enum_values()
                .get(acc.idx as usize)
                .ok_or_else(|| core_err("enumerator out of range"))?;
            Ok(Some(v.value))
        }
        _ => Err(core_err(format!("unexpected enumval relocation {kind:?}"))),
    }
}

/// Computed relocation result (libbpf's `bpf_core_relo_res`).
#[derive(Clone, Debug, Default)]
struct RelRes {
    orig_val: u64,
    new_val: u64,
    poison: bool,
    validate: bool,
    fail_memsz_adjust: bool,
    orig_sz: u32,
    new_sz: u32,
}

/// `bpf_core_calc_relo`.
fn calc_relo(
    kind: CoreReloKind,
    local: &Spec<'_>,
    targ: Option<&Spec<'_>>,
) -> Result<RelRes, BtfError> {
    let mut res = RelRes {
        validate: true,
        ..RelRes::default()
    };
    if kind.is_field_based() {
        let (Some(l), Some(t)) = (
            calc_field_relo(kind, Some(local))?,
            calc_field_relo(kind, targ)?,
        ) else {
            res.poison = true;
            return Ok(res);
        };
        res.orig_val = l.val;
        res.new_val = t.val;
        res.validate = l.validate;
        res.orig_sz = l.field_sz;
        res.new_sz = t.field_sz;
        if res.orig_sz != res.new_sz {
            let lt = ty(local.btf, l.type_id)?;
            let tb = targ.map_or(local.btf, |s| s.btf);
            let tt = ty(tb, t.type_id)?;
            let unsigned_int = |x: &BtfType| matches!(x.kind, BtfTypeKind::Int { encoding, .. } if encoding != BTF_INT_SIGNED);
            let ptrs = matches!(lt.kind, BtfTypeKind::Ptr { .. })
                && matches!(tt.kind, BtfTypeKind::Ptr { .. });
            if !(ptrs || (unsigned_int(lt) && unsigned_int(tt))) {
                res.fail_memsz_adjust = true;
            }
        }
    } else if kind.is_type_based() {
        let (o, v) = calc_type_relo(kind, Some(local))?;
        res.orig_val = o;
        res.validate = v;
        res.new_val = calc_type_relo(kind, targ)?.0;
    } else if kind.is_enumval_based() {
        match (
            calc_enumval_relo(kind, Some(local))?,
            calc_enumval_relo(kind, targ)?,
        ) {
            (Some(o), Some(n)) => {
                res.orig_val = o;
                res.new_val = n;
            }
            _ => res.poison = true,
        }
    } else {
        return Err(core_err(format!(
            "unrecognized CO-RE relocation kind {kind:?}"
        )));
    }
    Ok(res)
}

/// Target candidates for local type `local_id`: same kind (enum/enum64 mix)
/// and same essential name (`bpf_core_add_cands`).
fn find_candidates(local: &Btf, local_id: u32, target: &Btf) -> Result<Vec<u32>, BtfError> {
    let lt = ty(local, local_id)?;
    let lname = local.str_at(lt.name_off).unwrap_or("");
    if lname.is_empty() {
        return Err(core_err(format!(
            "relocation against anonymous type [{local_id}] is not supported"
        )));
    }
    let ess = essential_name(lname);
    Ok(target
        .iter_types()
        .filter(|(_, t)| kind_core_compat(t, lt))
        .filter(|(_, t)| {
            let n = target.str_at(t.name_off).unwrap_or("");
            !n.is_empty() && essential_name(n) == ess
        })
        .map(|(id, _)| id)
        .collect())
}

/// Human-readable description of a local spec, for poison reasons.
fn describe(spec: &Spec<'_>, access: &str) -> String {
    let root = spec.btf.type_to_string(spec.root_type_id);
    let mut path = String::new();
    for (i, a) in spec.acc.iter().enumerate() {
        match a.name {
            Some(n) if spec.kind.is_enumval_based() => path.push_str(&format!("::{n}")),
            Some(n) => path.push_str(&format!(".{n}")),
            None if i > 0 || a.idx > 0 => path.push_str(&format!("[{}]", a.idx)),
            None => {}
        }
    }
    format!("[{}] {root}{path} (access {access})", spec.root_type_id)
}

fn poison(insns: &mut [RawInsn], idx: usize) {
    insns[idx] = RawInsn::new(BPF_JMP | BPF_CALL, 0, 0, 0, CORE_POISON_IMM);
}

fn size_bytes(code: u8) -> u32 {
    match code & 0x18 {
        BPF_DW => 8,
        BPF_W => 4,
        BPF_H => 2,
        _ => 1,
    }
}

fn bytes_to_size(sz: u32) -> Option<u8> {
    Some(match sz {
        8 => BPF_DW,
        4 => BPF_W,
        2 => BPF_H,
        1 => BPF_B,
        _ => return None,
    })
}

/// Patches (or poisons) `insns[idx]` with a computed result (`bpf_core_patch_insn`).
fn patch_insn(
    insns: &mut [RawInsn],
    idx: usize,
    res: &RelRes,
    reason: impl FnOnce() -> String,
) -> Result<CoreOutcome, BtfError> {
    let insn = insns[idx];
    let ldimm64_pair_ok = insn.is_ldimm64() && idx + 1 < insns.len();
    if insn.is_ldimm64() && !ldimm64_pair_ok {
        return Err(core_err(format!("insn #{idx}: truncated ldimm64")));
    }
    let do_poison = |insns: &mut [RawInsn], why: String| {
        if ldimm64_pair_ok {
            poison(insns, idx + 1);
        }
        poison(insns, idx);
        CoreOutcome::Poisoned { reason: why }
    };
    if res.poison {
        return Ok(do_poison(insns, reason()));
    }
    let (orig, new) = (res.orig_val, res.new_val);
    match insn.class() {
        BPF_ALU | BPF_ALU64 => {
            if insn.code & 0x08 != BPF_K {
                return Err(core_err(format!(
                    "insn #{idx}: ALU relocation on register operand"
                )));
            }
            if res.validate && insn.imm as i64 as u64 != orig {
                return Err(core_err(format!(
                    "insn #{idx}: unexpected ALU imm {} (expected {orig})",
                    insn.imm
                )));
            }
            let old = i64::from(insn.imm);
            insns[idx].imm = new as u32 as i32;
            Ok(CoreOutcome::Patched {
                old,
                new: i64::from(insns[idx].imm),
            })
        }
        BPF_LDX | BPF_ST | BPF_STX => {
            if res.validate && insn.off as i64 as u64 != orig {
                return Err(core_err(format!(
                    "insn #{idx}: unexpected memory offset {} (expected {orig})",
                    insn.off
                )));
            }
            if new > i16::MAX as u64 {
                return Err(core_err(format!("insn #{idx}: offset {new} too big")));
            }
            if res.fail_memsz_adjust {
                return Ok(do_poison(
                    insns,
                    format!(
                        "{}: field size changes ({} -> {} bytes) and the field is not a pointer or unsigned integer",
                        reason(),
                        res.orig_sz,
                        res.new_sz
                    ),
                ));
            }
            let old = i64::from(insn.off);
            let mut code = insn.code;
            if res.new_sz != res.orig_sz {
                if size_bytes(insn.code) != res.orig_sz {
                    return Err(core_err(format!(
                        "insn #{idx}: unexpected memory size {} (expected {})",
                        size_bytes(insn.code),
                        res.orig_sz
                    )));
                }
                let sz = bytes_to_size(res.new_sz).ok_or_else(|| {
                    core_err(format!("insn #{idx}: invalid new size {}", res.new_sz))
                })?;
                code = (insn.code & 0xe0) | sz | insn.class();
            }
            insns[idx].off = new as i16;
            insns[idx].code = code;
            Ok(CoreOutcome::Patched {
                old,
                new: new as i64,
            })
        }
        BPF_LD => {
            let next = insns.get(idx + 1).copied().unwrap_or_default();
            if !insn.is_ldimm64()
                || insn.src != 0
                || insn.off != 0
                || next.code != 0
                || next.dst != 0
                || next.src != 0
                || next.off != 0
            {
                return Err(core_err(format!(
                    "insn #{idx}: ldimm64 has unexpected form"
                )));
            }
            let imm = u64::from(insn.imm as u32) | (u64::from(next.imm as u32) << 32);
            if res.validate && imm != orig {
                return Err(core_err(format!(
                    "insn #{idx}: unexpected ldimm64 value {imm} (expected {orig})"
                )));
            }
            insns[idx].imm = new as u32 as i32;
            insns[idx + 1].imm = (new >> 32) as u32 as i32;
            Ok(CoreOutcome::Patched {
                old: imm as i64,
                new: new as i64,
            })
        }
        _ => Err(core_err(format!(
            "insn #{idx}: cannot relocate instruction with code {:#04x}",
            insn.code
        ))),
    }
}

/// Resolves CO-RE relocation `relo` of program BTF `local` against kernel BTF
/// `target` and patches `insns[insn_idx]` (the relocation's ELF-section
/// instructions; `insn_idx = insn_off_bytes / 8`) the way libbpf does.
///
/// Unsatisfiable relocations poison the instruction (`call 0xbad2310`) and
/// return `Poisoned`; malformed input or cases libbpf rejects return `Err`.
pub fn apply_core_relo(
    local: &Btf,
    target: &Btf,
    relo: &CoreRelo,
    insns: &mut [RawInsn],
    insn_idx: usize,
    cache: &mut CoreCache,
) -> Result<CoreOutcome, BtfError> {
    if let CoreReloKind::Unknown(k) = relo.kind {
        return Err(core_err(format!("unrecognized CO-RE relocation kind {k}")));
    }
    if insn_idx >= insns.len() {
        return Err(core_err(format!(
            "insn #{insn_idx} out of range ({} instructions)",
            insns.len()
        )));
    }
    let local_id = relo.type_id;
    ty(local, local_id)?;
    let local_spec = parse_spec(local, local_id, &relo.access, relo.kind)?;

    if relo.kind == CoreReloKind::TypeIdLocal {
        let res = RelRes {
            orig_val: u64::from(local_id),
            new_val: u64::from(local_id),
            validate: false,
            ..RelRes::default()
        };
        return patch_insn(insns, insn_idx, &res, String::new);
    }

    let cands = match cache.cands.get(&local_id) {
        Some(c) => c.clone(),
        None => {
            let c = find_candidates(local, local_id, target)?;
            cache.cands.insert(local_id, c.clone());
            c
        }
    };
    let mut budget = Budget(STEP_BUDGET);
    let mut kept: Vec<u32> = Vec::new();
    let mut chosen: Option<(RelRes, u32)> = None;
    for &cand in &cands {
        let Some(cand_spec) = spec_match(&local_spec, target, cand, &mut budget)? else {
            continue;
        };
        let res = calc_relo(relo.kind, &local_spec, Some(&cand_spec))?;
        if let Some((first, bit_off)) = &chosen {
            if cand_spec.bit_offset != *bit_off {
                return Err(core_err(format!(
                    "field offset ambiguity: {} != {} for {}",
                    cand_spec.bit_offset,
                    bit_off,
                    describe(&local_spec, &relo.access)
                )));
            }
            if res.poison != first.poison || res.new_val != first.new_val {
                return Err(core_err(format!(
                    "relocation decision ambiguity for {}",
                    describe(&local_spec, &relo.access)
                )));
            }
        } else {
            chosen = Some((res, cand_spec.bit_offset));
        }
        kept.push(cand);
    }
    if !kept.is_empty() {
        cache.cands.insert(local_id, kept);
    }
    let (res, found) = match chosen {
        Some((res, _)) => (res, true),
        None => (calc_relo(relo.kind, &local_spec, None)?, false),
    };
    let reason = || {
        let what = describe(&local_spec, &relo.access);
        if found {
            format!(
                "{} relocation for {what} cannot be satisfied",
                relo.kind.as_str()
            )
        } else if cands.is_empty() {
            format!(
                "{} relocation for {what}: no type named '{}' in target BTF",
                relo.kind.as_str(),
                essential_name(local.name_of(local_id))
            )
        } else {
            format!(
                "{} relocation for {what}: no matching field/enumerator in {} target candidate(s)",
                relo.kind.as_str(),
                cands.len()
            )
        }
    };
    patch_insn(insns, insn_idx, &res, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_names() {
        assert_eq!(essential_name("task_struct"), "task_struct");
        assert_eq!(essential_name("task_struct___x"), "task_struct");
        assert_eq!(essential_name("task_struct___2"), "task_struct");
        assert_eq!(essential_name("a___b___c"), "a___b");
        assert_eq!(essential_name("____x"), "____x");
        assert_eq!(essential_name("x____y"), "x____y");
        assert_eq!(essential_name("x___"), "x___");
        assert_eq!(essential_name("___x"), "___x");
        assert_eq!(essential_name(""), "");
        assert_eq!(essential_name("é___x"), "é");
    }
}
