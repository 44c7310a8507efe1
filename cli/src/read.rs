//! Reading the files the commands are given: regular files only, each kind
//! under its bound (`eucora_license_dir::files`: packs and bulk exports
//! 64 GiB, JSON documents 1 GiB, keys 1 MiB), and past runs. A file that
//! cannot be read is exit status 1; a past run that does not open is 2.

// The bounded file reader and the output-directory protocol are the shell
// shared with the bindings (`eucora-license-dir`).
use crate::{failed, io_error};
use eucora_license_core::{DiffDetail, Snapshot};
use eucora_license_dir::{files, outdir};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

/// A past run as `diff` and `explain` read it: its snapshot and, from a
/// pack, the diff's unit lists.
pub(crate) type Run = (Snapshot, Option<DiffDetail>);

/// A JSON document (snapshot, run report, proof), up to `files::DOCUMENT_LIMIT`.
pub(crate) fn document(path: &str) -> Result<Vec<u8>, ExitCode> {
    bounded(Path::new(path), files::DOCUMENT_LIMIT)
}

/// A regular file of at most `limit` bytes.
pub(crate) fn bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ExitCode> {
    files::read_bounded(path, limit).map_err(io_error)
}

/// A regular file of at most `limit` bytes, opened to be read as a stream
/// (an evidence pack: `verify` never holds it; issue 15).
pub(crate) fn stream(path: &Path, limit: u64) -> Result<std::io::BufReader<std::fs::File>, ExitCode> {
    let shown = path.display();
    let not_regular = || io_error(format!("cannot read {shown}: not a regular file (a folder, device, pipe or socket is refused)"));
    // Looked at before opening: opening a FIFO would wait for a writer.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(not_regular()),
        Ok(_) => {}
        Err(e) => return Err(io_error(format!("cannot read {shown}: {e}"))),
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(format!("cannot read {shown}: {e}")))?;
    // The name may have been replaced between the two looks.
    match file.metadata() {
        Ok(m) if !m.is_file() => return Err(not_regular()),
        Ok(m) if m.len() > limit => return Err(io_error(format!("cannot read {shown}: larger than {limit} bytes"))),
        Ok(_) => {}
        Err(e) => return Err(io_error(format!("cannot read {shown}: {e}"))),
    }
    Ok(std::io::BufReader::with_capacity(1 << 20, file))
}

/// A JSON document parsed (not checked against any schema); not JSON is an
/// I/O error naming the file.
pub(crate) fn json(path: &str) -> Result<Value, ExitCode> {
    let bytes = document(path)?;
    serde_json::from_slice(&bytes).map_err(|e| io_error(format!("{path}: not JSON: {e}")))
}

/// Read a past run (directory, pack or snapshot): its snapshot and, from a
/// pack, the diff's unit lists.
pub(crate) fn run(path: &str) -> Result<Run, ExitCode> {
    let (file, bytes) = outdir::read_run(Path::new(path), None).map_err(io_error)?;
    eucora_license_core::open_run(&bytes).map_err(|e| failed(format!("{}: {e}", file.display())))
}

/// Two past runs, both read (each error reported) before either is used.
pub(crate) fn run_pair(old: &str, new: &str) -> Result<(Run, Run), ExitCode> {
    match (run(old), run(new)) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(c), _) | (_, Err(c)) => Err(c),
    }
}
