//! The output directory of a run (`eucora-license reconcile --out <out>`,
//! Python's `Result.write(<out>)`): one run's files appear together or not at
//! all, two runs never interleave, and a failed run keeps the last good
//! outputs. The CLI and the bindings write through this one implementation
//! ([`write_run`]), so a directory written by either is byte for byte the
//! same and follows the same protocol.
//!
//! # Protocol ("Atomic outputs" in `docs/reliability.md`)
//!
//! The outputs stay plain files at fixed paths: `<out>/snapshot.json`,
//! `<out>/evidence.tar`, `<out>/evidence.shared.tar`, `<out>/exceptions.jsonl`
//! and `<out>/run_report.json`. A run changes them in four steps:
//!
//! 1. **Lock.** An exclusive `flock` on the directory `<out>` itself (on
//!    systems without it, on a `<out>/.lock` file), held until the process
//!    ends. A second run prints `waiting for lock on <out>` and waits.
//! 2. **Recover.** Under the lock, a journal `<out>/.commit` left by an
//!    interrupted run is rolled forward (step 4, which is idempotent); then
//!    every stale temporary of ours is deleted: `.staging-*` entries,
//!    `.commit.tmp-*` files and the `.<output>.tmp-*` files of older versions.
//!    A symbolic link at such a name is removed, never followed.
//! 3. **Stage.** The new files are written into a fresh directory
//!    `<out>/.staging-<pid>-<n>` (created with `mkdir`, which fails when the
//!    name exists, in which case the next `n` is tried), each file created
//!    with `O_CREAT|O_EXCL` (never through a planted link), then `fsync`ed,
//!    and the directory too. Nothing in `<out>` has changed yet: a kill here
//!    leaves the old set, and a stale staging directory the next run deletes.
//! 4. **Switch.** The journal is written to `.commit.tmp-<pid>-<n>`,
//!    `fsync`ed and renamed to `.commit` (one atomic rename: this is the commit
//!    point), `<out>` is `fsync`ed; then its `remove` lines are applied (an
//!    older pack the new snapshot does not match), its `install` lines rename
//!    each staged file over its output name (`run_report.json` last), `<out>`
//!    is `fsync`ed, the empty staging directory and the journal are removed.
//!    A kill before the commit point leaves the old set; after it, any later
//!    command that opens `<out>` (under the lock) finishes the switch first.
//!
//! A reader that goes through the lock ([`read_run`]: `reconcile --previous
//! <out>`, `diff` and `explain` given a run directory, in the CLI and in
//! Python) therefore always sees one complete set. A failed run stages only its `run_report.json`: the last good
//! snapshot, packs and exceptions stay byte for byte, so `--previous <out>`
//! still chains to the last good snapshot.
//!
//! Errors are `io::Error`s whose message names the path concerned; nothing
//! here panics.

use eucora_license_core::Outcome;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The journal that makes a switch atomic.
const JOURNAL: &str = ".commit";
const JOURNAL_HEADER: &str = "eucora-license outputs v1";
const STAGING_PREFIX: &str = ".staging-";
const JOURNAL_TMP_PREFIX: &str = ".commit.tmp-";

/// Every file a run may write to `<out>`.
pub const OUTPUTS: [&str; 5] = ["snapshot.json", "evidence.tar", "evidence.shared.tar", "exceptions.jsonl", "run_report.json"];

/// How many names `.staging-<pid>-<n>` are tried before giving up.
const MAX_NAME_TRIES: u32 = 64;

/// An output directory, locked for this process.
pub struct OutDir {
    path: PathBuf,
    /// Holds the lock; released when dropped (or when the process ends).
    _lock: File,
}

fn err_at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Take the exclusive lock of `dir`, waiting with a message when another
/// process holds it.
fn lock(dir: &Path) -> io::Result<File> {
    #[cfg(unix)]
    let file = File::open(dir).map_err(|e| err_at(dir, e))?;
    #[cfg(not(unix))]
    let file = {
        let p = dir.join(".lock");
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&p).map_err(|e| err_at(&p, e))?
    };
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!("waiting for lock on {} (another eucora-license process is using it)", dir.display());
            file.lock().map_err(|e| err_at(dir, e))?;
            Ok(file)
        }
        Err(std::fs::TryLockError::Error(e)) => Err(err_at(dir, e)),
    }
}

