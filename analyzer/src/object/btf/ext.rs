//! Parsing of `.BTF.ext`: func_info, line_info and CO-RE relocation records,
//! grouped per ELF section name.

use std::collections::BTreeMap;

use super::BtfError;
use super::parse::{BTF_MAGIC, BTF_VERSION, Btf, le_u16, le_u32};

/// Minimum `struct btf_ext_header` length (up to `line_info_len`).
const EXT_HDR_MIN: u32 = 24;
/// Header length that includes `core_relo_off`/`core_relo_len`.
const EXT_HDR_CORE: u32 = 32;
/// `sizeof(struct bpf_func_info)`.
const FUNC_INFO_MIN: u32 = 8;
/// `sizeof(struct bpf_line_info)`.
const LINE_INFO_MIN: u32 = 16;
/// `sizeof(struct bpf_core_relo)`.
const CORE_RELO_MIN: u32 = 16;

/// One `bpf_func_info` record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its ELF section.
    pub insn_off_bytes: u32,
    /// BTF id of the FUNC.
    pub type_id: u32,
}

/// One `bpf_line_info` record, with strings resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off_bytes: u32,
    /// Source file name.
    pub file: String,
    /// Line number (`line_col >> 10`).
    pub line: u32,
    /// Column (`line_col & 0x3ff`).
    pub col: u32,
    /// Source line text.
    pub text: String,
}

/// CO-RE relocation kinds (`enum bpf_core_relo_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoreReloKind {
    /// 0: field byte offset.
    FieldByteOffset,
    /// 1: field byte size.
    FieldByteSize,
    /// 2: field existence.
    FieldExists,
    /// 3: field signedness.
    FieldSigned,
    /// 4: bitfield-extraction left shift.
    FieldLshiftU64,
    /// 5: bitfield-extraction right shift.
    FieldRshiftU64,
    /// 6: type id in local BTF.
    TypeIdLocal,
    /// 7: type id in target BTF.
    TypeIdTarget,
    /// 8: type existence.
    TypeExists,
    /// 9: type byte size.
    TypeSize,
    /// 10: enumerator existence.
    EnumvalExists,
    /// 11: enumerator value.
    EnumvalValue,
    /// 12: type matches (strict structural match).
    TypeMatches,
    /// Any other value (libbpf rejects it when applying).
    Unknown(u32),
}

impl CoreReloKind {
    /// Decodes the raw `kind` field.
    pub fn from_raw(k: u32) -> CoreReloKind {
        use CoreReloKind::*;
        match k {
            0 => FieldByteOffset,
            1 => FieldByteSize,
            2 => FieldExists,
            3 => FieldSigned,
            4 => FieldLshiftU64,
            5 => FieldRshiftU64,
            6 => TypeIdLocal,
            7 => TypeIdTarget,
            8 => TypeExists,
            9 => TypeSize,
            10 => EnumvalExists,
            11 => EnumvalValue,
            12 => TypeMatches,
            k => Unknown(k),
        }
    }

    /// The name libbpf prints for this kind (`byte_off`, `field_exists`, ...).
    pub fn as_str(self) -> &'static str {
        use CoreReloKind::*;
        match self {
            FieldByteOffset => "byte_off",
            FieldByteSize => "byte_sz",
            FieldExists => "field_exists",
            FieldSigned => "signed",
            FieldLshiftU64 => "lshift_u64",
            FieldRshiftU64 => "rshift_u64",
            TypeIdLocal => "local_type_id",
            TypeIdTarget => "target_type_id",
            TypeExists => "type_exists",
            TypeSize => "type_size",
            EnumvalExists => "enumval_exists",
            EnumvalValue => "enumval_value",
            TypeMatches => "type_matches",
            Unknown(_) => "unknown",
        }
    }

    /// True for the FIELD_* kinds.
    pub fn is_field_based(self) -> bool {
        use CoreReloKind::*;
        matches!(
            self,
            FieldByteOffset
                | FieldByteSize
                | FieldExists
                | FieldSigned
                | FieldLshiftU64
                | FieldRshiftU64
        )
    }

    /// True for the TYPE_* kinds.
    pub fn is_type_based(self) -> bool {
        use CoreReloKind::*;
        matches!(
            self,
            TypeIdLocal | TypeIdTarget | TypeExists | TypeSize | TypeMatches
        )
    }

    /// True for the ENUMVAL_* kinds.
    pub fn is_enumval_based(self) -> bool {
        matches!(
            self,
            CoreReloKind::EnumvalExists | CoreReloKind::EnumvalValue
        )
    }
}

