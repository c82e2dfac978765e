//! BTF-defined maps: decoding the VARs of the `.maps` DATASEC the way
//! libbpf's `bpf_object__init_user_btf_map` / `parse_btf_map_def` do
//! (strict mode, libbpf's default: unknown fields are errors).

use super::BtfError;
use super::parse::Btf;
use super::types::{BtfMember, BtfType, BtfTypeKind, VarLinkage};

/// `BPF_MAP_TYPE_PROG_ARRAY`.
pub const BPF_MAP_TYPE_PROG_ARRAY: u32 = 3;
/// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
pub const BPF_MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
/// `BPF_MAP_TYPE_HASH_OF_MAPS`.
pub const BPF_MAP_TYPE_HASH_OF_MAPS: u32 = 13;
/// `LIBBPF_PIN_NONE`.
pub const LIBBPF_PIN_NONE: u32 = 0;
/// `LIBBPF_PIN_BY_NAME`.
pub const LIBBPF_PIN_BY_NAME: u32 = 1;

/// `parts` bit: `type` given.
pub const MAP_DEF_MAP_TYPE: u32 = 0x001;
/// `parts` bit: `key` type given.
pub const MAP_DEF_KEY_TYPE: u32 = 0x002;
/// `parts` bit: key size known.
pub const MAP_DEF_KEY_SIZE: u32 = 0x004;
/// `parts` bit: `value` type given.
pub const MAP_DEF_VALUE_TYPE: u32 = 0x008;
/// `parts` bit: value size known.
pub const MAP_DEF_VALUE_SIZE: u32 = 0x010;
/// `parts` bit: `max_entries` given.
pub const MAP_DEF_MAX_ENTRIES: u32 = 0x020;
/// `parts` bit: `map_flags` given.
pub const MAP_DEF_MAP_FLAGS: u32 = 0x040;
/// `parts` bit: `numa_node` given.
pub const MAP_DEF_NUMA_NODE: u32 = 0x080;
/// `parts` bit: `pinning` given.
pub const MAP_DEF_PINNING: u32 = 0x100;
/// `parts` bit: inner map definition present.
pub const MAP_DEF_INNER_MAP: u32 = 0x200;
/// `parts` bit: `map_extra` given.
pub const MAP_DEF_MAP_EXTRA: u32 = 0x400;

/// Size of one `values` slot (a pointer) in the map definition.
pub const MAP_VALUES_ELEM_SIZE: u32 = 8;

/// What the `values` array of a map definition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapValuesKind {
    /// Map-in-map: pointers to maps of the inner definition (`BtfMapDef::inner`).
    InnerMap,
    /// Prog array: pointers to programs.
    Progs,
}

/// One BTF-defined map (`struct btf_map_def` plus location information).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfMapDef {
    /// Map name (the VAR name; `<outer>.inner` for inner definitions).
    pub name: String,
    /// BTF id of the VAR (0 for inner definitions).
    pub var_id: u32,
    /// BTF id of the definition STRUCT.
    pub def_type_id: u32,
    /// Byte offset of the variable in the maps section (the outer one for inner definitions).
    pub sec_offset: u32,
    /// Byte size of the variable (from the DATASEC).
    pub sec_size: u32,
    /// Byte size of the definition STRUCT.
    pub struct_size: u32,
    /// Which fields were specified (`MAP_DEF_*` bits).
    pub parts: u32,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// `numa_node`.
    pub numa_node: u32,
    /// `map_extra`.
    pub map_extra: u64,
    /// `pinning` (`LIBBPF_PIN_*`).
    pub pinning: u32,
    /// BTF id of the key type (None if only `key_size` was given).
    pub key_type_id: Option<u32>,
    /// BTF id of the value type (None if only `value_size` was given).
    pub value_type_id: Option<u32>,
    /// Byte offset of the `values` member inside the definition struct; slot
    /// i of `.rel.maps` is at `sec_offset + values_offset + i * values_elem_size`.
    pub values_offset: Option<u32>,
    /// Size of one `values` slot (8, a pointer) when `values` is present.
    pub values_elem_size: u32,
    /// What `values` holds (map-in-map or prog array), when present.
    pub values_kind: Option<MapValuesKind>,
    /// Inner map definition of a map-in-map (named `<outer>.inner`).
    pub inner: Option<Box<BtfMapDef>>,
}

