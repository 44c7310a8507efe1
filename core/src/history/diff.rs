//! What changed since the previous snapshot, unit by unit, and why.
//!
//! A snapshot's counters say *how many*; an auditor also asks *which* and
//! *why*. Given the previous run's units (its evidence pack carries them) and
//! this run's units, every SKU gets the units **added** and **removed**, each
//! with one reason code, and the entitlement changes with theirs. The
//! snapshot carries the counts per reason (`diff`), the pack the unit lists
//! (`diff.json`), and for every SKU
//!
//! ```text
//! consumed(previous) + Σ added − Σ removed = consumed(current)
//! entitled(previous) + Σ entitlement changes = entitled(current)
//! ```
//!
//! holds exactly. For device, user, subscription and feature SKUs a unit
//! weighs 1. For concurrent SKUs consumed is the peak, so the units that count
//! are the sessions open at the peak instant (the earliest instant the peak is
//! reached), each weighing its quantity; a session that is still there but no
//! longer at the peak leaves with `peak_moved`.
//!
//! Reasons are derived only from facts of the two runs: the previous unit's
//! signals as this run saw them (absent, aged out, revoked, below confidence,
//! mapped elsewhere) or the unit they now belong to (merged identity).
//!
//! | reason | added / removed |
//! | --- | --- |
//! | `new_signal` | added: rests on signals no previous unit of any SKU held |
//! | `merged_identity` | added or removed: its signals belong to another unit of the SKU (identities merged or split) |
//! | `ruleset_changed` | added or removed: the ruleset changed and its signals now map to (or from) another SKU |
//! | `remapped` | as above, with the same ruleset (the record's `sku`/`product` changed) |
//! | `peak_moved` | concurrent only: the session is still there, but (no longer) open at the peak |
//! | `aged_out` | removed: its signals fell out of the lookback or the concurrency window |
//! | `revoked` | removed: its assignment is no longer active (revoked or suspended) |
//! | `below_confidence` | removed: its signals are now below `min_confidence` |
//! | `unattributable` | removed: no device or user can be determined for its signals any more |
//! | `source_missing` | removed: its signals are gone and their source sent nothing this run |
//! | `not_reported` | removed: its signals are gone though their source reported (uninstalled, unassigned, deleted) |
//! | `excluded` | removed: its signals are set aside for another reason (see the exceptions) |
//! | `entitlement_started` / `entitlement_ended` / `quantity_changed` | entitlements in force on `as_of` |

use crate::canon::canonical;
use crate::canon::hash::Digest32;
use crate::canon::time::Instant;
use crate::document::diff::{
    BeforeAfter, CounterDelta, CoverageGap, Diff, DiffBasis, DiffDetail, DiffSummary, EntitlementChange, SkuChange, SkuUnitChanges,
    UnitChange,
};
use crate::document::snapshot::{SkuRecord, Snapshot};
use crate::engine::{ExceptionRecord, Fate, UnitList};
use crate::error::{Error, ErrorCode, Result};
use crate::input::catalog::MasterData;
use crate::input::catalog::Model;
use crate::input::signals::SignalStore;
use crate::vocab::{CoverageStatus, DiffReason, ExceptionCode};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The previous run as far as a diff needs it: its verified snapshot, its
/// units per SKU (checked against the snapshot's `units_root`s) and its
/// entitlements. Built from the previous evidence pack.
#[derive(Debug, Clone)]
pub struct PreviousRun {
    /// The previous snapshot (hash verified).
    pub snapshot: Snapshot,
    /// `units.jsonl` of the previous pack: canonical unit bytes per SKU, in
    /// order, held compressed ([`SkuUnits`]).
    pub units: BTreeMap<String, SkuUnits>,
    /// `entitlements.json` of the previous pack.
    pub entitlements: Value,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::PreviousSnapshotInvalid, message.into())
}

impl PreviousRun {
    /// Read the previous run from its evidence pack (`evidence.tar`).
    ///
    /// Checks the snapshot hash and every SKU's `units_root` against the
    /// units; anything else is `verify`'s job.
    pub fn from_pack(pack: &[u8]) -> Result<PreviousRun> {
        Self::from_reader(std::io::Cursor::new(pack))
    }

    /// [`Self::from_pack`] from a stream (issue 15: a chained run holds no
    /// more than an unchained one plus the previous units): the pack is read
    /// once, as strictly as `verify` reads it (the writer's archive, only a
    /// pack's members, each once; a frame under its bounds), keeping only
    /// `snapshot.json`, `entitlements.json` and the units of `units.jsonl`;
    /// every other member passes without being kept.
    pub fn from_reader<R: std::io::Read>(pack: R) -> Result<PreviousRun> {
        let bad = |e: String| invalid(format!("previous evidence pack: {e}"));
        let reader = crate::canon::zst::archive_reader(pack).map_err(bad)?;
        let mut walk = crate::document::manifest::MemberWalk::new(reader);
        let (mut snapshot, mut entitlements, mut units) = (None, None, None);
        let walked = (|| -> std::result::Result<(), String> {
            while let Some((name, size)) = walk.next()? {
                match name {
                    "snapshot.json" | "entitlements.json" => {
                        if size > crate::document::manifest::MAX_KEPT {
                            return Err(format!("member `{name}` ({size} bytes) is larger than a pack's can be"));
                        }
                        let mut buf = Vec::new();
                        walk.data(|c| buf.extend_from_slice(c))?;
                        if name == "snapshot.json" {
                            snapshot = Some(buf);
                        } else {
                            entitlements = Some(buf);
                        }
                    }
                    "units.jsonl" => {
                        let mut c = UnitsCollector::default();
                        walk.data(|chunk| c.feed(chunk))?;
                        units = Some(c.finish());
                    }
                    _ => walk.data(|_| {})?,
                }
            }
            Ok(())
        })();
        match walked {
            Err(e) => return Err(bad(walk.source_mut().drain().unwrap_or(e))),
            Ok(()) => {
                if let Some(e) = walk.source_mut().drain() {
                    return Err(bad(e));
                }
            }
        }
        let missing = |name: &str| invalid(format!("previous evidence pack has no {name}"));
        let snapshot = snapshot.ok_or_else(|| missing("snapshot.json"))?;
        let units = units.ok_or_else(|| missing("units.jsonl"))?;
        let entitlements = entitlements.ok_or_else(|| missing("entitlements.json"))?;
        Self::from_collected(&snapshot, units, &entitlements)
    }

