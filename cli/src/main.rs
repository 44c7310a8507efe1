//! `eucora-license`: the reference shell around the engine. It reads a bundle
//! directory, calls the pure core, and writes the outputs atomically.
//!
//! Exit codes: 0 a snapshot was written (ok or degraded), 2 the run failed
//! closed (its report written beside the last good outputs, which stay as
//! they were), 1 usage or I/O error.

// The output-directory protocol and the bounded file reader are the shell
// shared with the bindings (`eucora-license-dir`).
use eucora_license_dir::{files, outdir};

/// `println!` that ends the process with status 1 when stdout is gone (a
/// closed pipe: `eucora-license verify pack.tar | head -1`) instead of
/// panicking, as std's macro does.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(1);
        }
    }};
}

/// `print!` with the same rule.
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(1);
        }
    }};
}

use eucora_license_core::{reconcile, Outcome, RunStatus};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: eucora-license reconcile <bundle-dir> --out <dir> [--previous <run>] [--json] [--no-pack]
                                [--share-key <key-file>]
       eucora-license verify <pack.tar> [--previous <snapshot.json>] [--json]
       eucora-license diff <old-run> <new-run> [--json]
       eucora-license explain <old-run> <new-run> --sku <id>
       eucora-license sidebar --snapshot <snapshot.json> [--last-run <run_report.json>] --now <instant>
                              [--schedule-hours <h>] [--stale-factor <n>]
       eucora-license prove <snapshot.json> --sku <id>
       eucora-license verify-proof <proof.json> [--snapshot-hash <sha256:…> | --snapshot <snapshot.json>]
       eucora-license import --adapter <name> [--option key=value]... <file>...
       eucora-license adapters

Reconciles the bundle and writes <dir>/snapshot.json (canonical JSON),
<dir>/evidence.tar (the evidence pack), <dir>/run_report.json and
<dir>/exceptions.jsonl, then prints the counters. The files of one run appear
together or not at all; a failed run writes only run_report.json and leaves the
last good snapshot, pack and exceptions as they were. One run at a time writes
to <dir>: a second one waits for the first. <dir> may not lie inside the bundle.
  --previous <run>   chain to the previous run (sequence + 1, previous_hash): its
                     output directory, its evidence.tar (a diff unit by unit, with
                     reasons) or its snapshot.json (counter deltas only)
  --json             print the snapshot instead of the table
  --no-pack          do not write evidence.tar (timing the reconciliation alone)
  --share-key <file> also write <dir>/evidence.shared.tar, a pack for sharing outside
                     the company: principals and record ids replaced by keyed hashes
                     (HMAC-SHA-256 under the file's bytes, at least 16), same counters

verify checks an evidence pack offline (artifact hashes, manifest, snapshot
hash, Merkle roots, chain link) and replays the reconciliation from it;
exit 0 only when every check passed.
diff prints what changed per SKU between two runs (output directories, packs
or snapshots): units added and removed by reason, entitlement changes.
explain prints, in words, why one SKU's numbers changed between two
consecutive runs; every number comes from the diff.
sidebar prints the sidebar state (ok, degraded, stale, failed) as JSON.
prove prints one SKU's record with its Merkle audit path to skus_root;
verify-proof checks such a proof (exit 0 when it holds).
import runs one source adapter over raw export files and prints the canonical
signals as JSON Lines on stdout, the import jobs on stderr.
adapters lists the adapters with their versions and options.

Files given to the commands must be regular files: packs and previous runs up
to 64 GiB, JSON documents (snapshots, run reports, proofs) up to 1 GiB, key
files up to 1 MiB.

Exit status: 0 snapshot written, 2 run failed closed, 1 usage or I/O error.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reconcile") => match parse_reconcile(&args[1..]) {
            Ok(opts) => run_reconcile(&opts),
            Err(msg) => usage_error(&msg),
        },
        Some("import") => match parse_import(&args[1..]) {
            Ok(opts) => run_import(&opts),
            Err(msg) => usage_error(&msg),
        },
        Some("verify") => run_verify(&args[1..]),
        Some("diff") => run_diff(&args[1..]),
        Some("explain") => run_explain(&args[1..]),
        Some("sidebar") => run_sidebar(&args[1..]),
        Some("prove") => run_prove(&args[1..]),
        Some("verify-proof") => run_verify_proof(&args[1..]),
        Some("adapters") => {
            for a in eucora_license_core::adapters() {
                let keys = a.option_keys();
                println!(
                    "{:<24} v{:<6} source {:<8} options: {}",
                    a.name(),
                    a.version(),
                    a.source(),
                    if keys.is_empty() { "-".to_string() } else { keys.join(", ") }
                );
            }
            ExitCode::SUCCESS
        }
        Some("--version" | "-V") => {
            println!("eucora-license {}", eucora_license_core::VERSION);
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => usage_error(&format!("unknown command `{other}`")),
        None => usage_error("no command given"),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n\n{USAGE}");
    ExitCode::from(1)
}

