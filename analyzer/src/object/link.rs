//! From ELF to programs: the parts of libbpf's `bpf_object__open` and
//! `bpf_object__load` that change instructions — program discovery
//! (`bpf_object__add_programs`), relocation collection
//! (`bpf_program__record_reloc`), CO-RE (`bpf_object__relocate_core`),
//! subprogram appending (`bpf_object__reloc_code`) and data relocation
//! (`bpf_object__relocate_data`).

use super::btf_glue::{self, BtfInfo, ExtForSection};
use super::elf::{Elf, ElfSection, R_BPF_64_32, R_BPF_64_64, SymKind, parse_elf};
use super::maps::{MapDef, MapOrigin, is_data_section, legacy_maps};
use super::{LoadError, LoadOptions, Object, Program};
use crate::bail;
use crate::isa::RawInsn;
use crate::isa::raw::*;
use crate::platform;
use serde::Serialize;
use std::collections::HashMap;

/// One function of a linked program.
#[derive(Clone, Debug, Serialize)]
pub struct Subprog {
    /// Symbol name.
    pub name: String,
    /// First instruction in the linked program.
    pub start: usize,
    /// Number of instruction slots.
    pub len: usize,
    /// Global (`STB_GLOBAL`) function: the kernel verifies it on its own.
    pub global: bool,
    /// Hidden visibility: libbpf marks such a function static in the BTF it
    /// loads (`mark_btf_static`), so the kernel treats it as static.
    pub hidden: bool,
}

/// A `func_info` record, relative to the linked program.
#[derive(Clone, Debug, Serialize)]
pub struct FuncInfoEntry {
    /// Instruction index.
    pub insn: usize,
    /// BTF `FUNC` type id in the object's BTF.
    pub type_id: u32,
}

/// A `line_info` record, relative to the linked program.
#[derive(Clone, Debug, Serialize)]
pub struct LineEntry {
    /// Instruction index.
    pub insn: usize,
    /// Source file name.
    pub file: String,
    /// Line number (1-based).
    pub line: u32,
    /// Column (1-based, 0 when unknown).
    pub col: u32,
    /// The source line's text.
    pub text: String,
}

/// A CO-RE relocation as applied to this program.
#[derive(Clone, Debug, Serialize)]
pub struct CoreRecord {
    /// Instruction index in the linked program.
    pub insn: usize,
    /// Relocation kind, e.g. `byte_off`.
    pub kind: String,
    /// Access spec in C terms, e.g. `struct task_struct.pid`.
    pub spec: String,
    /// Value before and after (`None` after = poisoned).
    pub old: i64,
    /// The value written, or `None` when the relocation was poisoned.
    pub new: Option<i64>,
    /// Why it was poisoned.
    pub poison_reason: Option<String>,
}

/// An extern referenced by a program.
#[derive(Clone, Debug, Serialize)]
pub struct ExternRef {
    /// Instruction index.
    pub insn: usize,
    /// Symbol name.
    pub name: String,
    /// `kfunc`, `ksym` or `kconfig`.
    pub kind: &'static str,
    /// BTF id in the target kernel BTF, when resolved.
    pub target_btf_id: Option<u32>,
}

/// One function symbol in an executable section.
#[derive(Clone, Debug)]
struct FuncSym {
    name: String,
    hidden: bool,
    /// First instruction index in the section.
    start: usize,
    len: usize,
    global: bool,
}

/// The collected relocation of one instruction (`struct reloc_desc`).
#[derive(Clone, Debug)]
enum RelocDesc {
    /// bpf-to-bpf call: target section and symbol offset in bytes.
    Call { sec: usize, sym_off: u64 },
    /// Function address (`ld_imm64` of a callback).
    SubprogAddr { sec: usize, sym_off: u64 },
    /// Map reference.
    Map { idx: usize },
    /// Global data reference: map index and symbol offset.
    Data { idx: usize, sym_off: u64 },
    /// Extern.
    Extern {
        name: String,
        is_call: bool,
        weak: bool,
    },
}

