//! Units per license model (DESIGN A4): the principals a SKU counts, each
//! with the signals it rests on, as canonical JSON (its Merkle leaf).

use super::concurrent::Session;
use super::identity::{DeviceId, Identity};
use super::qualify::Fate;
use super::ExceptionRecord;
use crate::canon::hash::Digest32;
use crate::canon::time::Instant;
use crate::input::catalog::{MasterData, Model};
use crate::input::intern::NONE;
use crate::input::ruleset::Ruleset;
use crate::input::signals::{Kind, SignalStore, Status};
use crate::vocab::{DeviceKeyPrefix, ExceptionCode};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cmp::Ordering;

/// One consumption unit of a SKU, ready for hashing.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// The unit's key: device key, user key, or the merged session interval.
    pub key: String,
    /// Canonical JSON bytes of the unit (its Merkle leaf).
    pub canonical: Vec<u8>,
}

/// A SKU's units packed in one buffer, in key order: each unit's canonical
/// JSON bytes (its Merkle leaf), back to back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitList {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl UnitList {
    /// The list of `units` (already in key order) and its `units_root`.
    pub(crate) fn from_sorted(units: Vec<Unit>) -> (UnitList, Digest32) {
        let total = units.iter().map(|u| u.canonical.len()).sum();
        let mut b = UnitListBuilder::with_capacity(units.len(), total);
        for u in units {
            b.bytes().extend_from_slice(&u.canonical);
            b.end_unit();
        }
        b.finish()
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no unit.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Unit `i`'s canonical JSON bytes.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.bytes[start..end])
    }

    /// The units' canonical JSON bytes, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// RFC 9162 root over the units (`units_root`).
    pub fn root(&self) -> crate::canon::hash::Digest32 {
        crate::canon::merkle::root_of_leaves(self.iter().map(crate::canon::merkle::leaf_hash).collect())
    }
}

/// Builds a [`UnitList`] unit by unit, rendering each unit straight into the
/// list's buffer and hashing its Merkle leaf while the bytes are still in
/// cache: no per-unit allocation, and `units_root` comes with the list.
pub(crate) struct UnitListBuilder {
    list: UnitList,
    leaves: Vec<Digest32>,
}

impl UnitListBuilder {
    /// A builder for about `units` units of `bytes` bytes in all.
    pub(crate) fn with_capacity(units: usize, bytes: usize) -> UnitListBuilder {
        UnitListBuilder {
            list: UnitList { bytes: Vec::with_capacity(bytes), ends: Vec::with_capacity(units) },
            leaves: Vec::with_capacity(units),
        }
    }

    /// The buffer the next unit is appended to.
    pub(crate) fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.list.bytes
    }

    /// Close the unit appended since the last call: record its end, hash its leaf.
    pub(crate) fn end_unit(&mut self) {
        let start = self.list.ends.last().copied().unwrap_or(0);
        self.leaves.push(crate::canon::merkle::leaf_hash(&self.list.bytes[start..]));
        self.list.ends.push(self.list.bytes.len());
    }

    /// The list (its buffer trimmed to size) and its RFC 9162 root.
    pub(crate) fn finish(mut self) -> (UnitList, Digest32) {
        self.list.bytes.shrink_to_fit();
        self.list.ends.shrink_to_fit();
        (self.list, crate::canon::merkle::root_of_leaves(self.leaves))
    }
}

impl<'a> IntoIterator for &'a UnitList {
    type Item = &'a [u8];
    type IntoIter = Box<dyn Iterator<Item = &'a [u8]> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A signal reference of a unit: (source, raw id).
pub(crate) type SignalRef<'a> = (&'a str, &'a str);

/// The units under formation, before rendering.
pub(crate) struct Formed {
    /// Every counted (SKU, principal, signal) of the non-concurrent models,
    /// sorted: a SKU's units are one contiguous run, and each unit (one
    /// principal) a run within it, listing the signals it rests on. One flat
    /// vector instead of a vector of signals per unit (millions of small
    /// allocations at scale).
    pub(crate) contributions: Vec<(u32, u32, u32)>,
    /// Session intervals per concurrent SKU.
    pub(crate) sessions: FxHashMap<u32, Vec<Session>>,
    /// (SKU, principal) whose latest assignment is not active.
    pub(crate) not_active: Vec<(u32, u32)>,
}

impl Formed {
    /// The range of `contributions` that holds SKU `k`'s units.
    pub(crate) fn range_of(&self, k: u32) -> std::ops::Range<usize> {
        let c = &self.contributions;
        c.partition_point(|x| x.0 < k)..c.partition_point(|x| x.0 <= k)
    }
}

pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a SignalStore,
    pub(crate) md: &'a MasterData,
    pub(crate) rs: &'a Ruleset,
    pub(crate) as_of: Instant,
    pub(crate) identity: &'a Identity,
    pub(crate) devices: &'a [DeviceId],
    pub(crate) device_user: &'a FxHashMap<DeviceId, u32>,
    pub(crate) unique: &'a [u32],
    pub(crate) fates: &'a [Fate],
}

