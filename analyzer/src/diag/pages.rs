//! The explanation page of each code: Markdown with fixed sections
//! ([`SECTIONS`]), printed by `bpfproof explain CODE` and used for SARIF's
//! `fullDescription`. The pages are the files `pages/BPFxxx.md`.

/// The sections every page has, in this order (level-2 headings).
pub const SECTIONS: &[&str] = &[
    "What the verifier could not prove",
    "Why it rejects it",
    "Minimal failing example",
    "Fixed version",
    "Kernel versions",
];

/// The Markdown page of a code.
pub fn page(code: &str) -> Option<&'static str> {
    Some(match code {
        "BPF101" => include_str!("pages/BPF101.md"),
        "BPF102" => include_str!("pages/BPF102.md"),
        "BPF201" => include_str!("pages/BPF201.md"),
        "BPF202" => include_str!("pages/BPF202.md"),
        "BPF203" => include_str!("pages/BPF203.md"),
        "BPF204" => include_str!("pages/BPF204.md"),
        "BPF205" => include_str!("pages/BPF205.md"),
        "BPF206" => include_str!("pages/BPF206.md"),
        "BPF301" => include_str!("pages/BPF301.md"),
        "BPF302" => include_str!("pages/BPF302.md"),
        "BPF303" => include_str!("pages/BPF303.md"),
        "BPF304" => include_str!("pages/BPF304.md"),
        "BPF305" => include_str!("pages/BPF305.md"),
        "BPF306" => include_str!("pages/BPF306.md"),
        "BPF307" => include_str!("pages/BPF307.md"),
        "BPF308" => include_str!("pages/BPF308.md"),
        "BPF401" => include_str!("pages/BPF401.md"),
        "BPF402" => include_str!("pages/BPF402.md"),
        "BPF403" => include_str!("pages/BPF403.md"),
        "BPF404" => include_str!("pages/BPF404.md"),
        "BPF405" => include_str!("pages/BPF405.md"),
        "BPF406" => include_str!("pages/BPF406.md"),
        "BPF407" => include_str!("pages/BPF407.md"),
        "BPF501" => include_str!("pages/BPF501.md"),
        "BPF502" => include_str!("pages/BPF502.md"),
        "BPF503" => include_str!("pages/BPF503.md"),
        "BPF601" => include_str!("pages/BPF601.md"),
        "BPF602" => include_str!("pages/BPF602.md"),
        "BPF603" => include_str!("pages/BPF603.md"),
        "BPF604" => include_str!("pages/BPF604.md"),
        "BPF901" => include_str!("pages/BPF901.md"),
        "BPF902" => include_str!("pages/BPF902.md"),
        "BPF903" => include_str!("pages/BPF903.md"),
        "BPF904" => include_str!("pages/BPF904.md"),
        "BPF905" => include_str!("pages/BPF905.md"),
        "BPF906" => include_str!("pages/BPF906.md"),
        "BPF907" => include_str!("pages/BPF907.md"),
        "BPF908" => include_str!("pages/BPF908.md"),
        "BPF909" => include_str!("pages/BPF909.md"),
        "BPF910" => include_str!("pages/BPF910.md"),
        "BPF911" => include_str!("pages/BPF911.md"),
        "BPF912" => include_str!("pages/BPF912.md"),
        "BPF913" => include_str!("pages/BPF913.md"),
        "BPF990" => include_str!("pages/BPF990.md"),
        _ => return None,
    })
}

/// The text of one section of a page (without its heading), trimmed.
pub fn section<'a>(page: &'a str, name: &str) -> Option<&'a str> {
    let h = format!("\n## {name}\n");
    let start = page.find(&h)? + h.len();
    Some(page[start..].split("\n## ").next()?.trim())
}

/// The one-line title under the page heading.
pub fn title(page: &str) -> &str {
    page.lines().nth(2).unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes::CODES;

    #[test]
    fn every_code_has_a_page_with_every_section() {
        for c in CODES {
            let p = page(c.code).unwrap_or_else(|| panic!("{} has no page", c.code));
            assert!(
                p.starts_with(&format!("# {}: {}\n", c.code, c.name)),
                "{}: the page must start with `# {}: {}`",
                c.code,
                c.code,
                c.name
            );
            let mut at = 0;
            for s in SECTIONS {
                let h = format!("\n## {s}\n");
                let i = p[at..]
                    .find(&h)
                    .unwrap_or_else(|| panic!("{}: section '{s}' missing or out of order", c.code));
                at += i + h.len();
                let body = p[at..].split("\n## ").next().unwrap_or("");
                assert!(body.trim().len() > 10, "{}: section '{s}' is empty", c.code);
            }
            assert_eq!(
                p.matches("```").count() % 2,
                0,
                "{}: unbalanced code fence",
                c.code
            );
        }
    }

    #[test]
    fn no_page_without_a_code() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diag/pages");
        for e in std::fs::read_dir(dir).expect("pages dir") {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            let code = name.trim_end_matches(".md");
            assert!(
                CODES.iter().any(|c| c.code == code),
                "page {name} has no code in the registry"
            );
        }
    }
}
