//! Where the ELF loader meets BTF: reading `.BTF`/`.BTF.ext`, choosing the
//! target kernel BTF, applying CO-RE relocations to a code section,
//! BTF-defined maps, and resolving externs (`.ksyms`, `.kconfig`) the way
//! libbpf's `bpf_object__resolve_externs` does.

use super::btf::{self, Btf, BtfExt, BtfKind, CoreCache, CoreOutcome, LineInfo};
use super::elf::{Elf, ElfSection, SymKind};
use super::link::{CoreRecord, ExternRef};
use super::maps::{MapDef, MapOrigin};
use super::{LoadError, LoadOptions, Program};
use crate::bail;
use crate::isa::RawInsn;
use crate::isa::raw::*;
use std::cell::OnceCell;
use std::sync::Arc;

/// libbpf's `POISON_CALL_KFUNC_BASE`: an unresolved weak kfunc call becomes
/// `call POISON_CALL_KFUNC_BASE + ext_idx`, rejected only if reached.
pub const POISON_CALL_KFUNC_BASE: i32 = 2_002_000_000;

/// `KERNEL_VERSION(6, 18, 0)`, the value of `LINUX_KERNEL_VERSION`.
pub const LINUX_KERNEL_VERSION_6_18: u64 = (6 << 16) | (18 << 8);

/// The object's BTF, its `.BTF.ext`, and the (lazily loaded) target BTF.
pub struct BtfInfo {
    /// The object's own `.BTF`.
    pub local: Option<Arc<Btf>>,
    ext: Option<BtfExt>,
    user_target: Option<Arc<Btf>>,
    target: OnceCell<Result<TargetRef, LoadError>>,
}

#[derive(Clone)]
enum TargetRef {
    Bundled(&'static Btf),
    User(Arc<Btf>),
}

impl BtfInfo {
    /// The target kernel BTF (the bundled 6.18 one unless `--btf` gave another).
    pub fn target(&self) -> Result<&Btf, LoadError> {
        let t = self.target.get_or_init(|| match &self.user_target {
            Some(b) => Ok(TargetRef::User(b.clone())),
            None => btf::bundled_vmlinux_btf()
                .map(TargetRef::Bundled)
                .map_err(|e| LoadError::new("BPF913", e.to_string())),
        });
        match t {
            Ok(TargetRef::Bundled(b)) => Ok(b),
            Ok(TargetRef::User(b)) => Ok(b),
            Err(e) => Err(e.clone()),
        }
    }