impl<'a> Ctx<'a> {
    /// Order of assignments: latest last by (observed_at, source, raw_id), bytes.
    pub(crate) fn assignment_order(&self, a: u32, b: u32) -> Ordering {
        let (x, y) = (&self.store.rows[a as usize], &self.store.rows[b as usize]);
        x.observed_at
            .cmp(&y.observed_at)
            .then_with(|| self.store.source_of(x).cmp(self.store.source_of(y)))
            .then_with(|| self.store.raw_id_of(x).cmp(self.store.raw_id_of(y)))
    }

    pub(crate) fn exception(&self, ex: &mut Vec<ExceptionRecord>, code: ExceptionCode, i: u32, detail: String) {
        let s = &self.store.rows[i as usize];
        ex.push(ExceptionRecord {
            code: code.name(),
            source: self.store.source_of(s).to_string(),
            raw_id: self.store.raw_id_of(s).to_string(),
            detail,
        });
    }

    /// The user a user-model signal counts for: its own (resolved), else its
    /// device's user.
    pub(crate) fn user_of(&self, i: u32) -> u32 {
        let s = &self.store.rows[i as usize];
        if s.user != NONE {
            return self.identity.user_resolved[s.user as usize];
        }
        let d = self.devices[i as usize];
        if d == NONE {
            return NONE;
        }
        self.device_user.get(&d).copied().unwrap_or(NONE)
    }

