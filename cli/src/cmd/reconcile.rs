//! `reconcile <bundle-dir> --out <dir> [--previous <run>] [--json] [--no-pack]
//! [--share-key <key-file>] [--threads <n>]`: reconcile the bundle and write snapshot.json,
//! evidence.tar (unless `--no-pack`), run_report.json, exceptions.jsonl and,
//! with a key, evidence.shared.tar into `<dir>` as one set; then print the
//! counters table (or the snapshot with `--json`).
//!
//! Exit codes: 0 a snapshot was written (ok or degraded); 2 the run failed
//! closed (only run_report.json replaced, the last good outputs kept); 1
//! usage or I/O error, `--out` inside the bundle included.

use crate::{io_error, usage_error};
use eucora_license_core::{api, reconcile_with, Outcome, RunOptions, RunStatus};
use eucora_license_dir::{files, outdir};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct ReconcileOpts {
    bundle: PathBuf,
    out: PathBuf,
    previous: Option<PathBuf>,
    share_key: Option<PathBuf>,
    json: bool,
    pack: bool,
    run: RunOptions,
}

/// Run `reconcile` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(opts) => opts,
        Err(msg) => return usage_error(&msg),
    };
    reconcile_into(&opts).unwrap_or_else(io_error)
}

fn parse(args: &[String]) -> Result<ReconcileOpts, String> {
    let (mut bundle, mut out, mut previous, mut json, mut pack, mut share_key) = (None, None, None, false, true, None);
    let mut threads = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(it.next().ok_or("--out needs a directory")?.into()),
            "--previous" => previous = Some(it.next().ok_or("--previous needs a run directory, evidence pack or snapshot")?.into()),
            "--json" => json = true,
            "--no-pack" => pack = false,
            "--share-key" => share_key = Some(it.next().ok_or("--share-key needs a key file")?.into()),
            "--threads" => threads = Some(parse_threads(it.next().ok_or("--threads needs a number of threads (at least 1)")?)?),
            s if s.starts_with("--") => return Err(format!("unknown option `{s}`")),
            s if bundle.is_none() => bundle = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument `{s}`")),
        }
    }
    Ok(ReconcileOpts {
        bundle: bundle.ok_or("missing <bundle-dir>")?,
        out: out.ok_or("missing --out <dir>")?,
        previous,
        share_key,
        json,
        pack,
        run: threads.unwrap_or_else(every_core),
    })
}

/// `--threads N`: a whole number, at least 1 (checked by the core, as for
/// every binding).
pub(crate) fn parse_threads(text: &str) -> Result<RunOptions, String> {
    let n: i64 = text.trim().parse().map_err(|_| format!("--threads needs a whole number of at least 1, not `{text}`"))?;
    api::run_options(n).map_err(|e| format!("--threads: {}", e.message()))
}

/// The CLI's default: one thread per core (DESIGN Part B; the output does not
/// depend on it), one when the count is unknown.
pub(crate) fn every_core() -> RunOptions {
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    RunOptions::with_threads(n).unwrap_or_default()
}

/// Read, reconcile, write, print; `Err` is an I/O error's message.
fn reconcile_into(opts: &ReconcileOpts) -> Result<ExitCode, String> {
    refuse_out_inside_bundle(opts)?;
    // Everything that can fail before the run, read before the lock is taken.
    let key = match &opts.share_key {
        Some(k) => Some(files::read_bounded(k, files::KEY_LIMIT)?),
        None => None,
    };
    let (out, previous) = lock_out_and_read_previous(opts)?;

    let bundle = eucora_license_dir::DirBundle::new(&opts.bundle);
    // Without a pack nothing reads the units' bytes: only their roots are kept.
    let run = if opts.pack { opts.run.clone() } else { opts.run.clone().without_units() };
    let outcome = match previous {
        None => reconcile_with(&bundle, None, &run),
        Some(Previous::Bytes(b)) => reconcile_with(&bundle, Some(&b), &run),
        Some(Previous::Pack(mut r)) => eucora_license_core::reconcile_after_pack_with(&bundle, &mut r, &run),
    };
    let shared = match (&key, &outcome.snapshot) {
        (Some(key), Some(_)) => Some(eucora_license_core::pseudonymise(&outcome, key).map_err(|e| format!("shared pack: {e}"))?),
        _ => None,
    };
    // Staged and switched in as one set (see `outdir`): a failed run
    // replaces only run_report.json.
    let outputs = outdir::RunOutputs { pack: opts.pack, shared: shared.as_ref() };
    // The CLI stores the compressed pack (issue 15; docs/audit-guide.md,
    // section 9), compressed on `--threads` workers (the bytes do not depend
    // on how many).
    outdir::write_run_as(&out, &outcome, outputs, outdir::PackForm::Compressed { threads: opts.run.threads })
        .map_err(|e| format!("cannot write to {}: {e}", opts.out.display()))?;
    drop(out);

    print_outcome(opts, &outcome);
    Ok(match outcome.status {
        RunStatus::Failed => ExitCode::from(2),
        _ => ExitCode::SUCCESS,
    })
}

