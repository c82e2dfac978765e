//! Parsing of raw BTF blobs (`.BTF` sections, vmlinux BTF) and type queries.

use super::BtfError;
use super::types::*;

/// `BTF_MAGIC`.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// `BTF_VERSION`.
pub const BTF_VERSION: u8 = 1;
/// libbpf's `MAX_RESOLVE_DEPTH`: bound for following type chains.
pub const MAX_RESOLVE_DEPTH: usize = 32;
/// `BTF_MAX_TYPE`: the largest valid type id.
const BTF_MAX_TYPE: usize = 0x000f_ffff;
/// `BTF_MAX_STR_OFFSET`.
const BTF_MAX_STR_OFFSET: u32 = 0x7fff_ffff;
/// `sizeof(struct btf_header)`.
const BTF_HEADER_LEN: u32 = 24;
/// Pointer size of the BPF target.
const PTR_SIZE: u64 = 8;

/// Little-endian cursor over a byte slice with checked reads.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Reads a little-endian u32.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let b = self.data.get(self.pos..self.pos.checked_add(4)?)?;
        self.pos += 4;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Reads a little-endian u16 at `off`.
pub(crate) fn le_u16(data: &[u8], off: usize) -> Option<u16> {
    let b = data.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// Reads a little-endian u32 at `off`.
pub(crate) fn le_u32(data: &[u8], off: usize) -> Option<u32> {
    let b = data.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A parsed BTF blob: types indexed by id (0 = void) and the string table.
#[derive(Clone, Debug)]
pub struct Btf {
    types: Vec<BtfType>,
    strings: Vec<u8>,
}

fn malformed(msg: impl Into<String>) -> BtfError {
    BtfError::Malformed(msg.into())
}

impl Btf {
    /// Parses a raw little-endian BTF blob (header, type section, string section).
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
        let magic = le_u16(data, 0).ok_or_else(|| malformed("truncated header"))?;
        if magic != BTF_MAGIC {
            if magic == BTF_MAGIC.swap_bytes() {
                return Err(malformed("big-endian BTF is not supported"));
            }
            return Err(malformed(format!("bad magic {magic:#06x}")));
        }
        let version = *data.get(2).ok_or_else(|| malformed("truncated header"))?;
        if version != BTF_VERSION {
            return Err(malformed(format!("unsupported version {version}")));
        }
        let hdr = |i: usize| le_u32(data, 4 + 4 * i).ok_or_else(|| malformed("truncated header"));
        let hdr_len = hdr(0)?;
        let type_off = hdr(1)?;
        let type_len = hdr(2)?;
        let str_off = hdr(3)?;
        let str_len = hdr(4)?;
        if hdr_len < BTF_HEADER_LEN {
            return Err(malformed(format!("header length {hdr_len} too small")));
        }
        if hdr_len as usize > data.len() {
            return Err(malformed("header length beyond end of data"));
        }
        let meta = &data[hdr_len as usize..];
        if u64::from(str_off) + u64::from(str_len) > meta.len() as u64 {
            return Err(malformed("string section beyond end of data"));
        }
        if u64::from(type_off) + u64::from(type_len) > u64::from(str_off) {
            return Err(malformed("type section overlaps string section"));
        }
        if !type_off.is_multiple_of(4) {
            return Err(malformed("type section is not 4-byte aligned"));
        }
        let strings = &meta[str_off as usize..str_off as usize + str_len as usize];
        if strings.is_empty()
            || str_len > BTF_MAX_STR_OFFSET
            || strings[0] != 0
            || strings[strings.len() - 1] != 0
        {
            return Err(malformed("invalid string section"));
        }
        let type_data = &meta[type_off as usize..type_off as usize + type_len as usize];
        let mut btf = Btf {
            types: vec![BtfType::VOID],
            strings: strings.to_vec(),
        };
        let mut r = Reader::new(type_data);
        while r.remaining() > 0 {
            if btf.types.len() > BTF_MAX_TYPE {
                return Err(malformed("too many types"));
            }
            let id = btf.types.len() as u32;
            let t =
                parse_one(&mut r).ok_or_else(|| malformed(format!("type [{id}] truncated")))??;
            btf.types.push(t);
        }
        btf.validate()?;
        Ok(btf)
    }

    /// Checks that every string offset and referenced type id is in range.
    fn validate(&self) -> Result<(), BtfError> {
        let n = self.types.len() as u32;
        let str_ok = |off: u32| (off as usize) < self.strings.len();
        for (id, t) in self.types.iter().enumerate().skip(1) {
            let bad_str = || malformed(format!("type [{id}]: invalid string offset"));
            let check_id = |tid: u32| {
                if tid < n {
                    Ok(())
                } else {
                    Err(malformed(format!(
                        "type [{id}] references invalid type id {tid}"
                    )))
                }
            };
            if !str_ok(t.name_off) {
                return Err(bad_str());
            }
            match &t.kind {
                BtfTypeKind::Array { elem, index, .. } => {
                    check_id(*elem)?;
                    check_id(*index)?;
                }
                BtfTypeKind::Struct { members, .. } | BtfTypeKind::Union { members, .. } => {
                    for m in members {
                        if !str_ok(m.name_off) {
                            return Err(bad_str());
                        }
                        check_id(m.type_id)?;
                    }
                }
                BtfTypeKind::Enum { values, .. } | BtfTypeKind::Enum64 { values, .. } => {
                    for v in values {
                        if !str_ok(v.name_off) {
                            return Err(bad_str());
                        }
                    }
                }
                BtfTypeKind::FuncProto { ret, params } => {
                    check_id(*ret)?;
                    for p in params {
                        if !str_ok(p.name_off) {
                            return Err(bad_str());
                        }
                        check_id(p.type_id)?;
                    }
                }
                BtfTypeKind::Datasec { vars, .. } => {
                    for v in vars {
                        check_id(v.type_id)?;
                    }
                }
                _ => {
                    if let Some(tid) = t.ref_type() {
                        check_id(tid)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Number of type ids, including id 0 (`void`); valid ids are `0..types_len()`.
    pub fn types_len(&self) -> usize {
        self.types.len()
    }

    /// The type with the given id (id 0 is `void`).
    pub fn type_by_id(&self, id: u32) -> Option<&BtfType> {
        self.types.get(id as usize)
    }

    /// Iterates over `(id, type)` for all types except void.
    pub fn iter_types(&self) -> impl Iterator<Item = (u32, &BtfType)> {
        self.types
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, t)| (i as u32, t))
    }

    /// The NUL-terminated string at `off` in the string table (None if out
    /// of range or not UTF-8).
    pub fn str_at(&self, off: u32) -> Option<&str> {
        std::str::from_utf8(self.str_bytes_at(off)?).ok()
    }

    /// The raw bytes of the NUL-terminated string at `off`.
    pub fn str_bytes_at(&self, off: u32) -> Option<&[u8]> {
        let rest = self.strings.get(off as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }

    /// Name of type `id` ("" if anonymous, unknown or not UTF-8).
    pub fn name_of(&self, id: u32) -> &str {
        self.type_by_id(id)
            .and_then(|t| self.str_at(t.name_off))
            .unwrap_or("")
    }

    /// Skips CONST/VOLATILE/RESTRICT/TYPE_TAG and TYPEDEF starting at `id`;
    /// stops after `MAX_RESOLVE_DEPTH` steps (returning the id reached) on cycles.
    pub fn skip_mods_and_typedefs(&self, id: u32) -> u32 {
        let mut id = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            match self.type_by_id(id) {
                Some(t) if t.is_mod() || t.kind() == BtfKind::Typedef => {
                    id = t.ref_type().unwrap_or(0);
                }
                _ => return id,
            }
        }
        id
    }

    /// Like `skip_mods_and_typedefs` but fails (None) on bad ids or over-long chains.
    pub(crate) fn skip_mods_checked(&self, id: u32) -> Option<(u32, &BtfType)> {
        let mut id = id;
        for _ in 0..=MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(id)?;
            if t.is_mod() || t.kind() == BtfKind::Typedef {
                id = t.ref_type()?;
            } else {
                return Some((id, t));
            }
        }
        None
    }

    /// Byte size of type `id`, following libbpf's `btf__resolve_size`.
    pub fn resolve_size(&self, id: u32) -> Result<u64, BtfError> {
        let mut id = id;
        let mut nelems: u64 = 1;
        let mut size: Option<u64> = None;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.type_by_id(id).ok_or(BtfError::BadTypeId(id))?;
            match &t.kind {
                BtfTypeKind::Void => break,
                BtfTypeKind::Ptr { .. } => {
                    size = Some(PTR_SIZE);
                    break;
                }
                BtfTypeKind::Array {
                    elem, nelems: n, ..
                } => {
                    if nelems != 0 && u64::from(*n) > u64::from(u32::MAX) / nelems {
                        return Err(BtfError::Resolve(id, "array size overflow"));
                    }
                    nelems *= u64::from(*n);
                    id = *elem;
                }
                BtfTypeKind::Typedef { target }
                | BtfTypeKind::Volatile { target }
                | BtfTypeKind::Const { target }
                | BtfTypeKind::Restrict { target }
                | BtfTypeKind::Var { target, .. }
                | BtfTypeKind::DeclTag { target, .. }
                | BtfTypeKind::TypeTag { target } => id = *target,
                _ => match t.size() {
                    Some(s) => {
                        size = Some(u64::from(s));
                        break;
                    }
                    None => return Err(BtfError::Resolve(id, "type has no size")),
                },
            }
        }
        let size = size.ok_or(BtfError::Resolve(id, "unsized or too deep type chain"))?;
        if nelems != 0 && size > u64::from(u32::MAX) / nelems {
            return Err(BtfError::Resolve(id, "size overflow"));
        }
        Ok(nelems * size)
    }

    /// First type id (lowest) with exactly this name and kind.
    pub fn find_by_name_kind(&self, name: &str, kind: BtfKind) -> Option<u32> {
        self.iter_types()
            .find(|(_, t)| t.kind() == kind && self.str_at(t.name_off) == Some(name))
            .map(|(id, _)| id)
    }

    /// Variables of the DATASEC named `sec_name` (empty if there is none).
    pub fn datasec_vars(&self, sec_name: &str) -> Vec<DatasecVar> {
        let Some(sec) = self.find_by_name_kind(sec_name, BtfKind::Datasec) else {
            return Vec::new();
        };
        let Some(BtfType {
            kind: BtfTypeKind::Datasec { vars, .. },
            ..
        }) = self.type_by_id(sec)
        else {
            return Vec::new();
        };
        vars.iter()
            .map(|v| {
                let type_id = self
                    .type_by_id(v.type_id)
                    .and_then(|t| t.ref_type())
                    .unwrap_or(0);
                DatasecVar {
                    name: self.name_of(v.type_id).to_string(),
                    offset: v.offset,
                    size: v.size,
                    var_id: v.type_id,
                    type_id,
                }
            })
            .collect()
    }

    /// Return type and parameters of the FUNC_PROTO of FUNC `func_id`.
    pub fn func_proto_of(&self, func_id: u32) -> Option<(u32, &[BtfParam])> {
        let proto = match self.type_by_id(func_id)?.kind {
            BtfTypeKind::Func { proto, .. } => proto,
            _ => return None,
        };
        match &self.type_by_id(proto)?.kind {
            BtfTypeKind::FuncProto { ret, params } => Some((*ret, params.as_slice())),
            _ => None,
        }
    }

    /// libbpf's `btf_fixup_datasec` for every DATASEC: clang leaves DATASEC
    /// sizes and VAR offsets zero in `.o` files, so a zero-sized DATASEC
    /// gets its size from `elf_sec_size(name)` and each global VAR its offset
    /// from `var_sym(name)` (the ELF symbol); hidden symbols make the VAR
    /// static; vars are then sorted by offset. `.kconfig`/`.ksyms` are only sorted.
    pub fn fixup_datasecs(
        &mut self,
        elf_sec_size: impl Fn(&str) -> Option<u64>,
        var_sym: impl Fn(&str) -> Option<VarSymbol>,
    ) -> Result<(), BtfError> {
        for sec_id in 1..self.types.len() {
            let (name, size, vars) = match &self.types[sec_id] {
                BtfType {
                    name_off,
                    kind: BtfTypeKind::Datasec { size, vars },
                    ..
                } => (
                    self.str_at(*name_off).unwrap_or("").to_string(),
                    *size,
                    vars.clone(),
                ),
                _ => continue,
            };
            let mut vars = vars;
            let mut new_size = size;
            if name != ".kconfig" && name != ".ksyms" {
                let fix_offsets = size == 0;
                if fix_offsets {
                    new_size = elf_sec_size(&name)
                        .filter(|s| *s > 0)
                        .and_then(|s| u32::try_from(s).ok())
                        .ok_or_else(|| {
                            malformed(format!("DATASEC '{name}': no size from the ELF section"))
                        })?;
                }
                for v in &mut vars {
                    let var_id = v.type_id as usize;
                    let (var_name, linkage) = match self.types.get(var_id) {
                        Some(BtfType {
                            name_off,
                            kind: BtfTypeKind::Var { linkage, .. },
                            ..
                        }) => (self.str_at(*name_off).unwrap_or("").to_string(), *linkage),
                        _ => {
                            return Err(malformed(format!(
                                "DATASEC '{name}': non-VAR type [{var_id}]"
                            )));
                        }
                    };
                    if matches!(linkage, VarLinkage::Static | VarLinkage::GlobalExtern) {
                        continue;
                    }
                    let sym = var_sym(&var_name).ok_or_else(|| {
                        malformed(format!(
                            "DATASEC '{name}': no ELF symbol for VAR '{var_name}'"
                        ))
                    })?;
                    if fix_offsets {
                        v.offset = u32::try_from(sym.offset).map_err(|_| {
                            malformed(format!("VAR '{var_name}': offset too large"))
                        })?;
                    }
                    if sym.hidden
                        && let Some(BtfType {
                            kind: BtfTypeKind::Var { linkage, .. },
                            ..
                        }) = self.types.get_mut(var_id)
                    {
                        *linkage = VarLinkage::Static;
                    }
                }
            }
            vars.sort_by_key(|v| v.offset);
            if let BtfTypeKind::Datasec { size, vars: slot } = &mut self.types[sec_id].kind {
                *size = new_size;
                *slot = vars;
            }
        }
        Ok(())
    }

    /// A C-like spelling of type `id` for diagnostics (e.g. `struct task_struct *`).
    pub fn type_to_string(&self, id: u32) -> String {
        let mut budget = 256usize;
        self.type_str(id, MAX_RESOLVE_DEPTH, &mut budget)
            .trim_end()
            .to_string()
    }

    /// `type_to_string` with a depth bound and a node budget (so adversarial
    /// BTF with wide, deep FUNC_PROTOs stays cheap).
    fn type_str(&self, id: u32, depth: usize, budget: &mut usize) -> String {
        if depth == 0 || *budget == 0 {
            return "...".to_string();
        }
        *budget -= 1;
        let Some(t) = self.type_by_id(id) else {
            return format!("<bad type {id}>");
        };
        let name = self.str_at(t.name_off).unwrap_or("");
        let named = |prefix: &str| {
            if name.is_empty() {
                format!("{prefix} {{...}}")
            } else {
                format!("{prefix} {name}")
            }
        };
        match &t.kind {
            BtfTypeKind::Void => "void".to_string(),
            BtfTypeKind::Int { .. } | BtfTypeKind::Float { .. } | BtfTypeKind::Typedef { .. } => {
                name.to_string()
            }
            BtfTypeKind::Ptr { target } => {
                if let Some(BtfType {
                    kind: BtfTypeKind::FuncProto { .. },
                    ..
                }) = self.type_by_id(*target)
                {
                    let (ret, params) = self.proto_strs(*target, depth - 1, budget);
                    return format!("{ret} (*)({params})");
                }
                let s = self.type_str(*target, depth - 1, budget);
                if s.ends_with('*') {
                    format!("{s}*")
                } else {
                    format!("{s} *")
                }
            }
            BtfTypeKind::Array { elem, nelems, .. } => {
                format!("{}[{nelems}]", self.type_str(*elem, depth - 1, budget))
            }
            BtfTypeKind::Struct { .. } => named("struct"),
            BtfTypeKind::Union { .. } => named("union"),
            BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. } => named("enum"),
            BtfTypeKind::Fwd { is_union } => named(if *is_union { "union" } else { "struct" }),
            BtfTypeKind::Volatile { target } => {
                format!("volatile {}", self.type_str(*target, depth - 1, budget))
            }
            BtfTypeKind::Const { target } => {
                format!("const {}", self.type_str(*target, depth - 1, budget))
            }
            BtfTypeKind::Restrict { target } => {
                format!("{} restrict", self.type_str(*target, depth - 1, budget))
            }
            BtfTypeKind::TypeTag { target } => format!(
                "{} __attribute__((btf_type_tag(\"{name}\")))",
                self.type_str(*target, depth - 1, budget)
            ),
            BtfTypeKind::Func { proto, .. } => {
                let (ret, params) = self.proto_strs(*proto, depth - 1, budget);
                format!("{ret} {name}({params})")
            }
            BtfTypeKind::FuncProto { .. } => {
                let (ret, params) = self.proto_strs(id, depth, budget);
                format!("{ret} ({params})")
            }
            BtfTypeKind::Var { target, .. } => {
                format!("{} {name}", self.type_str(*target, depth - 1, budget))
            }
            BtfTypeKind::Datasec { .. } => format!("SEC(\"{name}\")"),
            BtfTypeKind::DeclTag { target, .. } => self.type_str(*target, depth - 1, budget),
        }
    }

    /// Return type and parameter list of FUNC_PROTO `proto`, as strings.
    fn proto_strs(&self, proto: u32, depth: usize, budget: &mut usize) -> (String, String) {
        let Some(BtfType {
            kind: BtfTypeKind::FuncProto { ret, params },
            ..
        }) = self.type_by_id(proto)
        else {
            return ("?".to_string(), "?".to_string());
        };
        if depth == 0 {
            return ("...".to_string(), "...".to_string());
        }
        let ret_s = self.type_str(*ret, depth - 1, budget);
        let mut ps = Vec::with_capacity(params.len().min(16));
        for p in params {
            if *budget == 0 {
                ps.push("...".to_string());
                break;
            }
            ps.push(if p.type_id == 0 {
                "...".to_string()
            } else {
                self.type_str(p.type_id, depth - 1, budget)
            });
        }
        let params_s = if ps.is_empty() {
            "void".to_string()
        } else {
            ps.join(", ")
        };
        (ret_s.trim_end().to_string(), params_s)
    }
}

/// The ELF symbol backing a DATASEC variable, for `Btf::fixup_datasecs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarSymbol {
    /// Symbol value (offset in its section).
    pub offset: u64,
    /// Visibility is STV_HIDDEN or STV_INTERNAL.
    pub hidden: bool,
}

