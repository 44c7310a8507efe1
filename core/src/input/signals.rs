//! Canonical consumption signals (DESIGN A1, A9): parsing CSV and JSON Lines
//! into compact, interned rows, with an [`ImportJob`] per file.
//!
//! A row is *rejected* (counted against `max_reject_percent`) when it breaks a
//! row rule; rejection never stops the file. Hints are normalised here, once,
//! with the ruleset's identity options, so later stages only compare ids.

use crate::canon::hash::{tagged, Digest32, Domain};
use crate::canon::numbers::{parse_integer, Fixed9};
use crate::canon::time::{Instant, InstantError};
use crate::error::{Error, ErrorCode, Location, Result};
use crate::input::intern::{tag_of, Arena, Interner, NONE};
use crate::input::normalize::{normalize_device_id_into, normalize_hostname_into, normalize_serial_into, normalize_user_into};
use crate::input::ruleset::Ruleset;
use crate::input::table::{last_record_end, HashingReader, SliceCsv, SliceRecord};
pub(crate) use crate::vocab::{Kind, RowError, RowErrorCode, Status, COLUMNS};
use serde::Deserialize as _;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

/// The interval and tokens of a `session` signal.
#[derive(Debug, Clone, Copy)]
pub struct SessionData {
    /// Checkout start.
    pub start: Instant,
    /// Checkout end; `None` = still open.
    pub end: Option<Instant>,
    /// Tokens held, ≥ 1.
    pub quantity: u64,
}
use std::io::{BufRead, BufReader, Read};

const C_SOURCE: usize = 0;
const C_RAW_ID: usize = 1;
const C_OBSERVED: usize = 2;
const C_SKU: usize = 3;
const C_PRODUCT: usize = 4;
const C_KIND: usize = 5;
const C_STATUS: usize = 6;
const C_USER: usize = 7;
const C_SERIAL: usize = 8;
const C_DEVICE_ID: usize = 9;
const C_DEVICE_NAME: usize = 10;
const C_LAST_USED: usize = 11;
const C_START: usize = 12;
const C_END: usize = 13;
const C_QUANTITY: usize = 14;
const C_CONFIDENCE: usize = 15;
const REQUIRED: [usize; 4] = [C_SOURCE, C_RAW_ID, C_OBSERVED, C_KIND];

/// One accepted signal row, interned and compact (80 bytes). Ids index the
/// [`SignalStore`]'s tables; [`NONE`] marks an absent value.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Observation instant (UTC).
    pub observed_at: Instant,
    /// Hash of the free-text fields as written, for duplicate detection.
    pub text_hash: u64,
    /// Confidence, scaled by 10^9.
    pub confidence: u32,
    /// Interned source name.
    pub source: u32,
    /// Interned raw id.
    pub raw_id: u32,
    /// Interned trimmed `sku` text, or NONE.
    pub sku_text: u32,
    /// Interned normalised product, or NONE.
    pub product: u32,
    /// Interned normalised user, or NONE.
    pub user: u32,
    /// Interned normalised serial, or NONE.
    pub serial: u32,
    /// Interned normalised device id, or NONE.
    pub device_id: u32,
    /// Interned normalised hostname, or NONE.
    pub hostname: u32,
    /// Index into [`SignalStore::sessions`] for sessions, else NONE.
    pub session: u32,
    /// Index into [`SignalStore::last_used`] when the row gives
    /// `last_used_at`, else NONE (kept aside: most rows have none, and the
    /// row stays 80 bytes).
    pub last_used: u32,
    /// Index of the file in [`SignalStore::jobs`].
    pub file: u32,
    /// 1-based line in that file.
    pub line: u32,
    /// Kind.
    pub kind: Kind,
    /// Assignment status (Active when not given).
    pub status: Status,
}

impl Signal {
    /// Whether two rows with the same (source, raw_id) say the same thing:
    /// parsed values equal and free text equal as written.
    pub fn same_content(&self, other: &Signal, store: &SignalStore) -> bool {
        let session = |s: &Signal| {
            (s.session != NONE).then(|| {
                let d = store.sessions[s.session as usize];
                (d.start, d.end, d.quantity)
            })
        };
        self.observed_at == other.observed_at
            && self.text_hash == other.text_hash
            && self.confidence == other.confidence
            && self.kind == other.kind
            && self.status == other.status
            && self.sku_text == other.sku_text
            && self.product == other.product
            && self.user == other.user
            && self.serial == other.serial
            && self.device_id == other.device_id
            && self.hostname == other.hostname
            && session(self) == session(other)
    }

    /// The session interval and tokens, for `session` signals.
    pub fn session_data<'a>(&self, store: &'a SignalStore) -> Option<&'a SessionData> {
        store.sessions.get(self.session as usize)
    }

    /// The row's `last_used_at`, when it gives one.
    pub fn last_used_at(&self, store: &SignalStore) -> Option<Instant> {
        store.last_used.get(self.last_used as usize).copied()
    }
}

/// One input file's import record (DESIGN A1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportJob {
    /// Id derived from (adapter, path, input hash).
    pub job_id: String,
    /// Source system named by the rows (`mixed` when several, empty when none).
    pub source: String,
    /// Adapter that read the file (`canonical` for canonical signal files).
    pub adapter: String,
    /// Version of that adapter.
    pub adapter_version: String,
    /// Path inside the bundle.
    pub path: String,
    /// `eucora.import.v1` hash of the exact input bytes.
    pub input_hash: String,
    /// Size of the input in bytes.
    pub bytes: u64,
    /// Data rows read.
    pub rows_total: u64,
    /// Rows accepted (including collapsed identical duplicates).
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Row-level errors, in line order.
    pub errors: Vec<RowError>,
    /// Non-fatal remarks (unknown columns, ...).
    pub warnings: Vec<String>,
}