/// One `bpf_core_relo` record, with the access string resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset of the relocated instruction in its ELF section.
    pub insn_off_bytes: u32,
    /// Local (program BTF) root type id.
    pub type_id: u32,
    /// Access string, e.g. `0:1:2`.
    pub access: String,
    /// Relocation kind.
    pub kind: CoreReloKind,
}

/// All `.BTF.ext` records of one ELF section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExtSection {
    /// func_info records.
    pub func_info: Vec<FuncInfo>,
    /// line_info records.
    pub line_info: Vec<LineInfo>,
    /// CO-RE relocation records.
    pub core_relo: Vec<CoreRelo>,
}

/// A parsed `.BTF.ext` blob.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BtfExt {
    sections: BTreeMap<String, BtfExtSection>,
    func_info_rec_size: u32,
    line_info_rec_size: u32,
    core_relo_rec_size: u32,
}

fn bad(msg: impl Into<String>) -> BtfError {
    BtfError::MalformedExt(msg.into())
}

/// One info subsection: record size and per-section blocks of raw records.
struct InfoBlocks<'a> {
    rec_size: u32,
    blocks: Vec<(String, Vec<&'a [u8]>)>,
}

impl BtfExt {
    /// Parses a little-endian `.BTF.ext` blob; strings resolve through `btf`.
    pub fn parse(data: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        let magic = le_u16(data, 0).ok_or_else(|| bad("truncated header"))?;
        if magic != BTF_MAGIC {
            return Err(bad(format!("bad magic {magic:#06x}")));
        }
        let version = *data.get(2).ok_or_else(|| bad("truncated header"))?;
        if version != BTF_VERSION {
            return Err(bad(format!("unsupported version {version}")));
        }
        let flags = *data.get(3).ok_or_else(|| bad("truncated header"))?;
        if flags != 0 {
            return Err(bad(format!("unsupported flags {flags:#x}")));
        }
        let hdr_len = le_u32(data, 4).ok_or_else(|| bad("truncated header"))?;
        if hdr_len < EXT_HDR_MIN || hdr_len as usize > data.len() {
            return Err(bad(format!("invalid header length {hdr_len}")));
        }
        if hdr_len as usize == data.len() {
            return Err(bad("no data after header"));
        }
        let field = |off: usize| le_u32(data, off).ok_or_else(|| bad("truncated header"));
        let mut ext = BtfExt::default();

        let fi = parse_subsection(
            data,
            hdr_len,
            field(8)?,
            field(12)?,
            FUNC_INFO_MIN,
            btf,
            "func_info",
        )?;
        let li = parse_subsection(
            data,
            hdr_len,
            field(16)?,
            field(20)?,
            LINE_INFO_MIN,
            btf,
            "line_info",
        )?;
        let cr = if hdr_len >= EXT_HDR_CORE {
            parse_subsection(
                data,
                hdr_len,
                field(24)?,
                field(28)?,
                CORE_RELO_MIN,
                btf,
                "core_relo",
            )?
        } else {
            None
        };
        let ntypes = btf.types_len() as u64;
        let str_of = |off: u32, what: &str| {
            btf.str_at(off)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("{what}: invalid string offset {off}")))
        };
        // Source text and file names may be in any encoding: resolve lossily.
        let text_of = |off: u32, what: &str| {
            btf.str_bytes_at(off)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .ok_or_else(|| bad(format!("{what}: invalid string offset {off}")))
        };
        if let Some(fi) = fi {
            ext.func_info_rec_size = fi.rec_size;
            for (sec, recs) in fi.blocks {
                let out = &mut ext.sections.entry(sec).or_default().func_info;
                for r in recs {
                    let type_id = rec_u32(r, 4)?;
                    if u64::from(type_id) >= ntypes {
                        return Err(bad(format!("func_info: type id {type_id} out of range")));
                    }
                    out.push(FuncInfo {
                        insn_off_bytes: rec_u32(r, 0)?,
                        type_id,
                    });
                }
            }
        }
        if let Some(li) = li {
            ext.line_info_rec_size = li.rec_size;
            for (sec, recs) in li.blocks {
                let out = &mut ext.sections.entry(sec).or_default().line_info;
                for r in recs {
                    let line_col = rec_u32(r, 12)?;
                    out.push(LineInfo {
                        insn_off_bytes: rec_u32(r, 0)?,
                        file: text_of(rec_u32(r, 4)?, "line_info file")?,
                        text: text_of(rec_u32(r, 8)?, "line_info line")?,
                        line: line_col >> 10,
                        col: line_col & 0x3ff,
                    });
                }
            }
        }
        if let Some(cr) = cr {
            ext.core_relo_rec_size = cr.rec_size;
            for (sec, recs) in cr.blocks {
                let out = &mut ext.sections.entry(sec).or_default().core_relo;
                for r in recs {
                    let type_id = rec_u32(r, 4)?;
                    if u64::from(type_id) >= ntypes {
                        return Err(bad(format!("core_relo: type id {type_id} out of range")));
                    }
                    out.push(CoreRelo {
                        insn_off_bytes: rec_u32(r, 0)?,
                        type_id,
                        access: str_of(rec_u32(r, 8)?, "core_relo access string")?,
                        kind: CoreReloKind::from_raw(rec_u32(r, 12)?),
                    });
                }
            }
        }
        Ok(ext)
    }

    /// Names of the ELF sections that have any records, sorted.
    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// All records of ELF section `sec` (None if it has none).
    pub fn section(&self, sec: &str) -> Option<&BtfExtSection> {
        self.sections.get(sec)
    }

    /// Iterates over `(section name, records)`.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &BtfExtSection)> {
        self.sections.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// func_info records of ELF section `sec`.
    pub fn func_info(&self, sec: &str) -> &[FuncInfo] {
        self.sections.get(sec).map_or(&[], |s| &s.func_info)
    }

    /// line_info records of ELF section `sec`.
    pub fn line_info(&self, sec: &str) -> &[LineInfo] {
        self.sections.get(sec).map_or(&[], |s| &s.line_info)
    }

    /// CO-RE relocation records of ELF section `sec`.
    pub fn core_relos(&self, sec: &str) -> &[CoreRelo] {
        self.sections.get(sec).map_or(&[], |s| &s.core_relo)
    }

    /// Record sizes as found in the blob: (func_info, line_info, core_relo); 0 = absent.
    pub fn record_sizes(&self) -> (u32, u32, u32) {
        (
            self.func_info_rec_size,
            self.line_info_rec_size,
            self.core_relo_rec_size,
        )
    }
}