/// One variable of a DATASEC, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasecVar {
    /// Variable name.
    pub name: String,
    /// Byte offset in the section.
    pub offset: u32,
    /// Byte size.
    pub size: u32,
    /// Type id of the VAR (or FUNC) entry itself.
    pub var_id: u32,
    /// Type id of the variable's type (the VAR's target; 0 if not a VAR).
    pub type_id: u32,
}

/// Parses one `struct btf_type` plus its trailing data; outer None = truncated.
fn parse_one(r: &mut Reader<'_>) -> Option<Result<BtfType, BtfError>> {
    let name_off = r.u32()?;
    let info = r.u32()?;
    let size_or_type = r.u32()?;
    let vlen = (info & 0xffff) as usize;
    let kind_flag = info >> 31 != 0;
    let raw_kind = (info >> 24) & 0x1f;
    let Some(kind) = BtfKind::from_raw(raw_kind) else {
        return Some(Err(malformed(format!("unsupported BTF kind {raw_kind}"))));
    };
    let body = match kind {
        BtfKind::Void => return Some(Err(malformed("BTF_KIND_UNKN in type section"))),
        BtfKind::Int => {
            let enc = r.u32()?;
            BtfTypeKind::Int {
                size: size_or_type,
                encoding: ((enc >> 24) & 0x0f) as u8,
                offset: ((enc >> 16) & 0xff) as u8,
                bits: (enc & 0xff) as u8,
            }
        }
        BtfKind::Ptr => BtfTypeKind::Ptr {
            target: size_or_type,
        },
        BtfKind::Array => BtfTypeKind::Array {
            elem: r.u32()?,
            index: r.u32()?,
            nelems: r.u32()?,
        },
        BtfKind::Struct | BtfKind::Union => {
            let mut members = Vec::with_capacity(vlen.min(r.remaining() / 12));
            for _ in 0..vlen {
                let name_off = r.u32()?;
                let type_id = r.u32()?;
                let off = r.u32()?;
                let (bit_offset, bitfield_size) = if kind_flag {
                    (off & 0x00ff_ffff, (off >> 24) as u8)
                } else {
                    (off, 0)
                };
                members.push(BtfMember {
                    name_off,
                    type_id,
                    bit_offset,
                    bitfield_size,
                });
            }
            if kind == BtfKind::Struct {
                BtfTypeKind::Struct {
                    size: size_or_type,
                    members,
                }
            } else {
                BtfTypeKind::Union {
                    size: size_or_type,
                    members,
                }
            }
        }
        BtfKind::Enum => {
            let mut values = Vec::with_capacity(vlen.min(r.remaining() / 8));
            for _ in 0..vlen {
                let name_off = r.u32()?;
                let v = r.u32()?;
                values.push(BtfEnumValue {
                    name_off,
                    value: v as i32 as i64 as u64,
                });
            }
            BtfTypeKind::Enum {
                size: size_or_type,
                signed: kind_flag,
                values,
            }
        }
        BtfKind::Enum64 => {
            let mut values = Vec::with_capacity(vlen.min(r.remaining() / 12));
            for _ in 0..vlen {
                let name_off = r.u32()?;
                let lo = r.u32()?;
                let hi = r.u32()?;
                values.push(BtfEnumValue {
                    name_off,
                    value: (u64::from(hi) << 32) | u64::from(lo),
                });
            }
            BtfTypeKind::Enum64 {
                size: size_or_type,
                signed: kind_flag,
                values,
            }
        }
        BtfKind::Fwd => BtfTypeKind::Fwd {
            is_union: kind_flag,
        },
        BtfKind::Typedef => BtfTypeKind::Typedef {
            target: size_or_type,
        },
        BtfKind::Volatile => BtfTypeKind::Volatile {
            target: size_or_type,
        },
        BtfKind::Const => BtfTypeKind::Const {
            target: size_or_type,
        },
        BtfKind::Restrict => BtfTypeKind::Restrict {
            target: size_or_type,
        },
        BtfKind::Func => BtfTypeKind::Func {
            proto: size_or_type,
            linkage: match vlen {
                0 => FuncLinkage::Static,
                1 => FuncLinkage::Global,
                2 => FuncLinkage::Extern,
                v => FuncLinkage::Other(v as u16),
            },
        },
        BtfKind::FuncProto => {
            let mut params = Vec::with_capacity(vlen.min(r.remaining() / 8));
            for _ in 0..vlen {
                params.push(BtfParam {
                    name_off: r.u32()?,
                    type_id: r.u32()?,
                });
            }
            BtfTypeKind::FuncProto {
                ret: size_or_type,
                params,
            }
        }
        BtfKind::Var => BtfTypeKind::Var {
            target: size_or_type,
            linkage: match r.u32()? {
                0 => VarLinkage::Static,
                1 => VarLinkage::GlobalAllocated,
                2 => VarLinkage::GlobalExtern,
                v => VarLinkage::Other(v),
            },
        },
        BtfKind::Datasec => {
            let mut vars = Vec::with_capacity(vlen.min(r.remaining() / 12));
            for _ in 0..vlen {
                vars.push(BtfVarSecInfo {
                    type_id: r.u32()?,
                    offset: r.u32()?,
                    size: r.u32()?,
                });
            }
            BtfTypeKind::Datasec {
                size: size_or_type,
                vars,
            }
        }
        BtfKind::Float => BtfTypeKind::Float { size: size_or_type },
        BtfKind::DeclTag => BtfTypeKind::DeclTag {
            target: size_or_type,
            component_idx: r.u32()? as i32,
        },
        BtfKind::TypeTag => BtfTypeKind::TypeTag {
            target: size_or_type,
        },
    };
    Some(Ok(BtfType {
        name_off,
        kind_flag,
        kind: body,
    }))
}
