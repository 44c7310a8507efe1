//! A bundle directory on disk, as the engine's `BundleSource`: the one
//! reader of bundle files that the CLI and the Python, Node and C bindings
//! share (the core itself never opens a file).

use eucora_license_core::bundle::BundleSource;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Files under one directory, named by '/'-separated relative paths.
pub struct DirBundle {
    root: PathBuf,
}

impl DirBundle {
    pub fn new(root: &Path) -> Self {
        DirBundle { root: root.to_path_buf() }
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let rel = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let ft = entry.file_type()?;
            if ft.is_dir() {
                self.walk(&entry.path(), &rel, out)?;
            } else if ft.is_file() {
                out.push(rel);
            }
        }
        Ok(())
    }
}

impl BundleSource for DirBundle {
    fn paths(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out)?;
        out.sort();
        Ok(out)
    }

    /// Opens `path` below the root; absolute paths and `..` are refused so a
    /// bundle cannot name a file outside itself.
    fn open(&self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        let rel = Path::new(path);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "path must stay inside the bundle"));
        }
        let f = std::fs::File::open(self.root.join(rel))?;
        Ok(Box::new(io::BufReader::with_capacity(1 << 20, f)))
    }
}