/// What linking a program needs to see.
struct Ctx<'a> {
    sections: &'a [Section],
    info: &'a BtfInfo,
    maps: &'a [MapDef],
}

struct Section {
    index: usize,
    name: String,
    insns: Vec<RawInsn>,
    relocs: HashMap<usize, RelocDesc>,
    funcs: Vec<FuncSym>,
    ext: ExtForSection,
    core: Vec<CoreRecord>,
}

pub(super) fn load(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Object, LoadError> {
    let elf = parse_elf(data)?;
    let license = elf
        .section_by_name("license")
        .map(|s| {
            let end = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
            String::from_utf8_lossy(&s.data[..end]).into_owned()
        })
        .unwrap_or_default();
    let kern_version = elf
        .section_by_name("version")
        .and_then(|s| s.data.get(..4))
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));

    let info = btf_glue::load_btf(&elf, opts)?;
    let maps = collect_maps(&elf, &info)?;

    let mut sections = Vec::new();
    for sec in elf
        .sections
        .iter()
        .filter(|s| s.exec && s.sh_type == object::elf::SHT_PROGBITS)
    {
        if sec.data.is_empty() {
            continue;
        }
        if sec.data.len() % INSN_SIZE != 0 {
            bail!(
                "BPF904",
                "section {}: size {} is not a multiple of the 8-byte instruction size",
                sec.name,
                sec.data.len()
            );
        }
        let mut insns = RawInsn::slice_from_bytes(&sec.data);
        let funcs = func_symbols(&elf, sec)?;
        let relocs = collect_relocs(&elf, sec, &insns, &maps, &info)?;
        let ext = info.ext_for(&sec.name);
        let core = btf_glue::apply_core(&info, &ext, &sec.name, &mut insns)?;
        sections.push(Section {
            index: sec.index,
            name: sec.name.clone(),
            insns,
            relocs,
            funcs,
            ext,
            core,
        });
    }

    let text_idx = elf.section_by_name(".text").map(|s| s.index);
    let has_prog_sections = sections.iter().any(|s| Some(s.index) != text_idx);
    let mut programs = Vec::new();
    for (si, sec) in sections.iter().enumerate() {
        let is_text = Some(sec.index) == text_idx;
        if is_text && has_prog_sections {
            continue;
        }
        for f in &sec.funcs {
            // libbpf: functions in .text are subprograms; static functions in
            // a program section are callable subprograms, not programs.
            if !is_text && !f.global && sec.funcs.iter().any(|g| g.global) {
                continue;
            }
            if is_text && !f.global {
                continue;
            }
            let cx = Ctx {
                sections: &sections,
                info: &info,
                maps: &maps,
            };
            programs.push(build_program(&cx, si, f, opts));
        }
    }
    Ok(Object {
        name: name.to_string(),
        license,
        kern_version,
        programs,
        maps,
        btf: info.local.clone(),
    })
}