    /// The previous run from its three artifacts (as an evidence pack holds
    /// them: `snapshot.json`, `units.jsonl`, `entitlements.json`).
    pub fn from_parts(snapshot: &[u8], units_jsonl: &[u8], entitlements_json: &[u8]) -> Result<PreviousRun> {
        Self::from_collected(snapshot, units_by_sku(units_jsonl), entitlements_json)
    }

    /// [`Self::from_parts`] with the units already read ([`UnitsCollector`]).
    pub(crate) fn from_collected(
        snapshot: &[u8],
        units: std::result::Result<BTreeMap<String, SkuUnits>, String>,
        entitlements_json: &[u8],
    ) -> Result<PreviousRun> {
        let snapshot = Snapshot::parse_verified(snapshot).map_err(|e| invalid(format!("previous snapshot: {}", e.message())))?;
        let units = units.map_err(|m| invalid(format!("previous units: {m}")))?;
        let entitlements: Value =
            serde_json::from_slice(entitlements_json).map_err(|e| invalid(format!("previous entitlements.json: {e}")))?;
        if !entitlements.is_array() {
            return Err(invalid("previous entitlements.json is not a list"));
        }
        let run = PreviousRun { snapshot, units, entitlements };
        run.check_roots()?;
        Ok(run)
    }

    /// Every SKU of the snapshot has exactly the units whose root it records.
    fn check_roots(&self) -> Result<()> {
        let mut known = BTreeSet::new();
        for r in &self.snapshot.doc().skus {
            let sku = r.sku.as_str();
            known.insert(sku.to_string());
            let mut root = crate::canon::merkle::RootBuilder::default();
            if let Some(units) = self.units.get(sku) {
                units.for_each(|leaf| {
                    root.push(crate::canon::merkle::leaf_hash(leaf));
                    Ok(())
                })?;
            }
            if r.units_root != root.root().to_prefixed() {
                return Err(invalid(format!("previous units of `{sku}` do not match the snapshot's units_root")));
            }
        }
        if let Some(extra) = self.units.keys().find(|k| !known.contains(*k)) {
            return Err(invalid(format!("previous units name SKU `{extra}`, which the snapshot does not list")));
        }
        Ok(())
    }

    /// The units as `units.jsonl` lines (the pack's `previous_units.jsonl`),
    /// one line at a time into `out`.
    pub fn write_units_jsonl(&self, out: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        for (sku, list) in &self.units {
            list.for_each(|leaf| {
                let unit: Value = serde_json::from_slice(leaf).map_err(|e| Error::new(ErrorCode::Internal, format!("unit: {e}")))?;
                let mut line = canonical::to_vec(&json!({"sku": sku, "unit": unit}))?;
                line.push(b'\n');
                out(&line)
            })?;
        }
        Ok(())
    }

    /// The units as `units.jsonl` lines (the pack's `previous_units.jsonl`).
    pub fn units_jsonl(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_units_jsonl(&mut |line| {
            out.extend_from_slice(line);
            Ok(())
        })?;
        Ok(out)
    }
}

/// One SKU's units of the previous run, held compressed (issue 15: a chained
/// run holds the previous run's units through the whole run, and as plain
/// bytes they weigh as much as the run's own): runs of consecutive unit
/// lines, each run's leaves joined by line ends and compressed (zstd level
/// 1), ~8 times smaller. Never written anywhere: only read back by the diff
/// and the new pack's `previous_units.jsonl`.
#[derive(Debug, Clone, Default)]
pub struct SkuUnits {
    /// (uncompressed length, compressed bytes) per run of units.
    chunks: Vec<(usize, Vec<u8>)>,
    count: usize,
}

/// The uncompressed bytes gathered before a run of units is compressed.
const UNITS_CHUNK: usize = 4 << 20;

impl SkuUnits {
    /// Add a run of `n` leaves, each followed by a line end.
    fn push_chunk(&mut self, joined: &[u8], n: usize) -> std::result::Result<(), String> {
        if n == 0 {
            return Ok(());
        }
        let packed = zstd::bulk::compress(joined, 1).map_err(|e| format!("cannot hold the previous units: {e}"))?;
        self.chunks.push((joined.len(), packed));
        self.count += n;
        Ok(())
    }