fn err(map: &str, msg: impl std::fmt::Display) -> BtfError {
    BtfError::MapDef(format!("map '{map}': {msg}"))
}

fn kind_str(t: Option<&BtfType>) -> &'static str {
    t.map_or("<invalid>", |t| t.kind().as_str())
}

/// `get_map_field_int`: decodes `int (*name)[N]` into N.
fn field_int(btf: &Btf, map: &str, m: &BtfMember) -> Result<u32, BtfError> {
    let name = btf.str_at(m.name_off).unwrap_or("");
    let t = btf.skip_mods_checked(m.type_id).map(|(_, t)| t);
    let Some(BtfType {
        kind: BtfTypeKind::Ptr { target },
        ..
    }) = t
    else {
        return Err(err(
            map,
            format!("attr '{name}': expected PTR, got {}", kind_str(t)),
        ));
    };
    match btf.type_by_id(*target) {
        Some(BtfType {
            kind: BtfTypeKind::Array { nelems, .. },
            ..
        }) => Ok(*nelems),
        other => Err(err(
            map,
            format!("attr '{name}': expected ARRAY, got {}", kind_str(other)),
        )),
    }
}

/// `get_map_field_long`: `__uint` or `__ulong` (single-enumerator enum).
fn field_long(btf: &Btf, map: &str, m: &BtfMember) -> Result<u64, BtfError> {
    let name = btf.str_at(m.name_off).unwrap_or("");
    let t = btf.skip_mods_checked(m.type_id).map(|(_, t)| t);
    match t {
        Some(BtfType {
            kind: BtfTypeKind::Ptr { .. },
            ..
        }) => field_int(btf, map, m).map(u64::from),
        Some(t) if t.is_any_enum() => {
            let vals = t.enum_values();
            if vals.len() != 1 {
                return Err(err(map, format!("attr '{name}': invalid __ulong")));
            }
            Ok(vals[0].value)
        }
        other => Err(err(
            map,
            format!(
                "attr '{name}': expected ENUM or ENUM64, got {}",
                kind_str(other)
            ),
        )),
    }
}

/// `key`/`value`: pointer to the type; returns (size, type id).
fn field_type(btf: &Btf, map: &str, m: &BtfMember, what: &str) -> Result<(u32, u32), BtfError> {
    let t = btf.type_by_id(m.type_id);
    let Some(BtfType {
        kind: BtfTypeKind::Ptr { target },
        ..
    }) = t
    else {
        return Err(err(map, format!("{what} spec is not PTR: {}", kind_str(t))));
    };
    let sz = btf.resolve_size(*target).map_err(|e| {
        err(
            map,
            format!("can't determine {what} size for type [{target}]: {e}"),
        )
    })?;
    let sz = u32::try_from(sz).map_err(|_| err(map, format!("{what} size too large")))?;
    Ok((sz, *target))
}