/// Make a directory's entries (creations, renames, removals) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| err_at(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn remove_any(path: &Path) -> io::Result<()> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(err_at(path, e)),
        _ => Ok(()),
    }
}

/// Is `name` one of our temporaries (never a user's file)?
fn is_temporary(name: &str) -> bool {
    name.starts_with(STAGING_PREFIX)
        || name.starts_with(JOURNAL_TMP_PREFIX)
        || OUTPUTS.iter().any(|o| name.starts_with(&format!(".{o}.tmp-")))
}

/// Create `path` exclusively for writing: fails when anything (a planted
/// symbolic link included) is already there.
fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| err_at(path, e))
}

/// With the cargo feature `crash-points` (the CLI turns it on for its
/// reliability tests; the bindings do not, so no environment variable can
/// abort a host process), tests stop the process at a named point of the
/// switch, as `kill -9` or a power cut would, by setting
/// `EUCORA_LICENSE_CRASH_AT` to `committed` (journal renamed, nothing
/// installed) or `mid-switch` (after the first rename). Unset, or without the
/// feature, nothing happens.
fn crash_point(name: &str) {
    #[cfg(feature = "crash-points")]
    if std::env::var_os("EUCORA_LICENSE_CRASH_AT").is_some_and(|v| v == name) {
        std::process::abort();
    }
    #[cfg(not(feature = "crash-points"))]
    let _ = name;
}

impl OutDir {
    /// Create `path` if needed, lock it and recover it (see the module doc).
    /// While another process (or another thread of this one) holds the lock,
    /// prints `waiting for lock on <path> ...` on stderr and waits.
    pub fn open(path: &Path) -> io::Result<OutDir> {
        std::fs::create_dir_all(path).map_err(|e| err_at(path, e))?;
        let dir = OutDir { path: path.to_path_buf(), _lock: lock(path)? };
        dir.recover()?;
        Ok(dir)
    }

    /// Lock an existing run directory for reading; finishes an interrupted
    /// switch first. A directory we may not write to is read as it is, unless
    /// a switch is pending there.
    pub fn open_for_reading(path: &Path) -> io::Result<Option<OutDir>> {
        match lock(path) {
            Ok(lock) => {
                let dir = OutDir { path: path.to_path_buf(), _lock: lock };
                match dir.roll_forward() {
                    Ok(()) => Ok(Some(dir)),
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(io::Error::new(
                        e.kind(),
                        format!(
                            "{}: an interrupted run left its outputs half switched in, and finishing the switch needs write access ({e})",
                            path.display()
                        ),
                    )),
                    Err(e) => Err(e),
                }
            }
            Err(_) if std::fs::symlink_metadata(path.join(JOURNAL)).is_err() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Roll a pending journal forward, then delete stale temporaries.
    fn recover(&self) -> io::Result<()> {
        self.roll_forward()?;
        let mut removed = false;
        for entry in std::fs::read_dir(&self.path).map_err(|e| err_at(&self.path, e))? {
            let entry = entry.map_err(|e| err_at(&self.path, e))?;
            let name = entry.file_name();
            if name.to_str().is_some_and(is_temporary) {
                remove_any(&entry.path())?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&self.path)?;
        }
        Ok(())
    }

    /// Finish the switch a journal describes (idempotent).
    fn roll_forward(&self) -> io::Result<()> {
        let journal = self.path.join(JOURNAL);
        let meta = match std::fs::symlink_metadata(&journal) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(err_at(&journal, e)),
            Ok(m) => m,
        };
        if !meta.is_file() || meta.len() > 4096 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a journal this program wrote; remove it by hand", journal.display()),
            ));
        }
        let text = std::fs::read_to_string(&journal).map_err(|e| err_at(&journal, e))?;
        let plan = Plan::parse(&text).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a journal this program wrote; remove it by hand", journal.display()),
            )
        })?;
        self.apply(&plan)?;
        remove_any(&journal)?;
        sync_dir(&self.path)
    }

    /// Apply a committed plan: removals, then the renames, then durability.
    fn apply(&self, plan: &Plan) -> io::Result<()> {
        let staging = self.path.join(&plan.staging);
        for name in &plan.remove {
            remove_any(&self.path.join(name))?;
        }
        for name in &plan.install {
            let from = staging.join(name);
            match std::fs::symlink_metadata(&from) {
                // Already moved by an earlier, interrupted attempt.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(err_at(&from, e)),
                Ok(_) => {}
            }
            std::fs::rename(&from, self.path.join(name)).map_err(|e| err_at(&from, e))?;
            crash_point("mid-switch");
        }
        sync_dir(&self.path)?;
        remove_any(&staging)
    }

    /// A fresh, empty staging directory for this run's files.
    pub fn stage(&self) -> io::Result<Staging<'_>> {
        let pid = std::process::id();
        for n in 0..MAX_NAME_TRIES {
            let name = format!("{STAGING_PREFIX}{pid}-{n}");
            let dir = self.path.join(&name);
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(Staging { out: self, name, dir, install: Vec::new(), committed: false }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(err_at(&dir, e)),
            }
        }
        Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{}: no free name for a staging directory", self.path.display())))
    }
}