    /// How many units.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Each unit's canonical bytes, in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        for (len, packed) in &self.chunks {
            let joined = zstd::bulk::decompress(packed, *len)
                .map_err(|e| Error::new(ErrorCode::Internal, format!("previous units: cannot decompress: {e}")))?;
            for leaf in joined.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                f(leaf)?;
            }
        }
        Ok(())
    }

    /// Build from leaves (tests, and callers holding plain units).
    pub fn from_leaves<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> std::result::Result<SkuUnits, String> {
        let (mut out, mut joined, mut n) = (SkuUnits::default(), Vec::new(), 0);
        for l in leaves {
            joined.extend_from_slice(l);
            joined.push(b'\n');
            n += 1;
        }
        out.push_chunk(&joined, n)?;
        Ok(out)
    }
}

/// One line of a `units.jsonl`: its SKU and its `unit` exactly as written
/// (a pack writes it canonical; anything else would not match the
/// `units_root` it is checked against).
pub(crate) fn unit_line(line: &[u8]) -> std::result::Result<(std::borrow::Cow<'_, str>, &[u8]), String> {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        sku: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        unit: &'a serde_json::value::RawValue,
    }
    let v: Line = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    Ok((v.sku, v.unit.get().as_bytes()))
}

/// Units of a `units.jsonl` per SKU: each line's `unit` exactly as written.
pub(crate) fn units_by_sku(bytes: &[u8]) -> std::result::Result<BTreeMap<String, SkuUnits>, String> {
    let mut c = UnitsCollector::default();
    c.feed(bytes);
    c.finish()
}

/// [`units_by_sku`] over a stream: fed in chunks, line by line; the current
/// run of one SKU's units is gathered (at most [`UNITS_CHUNK`] bytes) and
/// compressed when another SKU's line comes, or it is full.
#[derive(Default)]
pub(crate) struct UnitsCollector {
    lines: crate::canon::lines::Lines,
    state: Collecting,
}

#[derive(Default)]
struct Collecting {
    units: BTreeMap<String, SkuUnits>,
    current: String,
    joined: Vec<u8>,
    n: usize,
    error: Option<String>,
}

impl Collecting {
    fn flush(&mut self) {
        if self.n == 0 {
            return;
        }
        let entry = self.units.entry(std::mem::take(&mut self.current)).or_default();
        if let Err(e) = entry.push_chunk(&self.joined, self.n) {
            self.error.get_or_insert(e);
        }
        self.joined.clear();
        self.n = 0;
    }

    fn line(&mut self, i: usize, line: std::result::Result<&[u8], ()>) {
        if self.error.is_some() {
            return;
        }
        let parsed = line.map_err(|_| "longer than a unit line can be".to_string()).and_then(unit_line);
        match parsed {
            Ok((sku, unit)) => {
                if self.n > 0 && (self.current != sku.as_ref() || self.joined.len() >= UNITS_CHUNK) {
                    self.flush();
                }
                if self.n == 0 {
                    self.current = sku.into_owned();
                }
                self.joined.extend_from_slice(unit);
                self.joined.push(b'\n');
                self.n += 1;
            }
            Err(e) => self.error = Some(format!("line {i}: {e}")),
        }
    }
}

impl UnitsCollector {
    /// Feed the next bytes.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        let state = &mut self.state;
        self.lines.feed(chunk, &mut |i, l| state.line(i, l));
    }

    /// The units per SKU, or the first line that is not a unit line.
    pub(crate) fn finish(mut self) -> std::result::Result<BTreeMap<String, SkuUnits>, String> {
        let state = &mut self.state;
        self.lines.finish(&mut |i, l| state.line(i, l));
        if self.state.error.is_none() {
            self.state.flush();
        }
        match self.state.error {
            Some(e) => Err(e),
            None => Ok(self.state.units),
        }
    }
}

/// This run, as far as a diff needs it.
pub(crate) struct Current<'a> {
    pub store: &'a SignalStore,
    pub fates: &'a [Fate],
    /// Per SKU index: unit keys whose latest assignment is not active.
    pub not_active: &'a BTreeMap<usize, BTreeSet<String>>,
    pub unique: &'a [u32],
    pub exceptions: &'a [ExceptionRecord],
    pub master: &'a MasterData,
    /// SKU id → (record, units), every catalog SKU.
    pub skus: Vec<(&'a SkuRecord, &'a UnitList)>,
    /// Source name → coverage status.
    pub coverage: BTreeMap<String, CoverageStatus>,
    pub ruleset_hash: Digest32,
    pub as_of: Instant,
}

/// One unit as the diff sees it.
#[derive(Debug, Clone)]
struct UnitView {
    key: String,
    /// (source, raw_id) of its signals.
    signals: Vec<(String, String)>,
    /// Concurrent sessions: clipped interval and quantity.
    session: Option<(Instant, Instant, i64)>,
}

