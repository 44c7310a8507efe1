//! Parallel reading of signal files (issue 15, DESIGN Part B "Determinism"):
//! whatever the number of parsing threads and wherever the blocks are cut,
//! the outcome — snapshot, run report (row errors with their lines, import
//! jobs), exceptions and units — is byte-identical to the one-thread read.
//!
//! The generated files mix what makes cutting a CSV file hard: quoted fields
//! holding commas, escaped quotes and line ends, CRLF and LF lines, blank
//! lines, rejected rows, a BOM, columns in another order, an unknown column,
//! and now and then a structurally broken file (a wrong field count, an
//! unterminated quote, a byte that is not UTF-8) whose located error must be
//! the same too. Blocks are cut tiny (a few bytes to a few hundred), so most
//! records straddle a cut.

use crate::common::*;
use eucora_license_core::Outcome;
use eucora_license_core::{reconcile, reconcile_with, RunOptions};
use proptest::prelude::*;
use serde_json::json;

const COLS: [&str; 16] = [
    "source",
    "raw_id",
    "observed_at",
    "sku",
    "product",
    "kind",
    "status",
    "user",
    "device_serial",
    "device_id",
    "device_name",
    "last_used_at",
    "session_start",
    "session_end",
    "quantity",
    "confidence",
];

/// Values per column, good and bad, some needing quotes.
fn pool(col: &str) -> &'static [&'static str] {
    match col {
        "source" => &["intune", "jamf", "sccm", "entra", "flexlm", " intune ", ""],
        "observed_at" => &["2026-11-20T06:00:00Z", "2026-11-21T08:30:00.5+02:00", "2026-11-23T00:00:00Z", "2026-11-20T06:00:00", "bad"],
        "sku" => &["dev", "usr", "sub", "conc", "nosuch", "", "dev"],
        "product" => &["", "Adobe Acrobat DC", "adobe acrobat, \"pro\"", "Adobe Acrobat\nMulti-line", "Unknown Thing"],
        "kind" => &["installation", "usage", "assignment", "session", "installation", "Usage"],
        "status" => &["", "active", "revoked", "suspended", "gone"],
        "user" => &["alice@acme.com", "ACME\\Bob", "\"carol\"@acme.com", "", "dave,x@acme.com", "Ünïcode@acme.com"],
        "device_serial" => &["PF3ABC12", "pf3 abc12", "0", "", "C02\r\nXYZ", "TO BE FILLED BY O.E.M."],
        "device_id" => &["AAA-1", "aaa-1", "", "bbb-2"],
        "device_name" => &["LT-0042.corp.acme.com", "lt-0042", "10.0.0.7", "", "host\"1"],
        "last_used_at" => &["", "", "2026-11-19T00:00:00Z", "nope"],
        "session_start" => &["", "2026-11-20T00:00:00Z", "2026-11-21T10:00:00Z"],
        "session_end" => &["", "2026-11-21T00:00:00Z", "2026-11-20T00:00:00Z"],
        "quantity" => &["", "1", "3", "0", "x"],
        "confidence" => &["", "1", "0.9", "0.3", "1.5"],
        _ => &[""],
    }
}

fn quote(v: &str, always: bool) -> String {
    if always || v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// One file's shape: rows as value choices per column, and how it is written.
#[derive(Debug, Clone)]
struct FileSpec {
    rows: Vec<[usize; 16]>,
    crlf: bool,
    quote_all: bool,
    reversed_columns: bool,
    extra_column: bool,
    bom: bool,
    /// Positions (row index) after which a blank line goes.
    blanks: Vec<usize>,
    /// A structural defect: 0 none, 1 a wrong field count, 2 an unterminated
    /// quote at the end, 3 a byte that is not UTF-8.
    defect: (u8, usize),
}

fn file_strategy() -> impl Strategy<Value = FileSpec> {
    (
        prop::collection::vec(prop::array::uniform16(0usize..16), 0..50),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec(0usize..50, 0..4),
        (prop_oneof![12 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)], 0usize..50),
    )
        .prop_map(|(rows, (crlf, quote_all, reversed_columns, extra_column, bom), blanks, defect)| FileSpec {
            rows,
            crlf,
            quote_all,
            reversed_columns,
            extra_column,
            bom,
            blanks,
            defect,
        })
}

