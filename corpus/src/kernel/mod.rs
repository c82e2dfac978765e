//! The live-kernel oracle: loads programs into the running kernel through
//! our own small `bpf(2)` layer (no libbpf) and reports what its verifier
//! said.
//!
//! For each program, the maps it references are created as declared
//! (`BPF_MAP_CREATE`: prog arrays, map-in-map with the inner definition,
//! ringbufs, global data maps filled with their initial contents and
//! `.rodata`/`.kconfig` frozen, BTF key/value ids when the object has BTF),
//! the map references of `ld_imm64` are patched with the map fds, the
//! object's BTF is loaded after libbpf's fix-ups ([`btf_fixup`]), and
//! `BPF_PROG_LOAD` runs with `func_info`/`line_info`, the flags,
//! `attach_btf_id` for BTF-attached types, and a log at level 1 (or 2) |
//! `BPF_LOG_STATS`, the buffer grown until the whole log fits.
//!
//! Verdicts: `accept` (a program fd came back), `reject` (the load failed
//! and the verifier wrote a log), `not-run` (the kernel or our loader
//! refused before the verifier ran: no log — EPERM for fentry/lsm on this
//! kernel — or a map/BTF/attach target our loader could not set up). A
//! `not-run` is never guessed into a verdict.
//!
//! Like the selftests' `test_loader.c`, each program is loaded on its own,
//! with fresh maps.

pub mod btf_fixup;
pub mod log;
pub mod sys;

use bpfproof_analyzer::isa::RawInsn;
use bpfproof_analyzer::isa::raw::{BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE};
use bpfproof_analyzer::object::btf::{Btf, BtfKind, bundled_vmlinux_btf};
use bpfproof_analyzer::object::elf::{Elf, SymKind, parse_elf};
use bpfproof_analyzer::object::{self, LoadOptions, MapDef, MapOrigin, Object, Program};
use bpfproof_analyzer::platform::{AttachType, ProgType, prog_type_by_section};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::Instant;
pub use sys::Errno;

