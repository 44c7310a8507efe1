//! `import --adapter <name> [--option key=value]... <file>...`: run one
//! source adapter over raw export files (read in path order); print the
//! canonical signals as JSON Lines on stdout and the import jobs (one per
//! file: hashes, counts, rejected rows, notes) as JSON on stderr.
//!
//! Exit codes: 0 the adapter ran; 2 the adapter refused the input (unknown
//! adapter or option, unreadable export); 1 usage or I/O error.

use crate::{failed, io_error, read, usage_error};
use eucora_license_core::{run_adapter, Adapter, AdapterOutput, InputFile};
use eucora_license_dir::files;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

struct ImportOpts {
    adapter: String,
    options: BTreeMap<String, String>,
    files: Vec<PathBuf>,
}

/// Run `import` with its arguments (after the command name).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(opts) => opts,
        Err(msg) => return usage_error(&msg),
    };
    let mut inputs = Vec::new();
    for f in &opts.files {
        match read::bounded(f, files::BULK_LIMIT) {
            Ok(bytes) => inputs.push(InputFile { path: f.display().to_string(), bytes }),
            Err(code) => return code,
        }
    }
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    let (adapter, out) = match run_adapter(&opts.adapter, &inputs, &opts.options) {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    if let Err(code) = write_signals(&out) {
        return code;
    }
    let report = serde_json::json!({
        "jobs": jobs(adapter, &inputs, &out),
        "directory": out.directory,
        "entitlement_observations": out.observations,
    });
    eprintln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    ExitCode::SUCCESS
}

fn parse(args: &[String]) -> Result<ImportOpts, String> {
    let (mut adapter, mut options, mut files) = (None, BTreeMap::new(), Vec::new());
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

/// Each signal as one line of canonical JSON on stdout; a closed stdout is
/// exit status 1 without a message.
fn write_signals(out: &AdapterOutput) -> Result<(), ExitCode> {
    let mut stdout = std::io::stdout().lock();
    for (_, row) in &out.signals {
        let mut line = eucora_license_core::canonical_bytes_of(row).map_err(io_error)?;
        line.push(b'\n');
        if std::io::Write::write_all(&mut stdout, &line).is_err() {
            return Err(ExitCode::from(1));
        }
    }
    Ok(())
}

/// One import job per input file, in input order.
fn jobs(adapter: &dyn Adapter, inputs: &[InputFile], out: &AdapterOutput) -> Vec<Value> {
    inputs
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
        .collect()
}