impl ImportJob {
    /// A job with no identity yet (a block's counts before they are merged).
    fn blank() -> Self {
        ImportJob {
            job_id: String::new(),
            source: String::new(),
            adapter: String::new(),
            adapter_version: String::new(),
            path: String::new(),
            input_hash: String::new(),
            bytes: 0,
            rows_total: 0,
            rows_accepted: 0,
            rows_rejected: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A job for a file, its id derived from (adapter, path, input hash).
    pub fn new(adapter: &str, path: &str, input_hash: Digest32, bytes: u64) -> Self {
        let mut id_input = Vec::new();
        for part in [adapter, path, &input_hash.to_prefixed()] {
            id_input.extend_from_slice(part.as_bytes());
            id_input.push(0);
        }
        let id = tagged(Domain::Import, &id_input);
        ImportJob {
            job_id: format!("job-{}", &hex::encode(id.0)[..16]),
            source: String::new(),
            adapter: adapter.to_string(),
            adapter_version: CANONICAL_VERSION.to_string(),
            path: path.to_string(),
            input_hash: input_hash.to_prefixed(),
            bytes,
            rows_total: 0,
            rows_accepted: 0,
            rows_rejected: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether rejected rows exceed `max_percent` of the rows (strictly).
    pub fn exceeds_reject_threshold(&self, max_percent: i64) -> bool {
        (self.rows_rejected as i128) * 100 > (max_percent as i128) * (self.rows_total as i128)
    }
}

/// The largest session `quantity` (and any counter): 2^53 − 1, the largest
/// integer canonical JSON holds exactly (DESIGN A5).
pub(crate) const MAX_QUANTITY: i64 = crate::canon::canonical::MAX_SAFE_INTEGER;

/// Version of the canonical signal format reader.
pub(crate) const CANONICAL_VERSION: &str = "1";

/// All accepted signals of a run with their string tables.
#[derive(Default, Debug)]
pub struct SignalStore {
    /// Accepted rows, in file then line order.
    pub rows: Vec<Signal>,
    /// Interval data of session rows.
    pub sessions: Vec<SessionData>,
    /// `last_used_at` of the rows that give one (UTC). Counting never reads
    /// it; the pack keeps it for the advisor (DESIGN C3 `reclaim_inactive`, C6).
    pub last_used: Vec<Instant>,
    /// One job per signal file, in the order files were added.
    pub jobs: Vec<ImportJob>,
    /// Source names.
    pub sources: Interner,
    /// Raw ids.
    pub raw_ids: Arena,
    /// `sku` column texts.
    pub sku_texts: Interner,
    /// Normalised products.
    pub products: Interner,
    /// Normalised users.
    pub users: Interner,
    /// Normalised serials.
    pub serials: Interner,
    /// Normalised device ids.
    pub device_ids: Interner,
    /// Normalised hostnames.
    pub hostnames: Interner,
    /// Scratch buffer for normalisation (no allocation per row).
    scratch: String,
    /// Identity hints of the last rows, not yet interned.
    hints: PendingHints,
    /// Keep the hints pending (a parallel read's partial store: the merge
    /// interns them straight into the run's tables).
    defer_hints: bool,
}

/// Which identity hint a pending value is (in the order of the tables
/// after sources, `sku` texts and products in [`SignalStore::tables`]).
#[derive(Debug, Clone, Copy)]
enum Hint {
    User = 0,
    Serial = 1,
    DeviceId = 2,
    Hostname = 3,
}

/// Normalised identity hints waiting to be interned, in row order. Interning
/// them a batch at a time lets each lookup start the next ones' table loads
/// ([`Interner::touch`]): in tables of a million strings every lookup is a
/// cache miss, and overlapping them is most of the gain.
#[derive(Debug, Default)]
struct PendingHints {
    text: String,
    /// (row, hint, start, end in `text`).
    items: Vec<(u32, Hint, u32, u32)>,
    tags: Vec<u32>,
}

impl PendingHints {
    fn push(&mut self, row: u32, hint: Hint, value: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(value);
        self.items.push((row, hint, start, self.text.len() as u32));
    }
}

/// Rows of hints interned per batch.
const HINT_BATCH: usize = 4096;

/// Identity options the parser needs.
struct Opts<'a> {
    placeholders: &'a [String],
    strip_netbios: bool,
}

/// Per-file state while rows are read.
struct FileCtx {
    file_index: u32,
    sources_seen: BTreeSet<u32>,
    /// The source last added to `sources_seen` (rows of a file nearly
    /// always share one: the set is not touched for each row).
    last_source: u32,
}

impl FileCtx {
    fn new(file_index: u32) -> Self {
        FileCtx { file_index, sources_seen: BTreeSet::new(), last_source: NONE }
    }
}

/// How a CSV signal file is read: `threads` parsing threads (1 = on the
/// calling thread), over blocks of about `block_bytes` cut at record
/// boundaries. Neither changes the result.
#[derive(Debug, Clone, Copy)]
pub struct ReadParallelism {
    /// Parsing threads; 0 and 1 both mean the calling thread alone.
    pub threads: usize,
    /// Target block size in bytes (a block always ends at a record end, so a
    /// longer record makes a longer block).
    pub block_bytes: usize,
}

impl Default for ReadParallelism {
    fn default() -> Self {
        ReadParallelism { threads: 1, block_bytes: 4 << 20 }
    }
}

/// The column layout of a CSV signal file, from its header.
struct CsvCols {
    header_len: usize,
    /// Header index of each of [`COLUMNS`], or `usize::MAX`.
    map: [usize; 16],
    /// The first required column the header lacks (every row is rejected).
    missing_required: Option<usize>,
}

/// A structural error in a block (the file is unusable): its line, counted
/// from the block's start until the merge shifts it.
struct ChunkError {
    line: u64,
    field: Option<&'static str>,
    message: String,
}

enum ParallelError {
    Io(std::io::Error),
    Chunk(ChunkError),
}

/// One block's rows, parsed on a worker into tables of its own.
struct Partial {
    store: SignalStore,
    job: ImportJob,
    sources_seen: BTreeSet<u32>,
    /// Physical lines in the block.
    lines: u64,
    /// The block's first structural error (rows after it were not read).
    error: Option<ChunkError>,
}

impl Default for Partial {
    fn default() -> Self {
        Partial { store: SignalStore::default(), job: ImportJob::blank(), sources_seen: BTreeSet::new(), lines: 0, error: None }
    }
}

impl Partial {
    /// Parse `data[start..]` into this partial, emptied first (its buffers
    /// are reused from wave to wave: fresh ones cost page faults).
    fn parse(&mut self, data: &[u8], start: usize, cols: &CsvCols, opts: &Opts<'_>) {
        self.store.clear();
        self.store.defer_hints = true;
        self.job.rows_total = 0;
        self.job.rows_accepted = 0;
        self.job.rows_rejected = 0;
        self.job.errors.clear();
        let mut ctx = FileCtx::new(0);
        let mut rec = SliceRecord::default();
        let (lines, error) = match self.store.parse_csv_block(data, start, 0, cols, opts, &mut self.job, &mut ctx, &mut rec) {
            Ok(lines) => (lines, None),
            Err(e) => (0, Some(e)),
        };
        let PendingHints { text, items, tags } = &mut self.store.hints;
        tags.clear();
        tags.extend(items.iter().map(|&(_, _, a, b)| tag_of(&text[a as usize..b as usize])));
        self.sources_seen = ctx.sources_seen;
        self.lines = lines;
        self.error = error;
    }

    /// Rewrite this block's rows for the merged store: ids through
    /// `remaps[table][k]`, indices shifted by `bases` (raw ids, sessions,
    /// `last_used`), lines by `line_off`, and the file index set.
    fn remap_rows(&mut self, remaps: &[Vec<Vec<u32>>], k: usize, bases: (u32, u32, u32), line_off: u64, file: u32) {
        let map = |t: usize, id: u32| if id == NONE { NONE } else { remaps[t][k][id as usize] };
        let shift = |base: u32, id: u32| if id == NONE { NONE } else { id + base };
        for s in &mut self.store.rows {
            s.source = map(0, s.source);
            s.sku_text = map(1, s.sku_text);
            s.product = map(2, s.product);
            s.raw_id += bases.0;
            s.session = shift(bases.1, s.session);
            s.last_used = shift(bases.2, s.last_used);
            s.file = file;
            s.line = (s.line as u64 + line_off).min(u32::MAX as u64) as u32;
        }
        // The identity hints, interned by the merge in the order they were
        // found: the n-th pending hint of a kind gets the n-th id of its table.
        let mut next = [0usize; 4];
        for &(row, hint, _, _) in &self.store.hints.items {
            let h = hint as usize;
            let id = remaps[3 + h][k][next[h]];
            next[h] += 1;
            let r = &mut self.store.rows[row as usize];
            match hint {
                Hint::User => r.user = id,
                Hint::Serial => r.serial = id,
                Hint::DeviceId => r.device_id = id,
                Hint::Hostname => r.hostname = id,
            }
        }
    }
}

/// A CSV input read in blocks that end at record boundaries (the rest of a
/// read is carried to the next block), so the file never sits in memory
/// whole and each block parses on its own.
struct Blocks<R> {
    reader: HashingReader<R>,
    carry: Vec<u8>,
    block: usize,
    eof: bool,
}

impl<R: Read> Blocks<R> {
    fn new(reader: HashingReader<R>, block: usize) -> Self {
        Blocks { reader, carry: Vec::new(), block, eof: false }
    }

    /// Fill `buf` with the next block; `false` when the input is exhausted.
    fn next(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        buf.clear();
        buf.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut want = self.block;
        loop {
            while !self.eof && buf.len() < want {
                let old = buf.len();
                buf.resize(want, 0);
                let n = loop {
                    match self.reader.read(&mut buf[old..]) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        r => break r,
                    }
                };
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        buf.truncate(old);
                        return Err(e);
                    }
                };
                buf.truncate(old + n);
                if n == 0 {
                    self.eof = true;
                }
            }
            if self.eof {
                return Ok(!buf.is_empty());
            }
            match last_record_end(buf) {
                Some(end) => {
                    self.carry.extend_from_slice(&buf[end..]);
                    buf.truncate(end);
                    return Ok(true);
                }
                // A record longer than the block: read on.
                None => want = want.saturating_mul(2),
            }
        }
    }