fn view(leaf: &[u8]) -> Result<UnitView> {
    let v: Value = serde_json::from_slice(leaf).map_err(|e| Error::new(ErrorCode::Internal, format!("unit is not JSON: {e}")))?;
    let text = |f: &str| v.get(f).and_then(Value::as_str);
    let signals = v["signals"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| (s["source"].as_str().unwrap_or_default().to_string(), s["raw_id"].as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let session = match (text("start").map(Instant::parse), text("end").map(Instant::parse), v["quantity"].as_i64()) {
        (Some(Ok(s)), Some(Ok(e)), Some(q)) => Some((s, e, q)),
        _ => None,
    };
    Ok(UnitView { key: text("key").unwrap_or_default().to_string(), signals, session })
}

/// Units that make up consumed, with their weights: every unit weighs 1,
/// except concurrent sessions, where only those open at the peak count.
fn consuming(units: &[UnitView], concurrent: bool) -> BTreeMap<String, i64> {
    if !concurrent {
        return units.iter().map(|u| (u.key.clone(), 1)).collect();
    }
    // Same sweep as the counters: at one instant ends come before starts.
    let mut events: Vec<(Instant, u8, i64)> = Vec::with_capacity(units.len() * 2);
    for (s, e, q) in units.iter().filter_map(|u| u.session) {
        events.push((s, 1, q));
        events.push((e, 0, q.saturating_neg()));
    }
    events.sort_unstable();
    let (mut cur, mut peak, mut at) = (0i64, 0i64, None);
    // Saturating: the previous run's units come from a pack, whose numbers
    // are not trusted until the diff is compared (a wrapped sum would panic
    // in a debug build and be wrong in any).
    for (t, _, q) in events {
        cur = cur.saturating_add(q);
        if cur > peak {
            peak = cur;
            at = Some(t);
        }
    }
    let Some(t) = at else { return BTreeMap::new() };
    units.iter().filter_map(|u| u.session.filter(|(s, e, _)| *s <= t && t < *e).map(|(_, _, q)| (u.key.clone(), q))).collect()
}

/// A unit in a diff list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Change {
    key: String,
    reason: DiffReason,
    weight: i64,
    /// Sources of the unit's signals (sorted, distinct).
    sources: Vec<String>,
}

fn sources_of(u: &UnitView) -> Vec<String> {
    let set: BTreeSet<&str> = u.signals.iter().map(|(s, _)| s.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// Why a previous signal no longer counts for `sku` (index `k`) in this run.
fn signal_reason(
    cur: &Current,
    exception_of: &HashMap<(&str, &str), &'static str>,
    row: Option<u32>,
    source: &str,
    k: usize,
    ruleset_changed: bool,
) -> DiffReason {
    let Some(i) = row else {
        return if cur.coverage.get(source) == Some(&CoverageStatus::Missing) {
            DiffReason::SourceMissing
        } else {
            DiffReason::NotReported
        };
    };
    let s = &cur.store.rows[i as usize];
    let (src, raw) = (cur.store.source_of(s), cur.store.raw_id_of(s));
    // Every exception code is an `ExceptionCode` name (the engine writes
    // them from the vocabulary).
    let exception = exception_of.get(&(src, raw)).copied().and_then(ExceptionCode::from_name);
    let moved = if ruleset_changed { DiffReason::RulesetChanged } else { DiffReason::Remapped };
    match (cur.fates[i as usize], exception) {
        (_, Some(ExceptionCode::LowConfidence)) => DiffReason::BelowConfidence,
        (_, Some(ExceptionCode::UnknownSku | ExceptionCode::UnmappedProduct)) => moved,
        (_, Some(ExceptionCode::Unattributable)) => DiffReason::Unattributable,
        (Fate::Excluded, Some(_)) => DiffReason::Excluded,
        // Excluded without an exception: outside its kind's lookback.
        (Fate::Excluded, None) | (Fate::ClippedSession(_), _) => DiffReason::AgedOut,
        (Fate::Qualified(other), _) if other as usize != k => moved,
        // Qualified for this SKU yet in no unit of it: an assignment whose
        // latest state is not active.
        (Fate::Qualified(_), _) if s.kind == crate::input::signals::Kind::Assignment => DiffReason::Revoked,
        _ => DiffReason::Excluded,
    }
}

/// The diff of this run against `previous`: the snapshot's `diff` object
/// (counts by reason) and the pack's `diff.json` (unit lists).
pub(crate) fn diff(previous: &PreviousRun, cur: &Current) -> Result<(DiffSummary, Diff<SkuUnitChanges>)> {
    let prev_snap = previous.snapshot.doc();
    let ruleset_changed = prev_snap.ruleset.hash != cur.ruleset_hash.to_prefixed();
    let prev_records: BTreeMap<&str, &SkuRecord> = prev_snap.skus.iter().map(|r| (r.sku.as_str(), r)).collect();
    let (cur_views, prev_views) = changed_views(previous, cur, &prev_records)?;
    let reasons = Reasons::new(cur, ruleset_changed, &cur_views, &prev_views);

    // The day the previous run's entitlements were in force.
    let prev_day = Instant::parse(&prev_snap.reconciled_at).ok().map(Instant::date);
    let mut sku_diffs = Vec::new();
    let mut detail = Vec::new();
    let mut gaps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (k, (record, _)) in cur.skus.iter().enumerate() {
        let sku = record.sku.as_str();
        let prev_record = prev_records.get(sku).copied();
        let (added, removed) = match cur_views.get(sku) {
            Some(cur_units) => {
                let empty = Vec::new();
                let prev_units = prev_views.get(sku).unwrap_or(&empty);
                let concurrent = record.model == Model::Concurrent;
                let (prev_w, cur_w) = (consuming(prev_units, concurrent), consuming(cur_units, concurrent));
                let removed = reasons.removed(k, sku, (prev_units, &prev_w), (cur_units, &cur_w), &mut gaps);
                (reasons.added(sku, (prev_units, &prev_w), (cur_units, &cur_w)), removed)
            }
            None => (Vec::new(), Vec::new()),
        };
        let entitlement_changes = entitlement_changes(&previous.entitlements, cur, k, sku, prev_day);
        if let Some((summary, units)) = sku_entries(sku, record, prev_record, &added, &removed, &entitlement_changes)? {
            sku_diffs.push(summary);
            detail.push(units);
        }
    }
    let coverage_gaps: Vec<CoverageGap> = cur
        .coverage
        .iter()
        .filter(|(_, status)| **status != CoverageStatus::Ok)
        .map(|(source, status)| CoverageGap {
            source: source.clone(),
            status: *status,
            skus: gaps.get(source).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
        })
        .collect();
    fn head<S>(previous: &PreviousRun, ruleset_changed: bool, skus: Vec<S>, gaps: Vec<CoverageGap>) -> Diff<S> {
        Diff {
            previous_hash: previous.snapshot.hash().to_prefixed(),
            previous_sequence: previous.snapshot.sequence(),
            basis: DiffBasis::Units,
            ruleset_changed: Some(ruleset_changed),
            skus,
            coverage_gaps: Some(gaps),
        }
    }
    Ok((head(previous, ruleset_changed, sku_diffs, coverage_gaps.clone()), head(previous, ruleset_changed, detail, coverage_gaps)))
}

/// Units per SKU id, parsed.
type Views<'a> = BTreeMap<&'a str, Vec<UnitView>>;

/// The current units of the SKUs whose units changed (same root = same
/// units), and the previous units of every SKU, parsed once (for
/// merged_identity / ruleset_changed) — read only when some SKU's units
/// changed (a unit may have come from, or gone to, any other SKU).
fn changed_views<'a>(
    previous: &'a PreviousRun,
    cur: &Current<'a>,
    prev_records: &BTreeMap<&str, &SkuRecord>,
) -> Result<(Views<'a>, Views<'a>)> {
    let mut cur_views: Views<'a> = BTreeMap::new();
    for (record, units) in &cur.skus {
        let sku = record.sku.as_str();
        let same = prev_records.get(sku).map(|r| r.units_root.as_str()) == Some(record.units_root.as_str());
        if !same {
            cur_views.insert(sku, units.iter().map(view).collect::<Result<_>>()?);
        }
    }
    let mut prev_views: Views<'a> = BTreeMap::new();
    if !cur_views.is_empty() || previous.units.keys().any(|k| !cur.skus.iter().any(|(r, _)| r.sku == *k)) {
        for (sku, leaves) in &previous.units {
            let mut views = Vec::with_capacity(leaves.len());
            leaves.for_each(|l| {
                views.push(view(l)?);
                Ok(())
            })?;
            prev_views.insert(sku.as_str(), views);
        }
    }
    Ok((cur_views, prev_views))
}

/// A (source, raw_id) pair.
type SignalKey<'a> = (&'a str, &'a str);

/// Units and their consuming weights, by key.
type Weighed<'u> = (&'u [UnitView], &'u BTreeMap<String, i64>);

/// What the reasons of unit changes are read from.
struct Reasons<'a, 'c> {
    cur: &'a Current<'c>,
    ruleset_changed: bool,
    /// Previous signal → (SKU, unit key).
    prev_home: HashMap<SignalKey<'a>, Vec<SignalKey<'a>>>,
    /// The current rows that previous units of changed SKUs rest on.
    wanted: HashMap<SignalKey<'a>, Option<u32>>,
    /// Exception code per (source, raw_id), the first one (needs_review is
    /// not an exclusion).
    exception_of: HashMap<SignalKey<'a>, &'static str>,
}

impl<'a, 'c> Reasons<'a, 'c> {
    fn new(cur: &'a Current<'c>, ruleset_changed: bool, cur_views: &Views<'a>, prev_views: &'a Views<'a>) -> Self {
        let mut prev_home: HashMap<SignalKey<'a>, Vec<SignalKey<'a>>> = HashMap::default();
        for (sku, views) in prev_views {
            for u in views {
                for (s, r) in &u.signals {
                    prev_home.entry((s.as_str(), r.as_str())).or_default().push((sku, u.key.as_str()));
                }
            }
        }
        let mut wanted: HashMap<SignalKey<'a>, Option<u32>> = HashMap::default();
        for sku in cur_views.keys() {
            for u in prev_views.get(sku).map(Vec::as_slice).unwrap_or(&[]) {
                for (s, r) in &u.signals {
                    wanted.insert((s.as_str(), r.as_str()), None);
                }
            }
        }
        if !wanted.is_empty() {
            for &i in cur.unique {
                let s = &cur.store.rows[i as usize];
                if let Some(slot) = wanted.get_mut(&(cur.store.source_of(s), cur.store.raw_id_of(s))) {
                    *slot = Some(i);
                }
            }
        }
        let mut exception_of: HashMap<SignalKey<'a>, &'static str> = HashMap::default();
        for e in cur.exceptions.iter().filter(|e| e.code != ExceptionCode::NeedsReview.name()) {
            exception_of.entry((e.source.as_str(), e.raw_id.as_str())).or_insert(e.code);
        }
        Reasons { cur, ruleset_changed, prev_home, wanted, exception_of }
    }

    /// The previous units of SKU `k` that no longer consume as they did, each
    /// with its reason; units gone for a missing source are noted in `gaps`.
    fn removed(
        &self,
        k: usize,
        sku: &str,
        (prev_units, prev_w): Weighed<'_>,
        (cur_units, cur_w): Weighed<'_>,
        gaps: &mut BTreeMap<String, BTreeSet<String>>,
    ) -> Vec<Change> {
        let cur_keys: BTreeSet<&str> = cur_units.iter().map(|u| u.key.as_str()).collect();
        // Current signal → current unit key, for merged_identity.
        let cur_home: HashMap<(&str, &str), &str> =
            cur_units.iter().flat_map(|u| u.signals.iter().map(move |(s, r)| ((s.as_str(), r.as_str()), u.key.as_str()))).collect();
        let mut removed = Vec::new();
        for u in prev_units {
            let Some(&w) = prev_w.get(&u.key) else { continue };
            if cur_w.get(&u.key) == Some(&w) {
                continue;
            }
            let reason = if cur_keys.contains(u.key.as_str()) {
                DiffReason::PeakMoved
            } else {
                let mut reasons: Vec<DiffReason> = u
                    .signals
                    .iter()
                    .map(|(s, r)| {
                        if cur_home.get(&(s.as_str(), r.as_str())).is_some_and(|key| *key != u.key) {
                            DiffReason::MergedIdentity
                        } else {
                            signal_reason(
                                self.cur,
                                &self.exception_of,
                                self.wanted.get(&(s.as_str(), r.as_str())).copied().flatten(),
                                s,
                                k,
                                self.ruleset_changed,
                            )
                        }
                    })
                    .collect();
                // The principal's latest assignment is a revocation (often a
                // record of its own, e.g. an audit event): that is why.
                if self.cur.not_active.get(&k).is_some_and(|keys| keys.contains(&u.key)) {
                    reasons.push(DiffReason::Revoked);
                }
                // When a unit's signals disagree, the most specific reason
                // wins: the vocabulary's declaration order is the precedence.
                reasons.iter().copied().min().unwrap_or(DiffReason::NotReported)
            };
            if reason == DiffReason::SourceMissing {
                for (s, _) in &u.signals {
                    gaps.entry(s.clone()).or_default().insert(sku.to_string());
                }
            }
            removed.push(Change { key: u.key.clone(), reason, weight: w, sources: sources_of(u) });
        }
        removed
    }

    /// The current units of `sku` that consume what they did not, each with
    /// its reason.
    fn added(&self, sku: &str, (prev_units, prev_w): Weighed<'_>, (cur_units, cur_w): Weighed<'_>) -> Vec<Change> {
        let prev_keys: BTreeSet<&str> = prev_units.iter().map(|u| u.key.as_str()).collect();
        let mut added = Vec::new();
        for u in cur_units {
            let Some(&w) = cur_w.get(&u.key) else { continue };
            if prev_w.get(&u.key) == Some(&w) {
                continue;
            }
            let homes: Vec<(&str, &str)> =
                u.signals.iter().flat_map(|(s, r)| self.prev_home.get(&(s.as_str(), r.as_str())).cloned().unwrap_or_default()).collect();
            let reason = if prev_keys.contains(u.key.as_str()) {
                DiffReason::PeakMoved
            } else if homes.iter().any(|(hs, hk)| *hs == sku && *hk != u.key) {
                DiffReason::MergedIdentity
            } else if homes.iter().any(|(hs, _)| *hs != sku) {
                if self.ruleset_changed {
                    DiffReason::RulesetChanged
                } else {
                    DiffReason::Remapped
                }
            } else {
                DiffReason::NewSignal
            };
            added.push(Change { key: u.key.clone(), reason, weight: w, sources: sources_of(u) });
        }
        added
    }
}

/// One SKU's entries, (the snapshot's counts by reason, the pack's unit
/// lists), or `None` when nothing of it changed. Checks the identity the diff
/// promises (previous consumed + added − removed = consumed): a mismatch is a
/// defect, not a result.
fn sku_entries(
    sku: &str,
    record: &SkuRecord,
    prev_record: Option<&SkuRecord>,
    added: &[Change],
    removed: &[Change],
    entitlement_changes: &[(String, DiffReason, i64)],
) -> Result<Option<(SkuChange, SkuUnitChanges)>> {
    let delta = counter_delta(Some(record), prev_record);
    let changed = !delta.is_zero() || !added.is_empty() || !removed.is_empty() || !entitlement_changes.is_empty();
    if !changed {
        return Ok(None);
    }
    let total = |l: &[Change]| l.iter().fold(0i64, |a, c| a.saturating_add(c.weight));
    let (sum_added, sum_removed) = (total(added), total(removed));
    let prev_consumed = prev_record.map_or(0, |r| r.consumed);
    if prev_consumed.saturating_add(sum_added).saturating_sub(sum_removed) != record.consumed {
        return Err(Error::new(ErrorCode::Internal, format!("diff of `{sku}` does not add up to its consumed count")));
    }
    let by_reason = |list: &[Change]| -> BTreeMap<DiffReason, i64> {
        let mut m = BTreeMap::new();
        for c in list {
            let n = m.entry(c.reason).or_insert(0i64);
            *n = n.saturating_add(c.weight);
        }
        m
    };
    let mut ent_by_reason: BTreeMap<DiffReason, i64> = BTreeMap::new();
    for (_, reason, qty) in entitlement_changes {
        let n = ent_by_reason.entry(*reason).or_insert(0);
        *n = n.saturating_add(*qty);
    }
    let summary = SkuChange {
        sku: sku.to_string(),
        delta,
        model: Some(record.model),
        consumed: Some(BeforeAfter { previous: prev_consumed, current: record.consumed }),
        entitled: Some(BeforeAfter { previous: prev_record.map_or(0, |r| r.entitled), current: record.entitled }),
        added: Some(by_reason(added)),
        removed: Some(by_reason(removed)),
        entitlements: Some(ent_by_reason),
    };
    let list = |l: &[Change]| -> Vec<UnitChange> {
        l.iter().map(|c| UnitChange { key: c.key.clone(), reason: c.reason, weight: c.weight, sources: c.sources.clone() }).collect()
    };
    let units = SkuUnitChanges {
        sku: sku.to_string(),
        model: record.model,
        added: list(added),
        removed: list(removed),
        entitlements: entitlement_changes
            .iter()
            .map(|(id, reason, qty)| EntitlementChange { entitlement_id: id.clone(), reason: *reason, quantity: *qty })
            .collect(),
    };
    Ok(Some((summary, units)))
}

/// current − previous of the five counters (a missing record counts 0).
fn counter_delta(cur: Option<&SkuRecord>, prev: Option<&SkuRecord>) -> CounterDelta {
    let d = |f: fn(&SkuRecord) -> i64| cur.map_or(0, f).saturating_sub(prev.map_or(0, f));
    CounterDelta {
        entitled: d(|r| r.entitled),
        reserved: d(|r| r.reserved),
        consumed: d(|r| r.consumed),
        remaining: d(|r| r.remaining),
        available: d(|r| r.available),
    }
}

/// Entitlement changes of SKU `k` between the previous run's entitlements (in
/// force on its day) and this run's (in force on `as_of`), by entitlement id.
fn entitlement_changes(
    previous: &Value,
    cur: &Current,
    k: usize,
    sku: &str,
    prev_day: Option<crate::canon::time::Date>,
) -> Vec<(String, DiffReason, i64)> {
    let mut before: BTreeMap<String, i64> = BTreeMap::new();
    for e in previous.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        if e["sku"].as_str() != Some(sku) {
            continue;
        }
        let day = |f: &str| e[f].as_str().and_then(crate::canon::time::Date::parse);
        let in_force = match prev_day {
            Some(d) => day("starts_on").is_some_and(|s| s <= d) && (e["ends_on"].is_null() || day("ends_on").is_some_and(|x| d <= x)),
            None => false,
        };
        if in_force {
            let n = before.entry(e["entitlement_id"].as_str().unwrap_or_default().to_string()).or_insert(0i64);
            *n = n.saturating_add(e["quantity"].as_i64().unwrap_or(0));
        }
    }
    let today = cur.as_of.date();
    let mut after: BTreeMap<String, i64> = BTreeMap::new();
    for e in cur.master.entitlements.iter().filter(|e| e.sku == k && e.active_on(today)) {
        let n = after.entry(e.id.clone()).or_insert(0i64);
        *n = n.saturating_add(e.quantity);
    }
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        match (before.get(id), after.get(id)) {
            (None, Some(&q)) if q != 0 => out.push((id.clone(), DiffReason::EntitlementStarted, q)),
            (Some(&q), None) if q != 0 => out.push((id.clone(), DiffReason::EntitlementEnded, q.saturating_neg())),
            (Some(&a), Some(&b)) if a != b => out.push((id.clone(), DiffReason::QuantityChanged, b.saturating_sub(a))),
            _ => {}
        }
    }
    out
}