/// What a switch does, as written in the journal.
struct Plan {
    staging: String,
    remove: Vec<String>,
    install: Vec<String>,
}

impl Plan {
    fn render(&self) -> String {
        let mut s = format!("{JOURNAL_HEADER}\nstaging {}\n", self.staging);
        for r in &self.remove {
            s.push_str(&format!("remove {r}\n"));
        }
        for i in &self.install {
            s.push_str(&format!("install {i}\n"));
        }
        s
    }

    /// Parse a journal; only our own names are accepted, so a forged journal
    /// cannot move or delete anything else.
    fn parse(text: &str) -> Option<Plan> {
        let mut lines = text.lines();
        if lines.next()? != JOURNAL_HEADER {
            return None;
        }
        let staging = lines.next()?.strip_prefix("staging ")?.to_string();
        let safe_staging = staging.starts_with(STAGING_PREFIX) && !staging.contains(['/', '\\']) && staging.len() > STAGING_PREFIX.len();
        if !safe_staging {
            return None;
        }
        let (mut remove, mut install) = (Vec::new(), Vec::new());
        for line in lines {
            let (verb, name) = line.split_once(' ')?;
            if !OUTPUTS.contains(&name) {
                return None;
            }
            match verb {
                "remove" => remove.push(name.to_string()),
                "install" => install.push(name.to_string()),
                _ => return None,
            }
        }
        Some(Plan { staging, remove, install })
    }
}

/// A run's files being written; nothing in `<out>` changes until
/// [`Staging::commit`]. Dropped uncommitted, it deletes itself.
pub struct Staging<'a> {
    out: &'a OutDir,
    name: String,
    dir: PathBuf,
    install: Vec<String>,
    committed: bool,
}

impl Staging<'_> {
    /// Write one output file from `fill`, then `fsync` it. `name` must be
    /// one of [`OUTPUTS`] (the journal names nothing else).
    pub fn write_with(&mut self, name: &'static str, fill: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>) -> io::Result<()> {
        if !OUTPUTS.contains(&name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: `{name}` is not an output name ({})", self.out.path.display(), OUTPUTS.join(", ")),
            ));
        }
        let path = self.dir.join(name);
        let mut w = io::BufWriter::with_capacity(1 << 20, create_new(&path)?);
        fill(&mut w).map_err(|e| err_at(&path, e))?;
        let file = w.into_inner().map_err(|e| err_at(&path, e.into_error()))?;
        file.sync_all().map_err(|e| err_at(&path, e))?;
        self.install.push(name.to_string());
        Ok(())
    }

    /// Write one output file (one of [`OUTPUTS`]) with these bytes.
    pub fn write(&mut self, name: &'static str, bytes: &[u8]) -> io::Result<()> {
        self.write_with(name, |w| w.write_all(bytes))
    }

    /// Switch the staged files in, removing the outputs in `remove` (files
    /// this run did not write and that would not match it; names outside
    /// [`OUTPUTS`] are refused). `run_report.json` is installed last.
    pub fn commit(mut self, remove: &[&str]) -> io::Result<()> {
        if let Some(bad) = remove.iter().find(|r| !OUTPUTS.contains(r)) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{}: `{bad}` is not an output name", self.out.path.display())));
        }
        sync_dir(&self.dir)?;
        self.install.sort_by_key(|n| n.as_str() == "run_report.json");
        let plan = Plan {
            staging: self.name.clone(),
            remove: remove.iter().filter(|r| !self.install.iter().any(|i| i == *r)).map(|r| r.to_string()).collect(),
            install: self.install.clone(),
        };
        let out = &self.out.path;
        let pid = std::process::id();
        let mut tmp = None;
        for n in 0..MAX_NAME_TRIES {
            let path = out.join(format!("{JOURNAL_TMP_PREFIX}{pid}-{n}"));
            match create_new(&path) {
                Ok(f) => {
                    tmp = Some((path, f));
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        let Some((tmp, mut file)) = tmp else {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{}: no free name for the journal", out.display())));
        };
        let written = file.write_all(plan.render().as_bytes()).and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, out.join(JOURNAL))) {
            let _ = std::fs::remove_file(&tmp);
            return Err(err_at(&tmp, e));
        }
        // Committed: from here on the switch is finished by whoever opens
        // `<out>` next, should this process stop.
        self.committed = true;
        sync_dir(out)?;
        crash_point("committed");
        self.out.apply(&plan)?;
        remove_any(&out.join(JOURNAL))?;
        sync_dir(out)
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = remove_any(&self.dir);
        }
    }
}