    fn into_inner(self) -> HashingReader<R> {
        self.reader
    }
}

impl SignalStore {
    /// Read one canonical signal file (CSV, or JSON Lines when `path` ends in
    /// `.jsonl`) and add its accepted rows. Row errors go to the file's job;
    /// an unreadable or structurally broken file is an `invalid_input` error.
    pub fn add_file(&mut self, path: &str, input: impl Read, ruleset: &Ruleset) -> Result<&ImportJob> {
        self.add_file_with(path, input, ruleset, ReadParallelism::default())
    }

    /// [`SignalStore::add_file`] with `par.threads` parsing threads for a CSV
    /// file (JSON Lines are read on the calling thread). The result — rows,
    /// ids, errors, job — is the same for every thread count and block size:
    /// blocks are cut at record boundaries, parsed into partial stores, and
    /// merged in file order (DESIGN Part B, "Determinism").
    pub fn add_file_with(&mut self, path: &str, input: impl Read, ruleset: &Ruleset, par: ReadParallelism) -> Result<&ImportJob> {
        let opts = Opts { placeholders: &ruleset.serial_placeholders, strip_netbios: ruleset.strip_netbios_domain };
        let mut job = ImportJob::new("canonical", path, Digest32([0; 32]), 0);
        let mut ctx = FileCtx::new(self.jobs.len() as u32);
        let reader = HashingReader::new(input);
        let reader = if path.ends_with(".jsonl") {
            self.read_jsonl(path, reader, &opts, &mut job, &mut ctx)
        } else {
            self.read_csv(path, reader, &opts, &mut job, &mut ctx, par)
        };
        // Rows read before an error still get their hints.
        self.flush_hints();
        let reader = reader?;
        let (hash, bytes) =
            reader.finish().map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(path)))?;
        let fresh = ImportJob::new("canonical", path, hash, bytes);
        job.job_id = fresh.job_id;
        job.input_hash = fresh.input_hash;
        job.bytes = bytes;
        job.source = match ctx.sources_seen.len() {
            0 => String::new(),
            1 => self.sources.resolve(*ctx.sources_seen.iter().next().unwrap_or(&0)).to_string(),
            _ => "mixed".to_string(),
        };
        self.jobs.push(job);
        Ok(self.jobs.last().expect("just pushed"))
    }

    /// Add what an adapter produced from `files` (path, input hash, size):
    /// one import job per file; every signal goes through the same row rules
    /// as a canonical file. A job counts the signals it produced plus the
    /// records the adapter rejected (`rows_total = rows_accepted +
    /// rows_rejected`), except for a file that yields no signal (identity
    /// facts, portal observations): its `rows_total` is the records read.
    pub fn add_adapter_output(
        &mut self,
        adapter: &dyn crate::input::adapters::Adapter,
        files: &[(String, Digest32, u64)],
        out: &crate::input::adapters::AdapterOutput,
        ruleset: &Ruleset,
    ) -> std::ops::Range<usize> {
        let opts = Opts { placeholders: &ruleset.serial_placeholders, strip_netbios: ruleset.strip_netbios_domain };
        let first = self.jobs.len();
        let mut jobs: Vec<ImportJob> = files
            .iter()
            .map(|(path, hash, bytes)| {
                let mut j = ImportJob::new(adapter.name(), path, *hash, *bytes);
                j.adapter_version = adapter.version().to_string();
                j
            })
            .collect();
        let mut ctxs: Vec<FileCtx> = (0..files.len()).map(|i| FileCtx::new((first + i) as u32)).collect();
        for (file, err) in &out.rejected {
            if let Some(job) = jobs.get_mut(*file) {
                job.rows_total += 1;
                job.rows_rejected += 1;
                job.errors.push(err.clone());
            }
        }
        for (origin, row) in &out.signals {
            let (Some(job), Some(ctx)) = (jobs.get_mut(origin.file), ctxs.get_mut(origin.file)) else { continue };
            job.rows_total += 1;
            self.accept_row(&row.fields(), origin.line, &opts, job, ctx);
        }
        for (file, note) in &out.notes {
            if let Some(job) = jobs.get_mut(*file) {
                job.warnings.push(note.clone());
            }
        }
        for (i, (job, ctx)) in jobs.iter_mut().zip(&ctxs).enumerate() {
            // A file that yields identity facts or observations rather than
            // signals still had records: they are the denominator of its
            // reject threshold.
            if job.rows_accepted == 0 {
                job.rows_total = job.rows_total.max(out.records.get(i).copied().unwrap_or(0));
            }
            job.errors.sort();
            job.source = match ctx.sources_seen.len() {
                0 => adapter.source().to_string(),
                1 => self.sources.resolve(*ctx.sources_seen.iter().next().unwrap_or(&0)).to_string(),
                _ => "mixed".to_string(),
            };
        }
        self.flush_hints();
        self.jobs.extend(jobs);
        first..self.jobs.len()
    }

    fn read_csv<R: Read>(
        &mut self,
        path: &str,
        input: HashingReader<R>,
        opts: &Opts<'_>,
        job: &mut ImportJob,
        ctx: &mut FileCtx,
        par: ReadParallelism,
    ) -> Result<HashingReader<R>> {
        let read_err = |e: std::io::Error| Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(path));
        let mut blocks = Blocks::new(input, par.block_bytes.max(1));
        // The header: the first non-blank record.
        let mut rec = SliceRecord::default();
        let mut buf = Vec::new();
        let mut header: Vec<String> = Vec::new();
        let mut line_off = 0u64;
        let mut data_start = 0;
        loop {
            if !blocks.next(&mut buf).map_err(read_err)? {
                break;
            }
            let mut p = SliceCsv::new(&buf, 0);
            let mut found = false;
            loop {
                match p.read(&mut rec) {
                    Ok(None) => break,
                    Ok(Some(l)) => {
                        let line = line_off + l;
                        let bytes = rec.bytes(&buf);
                        if rec.is_blank(bytes) {
                            continue;
                        }
                        for (i, &(a, b)) in rec.spans.iter().enumerate() {
                            let s = std::str::from_utf8(&bytes[a..b]).map_err(|_| {
                                Error::new(ErrorCode::InvalidInput, format!("header column {} is not UTF-8", i + 1))
                                    .at(Location::line(path, line))
                            })?;
                            header.push(s.trim().to_string());
                        }
                        found = true;
                        break;
                    }
                    Err((l, msg)) => return Err(Error::new(ErrorCode::InvalidInput, msg).at(Location::line(path, line_off + l))),
                }
            }
            line_off += p.line;
            if found {
                data_start = p.pos();
                break;
            }
        }
        let mut map = [usize::MAX; 16];
        let mut unknown = Vec::new();
        for (i, h) in header.iter().enumerate() {
            match COLUMNS.iter().position(|c| c == h) {
                Some(c) if map[c] == usize::MAX => map[c] = i,
                Some(_) => {
                    return Err(Error::new(ErrorCode::InvalidInput, format!("column `{h}` appears twice in the header"))
                        .at(Location::line(path, 1).with_field(h.clone())))
                }
                None => unknown.push(h.clone()),
            }
        }
        let missing_required: Option<usize> = REQUIRED.iter().copied().find(|&c| map[c] == usize::MAX);
        if REQUIRED.iter().all(|&c| map[c] == usize::MAX) && !header.is_empty() {
            // No required column at all: most likely a file without a header,
            // whose first row (license keys and all) must not be echoed.
            job.warnings.push(format!(
                "the first row names none of the required columns ({}): is the header missing? Its {} cells are not shown",
                REQUIRED.map(|c| COLUMNS[c]).join(", "),
                header.len()
            ));
        } else if !unknown.is_empty() {
            job.warnings.push(format!("unknown columns ignored: {}", crate::error::names_for_display(unknown.iter().map(String::as_str))));
        }
        if header.is_empty() {
            return Ok(blocks.into_inner());
        }
        let cols = CsvCols { header_len: header.len(), map, missing_required };
        let chunk_err = |e: ChunkError| {
            let mut loc = Location::line(path, e.line);
            if let Some(f) = e.field {
                loc = loc.with_field(f);
            }
            Error::new(ErrorCode::InvalidInput, e.message).at(loc)
        };
        if par.threads <= 1 {
            // One thread: every block is parsed straight into this store.
            let mut start = data_start;
            loop {
                let lines = self.parse_csv_block(&buf, start, line_off, &cols, opts, job, ctx, &mut rec).map_err(chunk_err)?;
                line_off += lines;
                start = 0;
                if !blocks.next(&mut buf).map_err(read_err)? {
                    break;
                }
            }
            return Ok(blocks.into_inner());
        }
        self.read_csv_parallel(&mut blocks, buf, data_start, line_off, &cols, opts, job, ctx, par.threads).map_err(|e| match e {
            ParallelError::Io(e) => read_err(e),
            ParallelError::Chunk(e) => chunk_err(e),
        })?;
        Ok(blocks.into_inner())
    }

    /// Parse the records of `data[start..]` (a block cut at record
    /// boundaries) into this store; `line_off` is the number of physical
    /// lines before `start`. Returns the physical lines the block holds.
    #[allow(clippy::too_many_arguments)]
    fn parse_csv_block(
        &mut self,
        data: &[u8],
        start: usize,
        line_off: u64,
        cols: &CsvCols,
        opts: &Opts<'_>,
        job: &mut ImportJob,
        ctx: &mut FileCtx,
        rec: &mut SliceRecord,
    ) -> std::result::Result<u64, ChunkError> {
        let r = self.parse_csv_records(data, start, line_off, cols, opts, job, ctx, rec);
        if !self.defer_hints {
            self.flush_hints();
        }
        r
    }

    /// [`SignalStore::parse_csv_block`] before the pending hints are flushed.
    #[allow(clippy::too_many_arguments)]
    fn parse_csv_records(
        &mut self,
        data: &[u8],
        start: usize,
        line_off: u64,
        cols: &CsvCols,
        opts: &Opts<'_>,
        job: &mut ImportJob,
        ctx: &mut FileCtx,
        rec: &mut SliceRecord,
    ) -> std::result::Result<u64, ChunkError> {
        let mut p = SliceCsv::new(data, start);
        let map = &cols.map;
        loop {
            let line = match p.read(rec) {
                Ok(None) => return Ok(p.line),
                Ok(Some(l)) => line_off + l,
                Err((l, message)) => return Err(ChunkError { line: line_off + l, field: None, message }),
            };
            let bytes = rec.bytes(data);
            if rec.is_blank(bytes) {
                continue;
            }
            if rec.spans.len() != cols.header_len {
                return Err(ChunkError {
                    line,
                    field: None,
                    message: format!("expected {} fields as in the header, found {}", cols.header_len, rec.spans.len()),
                });
            }
            job.rows_total += 1;
            if let Some(c) = cols.missing_required {
                job.rows_rejected += 1;
                job.errors.push(RowError {
                    line,
                    column: COLUMNS[c].to_string(),
                    code: RowErrorCode::MissingColumn,
                    message: format!("the file has no `{}` column", COLUMNS[c]),
                });
                continue;
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                let c = (0..16).find(|&c| {
                    map[c] != usize::MAX && {
                        let (a, b) = rec.spans[map[c]];
                        std::str::from_utf8(&bytes[a..b]).is_err()
                    }
                });
                return Err(ChunkError { line, field: c.map(|c| COLUMNS[c]), message: "field is not valid UTF-8".to_string() });
            };
            let mut fields: [&str; 16] = [""; 16];
            for (c, slot) in fields.iter_mut().enumerate() {
                if map[c] != usize::MAX {
                    let (a, b) = rec.spans[map[c]];
                    // Field boundaries are ASCII commas: always character boundaries.
                    *slot = text.get(a..b).unwrap_or("");
                }
            }
            self.accept_row(&fields, line, opts, job, ctx);
        }
    }

    /// Parse a CSV file's blocks on `threads` scoped workers and merge them
    /// here, a wave of `2 × threads` blocks at a time (memory stays bounded):
    ///
    /// 1. the workers parse the wave's blocks, each into a partial store with
    ///    tables of its own, while this thread reads (and hashes) the next wave;
    /// 2. the string tables are merged, each table on one thread (tables are
    ///    independent), every partial's strings in block order and id order,
    ///    so the ids are those of a sequential read (first appearance);
    /// 3. the partial rows are remapped to the merged ids in parallel, then
    ///    appended in block order with their lines shifted.
    ///
    /// `first` holds the first block, whose data starts at `start` after
    /// `line_off` physical lines (the header).
    #[allow(clippy::too_many_arguments)]
    fn read_csv_parallel<R: Read>(
        &mut self,
        blocks: &mut Blocks<R>,
        first: Vec<u8>,
        start: usize,
        mut line_off: u64,
        cols: &CsvCols,
        opts: &Opts<'_>,
        job: &mut ImportJob,
        ctx: &mut FileCtx,
        threads: usize,
    ) -> std::result::Result<(), ParallelError> {
        let wave = 2 * threads;
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut pool: Vec<Partial> = Vec::new();
        let mut eof = false;
        let mut cur: Vec<(Vec<u8>, usize)> = vec![(first, start)];
        // The first wave is the first block alone: its parse starts at once
        // while this thread reads the next wave. A read error is reported
        // after the blocks read before it, as the one-thread read does (their
        // structural errors come first).
        let mut io_error = None;
        while !cur.is_empty() {
            // 1. Parse this wave; read the next one meanwhile.
            let mut next: Vec<(Vec<u8>, usize)> = Vec::new();
            let pending_io_error = io_error.take();
            let per = cur.len().div_ceil(threads);
            if pool.len() < cur.len() {
                pool.resize_with(cur.len(), Partial::default);
            }
            let partials = &mut pool[..cur.len()];
            std::thread::scope(|scope| {
                let handles: Vec<_> = partials
                    .chunks_mut(per)
                    .zip(cur.chunks(per))
                    .map(|(parts, group)| {
                        scope.spawn(move || {
                            for (p, (d, st)) in parts.iter_mut().zip(group) {
                                p.parse(d, *st, cols, opts);
                            }
                        })
                    })
                    .collect();
                while !eof && next.len() < wave {
                    let mut b = spare.pop().unwrap_or_default();
                    match blocks.next(&mut b) {
                        Ok(true) => next.push((b, 0)),
                        Ok(false) => eof = true,
                        Err(e) => {
                            io_error = Some(e);
                            eof = true;
                        }
                    }
                }
                for h in handles {
                    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                }
            });
            spare.extend(cur.drain(..).map(|(b, _)| b));
            cur = next;
            // Line offsets, and the first structural error in file order.
            let mut offsets = Vec::with_capacity(partials.len());
            for p in partials.iter_mut() {
                offsets.push(line_off);
                if let Some(mut e) = p.error.take() {
                    e.line += line_off;
                    return Err(ParallelError::Chunk(e));
                }
                line_off += p.lines;
            }
            // 2. Merge the string tables, one table per thread.
            let remaps = self.merge_tables(partials, threads);
            // 3. Remap the rows, then append them in block order.
            let mut raw_base = self.raw_ids.len() as u32;
            let mut session_base = self.sessions.len() as u32;
            let mut last_used_base = self.last_used.len() as u32;
            let mut bases = Vec::with_capacity(partials.len());
            for p in partials.iter() {
                bases.push((raw_base, session_base, last_used_base));
                raw_base += p.store.raw_ids.len() as u32;
                session_base += p.store.sessions.len() as u32;
                last_used_base += p.store.last_used.len() as u32;
            }
            let file = ctx.file_index;
            let per = partials.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                let mut k0 = 0;
                for group in partials.chunks_mut(per) {
                    let (remaps, bases, offsets) = (&remaps, &bases, &offsets);
                    let first = k0;
                    k0 += group.len();
                    scope.spawn(move || {
                        for (i, p) in group.iter_mut().enumerate() {
                            let k = first + i;
                            p.remap_rows(remaps, k, bases[k], offsets[k], file);
                        }
                    });
                }
            });
            let total: usize = partials.iter().map(|p| p.store.rows.len()).sum();
            self.rows.reserve(total);
            for (k, p) in partials.iter_mut().enumerate() {
                let off = offsets[k];
                job.rows_total += p.job.rows_total;
                job.rows_accepted += p.job.rows_accepted;
                job.rows_rejected += p.job.rows_rejected;
                job.errors.extend(p.job.errors.drain(..).map(|mut e| {
                    e.line += off;
                    e
                }));
                ctx.sources_seen.extend(p.sources_seen.iter().map(|&s| remaps[0][k][s as usize]));
                self.raw_ids.append(&p.store.raw_ids);
                self.sessions.extend_from_slice(&p.store.sessions);
                self.last_used.extend_from_slice(&p.store.last_used);
                self.rows.extend_from_slice(&p.store.rows);
            }
            if let Some(e) = pending_io_error {
                return Err(ParallelError::Io(e));
            }
        }
        io_error.map_or(Ok(()), |e| Err(ParallelError::Io(e)))
    }

    /// Merge the partials' string tables into this store's, in block order;
    /// returns, per table (in [`SignalStore::tables`] order) and per partial,
    /// the new id of each local id. Each table is merged by one thread; the
    /// tables are shared out by size.
    fn merge_tables(&mut self, partials: &[Partial], threads: usize) -> Vec<Vec<Vec<u32>>> {
        // Tables 3.. are the identity hints, pending in the partials.
        let weight =
            |t: usize| -> usize {
                partials
                    .iter()
                    .map(|p| {
                        if t < 3 {
                            p.store.tables()[t].len()
                        } else {
                            p.store.hints.items.iter().filter(|i| i.1 as usize == t - 3).count()
                        }
                    })
                    .sum()
            };
        let mut weighted: Vec<(usize, usize, &mut Interner)> =
            self.tables_mut().into_iter().enumerate().map(|(t, table)| (weight(t), t, table)).collect();
        weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut bins: Vec<(usize, Vec<(usize, &mut Interner)>)> = (0..threads.max(1)).map(|_| (0, Vec::new())).collect();
        for (w, t, table) in weighted {
            if let Some(bin) = bins.iter_mut().min_by_key(|b| b.0) {
                bin.0 += w + 1;
                bin.1.push((t, table));
            }
        }
        let merge_one = |t: usize, table: &mut Interner, p: &Partial| -> Vec<u32> {
            if t < 3 {
                return table.merge(p.store.tables()[t]);
            }
            let PendingHints { text, items, tags } = &p.store.hints;
            let batch: Vec<(&str, u32)> = items
                .iter()
                .zip(tags)
                .filter(|(i, _)| i.1 as usize == t - 3)
                .map(|(&(_, _, a, b), &tag)| (&text[a as usize..b as usize], tag))
                .collect();
            table.intern_batch(&batch)
        };
        let merge_bin = |bin: Vec<(usize, &mut Interner)>| -> Vec<(usize, Vec<Vec<u32>>)> {
            bin.into_iter().map(|(t, table)| (t, partials.iter().map(|p| merge_one(t, table, p)).collect())).collect()
        };
        let results: Vec<(usize, Vec<Vec<u32>>)> = std::thread::scope(|scope| {
            let mut bins = bins.into_iter().map(|b| b.1);
            let mine = bins.next().unwrap_or_default();
            let handles: Vec<_> = bins.filter(|b| !b.is_empty()).map(|b| scope.spawn(move || merge_bin(b))).collect();
            let mut out = merge_bin(mine);
            for h in handles {
                out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            out
        });
        let mut remaps: Vec<Vec<Vec<u32>>> = vec![Vec::new(); 7];
        for (t, r) in results {
            remaps[t] = r;
        }
        remaps
    }

    /// The string tables, in a fixed order (sources first).
    fn tables(&self) -> [&Interner; 7] {
        [&self.sources, &self.sku_texts, &self.products, &self.users, &self.serials, &self.device_ids, &self.hostnames]
    }

    /// [`SignalStore::tables`], mutable.
    fn tables_mut(&mut self) -> [&mut Interner; 7] {
        let SignalStore { sources, sku_texts, products, users, serials, device_ids, hostnames, .. } = self;
        [sources, sku_texts, products, users, serials, device_ids, hostnames]
    }

    fn read_jsonl<R: Read>(
        &mut self,
        path: &str,
        input: HashingReader<R>,
        opts: &Opts<'_>,
        job: &mut ImportJob,
        ctx: &mut FileCtx,
    ) -> Result<HashingReader<R>> {
        let mut reader = BufReader::with_capacity(256 * 1024, input);
        let mut buf = Vec::new();
        let mut line: u64 = 0;
        let mut unknown: BTreeSet<String> = BTreeSet::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot read: {e}")).at(Location::file(path)))?;
            if n == 0 {
                break;
            }
            line += 1;
            let text = std::str::from_utf8(&buf)
                .map_err(|_| Error::new(ErrorCode::InvalidInput, "line is not valid UTF-8").at(Location::line(path, line)))?;
            if text.trim().is_empty() {
                continue;
            }
            job.rows_total += 1;
            // Values are read as written: a number keeps its own text, so the
            // literal grammar (no exponents) applies to it as to CSV.
            let obj = match serde_json::from_str::<StrictRawMap<'_>>(text) {
                Ok(o) => o.0,
                Err(e) => {
                    let msg = crate::input::table::strip_position(&e);
                    let code = if msg.starts_with("duplicate key") { RowErrorCode::DuplicateKey } else { RowErrorCode::MalformedJson };
                    job.rows_rejected += 1;
                    job.errors.push(RowError {
                        line,
                        column: String::new(),
                        code,
                        message: if code == RowErrorCode::DuplicateKey { msg } else { format!("not a JSON object: {msg}") },
                    });
                    continue;
                }
            };
            let mut owned: [String; 16] = Default::default();
            let mut wrong_type = None;
            for (k, v) in &obj {
                let Some(c) = COLUMNS.iter().position(|c| c == k) else {
                    unknown.insert(k.clone());
                    continue;
                };
                let raw = v.get();
                match raw.as_bytes().first() {
                    Some(b'"') => owned[c] = serde_json::from_str::<String>(raw).unwrap_or_default(),
                    Some(b'-' | b'0'..=b'9') => owned[c] = raw.to_string(),
                    Some(b'n') => {}
                    _ => wrong_type = wrong_type.or(Some(c)),
                }
            }
            if let Some(c) = wrong_type {
                job.rows_rejected += 1;
                job.errors.push(RowError {
                    line,
                    column: COLUMNS[c].to_string(),
                    code: RowErrorCode::WrongType,
                    message: "expected a string, a number or null".to_string(),
                });
                continue;
            }
            let fields: [&str; 16] = std::array::from_fn(|i| owned[i].as_str());
            self.accept_row(&fields, line, opts, job, ctx);
        }
        if !unknown.is_empty() {
            job.warnings.push(format!("unknown columns ignored: {}", crate::error::names_for_display(unknown.iter().map(String::as_str))));
        }
        Ok(reader.into_inner())
    }

    /// Validate one row (fields untrimmed, in [`COLUMNS`] order) and store it
    /// or record why it was rejected.
    fn accept_row(&mut self, f: &[&str; 16], line: u64, opts: &Opts<'_>, job: &mut ImportJob, ctx: &mut FileCtx) {
        match self.parse_row(f, opts) {
            Ok(mut sig) => {
                sig.file = ctx.file_index;
                sig.line = line.min(u32::MAX as u64) as u32;
                if sig.source != ctx.last_source {
                    ctx.sources_seen.insert(sig.source);
                    ctx.last_source = sig.source;
                }
                job.rows_accepted += 1;
                self.rows.push(sig);
                if self.hints.items.len() >= HINT_BATCH && !self.defer_hints {
                    self.flush_hints();
                }
            }
            Err((c, code, message)) => {
                job.rows_rejected += 1;
                job.errors.push(RowError { line, column: COLUMNS[c].to_string(), code, message });
            }
        }
    }

    fn parse_row(&mut self, f: &[&str; 16], opts: &Opts<'_>) -> std::result::Result<Signal, (usize, RowErrorCode, String)> {
        let t = |c: usize| f[c].trim();
        for c in REQUIRED {
            if t(c).is_empty() {
                return Err((c, RowErrorCode::MissingField, format!("required field `{}` is empty", COLUMNS[c])));
            }
        }
        let kind = Kind::parse(t(C_KIND)).ok_or((
            C_KIND,
            RowErrorCode::UnknownKind,
            "kind must be assignment, installation, usage or session".to_string(),
        ))?;
        let status = Status::parse(t(C_STATUS)).ok_or((
            C_STATUS,
            RowErrorCode::UnknownStatus,
            "status must be active, revoked or suspended".to_string(),
        ))?;
        let instant = |c: usize| -> std::result::Result<Option<Instant>, (usize, RowErrorCode, String)> {
            let s = t(c);
            if s.is_empty() {
                return Ok(None);
            }
            Instant::parse(s).map(Some).map_err(|e| {
                let msg = match e {
                    InstantError::NoOffset => format!("`{}` has no UTC offset", COLUMNS[c]),
                    InstantError::Malformed => format!("`{}` is not an RFC 3339 instant", COLUMNS[c]),
                };
                (c, e.code(), msg)
            })
        };
        let observed_at =
            instant(C_OBSERVED)?.ok_or((C_OBSERVED, RowErrorCode::MissingField, "required field `observed_at` is empty".to_string()))?;
        let last_used_at = instant(C_LAST_USED)?;
        let session_start = instant(C_START)?;
        let session_end = instant(C_END)?;
        let confidence = match t(C_CONFIDENCE) {
            "" => Fixed9::ONE,
            s => match Fixed9::parse(s) {
                Some(v) if v >= Fixed9::ZERO && v <= Fixed9::ONE => v,
                _ => return Err((C_CONFIDENCE, RowErrorCode::BadConfidence, "confidence must be a decimal in [0, 1]".to_string())),
            },
        };
        let quantity = match t(C_QUANTITY) {
            "" => 1,
            s => match parse_integer(s) {
                Some(q) if (1..=MAX_QUANTITY).contains(&q) => q as u64,
                _ => {
                    return Err((
                        C_QUANTITY,
                        RowErrorCode::BadQuantity,
                        format!("quantity must be an integer from 1 to {MAX_QUANTITY} (the largest exact JSON integer)"),
                    ))
                }
            },
        };
        let session_start = match (kind, session_start) {
            (Kind::Session, None) => {
                return Err((C_START, RowErrorCode::MissingSessionStart, "a session needs `session_start`".to_string()));
            }
            (_, s) => s,
        };
        if t(C_SKU).is_empty() && t(C_PRODUCT).is_empty() {
            return Err((C_SKU, RowErrorCode::MissingSkuAndProduct, "either `sku` or `product` must be given".to_string()));
        }

        // Duplicates compare parsed values, and free text as written: the
        // parsed values are kept; the texts are summarised by a hash.
        let mut h = rustc_hash::FxHasher::default();
        // Parsed values not kept for every kind go in too.
        (last_used_at, session_start, session_end, quantity).hash(&mut h);
        // Enumerations compare as written (trimmed): an empty status is not `active`.
        t(C_STATUS).hash(&mut h);
        for c in [C_PRODUCT, C_USER, C_SERIAL, C_DEVICE_ID, C_DEVICE_NAME] {
            f[c].hash(&mut h);
        }
        let text_hash = h.finish();

        let session = match (kind, session_start) {
            (Kind::Session, Some(start)) => {
                self.sessions.push(SessionData { start, end: session_end, quantity });
                (self.sessions.len() - 1) as u32
            }
            _ => NONE,
        };
        let last_used = self.push_last_used(last_used_at);
        let product = t(C_PRODUCT);
        let scratch = &mut self.scratch;
        // The four identity hints are interned later, a batch of rows at a
        // time (`flush_hints`), in the same order: ids are unchanged.
        let row = self.rows.len() as u32;
        if normalize_user_into(f[C_USER], opts.strip_netbios, scratch) {
            self.hints.push(row, Hint::User, scratch);
        }
        if normalize_serial_into(f[C_SERIAL], opts.placeholders, scratch) {
            self.hints.push(row, Hint::Serial, scratch);
        }
        if normalize_device_id_into(f[C_DEVICE_ID], scratch) {
            self.hints.push(row, Hint::DeviceId, scratch);
        }
        if normalize_hostname_into(f[C_DEVICE_NAME], scratch) {
            self.hints.push(row, Hint::Hostname, scratch);
        }
        let product = if product.is_empty() {
            NONE
        } else if normalize_device_id_into(product, scratch) {
            // trim + lower-case
            self.products.intern(scratch)
        } else {
            NONE
        };
        let (user, serial, device_id, hostname) = (NONE, NONE, NONE, NONE);
        Ok(Signal {
            observed_at,
            text_hash,
            confidence: confidence.0 as u32,
            source: self.sources.intern(t(C_SOURCE)),
            raw_id: self.raw_ids.push(t(C_RAW_ID)),
            sku_text: if t(C_SKU).is_empty() { NONE } else { self.sku_texts.intern(t(C_SKU)) },
            product,
            user,
            serial,
            device_id,
            hostname,
            session,
            last_used,
            file: 0,
            line: 0,
            kind,
            status,
        })
    }

    /// Intern the pending identity hints into their tables, in row order,
    /// and set them on their rows.
    fn flush_hints(&mut self) {
        const AHEAD: usize = 8;
        let SignalStore { rows, users, serials, device_ids, hostnames, hints, .. } = self;
        let PendingHints { text, items, tags } = hints;
        tags.clear();
        tags.extend(items.iter().map(|&(_, _, a, b)| tag_of(&text[a as usize..b as usize])));
        for i in 0..items.len() {
            if let Some(&(_, hint, _, _)) = items.get(i + AHEAD) {
                let table: &Interner = match hint {
                    Hint::User => users,
                    Hint::Serial => serials,
                    Hint::DeviceId => device_ids,
                    Hint::Hostname => hostnames,
                };
                std::hint::black_box(table.touch(tags[i + AHEAD]));
            }
            let (row, hint, a, b) = items[i];
            let value = &text[a as usize..b as usize];
            let (table, field): (&mut Interner, &mut u32) = {
                let r = &mut rows[row as usize];
                match hint {
                    Hint::User => (&mut *users, &mut r.user),
                    Hint::Serial => (&mut *serials, &mut r.serial),
                    Hint::DeviceId => (&mut *device_ids, &mut r.device_id),
                    Hint::Hostname => (&mut *hostnames, &mut r.hostname),
                }
            };
            *field = table.intern_tagged(value, tags[i]);
        }
        items.clear();
        text.clear();
    }

    /// Keep a row's `last_used_at` aside; its index, or NONE.
    fn push_last_used(&mut self, at: Option<Instant>) -> u32 {
        match at {
            Some(at) => {
                self.last_used.push(at);
                (self.last_used.len() - 1) as u32
            }
            None => NONE,
        }
    }

    /// Empty the store, keeping its allocations (a parallel read reuses the
    /// partial stores of its workers).
    fn clear(&mut self) {
        self.rows.clear();
        self.sessions.clear();
        self.last_used.clear();
        self.jobs.clear();
        self.raw_ids.clear();
        for t in self.tables_mut() {
            t.clear();
        }
        self.hints.items.clear();
        self.hints.text.clear();
    }

    /// Bytes the store holds on the heap (capacities; hash tables
    /// estimated from their capacity), for memory accounting in benchmarks.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let tables = [&self.sources, &self.sku_texts, &self.products, &self.users, &self.serials, &self.device_ids, &self.hostnames];
        self.rows.capacity() * size_of::<Signal>()
            + self.sessions.capacity() * size_of::<SessionData>()
            + self.last_used.capacity() * size_of::<Instant>()
            + self.raw_ids.heap_bytes()
            + tables.iter().map(|t| t.heap_bytes()).sum::<usize>()
    }

    /// Source name of a row.
    pub fn source_of(&self, s: &Signal) -> &str {
        self.sources.resolve(s.source)
    }

    /// Raw id of a row.
    pub fn raw_id_of(&self, s: &Signal) -> &str {
        self.raw_ids.resolve(s.raw_id)
    }
}