/// The diff against a previous *snapshot* alone (no units at hand): counter
/// deltas per SKU, no reasons (`basis: counters`).
pub(crate) fn counters_only(previous: &Snapshot, records: &[SkuRecord]) -> DiffSummary {
    let prev: BTreeMap<&str, &SkuRecord> = previous.doc().skus.iter().map(|r| (r.sku.as_str(), r)).collect();
    let cur: BTreeMap<&str, &SkuRecord> = records.iter().map(|r| (r.sku.as_str(), r)).collect();
    let ids: BTreeSet<&str> = prev.keys().chain(cur.keys()).copied().collect();
    let mut skus = Vec::new();
    for id in ids {
        let delta = counter_delta(cur.get(id).copied(), prev.get(id).copied());
        if !delta.is_zero() {
            skus.push(SkuChange {
                sku: id.to_string(),
                delta,
                model: None,
                consumed: None,
                entitled: None,
                added: None,
                removed: None,
                entitlements: None,
            });
        }
    }
    Diff {
        previous_hash: previous.hash().to_prefixed(),
        previous_sequence: previous.sequence(),
        basis: DiffBasis::Counters,
        ruleset_changed: None,
        skus,
        coverage_gaps: None,
    }
}

/// A snapshot and, when `bytes` is an evidence pack, the pack's `diff.json`
/// (the unit lists). For callers that hold either form of a past run.
pub fn open_run(bytes: &[u8]) -> Result<(Snapshot, Option<DiffDetail>)> {
    if !crate::canon::zst::looks_like_pack(bytes) {
        return Ok((Snapshot::parse_verified(bytes)?, None));
    }
    let archive = crate::canon::zst::archive(bytes).map_err(|e| Error::new(ErrorCode::InvalidInput, format!("evidence pack: {e}")))?;
    let files = crate::document::manifest::open_members(&archive)
        .map_err(|e| Error::new(ErrorCode::InvalidInput, format!("evidence pack: {e}")))?;
    let get = |name: &str| files.get(name).copied();
    let snapshot = get("snapshot.json").ok_or_else(|| Error::new(ErrorCode::InvalidInput, "the evidence pack has no snapshot.json"))?;
    let snapshot = Snapshot::parse_verified(snapshot)?;
    let detail = match get("diff.json") {
        Some(d) => {
            serde_json::from_slice::<Option<DiffDetail>>(d).map_err(|e| Error::new(ErrorCode::InvalidInput, format!("diff.json: {e}")))?
        }
        None => None,
    };
    Ok((snapshot, detail))
}