/// Function symbols of an executable section, as libbpf's
/// `bpf_object__add_programs` finds them, with the legacy fallbacks: NOTYPE
/// global symbols (old clang), and a whole section without symbols.
fn func_symbols(elf: &Elf, sec: &ElfSection) -> Result<Vec<FuncSym>, LoadError> {
    let n_insns = sec.data.len() / INSN_SIZE;
    let mut syms: Vec<_> = elf
        .symbols
        .iter()
        .filter(|s| s.section == Some(sec.index))
        .filter(|s| s.kind == SymKind::Func || (s.kind == SymKind::NoType && s.global))
        .filter(|s| !s.name.is_empty())
        .collect();
    syms.sort_by_key(|s| s.value);
    syms.dedup_by_key(|s| s.value);
    let mut out = Vec::new();
    for (k, s) in syms.iter().enumerate() {
        if s.value % INSN_SIZE as u64 != 0 || s.value as usize / INSN_SIZE >= n_insns {
            bail!(
                "BPF904",
                "section {}: symbol '{}' at offset {} is outside the code or misaligned",
                sec.name,
                s.name,
                s.value
            );
        }
        let start = s.value as usize / INSN_SIZE;
        let next = syms
            .get(k + 1)
            .map_or(n_insns, |n| n.value as usize / INSN_SIZE);
        let len = if s.size > 0 && s.kind == SymKind::Func {
            let l = s.size as usize / INSN_SIZE;
            if start + l > n_insns || s.size % INSN_SIZE as u64 != 0 {
                bail!(
                    "BPF904",
                    "section {}: function '{}' (offset {}, size {}) does not fit in the section",
                    sec.name,
                    s.name,
                    s.value,
                    s.size
                );
            }
            l
        } else {
            next - start
        };
        out.push(FuncSym {
            name: s.name.clone(),
            start,
            len,
            global: s.global || s.weak,
            hidden: s.hidden,
        });
    }
    if out.is_empty() {
        out.push(FuncSym {
            name: sec.name.rsplit('/').next().unwrap_or(&sec.name).to_string(),
            hidden: false,
            start: 0,
            len: n_insns,
            global: true,
        });
    }
    Ok(out)
}

fn collect_maps(elf: &Elf, info: &BtfInfo) -> Result<Vec<MapDef>, LoadError> {
    let mut maps = Vec::new();
    if let Some(sec) = elf.section_by_name("maps") {
        maps.extend(legacy_maps(elf, sec)?);
    }
    if let Some(sec) = elf.section_by_name(".maps") {
        maps.extend(btf_glue::btf_maps(elf, sec, info)?);
    }
    // libbpf's bpf_object__init_user_btf_maps: one arena at most, and one
    // must be declared when the object has `__arena` globals.
    let mut arenas = maps.iter().filter(|m| m.map_type == MAP_TYPE_ARENA);
    let first_arena = arenas.next();
    if let (Some(a), Some(b)) = (first_arena, arenas.next()) {
        bail!(
            "BPF908",
            "map '{}': only single ARENA map is supported (map '{}' is also ARENA)",
            b.name,
            a.name
        );
    }
    if first_arena.is_none() && elf.section_by_name(ARENA_SEC).is_some() {
        bail!(
            "BPF908",
            "elf: sec '{ARENA_SEC}': to use global __arena variables the ARENA map should be explicitly declared in SEC(\".maps\")"
        );
    }
    for sec in &elf.sections {
        if is_data_section(sec) {
            let init = if sec.sh_type == object::elf::SHT_NOBITS {
                vec![0; sec.size as usize]
            } else {
                sec.data.clone()
            };
            let frozen = sec.name.starts_with(".rodata");
            maps.push(MapDef::data(
                &sec.name,
                sec.size,
                init,
                frozen,
                MapOrigin::Data,
            ));
        }
    }
    let kconfig = btf_glue::kconfig_size(info);
    if kconfig > 0 {
        let mut m = MapDef::data(
            ".kconfig",
            kconfig,
            vec![0; kconfig as usize],
            true,
            MapOrigin::Kconfig,
        );
        m.initial = Some(btf_glue::kconfig_values(info, kconfig));
        maps.push(m);
    }
    Ok(maps)
}

/// libbpf's `ARENA_SEC`: the section of `__arena` global variables.
const ARENA_SEC: &str = ".addr_space.1";
/// `BPF_MAP_TYPE_ARENA`.
const MAP_TYPE_ARENA: u32 = 33;