/// `BPF_F_STRICT_ALIGNMENT`.
pub const BPF_F_STRICT_ALIGNMENT: u32 = 1 << 0;
/// `BPF_F_ANY_ALIGNMENT`.
pub const BPF_F_ANY_ALIGNMENT: u32 = 1 << 1;
/// `BPF_F_TEST_RND_HI32`.
pub const BPF_F_TEST_RND_HI32: u32 = 1 << 2;
/// `BPF_F_TEST_STATE_FREQ`.
pub const BPF_F_TEST_STATE_FREQ: u32 = 1 << 3;
/// `BPF_F_SLEEPABLE`.
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS`.
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;
/// `BPF_F_TEST_REG_INVARIANTS`.
pub const BPF_F_TEST_REG_INVARIANTS: u32 = 1 << 7;

/// `BPF_LOG_STATS`.
const BPF_LOG_STATS: u32 = 4;
/// First log buffer size.
const LOG_START: usize = 1 << 20;
/// Largest log buffer we grow to.
const LOG_MAX: usize = 1 << 30;
/// Lines of a reject's log kept in a record.
pub const LOG_TAIL_LINES: usize = 200;

/// The prog flag named `name` (`BPF_F_ANY_ALIGNMENT`, ...), as the
/// selftests' `__flag(...)` spells them.
pub fn flag_by_name(name: &str) -> Option<u32> {
    Some(match name.trim() {
        "BPF_F_STRICT_ALIGNMENT" => BPF_F_STRICT_ALIGNMENT,
        "BPF_F_ANY_ALIGNMENT" => BPF_F_ANY_ALIGNMENT,
        "BPF_F_TEST_RND_HI32" => BPF_F_TEST_RND_HI32,
        "BPF_F_TEST_STATE_FREQ" => BPF_F_TEST_STATE_FREQ,
        "BPF_F_SLEEPABLE" => BPF_F_SLEEPABLE,
        "BPF_F_XDP_HAS_FRAGS" => BPF_F_XDP_HAS_FRAGS,
        "BPF_F_TEST_REG_INVARIANTS" => BPF_F_TEST_REG_INVARIANTS,
        s => return s.parse().ok(),
    })
}

/// The kernel's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelVerdict {
    /// The verifier accepted the program.
    Accept,
    /// The verifier rejected it.
    Reject,
    /// The verifier did not run.
    NotRun,
}

impl KernelVerdict {
    /// `accept`, `reject`, `not-run`.
    pub fn as_str(self) -> &'static str {
        match self {
            KernelVerdict::Accept => "accept",
            KernelVerdict::Reject => "reject",
            KernelVerdict::NotRun => "not-run",
        }
    }
}

/// How to load one program.
#[derive(Clone, Debug, Default)]
pub struct LoadSpec {
    /// Extra `prog_flags` (`BPF_F_ANY_ALIGNMENT`, ...), added to the ones
    /// the section gives (sleepable, XDP frags).
    pub prog_flags: u32,
    /// Verifier log level 1 or 2 (0 is treated as 1); `BPF_LOG_STATS` is
    /// always added.
    pub log_level: u32,
    /// CO-RE target BTF to use instead of the running kernel's (the
    /// selftests' `__btf_path`): an object file with `.BTF`, or raw BTF.
    pub btf_path: Option<std::path::PathBuf>,
}

/// What the kernel said about one program.
#[derive(Clone, Debug, Default)]
pub struct KernelOutcome {
    /// Verdict.
    pub verdict: Option<KernelVerdict>,
    /// `errno` of a failed load (positive), `None` when accepted.
    pub errno: Option<i32>,
    /// The verifier's first error line (rejects), or why it did not run.
    pub first_error: Option<String>,
    /// The whole log (rejects, and accepts at log level 2), possibly long;
    /// callers keep its tail.
    pub log: Option<String>,
    /// Statistics from the log.
    pub stats: log::LogStats,
    /// Wall time of the `BPF_PROG_LOAD` call, µs.
    pub load_time_us: u64,
    /// Loader notes (e.g. the BTF was refused and left out).
    pub notes: Vec<String>,
}

impl KernelOutcome {
    fn not_run(reason: impl Into<String>, errno: Option<i32>) -> Self {
        KernelOutcome {
            verdict: Some(KernelVerdict::NotRun),
            errno,
            first_error: Some(reason.into()),
            ..Default::default()
        }
    }

    /// The verdict, `not-run` when unset.
    pub fn verdict(&self) -> KernelVerdict {
        self.verdict.unwrap_or(KernelVerdict::NotRun)
    }
}

/// An object prepared for loading: the analyzer's view plus the raw BTF.
pub struct KernelObject {
    /// The analyzer's object (programs linked and relocated as libbpf does).
    pub obj: Object,
    elf: Option<Elf>,
    btf: Option<Result<(OwnedFd, btf_fixup::FixedBtf), String>>,
}

/// Reads a CO-RE target BTF: the `.BTF` of an ELF object, or a raw BTF file.
pub fn read_target_btf(path: &Path) -> Result<Btf, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let raw = if data.starts_with(b"\x7fELF") {
        let elf = parse_elf(&data).map_err(|e| format!("{}: {}", path.display(), e.message))?;
        elf.section_by_name(".BTF")
            .ok_or_else(|| format!("{}: no .BTF section", path.display()))?
            .data
            .clone()
    } else {
        data
    };
    Btf::parse(&raw).map_err(|e| format!("{}: {e}", path.display()))
}

/// Why an object could not be prepared.
#[derive(Clone, Debug)]
pub struct PrepareError(pub String);

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl KernelObject {
    /// Reads an object file and loads its BTF into the kernel.
    pub fn open(path: &Path) -> Result<KernelObject, PrepareError> {
        Self::open_with(path, &LoadOptions::default())
    }

    /// As [`KernelObject::open`], with analyzer load options (`--type`;
    /// CO-RE should target the running kernel's BTF, the default).
    pub fn open_with(path: &Path, opts: &LoadOptions) -> Result<KernelObject, PrepareError> {
        let data = std::fs::read(path)
            .map_err(|e| PrepareError(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&path.display().to_string(), &data, opts)
    }

    /// As [`KernelObject::open_with`], from the bytes.
    pub fn from_bytes(
        name: &str,
        data: &[u8],
        opts: &LoadOptions,
    ) -> Result<KernelObject, PrepareError> {
        let obj = object::load_bytes(name, data, opts)
            .map_err(|e| PrepareError(format!("error[{}]: {}", e.code, e.message)))?;
        let elf = parse_elf(data).map_err(|e| PrepareError(e.message))?;
        let btf = elf.section_by_name(".BTF").map(|sec| {
            let fixed = btf_fixup::fixup(&sec.data, &elf)?;
            let mut log = vec![0u8; 1 << 20];
            match sys::btf_load(&fixed.bytes, &mut log) {
                Ok(fd) => Ok((fd, fixed)),
                Err(e) => Err(format!(
                    "BPF_BTF_LOAD failed: {e}: {}",
                    log::tail(&cstring(&log), 3).trim()
                )),
            }
        });
        Ok(KernelObject {
            obj,
            elf: Some(elf),
            btf,
        })
    }

    /// An object built elsewhere (e.g. a raw instruction test), without BTF.
    pub fn from_object(obj: Object) -> KernelObject {
        KernelObject {
            obj,
            elf: None,
            btf: None,
        }
    }

    /// Loads program `idx` on its own, with fresh maps.
    pub fn load_program(&self, idx: usize, spec: &LoadSpec) -> KernelOutcome {
        let Some(prog) = self.obj.programs.get(idx) else {
            return KernelOutcome::not_run(format!("no program #{idx}"), None);
        };
        let mut notes = Vec::new();
        let btf = match &self.btf {
            Some(Ok((fd, fixed))) => Some((fd, fixed)),
            Some(Err(e)) => {
                notes.push(format!("object BTF left out: {e}"));
                None
            }
            None => None,
        };
        let relocated = self.elf.as_ref().and_then(|e| relocated_insns(e, prog));
        let cx = LoadCtx {
            obj: &self.obj,
            prog,
            prog_btf: btf.map(|(fd, _)| fd),
            strings: btf.map(|(_, f)| f.strings.as_slice()),
            map_btf: btf.map(|(fd, _)| fd),
            datasecs: btf.map(|(_, f)| &f.datasecs),
            relocated: relocated.as_ref(),
            elf: self.elf.as_ref(),
            attach_target: None,
        };
        let mut out = load_one(&cx, spec);
        out.notes.splice(0..0, notes);
        out
    }
}

/// The instructions of the linked program that carry an ELF relocation.
/// A `ld_imm64` with `src_reg` 1 or 2 but no relocation was written that
/// way in the source (raw asm with a literal fd): libbpf leaves it alone,
/// and so must we. `None` when a function cannot be found in the ELF.
fn relocated_insns(elf: &Elf, prog: &Program) -> Option<HashSet<usize>> {
    let mut set = HashSet::new();
    for sp in &prog.subprogs {
        let sym = elf.symbols.iter().find(|s| {
            s.name == sp.name
                && matches!(s.kind, SymKind::Func | SymKind::NoType)
                && s.section
                    .and_then(|i| elf.sections.get(i))
                    .is_some_and(|sec| sec.exec)
        })?;
        let sec = elf.sections.get(sym.section?)?;
        let base = (sym.value / 8) as usize;
        for r in &sec.relocs {
            let i = (r.offset / 8) as usize;
            if i >= base && i < base + sp.len {
                set.insert(sp.start + i - base);
            }
        }
    }
    Some(set)
}

fn cstring(buf: &[u8]) -> String {
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// A name the kernel accepts: at most 15 of `[A-Za-z0-9_.]`.
fn kernel_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(15)
        .collect()
}

const MAP_TYPE_PERF_EVENT_ARRAY: u32 = 4;
const MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
const MAP_TYPE_HASH_OF_MAPS: u32 = 13;
const MAP_TYPE_STRUCT_OPS: u32 = 26;
const MAP_TYPE_RINGBUF: u32 = 27;
const MAP_TYPE_USER_RINGBUF: u32 = 31;
const MAP_TYPE_ARENA: u32 = 33;

/// libbpf's `adjust_ringbuf_sz`: the kernel wants a power-of-2 multiple of
/// the page size; a size that is not one is rounded up to the next.
fn adjust_ringbuf_size(sz: u32) -> u32 {
    const PAGE: u64 = 4096;
    let sz64 = u64::from(sz);
    if sz == 0 || (sz64.is_multiple_of(PAGE) && (sz64 / PAGE).is_power_of_two()) {
        return sz;
    }
    let mut mul = 1u64;
    while mul * PAGE <= u64::from(u32::MAX) {
        if mul * PAGE > sz64 {
            return (mul * PAGE) as u32;
        }
        mul <<= 1;
    }
    0
}

fn nr_cpus() -> u32 {
    std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|s| {
            s.trim()
                .split(',')
                .filter_map(|r| r.rsplit('-').next()?.parse::<u32>().ok())
                .max()
        })
        .map_or(1, |m| m + 1)
}

/// Creates one map as declared. Returns the fd and notes.
fn create_map(
    m: &MapDef,
    btf_fd: Option<&OwnedFd>,
    datasecs: Option<&HashMap<String, u32>>,
    notes: &mut Vec<String>,
) -> Result<OwnedFd, String> {
    if m.map_type == MAP_TYPE_STRUCT_OPS {
        return Err(format!(
            "map '{}': struct_ops maps are not supported by our loader",
            m.name
        ));
    }
    let inner = match (&m.inner, m.map_type) {
        (Some(inner), _) => Some(create_map(inner, btf_fd, datasecs, notes)?),
        (None, MAP_TYPE_ARRAY_OF_MAPS | MAP_TYPE_HASH_OF_MAPS) => {
            return Err(format!(
                "map '{}': map-in-map without an inner map definition",
                m.name
            ));
        }
        _ => None,
    };
    let (key_id, value_id) = match m.origin {
        MapOrigin::Data | MapOrigin::Kconfig => (
            0,
            datasecs.and_then(|d| d.get(&m.name).copied()).unwrap_or(0),
        ),
        _ => (
            m.btf_key_type_id.unwrap_or(0),
            m.btf_value_type_id.unwrap_or(0),
        ),
    };
    let max_entries = match m.map_type {
        MAP_TYPE_PERF_EVENT_ARRAY if m.max_entries == 0 => nr_cpus(),
        MAP_TYPE_RINGBUF | MAP_TYPE_USER_RINGBUF => adjust_ringbuf_size(m.max_entries),
        _ => m.max_entries,
    };
    let name = kernel_name(&m.name);
    let mut attr = sys::MapCreate {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries,
        map_flags: m.map_flags,
        inner_map_fd: inner.as_ref(),
        numa_node: m.numa_node,
        name: &name,
        btf_fd: None,
        btf_key_type_id: key_id,
        btf_value_type_id: value_id,
        map_extra: m.map_extra,
    };
    if key_id != 0 || value_id != 0 {
        attr.btf_fd = btf_fd;
    }
    let fd = match sys::map_create(&attr) {
        Ok(fd) => fd,
        Err(e) if attr.btf_fd.is_some() => {
            // libbpf retries without BTF, too.
            attr.btf_fd = None;
            let fd = sys::map_create(&attr)
                .map_err(|e2| format!("map '{}': BPF_MAP_CREATE: {e2}", m.name))?;
            notes.push(format!("map '{}' created without BTF ({e})", m.name));
            fd
        }
        Err(e) => return Err(format!("map '{}': BPF_MAP_CREATE: {e}", m.name)),
    };
    if m.map_type == MAP_TYPE_ARENA && m.map_extra == 0 {
        // libbpf mmaps every arena after creating it; without map_extra
        // that mmap picks the arena's user address, which the verifier
        // requires ("arena's user address must be set via map_extra or
        // mmap()"). The address stays set after munmap.
        sys::map_mmap_once(&fd, u64::from(max_entries) * 4096)
            .map_err(|e| format!("map '{}': mmap of the arena: {e}", m.name))?;
    }
    if let Some(init) = &m.initial {
        let mut value = init.clone();
        value.resize(m.value_size as usize, 0);
        sys::map_update(&fd, &0u32.to_le_bytes(), &value)
            .map_err(|e| format!("map '{}': initial contents: {e}", m.name))?;
        if m.frozen {
            sys::map_freeze(&fd).map_err(|e| format!("map '{}': BPF_MAP_FREEZE: {e}", m.name))?;
        }
    }
    Ok(fd)
}

/// The running kernel's vmlinux BTF (`/sys/kernel/btf/vmlinux`), read once.
fn live_vmlinux_btf() -> Option<&'static Btf> {
    static LIVE: std::sync::OnceLock<Option<Btf>> = std::sync::OnceLock::new();
    LIVE.get_or_init(|| {
        let p = Path::new("/sys/kernel/btf/vmlinux");
        p.is_file().then(|| read_target_btf(p).ok()).flatten()
    })
    .as_ref()
}

/// The BTF id of the attach target of a BTF-attached program, as libbpf's
/// `libbpf_find_attach_btf_id` finds it in vmlinux BTF.
fn attach_btf_id(prog: &Program, target: Option<&str>) -> Result<u32, String> {
    if target == Some("") {
        // A raw test without a target: the kernel says what it thinks.
        return Ok(0);
    }
    let target =
        target.unwrap_or_else(|| prog.section.split_once('/').map(|(_, t)| t).unwrap_or(""));
    if target.is_empty() {
        return Err(format!("section '{}' names no attach target", prog.section));
    }
    // libbpf looks the target up in the running kernel's BTF: its type ids
    // differ between kernel builds.
    let vmlinux: &Btf = match live_vmlinux_btf() {
        Some(b) => b,
        None => bundled_vmlinux_btf().map_err(|e| e.to_string())?,
    };
    let (name, kind) = match prog.attach_type {
        Some(AttachType::TraceRawTp) => (format!("btf_trace_{target}"), BtfKind::Typedef),
        Some(AttachType::TraceIter) => (format!("bpf_iter_{target}"), BtfKind::Func),
        Some(AttachType::LsmMac | AttachType::LsmCgroup) => {
            (format!("bpf_lsm_{target}"), BtfKind::Func)
        }
        _ => (target.to_string(), BtfKind::Func),
    };
    vmlinux
        .find_by_name_kind(&name, kind)
        .ok_or_else(|| format!("attach target '{name}' not found in vmlinux BTF"))
}

/// A struct_ops program's `attach_btf_id` (the kernel struct, e.g.
/// `bpf_dummy_ops`, in vmlinux BTF) and `expected_attach_type` (the index
/// of the member it implements), found as libbpf does: the `.struct_ops`
/// variable whose member slot is relocated against the program.
fn struct_ops_target(
    obj: &Object,
    elf: Option<&Elf>,
    prog: &Program,
) -> Result<(u32, u32), String> {
    let fail = |m: &str| format!("struct_ops program '{}': {m}", prog.name);
    let elf = elf.ok_or_else(|| fail("no ELF"))?;
    let btf = obj
        .btf
        .as_deref()
        .ok_or_else(|| fail("the object has no BTF"))?;
    let vmlinux: &Btf = bundled_vmlinux_btf().map_err(|e| e.to_string())?;
    for sec in elf
        .sections
        .iter()
        .filter(|s| s.name == ".struct_ops" || s.name == ".struct_ops.link")
    {
        for r in &sec.relocs {
            if elf.symbols.get(r.sym).is_none_or(|s| s.name != prog.name) {
                continue;
            }
            // The variable holding this slot.
            let Some(var) = elf.symbols.iter().find(|v| {
                v.section == Some(sec.index)
                    && v.kind != SymKind::Section
                    && r.offset >= v.value
                    && r.offset < v.value + v.size.max(1)
            }) else {
                continue;
            };
            let var_id = btf
                .find_by_name_kind(&var.name, BtfKind::Var)
                .ok_or_else(|| fail(&format!("no BTF VAR '{}'", var.name)))?;
            let sid = btf.skip_mods_and_typedefs(
                btf.type_by_id(var_id)
                    .and_then(|t| t.ref_type())
                    .unwrap_or(0),
            );
            let st = btf.type_by_id(sid).ok_or_else(|| fail("bad BTF type"))?;
            let bit = (r.offset - var.value) * 8;
            let member = st
                .members()
                .iter()
                .find(|m| u64::from(m.bit_offset) == bit)
                .ok_or_else(|| fail("relocated slot is not a member"))?;
            let mname = btf.str_at(member.name_off).unwrap_or("");
            let sname = btf.name_of(sid);
            let kid = vmlinux
                .find_by_name_kind(sname, BtfKind::Struct)
                .ok_or_else(|| fail(&format!("struct {sname} not in vmlinux BTF")))?;
            let idx = vmlinux
                .type_by_id(kid)
                .map(|t| t.members())
                .unwrap_or_default()
                .iter()
                .position(|m| vmlinux.str_at(m.name_off) == Some(mname))
                .ok_or_else(|| fail(&format!("struct {sname} has no member {mname}")))?;
            return Ok((kid, idx as u32));
        }
    }
    Err(fail("not referenced from a .struct_ops variable"))
}

fn needs_attach_btf(prog: &Program) -> bool {
    matches!(
        prog.prog_type,
        Some(ProgType::Tracing | ProgType::Lsm | ProgType::StructOps | ProgType::Ext)
    )
}

/// Everything one `BPF_PROG_LOAD` needs besides the spec.
struct LoadCtx<'a> {
    obj: &'a Object,
    prog: &'a Program,
    /// `prog_btf_fd` (with `func_info`/`line_info`).
    prog_btf: Option<&'a OwnedFd>,
    /// The string section of the program BTF, for `line_info`.
    strings: Option<&'a [u8]>,
    /// BTF for map key/value types.
    map_btf: Option<&'a OwnedFd>,
    /// DATASEC ids of the map BTF, for global data maps.
    datasecs: Option<&'a HashMap<String, u32>>,
    /// Instructions whose map references are to be patched (`None`: all).
    relocated: Option<&'a HashSet<usize>>,
    elf: Option<&'a Elf>,
    /// Attach target name instead of the section's.
    attach_target: Option<&'a str>,
}

fn load_one(cx: &LoadCtx<'_>, spec: &LoadSpec) -> KernelOutcome {
    let (obj, prog, relocated, elf) = (cx.obj, cx.prog, cx.relocated, cx.elf);
    if let Some(e) = &prog.load_error {
        return KernelOutcome::not_run(
            format!(
                "bpfproof could not prepare the program: error[{}]: {}",
                e.code, e.message
            ),
            None,
        );
    }
    let Some(prog_type) = prog.prog_type else {
        return KernelOutcome::not_run(
            format!("section '{}' names no program type", prog.section),
            None,
        );
    };
    let mut notes = Vec::new();
    let mut struct_ops_member = None;
    let attach_btf_id = if needs_attach_btf(prog) {
        match prog.prog_type {
            Some(ProgType::StructOps) => match struct_ops_target(obj, elf, prog) {
                Ok((id, member)) => {
                    struct_ops_member = Some(member);
                    id
                }
                Err(e) => return KernelOutcome::not_run(e, None),
            },
            Some(ProgType::Ext) if cx.attach_target == Some("") => 0,
            Some(ProgType::Ext) => {
                return KernelOutcome::not_run(
                    "freplace programs need a target program; not supported by our loader",
                    None,
                );
            }
            _ => match attach_btf_id(prog, cx.attach_target) {
                Ok(id) => id,
                Err(e) => return KernelOutcome::not_run(e, None),
            },
        }
    } else {
        0
    };

    // Maps referenced by the program, created fresh.
    let mut fds: HashMap<usize, OwnedFd> = HashMap::new();
    let mut insns: Vec<RawInsn> = prog.insns.clone();
    let mut k = 0;
    while k < insns.len() {
        let i = insns[k];
        if i.is_ldimm64() {
            if (i.src == BPF_PSEUDO_MAP_FD || i.src == BPF_PSEUDO_MAP_VALUE)
                && relocated.is_none_or(|r| r.contains(&k))
            {
                let idx = i.imm as usize;
                if let std::collections::hash_map::Entry::Vacant(v) = fds.entry(idx) {
                    let Some(def) = obj.maps.get(idx) else {
                        return KernelOutcome::not_run(
                            format!("insn {k} refers to map #{idx}, which does not exist"),
                            None,
                        );
                    };
                    match create_map(def, cx.map_btf, cx.datasecs, &mut notes) {
                        Ok(fd) => {
                            v.insert(fd);
                        }
                        Err(e) => {
                            let mut o = KernelOutcome::not_run(e, None);
                            o.notes = notes;
                            return o;
                        }
                    }
                }
                insns[k].imm = fds[&idx].as_raw_fd();
            }
            k += 2;
        } else {
            k += 1;
        }
    }
    let insn_bytes: Vec<u8> = insns.iter().flat_map(|i| i.to_bytes()).collect();

    let sec = prog_type_by_section(&prog.section);
    let mut flags = spec.prog_flags;
    if prog.sleepable {
        flags |= BPF_F_SLEEPABLE;
    }
    if sec.is_some_and(|s| s.xdp_has_frags()) {
        flags |= BPF_F_XDP_HAS_FRAGS;
    }

    // func_info / line_info against the loaded BTF.
    let mut func_info = Vec::new();
    let mut line_info = Vec::new();
    if cx.prog_btf.is_some() {
        for f in &prog.func_info {
            func_info.extend_from_slice(&(f.insn as u32).to_le_bytes());
            func_info.extend_from_slice(&f.type_id.to_le_bytes());
        }
    }
    if let (Some(_), Some(strings)) = (cx.prog_btf, cx.strings) {
        let strs = btf_fixup::string_offsets(strings);
        for l in &prog.line_info {
            let file = strs.get(l.file.as_str()).copied().unwrap_or(0);
            let text = strs.get(l.text.as_str()).copied().unwrap_or(0);
            for v in [l.insn as u32, file, text, (l.line << 10) | (l.col & 0x3ff)] {
                line_info.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let mut license = obj.license.clone().into_bytes();
    license.push(0);
    let name = kernel_name(&prog.name);
    let level = if spec.log_level == 0 {
        1
    } else {
        spec.log_level
    };

    let mut size = LOG_START;
    loop {
        let mut logbuf = vec![0u8; size];
        let mut attr = sys::ProgLoad {
            prog_type: prog_type.as_u32(),
            insns: &insn_bytes,
            license: &license,
            log_level: level | BPF_LOG_STATS,
            log: &mut logbuf,
            kern_version: obj.kern_version.unwrap_or(0),
            prog_flags: flags,
            name: &name,
            expected_attach_type: struct_ops_member
                .unwrap_or_else(|| prog.attach_type.map_or(0, AttachType::as_u32)),
            prog_btf_fd: cx.prog_btf,
            func_info: &func_info,
            func_info_cnt: prog.func_info.len() as u32,
            line_info: &line_info,
            line_info_cnt: (line_info.len() / 16) as u32,
            attach_btf_id,
            fd_array: &[],
        };
        if cx.prog_btf.is_none() {
            attr.func_info_cnt = 0;
        }
        let start = Instant::now();
        let r = sys::prog_load(&mut attr);
        let load_time_us = start.elapsed().as_micros() as u64;
        let log_text = cstring(&logbuf);
        if let Err(Errno(libc::ENOSPC)) = r.result
            && size < LOG_MAX
        {
            let want = (r.log_true_size as usize).max(size * 4);
            size = want.saturating_add(4096).min(LOG_MAX);
            continue;
        }
        let stats = log::parse_stats(&log_text);
        let mut out = KernelOutcome {
            stats,
            load_time_us,
            notes,
            ..Default::default()
        };
        match r.result {
            Ok(_fd) => {
                out.verdict = Some(KernelVerdict::Accept);
                if level >= 2 {
                    out.log = Some(log_text);
                }
            }
            Err(e) if log_text.trim().is_empty() => {
                out.verdict = Some(KernelVerdict::NotRun);
                out.errno = Some(e.0);
                out.first_error = Some(format!(
                    "BPF_PROG_LOAD failed without verifier log: {}",
                    e.name()
                ));
            }
            Err(e) => {
                out.verdict = Some(KernelVerdict::Reject);
                out.errno = Some(e.0);
                out.first_error = log::first_error(&log_text).or_else(|| {
                    log_text
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .map(|l| l.trim().to_string())
                });
                out.log = Some(log_text);
            }
        }
        return out;
    }
}

/// Loads a raw instruction test the way `test_verifier` does: its maps as
/// the `fixup_*` arrays ask (with test_verifier's map BTF, `maps_btf`,
/// where the map type needs BTF), its own BTF for `func_info`, the flags
/// test_verifier passes plus `testing_prog_flags()`, and its attach target.
/// Prog arrays are left empty (the verifier does not look at their
/// contents; test_verifier fills them only to run the program).
pub fn load_raw(rp: &crate::build::raw::RawProgram, maps_btf: Option<&[u8]>) -> KernelOutcome {
    let Some(prog) = rp.object.programs.first() else {
        return KernelOutcome::not_run("raw test without a program", None);
    };
    let mut notes = Vec::new();
    let mut load_btf = |what: &str, blob: &[u8]| -> Option<OwnedFd> {
        let mut log = vec![0u8; 1 << 16];
        match sys::btf_load(blob, &mut log) {
            Ok(fd) => Some(fd),
            Err(e) => {
                notes.push(format!(
                    "{what} BTF left out: BPF_BTF_LOAD failed: {e}: {}",
                    log::tail(&cstring(&log), 2).trim()
                ));
                None
            }
        }
    };
    let map_btf = match maps_btf {
        Some(b) if rp.raw_maps.iter().any(|m| m.uses_maps_btf) => load_btf("map", b),
        _ => None,
    };
    let prog_btf = rp.prog_btf.as_deref().and_then(|b| load_btf("program", b));
    let relocated: HashSet<usize> = rp
        .raw_maps
        .iter()
        .flat_map(|m| m.insns.iter().copied())
        .collect();
    let cx = LoadCtx {
        obj: &rp.object,
        prog,
        prog_btf: prog_btf.as_ref(),
        strings: None,
        map_btf: map_btf.as_ref(),
        datasecs: None,
        relocated: Some(&relocated),
        elf: None,
        attach_target: Some(rp.attach_btf_name.as_deref().unwrap_or("")),
    };
    let spec = LoadSpec {
        prog_flags: rp.prog_flags | BPF_F_TEST_RND_HI32 | BPF_F_TEST_REG_INVARIANTS,
        log_level: 1,
        btf_path: None,
    };
    let mut out = load_one(&cx, &spec);
    out.notes.splice(0..0, notes);
    out
}

/// `uname -r` of the running kernel.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Whether this process can load BPF programs at all (Linux, and a
/// `BPF_PROG_LOAD` of `r0 = 0; exit` as a socket filter succeeds).
pub fn available() -> Result<(), String> {
    let insns: Vec<u8> = [
        RawInsn::new(0xb7, 0, 0, 0, 0),
        RawInsn::new(0x95, 0, 0, 0, 0),
    ]
    .iter()
    .flat_map(|i| i.to_bytes())
    .collect();
    let mut attr = sys::ProgLoad {
        prog_type: ProgType::SocketFilter.as_u32(),
        insns: &insns,
        license: b"GPL\0",
        name: "bpfproof_probe",
        ..Default::default()
    };
    match sys::prog_load(&mut attr).result {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "cannot load BPF programs into this kernel ({e}); run as root on Linux"
        )),
    }
}
