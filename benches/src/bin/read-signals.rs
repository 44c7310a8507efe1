//! `read-signals`: reconcile a bundle directory with the signal files parsed
//! on N threads, and print the elapsed time and a digest of the outcome
//! (snapshot, run report, exceptions), so runs with different thread counts
//! can be timed and checked byte-identical (issue 15; `docs/performance.md`,
//! "Reading signals").
//!
//! ```text
//! read-signals <bundle-dir> [threads] [block-bytes]
//! ```

use eucora_license_core::internal::hash::sha256;
use eucora_license_core::internal::signals::{reconcile_with, ReadParallelism};
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
    let start = std::time::Instant::now();
    let out = reconcile_with(&bundle, None, par);
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
