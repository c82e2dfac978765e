//! The only `unsafe` of the crate: the `bpf(2)` system call.
//!
//! Every command takes a typed, borrowed attribute struct; the pointers the
//! kernel reads or writes are taken from Rust slices borrowed for the
//! duration of the call, so the safe functions of this module cannot hand
//! the kernel a dangling pointer. File descriptors come back as
//! [`OwnedFd`] and are closed on drop.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `enum bpf_cmd` values used here.
const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_BTF_LOAD: libc::c_long = 18;
const BPF_MAP_FREEZE: libc::c_long = 22;

/// Size of the `union bpf_attr` buffer we pass: large enough for every
/// field we set; the kernel requires the bytes past its own size to be zero.
const ATTR_SIZE: usize = 160;

/// A positive errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The C name (`EACCES`, ...) or the number.
    pub fn name(self) -> String {
        let n = match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::E2BIG => "E2BIG",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EINVAL => "EINVAL",
            libc::ENOSPC => "ENOSPC",
            libc::ERANGE => "ERANGE",
            libc::ENOTSUP => "EOPNOTSUPP",
            libc::ENOSYS => "ENOSYS",
            libc::ESRCH => "ESRCH",
            libc::ENXIO => "ENXIO",
            libc::ELOOP => "ELOOP",
            _ => return format!("errno {}", self.0),
        };
        n.to_string()
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({})",
            self.name(),
            std::io::Error::from_raw_os_error(self.0)
        )
    }
}

struct Attr([u8; ATTR_SIZE]);

impl Attr {
    fn new() -> Self {
        Attr([0; ATTR_SIZE])
    }
    fn u32(&mut self, off: usize, v: u32) {
        self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, off: usize, v: u64) {
        self.0[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn ptr(&mut self, off: usize, p: *const u8) {
        self.u64(off, p as usize as u64);
    }
    fn get_u32(&self, off: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.0[off..off + 4]);
        u32::from_le_bytes(b)
    }
}

/// Runs `bpf(cmd, attr, size)`. Returns the non-negative result or errno.
///
/// Private: callers guarantee that every pointer stored in `attr` points
/// into memory borrowed for at least the duration of this call, with the
/// length the corresponding size field announces.
#[cfg(target_os = "linux")]
fn bpf(cmd: libc::c_long, attr: &mut Attr, size: usize) -> Result<i64, Errno> {
    // SAFETY: `attr` is a valid, writable buffer of ATTR_SIZE >= size bytes
    // for the whole call; the pointers inside it were taken from slices the
    // caller keeps borrowed across this call (see the callers below), each
    // with the length its size field gives, and output buffers are `&mut`.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.0.as_mut_ptr() as *mut libc::c_void,
            size.min(ATTR_SIZE) as libc::c_uint,
        )
    };
    if r < 0 {
        Err(Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EINVAL),
        ))
    } else {
        Ok(r)
    }
}

/// Not Linux: there is no `bpf(2)`.
#[cfg(not(target_os = "linux"))]
fn bpf(_cmd: libc::c_long, _attr: &mut Attr, _size: usize) -> Result<i64, Errno> {
    Err(Errno(libc::ENOSYS))
}

fn to_fd(r: i64) -> Result<OwnedFd, Errno> {
    let fd = i32::try_from(r).map_err(|_| Errno(libc::EBADF))?;
    // SAFETY: the kernel just returned `fd` as a new file descriptor owned
    // by nobody else in this process; OwnedFd takes sole ownership.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `BPF_MAP_CREATE` attributes.
#[derive(Clone, Debug, Default)]
pub struct MapCreate<'a> {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: Option<&'a OwnedFd>,
    pub numa_node: u32,
    /// At most 15 bytes of `[A-Za-z0-9_.]`.
    pub name: &'a str,
    pub btf_fd: Option<&'a OwnedFd>,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub map_extra: u64,
}

/// `BPF_MAP_CREATE`.
pub fn map_create(a: &MapCreate<'_>) -> Result<OwnedFd, Errno> {
    let mut attr = Attr::new();
    attr.u32(0, a.map_type);
    attr.u32(4, a.key_size);
    attr.u32(8, a.value_size);
    attr.u32(12, a.max_entries);
    attr.u32(16, a.map_flags);
    if let Some(fd) = a.inner_map_fd {
        attr.u32(20, fd.as_raw_fd() as u32);
    }
    attr.u32(24, a.numa_node);
    let name = a.name.as_bytes();
    let n = name.len().min(15);
    attr.0[28..28 + n].copy_from_slice(&name[..n]);
    if let Some(fd) = a.btf_fd {
        attr.u32(48, fd.as_raw_fd() as u32);
        attr.u32(52, a.btf_key_type_id);
        attr.u32(56, a.btf_value_type_id);
    }
    attr.u64(64, a.map_extra);
    to_fd(bpf(BPF_MAP_CREATE, &mut attr, 80)?)
}