/// What a run writes besides its snapshot, exceptions and report.
#[derive(Clone, Copy, Default)]
pub struct RunOutputs<'a> {
    /// Write `evidence.tar` (the CLI's default; `--no-pack` turns it off).
    /// Without it, an older `evidence.tar` is removed: it would not match
    /// the new snapshot.
    pub pack: bool,
    /// The pseudonymised run whose pack is written as `evidence.shared.tar`
    /// (the CLI's `--share-key`; Python's `Result.pseudonymised`). Without
    /// it, an older `evidence.shared.tar` is removed.
    pub shared: Option<&'a Outcome>,
}

/// The form an evidence pack file is written in (docs/audit-guide.md,
/// section 9). Both verify; their pack hash is the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PackForm {
    /// The plain tar (`write_pack`), as packs were written before issue 15:
    /// the default of [`write_run`] (unchanged for library callers).
    #[default]
    Plain,
    /// The tar in one pinned zstd frame (`write_compressed_pack`), about a
    /// tenth of the size: what the CLI and the Python binding write
    /// (through [`write_run_as`] / [`write_run_to_as`]). `threads` compressor
    /// workers run while the tar is produced (0 counts as 1); the bytes are
    /// the same for every count.
    Compressed {
        /// Compressor worker threads.
        threads: usize,
    },
}

/// An evidence pack streamed into a staged file.
fn pack_into(outcome: &Outcome, form: PackForm) -> impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()> + '_ {
    move |w| {
        match form {
            PackForm::Compressed { threads } => eucora_license_core::write_compressed_pack_threads(outcome, w, threads).map(|_| ()),
            PackForm::Plain => eucora_license_core::write_pack(outcome, w).map(|_| ()),
        }
        .map_err(io::Error::other)
    }
}

/// `run_report.json` as written: the report as pretty JSON and a newline.
pub fn report_file_bytes(outcome: &Outcome) -> io::Result<Vec<u8>> {
    let mut report = serde_json::to_vec_pretty(&outcome.report.to_json()).map_err(io::Error::other)?;
    report.push(b'\n');
    Ok(report)
}

/// Write one run's outputs into the locked directory `out` and switch them
/// in as one set (see the module doc). A successful run replaces every
/// output: `exceptions.jsonl`, `evidence.tar` (streamed, never held whole in
/// memory) unless `outputs.pack` is false, `evidence.shared.tar` from
/// `outputs.shared`, `snapshot.json` (canonical bytes) and `run_report.json`
/// (installed last); a pack it did not write is removed, since it would not
/// match the new snapshot. A failed run (no snapshot) replaces only
/// `run_report.json`, so the last good snapshot, packs and exceptions stay.
///
/// Packs are plain tars here; `eucora-license reconcile --out` and
/// Python's `Result.write` call [`write_run_as`] / [`write_run_to_as`] with
/// [`PackForm::Compressed`], so their directories are the same byte for byte.
pub fn write_run(out: &OutDir, outcome: &Outcome, outputs: RunOutputs<'_>) -> io::Result<()> {
    write_run_as(out, outcome, outputs, PackForm::Plain)
}

