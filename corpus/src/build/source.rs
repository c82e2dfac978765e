//! The Linux 6.12 source the corpus is built from: Debian's
//! `linux-source-6.12` package, kept in a cache directory outside the
//! repository (never vendored). When the cache lacks it, it is fetched with
//! `apt-get download` and only the parts the build needs are unpacked.

use super::tools::{self, APT_GET, DPKG_DEB, TAR, XZ};
use super::{BuildError, Progress};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Debian package holding the kernel source tarball.
pub const PACKAGE: &str = "linux-source-6.12";
/// Directory name of the unpacked tree inside the cache (and the tarball).
pub const TREE: &str = "linux-source-6.12";
/// Path of the tarball inside the `.deb`.
const TARBALL_IN_DEB: &str = "./usr/src/linux-source-6.12.tar.xz";

/// The parts of the tarball the build reads (`tar --wildcards` patterns).
const NEEDED: &[&str] = &[
    "linux-source-6.12/Makefile",
    "linux-source-6.12/tools/*",
    "linux-source-6.12/include/uapi/*",
    "linux-source-6.12/scripts/bpf_doc.py",
];

/// Files whose presence means an unpacked tree is usable.
const MARKERS: &[&str] = &[
    "Makefile",
    "scripts/bpf_doc.py",
    "tools/lib/bpf/bpf_helpers.h",
    "tools/include/uapi/linux/bpf.h",
    "tools/testing/selftests/bpf/veristat.cfg",
    "tools/testing/selftests/bpf/test_verifier.c",
    "tools/testing/selftests/bpf/progs/bpf_misc.h",
];

/// The cache directory: `$BPFPROOF_CACHE`, else `/var/cache/bpfproof`.
pub fn default_cache_dir() -> PathBuf {
    match std::env::var_os("BPFPROOF_CACHE") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("/var/cache/bpfproof"),
    }
}

/// True when `root` holds everything the build reads.
pub fn tree_is_complete(root: &Path) -> bool {
    MARKERS.iter().all(|m| root.join(m).is_file())
}

/// The kernel version of an unpacked tree (`VERSION.PATCHLEVEL.SUBLEVEL`
/// from its top `Makefile`), e.g. `6.12.117`.
pub fn tree_version(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("Makefile")).ok()?;
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    Some(format!(
        "{}.{}.{}",
        get("VERSION")?,
        get("PATCHLEVEL")?,
        get("SUBLEVEL")?
    ))
}

/// Returns the root of an unpacked Linux 6.12 tree in `cache`, fetching
/// and unpacking it first when missing.
pub fn ensure_source(cache: &Path, progress: &Progress) -> Result<PathBuf, BuildError> {
    let root = cache.join(TREE);
    if tree_is_complete(&root) {
        return Ok(root);
    }
    std::fs::create_dir_all(cache).map_err(|e| {
        BuildError::Source(format!(
            "cannot create the cache directory {}: {e} (set BPFPROOF_CACHE to a writable directory)",
            cache.display()
        ))
    })?;
    let tarball = match find_tarball(cache) {
        Some(t) => t,
        None => {
            let deb = match find_deb(cache) {
                Some(d) => d,
                None => download_deb(cache, progress)?,
            };
            extract_tarball_from_deb(cache, &deb, progress)?
        }
    };
    unpack_tree(cache, &tarball, progress)?;
    if tree_is_complete(&root) {
        Ok(root)
    } else {
        Err(BuildError::Source(format!(
            "{} is incomplete after unpacking {} (expected {})",
            root.display(),
            tarball.display(),
            MARKERS.join(", ")
        )))
    }
}

fn find_tarball(cache: &Path) -> Option<PathBuf> {
    [
        cache.join("linux-source-6.12.tar.xz"),
        cache.join("x/usr/src/linux-source-6.12.tar.xz"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn find_deb(cache: &Path) -> Option<PathBuf> {
    let mut debs: Vec<PathBuf> = std::fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("linux-source-6.12_") && n.ends_with(".deb"))
        })
        .collect();
    debs.sort();
    debs.pop()
}

