//! In-memory model of BTF types (`include/uapi/linux/btf.h`).

/// The numeric BTF kinds (`BTF_KIND_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum BtfKind {
    /// `BTF_KIND_UNKN` (only type id 0, `void`).
    Void = 0,
    /// `BTF_KIND_INT`.
    Int = 1,
    /// `BTF_KIND_PTR`.
    Ptr = 2,
    /// `BTF_KIND_ARRAY`.
    Array = 3,
    /// `BTF_KIND_STRUCT`.
    Struct = 4,
    /// `BTF_KIND_UNION`.
    Union = 5,
    /// `BTF_KIND_ENUM` (32-bit values).
    Enum = 6,
    /// `BTF_KIND_FWD`.
    Fwd = 7,
    /// `BTF_KIND_TYPEDEF`.
    Typedef = 8,
    /// `BTF_KIND_VOLATILE`.
    Volatile = 9,
    /// `BTF_KIND_CONST`.
    Const = 10,
    /// `BTF_KIND_RESTRICT`.
    Restrict = 11,
    /// `BTF_KIND_FUNC`.
    Func = 12,
    /// `BTF_KIND_FUNC_PROTO`.
    FuncProto = 13,
    /// `BTF_KIND_VAR`.
    Var = 14,
    /// `BTF_KIND_DATASEC`.
    Datasec = 15,
    /// `BTF_KIND_FLOAT`.
    Float = 16,
    /// `BTF_KIND_DECL_TAG`.
    DeclTag = 17,
    /// `BTF_KIND_TYPE_TAG`.
    TypeTag = 18,
    /// `BTF_KIND_ENUM64`.
    Enum64 = 19,
}

impl BtfKind {
    /// Maps the 5-bit kind field of `btf_type.info` to a kind (None if unknown).
    pub fn from_raw(k: u32) -> Option<BtfKind> {
        use BtfKind::*;
        Some(match k {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }

    /// The upper-case name bpftool/libbpf print (`STRUCT`, `FUNC_PROTO`, ...).
    pub fn as_str(self) -> &'static str {
        use BtfKind::*;
        match self {
            Void => "UNKNOWN",
            Int => "INT",
            Ptr => "PTR",
            Array => "ARRAY",
            Struct => "STRUCT",
            Union => "UNION",
            Enum => "ENUM",
            Fwd => "FWD",
            Typedef => "TYPEDEF",
            Volatile => "VOLATILE",
            Const => "CONST",
            Restrict => "RESTRICT",
            Func => "FUNC",
            FuncProto => "FUNC_PROTO",
            Var => "VAR",
            Datasec => "DATASEC",
            Float => "FLOAT",
            DeclTag => "DECL_TAG",
            TypeTag => "TYPE_TAG",
            Enum64 => "ENUM64",
        }
    }
}

/// `BTF_INT_SIGNED` bit of an INT's encoding.
pub const BTF_INT_SIGNED: u8 = 1 << 0;
/// `BTF_INT_CHAR` bit of an INT's encoding.
pub const BTF_INT_CHAR: u8 = 1 << 1;
/// `BTF_INT_BOOL` bit of an INT's encoding.
pub const BTF_INT_BOOL: u8 = 1 << 2;

/// One member of a STRUCT or UNION (`struct btf_member`, decoded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfMember {
    /// Offset of the member name in the string table (0 = anonymous).
    pub name_off: u32,
    /// Type id of the member.
    pub type_id: u32,
    /// Bit offset of the member from the start of the composite.
    pub bit_offset: u32,
    /// Bitfield size in bits (0 = not a bitfield; only with kind_flag).
    pub bitfield_size: u8,
}

/// One enumerator of an ENUM or ENUM64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfEnumValue {
    /// Offset of the enumerator name in the string table.
    pub name_off: u32,
    /// Value as 64 raw bits (ENUM values are sign-extended from `s32`, as libbpf does).
    pub value: u64,
}

/// One parameter of a FUNC_PROTO (`struct btf_param`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfParam {
    /// Offset of the parameter name (0 = unnamed).
    pub name_off: u32,
    /// Parameter type id (0 together with name 0 in last slot = varargs).
    pub type_id: u32,
}

/// One variable of a DATASEC (`struct btf_var_secinfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfVarSecInfo {
    /// Type id of the VAR (or FUNC for extern functions in `.ksyms`).
    pub type_id: u32,
    /// Byte offset of the variable within the section.
    pub offset: u32,
    /// Byte size of the variable.
    pub size: u32,
}

