//! Preparing an object's raw `.BTF` for `BPF_BTF_LOAD`, as libbpf does
//! before loading it: `btf_fixup_datasec` (clang leaves DATASEC sizes and
//! variable offsets 0 in `.o` files; the kernel rejects a 0-sized DATASEC),
//! and the extern fix-ups of `bpf_object__collect_externs` (`.ksyms`
//! functions replaced by a dummy `int` VAR, extern VARs made
//! `GLOBAL_ALLOCATED`, extern FUNCs made global with named parameters,
//! `.kconfig` offsets laid out). Works on bytes; appends types and strings
//! at the end so that type ids do not move.

use bpfproof_analyzer::object::elf::{Elf, SymKind};
use std::collections::HashMap;

const KIND_INT: u32 = 1;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_ENUM64: u32 = 19;

/// The result: bytes for `BPF_BTF_LOAD` and the DATASEC ids by name (the
/// value type of global data maps).
#[derive(Clone, Debug)]
pub struct FixedBtf {
    /// The BTF blob.
    pub bytes: Vec<u8>,
    /// DATASEC type id by section name.
    pub datasecs: HashMap<String, u32>,
    /// The string section (for line_info offsets).
    pub strings: Vec<u8>,
}

fn rd(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn wr(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn extra_len(kind: u32, vlen: usize) -> usize {
    match kind {
        KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
        KIND_ARRAY => 12,
        KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen,
        KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
        _ => 0,
    }
}

fn cstr(strings: &[u8], off: u32) -> &str {
    let s = strings.get(off as usize..).unwrap_or_default();
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    std::str::from_utf8(&s[..end]).unwrap_or("")
}

/// Fixes up `raw` (the `.BTF` section of `elf`). `kconfig_size` is the size
/// of the `.kconfig` map the loader creates.
pub fn fixup(raw: &[u8], elf: &Elf) -> Result<FixedBtf, String> {
    let hdr_len = rd(raw, 4).ok_or("truncated BTF header")? as usize;
    let type_off = rd(raw, 8).ok_or("truncated BTF header")? as usize;
    let type_len = rd(raw, 12).ok_or("truncated BTF header")? as usize;
    let str_off = rd(raw, 16).ok_or("truncated BTF header")? as usize;
    let str_len = rd(raw, 20).ok_or("truncated BTF header")? as usize;
    let mut types = raw
        .get(hdr_len + type_off..hdr_len + type_off + type_len)
        .ok_or("BTF type section out of range")?
        .to_vec();
    let mut strings = raw
        .get(hdr_len + str_off..hdr_len + str_off + str_len)
        .ok_or("BTF string section out of range")?
        .to_vec();
    let header = raw.get(..hdr_len).ok_or("truncated BTF header")?.to_vec();

    // Type id -> byte offset in `types`.
    let mut offs = vec![usize::MAX];
    let mut p = 0;
    while p < types.len() {
        let info = rd(&types, p + 4).ok_or("truncated BTF type")?;
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        offs.push(p);
        p += 12 + extra_len(kind, vlen);
    }
    let kind_of = |types: &[u8], id: u32| -> u32 {
        offs.get(id as usize)
            .and_then(|&o| rd(types, o + 4))
            .map_or(0, |i| (i >> 24) & 0x1f)
    };
    let add_str = |strings: &mut Vec<u8>, s: &str| -> u32 {
        let off = strings.len() as u32;
        strings.extend_from_slice(s.as_bytes());
        strings.push(0);
        off
    };
    let mut next_id = offs.len() as u32;
    let mut appended: Vec<u8> = Vec::new();

    // An `int` for extern VARs and the dummy ksym VAR.
    let mut int_id = None;
    for (id, &o) in offs.iter().enumerate().skip(1) {
        let info = rd(&types, o + 4).unwrap_or(0);
        if (info >> 24) & 0x1f == KIND_INT && rd(&types, o + 8) == Some(4) {
            int_id = Some(id as u32);
            break;
        }
    }

    // Fill missing parameter names of a FUNC's prototype.
    let fill_params = |types: &mut Vec<u8>, func_off: usize, name_off: u32| {
        let proto = rd(types, func_off + 8).unwrap_or(0);
        if let Some(&po) = offs.get(proto as usize) {
            let info = rd(types, po + 4).unwrap_or(0);
            if (info >> 24) & 0x1f == KIND_FUNC_PROTO {
                let vlen = (info & 0xffff) as usize;
                for k in 0..vlen {
                    let at = po + 12 + 8 * k;
                    if rd(types, at) == Some(0) && rd(types, at + 4) != Some(0) {
                        wr(types, at, name_off);
                    }
                }
            }
        }
    };

    // Extern FUNCs -> global; extern VARs -> global allocated.
    for &o in offs.iter().skip(1) {
        let info = rd(&types, o + 4).unwrap_or(0);
        let kind = (info >> 24) & 0x1f;
        if kind == KIND_FUNC && (info & 0xffff) == 1 {
            // libbpf's `mark_btf_static`: a global function with hidden
            // visibility is static to the kernel (verified with its caller).
            let name = cstr(&strings, rd(&types, o).unwrap_or(0));
            let hidden = elf
                .symbols
                .iter()
                .any(|s| s.name == name && s.kind == SymKind::Func && s.hidden);
            if hidden {
                wr(&mut types, o + 4, info & !0xffff);
            }
        } else if kind == KIND_FUNC && (info & 0xffff) == 2 {
            wr(&mut types, o + 4, (info & !0xffff) | 1);
            let name_off = rd(&types, o).unwrap_or(0);
            fill_params(&mut types, o, name_off);
        } else if kind == KIND_VAR && rd(&types, o + 12) == Some(2) {
            wr(&mut types, o + 12, 1);
        }
    }

    let mut datasecs = HashMap::new();
    let kconfig = kconfig_layout_raw(&types, &strings, &offs);
    for id in 1..offs.len() {
        let o = offs[id];
        let info = rd(&types, o + 4).unwrap_or(0);
        if (info >> 24) & 0x1f != KIND_DATASEC {
            continue;
        }
        let vlen = (info & 0xffff) as usize;
        let name = cstr(&strings, rd(&types, o).unwrap_or(0)).to_string();
        datasecs.insert(name.clone(), id as u32);
        let mut vars: Vec<[u32; 3]> = (0..vlen)
            .map(|k| {
                let at = o + 12 + 12 * k;
                [
                    rd(&types, at).unwrap_or(0),
                    rd(&types, at + 4).unwrap_or(0),
                    rd(&types, at + 8).unwrap_or(0),
                ]
            })
            .collect();
        let mut size = rd(&types, o + 8).unwrap_or(0);
        if name == ".ksyms" {
            let int = match int_id {
                Some(i) => i,
                None => {
                    let n = add_str(&mut strings, "int");
                    for v in [n, KIND_INT << 24, 4, (1 << 24) | 32] {
                        appended.extend_from_slice(&v.to_le_bytes());
                    }
                    int_id = Some(next_id);
                    next_id += 1;
                    next_id - 1
                }
            };
            let mut dummy = None;
            for (k, v) in vars.iter_mut().enumerate() {
                let vo = offs.get(v[0] as usize).copied().unwrap_or(usize::MAX);
                if kind_of(&types, v[0]) == KIND_FUNC {
                    let d = match dummy {
                        Some(d) => d,
                        None => {
                            let n = add_str(&mut strings, "dummy_ksym");
                            for x in [n, KIND_VAR << 24, int, 1] {
                                appended.extend_from_slice(&x.to_le_bytes());
                            }
                            dummy = Some(next_id);
                            next_id += 1;
                            next_id - 1
                        }
                    };
                    let finfo = rd(&types, vo + 4).unwrap_or(0);
                    wr(&mut types, vo + 4, (finfo & !0xffff) | 1);
                    let name_off = rd(&types, vo).unwrap_or(0);
                    fill_params(&mut types, vo, name_off);
                    v[0] = d;
                } else if kind_of(&types, v[0]) == KIND_VAR {
                    wr(&mut types, vo + 8, int);
                    wr(&mut types, vo + 12, 1);
                }
                v[1] = 4 * k as u32;
                v[2] = 4;
            }
            size = 4 * vars.len() as u32;
        } else if name == ".kconfig" {
            for v in vars.iter_mut() {
                let vo = offs.get(v[0] as usize).copied().unwrap_or(usize::MAX);
                let vname = cstr(&strings, rd(&types, vo).unwrap_or(0)).to_string();
                if let Some((off, sz)) = kconfig.get(&vname) {
                    v[1] = *off;
                    v[2] = *sz;
                }
                wr(&mut types, vo + 12, 1);
            }
            size = kconfig.values().map(|(o, s)| o + s).max().unwrap_or(0);
        } else if size == 0 {
            let sec = elf.section_by_name(&name);
            size = sec.map_or(0, |s| s.size as u32);
            for v in vars.iter_mut() {
                let vo = offs.get(v[0] as usize).copied().unwrap_or(usize::MAX);
                let vname = cstr(&strings, rd(&types, vo).unwrap_or(0));
                let sym = elf.symbols.iter().find(|s| {
                    s.name == vname
                        && s.kind != SymKind::Section
                        && sec.is_some_and(|sec| s.section == Some(sec.index))
                });
                if let Some(sym) = sym {
                    v[1] = sym.value as u32;
                    if sym.hidden && rd(&types, vo + 12) == Some(1) {
                        wr(&mut types, vo + 12, 0);
                    }
                }
            }
        }
        vars.sort_by_key(|v| v[1]);
        wr(&mut types, o + 8, size);
        for (k, v) in vars.iter().enumerate() {
            let at = o + 12 + 12 * k;
            wr(&mut types, at, v[0]);
            wr(&mut types, at + 4, v[1]);
            wr(&mut types, at + 8, v[2]);
        }
    }
    types.extend_from_slice(&appended);

    let mut bytes = header;
    let tl = types.len() as u32;
    wr(&mut bytes, 8, 0);
    wr(&mut bytes, 12, tl);
    wr(&mut bytes, 16, tl);
    wr(&mut bytes, 20, strings.len() as u32);
    bytes.extend_from_slice(&types);
    bytes.extend_from_slice(&strings);
    Ok(FixedBtf {
        bytes,
        datasecs,
        strings,
    })
}

/// libbpf's `.kconfig` layout: externs sorted by alignment (descending),
/// size, name; each at the next aligned offset. name -> (offset, size).
fn kconfig_layout_raw(types: &[u8], strings: &[u8], offs: &[usize]) -> HashMap<String, (u32, u32)> {
    let mut vars: Vec<(String, u32, u32)> = Vec::new();
    for &o in offs.iter().skip(1) {
        let info = rd(types, o + 4).unwrap_or(0);
        if (info >> 24) & 0x1f != KIND_DATASEC
            || cstr(strings, rd(types, o).unwrap_or(0)) != ".kconfig"
        {
            continue;
        }
        for k in 0..(info & 0xffff) as usize {
            let at = o + 12 + 12 * k;
            let var = rd(types, at).unwrap_or(0);
            let size = rd(types, at + 8).unwrap_or(0);
            let Some(&vo) = offs.get(var as usize) else {
                continue;
            };
            let name = cstr(strings, rd(types, vo).unwrap_or(0)).to_string();
            let align = size.clamp(1, 8).next_power_of_two().min(8);
            vars.push((name, size, align));
        }
    }
    vars.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
    let mut off = 0u32;
    let mut out = HashMap::new();
    for (name, size, align) in vars {
        off = off.div_ceil(align) * align;
        out.insert(name, (off, size));
        off += size;
    }
    out
}

/// Offsets of every string of a BTF string section.
pub fn string_offsets(strings: &[u8]) -> HashMap<&str, u32> {
    let mut out = HashMap::new();
    let mut start = 0usize;
    for (i, &c) in strings.iter().enumerate() {
        if c == 0 {
            if let Ok(s) = std::str::from_utf8(&strings[start..i]) {
                out.entry(s).or_insert(start as u32);
            }
            start = i + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpfproof_analyzer::object::btf::{Btf, BtfTypeKind};
    use bpfproof_analyzer::object::elf::parse_elf;

    #[test]
    fn datasecs_get_sizes_and_offsets() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/programs/global_config.bpf.o");
        let data = std::fs::read(path).expect("global_config.bpf.o");
        let elf = parse_elf(&data).expect("elf");
        let raw = &elf.section_by_name(".BTF").expect(".BTF").data;
        let fixed = fixup(raw, &elf).expect("fixup");
        let btf = Btf::parse(&fixed.bytes).expect("fixed BTF parses");
        let mut seen = 0;
        for (_, t) in btf.iter_types() {
            if let BtfTypeKind::Datasec { size, vars } = &t.kind {
                seen += 1;
                assert!(*size > 0, "DATASEC of size 0 left");
                assert!(vars.windows(2).all(|w| w[0].offset <= w[1].offset));
                assert!(vars.iter().all(|v| v.offset + v.size <= *size));
            }
        }
        assert!(seen > 0);
        assert!(fixed.datasecs.contains_key(".rodata") || fixed.datasecs.contains_key(".data"));
    }
}