fn rec_u32(rec: &[u8], off: usize) -> Result<u32, BtfError> {
    le_u32(rec, off).ok_or_else(|| bad("record too short"))
}

/// Splits one info subsection (libbpf's `btf_ext_parse_sec_info` checks).
fn parse_subsection<'a>(
    data: &'a [u8],
    hdr_len: u32,
    off: u32,
    len: u32,
    min_rec: u32,
    btf: &Btf,
    what: &str,
) -> Result<Option<InfoBlocks<'a>>, BtfError> {
    if len == 0 {
        return Ok(None);
    }
    if !off.is_multiple_of(4) {
        return Err(bad(format!("{what} subsection is not 4-byte aligned")));
    }
    let start = u64::from(hdr_len) + u64::from(off);
    let end = start + u64::from(len);
    if end > data.len() as u64 {
        return Err(bad(format!("{what} subsection beyond end of data")));
    }
    let sub = &data[start as usize..end as usize];
    let rec_size = le_u32(sub, 0).ok_or_else(|| bad(format!("{what} record size not found")))?;
    if rec_size < min_rec || !rec_size.is_multiple_of(4) {
        return Err(bad(format!("{what} has invalid record size {rec_size}")));
    }
    let mut pos = 4usize;
    if pos == sub.len() {
        return Err(bad(format!("{what} subsection has no records")));
    }
    let mut blocks = Vec::new();
    while pos < sub.len() {
        let (Some(name_off), Some(num)) = (le_u32(sub, pos), le_u32(sub, pos + 4)) else {
            return Err(bad(format!("{what} section header truncated")));
        };
        if num == 0 {
            return Err(bad(format!("{what} section has zero records")));
        }
        pos += 8;
        let total = u64::from(num) * u64::from(rec_size);
        if total > (sub.len() - pos) as u64 {
            return Err(bad(format!("{what} section has too many records")));
        }
        let name = btf
            .str_at(name_off)
            .ok_or_else(|| bad(format!("{what}: invalid section name offset {name_off}")))?
            .to_string();
        let recs: Vec<&[u8]> = sub[pos..pos + total as usize]
            .chunks_exact(rec_size as usize)
            .collect();
        pos += total as usize;
        blocks.push((name, recs));
    }
    Ok(Some(InfoBlocks { rec_size, blocks }))
}
