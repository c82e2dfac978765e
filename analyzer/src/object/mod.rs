//! Object loading: a `.bpf.o` file becomes [`Object`] with its
//! [`Program`]s exactly as libbpf would hand them to `BPF_PROG_LOAD`:
//! subprograms appended and call offsets fixed (`bpf_object__reloc_code`),
//! map and global-data references turned into pseudo `ld_imm64`s, CO-RE
//! relocations applied against a target kernel BTF, externs resolved.
//!
//! What is modelled: programs as libbpf names them (FUNC symbols of
//! executable sections) plus the legacy forms (NOTYPE symbols, sections
//! without symbols, `.text`-only objects); `R_BPF_64_32` calls,
//! `R_BPF_64_64` ld_imm64 to maps, data, functions and externs; BTF-defined,
//! legacy and data maps; `.BTF`/`.BTF.ext`; CO-RE field/type/enum kinds.
//! Not modelled: static linking of several objects, `.struct_ops` map
//! contents, kernel module BTF (only vmlinux BTF resolves externs).

pub mod btf;
mod btf_glue;
pub mod elf;
pub mod error;
mod link;
pub mod maps;

pub use error::LoadError;
pub use link::{CoreRecord, ExternRef, FuncInfoEntry, LineEntry, Subprog};
pub use maps::{MapDef, MapOrigin};

use crate::isa::RawInsn;
use crate::platform::{AttachType, ProgType};
use std::sync::Arc;

/// Options that change how an object is read.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// Target kernel BTF for CO-RE and externs; `None` = the bundled 6.18 BTF.
    pub target_btf: Option<Arc<btf::Btf>>,
    /// Program type to use instead of the one the section name gives.
    pub prog_type_override: Option<ProgType>,
}

/// A loaded object file.
#[derive(Clone, Debug)]
pub struct Object {
    /// The path or name it was read from, for messages.
    pub name: String,
    /// The `license` section (empty when missing).
    pub license: String,
    /// The legacy `version` section, when present.
    pub kern_version: Option<u32>,
    /// Programs, in section then symbol order.
    pub programs: Vec<Program>,
    /// Every map the object defines; `ld_imm64` map references index this table.
    pub maps: Vec<MapDef>,
    /// The object's own BTF, when it has one.
    pub btf: Option<Arc<btf::Btf>>,
}

/// One loadable program after linking and relocation.
#[derive(Clone, Debug)]
pub struct Program {
    /// Function symbol name (as libbpf, bpftool and veristat name it).
    pub name: String,
    /// ELF section name (without a leading `?`, which is kept in `autoload`).
    pub section: String,
    /// Program type from the section name or `--type`; `None` when unknown.
    pub prog_type: Option<ProgType>,
    /// Expected attach type from the section name.
    pub attach_type: Option<AttachType>,
    /// The section name is a legacy (pre-libbpf-1.0) form.
    pub legacy_section: bool,
    /// libbpf would not load it by default (`SEC("?...")`).
    pub autoload: bool,
    /// Sleepable (`.s` section suffixes).
    pub sleepable: bool,
    /// Instructions after linking, relocation and CO-RE, as the kernel sees them.
    pub insns: Vec<RawInsn>,
    /// Functions making up the program: `[0]` is the entry point.
    pub subprogs: Vec<Subprog>,
    /// BTF `func_info`, relative to `insns`.
    pub func_info: Vec<FuncInfoEntry>,
    /// BTF `line_info`, relative to `insns`, sorted by instruction.
    pub line_info: Vec<LineEntry>,
    /// CO-RE relocations applied (or poisoned) in this program.
    pub core_relos: Vec<CoreRecord>,
    /// Externs (kfuncs, ksyms, kconfig) referenced.
    pub externs: Vec<ExternRef>,
    /// `ld_imm64` instructions whose map reference the loader filled in
    /// (their `imm` is an index into the object's maps). Any other pseudo
    /// map `ld_imm64` carries a raw fd number, as hand-written programs do.
    pub map_relocs: Vec<usize>,
    /// Set when this program (not the whole object) could not be prepared.
    pub load_error: Option<LoadError>,
}

impl Program {
    /// The C source line of instruction `insn`, from `line_info`: the last
    /// entry at or before it.
    pub fn line_for(&self, insn: usize) -> Option<&LineEntry> {
        let i = self.line_info.partition_point(|l| l.insn <= insn);
        if i == 0 {
            None
        } else {
            self.line_info.get(i - 1)
        }
    }

    /// The subprogram containing instruction `insn`.
    pub fn subprog_for(&self, insn: usize) -> Option<&Subprog> {
        self.subprogs.iter().rev().find(|s| s.start <= insn)
    }
}

/// The license strings the kernel treats as GPL-compatible
/// (`license_is_gpl_compatible`).
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

impl Object {
    /// True when the license lets programs call GPL-only helpers.
    pub fn gpl_compatible(&self) -> bool {
        license_is_gpl_compatible(&self.license)
    }
}

/// Reads an object from a file. I/O errors are `BPF901`.
pub fn load_file(path: &std::path::Path, opts: &LoadOptions) -> Result<Object, LoadError> {
    let data = std::fs::read(path)
        .map_err(|e| LoadError::new("BPF901", format!("cannot read {}: {e}", path.display())))?;
    load_bytes(&path.display().to_string(), &data, opts)
}

/// Reads an object from its bytes.
pub fn load_bytes(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Object, LoadError> {
    link::load(name, data, opts)
}