/// Linkage of a FUNC (stored in its vlen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FuncLinkage {
    /// `BTF_FUNC_STATIC`.
    Static,
    /// `BTF_FUNC_GLOBAL`.
    Global,
    /// `BTF_FUNC_EXTERN`.
    Extern,
    /// Any other value (kept verbatim).
    Other(u16),
}

/// Linkage of a VAR (`struct btf_var.linkage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarLinkage {
    /// `BTF_VAR_STATIC`.
    Static,
    /// `BTF_VAR_GLOBAL_ALLOCATED`.
    GlobalAllocated,
    /// `BTF_VAR_GLOBAL_EXTERN`.
    GlobalExtern,
    /// Any other value (kept verbatim).
    Other(u32),
}

/// Kind-specific payload of a BTF type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BtfTypeKind {
    /// Type id 0.
    Void,
    /// INT: byte size plus the encoding word.
    Int {
        /// Byte size.
        size: u32,
        /// `BTF_INT_SIGNED` / `BTF_INT_CHAR` / `BTF_INT_BOOL` bits.
        encoding: u8,
        /// Deprecated bit offset of the value.
        offset: u8,
        /// Number of value bits.
        bits: u8,
    },
    /// PTR to a type.
    Ptr {
        /// Pointee type id.
        target: u32,
    },
    /// ARRAY.
    Array {
        /// Element type id.
        elem: u32,
        /// Index type id.
        index: u32,
        /// Number of elements.
        nelems: u32,
    },
    /// STRUCT.
    Struct {
        /// Byte size.
        size: u32,
        /// Members in declaration order.
        members: Vec<BtfMember>,
    },
    /// UNION.
    Union {
        /// Byte size.
        size: u32,
        /// Members in declaration order.
        members: Vec<BtfMember>,
    },
    /// ENUM (32-bit enumerators).
    Enum {
        /// Byte size.
        size: u32,
        /// kind_flag: values are signed.
        signed: bool,
        /// Enumerators.
        values: Vec<BtfEnumValue>,
    },
    /// ENUM64.
    Enum64 {
        /// Byte size.
        size: u32,
        /// kind_flag: values are signed.
        signed: bool,
        /// Enumerators.
        values: Vec<BtfEnumValue>,
    },
    /// FWD declaration.
    Fwd {
        /// kind_flag: forward declaration of a union (else a struct).
        is_union: bool,
    },
    /// TYPEDEF.
    Typedef {
        /// Aliased type id.
        target: u32,
    },
    /// VOLATILE modifier.
    Volatile {
        /// Modified type id.
        target: u32,
    },
    /// CONST modifier.
    Const {
        /// Modified type id.
        target: u32,
    },
    /// RESTRICT modifier.
    Restrict {
        /// Modified type id.
        target: u32,
    },
    /// FUNC.
    Func {
        /// FUNC_PROTO type id.
        proto: u32,
        /// Linkage.
        linkage: FuncLinkage,
    },
    /// FUNC_PROTO.
    FuncProto {
        /// Return type id (0 = void).
        ret: u32,
        /// Parameters.
        params: Vec<BtfParam>,
    },
    /// VAR.
    Var {
        /// Variable type id.
        target: u32,
        /// Linkage.
        linkage: VarLinkage,
    },
    /// DATASEC.
    Datasec {
        /// Section byte size.
        size: u32,
        /// Variables.
        vars: Vec<BtfVarSecInfo>,
    },
    /// FLOAT.
    Float {
        /// Byte size.
        size: u32,
    },
    /// DECL_TAG.
    DeclTag {
        /// Tagged type id.
        target: u32,
        /// -1 for the type itself, else member/parameter index.
        component_idx: i32,
    },
    /// TYPE_TAG modifier.
    TypeTag {
        /// Modified type id.
        target: u32,
    },
}

/// One BTF type: name, kind_flag and kind-specific payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfType {
    /// Offset of the type name in the string table (0 = anonymous).
    pub name_off: u32,
    /// The raw kind_flag bit of `info`.
    pub kind_flag: bool,
    /// Kind-specific payload.
    pub kind: BtfTypeKind,
}

impl BtfType {
    /// The `void` type (id 0).
    pub const VOID: BtfType = BtfType {
        name_off: 0,
        kind_flag: false,
        kind: BtfTypeKind::Void,
    };

