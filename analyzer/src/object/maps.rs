//! Map definitions: BTF-defined (`.maps`), legacy (`maps` section,
//! `struct bpf_map_def` of any size older loaders used) and global data
//! maps (`.data`, `.rodata`, `.bss`, their `.*` variants, `.kconfig`),
//! as libbpf's `bpf_object__init_maps` builds them.

use super::LoadError;
use super::elf::{Elf, ElfSection, SymKind};
use crate::bail;
use serde::Serialize;

/// Where a map definition came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapOrigin {
    /// A variable in the BTF-described `.maps` section.
    Btf,
    /// A `struct bpf_map_def`-like record in the legacy `maps` section.
    Legacy,
    /// A global data section turned into a one-element array.
    Data,
    /// The `.kconfig` externs map.
    Kconfig,
}

/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_F_RDONLY_PROG`.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// One map of an object.
#[derive(Clone, Debug, Serialize)]
pub struct MapDef {
    /// The name libbpf gives it (symbol name, or the section name for data maps).
    pub name: String,
    /// `enum bpf_map_type` value.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// NUMA node (0 when unset).
    pub numa_node: u32,
    /// Pinning mode (0 none, 1 by name).
    pub pinning: u32,
    /// `map_extra` (bloom filter hashes, arena address).
    pub map_extra: u64,
    /// Definition of the inner map for map-in-map types.
    pub inner: Option<Box<MapDef>>,
    /// BTF type id of the key (BTF-defined maps with `key` type).
    pub btf_key_type_id: Option<u32>,
    /// BTF type id of the value.
    pub btf_value_type_id: Option<u32>,
    /// Origin of the definition.
    pub origin: MapOrigin,
    /// ELF section the definition (or the data) lives in.
    pub section: String,
    /// Byte offset of the definition in its section (for symbol matching).
    #[serde(skip)]
    pub sec_offset: u64,
    /// Initial contents of data maps (`.bss` is zeros).
    #[serde(skip)]
    pub initial: Option<Vec<u8>>,
    /// Read-only for programs and frozen after load (`.rodata`, `.kconfig`):
    /// the verifier treats loads from it as known constants.
    pub frozen: bool,
    /// Slots of `values` initialised through `.rel.maps` (prog arrays and
    /// map-in-map): (slot, symbol name).
    pub init_slots: Vec<(u32, String)>,
}

impl MapDef {
    /// A one-element array map holding a global data section.
    pub fn data(name: &str, size: u64, initial: Vec<u8>, frozen: bool, origin: MapOrigin) -> Self {
        MapDef {
            name: name.to_string(),
            map_type: MAP_TYPE_ARRAY,
            key_size: 4,
            value_size: size as u32,
            max_entries: 1,
            map_flags: if frozen {
                BPF_F_RDONLY_PROG | BPF_F_MMAPABLE
            } else {
                BPF_F_MMAPABLE
            },
            numa_node: 0,
            pinning: 0,
            map_extra: 0,
            inner: None,
            btf_key_type_id: None,
            btf_value_type_id: None,
            origin,
            section: name.to_string(),
            sec_offset: 0,
            initial: Some(initial),
            frozen,
            init_slots: Vec::new(),
        }
    }
}

/// True for a section libbpf turns into a global data map
/// (`.data*`, `.rodata*`, `.bss*`), as `bpf_object__elf_collect` decides.
pub fn is_data_section(sec: &ElfSection) -> bool {
    if sec.exec || !sec.alloc {
        return false;
    }
    let n = sec.name.as_str();
    let is = |p: &str| n == p || n.starts_with(&format!("{p}."));
    is(".data") || is(".rodata") || is(".bss")
}

/// Reads the legacy `maps` section: each global data symbol in it is one
/// map; the record size is the section size divided by the number of maps
/// (libbpf 0.x `bpf_object__init_user_maps`). Fields past the ones we know
/// must be zero.
pub fn legacy_maps(elf: &Elf, sec: &ElfSection) -> Result<Vec<MapDef>, LoadError> {
    let mut syms: Vec<_> = elf
        .symbols
        .iter()
        .filter(|s| s.section == Some(sec.index) && s.kind != SymKind::Section)
        .filter(|s| !s.name.is_empty())
        .collect();
    syms.sort_by_key(|s| s.value);
    if syms.is_empty() {
        return Ok(Vec::new());
    }
    let size = sec.data.len();
    if !size.is_multiple_of(syms.len()) {
        bail!(
            "BPF908",
            "legacy maps section: size {size} is not a multiple of {} maps",
            syms.len()
        );
    }
    let rec = size / syms.len();
    if rec < 16 {
        bail!(
            "BPF908",
            "legacy maps section: map definition of {rec} bytes is too small"
        );
    }
    let mut out = Vec::new();
    for s in syms {
        let off = s.value as usize;
        if !off.is_multiple_of(rec) || off + rec > size {
            bail!(
                "BPF908",
                "legacy map '{}' at offset {off} does not fit in the maps section",
                s.name
            );
        }
        let rd = |i: usize| -> u32 {
            let at = off + i * 4;
            if at + 4 <= off + rec {
                u32::from_le_bytes(sec.data[at..at + 4].try_into().expect("4 bytes"))
            } else {
                0
            }
        };
        // struct bpf_map_def: type, key_size, value_size, max_entries,
        // map_flags (20), inner_map_idx (24), numa_node (28); iproute2's
        // struct bpf_elf_map: ..., flags, id, pinning, inner_id, inner_idx (36).
        out.push(MapDef {
            name: s.name.clone(),
            map_type: rd(0),
            key_size: rd(1),
            value_size: rd(2),
            max_entries: rd(3),
            map_flags: rd(4),
            numa_node: if (28..36).contains(&rec) { rd(6) } else { 0 },
            pinning: if rec >= 36 { rd(6) } else { 0 },
            map_extra: 0,
            inner: None,
            btf_key_type_id: None,
            btf_value_type_id: None,
            origin: MapOrigin::Legacy,
            section: sec.name.clone(),
            sec_offset: off as u64,
            initial: None,
            frozen: false,
            init_slots: Vec::new(),
        });
    }
    Ok(out)
}