/// [`write_run`], with the packs written in `form`.
pub fn write_run_as(out: &OutDir, outcome: &Outcome, outputs: RunOutputs<'_>, form: PackForm) -> io::Result<()> {
    let report = report_file_bytes(outcome)?;
    let mut staging = out.stage()?;
    let mut remove = Vec::new();
    if let Some(snap) = &outcome.snapshot {
        staging.write("exceptions.jsonl", &outcome.exceptions_jsonl())?;
        if outputs.pack {
            staging.write_with("evidence.tar", pack_into(outcome, form))?;
        } else {
            remove.push("evidence.tar");
        }
        match outputs.shared {
            Some(shared) => staging.write_with("evidence.shared.tar", pack_into(shared, form))?,
            None => remove.push("evidence.shared.tar"),
        }
        staging.write("snapshot.json", snap.canonical_bytes())?;
    }
    staging.write("run_report.json", &report)?;
    staging.commit(&remove)
}

/// [`OutDir::open`] then [`write_run`]: create `path` if needed, lock it,
/// finish or clean up what an interrupted run left, write the run, release
/// the lock.
pub fn write_run_to(path: &Path, outcome: &Outcome, outputs: RunOutputs<'_>) -> io::Result<()> {
    write_run_to_as(path, outcome, outputs, PackForm::Plain)
}

/// [`write_run_to`], with the packs written in `form`.
pub fn write_run_to_as(path: &Path, outcome: &Outcome, outputs: RunOutputs<'_>, form: PackForm) -> io::Result<()> {
    let out = OutDir::open(path)?;
    write_run_as(&out, outcome, outputs, form)
}

/// The file that stands for a past run: a directory's `evidence.tar` (or its
/// `snapshot.json` when it has no pack), or the file itself.
pub fn run_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        let pack = path.join("evidence.tar");
        if pack.is_file() {
            return pack;
        }
        return path.join("snapshot.json");
    }
    path.to_path_buf()
}

/// Do `a` and `b` name the same existing directory (links resolved)?
pub fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The bytes of a past run (output directory, pack or snapshot) and the file
/// they were read from (see [`run_file`]), read with the bound
/// [`crate::files::BULK_LIMIT`]. A directory is read under its lock, after
/// an interrupted run's switch is finished, so the file read belongs to one
/// complete run. `held` is a directory this process has locked already (it
/// is not locked twice). The error message names the path.
pub fn read_run(path: &Path, held: Option<&OutDir>) -> Result<(PathBuf, Vec<u8>), String> {
    let same_as_held = held.is_some_and(|h| same_dir(h.path(), path));
    let _guard = if path.is_dir() && !same_as_held { OutDir::open_for_reading(path).map_err(|e| e.to_string())? } else { None };
    let file = run_file(path);
    let bytes = crate::files::read_bounded(&file, crate::files::BULK_LIMIT)?;
    Ok((file, bytes))
}

