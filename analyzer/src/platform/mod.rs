//! Platform data tables: program, attach and map types of Linux 6.18, the
//! helper-function ids of its `___BPF_FUNC_MAPPER`, and libbpf 1.5's
//! section-name table (`section_defs[]`) with its matching rules.
//!
//! Facts come from `include/uapi/linux/bpf.h` and `tools/lib/bpf/libbpf.c`
//! of the Linux tree; the code here is our own.
#![deny(missing_docs)]

/// Generates a `#[repr(u32)]` enum mirroring a kernel uapi enum, together
/// with `name`, `from_name`, `from_u32`, `all` and `Display`.
///
/// `$cprefix` is the C enumerator prefix (e.g. `BPF_PROG_TYPE_`); the
/// lowercase names are what bpftool / libbpf print.
macro_rules! uapi_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident, prefix $cprefix:literal {
            $( $variant:ident = $value:literal => $str:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum $name {
            $(
                #[doc = concat!("`", $str, "` (kernel value ", stringify!($value), ").")]
                $variant = $value,
            )*
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The C enumerator prefix of this enum, e.g. `BPF_PROG_TYPE_`.
            pub const C_PREFIX: &'static str = $cprefix;

            /// Every value, in ascending numeric order.
            pub fn all() -> &'static [$name] {
                Self::ALL
            }

            /// The kernel's numeric value.
            pub const fn as_u32(self) -> u32 {
                self as u32
            }

            /// Lowercase name without the C prefix, as bpftool prints it.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $str, )*
                }
            }

            /// The C enumerator name, e.g. `BPF_PROG_TYPE_XDP`.
            pub fn c_name(self) -> String {
                format!("{}{}", $cprefix, self.name().to_ascii_uppercase())
            }

            /// Value for a kernel number, `None` if 6.18 has no such value.
            pub const fn from_u32(value: u32) -> Option<$name> {
                match value {
                    $( $value => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// Parses the lowercase name; the C enumerator name
            /// (any case, with its prefix) is accepted too.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $( $str => return Some($name::$variant), )*
                    _ => {}
                }
                let prefix_len = $cprefix.len();
                if name.len() > prefix_len
                    && name.is_char_boundary(prefix_len)
                    && name[..prefix_len].eq_ignore_ascii_case($cprefix)
                {
                    let rest = name[prefix_len..].to_ascii_lowercase();
                    return Self::ALL.iter().copied().find(|v| v.name() == rest);
                }
                None
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

pub mod helpers;
pub mod kfuncs_data;
pub mod map_types;
pub mod prog_types;
pub mod protos;
mod protos_data;
pub mod sections;

pub use helpers::{HELPER_COUNT, LAST_HELPER_ID, helper_id, helper_name};
pub use map_types::MapType;
pub use prog_types::{AttachType, ProgType};
pub use sections::{
    LEGACY_SECTION_DEFS, LegacySecDef, SECTION_DEFS, SecDef, SectionMatch, find_sec_def,
    prog_type_by_section, sec_def_matches,
};
