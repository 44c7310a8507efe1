//! Reading the files a user names (to the CLI or a binding), with a size
//! bound: a device, a pipe or an endless file (`verify /dev/zero`) is a clear
//! error, never a process that grows until it is killed.

use std::io::Read;
use std::path::Path;

/// Evidence packs, previous runs and raw exports: a pack of one million
/// signals is about 524 MB, so 64 GiB leaves room and still stops a runaway.
pub const BULK_LIMIT: u64 = 64 << 30;
/// JSON documents read whole: snapshots, run reports, proofs (1 GiB).
pub const DOCUMENT_LIMIT: u64 = 1 << 30;
/// Key files (`--share-key`): 1 MiB.
pub const KEY_LIMIT: u64 = 1 << 20;

/// Read a regular file of at most `limit` bytes. Anything else (a folder,
/// device, pipe or socket) is refused before a byte is read; a file that
/// grows past the bound while being read is refused too.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("cannot read {shown}: not a regular file (a folder, device, pipe or socket is refused)"));
    }
    if meta.len() > limit {
        return Err(format!("cannot read {shown}: larger than {limit} bytes"));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    // The name may have been replaced between the two looks.
    match file.metadata() {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(format!("cannot read {shown}: not a regular file (a folder, device, pipe or socket is refused)")),
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("cannot read {shown}: larger than {limit} bytes"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_oversized_files_are_refused() {
        #[cfg(unix)]
        {
            let e = read_bounded(Path::new("/dev/zero"), DOCUMENT_LIMIT).unwrap_err();
            assert!(e.contains("/dev/zero: not a regular file"), "{e}");
        }
        let e = read_bounded(&std::env::temp_dir(), DOCUMENT_LIMIT).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let f = std::env::temp_dir().join(format!("eucora-bounded-{}", std::process::id()));
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_bounded(&f, 5).unwrap(), b"12345");
        let e = read_bounded(&f, 4).unwrap_err();
        assert!(e.ends_with("larger than 4 bytes"), "{e}");
        let _ = std::fs::remove_file(&f);
    }
}