/// [`read_run`], opened instead of read: the file of a past run, opened
/// under the directory's lock (so it is one complete run's file: a later
/// switch renames a new file in, and this handle keeps reading the one
/// opened), to be read as a stream (a previous evidence pack, issue 15).
pub fn open_run(path: &Path, held: Option<&OutDir>) -> Result<(PathBuf, std::fs::File), String> {
    let same_as_held = held.is_some_and(|h| same_dir(h.path(), path));
    let _guard = if path.is_dir() && !same_as_held { OutDir::open_for_reading(path).map_err(|e| e.to_string())? } else { None };
    let file = run_file(path);
    let shown = file.display();
    // Looked at before opening: opening a FIFO would wait for a writer.
    match std::fs::metadata(&file) {
        Ok(m) if !m.is_file() => {
            return Err(format!("cannot read {shown}: not a regular file (a folder, device, pipe or socket is refused)"))
        }
        Ok(_) => {}
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    }
    let f = std::fs::File::open(&file).map_err(|e| format!("cannot read {shown}: {e}"))?;
    match f.metadata() {
        Ok(m) if !m.is_file() => Err(format!("cannot read {shown}: not a regular file (a folder, device, pipe or socket is refused)")),
        Ok(m) if m.len() > crate::files::BULK_LIMIT => Err(format!("cannot read {shown}: larger than {} bytes", crate::files::BULK_LIMIT)),
        Ok(_) => Ok((file, f)),
        Err(e) => Err(format!("cannot read {shown}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("eucora-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn journal_round_trips_and_refuses_foreign_names() {
        let plan = Plan {
            staging: ".staging-1-0".into(),
            remove: vec!["evidence.tar".into()],
            install: vec!["snapshot.json".into(), "run_report.json".into()],
        };
        let back = Plan::parse(&plan.render()).unwrap();
        assert_eq!((back.staging, back.remove, back.install), (plan.staging, plan.remove, plan.install));
        for bad in [
            "x\nstaging .staging-1\n",
            "eucora-license outputs v1\nstaging ../x\n",
            "eucora-license outputs v1\nstaging .staging-1/../..\n",
            "eucora-license outputs v1\nstaging .staging-1\ninstall ../../etc/passwd\n",
            "eucora-license outputs v1\nstaging .staging-1\nremove catalog.json\n",
            "eucora-license outputs v1\nstaging .staging-1\nchmod snapshot.json\n",
        ] {
            assert!(Plan::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_at_temporary_names_are_never_followed() {
        let d = scratch("planted");
        let victim = d.join("victim");
        std::fs::create_dir_all(&victim).unwrap();
        std::fs::write(victim.join("keep"), b"keep").unwrap();
        let out = d.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let pid = std::process::id();
        // Links where this process will create its staging directory and journal.
        std::os::unix::fs::symlink(&victim, out.join(format!(".staging-{pid}-0"))).unwrap();
        std::os::unix::fs::symlink(victim.join("keep"), out.join(format!(".commit.tmp-{pid}-0"))).unwrap();
        // Creating a file exclusively over a (dangling or not) link fails.
        assert_eq!(create_new(&out.join(format!(".commit.tmp-{pid}-0"))).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        // Without recovery the names are taken: the next ones are used.
        let dir = OutDir { path: out.clone(), _lock: lock(&out).unwrap() };
        let mut st = dir.stage().unwrap();
        assert_eq!(st.name, format!(".staging-{pid}-1"));
        st.write("snapshot.json", b"{}").unwrap();
        st.commit(&[]).unwrap();
        assert_eq!(std::fs::read(out.join("snapshot.json")).unwrap(), b"{}");
        // Recovery removes the links themselves, not what they point to.
        dir.recover().unwrap();
        assert_eq!(std::fs::read(victim.join("keep")).unwrap(), b"keep");
        assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1);
        let mut names: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["snapshot.json"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn an_interrupted_switch_is_rolled_forward() {
        let out = scratch("rollforward");
        std::fs::write(out.join("snapshot.json"), b"old").unwrap();
        std::fs::write(out.join("evidence.tar"), b"old pack").unwrap();
        std::fs::write(out.join("run_report.json"), b"old report").unwrap();
        // A switch that stopped after moving the snapshot: the journal is there.
        std::fs::create_dir(out.join(".staging-9-0")).unwrap();
        std::fs::write(out.join("snapshot.json"), b"new").unwrap();
        std::fs::write(out.join(".staging-9-0/run_report.json"), b"new report").unwrap();
        let plan = Plan {
            staging: ".staging-9-0".into(),
            remove: vec!["evidence.tar".into()],
            install: vec!["snapshot.json".into(), "run_report.json".into()],
        };
        std::fs::write(out.join(JOURNAL), plan.render()).unwrap();
        std::fs::write(out.join(".evidence.tar.tmp-77"), b"stale").unwrap();
        let dir = OutDir::open(&out).unwrap();
        drop(dir);
        let mut names: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["run_report.json", "snapshot.json"]);
        assert_eq!(std::fs::read(out.join("snapshot.json")).unwrap(), b"new");
        assert_eq!(std::fs::read(out.join("run_report.json")).unwrap(), b"new report");
        let _ = std::fs::remove_dir_all(&out);
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn write_run_writes_the_whole_set_and_replaces_an_older_one() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
        let outcome = eucora_license_core::reconcile(&crate::DirBundle::new(&demo), None);
        let snap = outcome.snapshot.as_ref().expect("the demo reconciles");
        let out = scratch("writerun");
        // Leftovers of an interrupted older run, and a user's file.
        std::fs::create_dir(out.join(".staging-1-0")).unwrap();
        std::fs::write(out.join(".commit.tmp-1-0"), b"partial").unwrap();
        std::fs::write(out.join("notes.txt"), b"mine").unwrap();

        let with_pack = RunOutputs { pack: true, shared: None };
        write_run_to(&out, &outcome, with_pack).unwrap();
        assert_eq!(names(&out), ["evidence.tar", "exceptions.jsonl", "notes.txt", "run_report.json", "snapshot.json"]);
        let (pack, _) = eucora_license_core::write_pack(&outcome, Vec::new()).unwrap();
        assert_eq!(std::fs::read(out.join("evidence.tar")).unwrap(), pack);
        assert_eq!(std::fs::read(out.join("snapshot.json")).unwrap(), snap.canonical_bytes());
        assert_eq!(std::fs::read(out.join("exceptions.jsonl")).unwrap(), outcome.exceptions_jsonl());
        let report = std::fs::read(out.join("run_report.json")).unwrap();
        assert_eq!(report, report_file_bytes(&outcome).unwrap());
        assert!(report.ends_with(b"}\n"));
        // A reader of the directory gets the pack, under the lock.
        let (file, bytes) = read_run(&out, None).unwrap();
        assert_eq!((file, bytes), (out.join("evidence.tar"), pack.clone()));

        // Over it: no pack, a shared pack; the older pack goes, nothing stale stays.
        let shared = eucora_license_core::pseudonymise(&outcome, b"0123456789abcdef").unwrap();
        let outputs = RunOutputs { pack: false, shared: Some(&shared) };
        write_run_to(&out, &outcome, outputs).unwrap();
        assert_eq!(names(&out), ["evidence.shared.tar", "exceptions.jsonl", "notes.txt", "run_report.json", "snapshot.json"]);
        let (shared_pack, _) = eucora_license_core::write_pack(&shared, Vec::new()).unwrap();
        assert_eq!(std::fs::read(out.join("evidence.shared.tar")).unwrap(), shared_pack);
        assert_eq!(read_run(&out, None).unwrap().1, snap.canonical_bytes());

        // A failed run replaces only the report.
        let empty = scratch("writerun-empty-bundle");
        let failed = eucora_license_core::reconcile(&crate::DirBundle::new(&empty), None);
        assert!(failed.snapshot.is_none());
        write_run_to(&out, &failed, with_pack).unwrap();
        assert_eq!(names(&out), ["evidence.shared.tar", "exceptions.jsonl", "notes.txt", "run_report.json", "snapshot.json"]);
        assert_eq!(std::fs::read(out.join("snapshot.json")).unwrap(), snap.canonical_bytes());
        assert_eq!(std::fs::read(out.join("run_report.json")).unwrap(), report_file_bytes(&failed).unwrap());
        assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&empty);
    }

    #[test]
    fn names_outside_the_outputs_are_refused() {
        let out = scratch("foreign-names");
        let dir = OutDir::open(&out).unwrap();
        let mut st = dir.stage().unwrap();
        let e = st.write("catalog.json", b"{}").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("`catalog.json` is not an output name"), "{e}");
        let e = st.commit(&["../x"]).unwrap_err();
        assert!(e.to_string().contains(&out.display().to_string()), "{e}");
        // The refused staging directory is gone.
        assert!(names(&out).is_empty(), "{:?}", names(&out));
        drop(dir);
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn the_pack_form_is_plain_by_default_and_compressed_on_request() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
        let outcome = eucora_license_core::reconcile(&crate::DirBundle::new(&demo), None);
        let out = scratch("packform");
        let with_pack = RunOutputs { pack: true, shared: None };
        write_run_to_as(&out, &outcome, with_pack, PackForm::Compressed { threads: 2 }).unwrap();
        let compressed = std::fs::read(out.join("evidence.tar")).unwrap();
        assert!(compressed.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]));
        assert_eq!(compressed, eucora_license_core::write_compressed_pack(&outcome, Vec::new()).unwrap().0);
        write_run_to(&out, &outcome, with_pack).unwrap();
        let plain = std::fs::read(out.join("evidence.tar")).unwrap();
        assert_eq!(plain, eucora_license_core::write_pack(&outcome, Vec::new()).unwrap().0);
        assert_eq!(&*eucora_license_core::pack_archive(&compressed).unwrap(), &plain[..]);
        assert!(eucora_license_core::verify_pack(&compressed, None).ok);
        assert!(eucora_license_core::verify_pack(&plain, None).ok);
        let _ = std::fs::remove_dir_all(&out);
    }
}