/// `parse_btf_map_def` for definition struct `def_id`; `is_inner` for the
/// inner definition of a map-in-map.
fn parse_def(btf: &Btf, map: &str, def_id: u32, is_inner: bool) -> Result<BtfMapDef, BtfError> {
    let (struct_size, members) = match btf.type_by_id(def_id) {
        Some(BtfType {
            kind: BtfTypeKind::Struct { size, members },
            ..
        }) => (*size, members),
        other => return Err(err(map, format!("unexpected def kind {}", kind_str(other)))),
    };
    let mut d = BtfMapDef {
        name: map.to_string(),
        def_type_id: def_id,
        struct_size,
        ..BtfMapDef::default()
    };
    let vlen = members.len();
    for (i, m) in members.iter().enumerate() {
        let name = btf
            .str_at(m.name_off)
            .ok_or_else(|| err(map, format!("invalid field #{i}")))?;
        match name {
            "type" => {
                d.map_type = field_int(btf, map, m)?;
                d.parts |= MAP_DEF_MAP_TYPE;
            }
            "max_entries" => {
                d.max_entries = field_int(btf, map, m)?;
                d.parts |= MAP_DEF_MAX_ENTRIES;
            }
            "map_flags" => {
                d.map_flags = field_int(btf, map, m)?;
                d.parts |= MAP_DEF_MAP_FLAGS;
            }
            "numa_node" => {
                d.numa_node = field_int(btf, map, m)?;
                d.parts |= MAP_DEF_NUMA_NODE;
            }
            "key_size" | "value_size" => {
                let sz = field_int(btf, map, m)?;
                let (cur, bit) = if name == "key_size" {
                    (&mut d.key_size, MAP_DEF_KEY_SIZE)
                } else {
                    (&mut d.value_size, MAP_DEF_VALUE_SIZE)
                };
                if *cur != 0 && *cur != sz {
                    return Err(err(map, format!("conflicting {name} {} != {sz}", *cur)));
                }
                *cur = sz;
                d.parts |= bit;
            }
            "key" | "value" => {
                let (sz, tid) = field_type(btf, map, m, name)?;
                let (cur, cur_tid, bits) = if name == "key" {
                    (
                        &mut d.key_size,
                        &mut d.key_type_id,
                        MAP_DEF_KEY_SIZE | MAP_DEF_KEY_TYPE,
                    )
                } else {
                    (
                        &mut d.value_size,
                        &mut d.value_type_id,
                        MAP_DEF_VALUE_SIZE | MAP_DEF_VALUE_TYPE,
                    )
                };
                if *cur != 0 && *cur != sz {
                    return Err(err(
                        map,
                        format!("conflicting {name} size {} != {sz}", *cur),
                    ));
                }
                *cur = sz;
                *cur_tid = Some(tid);
                d.parts |= bits;
            }
            "values" => {
                let is_map_in_map = matches!(
                    d.map_type,
                    BPF_MAP_TYPE_ARRAY_OF_MAPS | BPF_MAP_TYPE_HASH_OF_MAPS
                );
                let is_prog_array = d.map_type == BPF_MAP_TYPE_PROG_ARRAY;
                let desc = if is_map_in_map {
                    "map-in-map inner"
                } else {
                    "prog-array value"
                };
                if is_inner {
                    return Err(err(map, "multi-level inner maps not supported"));
                }
                if i != vlen - 1 {
                    return Err(err(map, "'values' member should be last"));
                }
                if !is_map_in_map && !is_prog_array {
                    return Err(err(map, "should be map-in-map or prog-array"));
                }
                if d.value_size != 0 && d.value_size != 4 {
                    return Err(err(
                        map,
                        format!("conflicting value size {} != 4", d.value_size),
                    ));
                }
                d.value_size = 4;
                let elem = match btf.type_by_id(m.type_id) {
                    Some(BtfType {
                        kind:
                            BtfTypeKind::Array {
                                elem, nelems: 0, ..
                            },
                        ..
                    }) => *elem,
                    _ => return Err(err(map, format!("{desc} spec is not a zero-sized array"))),
                };
                let pt = btf.skip_mods_checked(elem).map(|(_, t)| t);
                let Some(BtfType {
                    kind: BtfTypeKind::Ptr { target },
                    ..
                }) = pt
                else {
                    return Err(err(
                        map,
                        format!("{desc} def is of unexpected kind {}", kind_str(pt)),
                    ));
                };
                let inner = btf.skip_mods_checked(*target);
                let kind = if is_prog_array {
                    match inner {
                        Some((_, t)) if matches!(t.kind, BtfTypeKind::FuncProto { .. }) => {}
                        other => {
                            return Err(err(
                                map,
                                format!(
                                    "prog-array value def is of unexpected kind {}",
                                    kind_str(other.map(|(_, t)| t))
                                ),
                            ));
                        }
                    }
                    MapValuesKind::Progs
                } else {
                    let inner_id = match inner {
                        Some((id, t)) if matches!(t.kind, BtfTypeKind::Struct { .. }) => id,
                        other => {
                            return Err(err(
                                map,
                                format!(
                                    "map-in-map inner def is of unexpected kind {}",
                                    kind_str(other.map(|(_, t)| t))
                                ),
                            ));
                        }
                    };
                    let inner_name = format!("{map}.inner");
                    let inner_def = parse_def(btf, &inner_name, inner_id, true)?;
                    d.parts |= MAP_DEF_INNER_MAP;
                    d.inner = Some(Box::new(inner_def));
                    MapValuesKind::InnerMap
                };
                d.values_offset = Some(m.bit_offset / 8);
                d.values_elem_size = MAP_VALUES_ELEM_SIZE;
                d.values_kind = Some(kind);
            }
            "pinning" => {
                if is_inner {
                    return Err(err(map, "inner def can't be pinned"));
                }
                let v = field_int(btf, map, m)?;
                if v != LIBBPF_PIN_NONE && v != LIBBPF_PIN_BY_NAME {
                    return Err(err(map, format!("invalid pinning value {v}")));
                }
                d.pinning = v;
                d.parts |= MAP_DEF_PINNING;
            }
            "map_extra" => {
                d.map_extra = field_long(btf, map, m)?;
                d.parts |= MAP_DEF_MAP_EXTRA;
            }
            other => return Err(err(map, format!("unknown field '{other}'"))),
        }
    }
    if d.map_type == 0 {
        return Err(err(map, "map type isn't specified"));
    }
    Ok(d)
}