/// Two runs compared must be of one organization: else an `invalid_input`
/// error naming the field `organization_id`.
///
/// ```
/// use eucora_license_core::{same_organization, Snapshot, SnapshotDoc};
/// let snap = |org: &str| Snapshot::seal(SnapshotDoc { organization_id: org.into(), ..SnapshotDoc::default() }).unwrap();
/// assert!(same_organization(&snap("a"), &snap("a")).is_ok());
/// let e = same_organization(&snap("a"), &snap("b")).unwrap_err();
/// assert_eq!(e.location().unwrap().field.as_deref(), Some("organization_id"));
/// ```
pub fn same_organization(previous: &Snapshot, current: &Snapshot) -> Result<()> {
    if previous.organization_id() == current.organization_id() {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::InvalidInput,
        format!(
            "the runs are of two organizations (`{}`, `{}`): only runs of one organization compare",
            previous.organization_id(),
            current.organization_id()
        ),
    )
    .at(crate::error::Location::file("current run").with_field("organization_id")))
}

/// `between`, for runs a host was handed: refuses two organizations'
/// runs ([`same_organization`]). The CLI's `diff` and the bindings call this.
pub fn between_checked(previous: &Snapshot, current: &Snapshot) -> Result<DiffSummary> {
    same_organization(previous, current)?;
    Ok(between(previous, current))
}