    /// The BTF.ext records of one code section.
    pub fn ext_for(&self, sec: &str) -> ExtForSection {
        let Some(ext) = &self.ext else {
            return ExtForSection::default();
        };
        ExtForSection {
            func_info: ext
                .func_info(sec)
                .iter()
                .map(|f| (f.insn_off_bytes, f.type_id))
                .collect(),
            line_info: ext.line_info(sec).iter().map(ExtLine::from).collect(),
            core: ext.core_relos(sec).to_vec(),
        }
    }
}

/// A `line_info` record of a section.
#[derive(Clone, Debug)]
pub struct ExtLine {
    /// Byte offset in the section.
    pub insn_off: u32,
    /// File name.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Column.
    pub col: u32,
    /// Source text.
    pub text: String,
}

impl From<&LineInfo> for ExtLine {
    fn from(l: &LineInfo) -> Self {
        ExtLine {
            insn_off: l.insn_off_bytes,
            file: l.file.clone(),
            line: l.line,
            col: l.col,
            text: l.text.clone(),
        }
    }
}

/// The BTF.ext records of one section.
#[derive(Clone, Debug, Default)]
pub struct ExtForSection {
    /// (byte offset, FUNC type id).
    pub func_info: Vec<(u32, u32)>,
    /// Line records.
    pub line_info: Vec<ExtLine>,
    /// CO-RE relocations.
    pub core: Vec<btf::CoreRelo>,
}

/// Reads `.BTF` and `.BTF.ext`. A broken `.BTF.ext` without a usable `.BTF`
/// is an error: nothing is silently skipped.
pub fn load_btf(elf: &Elf, opts: &LoadOptions) -> Result<BtfInfo, LoadError> {
    let local = match elf.section_by_name(".BTF") {
        Some(s) => {
            let mut btf =
                Btf::parse(&s.data).map_err(|e| LoadError::new("BPF906", format!(".BTF: {e}")))?;
            // libbpf's btf_fixup_datasec: sizes and offsets from the ELF.
            btf.fixup_datasecs(
                |name| elf.section_by_name(name).map(|s| s.size),
                |name| {
                    elf.symbols
                        .iter()
                        .find(|s| {
                            s.name == name && s.kind == SymKind::Object && s.section.is_some()
                        })
                        .map(|s| btf::VarSymbol {
                            offset: s.value,
                            hidden: s.hidden,
                        })
                },
            )
            .map_err(|e| LoadError::new("BPF906", format!(".BTF: {e}")))?;
            Some(Arc::new(btf))
        }
        None => None,
    };
    let ext = match (elf.section_by_name(".BTF.ext"), &local) {
        (Some(s), Some(b)) => Some(
            BtfExt::parse(&s.data, b)
                .map_err(|e| LoadError::new("BPF907", format!(".BTF.ext: {e}")))?,
        ),
        (Some(_), None) => bail!("BPF907", ".BTF.ext is present but .BTF is missing"),
        _ => None,
    };
    Ok(BtfInfo {
        local,
        ext,
        user_target: opts.target_btf.clone(),
        target: OnceCell::new(),
    })
}

/// Applies the CO-RE relocations of a section to its instructions
/// (`bpf_core_apply_relo`), returning a record of each.
pub fn apply_core(
    info: &BtfInfo,
    ext: &ExtForSection,
    sec: &str,
    insns: &mut [RawInsn],
) -> Result<Vec<CoreRecord>, LoadError> {
    if ext.core.is_empty() {
        return Ok(Vec::new());
    }
    let local = info.local.as_ref().expect("CO-RE records imply .BTF");
    let target = info.target()?;
    let mut cache = CoreCache::default();
    let mut out = Vec::new();
    for relo in &ext.core {
        let idx = relo.insn_off_bytes as usize / INSN_SIZE;
        if !(relo.insn_off_bytes as usize).is_multiple_of(INSN_SIZE) || idx >= insns.len() {
            bail!(
                "BPF910",
                "section {sec}: CO-RE relocation at byte offset {} is outside the code",
                relo.insn_off_bytes
            );
        }
        let spec = format!("{} {}", local.type_to_string(relo.type_id), relo.access);
        let outcome = btf::apply_core_relo(local, target, relo, insns, idx, &mut cache)
            .map_err(|e| LoadError::new("BPF910", format!("section {sec}, insn {idx}: {e}")))?;
        let (old, new, poison_reason) = match outcome {
            CoreOutcome::Patched { old, new } => (old, Some(new), None),
            CoreOutcome::Poisoned { reason } => (0, None, Some(reason)),
        };
        out.push(CoreRecord {
            insn: idx,
            kind: relo.kind.as_str().to_string(),
            spec,
            old,
            new,
            poison_reason,
        });
    }
    Ok(out)
}

/// BTF-defined maps of the `.maps` section, with `.rel.maps` initial slots.
pub fn btf_maps(elf: &Elf, sec: &ElfSection, info: &BtfInfo) -> Result<Vec<MapDef>, LoadError> {
    let Some(local) = &info.local else {
        bail!("BPF908", ".maps section requires .BTF, which is missing");
    };
    let defs = btf::parse_btf_map_defs(local, ".maps")
        .map_err(|e| LoadError::new("BPF908", e.to_string()))?;
    // clang leaves DATASEC variable offsets at 0 in relocatable objects;
    // libbpf fixes them from the ELF symbols (`btf_fixup_datasec`): so do we.
    let mut out: Vec<MapDef> = Vec::with_capacity(defs.len());
    let mut extents: Vec<u64> = Vec::with_capacity(defs.len());
    for d in &defs {
        let mut m = to_map_def(d, sec);
        let sym = elf.symbols.iter().find(|s| {
            s.section == Some(sec.index) && s.name == d.name && s.kind != SymKind::Section
        });
        let Some(sym) = sym else {
            bail!("BPF908", ".maps: map '{}' has no ELF symbol", d.name);
        };
        m.sec_offset = sym.value;
        extents.push(sym.size.max(u64::from(d.struct_size)));
        out.push(m);
    }
    for r in &sec.relocs {
        let sym = &elf.symbols[r.sym];
        let Some(((m, d), _)) = out
            .iter_mut()
            .zip(defs.iter())
            .zip(extents.iter())
            .find(|((m, _), ext)| r.offset >= m.sec_offset && r.offset < m.sec_offset + **ext)
        else {
            bail!(
                "BPF908",
                ".maps: relocation at offset {} is not inside a map definition",
                r.offset
            );
        };
        let Some(values_off) = d.values_offset else {
            bail!(
                "BPF908",
                ".maps: map '{}' has a relocation but no 'values' member",
                m.name
            );
        };
        let rel = r.offset - m.sec_offset;
        if rel < u64::from(values_off) || (rel - u64::from(values_off)) % 8 != 0 {
            bail!(
                "BPF908",
                ".maps: map '{}': relocation at {} is not a 'values' slot",
                m.name,
                r.offset
            );
        }
        let slot = ((rel - u64::from(values_off)) / 8) as u32;
        m.init_slots.push((slot, sym.name.clone()));
    }
    Ok(out)
}

fn to_map_def(d: &btf::BtfMapDef, sec: &ElfSection) -> MapDef {
    MapDef {
        name: d.name.clone(),
        map_type: d.map_type,
        key_size: d.key_size,
        value_size: d.value_size,
        max_entries: d.max_entries,
        map_flags: d.map_flags,
        numa_node: d.numa_node,
        pinning: d.pinning,
        map_extra: d.map_extra,
        inner: d.inner.as_ref().map(|i| Box::new(to_map_def(i, sec))),
        btf_key_type_id: d.key_type_id,
        btf_value_type_id: d.value_type_id,
        origin: MapOrigin::Btf,
        section: sec.name.clone(),
        sec_offset: u64::from(d.sec_offset),
        initial: None,
        frozen: false,
        init_slots: Vec::new(),
    }
}

/// The `.kconfig` externs laid out as libbpf lays them out
/// (`bpf_object__collect_externs`, `cmp_externs`: by alignment descending,
/// then size ascending, then name; each at the next aligned offset):
/// (name, offset, size).
pub fn kconfig_layout(info: &BtfInfo) -> Vec<(String, u32, u32)> {
    let Some(local) = &info.local else {
        return Vec::new();
    };
    let mut vars: Vec<(String, u32, u32)> = local
        .datasec_vars(".kconfig")
        .into_iter()
        .map(|v| {
            let size = local
                .resolve_size(v.type_id)
                .unwrap_or(u64::from(v.size))
                .min(1 << 16) as u32;
            let align = size.clamp(1, 8).next_power_of_two().min(8);
            (v.name, size, align)
        })
        .collect();
    vars.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
    let mut off = 0u32;
    let mut out = Vec::new();
    for (name, size, align) in vars {
        off = off.div_ceil(align) * align;
        out.push((name, off, size));
        off += size;
    }
    out
}

/// Size of the `.kconfig` map (0 when there are no kconfig externs).
pub fn kconfig_size(info: &BtfInfo) -> u64 {
    kconfig_layout(info)
        .iter()
        .map(|(_, o, s)| u64::from(o + s))
        .max()
        .unwrap_or(0)
}

/// The values of the `.kconfig` externs we know for the 6.18 profile
/// (libbpf fills `LINUX_KERNEL_VERSION` and `LINUX_HAS_*` itself; other
/// `CONFIG_*` come from the kernel config, which we model as unset = 0,
/// the value libbpf gives a `__weak` extern it cannot find).
pub fn kconfig_values(info: &BtfInfo, size: u64) -> Vec<u8> {
    let mut data = vec![0u8; size as usize];
    for (name, off, size) in kconfig_layout(info) {
        let val: u64 = match name.as_str() {
            "LINUX_KERNEL_VERSION" => LINUX_KERNEL_VERSION_6_18,
            "LINUX_HAS_BPF_COOKIE" | "LINUX_HAS_SYSCALL_WRAPPER" => 1,
            "CONFIG_BPF_SYSCALL" | "CONFIG_BPF_JIT" | "CONFIG_DEBUG_INFO_BTF" => 1,
            _ => 0,
        };
        let bytes = val.to_le_bytes();
        let (off, sz) = (off as usize, (size as usize).min(8));
        if off + sz <= data.len() {
            data[off..off + sz].copy_from_slice(&bytes[..sz]);
        }
    }
    data
}

/// Relocates an instruction that refers to an extern symbol.
pub fn relocate_extern(
    prog: &mut Program,
    at: usize,
    name: &str,
    is_call: bool,
    weak: bool,
    info: &BtfInfo,
    kconfig_map: Option<usize>,
) -> Result<(), LoadError> {
    let in_kconfig = kconfig_layout(info).into_iter().find(|(n, _, _)| n == name);
    if let Some((_, off, _)) = in_kconfig {
        if is_call {
            bail!("BPF909", "kconfig extern '{name}' used as a function");
        }
        let Some(idx) = kconfig_map else {
            bail!("BPF909", "kconfig extern '{name}' without a .kconfig map");
        };
        prog.insns[at].src = BPF_PSEUDO_MAP_VALUE;
        prog.insns[at].imm = idx as i32;
        prog.insns[at + 1].imm = off as i32;
        prog.map_relocs.push(at);
        prog.externs.push(ExternRef {
            insn: at,
            name: name.to_string(),
            kind: "kconfig",
            target_btf_id: None,
        });
        return Ok(());
    }
    let target = info.target()?;
    if is_call {
        match target.find_by_name_kind(name, BtfKind::Func) {
            Some(id) => {
                let i = &mut prog.insns[at];
                i.src = BPF_PSEUDO_KFUNC_CALL;
                i.imm = id as i32;
                i.off = 0;
                prog.externs.push(ExternRef {
                    insn: at,
                    name: name.to_string(),
                    kind: "kfunc",
                    target_btf_id: Some(id),
                });
            }
            None if weak => {
                let n = prog.externs.len() as i32;
                prog.insns[at] =
                    RawInsn::new(BPF_JMP | BPF_CALL, 0, 0, 0, POISON_CALL_KFUNC_BASE + n);
                prog.externs.push(ExternRef {
                    insn: at,
                    name: name.to_string(),
                    kind: "kfunc",
                    target_btf_id: None,
                });
            }
            None => bail!(
                "BPF909",
                "extern (func ksym) '{name}': not found in kernel BTF"
            ),
        }
        return Ok(());
    }
    let id = target
        .find_by_name_kind(name, BtfKind::Var)
        .or_else(|| target.find_by_name_kind(name, BtfKind::Func));
    match id {
        Some(id) => {
            prog.insns[at].src = BPF_PSEUDO_BTF_ID;
            prog.insns[at].imm = id as i32;
            prog.insns[at + 1].imm = 0;
            prog.externs.push(ExternRef {
                insn: at,
                name: name.to_string(),
                kind: "ksym",
                target_btf_id: Some(id),
            });
        }
        None if weak => {
            // libbpf leaves an unresolved weak ksym as the constant 0.
            prog.insns[at].src = 0;
            prog.insns[at].imm = 0;
            prog.insns[at + 1].imm = 0;
            prog.externs.push(ExternRef {
                insn: at,
                name: name.to_string(),
                kind: "ksym",
                target_btf_id: None,
            });
        }
        None => bail!(
            "BPF909",
            "extern (var ksym) '{name}': not found in kernel BTF"
        ),
    }
    Ok(())
}
