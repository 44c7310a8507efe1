//! `adapters`: list the source adapters `import` can run, one line each:
//! name, version, source, the options it takes. Further arguments are
//! ignored.
//!
//! Exit codes: 0 the list was printed; 1 stdout was closed.

use std::process::ExitCode;

/// Run `adapters`.
pub(crate) fn run() -> ExitCode {
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