/// `bpf_program__record_reloc`: classify every relocation of a code section.
fn collect_relocs(
    elf: &Elf,
    sec: &ElfSection,
    insns: &[RawInsn],
    maps: &[MapDef],
    info: &BtfInfo,
) -> Result<HashMap<usize, RelocDesc>, LoadError> {
    let mut out = HashMap::new();
    for r in &sec.relocs {
        if r.r_type != R_BPF_64_64 && r.r_type != R_BPF_64_32 {
            // ABS relocations in code never come from clang; DWARF/BTF ones
            // target other sections.
            bail!(
                "BPF905",
                "section {}: unsupported relocation type {} at offset {}",
                sec.name,
                r.r_type,
                r.offset
            );
        }
        if r.offset % INSN_SIZE as u64 != 0 || r.offset as usize / INSN_SIZE >= insns.len() {
            bail!(
                "BPF905",
                "section {}: relocation offset {} is outside the code",
                sec.name,
                r.offset
            );
        }
        let idx = r.offset as usize / INSN_SIZE;
        let insn = insns[idx];
        let sym = &elf.symbols[r.sym];
        let is_call = insn.code == BPF_JMP | BPF_CALL;
        if !is_call && !insn.is_ldimm64() {
            bail!(
                "BPF905",
                "section {}: relocation against insn {idx} (code 0x{:02x}), which is neither a call nor ld_imm64",
                sec.name,
                insn.code
            );
        }
        let desc = match sym.section {
            None => {
                if sym.name.is_empty() {
                    bail!(
                        "BPF905",
                        "section {}: relocation at insn {idx} against an unnamed undefined symbol",
                        sec.name
                    );
                }
                RelocDesc::Extern {
                    name: sym.name.clone(),
                    is_call,
                    weak: sym.weak,
                }
            }
            Some(target) => {
                let tsec = elf.sections.get(target).ok_or_else(|| {
                    LoadError::new(
                        "BPF905",
                        format!("relocation against missing section {target}"),
                    )
                })?;
                if tsec.exec {
                    if is_call {
                        if insn.src != BPF_PSEUDO_CALL {
                            bail!(
                                "BPF905",
                                "section {}: call at insn {idx} relocated to code but is not a bpf-to-bpf call",
                                sec.name
                            );
                        }
                        RelocDesc::Call {
                            sec: target,
                            sym_off: sym.value,
                        }
                    } else {
                        RelocDesc::SubprogAddr {
                            sec: target,
                            sym_off: sym.value,
                        }
                    }
                } else if is_call {
                    bail!(
                        "BPF905",
                        "section {}: call at insn {idx} relocated against data section {}",
                        sec.name,
                        tsec.name
                    );
                } else if tsec.name == ".maps" || tsec.name == "maps" {
                    let off = sym.value;
                    let Some(m) = maps
                        .iter()
                        .position(|m| m.section == tsec.name && m.sec_offset == off)
                    else {
                        bail!(
                            "BPF905",
                            "section {}: insn {idx} refers to '{}' in {}, which is not a map",
                            sec.name,
                            sym.name,
                            tsec.name
                        );
                    };
                    RelocDesc::Map { idx: m }
                } else if tsec.name == ARENA_SEC {
                    // libbpf: arena globals are data of the object's one
                    // arena map (RELO_DATA against `arena_map_idx`).
                    let mut arenas = maps
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.map_type == MAP_TYPE_ARENA);
                    let (Some((m, _)), None) = (arenas.next(), arenas.next()) else {
                        bail!(
                            "BPF905",
                            "section {}: insn {idx} refers to '{}' in {ARENA_SEC}, but the object does not declare exactly one arena map",
                            sec.name,
                            sym.name
                        );
                    };
                    RelocDesc::Data {
                        idx: m,
                        sym_off: sym.value,
                    }
                } else if is_data_section(tsec) {
                    let m = maps
                        .iter()
                        .position(|m| m.origin == MapOrigin::Data && m.section == tsec.name)
                        .expect("data map for data section");
                    RelocDesc::Data {
                        idx: m,
                        sym_off: if sym.kind == SymKind::Section {
                            0
                        } else {
                            sym.value
                        },
                    }
                } else {
                    bail!(
                        "BPF905",
                        "section {}: insn {idx} refers to '{}' in section {}, which libbpf cannot relocate",
                        sec.name,
                        sym.name,
                        tsec.name
                    );
                }
            }
        };
        let _ = info;
        out.insert(idx, desc);
    }
    Ok(out)
}

