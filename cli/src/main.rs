//! `eucora-license`: the reference shell around the engine. It reads a bundle
//! directory, calls the pure core, and writes the outputs atomically.
//!
//! Exit codes: 0 a snapshot was written (ok or degraded), 2 the run failed
//! closed (its report written beside the last good outputs, which stay as
//! they were), 1 usage or I/O error.
//!
//! This file dispatches the arguments and maps failures to exit codes; each
//! subcommand lives in `cmd/`, file reading in `read`, the counters table in
//! `table`.

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

// Declared after the macros, so every module uses them.
mod cmd;
mod read;
mod table;

use std::fmt::Display;
use std::process::ExitCode;

const USAGE: &str = "\
usage: eucora-license reconcile <bundle-dir> --out <dir> [--previous <run>] [--json] [--no-pack]
                                [--share-key <key-file>] [--threads <n>]
       eucora-license verify <pack.tar> [--previous <snapshot.json>] [--json]
       eucora-license diff <old-run> <new-run> [--json]
       eucora-license explain <old-run> <new-run> --sku <id>
       eucora-license sidebar --snapshot <snapshot.json> [--last-run <run_report.json>] --now <instant>
                              [--schedule-hours <h>] [--stale-factor <n>]
       eucora-license prove <snapshot.json> --sku <id>
       eucora-license verify-proof <proof.json> [--snapshot-hash <sha256:…> | --snapshot <snapshot.json>]
       eucora-license import --adapter <name> [--option key=value]... <file>...
       eucora-license adapters
       eucora-license alerts <run>... [--policy <policy.json>] [--json]
       eucora-license advise <run>... [--policy <policy.json>] [--json]
       eucora-license events <run>... [--policy <policy.json>] [--organization-uuid <uuid>] [--json]
       eucora-license compliance <run> [--license-id <uuid>] [--organization-uuid <uuid>] [--json]
       eucora-license authorize --actor <A.json> --action <action> [--policy <F>]
       eucora-license propose --kind <kind> --payload <P.json> --actor <A.json> --at <instant>
                              [--policy <F>] [--correlation-id <id>] [--evidence <F.json>]
       eucora-license decide --proposal <P.json> --approvals <L.json> --now <instant> [--policy <F>]
       eucora-license apply --proposal <P.json> --approvals <L.json> --now <instant> [--policy <F>]
                            [--applied <IDS.json>]
       eucora-license audit append <LOG.jsonl> --entry <E.json>
       eucora-license audit verify <LOG.jsonl> [--checkpoint <C.json>]
       eucora-license audit checkpoint <LOG.jsonl>
       eucora-license audit prove <LOG.jsonl> --seq <n>
       eucora-license audit consistency <LOG.jsonl> --old-size <n>
       eucora-license audit verify-proof <P.json> --checkpoint <C.json>
       eucora-license agent run <agent> --actor <A.json> --at <instant> [--correlation-id <id>]
                                [--responses <R.json>] [--model-id <id>] [--policy <F>] [NAME=PATH]...
       eucora-license agent replay <run.json> [NAME=PATH]...

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
  --threads <n>      threads for the data-parallel stages — parsing the signal files,
                     the per-SKU counting, compressing the pack (default: every
                     core); the outputs are byte-identical for every value; n >= 1

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
alerts, advise and events read a history of runs (output directories or their
snapshot.json, oldest first; the latest with its evidence.tar beside it) and
print the alerts, the ranked recommendations or the IT-04 event payloads;
compliance prints one run's it_check_license_compliance rows. Without --policy
the shipped default policy applies (its hash is printed). Exit 2 with
{error: {code, message, index}} as JSON on stdout on invalid_policy,
chain_broken, pack_invalid or pack_mismatch.
authorize, propose, decide, apply and audit are the governance commands
(docs/governance.md), agent runs and replays them (docs/agents.md): JSON in (a file, or - for stdin), canonical JSON out;
without --policy the shipped default policy applies.
A contract error prints an error object with its code and exits 2; so do a refused
proposal, an apply that is not approved, a log or proof that does not verify.

Files given to the commands must be regular files: packs and previous runs up
to 64 GiB, JSON documents (snapshots, run reports, proofs) up to 1 GiB, key
files up to 1 MiB.

Exit status: 0 snapshot written, 2 run failed closed, 1 usage or I/O error.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("reconcile") => cmd::reconcile::run(rest),
        Some("import") => cmd::import::run(rest),
        Some("verify") => cmd::verify::run(rest),
        Some("diff") => cmd::diff::run(rest),
        Some("explain") => cmd::explain::run(rest),
        Some("sidebar") => cmd::sidebar::run(rest),
        Some("prove") => cmd::prove::run(rest),
        Some("verify-proof") => cmd::verify_proof::run(rest),
        Some("adapters") => cmd::adapters::run(),
        Some("alerts") => cmd::alerts::run(rest),
        Some("advise") => cmd::advise::run(rest),
        Some("events") => cmd::events::run(rest),
        Some("compliance") => cmd::compliance::run(rest),
        Some("authorize") => cmd::authorize::run(rest),
        Some("propose") => cmd::propose::run(rest),
        Some("decide") => cmd::decide::run(rest),
        Some("apply") => cmd::apply::run(rest),
        Some("audit") => cmd::audit::run(rest),
        Some("agent") => cmd::agent::run(rest),
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

/// Exit status 1 for arguments that make no sense: the message, then the usage.
fn usage_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}\n\n{USAGE}");
    ExitCode::from(1)
}

/// Exit status 1 for an I/O error (a file that cannot be read or written,
/// or is not what it must be): `error: <msg>` on stderr.
fn io_error(msg: impl Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(1)
}

/// Exit status 2 for input that was read but does not hold (a run that
/// failed closed, a snapshot or proof that does not verify): `error: <msg>`
/// on stderr.
fn failed(msg: impl Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}
