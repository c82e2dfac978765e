//! The ELF layer: sections, symbols and relocations of a 64-bit
//! little-endian `EM_BPF` object, read with the `object` crate's low-level
//! ELF API and copied into plain structs so the rest of the loader never
//! touches raw offsets.

use super::LoadError;
use crate::bail;
use object::LittleEndian;
use object::elf;
use object::read::elf::{FileHeader, Rel, SectionHeader, Sym};

/// Offset of the class byte in `e_ident`.
const EI_CLASS: usize = 4;
/// Offset of the data-encoding byte in `e_ident`.
const EI_DATA: usize = 5;

/// `EM_BPF`.
pub const EM_BPF: u16 = 247;
/// `R_BPF_64_64`: ld_imm64 relocation.
pub const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: data relocation (8 bytes).
pub const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: data relocation (4 bytes; BTF, DWARF).
pub const R_BPF_64_ABS32: u32 = 3;
/// `R_BPF_64_NODYLD32`: BTF.ext / DWARF relocation the loader ignores.
pub const R_BPF_64_NODYLD32: u32 = 4;
/// `R_BPF_64_32`: bpf-to-bpf call relocation.
pub const R_BPF_64_32: u32 = 10;

/// Kind of an ELF symbol, as far as the loader cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymKind {
    Func,
    Object,
    Section,
    NoType,
    Other,
}

/// One section.
#[derive(Clone, Debug)]
pub struct ElfSection {
    /// Section header index.
    pub index: usize,
    /// Section name.
    pub name: String,
    /// `SHT_*`.
    pub sh_type: u32,
    /// `SHF_EXECINSTR` set.
    pub exec: bool,
    /// `SHF_ALLOC` set.
    pub alloc: bool,
    /// Size in memory (for `SHT_NOBITS` there are no bytes).
    pub size: u64,
    /// The bytes (empty for `SHT_NOBITS`).
    pub data: Vec<u8>,
    /// Relocations that apply to this section (from its `SHT_REL` companion).
    pub relocs: Vec<Reloc>,
}

/// One relocation.
#[derive(Clone, Copy, Debug)]
pub struct Reloc {
    /// Byte offset in the target section.
    pub offset: u64,
    /// `R_BPF_*`.
    pub r_type: u32,
    /// Symbol table index.
    pub sym: usize,
}

/// One symbol.
#[derive(Clone, Debug)]
pub struct ElfSymbol {
    /// Name (for section symbols, the section's name).
    pub name: String,
    /// `st_value`.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// Kind.
    pub kind: SymKind,
    /// `STB_GLOBAL`.
    pub global: bool,
    /// `STB_WEAK`.
    pub weak: bool,
    /// Visibility `STV_HIDDEN` or `STV_INTERNAL`.
    pub hidden: bool,
    /// Defining section, `None` when undefined (an extern) or absolute.
    pub section: Option<usize>,
}

/// The parsed object.
#[derive(Clone, Debug, Default)]
pub struct Elf {
    /// Every section by index (index 0 is the null section).
    pub sections: Vec<ElfSection>,
    /// Every symbol by index (index 0 is the null symbol).
    pub symbols: Vec<ElfSymbol>,
}

impl Elf {
    /// The section called `name`.
    pub fn section_by_name(&self, name: &str) -> Option<&ElfSection> {
        self.sections.iter().find(|s| s.name == name)
    }
}

fn elf_err(what: &str, e: object::Error) -> LoadError {
    LoadError::new("BPF902", format!("malformed ELF ({what}): {e}"))
}

