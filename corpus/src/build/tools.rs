//! The external programs the corpus build runs, and the Debian package
//! that provides each one (named in the error when one is missing).

use super::BuildError;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An external program and the Debian (bookworm) package that installs it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// Command name looked up in `PATH`.
    pub command: &'static str,
    /// Debian package providing it.
    pub package: &'static str,
    /// What the build uses it for.
    pub purpose: &'static str,
}

/// clang 19, the compiler of the selftests' BPF programs.
pub const CLANG: Tool = Tool {
    command: "clang-19",
    package: "clang-19",
    purpose: "compiles the BPF selftests",
};
/// bpftool, which writes `vmlinux.h` from the target BTF.
pub const BPFTOOL: Tool = Tool {
    command: "bpftool",
    package: "bpftool",
    purpose: "generates vmlinux.h from the kernel BTF",
};
/// gcc, the compiler of the raw-test dumper.
pub const GCC: Tool = Tool {
    command: "gcc",
    package: "gcc",
    purpose: "compiles the raw verifier test dumper",
};
/// python3, which runs `scripts/bpf_doc.py` to write `bpf_helper_defs.h`.
pub const PYTHON3: Tool = Tool {
    command: "python3",
    package: "python3",
    purpose: "runs scripts/bpf_doc.py (bpf_helper_defs.h)",
};
/// tar, which unpacks the kernel source.
pub const TAR: Tool = Tool {
    command: "tar",
    package: "tar",
    purpose: "unpacks the kernel source",
};
/// xz, the kernel source tarball's compression.
pub const XZ: Tool = Tool {
    command: "xz",
    package: "xz-utils",
    purpose: "decompresses the kernel source tarball",
};
/// dpkg-deb, which opens the downloaded `.deb`.
pub const DPKG_DEB: Tool = Tool {
    command: "dpkg-deb",
    package: "dpkg",
    purpose: "unpacks the linux-source .deb",
};
/// apt-get, which downloads `linux-source-6.12`.
pub const APT_GET: Tool = Tool {
    command: "apt-get",
    package: "apt",
    purpose: "downloads the linux-source-6.12 package",
};

/// The full path of `command` in `PATH`, if any.
pub fn which(command: &str) -> Option<PathBuf> {
    if command.contains('/') {
        let p = PathBuf::from(command);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Fails with [`BuildError::MissingTool`] unless `tool` is installed.
pub fn require(tool: &Tool) -> Result<PathBuf, BuildError> {
    which(tool.command).ok_or(BuildError::MissingTool {
        command: tool.command,
        package: tool.package,
        purpose: tool.purpose,
    })
}

/// Runs a command to completion, capturing its output; a failure to start
/// it becomes a [`BuildError`].
pub fn run(cmd: &mut Command) -> Result<Output, BuildError> {
    cmd.output()
        .map_err(|e| BuildError::Step(format!("cannot run {:?}: {e}", cmd.get_program())))
}

/// Runs a command and fails unless it exits with status 0.
pub fn run_ok(cmd: &mut Command, what: &str) -> Result<Output, BuildError> {
    let out = run(cmd)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(BuildError::Step(format!(
            "{what} failed ({}):\n{}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr), 20)
        )))
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// First line of `clang-19 --version` (recorded in the manifest).
pub fn clang_version(clang: &Path) -> String {
    Command::new(clang)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// clang's resource include directory (`-print-resource-dir`/include).
pub fn clang_include_dir(clang: &Path) -> Result<PathBuf, BuildError> {
    let out = run_ok(
        Command::new(clang).arg("-print-resource-dir"),
        "clang-19 -print-resource-dir",
    )?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(dir).join("include"))
}
