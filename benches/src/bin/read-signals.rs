//! `read-signals`: reconcile a bundle directory with the signal files parsed
//! on N threads, and print the elapsed time and a digest of the outcome
//! (snapshot, run report, exceptions), so runs with different thread counts
//! can be timed and checked byte-identical (issue 15; `docs/performance.md`,
//! "Reading signals").
//!
//! ```text
//! read-signals <bundle-dir> [threads] [block-bytes] [--read-only]
//! ```
//!
//! `--read-only` reads the signal files alone (what `reconcile` does first)
//! and prints the store's size and the process's peak RSS at that point.

use eucora_license_core::internal::hash::sha256;
use eucora_license_core::internal::signals::ReadParallelism;
use eucora_license_core::{reconcile_with, RunOptions};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: read-signals <bundle-dir> [threads] [block-bytes]");
        return ExitCode::from(2);
    };
    let mut par = ReadParallelism::default();
    if let Some(t) = args.get(1).and_then(|t| t.parse().ok()) {
        par.threads = t;
    }
    if let Some(b) = args.get(2).and_then(|b| b.parse().ok()) {
        par.block_bytes = b;
    }
    let bundle = eucora_license_dir::DirBundle::new(std::path::Path::new(dir));
    if args.iter().any(|a| a == "--read-only") {
        return read_only(&bundle, par);
    }
    let start = std::time::Instant::now();
    let mut options = RunOptions::default();
    options.threads = par.threads.max(1);
    options.read_block_bytes = par.block_bytes;
    let out = reconcile_with(&bundle, None, &options);
    let elapsed = start.elapsed();
    let mut bytes = Vec::new();
    if let Some(s) = &out.snapshot {
        bytes.extend_from_slice(s.canonical_bytes());
    }
    bytes.extend_from_slice(out.report.to_json().to_string().as_bytes());
    bytes.extend_from_slice(&out.exceptions_jsonl());
    println!("{:?} threads={} {:.3} s outcome={}", out.status, par.threads, elapsed.as_secs_f64(), hex(&sha256(&bytes).0));
    ExitCode::SUCCESS
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Read `signals/*.csv` only, as the run does, and report time and memory.
fn read_only(bundle: &eucora_license_dir::DirBundle, par: ReadParallelism) -> ExitCode {
    use eucora_license_core::internal::signals::SignalStore;
    use eucora_license_core::BundleSource;
    let mut rs_bytes = Vec::new();
    let read = bundle.open("ruleset.json").and_then(|mut r| std::io::Read::read_to_end(&mut r, &mut rs_bytes));
    let Ok(rs) = read
        .map_err(|e| e.to_string())
        .and_then(|_| eucora_license_core::internal::ruleset::parse(&rs_bytes, None).map_err(|e| format!("{e:?}")))
    else {
        eprintln!("cannot read ruleset.json");
        return ExitCode::from(2);
    };
    let mut paths: Vec<String> =
        bundle.paths().unwrap_or_default().into_iter().filter(|p| p.starts_with("signals/") && p.ends_with(".csv")).collect();
    paths.sort();
    let start = std::time::Instant::now();
    let mut store = SignalStore::default();
    for p in &paths {
        let Ok(r) = bundle.open(p) else {
            eprintln!("cannot open {p}");
            return ExitCode::from(2);
        };
        if let Err(e) = store.add_file_with(p, r, &rs, par) {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    let elapsed = start.elapsed();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("VmHWM: ?").to_string();
    let rss = status.lines().find(|l| l.starts_with("VmRSS")).unwrap_or("VmRSS: ?").to_string();
    println!(
        "read threads={} {:.3} s rows={} store≈{} MB; {hwm}; {rss}",
        par.threads,
        elapsed.as_secs_f64(),
        store.rows.len(),
        store.heap_bytes() >> 20
    );
    ExitCode::SUCCESS
}