// ------------------------------------------------------------------------------------------
// The evidence pack's normalised form of signals.

impl SignalStore {
    /// One accepted row in its normalised form (the evidence pack's
    /// `signals.jsonl`): hints as identity resolution saw them, only the
    /// canonical columns (nothing else an input carried reaches the pack).
    ///
    /// `last_used_at` is written only when the row gives one: packs written
    /// before it was kept have no such key, and a replay reads a missing key
    /// as unknown and renders it missing again, so they still verify byte for
    /// byte (DESIGN C6, "Pack fields this needs").
    pub fn normalised_json(&self, s: &Signal) -> serde_json::Value {
        let opt = |table: &Interner, id: u32| if id == NONE { serde_json::Value::Null } else { table.resolve(id).into() };
        let session = s.session_data(self);
        let mut row = serde_json::json!({
            "source": self.source_of(s),
            "raw_id": self.raw_id_of(s),
            "observed_at": s.observed_at.to_string(),
            "sku": opt(&self.sku_texts, s.sku_text),
            "product": opt(&self.products, s.product),
            "kind": s.kind.name(),
            "status": s.status.name(),
            "user": opt(&self.users, s.user),
            "device_serial": opt(&self.serials, s.serial),
            "device_id": opt(&self.device_ids, s.device_id),
            "device_name": opt(&self.hostnames, s.hostname),
            "session_start": session.map(|d| d.start.to_string()),
            "session_end": session.and_then(|d| d.end).map(|e| e.to_string()),
            "quantity": session.map(|d| d.quantity.to_string()),
            "confidence": Fixed9(s.confidence as i128).to_canonical_string(),
            "job": self.jobs.get(s.file as usize).map(|j| j.job_id.clone()),
            "line": s.line,
        });
        if let Some(at) = s.last_used_at(self) {
            row["last_used_at"] = at.to_string().into();
        }
        row
    }