/// `BPF_MAP_UPDATE_ELEM` with `BPF_ANY`. `key` and `value` must have the
/// map's key and value sizes (checked by the caller's map definition; the
/// kernel reads exactly those sizes).
pub fn map_update(map: &OwnedFd, key: &[u8], value: &[u8]) -> Result<(), Errno> {
    let mut attr = Attr::new();
    attr.u32(0, map.as_raw_fd() as u32);
    attr.ptr(8, key.as_ptr());
    attr.ptr(16, value.as_ptr());
    attr.u64(24, 0);
    bpf(BPF_MAP_UPDATE_ELEM, &mut attr, 32).map(|_| ())
}

/// `BPF_MAP_FREEZE`.
pub fn map_freeze(map: &OwnedFd) -> Result<(), Errno> {
    let mut attr = Attr::new();
    attr.u32(0, map.as_raw_fd() as u32);
    bpf(BPF_MAP_FREEZE, &mut attr, 4).map(|_| ())
}

/// `mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, map, 0)` and
/// `munmap` again: fixes the user address of an arena map.
pub fn map_mmap_once(map: &OwnedFd, len: u64) -> Result<(), Errno> {
    // SAFETY: a fresh shared mapping of the map's fd, unmapped at once; no
    // Rust reference to it is ever made.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len as libc::size_t,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            map.as_raw_fd(),
            0,
        );
        if p == libc::MAP_FAILED {
            return Err(Errno(*libc::__errno_location()));
        }
        libc::munmap(p, len as libc::size_t);
    }
    Ok(())
}

/// `BPF_BTF_LOAD` with a log. Returns the fd, or errno and the log.
pub fn btf_load(btf: &[u8], log: &mut [u8]) -> Result<OwnedFd, Errno> {
    let mut attr = Attr::new();
    attr.ptr(0, btf.as_ptr());
    attr.ptr(8, log.as_mut_ptr());
    attr.u32(16, btf.len() as u32);
    attr.u32(20, log.len() as u32);
    attr.u32(24, if log.is_empty() { 0 } else { 1 });
    to_fd(bpf(BPF_BTF_LOAD, &mut attr, 40)?)
}

/// `BPF_PROG_LOAD` attributes. The byte slices are the kernel's wire
/// formats (`struct bpf_insn[]`, `struct bpf_func_info[]`,
/// `struct bpf_line_info[]`).
#[derive(Debug, Default)]
pub struct ProgLoad<'a> {
    pub prog_type: u32,
    pub insns: &'a [u8],
    /// NUL-terminated.
    pub license: &'a [u8],
    pub log_level: u32,
    pub log: &'a mut [u8],
    pub kern_version: u32,
    pub prog_flags: u32,
    pub name: &'a str,
    pub expected_attach_type: u32,
    pub prog_btf_fd: Option<&'a OwnedFd>,
    pub func_info: &'a [u8],
    pub func_info_cnt: u32,
    pub line_info: &'a [u8],
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    /// `fd_array` (the fds of maps referenced by index), may be empty.
    pub fd_array: &'a [i32],
}

/// What `BPF_PROG_LOAD` returned.
#[derive(Debug)]
pub struct ProgLoadResult {
    /// The program fd, or errno.
    pub result: Result<OwnedFd, Errno>,
    /// `log_true_size`: the log size the kernel needed (0 when unknown).
    pub log_true_size: u32,
}

/// `BPF_PROG_LOAD`.
pub fn prog_load(a: &mut ProgLoad<'_>) -> ProgLoadResult {
    let license_ok = a.license.last() == Some(&0);
    if !license_ok || !a.insns.len().is_multiple_of(8) {
        return ProgLoadResult {
            result: Err(Errno(libc::EINVAL)),
            log_true_size: 0,
        };
    }
    let mut attr = Attr::new();
    attr.u32(0, a.prog_type);
    attr.u32(4, (a.insns.len() / 8) as u32);
    attr.ptr(8, a.insns.as_ptr());
    attr.ptr(16, a.license.as_ptr());
    if !a.log.is_empty() {
        attr.u32(24, a.log_level);
        attr.u32(28, a.log.len() as u32);
        attr.ptr(32, a.log.as_mut_ptr());
    }
    attr.u32(40, a.kern_version);
    attr.u32(44, a.prog_flags);
    let name = a.name.as_bytes();
    let n = name.len().min(15);
    attr.0[48..48 + n].copy_from_slice(&name[..n]);
    attr.u32(68, a.expected_attach_type);
    if let Some(fd) = a.prog_btf_fd {
        attr.u32(72, fd.as_raw_fd() as u32);
        if a.func_info_cnt > 0 {
            attr.u32(76, (a.func_info.len() / a.func_info_cnt as usize) as u32);
            attr.ptr(80, a.func_info.as_ptr());
            attr.u32(88, a.func_info_cnt);
        }
        if a.line_info_cnt > 0 {
            attr.u32(92, (a.line_info.len() / a.line_info_cnt as usize) as u32);
            attr.ptr(96, a.line_info.as_ptr());
            attr.u32(104, a.line_info_cnt);
        }
    }
    attr.u32(108, a.attach_btf_id);
    if !a.fd_array.is_empty() {
        attr.ptr(120, a.fd_array.as_ptr() as *const u8);
    }
    // Up to and including log_true_size (offset 140) and prog_token_fd.
    let r = bpf(BPF_PROG_LOAD, &mut attr, 148);
    ProgLoadResult {
        log_true_size: attr.get_u32(140),
        result: r.and_then(to_fd),
    }
}