/// The diff from `previous` to `current`: the one `current` carries when it
/// directly follows `previous` (unit-level when it was chained to a pack),
/// else counter deltas between the two (`basis: counters`). Does not check
/// that both are of one organization: see [`between_checked`].
pub(crate) fn between(previous: &Snapshot, current: &Snapshot) -> DiffSummary {
    let cur = current.doc();
    if cur.previous_hash.as_deref() == Some(previous.hash().to_prefixed().as_str()) {
        if let Some(d) = &cur.diff {
            return d.clone();
        }
    }
    counters_only(previous, &cur.skus)
}

/// The diff from `previous` to `current` ([`between_checked`]) and, when
/// `current` directly follows `previous` on a unit basis and `detail` (the
/// current pack's `diff.json`) is of that same link, its unit lists. What
/// the CLI's `diff --json` and every binding's `diff` return.
pub fn with_units(
    previous: &Snapshot,
    current: &Snapshot,
    detail: Option<DiffDetail>,
) -> Result<(DiffSummary, Option<Diff<SkuUnitChanges>>)> {
    let summary = between_checked(previous, current)?;
    let consecutive = summary.previous_hash == previous.hash().to_prefixed() && summary.basis == DiffBasis::Units;
    let units = match detail {
        Some(DiffDetail::Units(d)) if consecutive && d.previous_hash == summary.previous_hash => Some(d),
        _ => None,
    };
    Ok((summary, units))
}