    pub(crate) fn form_units(&self, ex: &mut Vec<ExceptionRecord>) -> Formed {
        // (sku, principal, signal) for usage/installation contributions.
        let mut direct: Vec<(u32, u32, u32)> = Vec::new();
        let mut assignments: Vec<(u32, u32, u32)> = Vec::new();
        let mut sessions: FxHashMap<u32, Vec<Session>> = FxHashMap::default();
        for &i in self.unique {
            let (k, clipped) = match self.fates[i as usize] {
                Fate::Qualified(k) => (k, false),
                Fate::ClippedSession(k) => (k, true),
                Fate::Excluded => continue,
            };
            let s = &self.store.rows[i as usize];
            let model = self.md.skus[k as usize].model;
            if clipped && model != Model::Concurrent {
                continue;
            }
            let counts = match (model, s.kind) {
                (Model::Concurrent, Kind::Session) => {
                    let Some(d) = s.session_data(self.store) else { continue };
                    let (start, end) = (d.start, d.end.unwrap_or(self.as_of));
                    let user = if s.user != NONE { self.identity.user_resolved[s.user as usize] } else { NONE };
                    sessions.entry(k).or_default().push(Session {
                        user,
                        host: self.devices[i as usize],
                        start,
                        end,
                        quantity: d.quantity,
                        signals: vec![i],
                    });
                    continue;
                }
                (Model::Device | Model::User, Kind::Installation | Kind::Usage) => false,
                (_, Kind::Assignment) if model != Model::Concurrent => true,
                _ => continue,
            };
            let principal = match model {
                Model::Device => self.devices[i as usize],
                _ => self.user_of(i),
            };
            if principal == NONE {
                let what = if model == Model::Device { "device" } else { "user" };
                self.exception(ex, ExceptionCode::Unattributable, i, format!("no {what} could be determined for a {} SKU", model.name()));
                continue;
            }
            if counts {
                assignments.push((k, principal, i));
            } else {
                direct.push((k, principal, i));
            }
        }
        // Latest assignment per (sku, principal).
        assignments.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| self.assignment_order(a.2, b.2)));
        let mut active_latest: FxHashSet<(u32, u32)> = FxHashSet::default();
        let mut latest_active: Vec<(u32, u32, u32)> = Vec::new();
        let mut not_active = Vec::new();
        for group in assignments.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let last = group[group.len() - 1];
            if self.store.rows[last.2 as usize].status == Status::Active {
                active_latest.insert((last.0, last.1));
                latest_active.push(last);
            } else {
                not_active.push((last.0, last.1));
            }
        }
        // Feature SKUs: a user without an active base assignment is flagged, still counted.
        for &(k, u, i) in &latest_active {
            let sku = &self.md.skus[k as usize];
            if let (Model::Feature, Some(base)) = (sku.model, sku.base) {
                if !active_latest.contains(&(base as u32, u)) {
                    self.exception(
                        ex,
                        ExceptionCode::FeatureWithoutBase,
                        i,
                        format!(
                            "user `{}` has `{}` but no active `{}` assignment",
                            self.store.users.resolve(u),
                            sku.id,
                            self.md.skus[base].id
                        ),
                    );
                }
            }
        }
        let mut contributions = direct;
        contributions.extend(latest_active);
        contributions.sort_unstable();
        contributions.shrink_to_fit();
        Formed { contributions, sessions, not_active }
    }

    /// `[{"raw_id","source"}, ...]` of `signals`, sorted by (source,
    /// raw_id) in byte order, duplicates once. `scratch` is reused across
    /// units (no allocation per unit).
    pub(crate) fn signal_refs(&self, out: &mut Vec<u8>, refs: impl Iterator<Item = SignalRef<'a>>, scratch: &mut Vec<SignalRef<'a>>) {
        scratch.clear();
        scratch.extend(refs);
        scratch.sort_unstable();
        scratch.dedup();
        out.push(b'[');
        for (n, (src, raw)) in scratch.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"raw_id\":");
            crate::canon::canonical::write_str(out, raw);
            out.extend_from_slice(b",\"source\":");
            crate::canon::canonical::write_str(out, src);
            out.push(b'}');
        }
        out.push(b']');
    }

    /// (source, raw id) of signal `i`: random reads into the rows and the
    /// raw-id arena, which callers gather in a tight loop (many cache misses
    /// in flight at once) before rendering.
    pub(crate) fn signal_ref(&self, i: u32) -> SignalRef<'a> {
        let store: &'a SignalStore = self.store;
        let s = &store.rows[i as usize];
        (store.source_of(s), store.raw_id_of(s))
    }

    /// The sort key of a principal's unit key, without building the key:
    /// for a device (its prefix's rank in byte order, its value) — `id:` <
    /// `name:` < `serial:` differ in their first byte, so this orders as the
    /// key text does; for a user (0, the key).
    pub(crate) fn principal_sort_key(&self, model: Model, principal: u32) -> (u8, &'a str) {
        let store: &'a SignalStore = self.store;
        if model == Model::Device {
            let (prefix, text) = self.identity.device_key_parts(store, principal);
            let rank = match prefix {
                DeviceKeyPrefix::Id => 0,
                DeviceKeyPrefix::Name => 1,
                DeviceKeyPrefix::Serial => 2,
            };
            (rank, text)
        } else {
            (0, store.users.resolve(principal))
        }
    }

    /// Render the canonical unit `{"key","pool","principal_type","signals"}`
    /// (keys in JCS order) of `principal`, resting on the signals `refs`,
    /// into `out`.
    pub(crate) fn write_principal_unit(
        &self,
        out: &mut Vec<u8>,
        model: Model,
        principal: u32,
        refs: &[SignalRef<'a>],
        pool: Option<&str>,
        scratch: &mut Vec<SignalRef<'a>>,
    ) {
        out.extend_from_slice(b"{\"key\":");
        if model == Model::Device {
            let (prefix, text) = self.identity.device_key_parts(self.store, principal);
            crate::canon::canonical::write_str_prefixed(out, prefix.prefix(), text);
        } else {
            crate::canon::canonical::write_str(out, self.store.users.resolve(principal));
        }
        out.extend_from_slice(b",\"pool\":");
        match pool {
            None | Some("") => out.extend_from_slice(b"null"),
            Some(p) => crate::canon::canonical::write_str(out, p),
        }
        out.extend_from_slice(b",\"principal_type\":");
        out.extend_from_slice(if model == Model::Device { b"\"device\"" } else { b"\"user\"" });
        out.extend_from_slice(b",\"signals\":");
        self.signal_refs(out, refs.iter().copied(), scratch);
        out.push(b'}');
    }

    /// Canonical merged session `{"end","host","key","quantity","signals","start","user"}`.
    pub(crate) fn session_unit(&self, s: Session, scratch: &mut Vec<SignalRef<'a>>) -> Unit {
        use std::fmt::Write as _;
        let store: &'a SignalStore = self.store;
        let user: Option<&str> = (s.user != NONE).then(|| store.users.resolve(s.user));
        let host = (s.host != NONE).then(|| self.identity.device_key_parts(store, s.host));
        // `start|user|host`, the instant written once and reused below.
        let mut key = String::with_capacity(64);
        let _ = write!(key, "{}", s.start);
        let start_len = key.len();
        key.push('|');
        key.push_str(user.unwrap_or(""));
        key.push('|');
        if let Some((prefix, text)) = host {
            key.push_str(prefix.prefix());
            key.push_str(text);
        }
        let mut out = Vec::with_capacity(160);
        // Instants are digits, `-`, `:`, `.`, `T` and `Z`: nothing to escape.
        let _ = std::io::Write::write_fmt(&mut out, format_args!("{{\"end\":\"{}\",\"host\":", s.end));
        match host {
            Some((prefix, text)) => crate::canon::canonical::write_str_prefixed(&mut out, prefix.prefix(), text),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"key\":");
        crate::canon::canonical::write_str(&mut out, &key);
        let _ = std::io::Write::write_fmt(&mut out, format_args!(",\"quantity\":{},\"signals\":", s.quantity));
        self.signal_refs(&mut out, s.signals.iter().map(|&i| self.signal_ref(i)), scratch);
        out.extend_from_slice(b",\"start\":");
        crate::canon::canonical::write_str(&mut out, &key[..start_len]);
        out.extend_from_slice(b",\"user\":");
        match user {
            Some(u) => crate::canon::canonical::write_str(&mut out, u),
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        Unit { key, canonical: out }
    }
}