/// Builds one program: the entry function, then every subprogram it
/// reaches appended depth-first in the order libbpf's
/// `bpf_object__reloc_code` appends them, with calls and data fixed up.
fn build_program(cx: &Ctx<'_>, si: usize, f: &FuncSym, opts: &LoadOptions) -> Program {
    let sec = &cx.sections[si];
    let (sec_name, autoload) = match sec.name.strip_prefix('?') {
        Some(rest) => (rest.to_string(), false),
        None => (sec.name.clone(), true),
    };
    let m = platform::prog_type_by_section(&sec.name);
    let mut prog = Program {
        name: f.name.clone(),
        section: sec_name,
        prog_type: opts.prog_type_override.or(m.as_ref().map(|m| m.prog_type)),
        attach_type: m.as_ref().and_then(|m| m.attach),
        legacy_section: m.as_ref().is_some_and(|m| m.legacy),
        autoload,
        sleepable: m.as_ref().is_some_and(|m| m.sleepable),
        insns: Vec::new(),
        subprogs: Vec::new(),
        func_info: Vec::new(),
        line_info: Vec::new(),
        core_relos: Vec::new(),
        externs: Vec::new(),
        map_relocs: Vec::new(),
        load_error: None,
    };
    if let Err(e) = link_into(&mut prog, cx, si, f) {
        prog.load_error = Some(e);
    }
    prog
}

fn find_func(sections: &[Section], sec: usize, insn: usize) -> Option<(usize, &FuncSym)> {
    let si = sections.iter().position(|s| s.index == sec)?;
    let f = sections[si].funcs.iter().find(|f| f.start == insn)?;
    Some((si, f))
}

fn link_into(prog: &mut Program, cx: &Ctx<'_>, si: usize, f: &FuncSym) -> Result<(), LoadError> {
    // (section index in `sections`, function start) -> start in the program.
    let mut placed: HashMap<(usize, usize), usize> = HashMap::new();
    append(prog, cx.sections, si, f, &mut placed);
    reloc_code(prog, cx, si, f, &mut placed, 0)?;
    prog.line_info.sort_by_key(|l| l.insn);
    prog.func_info.sort_by_key(|l| l.insn);
    Ok(())
}

/// `bpf_object__append_subprog_code`, plus moving the function's BTF.ext
/// records along with it.
fn append(
    prog: &mut Program,
    sections: &[Section],
    si: usize,
    f: &FuncSym,
    placed: &mut HashMap<(usize, usize), usize>,
) -> usize {
    let sec = &sections[si];
    let start = prog.insns.len();
    placed.insert((si, f.start), start);
    prog.insns
        .extend_from_slice(&sec.insns[f.start..f.start + f.len]);
    prog.subprogs.push(Subprog {
        name: f.name.clone(),
        start,
        len: f.len,
        global: f.global,
        hidden: f.hidden,
    });
    let in_range = |byte_off: u32| {
        let i = byte_off as usize / INSN_SIZE;
        (i >= f.start && i < f.start + f.len).then(|| start + i - f.start)
    };
    for fi in &sec.ext.func_info {
        if let Some(insn) = in_range(fi.0) {
            prog.func_info.push(super::FuncInfoEntry {
                insn,
                type_id: fi.1,
            });
        }
    }
    for li in &sec.ext.line_info {
        if let Some(insn) = in_range(li.insn_off) {
            prog.line_info.push(super::LineEntry {
                insn,
                file: li.file.clone(),
                line: li.line,
                col: li.col,
                text: li.text.clone(),
            });
        }
    }
    for c in &sec.core {
        if c.insn >= f.start && c.insn < f.start + f.len {
            let mut c = c.clone();
            c.insn = start + c.insn - f.start;
            prog.core_relos.push(c);
        }
    }
    start
}