#[cfg(test)]
mod held_units_tests {
    use super::*;

    /// Units read in any chunking, with SKUs interleaved and runs longer
    /// than a compressed chunk, come back per SKU in their order.
    #[test]
    fn units_are_held_compressed_and_read_back_in_order() {
        let mut text = Vec::new();
        let mut want: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for i in 0..40_000u32 {
            let sku = ["a", "b", "c\\u00e9"][if i < 20_000 { (i / 7 % 3) as usize } else { 1 }];
            let unit = format!("{{\"key\":\"k{i}\",\"pad\":\"{}\"}}", "x".repeat((i % 600) as usize));
            text.extend_from_slice(format!("{{\"sku\":\"{sku}\",\"unit\":{unit}}}\n").as_bytes());
            let sku: String = serde_json::from_str(&format!("\"{sku}\"")).unwrap();
            want.entry(sku).or_default().push(unit.into_bytes());
        }
        // The last run, of one SKU, is longer than a compressed chunk.
        assert!(text.len() / 2 > UNITS_CHUNK);
        for step in [1000, 1 << 20] {
            let mut c = UnitsCollector::default();
            text.chunks(step).for_each(|ch| c.feed(ch));
            let got = c.finish().unwrap();
            let mut back: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
            for (sku, units) in &got {
                units
                    .for_each(|l| {
                        back.entry(sku.clone()).or_default().push(l.to_vec());
                        Ok(())
                    })
                    .unwrap();
                assert_eq!(units.len(), want[sku].len());
            }
            assert_eq!(back, want);
        }
        let mut c = UnitsCollector::default();
        c.feed(b"{\"sku\":\"a\",\"unit\":{}}\nnot json\n");
        assert!(c.finish().unwrap_err().starts_with("line 2:"));
    }
}