    /// The numeric kind.
    pub fn kind(&self) -> BtfKind {
        match &self.kind {
            BtfTypeKind::Void => BtfKind::Void,
            BtfTypeKind::Int { .. } => BtfKind::Int,
            BtfTypeKind::Ptr { .. } => BtfKind::Ptr,
            BtfTypeKind::Array { .. } => BtfKind::Array,
            BtfTypeKind::Struct { .. } => BtfKind::Struct,
            BtfTypeKind::Union { .. } => BtfKind::Union,
            BtfTypeKind::Enum { .. } => BtfKind::Enum,
            BtfTypeKind::Enum64 { .. } => BtfKind::Enum64,
            BtfTypeKind::Fwd { .. } => BtfKind::Fwd,
            BtfTypeKind::Typedef { .. } => BtfKind::Typedef,
            BtfTypeKind::Volatile { .. } => BtfKind::Volatile,
            BtfTypeKind::Const { .. } => BtfKind::Const,
            BtfTypeKind::Restrict { .. } => BtfKind::Restrict,
            BtfTypeKind::Func { .. } => BtfKind::Func,
            BtfTypeKind::FuncProto { .. } => BtfKind::FuncProto,
            BtfTypeKind::Var { .. } => BtfKind::Var,
            BtfTypeKind::Datasec { .. } => BtfKind::Datasec,
            BtfTypeKind::Float { .. } => BtfKind::Float,
            BtfTypeKind::DeclTag { .. } => BtfKind::DeclTag,
            BtfTypeKind::TypeTag { .. } => BtfKind::TypeTag,
        }
    }

    /// The `size` field for kinds that carry one (INT, STRUCT, UNION, ENUM*, DATASEC, FLOAT).
    pub fn size(&self) -> Option<u32> {
        match &self.kind {
            BtfTypeKind::Int { size, .. }
            | BtfTypeKind::Struct { size, .. }
            | BtfTypeKind::Union { size, .. }
            | BtfTypeKind::Enum { size, .. }
            | BtfTypeKind::Enum64 { size, .. }
            | BtfTypeKind::Datasec { size, .. }
            | BtfTypeKind::Float { size } => Some(*size),
            _ => None,
        }
    }

    /// The referenced type for kinds whose `type` field points at one type
    /// (PTR, TYPEDEF, modifiers, FUNC, VAR, DECL_TAG).
    pub fn ref_type(&self) -> Option<u32> {
        match &self.kind {
            BtfTypeKind::Ptr { target }
            | BtfTypeKind::Typedef { target }
            | BtfTypeKind::Volatile { target }
            | BtfTypeKind::Const { target }
            | BtfTypeKind::Restrict { target }
            | BtfTypeKind::TypeTag { target }
            | BtfTypeKind::Var { target, .. }
            | BtfTypeKind::DeclTag { target, .. } => Some(*target),
            BtfTypeKind::Func { proto, .. } => Some(*proto),
            _ => None,
        }
    }

    /// Members of a STRUCT or UNION (empty for other kinds).
    pub fn members(&self) -> &[BtfMember] {
        match &self.kind {
            BtfTypeKind::Struct { members, .. } | BtfTypeKind::Union { members, .. } => members,
            _ => &[],
        }
    }

    /// Enumerators of an ENUM or ENUM64 (empty for other kinds).
    pub fn enum_values(&self) -> &[BtfEnumValue] {
        match &self.kind {
            BtfTypeKind::Enum { values, .. } | BtfTypeKind::Enum64 { values, .. } => values,
            _ => &[],
        }
    }

    /// The vlen of the raw encoding (members, enumerators, params, vars; 0 otherwise).
    pub fn vlen(&self) -> usize {
        match &self.kind {
            BtfTypeKind::Struct { members, .. } | BtfTypeKind::Union { members, .. } => {
                members.len()
            }
            BtfTypeKind::Enum { values, .. } | BtfTypeKind::Enum64 { values, .. } => values.len(),
            BtfTypeKind::FuncProto { params, .. } => params.len(),
            BtfTypeKind::Datasec { vars, .. } => vars.len(),
            _ => 0,
        }
    }

    /// True for STRUCT or UNION.
    pub fn is_composite(&self) -> bool {
        matches!(
            self.kind,
            BtfTypeKind::Struct { .. } | BtfTypeKind::Union { .. }
        )
    }

    /// True for ENUM or ENUM64.
    pub fn is_any_enum(&self) -> bool {
        matches!(
            self.kind,
            BtfTypeKind::Enum { .. } | BtfTypeKind::Enum64 { .. }
        )
    }

    /// True for CONST, VOLATILE, RESTRICT and TYPE_TAG (libbpf's `btf_is_mod`).
    pub fn is_mod(&self) -> bool {
        matches!(
            self.kind,
            BtfTypeKind::Const { .. }
                | BtfTypeKind::Volatile { .. }
                | BtfTypeKind::Restrict { .. }
                | BtfTypeKind::TypeTag { .. }
        )
    }
}
