//! `gen-workload`: write a deterministic benchmark bundle.
//!
//! ```text
//! gen-workload --out <dir> [--signals N] [--devices D] [--users U] [--skus S] [--seed X]
//! ```
//! Defaults: 1 000 000 signals, 200 000 devices, 60 000 users, 500 SKUs, seed 1.
//! Numbers accept `_` separators and `k` / `M` suffixes (`--signals 10M`).
//! The same flags always give byte-identical files.

use eucora_license_benches::{generate, Config, DirSink};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: gen-workload --out <dir> [--signals N] [--devices D] [--users U] [--skus S] [--seed X]

Writes a complete EUCORA License bundle (bundle.json, ruleset.json, catalog.json,
entitlements.csv, pools.csv, directory.csv, signals/<source>.csv) into <dir>.
Defaults: --signals 1000000 --devices 200000 --users 60000 --skus 500 --seed 1.
Numbers accept `_` separators and k/M suffixes (e.g. --signals 10M).";

fn parse_num(flag: &str, v: Option<&String>) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    let t: String = v.chars().filter(|&c| c != '_').collect();
    let (digits, mul) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000),
        _ => (&t[..], 1),
    };
    digits.parse::<u64>().ok().and_then(|n| n.checked_mul(mul)).ok_or_else(|| format!("{flag}: `{v}` is not a non-negative integer"))
}

fn parse(args: &[String]) -> Result<(PathBuf, Config), String> {
    let mut cfg = Config::default();
    let mut out = None;
    let mut it = args.iter();
    let to_u32 = |flag: &str, n: u64| u32::try_from(n).map_err(|_| format!("{flag}: {n} is too large"));
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            "--signals" => cfg.signals = parse_num(a, it.next())?,
            "--devices" => cfg.devices = to_u32(a, parse_num(a, it.next())?)?,
            "--users" => cfg.users = to_u32(a, parse_num(a, it.next())?)?,
            "--skus" => cfg.skus = to_u32(a, parse_num(a, it.next())?)?,
            "--seed" => cfg.seed = parse_num(a, it.next())?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((out.ok_or("missing --out <dir>")?, cfg))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, cfg) = match parse(&args) {
        Ok(x) => x,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{USAGE}");
            return ExitCode::from(1);
        }
    };
    let mut sink = DirSink::new(&out);
    match generate(&cfg, &mut sink) {
        Ok(summary) => {
            eprintln!(
                "gen-workload: {} signals, {} devices, {} users, {} SKUs, seed {} -> {}",
                cfg.signals,
                cfg.devices,
                cfg.users,
                cfg.skus,
                cfg.seed,
                out.display()
            );
            for (path, rows) in &summary.files {
                eprintln!("  {path:<22} {rows:>10} rows");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", out.display());
            ExitCode::from(1)
        }
    }
}