fn download_deb(cache: &Path, progress: &Progress) -> Result<PathBuf, BuildError> {
    tools::require(&APT_GET)?;
    progress.phase(&format!(
        "downloading {PACKAGE} (apt-get download, about 150 MB) into {}",
        cache.display()
    ));
    let out = tools::run(
        Command::new("apt-get")
            .args(["download", PACKAGE])
            .current_dir(cache),
    )?;
    if !out.status.success() {
        return Err(BuildError::Source(format!(
            "`apt-get download {PACKAGE}` failed in {}:\n{}\n\
             The package is in Debian bookworm-security: add \
             `deb http://security.debian.org/debian-security bookworm-security main` \
             to the apt sources, run `apt-get update`, and retry (or put the .deb there yourself).",
            cache.display(),
            tools::tail(&String::from_utf8_lossy(&out.stderr), 10)
        )));
    }
    find_deb(cache).ok_or_else(|| {
        BuildError::Source(format!(
            "apt-get download {PACKAGE} left no linux-source-6.12_*.deb in {}",
            cache.display()
        ))
    })
}

/// Pulls `usr/src/linux-source-6.12.tar.xz` out of the `.deb`
/// (`dpkg-deb --fsys-tarfile DEB | tar -x`) into `cache/x/`.
fn extract_tarball_from_deb(
    cache: &Path,
    deb: &Path,
    progress: &Progress,
) -> Result<PathBuf, BuildError> {
    tools::require(&DPKG_DEB)?;
    tools::require(&TAR)?;
    progress.phase(&format!("unpacking {}", deb.display()));
    let dest = cache.join("x");
    std::fs::create_dir_all(&dest).map_err(|e| BuildError::io(&dest, e))?;
    let mut dpkg = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BuildError::Step(format!("cannot run dpkg-deb: {e}")))?;
    let Some(pipe) = dpkg.stdout.take() else {
        return Err(BuildError::Step("dpkg-deb: no output pipe".into()));
    };
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&dest)
        .arg("-f")
        .arg("-")
        .arg(TARBALL_IN_DEB)
        .stdin(Stdio::from(pipe))
        .output()
        .map_err(|e| BuildError::Step(format!("cannot run tar: {e}")))?;
    let dpkg_out = dpkg
        .wait_with_output()
        .map_err(|e| BuildError::Step(format!("dpkg-deb: {e}")))?;
    if !dpkg_out.status.success() || !tar.status.success() {
        return Err(BuildError::Source(format!(
            "cannot extract {TARBALL_IN_DEB} from {}:\n{}{}",
            deb.display(),
            String::from_utf8_lossy(&dpkg_out.stderr),
            String::from_utf8_lossy(&tar.stderr)
        )));
    }
    find_tarball(cache)
        .ok_or_else(|| BuildError::Source(format!("{} holds no {TARBALL_IN_DEB}", deb.display())))
}

/// Unpacks the needed subtrees of the tarball into `cache/linux-source-6.12`,
/// through a temporary directory so that an interrupted run leaves no
/// half-unpacked tree behind.
fn unpack_tree(cache: &Path, tarball: &Path, progress: &Progress) -> Result<(), BuildError> {
    tools::require(&TAR)?;
    tools::require(&XZ)?;
    progress.phase(&format!(
        "unpacking tools/, include/uapi/ and scripts/bpf_doc.py of {} (about 10 s)",
        tarball.display()
    ));
    let tmp = cache.join(format!(".unpack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| BuildError::io(&tmp, e))?;
    let res = tools::run_ok(
        Command::new("tar")
            .arg("-xJf")
            .arg(tarball)
            .arg("-C")
            .arg(&tmp)
            .arg("--wildcards")
            .args(NEEDED),
        "unpacking the kernel source",
    );
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let root = cache.join(TREE);
    if root.exists() {
        // An incomplete earlier tree: move it aside, then delete it.
        let old = cache.join(format!(".old-{}", std::process::id()));
        std::fs::rename(&root, &old).map_err(|e| BuildError::io(&root, e))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    let unpacked = tmp.join(TREE);
    std::fs::rename(&unpacked, &root).map_err(|e| BuildError::io(&unpacked, e))?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
