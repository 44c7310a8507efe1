//! What `alerts`, `advise`, `events` and `compliance` share (DESIGN C5):
//! their arguments, reading the runs (each an output directory or its
//! `snapshot.json`, oldest first; the latest with `evidence.tar` beside
//! it), the policy (`--policy F`, else the shipped default), and the
//! contract error (exit 2, `{"error": {"code", "message", "index"}}` on
//! stdout).

use crate::{io_error, read, usage_error};
use eucora_license_dir::{files, outdir};
use eucora_license_insight::{InsightError, Policy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The parsed arguments.
pub(super) struct Args {
    pub(super) runs: Vec<String>,
    pub(super) policy: Option<String>,
    pub(super) json: bool,
    pub(super) organization_uuid: Option<String>,
    pub(super) license_id: Option<String>,
}

/// Parse `<run>... [--policy F] [--json]` plus the options `extra` allows
/// (`--organization-uuid`, `--license-id`).
pub(super) fn parse(cmd: &str, args: &[String], extra: &[&str]) -> Result<Args, ExitCode> {
    let mut a = Args { runs: Vec::new(), policy: None, json: false, organization_uuid: None, license_id: None };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| usage_error(&format!("{name} needs a value")));
        match arg.as_str() {
            "--json" => a.json = true,
            "--policy" => a.policy = Some(value("--policy")?),
            "--organization-uuid" if extra.contains(&"--organization-uuid") => a.organization_uuid = Some(value("--organization-uuid")?),
            "--license-id" if extra.contains(&"--license-id") => a.license_id = Some(value("--license-id")?),
            s if s.starts_with("--") => return Err(usage_error(&format!("unknown option `{s}`"))),
            s => a.runs.push(s.to_string()),
        }
    }
    if a.runs.is_empty() {
        return Err(usage_error(&format!("{cmd} needs at least one run (an output directory or its snapshot.json)")));
    }
    if let Some(u) = &a.organization_uuid {
        if eucora_license_insight::parse_organization_uuid(u).is_err() {
            return Err(usage_error("--organization-uuid is not a UUID"));
        }
    }
    Ok(a)
}

/// What every intelligence command starts from: its arguments, the policy,
/// the runs' snapshots (oldest first) and the latest run's pack.
pub(super) struct Loaded {
    pub(super) args: Args,
    pub(super) policy: Policy,
    pub(super) snaps: Vec<Vec<u8>>,
    pub(super) pack: Vec<u8>,
}

impl Loaded {
    /// The snapshots as slices, oldest first.
    pub(super) fn history(&self) -> Vec<&[u8]> {
        self.snaps.iter().map(Vec::as_slice).collect()
    }

    /// The latest snapshot.
    pub(super) fn latest(&self) -> &[u8] {
        self.snaps.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Parse the arguments ([`parse`]), then read the policy and the runs; the
/// first failure is the command's exit status.
pub(super) fn load(cmd: &str, args: &[String], extra: &[&str], one_run: bool) -> Result<Loaded, ExitCode> {
    let args = parse(cmd, args, extra)?;
    if one_run && args.runs.len() != 1 {
        return Err(usage_error(&format!("{cmd} takes one run")));
    }
    let policy = policy(args.policy.as_deref())?;
    let (snaps, pack) = read_runs(&args.runs)?;
    Ok(Loaded { args, policy, snaps, pack })
}

/// Print the `--json` document (built once, in the crate, as every binding
/// gets it) or the contract error.
pub(super) fn print_document(doc: Result<String, InsightError>) -> ExitCode {
    match doc {
        Ok(doc) => {
            println!("{doc}");
            ExitCode::SUCCESS
        }
        Err(e) => contract_error(e),
    }
}

/// The snapshot file of a run argument: the directory's `snapshot.json`,
/// or the file itself.
fn snapshot_path(run: &str) -> PathBuf {
    let p = Path::new(run);
    if p.is_dir() {
        p.join("snapshot.json")
    } else {
        p.to_path_buf()
    }
}

/// The evidence pack beside a run: `<dir>/evidence.tar`.
fn pack_path(run: &str) -> PathBuf {
    let p = Path::new(run);
    if p.is_dir() {
        p.join("evidence.tar")
    } else {
        p.parent().unwrap_or(Path::new(".")).join("evidence.tar")
    }
}

/// The runs' snapshot bytes, oldest first, and the latest run's pack. A
/// run directory is read under its lock (an interrupted switch finished
/// first), so the snapshot and the pack of the latest belong to one run.
pub(super) fn read_runs(runs: &[String]) -> Result<(Vec<Vec<u8>>, Vec<u8>), ExitCode> {
    let mut snaps = Vec::with_capacity(runs.len());
    let mut pack = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let dir = Path::new(r);
        let _guard = if dir.is_dir() { outdir::OutDir::open_for_reading(dir).map_err(io_error)? } else { None };
        snaps.push(read::bounded(&snapshot_path(r), files::DOCUMENT_LIMIT)?);
        if i + 1 == runs.len() {
            pack = read::bounded(&pack_path(r), files::BULK_LIMIT)?;
        }
    }
    Ok((snaps, pack))
}

/// The policy: the file given, else the shipped default. A file that
/// cannot be read is exit 1; an invalid one is the contract error.
pub(super) fn policy(path: Option<&str>) -> Result<Policy, ExitCode> {
    match path {
        None => Ok(Policy::default_policy()),
        Some(p) => {
            let bytes = read::bounded(Path::new(p), files::DOCUMENT_LIMIT)?;
            let name = Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Policy::parse(&bytes, &name).map_err(contract_error)
        }
    }
}

/// Exit status 2 with the error document on stdout and a line on stderr.
pub(super) fn contract_error(e: InsightError) -> ExitCode {
    println!("{}", e.to_json());
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// The latest snapshot's `reconciled_at` (the outputs' `as_of`).
pub(super) fn as_of(snapshot: &[u8]) -> Result<String, ExitCode> {
    let v: serde_json::Value = serde_json::from_slice(snapshot).map_err(|e| io_error(format!("snapshot: not JSON: {e}")))?;
    Ok(v["reconciled_at"].as_str().unwrap_or_default().to_string())
}

/// The human header: the policy's identity and the instant.
pub(super) fn header(p: &Policy, as_of: &str) {
    println!("policy: {} v{} {}", p.id, p.version, p.hash);
    println!("as of:  {as_of}");
}

/// A subject as `key=value` pairs.
pub(super) fn subject_text(s: &eucora_license_insight::Subject) -> String {
    s.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}