fn reloc_code(
    prog: &mut Program,
    cx: &Ctx<'_>,
    si: usize,
    f: &FuncSym,
    placed: &mut HashMap<(usize, usize), usize>,
    depth: usize,
) -> Result<(), LoadError> {
    let sections = cx.sections;
    if depth > 256 {
        bail!(
            "BPF905",
            "subprogram nesting deeper than 256 while linking '{}'",
            prog.name
        );
    }
    let sec = &sections[si];
    let base = placed[&(si, f.start)];
    let mut k = 0;
    while k < f.len {
        let sec_idx = f.start + k;
        let at = base + k;
        let insn = prog.insns[at];
        let relo = sec.relocs.get(&sec_idx);
        let step = if insn.is_ldimm64() { 2 } else { 1 };
        if insn.is_ldimm64() && at + 1 >= prog.insns.len() {
            bail!(
                "BPF905",
                "'{}': ld_imm64 at insn {at} is cut off by the end of the function",
                prog.name
            );
        }
        match relo {
            Some(RelocDesc::Map { idx }) => {
                prog.insns[at].src = BPF_PSEUDO_MAP_FD;
                prog.insns[at].imm = *idx as i32;
                prog.map_relocs.push(at);
            }
            Some(RelocDesc::Data { idx, sym_off }) => {
                let off = (insn.imm as i64).wrapping_add(*sym_off as i64);
                prog.insns[at].src = BPF_PSEUDO_MAP_VALUE;
                prog.insns[at].imm = *idx as i32;
                prog.insns[at + 1].imm = off as i32;
                prog.map_relocs.push(at);
            }
            Some(RelocDesc::Extern {
                name,
                is_call,
                weak,
            }) => {
                let kconfig = cx.maps.iter().position(|m| m.origin == MapOrigin::Kconfig);
                btf_glue::relocate_extern(prog, at, name, *is_call, *weak, cx.info, kconfig)?;
            }
            Some(RelocDesc::Call { sec: tsec, sym_off })
            | Some(RelocDesc::SubprogAddr { sec: tsec, sym_off }) => {
                let is_call = matches!(relo, Some(RelocDesc::Call { .. }));
                let target = if is_call {
                    (*sym_off as i64 / INSN_SIZE as i64) + insn.imm as i64 + 1
                } else {
                    (*sym_off as i64 + insn.imm as i64) / INSN_SIZE as i64
                };
                link_call(prog, cx, *tsec, target, at, is_call, placed, depth)?;
            }
            None => {
                let is_pseudo_call = insn.code == BPF_JMP | BPF_CALL && insn.src == BPF_PSEUDO_CALL;
                if is_pseudo_call {
                    // A call to a static function of the same section needs no relocation.
                    let target = sec_idx as i64 + insn.imm as i64 + 1;
                    link_call(prog, cx, sec.index, target, at, true, placed, depth)?;
                }
            }
        }
        k += step;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn link_call(
    prog: &mut Program,
    cx: &Ctx<'_>,
    tsec: usize,
    target: i64,
    at: usize,
    is_call: bool,
    placed: &mut HashMap<(usize, usize), usize>,
    depth: usize,
) -> Result<(), LoadError> {
    let sections = cx.sections;
    let Some((tsi, tf)) = usize::try_from(target)
        .ok()
        .and_then(|t| find_func(sections, tsec, t))
    else {
        bail!(
            "BPF905",
            "'{}': {} at insn {at} targets instruction {target}, which starts no function",
            prog.name,
            if is_call { "call" } else { "function pointer" }
        );
    };
    let start = match placed.get(&(tsi, tf.start)) {
        Some(&s) => s,
        None => {
            let s = append(prog, sections, tsi, tf, placed);
            let tf = tf.clone();
            reloc_code(prog, cx, tsi, &tf, placed, depth + 1)?;
            s
        }
    };
    if is_call {
        prog.insns[at].imm = start as i32 - at as i32 - 1;
    } else {
        prog.insns[at].src = BPF_PSEUDO_FUNC;
        prog.insns[at].imm = start as i32 - at as i32 - 1;
        prog.insns[at + 1].imm = 0;
    }
    Ok(())
}