/// Parses and checks an object: ELF magic, 64-bit class, little-endian,
/// `e_machine == EM_BPF`.
pub fn parse_elf(data: &[u8]) -> Result<Elf, LoadError> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        bail!("BPF902", "not an ELF file (bad magic)");
    }
    if data.len() < 64 {
        bail!("BPF902", "truncated ELF header ({} bytes)", data.len());
    }
    if data[EI_CLASS] != elf::ELFCLASS64 {
        bail!(
            "BPF903",
            "ELF class {} is not ELF64; BPF objects are 64-bit",
            data[EI_CLASS]
        );
    }
    if data[EI_DATA] != elf::ELFDATA2LSB {
        bail!(
            "BPF903",
            "big-endian object (bpfeb); the target kernel is little-endian (compile with -target bpfel or bpf)"
        );
    }
    let header =
        elf::FileHeader64::<LittleEndian>::parse(data).map_err(|e| elf_err("header", e))?;
    let endian = header.endian().map_err(|e| elf_err("header", e))?;
    let machine = header.e_machine(endian);
    if machine != EM_BPF {
        bail!(
            "BPF903",
            "e_machine is {machine}, not EM_BPF ({EM_BPF}); this is not a BPF object"
        );
    }
    let table = header
        .sections(endian, data)
        .map_err(|e| elf_err("section headers", e))?;
    let mut sections = Vec::with_capacity(table.len());
    for (index, sh) in table.iter().enumerate() {
        let name = table
            .section_name(endian, sh)
            .map_err(|e| elf_err("section name", e))?;
        let name = String::from_utf8_lossy(name).into_owned();
        let sh_type = sh.sh_type(endian);
        let flags = sh.sh_flags(endian);
        let bytes = if sh_type == elf::SHT_NOBITS {
            Vec::new()
        } else {
            sh.data(endian, data)
                .map_err(|_| {
                    LoadError::new(
                        "BPF902",
                        format!("section {index} ({name}) extends past the end of the file"),
                    )
                })?
                .to_vec()
        };
        sections.push(ElfSection {
            index,
            name,
            sh_type,
            exec: flags & u64::from(elf::SHF_EXECINSTR) != 0,
            alloc: flags & u64::from(elf::SHF_ALLOC) != 0,
            size: sh.sh_size(endian),
            data: bytes,
            relocs: Vec::new(),
        });
    }
    let symtab = table
        .symbols(endian, data, elf::SHT_SYMTAB)
        .map_err(|e| elf_err("symbol table", e))?;
    let mut symbols = Vec::with_capacity(symtab.len());
    for sym in symtab.iter() {
        let shndx = sym.st_shndx(endian);
        let kind = match sym.st_type() {
            elf::STT_FUNC => SymKind::Func,
            elf::STT_OBJECT => SymKind::Object,
            elf::STT_SECTION => SymKind::Section,
            elf::STT_NOTYPE => SymKind::NoType,
            _ => SymKind::Other,
        };
        let section = if shndx == elf::SHN_UNDEF || shndx >= elf::SHN_LORESERVE {
            None
        } else {
            Some(shndx as usize)
        };
        let mut name = String::from_utf8_lossy(
            sym.name(endian, symtab.strings())
                .map_err(|e| elf_err("symbol name", e))?,
        )
        .into_owned();
        if kind == SymKind::Section
            && let Some(s) = section.and_then(|i| sections.get(i))
        {
            name = s.name.clone();
        }
        symbols.push(ElfSymbol {
            name,
            value: sym.st_value(endian),
            size: sym.st_size(endian),
            kind,
            global: sym.st_bind() == elf::STB_GLOBAL,
            weak: sym.st_bind() == elf::STB_WEAK,
            hidden: matches!(sym.st_other & 3, elf::STV_HIDDEN | elf::STV_INTERNAL),
            section,
        });
    }
    for sh in table.iter() {
        if sh.sh_type(endian) == elf::SHT_RELA {
            let target = sh.sh_info(endian) as usize;
            let tname = sections.get(target).map_or("?", |s| s.name.as_str());
            // Only code and .maps relocations matter; RELA never appears in
            // clang's BPF output, so refuse rather than guess addends there.
            if sections.get(target).is_some_and(|s| s.exec) {
                bail!(
                    "BPF905",
                    "RELA relocations for code section {tname} are not supported"
                );
            }
            continue;
        }
        let Some((rels, _symtab)) = sh
            .rel(endian, data)
            .map_err(|e| elf_err("relocations", e))?
        else {
            continue;
        };
        let target = sh.sh_info(endian) as usize;
        let Some(tsec) = sections.get_mut(target) else {
            bail!(
                "BPF905",
                "relocation section targets missing section {target}"
            );
        };
        for r in rels {
            let sym = r.r_sym(endian) as usize;
            if sym >= symbols.len() {
                bail!(
                    "BPF905",
                    "relocation in {} refers to symbol {sym}, but there are {} symbols",
                    tsec.name,
                    symbols.len()
                );
            }
            tsec.relocs.push(Reloc {
                offset: r.r_offset(endian),
                r_type: r.r_type(endian),
                sym,
            });
        }
    }
    Ok(Elf { sections, symbols })
}
