//! `bpfproof list`: the programs and maps of each object.

use bpfproof_analyzer::object::{LoadError, MapDef, Object};
use bpfproof_analyzer::platform::MapType;
use serde::Serialize;
use std::fmt::Write;

/// `list --format json` document.
#[derive(Serialize)]
pub struct ListReport {
    /// One entry per object named on the command line.
    pub objects: Vec<ObjectEntry>,
}

/// One object, or the error that kept it from being read.
#[derive(Serialize)]
pub struct ObjectEntry {
    /// Path as given.
    pub object: String,
    /// License string (absent on error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Programs.
    pub programs: Vec<ProgramEntry>,
    /// Maps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maps: Option<Vec<MapEntry>>,
    /// Why the object could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorEntry>,
}

/// One program.
#[derive(Serialize)]
pub struct ProgramEntry {
    /// Function name.
    pub name: String,
    /// Section name.
    pub section: String,
    /// Program type name, `null` when the section does not say.
    pub prog_type: Option<String>,
    /// Expected attach type, when the section gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_type: Option<String>,
    /// Instruction slots after linking.
    pub insns: usize,
    /// Names of the subprograms linked in.
    pub subprograms: Vec<String>,
    /// `false` for `SEC("?...")` programs.
    pub autoload: bool,
    /// Set when this program could not be prepared for loading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorEntry>,
}

/// One map.
#[derive(Serialize)]
pub struct MapEntry {
    /// Name.
    pub name: String,
    /// Map type name (`hash`, `array`, ...) or the number when unknown.
    #[serde(rename = "type")]
    pub map_type: String,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Maximum entries.
    pub max_entries: u32,
    /// Flags.
    pub map_flags: u32,
    /// Where it came from (`btf`, `legacy`, `data`, `kconfig`).
    pub origin: String,
}

/// A coded error.
#[derive(Serialize, Clone)]
pub struct ErrorEntry {
    /// Stable code.
    pub code: String,
    /// Message.
    pub message: String,
}

impl From<&LoadError> for ErrorEntry {
    fn from(e: &LoadError) -> Self {
        ErrorEntry {
            code: e.code.to_string(),
            message: e.message.clone(),
        }
    }
}

/// The printable name of a map type number.
pub fn map_type_name(t: u32) -> String {
    MapType::from_u32(t).map_or_else(|| t.to_string(), |m| m.name().to_string())
}

fn map_entry(m: &MapDef) -> MapEntry {
    MapEntry {
        name: m.name.clone(),
        map_type: map_type_name(m.map_type),
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        map_flags: m.map_flags,
        origin: serde_json::to_value(m.origin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

/// Builds the entry of a loaded object (programs filtered by `keep`).
pub fn object_entry(path: &str, obj: &Object, keep: &dyn Fn(&str) -> bool) -> ObjectEntry {
    ObjectEntry {
        object: path.to_string(),
        license: Some(obj.license.clone()),
        programs: obj
            .programs
            .iter()
            .filter(|p| keep(&p.name))
            .map(|p| ProgramEntry {
                name: p.name.clone(),
                section: p.section.clone(),
                prog_type: p.prog_type.map(|t| t.name().to_string()),
                attach_type: p.attach_type.map(|t| t.name().to_string()),
                insns: p.insns.len(),
                subprograms: p.subprogs.iter().skip(1).map(|s| s.name.clone()).collect(),
                autoload: p.autoload,
                error: p.load_error.as_ref().map(ErrorEntry::from),
            })
            .collect(),
        maps: Some(obj.maps.iter().map(map_entry).collect()),
        error: None,
    }
}

/// The entry of an object that could not be read.
pub fn error_entry(path: &str, e: &LoadError) -> ObjectEntry {
    ObjectEntry {
        object: path.to_string(),
        license: None,
        programs: Vec::new(),
        maps: None,
        error: Some(e.into()),
    }
}

/// Renders the report as text, one block per object.
pub fn render_text(r: &ListReport) -> String {
    let mut out = String::new();
    for o in &r.objects {
        if let Some(e) = &o.error {
            let _ = writeln!(out, "{}: error[{}]: {}", o.object, e.code, e.message);
            continue;
        }
        let _ = writeln!(
            out,
            "{} (license: {})",
            o.object,
            o.license.as_deref().unwrap_or("")
        );
        for p in &o.programs {
            let ty = p.prog_type.as_deref().unwrap_or("unknown type");
            let _ = write!(
                out,
                "  program {:<24} section {:<28} {:<16} {:>6} insns",
                p.name, p.section, ty, p.insns
            );
            if !p.subprograms.is_empty() {
                let _ = write!(out, "  calls {}", p.subprograms.join(", "));
            }
            if !p.autoload {
                let _ = write!(out, "  (not autoloaded)");
            }
            out.push('\n');
            if let Some(e) = &p.error {
                let _ = writeln!(out, "    error[{}]: {}", e.code, e.message);
            }
        }
        for m in o.maps.iter().flatten() {
            let _ = writeln!(
                out,
                "  map     {:<24} {:<16} key {:>4}  value {:>6}  max_entries {}",
                m.name, m.map_type, m.key_size, m.value_size, m.max_entries
            );
        }
    }
    out
}
