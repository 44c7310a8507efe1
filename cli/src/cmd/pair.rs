//! The arguments `diff` and `explain` share: two runs (output directories,
//! packs or snapshots), then `--json` (diff) or `--sku <id>` (explain).

use crate::usage_error;
use std::process::ExitCode;

/// Two runs and the options that go with them.
pub(super) struct Pair {
    pub(super) old: String,
    pub(super) new: String,
    pub(super) json: bool,
    pub(super) sku: Option<String>,
}

/// Two run arguments, `--json` (without `with_sku`) or `--sku` (with it);
/// anything else is a usage error.
pub(super) fn parse(args: &[String], with_sku: bool) -> Result<Pair, ExitCode> {
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
        ([old, new], false, _) | ([old, new], true, Some(_)) => Ok(Pair { old: old.clone(), new: new.clone(), json, sku }),
        _ if with_sku => Err(usage_error("explain needs <old-run> <new-run> --sku <id>")),
        _ => Err(usage_error("diff needs <old-run> <new-run>")),
    }
}