struct ReconcileOpts {
    bundle: PathBuf,
    out: PathBuf,
    previous: Option<PathBuf>,
    share_key: Option<PathBuf>,
    json: bool,
    pack: bool,
}

fn parse_reconcile(args: &[String]) -> Result<ReconcileOpts, String> {
    let (mut bundle, mut out, mut previous, mut json, mut pack, mut share_key) = (None, None, None, false, true, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(it.next().ok_or("--out needs a directory")?.into()),
            "--previous" => previous = Some(it.next().ok_or("--previous needs a run directory, evidence pack or snapshot")?.into()),
            "--json" => json = true,
            "--no-pack" => pack = false,
            "--share-key" => share_key = Some(it.next().ok_or("--share-key needs a key file")?.into()),
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
    })
}

fn read_file(path: &str) -> Result<Vec<u8>, ExitCode> {
    read_limited(Path::new(path), files::DOCUMENT_LIMIT)
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ExitCode> {
    files::read_bounded(path, limit).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })
}

/// Read a past run (directory, pack or snapshot): its snapshot and, from a
/// pack, the diff's unit lists.
fn load_run(path: &str) -> Result<(eucora_license_core::Snapshot, Option<Value>), ExitCode> {
    let (file, bytes) = outdir::read_run(Path::new(path), None).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })?;
    eucora_license_core::open_run(&bytes).map_err(|e| {
        eprintln!("error: {}: {e}", file.display());
        ExitCode::from(2)
    })
}

/// Two run arguments, `--json`, `--sku`.
fn parse_pair(args: &[String], with_sku: bool) -> Result<(String, String, bool, Option<String>), ExitCode> {
    let (mut runs, mut json, mut sku) = (Vec::new(), false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" if !with_sku => json = true,
            "--sku" if with_sku => sku = it.next().cloned(),
            s if s.starts_with("--") => return Err(usage_error(&format!("unknown option `{s}`"))),
            s => runs.push(s.to_string()),
        }
    }
    match (runs.as_slice(), with_sku, &sku) {
        ([old, new], false, _) | ([old, new], true, Some(_)) => Ok((old.clone(), new.clone(), json, sku)),
        _ if with_sku => Err(usage_error("explain needs <old-run> <new-run> --sku <id>")),
        _ => Err(usage_error("diff needs <old-run> <new-run>")),
    }
}