    /// One accepted row in its normalised form as canonical JSON bytes
    /// (exactly `canonical::to_vec(&self.normalised_json(s))`), written
    /// straight into `out`: the pack renders a million of these, and building
    /// a `Value` per row first costs more than the rest of the pack.
    pub fn write_normalised(&self, s: &Signal, out: &mut Vec<u8>) {
        use crate::canon::canonical::write_str;
        use std::io::Write as _;
        let opt = |out: &mut Vec<u8>, table: &Interner, id: u32| {
            if id == NONE {
                out.extend_from_slice(b"null");
            } else {
                write_str(out, table.resolve(id));
            }
        };
        let session = s.session_data(self);
        // Keys in canonical (sorted) order.
        out.extend_from_slice(b"{\"confidence\":");
        write_str(out, &Fixed9(s.confidence as i128).to_canonical_string());
        out.extend_from_slice(b",\"device_id\":");
        opt(out, &self.device_ids, s.device_id);
        out.extend_from_slice(b",\"device_name\":");
        opt(out, &self.hostnames, s.hostname);
        out.extend_from_slice(b",\"device_serial\":");
        opt(out, &self.serials, s.serial);
        out.extend_from_slice(b",\"job\":");
        match self.jobs.get(s.file as usize) {
            Some(j) => write_str(out, &j.job_id),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"kind\":");
        write_str(out, s.kind.name());
        if let Some(at) = s.last_used_at(self) {
            out.extend_from_slice(b",\"last_used_at\":");
            at.write_json(out);
        }
        let _ = write!(out, ",\"line\":{}", s.line);
        out.extend_from_slice(b",\"observed_at\":");
        s.observed_at.write_json(out);
        out.extend_from_slice(b",\"product\":");
        opt(out, &self.products, s.product);
        out.extend_from_slice(b",\"quantity\":");
        match session {
            Some(d) => write_str(out, &d.quantity.to_string()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"raw_id\":");
        write_str(out, self.raw_id_of(s));
        out.extend_from_slice(b",\"session_end\":");
        match session.and_then(|d| d.end) {
            Some(e) => e.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"session_start\":");
        match session {
            Some(d) => d.start.write_json(out),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"sku\":");
        opt(out, &self.sku_texts, s.sku_text);
        out.extend_from_slice(b",\"source\":");
        write_str(out, self.source_of(s));
        out.extend_from_slice(b",\"status\":");
        write_str(out, s.status.name());
        out.extend_from_slice(b",\"user\":");
        opt(out, &self.users, s.user);
        out.push(b'}');
    }

    /// Add a row from one line of a pack's `signals.jsonl` (replay): parsed
    /// into borrowed text, without a `Value` tree.
    pub fn push_normalised_line(&mut self, line: &[u8], file_of: impl Fn(&str) -> u32) -> std::result::Result<(), String> {
        let row: NormalisedRow = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let file = row.job.as_deref().map_or(0, &file_of);
        self.push_row(&row, file)
    }

    /// Add a row from its normalised form (replay of an evidence pack): values
    /// are taken as they are, not normalised again.
    pub fn push_normalised(&mut self, v: &serde_json::Value, file: u32) -> std::result::Result<(), String> {
        let row = NormalisedRow::deserialize(v).map_err(|e| e.to_string())?;
        self.push_row(&row, file)
    }

    fn push_row(&mut self, v: &NormalisedRow, file: u32) -> std::result::Result<(), String> {
        let text = |k: &str| v.get(k);
        let instant = |k: &str| -> std::result::Result<Option<Instant>, String> {
            text(k).map(|t| Instant::parse(t).map_err(|_| format!("`{k}` is not an instant"))).transpose()
        };
        let opt = |table: &mut Interner, k: &str| text(k).map_or(NONE, |t| table.intern(t));
        let kind = text("kind").and_then(Kind::parse).ok_or("unknown `kind`")?;
        let status = Status::parse(text("status").unwrap_or("")).ok_or("unknown `status`")?;
        let observed_at = instant("observed_at")?.ok_or("missing `observed_at`")?;
        let confidence =
            text("confidence").and_then(Fixed9::parse).filter(|c| *c >= Fixed9::ZERO && *c <= Fixed9::ONE).ok_or("bad `confidence`")?;
        let session = if kind == Kind::Session {
            let start = instant("session_start")?.ok_or("a session needs `session_start`")?;
            let quantity =
                text("quantity").and_then(parse_integer).filter(|q| (1..=MAX_QUANTITY).contains(q)).ok_or("bad `quantity`")? as u64;
            self.sessions.push(SessionData { start, end: instant("session_end")?, quantity });
            (self.sessions.len() - 1) as u32
        } else {
            NONE
        };
        let last_used = instant("last_used_at")?;
        let last_used = self.push_last_used(last_used);
        let sig = Signal {
            observed_at,
            text_hash: 0,
            confidence: confidence.0 as u32,
            source: self.sources.intern(text("source").ok_or("missing `source`")?),
            raw_id: self.raw_ids.push(text("raw_id").ok_or("missing `raw_id`")?),
            sku_text: opt(&mut self.sku_texts, "sku"),
            product: opt(&mut self.products, "product"),
            user: opt(&mut self.users, "user"),
            serial: opt(&mut self.serials, "device_serial"),
            device_id: opt(&mut self.device_ids, "device_id"),
            hostname: opt(&mut self.hostnames, "device_name"),
            session,
            last_used,
            file,
            line: v.line.unwrap_or(0).min(u32::MAX as u64) as u32,
            kind,
            status,
        };
        if sig.sku_text == NONE && sig.product == NONE {
            return Err("either `sku` or `product` must be given".into());
        }
        self.rows.push(sig);
        Ok(())
    }
}

impl ImportJob {
    /// Rebuild a job's summary (what the snapshot records) from its JSON form.
    pub fn from_summary(v: &serde_json::Value) -> Option<ImportJob> {
        let s = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64);
        Some(ImportJob {
            job_id: s("job_id")?,
            source: s("source")?,
            adapter: s("adapter")?,
            adapter_version: s("adapter_version")?,
            path: s("path")?,
            input_hash: s("input_hash")?,
            bytes: n("bytes").unwrap_or(0),
            rows_total: n("rows_total")?,
            rows_accepted: n("rows_accepted")?,
            rows_rejected: n("rows_rejected")?,
            errors: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

/// One JSON Lines object, its values as written; a duplicate key is an error
/// (never last-wins).
struct StrictRawMap<'a>(std::collections::BTreeMap<String, &'a serde_json::value::RawValue>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for StrictRawMap<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = StrictRawMap<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
                let mut out = std::collections::BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(crate::canon::canonical::duplicate_key_message(&key)));
                    }
                    let v: &'a serde_json::value::RawValue = map.next_value()?;
                    out.insert(key, v);
                }
                Ok(StrictRawMap(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// One line of a pack's `signals.jsonl`, borrowed where the text has no escapes.
#[derive(serde::Deserialize)]
struct NormalisedRow<'a> {
    #[serde(borrow)]
    source: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    raw_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    observed_at: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    sku: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    product: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    status: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    device_serial: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    device_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    device_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    last_used_at: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    session_start: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    session_end: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    quantity: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    confidence: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    job: Option<std::borrow::Cow<'a, str>>,
    line: Option<u64>,
}

impl NormalisedRow<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let f = match key {
            "source" => &self.source,
            "raw_id" => &self.raw_id,
            "observed_at" => &self.observed_at,
            "sku" => &self.sku,
            "product" => &self.product,
            "kind" => &self.kind,
            "status" => &self.status,
            "user" => &self.user,
            "device_serial" => &self.device_serial,
            "device_id" => &self.device_id,
            "device_name" => &self.device_name,
            "last_used_at" => &self.last_used_at,
            "session_start" => &self.session_start,
            "session_end" => &self.session_end,
            "quantity" => &self.quantity,
            "confidence" => &self.confidence,
            _ => return None,
        };
        f.as_deref()
    }
}
