//! The on-disk shell the CLI and the bindings share (the core itself never
//! opens a file):
//!
//! - the **bundle reader**, [`DirBundle`]: a bundle directory on disk as the
//!   engine's `BundleSource`, used by the CLI and the Python, Node and C
//!   bindings (below);
//! - the **run-output directory**, [`outdir`]: the lock, journal, staging and
//!   atomic switch through which `eucora-license reconcile --out` and
//!   Python's `Result.write` write a run ([`outdir::write_run`]) and through
//!   which a past run's directory is read ([`outdir::read_run`]);
//! - [`files::read_bounded`]: reading a file the user names with a size bound.
//!
//! # Bundle reader
//!
//! A bundle holds regular files and folders only. A symbolic link, pipe,
//! socket or device anywhere in it (names starting with `.` aside) makes the
//! listing fail with an error naming each such entry, so nothing is skipped
//! without a word: the run fails closed (`invalid_input`) and says why. Each
//! file is read with a size bound ([`MAX_JSON_FILE`], [`MAX_FILE`]).

pub mod files;
pub mod outdir;

use eucora_license_core::BundleSource;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The largest `*.json` file read (these are read whole): 1 GiB.
pub const MAX_JSON_FILE: u64 = 1 << 30;
/// The largest other file (signal files are streamed): 64 GiB.
pub const MAX_FILE: u64 = 64 << 30;

/// The bound for one bundle path.
pub fn limit_for(path: &str) -> u64 {
    if path.ends_with(".json") {
        MAX_JSON_FILE
    } else {
        MAX_FILE
    }
}

/// Files under one directory, named by '/'-separated relative paths.
pub struct DirBundle {
    root: PathBuf,
}

/// Why an entry of the bundle is not read.
fn refusal(ft: &std::fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "a symbolic link (refused: the bundle reader follows no links; copy the file or folder into the bundle)"
    } else {
        "not a regular file or folder (a pipe, socket or device is refused)"
    }
}

impl DirBundle {
    pub fn new(root: &Path) -> Self {
        DirBundle { root: root.to_path_buf() }
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<String>, refused: &mut Vec<String>) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let ft = entry.file_type()?;
            if ft.is_dir() {
                self.walk(&entry.path(), &rel, out, refused)?;
            } else if ft.is_file() {
                out.push(rel);
            } else {
                refused.push(format!("{rel}: {}", refusal(&ft)));
            }
        }
        Ok(())
    }
}

/// A reader that fails once more than `limit` bytes come out of it.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut one = [0u8; 1];
            return match self.inner.read(&mut one)? {
                0 => Ok(0),
                _ => Err(too_large(self.limit)),
            };
        }
        let max = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("larger than {limit} bytes, the limit for this bundle file"))
}

impl BundleSource for DirBundle {
    fn paths(&self) -> io::Result<Vec<String>> {
        let (mut out, mut refused) = (Vec::new(), Vec::new());
        self.walk(&self.root, "", &mut out, &mut refused)?;
        if !refused.is_empty() {
            refused.sort();
            return Err(io::Error::new(io::ErrorKind::InvalidData, refused.join("; ")));
        }
        out.sort();
        Ok(out)
    }

    /// Opens `path` below the root; absolute paths and `..` are refused so a
    /// bundle cannot name a file outside itself, and so are symbolic links
    /// (at the file or any folder above it below the root) and anything but a
    /// regular file, which is read with a size bound.
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        let rel = Path::new(path);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "path must stay inside the bundle"));
        }
        let full = self.root.join(rel);
        let mut at = self.root.clone();
        let mut meta = None;
        for c in rel.components() {
            at.push(c);
            let m = std::fs::symlink_metadata(&at)?;
            let last = at == full;
            let ok = if last { m.is_file() } else { m.is_dir() };
            if !ok {
                let what = if m.file_type().is_symlink() || last { refusal(&m.file_type()) } else { "not a folder" };
                let shown = at.strip_prefix(&self.root).unwrap_or(&at).display().to_string();
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{shown}: {what}")));
            }
            meta = Some(m);
        }
        let limit = limit_for(path);
        let f = std::fs::File::open(&full)?;
        let opened = f.metadata()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // The name must still be the regular file looked at above.
            if meta.as_ref().is_none_or(|m| (m.dev(), m.ino()) != (opened.dev(), opened.ino())) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{path}: replaced while being opened")));
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        if !opened.is_file() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{path}: {}", refusal(&opened.file_type()))));
        }
        if opened.len() > limit {
            return Err(too_large(limit));
        }
        Ok(Box::new(io::BufReader::with_capacity(1 << 20, Bounded { inner: f, left: limit, limit })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_refuses_one_byte_more() {
        let mut r = Bounded { inner: &b"abcd"[..], left: 4, limit: 4 };
        let mut v = Vec::new();
        assert_eq!(r.read_to_end(&mut v).unwrap(), 4);
        let mut r = Bounded { inner: &b"abcde"[..], left: 4, limit: 4 };
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("larger than 4 bytes"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn links_and_special_files_are_named_not_skipped() {
        let d = std::env::temp_dir().join(format!("eucora-dirbundle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("signals")).unwrap();
        std::fs::write(d.join("signals/a.csv"), b"x").unwrap();
        std::fs::write(d.join("real.json"), b"{}").unwrap();
        let b = DirBundle::new(&d);
        assert_eq!(b.paths().unwrap(), ["real.json", "signals/a.csv"]);
        std::os::unix::fs::symlink(d.join("real.json"), d.join("bundle.json")).unwrap();
        std::os::unix::fs::symlink(d.join("signals"), d.join("more")).unwrap();
        let e = b.paths().unwrap_err().to_string();
        assert!(e.contains("bundle.json: a symbolic link") && e.contains("more: a symbolic link"), "{e}");
        let e = b.open("bundle.json").err().unwrap().to_string();
        assert!(e.contains("bundle.json: a symbolic link"), "{e}");
        let e = b.open("more/a.csv").err().unwrap().to_string();
        assert!(e.contains("more: a symbolic link"), "{e}");
        let mut s = String::new();
        b.open("signals/a.csv").unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "x");
        let _ = std::fs::remove_dir_all(&d);
    }
}