/// `diff <old> <new>`: per SKU, units added and removed by reason.
fn run_diff(args: &[String]) -> ExitCode {
    let (old, new, json, _) = match parse_pair(args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let ((prev, _), (cur, detail)) = match (load_run(&old), load_run(&new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let diff = match eucora_license_core::diff_between(&prev, &cur) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        let consecutive = diff["previous_hash"].as_str() == Some(prev.hash().to_prefixed().as_str()) && diff["basis"] == "units";
        let out = if consecutive {
            detail.filter(|d| d["previous_hash"] == diff["previous_hash"]).map(|d| serde_json::json!({"summary": diff, "units": d}))
        } else {
            None
        };
        println!("{}", serde_json::to_string_pretty(&out.unwrap_or(diff)).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    println!("diff sequence {} -> {} (basis: {})", prev.sequence(), cur.sequence(), diff["basis"].as_str().unwrap_or(""));
    let skus = diff["skus"].as_array().cloned().unwrap_or_default();
    if skus.is_empty() {
        println!("no SKU changed");
    }
    for d in &skus {
        let delta = &d["delta"];
        print!(
            "{:<24} consumed {:+} entitled {:+} remaining {:+}",
            d["sku"].as_str().unwrap_or(""),
            delta["consumed"].as_i64().unwrap_or(0),
            delta["entitled"].as_i64().unwrap_or(0),
            delta["remaining"].as_i64().unwrap_or(0)
        );
        for side in ["added", "removed", "entitlements"] {
            if let Some(m) = d[side].as_object().filter(|m| !m.is_empty()) {
                let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
                print!("  {side}: {}", parts.join(", "));
            }
        }
        println!();
    }
    for g in diff["coverage_gaps"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        println!(
            "coverage gap: source {} {} (SKUs: {})",
            g["source"].as_str().unwrap_or(""),
            g["status"].as_str().unwrap_or(""),
            g["skus"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()
        );
    }
    ExitCode::SUCCESS
}

/// `explain <old> <new> --sku <id>`.
fn run_explain(args: &[String]) -> ExitCode {
    let (old, new, _, sku) = match parse_pair(args, true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let ((prev, _), (cur, detail)) = match (load_run(&old), load_run(&new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    match eucora_license_core::explain(&prev, &cur, detail.as_ref(), sku.as_deref().unwrap_or("")) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `verify`: every check with its status; exit 0 only when all passed.
fn run_verify(args: &[String]) -> ExitCode {
    let (mut pack, mut previous, mut json) = (None, None, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--previous" => match it.next() {
                Some(p) => previous = Some(p.clone()),
                None => return usage_error("--previous needs a snapshot file"),
            },
            "--json" => json = true,
            s if s.starts_with("--") => return usage_error(&format!("unknown option `{s}`")),
            s => pack = Some(s.to_string()),
        }
    }
    let Some(pack) = pack else {
        return usage_error("verify needs a pack file");
    };
    let bytes = match read_limited(Path::new(&pack), files::BULK_LIMIT) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let prev = match previous.as_deref().map(read_file).transpose() {
        Ok(p) => p,
        Err(code) => return code,
    };
    // The replay runs on a second thread while the other checks hash the pack.
    let report = std::thread::scope(|s| {
        let replay = s.spawn(|| eucora_license_core::replay_pack(&bytes));
        eucora_license_core::verify_pack_using(&bytes, prev.as_deref(), || {
            replay.join().unwrap_or_else(|_| Err("the replay stopped on an internal error".into()))
        })
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        for c in &report.checks {
            println!("{:<8} {:<32} {}", c.status, c.name, c.detail);
        }
        match &report.first_failure {
            None => println!("\nverified: every check passed; snapshot {}", report.snapshot_hash.as_deref().unwrap_or("")),
            Some(f) => println!("\nNOT verified: first failed check: {f}"),
        }
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// `sidebar`: the state of the latest truth at `--now`.
fn run_sidebar(args: &[String]) -> ExitCode {
    let (mut snapshot, mut last_run, mut now, mut hours, mut factor) = (None, None, None, 24i64, 2i64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned();
        match a.as_str() {
            "--snapshot" => snapshot = value(),
            "--last-run" => last_run = value(),
            "--now" => now = value(),
            "--schedule-hours" => match value().and_then(|v| v.parse().ok()) {
                Some(h) if h > 0 => hours = h,
                _ => return usage_error("--schedule-hours needs a positive integer"),
            },
            "--stale-factor" => match value().and_then(|v| v.parse().ok()) {
                Some(f) if f >= 0 => factor = f,
                _ => return usage_error("--stale-factor needs a non-negative integer"),
            },
            s => return usage_error(&format!("unexpected argument `{s}`")),
        }
    }
    let Some(now) = now.and_then(|n| eucora_license_core::Instant::parse(&n).ok()) else {
        return usage_error("--now needs an RFC 3339 instant with offset");
    };
    let load = |p: Option<String>| -> Result<Option<serde_json::Value>, ExitCode> {
        match p {
            None => Ok(None),
            Some(p) => {
                let b = read_file(&p)?;
                serde_json::from_slice(&b).map(Some).map_err(|e| {
                    eprintln!("error: {p}: not JSON: {e}");
                    ExitCode::from(1)
                })
            }
        }
    };
    let (snap, run) = match (load(snapshot), load(last_run)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    if let Some(s) = &snap {
        if let Err(e) = eucora_license_core::Snapshot::parse_verified(&eucora_license_core::canonical_bytes(s).unwrap_or_default()) {
            eprintln!("error: the snapshot does not verify: {e}");
            return ExitCode::from(2);
        }
    }
    let Ok(schedule_interval_secs) = eucora_license_core::schedule_secs_from_hours(hours) else {
        return usage_error("--schedule-hours is more hours than the engine counts");
    };
    let state = match eucora_license_core::try_sidebar(&eucora_license_core::SidebarInput {
        latest_success: snap.as_ref(),
        last_run: run.as_ref(),
        now,
        schedule_interval_secs,
        stale_factor: factor,
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{}", serde_json::to_string_pretty(&state).unwrap_or_default());
    ExitCode::SUCCESS
}

/// `prove <snapshot> --sku <id>`: the SKU's inclusion proof as JSON.
fn run_prove(args: &[String]) -> ExitCode {
    let (mut snapshot, mut sku) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sku" => sku = it.next().cloned(),
            s if s.starts_with("--") => return usage_error(&format!("unknown option `{s}`")),
            s => snapshot = Some(s.to_string()),
        }
    }
    let (Some(snapshot), Some(sku)) = (snapshot, sku) else {
        return usage_error("prove needs <snapshot.json> --sku <id>");
    };
    let bytes = match read_file(&snapshot) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let snap = match eucora_license_core::Snapshot::parse_verified(&bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match eucora_license_core::prove(&snap, &sku) {
        Ok(p) => {
            println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `verify-proof <proof.json> [--snapshot-hash <sha256:…> | --snapshot <snapshot.json>]`:
/// with a trusted snapshot hash (or the snapshot), the proof is bound to it.
fn run_verify_proof(args: &[String]) -> ExitCode {
    let (mut path, mut trusted_hash, mut trusted_snapshot) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--snapshot-hash" => match it.next() {
                Some(h) => trusted_hash = Some(h.clone()),
                None => return usage_error("--snapshot-hash needs sha256:<64 hex>"),
            },
            "--snapshot" => match it.next() {
                Some(p) => trusted_snapshot = Some(p.clone()),
                None => return usage_error("--snapshot needs a snapshot file"),
            },
            s if s.starts_with("--") => return usage_error(&format!("unknown option `{s}`")),
            s if path.is_none() => path = Some(s.to_string()),
            _ => return usage_error("verify-proof needs one proof file"),
        }
    }
    let Some(path) = path else { return usage_error("verify-proof needs one proof file") };
    if trusted_hash.is_some() && trusted_snapshot.is_some() {
        return usage_error("verify-proof takes --snapshot-hash or --snapshot, not both");
    }
    let bytes = match read_file(&path) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let proof: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {path}: not JSON: {e}");
            return ExitCode::from(1);
        }
    };
    let snapshot = match trusted_snapshot.as_deref().map(read_file).transpose() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = match (&trusted_hash, &snapshot) {
        (Some(h), _) => eucora_license_core::verify_proof_against(&proof, h),
        (None, Some(s)) => eucora_license_core::verify_proof_with_snapshot(&proof, s),
        (None, None) => eucora_license_core::verify_proof(&proof),
    };
    let sku = proof["sku"].as_str().unwrap_or("");
    match result {
        Ok(()) if trusted_hash.is_some() || snapshot.is_some() => {
            println!("verified: `{sku}` is in snapshot {}", proof["snapshot_hash"].as_str().unwrap_or(""));
            ExitCode::SUCCESS
        }
        Ok(()) => {
            println!("verified: `{}` is in skus_root {}", sku, proof["skus_root"].as_str().unwrap_or(""));
            println!(
                "(bound to snapshot {} as the proof claims: pass --snapshot-hash with a hash you trust to bind it)",
                proof["snapshot_hash"].as_str().unwrap_or("?")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("NOT verified: {e}");
            ExitCode::from(2)
        }
    }
}

struct ImportOpts {
    adapter: String,
    options: std::collections::BTreeMap<String, String>,
    files: Vec<PathBuf>,
}

fn parse_import(args: &[String]) -> Result<ImportOpts, String> {
    let (mut adapter, mut options, mut files) = (None, std::collections::BTreeMap::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--adapter" => adapter = Some(it.next().ok_or("--adapter needs a name")?.clone()),
            "--option" => {
                let kv = it.next().ok_or("--option needs key=value")?;
                let (k, v) = kv.split_once('=').ok_or_else(|| format!("--option `{kv}` is not key=value"))?;
                options.insert(k.to_string(), v.to_string());
            }
            s if s.starts_with("--") => return Err(format!("unknown option `{s}`")),
            s => files.push(PathBuf::from(s)),
        }
    }
    if files.is_empty() {
        return Err("import needs at least one file".into());
    }
    Ok(ImportOpts { adapter: adapter.ok_or("missing --adapter <name>")?, options, files })
}

/// `import`: adapter output as canonical JSONL on stdout, the per-file jobs on stderr.
fn run_import(opts: &ImportOpts) -> ExitCode {
    use eucora_license_core::{run_adapter, InputFile};
    let mut inputs = Vec::new();
    for f in &opts.files {
        match read_limited(f, files::BULK_LIMIT) {
            Ok(bytes) => inputs.push(InputFile { path: f.display().to_string(), bytes }),
            Err(code) => return code,
        }
    }
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    let (adapter, out) = match run_adapter(&opts.adapter, &inputs, &opts.options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    for (_, row) in &out.signals {
        match eucora_license_core::canonical_bytes_of(row) {
            Ok(mut line) => {
                line.push(b'\n');
                if std::io::Write::write_all(&mut stdout, &line).is_err() {
                    return ExitCode::from(1);
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let jobs: Vec<serde_json::Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let signals = out.signals.iter().filter(|(o, _)| o.file == i).count();
            let errors: Vec<&eucora_license_core::RowError> = out.rejected.iter().filter(|(file, _)| *file == i).map(|(_, e)| e).collect();
            serde_json::json!({
                "adapter": adapter.name(), "adapter_version": adapter.version(), "path": f.path,
                "input_hash": eucora_license_core::tagged_hash(eucora_license_core::Domain::Import, &f.bytes).to_prefixed(),
                "records": out.records.get(i).copied().unwrap_or(0), "signals": signals,
                "rejected": errors.len(), "errors": errors,
                "notes": out.notes.iter().filter(|(file, _)| *file == i).map(|(_, n)| n).collect::<Vec<_>>(),
            })
        })
        .collect();
    let report = serde_json::json!({
        "jobs": jobs,
        "directory": out.directory,
        "entitlement_observations": out.observations,
    });
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    ExitCode::SUCCESS
}

fn run_reconcile(opts: &ReconcileOpts) -> ExitCode {
    match reconcile_into(opts) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
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

fn reconcile_into(opts: &ReconcileOpts) -> Result<ExitCode, String> {
    if !opts.bundle.is_dir() {
        return Err(format!("{}: not a directory", opts.bundle.display()));
    }
    // The outputs must not land in the bundle: the next run would read them.
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
    // Everything that can fail before the run, read before the lock is taken.
    let key = match &opts.share_key {
        Some(k) => Some(files::read_bounded(k, files::KEY_LIMIT)?),
        None => None,
    };
    // A previous run elsewhere is read now, under its own lock, so this
    // process never holds two locks (two runs chained crosswise cannot
    // deadlock); the output directory's own run is read under our lock.
    let previous_is_out = opts.previous.as_deref().is_some_and(|p| outdir::same_dir(p, &opts.out));
    let mut previous = match &opts.previous {
        Some(p) if !previous_is_out => Some(outdir::read_run(p, None)?.1),
        _ => None,
    };
    let out = outdir::OutDir::open(&opts.out).map_err(|e| format!("cannot write to {}: {e}", opts.out.display()))?;
    if let (Some(p), true) = (&opts.previous, previous_is_out) {
        previous = Some(outdir::read_run(p, Some(&out))?.1);
    }

    let bundle = eucora_license_dir::DirBundle::new(&opts.bundle);
    let outcome = reconcile(&bundle, previous.as_deref());
    drop(previous);
    let shared = match (&key, &outcome.snapshot) {
        (Some(key), Some(_)) => Some(eucora_license_core::pseudonymise(&outcome, key).map_err(|e| format!("shared pack: {e}"))?),
        _ => None,
    };
    // Staged and switched in as one set (see `outdir`): a failed run
    // replaces only run_report.json.
    let outputs = outdir::RunOutputs { pack: opts.pack, shared: shared.as_ref() };
    outdir::write_run(&out, &outcome, outputs).map_err(|e| format!("cannot write to {}: {e}", opts.out.display()))?;
    drop(out);

    match &outcome.snapshot {
        Some(snap) if opts.json => {
            println!("{}", String::from_utf8_lossy(snap.canonical_bytes()));
        }
        Some(snap) => print_table(snap.value(), &outcome),
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
    Ok(match outcome.status {
        RunStatus::Failed => ExitCode::from(2),
        _ => ExitCode::SUCCESS,
    })
}

fn int(v: &Value, k: &str) -> String {
    v.get(k).map(|x| x.to_string()).unwrap_or_default()
}

fn print_table(snap: &Value, outcome: &Outcome) {
    let header = ["SKU", "MODEL", "ENTITLED", "RESERVED", "CONSUMED", "REMAINING", "AVAILABLE", "COMPLIANCE"];
    let mut rows: Vec<[String; 8]> = Vec::new();
    for r in snap["skus"].as_array().into_iter().flatten() {
        rows.push([
            r["sku"].as_str().unwrap_or("").to_string(),
            r["model"].as_str().unwrap_or("").to_string(),
            int(r, "entitled"),
            int(r, "reserved"),
            int(r, "consumed"),
            int(r, "remaining"),
            int(r, "available"),
            r["compliance_status"].as_str().unwrap_or("").to_string(),
        ]);
    }
    let t = &snap["totals"];
    let totals = [
        "TOTAL".to_string(),
        String::new(),
        int(t, "entitled"),
        int(t, "reserved"),
        int(t, "consumed"),
        int(t, "remaining"),
        int(t, "available"),
        String::new(),
    ];
    let mut widths = header.map(str::len);
    for r in rows.iter().chain(std::iter::once(&totals)) {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if (2..7).contains(&i) {
                s.push_str(&format!("{c:>w$}  "));
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        println!("{}", s.trim_end());
    };
    line(&header.map(String::from));
    for r in &rows {
        line(r);
    }
    let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    println!("{}", "-".repeat(rule));
    line(&totals);
    println!();
    let health = snap["health"].as_str().unwrap_or("");
    let reasons: Vec<&str> = snap["health_reasons"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if reasons.is_empty() {
        println!("health:        {health}");
    } else {
        println!("health:        {health} ({})", reasons.join(", "));
    }
    println!("reconciled at: {}", snap["reconciled_at"].as_str().unwrap_or(""));
    println!("sequence:      {}", snap["sequence"]);
    println!("ruleset:       {} v{}", snap["ruleset"]["id"].as_str().unwrap_or(""), snap["ruleset"]["version"]);
    let summary = &snap["exceptions_summary"];
    if let Some(m) = summary.as_object().filter(|m| !m.is_empty()) {
        let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("exceptions:    {} (see exceptions.jsonl)", parts.join(", "));
    }
    let rejected: u64 = outcome.report["imports"].as_array().into_iter().flatten().filter_map(|j| j["rows_rejected"].as_u64()).sum();
    if rejected > 0 {
        println!("rejected rows: {rejected} (see run_report.json)");
    }
    println!("snapshot:      {}", snap["snapshot_hash"].as_str().unwrap_or(""));
}