/// Decodes every map definition of the DATASEC `maps_sec_name` (normally
/// `.maps`), following libbpf's strict `parse_btf_map_def`.
///
/// Errors if the DATASEC is missing (libbpf fails when the ELF has a maps
/// section without BTF for it). The caller should also check
/// `sec_offset + sec_size` against the ELF section size.
pub fn parse_btf_map_defs(btf: &Btf, maps_sec_name: &str) -> Result<Vec<BtfMapDef>, BtfError> {
    let sec = btf
        .iter_types()
        .find(|(_, t)| {
            matches!(t.kind, BtfTypeKind::Datasec { .. })
                && btf.str_at(t.name_off) == Some(maps_sec_name)
        })
        .map(|(_, t)| t)
        .ok_or_else(|| BtfError::MapDef(format!("DATASEC '{maps_sec_name}' not found")))?;
    let BtfTypeKind::Datasec { vars, .. } = &sec.kind else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(vars.len());
    for (i, vi) in vars.iter().enumerate() {
        let var = btf
            .type_by_id(vi.type_id)
            .ok_or(BtfError::BadTypeId(vi.type_id))?;
        let name = btf.str_at(var.name_off).unwrap_or("");
        if name.is_empty() {
            return Err(BtfError::MapDef(format!("map #{i}: empty name")));
        }
        let BtfTypeKind::Var { target, linkage } = var.kind else {
            return Err(err(
                name,
                format!("unexpected var kind {}", var.kind().as_str()),
            ));
        };
        if linkage != VarLinkage::GlobalAllocated {
            return Err(err(name, format!("unsupported map linkage {linkage:?}")));
        }
        let def = btf.skip_mods_checked(target);
        let (def_id, def_t) = match def {
            Some((id, t)) if matches!(t.kind, BtfTypeKind::Struct { .. }) => (id, t),
            other => {
                return Err(err(
                    name,
                    format!("unexpected def kind {}", kind_str(other.map(|(_, t)| t))),
                ));
            }
        };
        if def_t.size().unwrap_or(0) > vi.size {
            return Err(err(name, "invalid def size"));
        }
        let mut d = parse_def(btf, name, def_id, false)?;
        d.var_id = vi.type_id;
        d.sec_offset = vi.offset;
        d.sec_size = vi.size;
        if let Some(inner) = &mut d.inner {
            inner.sec_offset = vi.offset;
            inner.sec_size = vi.size;
        }
        out.push(d);
    }
    Ok(out)
}
