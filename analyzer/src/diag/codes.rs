//! The registry of stable diagnostic codes (`BPF1xx` structure, `BPF2xx`
//! registers, `BPF3xx` memory, `BPF4xx` calls, `BPF5xx` references,
//! `BPF6xx` limits, `BPF9xx` input errors).

/// A stable diagnostic code such as `BPF901`.
pub type Code = &'static str;

/// One entry of the registry.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    /// The code, e.g. `BPF901`.
    pub code: Code,
    /// A short kebab-case name.
    pub name: &'static str,
    /// One line saying what it means.
    pub summary: &'static str,
}

/// Every code bpfproof can emit, in numeric order.
pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "BPF901",
        name: "unreadable-input",
        summary: "the file could not be read",
    },
    CodeInfo {
        code: "BPF902",
        name: "bad-elf",
        summary: "the file is not a valid ELF object",
    },
    CodeInfo {
        code: "BPF903",
        name: "not-bpf-object",
        summary: "the ELF object is not a 64-bit little-endian BPF object",
    },
    CodeInfo {
        code: "BPF904",
        name: "bad-code-section",
        summary: "a code section is malformed (size not a multiple of 8, bad symbol bounds)",
    },
    CodeInfo {
        code: "BPF905",
        name: "bad-relocation",
        summary: "a relocation cannot be applied the way libbpf applies it",
    },
    CodeInfo {
        code: "BPF906",
        name: "bad-btf",
        summary: "the .BTF section is malformed",
    },
    CodeInfo {
        code: "BPF907",
        name: "bad-btf-ext",
        summary: "the .BTF.ext section is malformed",
    },
    CodeInfo {
        code: "BPF908",
        name: "bad-map-definition",
        summary: "a map definition (BTF-defined, legacy or global data) is malformed",
    },
    CodeInfo {
        code: "BPF909",
        name: "unresolved-extern",
        summary: "an extern (kfunc, ksym, kconfig) cannot be resolved against the target kernel",
    },
    CodeInfo {
        code: "BPF910",
        name: "bad-core-relocation",
        summary: "a CO-RE relocation record is malformed",
    },
    CodeInfo {
        code: "BPF911",
        name: "no-such-program",
        summary: "no program in the object matches the requested name",
    },
    CodeInfo {
        code: "BPF912",
        name: "unknown-program-type",
        summary: "the program type cannot be derived from the section name; pass --type",
    },
    CodeInfo {
        code: "BPF913",
        name: "bad-target-btf",
        summary: "the target kernel BTF is unreadable",
    },
    CodeInfo {
        code: "BPF990",
        name: "unsupported",
        summary: "bpfproof does not model this construct yet, so it cannot predict the verdict",
    },
];

/// Looks a code up in the registry.
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_well_formed() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for c in CODES {
            assert!(c.code.len() == 6 && c.code.starts_with("BPF"), "{}", c.code);
            assert!(!c.summary.is_empty());
        }
    }
}