fn render(spec: &FileSpec, file_no: usize) -> Vec<u8> {
    let eol = if spec.crlf { "\r\n" } else { "\n" };
    let mut order: Vec<usize> = (0..16).collect();
    if spec.reversed_columns {
        order.reverse();
    }
    let mut header: Vec<String> = order.iter().map(|&c| COLS[c].to_string()).collect();
    if spec.extra_column {
        header.push("comment".into());
    }
    let mut out = Vec::new();
    if spec.bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(header.join(",").as_bytes());
    out.extend_from_slice(eol.as_bytes());
    for (i, choice) in spec.rows.iter().enumerate() {
        let mut cells: Vec<String> = order
            .iter()
            .map(|&c| {
                if COLS[c] == "raw_id" {
                    // Unique per file and row, with a repeat now and then
                    // (identical or conflicting duplicates).
                    let n = if choice[c] == 0 { 0 } else { i };
                    return quote(&format!("f{file_no}-r{n}"), spec.quote_all);
                }
                let p = pool(COLS[c]);
                quote(p[choice[c] % p.len()], spec.quote_all)
            })
            .collect();
        if spec.extra_column {
            cells.push(quote("a, \"note\"", spec.quote_all));
        }
        if spec.defect.0 == 1 && spec.defect.1 == i {
            cells.pop();
        }
        let mut line = cells.join(",").into_bytes();
        if spec.defect.0 == 3 && spec.defect.1 == i {
            line.extend_from_slice(b"\xff");
            // Keep the field count: the byte joins the last field.
        }
        out.extend_from_slice(&line);
        out.extend_from_slice(eol.as_bytes());
        for _ in spec.blanks.iter().filter(|&&b| b == i) {
            out.extend_from_slice(if spec.crlf { b"  \r\n" } else { b"\n" });
        }
    }
    if spec.defect.0 == 2 {
        out.extend_from_slice(b"intune,\"open quote");
        out.extend_from_slice(eol.as_bytes());
    }
    out
}

fn bundle(files: &[FileSpec]) -> eucora_license_core::MemoryBundle {
    let b = Bundle::new()
        .param("expected_sources", json!(["intune", "jamf", "sccm", "entra", "flexlm"]))
        .sku("dev", "device")
        .sku("usr", "user")
        .sku("sub", "subscription")
        .sku("conc", "concurrent")
        .entitle("dev", 3)
        .entitle("usr", 2)
        .entitle("sub", 2)
        .entitle("conc", 4)
        .dir("device,serial:PF3ABC12,name:LT-0042,active,emea,,")
        .rule(&["max_reject_percent"], json!(100))
        .rule(&["sku_mappings"], json!([{"match": "prefix", "field": "product", "value": "adobe acrobat", "sku": "dev"}]));
    let mut b = b.build();
    for (i, f) in files.iter().enumerate() {
        b.insert(format!("signals/f{i}.csv"), render(f, i));
    }
    b
}

/// The outcome's bytes: snapshot, report, exceptions, units, errors, and
/// the signal store itself (every row with its interned ids, file and line,
/// and its normalised rendering): the ids must be the one-thread read's too.
fn bytes(out: &Outcome) -> Vec<u8> {
    let mut b = Vec::new();
    if let Some(inputs) = &out.inputs {
        let store = &inputs.signals;
        b.extend_from_slice(format!("{:?}\n{:?}\n{:?}\n", store.rows, store.sessions, store.last_used).as_bytes());
        for row in &store.rows {
            store.write_normalised(row, &mut b);
        }
    }
    if let Some(s) = &out.snapshot {
        b.extend_from_slice(s.canonical_bytes());
    }
    b.push(0);
    b.extend_from_slice(&eucora_license_core::internal::canonical::to_vec(&out.report.to_json()).unwrap());
    b.push(0);
    b.extend_from_slice(&out.exceptions_jsonl());
    b.push(0);
    for u in out.units.values().flatten() {
        b.extend_from_slice(u);
    }
    b.push(0);
    b.extend_from_slice(format!("{:?}", out.errors).as_bytes());
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_thread_count_and_block_size_gives_the_same_outcome(
        files in prop::collection::vec(file_strategy(), 1..4),
        block in 1usize..400,
    ) {
        let b = bundle(&files);
        let one = bytes(&reconcile(&b, None));
        for threads in [1, 2, 3] {
            let par = read_options(threads, block);
            let other = bytes(&reconcile_with(&b, None, &par));
            prop_assert!(one == other, "threads {threads}, block {block}:\n{}\n---\n{}",
                String::from_utf8_lossy(&one), String::from_utf8_lossy(&other));
        }
    }
}

/// The rows and errors of a file cut into many blocks keep their true lines
/// (a fixed case the property above also covers, spelled out).
#[test]
fn row_errors_keep_their_lines_across_blocks() {
    let mut csv = String::from("source,raw_id,observed_at,sku,kind,product\n");
    for i in 0..40 {
        let kind = if i % 7 == 3 { "bogus" } else { "installation" };
        csv.push_str(&format!("intune,r{i},2026-11-20T06:00:00Z,dev,{kind},\"a\nb\"\n"));
    }
    let mut b = Bundle::new().sku("dev", "device").rule(&["max_reject_percent"], json!(100)).build();
    b.insert("signals/a.csv", csv.into_bytes());
    let one = reconcile(&b, None);
    let lines: Vec<u64> = one.report.imports.iter().flat_map(|j| j.errors.iter().map(|e| e.line)).collect();
    // Row i starts on physical line 2 + 2i (each row spans two lines).
    assert_eq!(lines, (0..40u64).filter(|i| i % 7 == 3).map(|i| 2 + 2 * i).collect::<Vec<_>>());
    for threads in [2, 3] {
        let par = read_options(threads, 17);
        assert_eq!(bytes(&one), bytes(&reconcile_with(&b, None, &par)));
    }
}

/// Run options reading the signal files on `threads` threads in blocks of
/// about `block_bytes` bytes.
fn read_options(threads: usize, block_bytes: usize) -> RunOptions {
    let mut o = RunOptions::with_threads(threads.max(1)).expect("threads >= 1");
    o.read_block_bytes = block_bytes;
    o
}
