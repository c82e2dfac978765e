//! BTF machinery: parsing `.BTF` / vmlinux BTF, `.BTF.ext` (func_info,
//! line_info, CO-RE relocations), CO-RE relocation resolution against a
//! target kernel BTF, BTF-defined map definitions (`.maps`), and the bundled
//! Linux 6.18 vmlinux BTF.
//!
//! Semantics follow libbpf (`tools/lib/bpf/btf.c`, `btf_ext`, `relo_core.c`,
//! `parse_btf_map_def`); all parsing is bounds-checked and type chains are
//! followed at most `MAX_RESOLVE_DEPTH` (32) steps.

pub mod core;
pub mod ext;
pub mod maps;
pub mod parse;
pub mod types;

use std::sync::OnceLock;

pub use self::core::{CoreCache, CoreOutcome, apply_core_relo};
pub use ext::{BtfExt, BtfExtSection, CoreRelo, CoreReloKind, FuncInfo, LineInfo};
pub use maps::{BtfMapDef, MapValuesKind, parse_btf_map_defs};
pub use parse::{Btf, DatasecVar, MAX_RESOLVE_DEPTH, VarSymbol};
pub use types::*;

/// Errors from BTF parsing, CO-RE relocation and map definition parsing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    /// The `.BTF` blob is malformed.
    #[error("malformed BTF: {0}")]
    Malformed(String),
    /// The `.BTF.ext` blob is malformed.
    #[error("malformed .BTF.ext: {0}")]
    MalformedExt(String),
    /// A type id is out of range.
    #[error("BTF type id {0} out of range")]
    BadTypeId(u32),
    /// The size of a type cannot be resolved.
    #[error("cannot resolve size of BTF type [{0}]: {1}")]
    Resolve(u32, &'static str),
    /// A CO-RE relocation is malformed or cannot be applied (libbpf would fail the load).
    #[error("CO-RE relocation: {0}")]
    Core(String),
    /// A BTF-defined map definition is invalid (libbpf would fail the open).
    #[error("map definition: {0}")]
    MapDef(String),
    /// The bundled vmlinux BTF could not be decompressed or parsed.
    #[error("bundled vmlinux BTF: {0}")]
    Bundled(String),
}

/// The gzip-compressed BTF of the Linux 6.18 vmlinux bundled with bpfproof.
static BUNDLED_VMLINUX_GZ: &[u8] = include_bytes!("../../../data/vmlinux-6.18.btf.gz");

/// The bundled Linux 6.18 vmlinux BTF, decompressed and parsed once.
pub fn bundled_vmlinux_btf() -> Result<&'static Btf, BtfError> {
    static CELL: OnceLock<Result<Btf, BtfError>> = OnceLock::new();
    CELL.get_or_init(|| {
        use std::io::Read;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(BUNDLED_VMLINUX_GZ)
            .read_to_end(&mut raw)
            .map_err(|e| BtfError::Bundled(e.to_string()))?;
        Btf::parse(&raw).map_err(|e| BtfError::Bundled(e.to_string()))
    })
    .as_ref()
    .map_err(Clone::clone)
}