/// The bundle must be a directory, and the outputs must not land in it:
/// the next run would read them.
fn refuse_out_inside_bundle(opts: &ReconcileOpts) -> Result<(), String> {
    if !opts.bundle.is_dir() {
        return Err(format!("{}: not a directory", opts.bundle.display()));
    }
    let bundle_real = resolve(&opts.bundle)?;
    let out_real = resolve(&opts.out)?;
    if out_real.starts_with(&bundle_real) {
        return Err(format!(
            "--out {} is inside the bundle {} (resolved: {}); choose an output directory outside the bundle",
            opts.out.display(),
            opts.bundle.display(),
            out_real.display()
        ));
    }
    Ok(())
}

/// `path` made absolute with every existing ancestor's links resolved (the
/// part that does not exist yet is appended as written).
fn resolve(path: &Path) -> Result<PathBuf, String> {
    let abs = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        match std::fs::canonicalize(cur) {
            Ok(mut real) => {
                for part in rest.iter().rev() {
                    match part {
                        std::path::Component::ParentDir => {
                            real.pop();
                        }
                        std::path::Component::CurDir => {}
                        c => real.push(c),
                    }
                }
                return Ok(real);
            }
            Err(_) => match (cur.parent(), cur.components().next_back()) {
                (Some(parent), Some(last)) => {
                    rest.push(last);
                    cur = parent;
                }
                _ => return Ok(abs.clone()),
            },
        }
    }
}

/// The `--previous` run as it was opened: a snapshot (read, it is small) or
/// an evidence pack, read as a stream by the run (never held whole: a
/// chained run takes no more memory than an unchained one, issue 15).
enum Previous {
    Bytes(Vec<u8>),
    Pack(std::io::BufReader<std::io::Chain<std::io::Cursor<Vec<u8>>, std::fs::File>>),
}

/// Open a past run's file: its first bytes say whether it is a pack (a zstd
/// frame, or a tar: `ustar` at 257); a snapshot is read whole, bounded.
fn open_previous(path: &Path, held: Option<&outdir::OutDir>) -> Result<Previous, String> {
    use std::io::Read;
    let (file, mut f) = outdir::open_run(path, held)?;
    let mut head = Vec::with_capacity(512);
    (&mut f).take(512).read_to_end(&mut head).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if eucora_license_core::looks_like_pack(&head) {
        return Ok(Previous::Pack(std::io::BufReader::with_capacity(1 << 20, std::io::Cursor::new(head).chain(f))));
    }
    let mut bytes = head;
    f.take(files::BULK_LIMIT).read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    Ok(Previous::Bytes(bytes))
}

/// The output directory, locked, and the `--previous` run, opened.
///
/// A previous run elsewhere is opened first, under its own lock, so this
/// process never holds two locks (two runs chained crosswise cannot
/// deadlock); the output directory's own run is opened under our lock.
fn lock_out_and_read_previous(opts: &ReconcileOpts) -> Result<(outdir::OutDir, Option<Previous>), String> {
    let previous_is_out = opts.previous.as_deref().is_some_and(|p| outdir::same_dir(p, &opts.out));
    let mut previous = match &opts.previous {
        Some(p) if !previous_is_out => Some(open_previous(p, None)?),
        _ => None,
    };
    let out = outdir::OutDir::open(&opts.out).map_err(|e| format!("cannot write to {}: {e}", opts.out.display()))?;
    if let (Some(p), true) = (&opts.previous, previous_is_out) {
        previous = Some(open_previous(p, Some(&out))?);
    }
    Ok((out, previous))
}

/// The snapshot (`--json`) or the counters table on stdout; for a failed
/// run, its errors on stderr.
fn print_outcome(opts: &ReconcileOpts, outcome: &Outcome) {
    match &outcome.snapshot {
        Some(snap) if opts.json => {
            println!("{}", String::from_utf8_lossy(snap.canonical_bytes()));
        }
        Some(snap) => crate::table::print_table(snap.value(), outcome),
        None => {
            eprintln!(
                "reconciliation failed closed; no snapshot written ({}; the last good outputs, if any, are kept):",
                opts.out.join("run_report.json").display()
            );
            for e in &outcome.errors {
                eprintln!("  {e}");
            }
        }
    }
}
