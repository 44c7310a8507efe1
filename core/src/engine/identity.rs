//! Identity resolution (DESIGN A3, A9, A10).
//!
//! Sources name the same laptop by serial, by directory device id and by
//! hostname, and the same person by UPN, e-mail and `DOMAIN\\name`. This
//! module turns those hints, already normalised as the signals were read
//! ([`crate::input::normalize`]), into one canonical key per device and per
//! user, so a device seen by Intune, SCCM and Jamf counts once.
//!
//! Devices: serials and device ids are *strong* hints; strong hints on one
//! signal, and directory aliases, are merged with a union-find. A hostname
//! never merges two strong devices; a signal known only by hostname joins the
//! one strong device that carries that hostname elsewhere (hostname
//! fallback), or stands alone. The canonical key of a device is the
//! byte-smallest of its strong hints (`id:V` before `serial:V`), or `name:V`.

use super::qualify::Fate;
use super::ExceptionRecord;
use crate::input::catalog::MasterData;
use crate::input::intern::NONE;
pub(crate) use crate::input::normalize::{normalize_device_id, normalize_hostname, normalize_serial, normalize_user};
use crate::input::ruleset::Ruleset;
use crate::input::signals::{Signal, SignalStore};
use crate::vocab::{DeviceKeyPrefix, ExceptionCode};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Union-find over dense ids. Components do not depend on the order of
/// unions; representatives do, so callers derive keys from members' strings.
#[derive(Debug, Clone)]
pub(crate) struct UnionFind {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub(crate) fn new(n: usize) -> Self {
        UnionFind { parent: (0..n as u32).collect(), rank: vec![0; n] }
    }

    /// Representative of `x`'s set.
    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        let mut root = x;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        while self.parent[x as usize] != root {
            let next = self.parent[x as usize];
            self.parent[x as usize] = root;
            x = next;
        }
        root
    }

    /// Merge the sets of `a` and `b`.
    pub(crate) fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (ka, kb) = (self.rank[ra as usize], self.rank[rb as usize]);
        if ka < kb {
            self.parent[ra as usize] = rb;
        } else if ka > kb {
            self.parent[rb as usize] = ra;
        } else {
            self.parent[rb as usize] = ra;
            self.rank[ra as usize] += 1;
        }
    }
}

/// A device as resolved: the root of its component in the identity
/// union-find (serials, device ids and hostnames are its nodes).
pub(crate) type DeviceId = u32;

pub(crate) struct Identity {
    /// Node layout: serials `[0, n_serial)`, device ids `[n_serial, names)`,
    /// hostnames `[names, ..)`.
    pub(crate) n_serial: u32,
    pub(crate) names: u32,
    pub(crate) uf: UnionFind,
    /// Per node, when it is a root: the node naming the device — its
    /// byte-smallest strong hint (`id:` before `serial:`), else its smallest
    /// hostname; NONE for other nodes. A dense vector, not a map: it is read
    /// once per rendered unit.
    pub(crate) root_name: Vec<u32>,
    /// Resolved user id per interned user id (one alias step).
    pub(crate) user_resolved: Vec<u32>,
}

impl Identity {
    /// (class, text) of a node: class 0 device id, 1 serial, 2 hostname, so
    /// that tuple order is the canonical-key order.
    pub(crate) fn rank<'s>(&self, store: &'s SignalStore, node: u32) -> (u8, &'s str) {
        if node < self.n_serial {
            (1, store.serials.resolve(node))
        } else if node < self.names {
            (0, store.device_ids.resolve(node - self.n_serial))
        } else {
            (2, store.hostnames.resolve(node - self.names))
        }
    }

    /// The canonical key of a device (`id:V`, `serial:V`, or `name:V`).
    pub(crate) fn device_key(&self, store: &SignalStore, d: DeviceId) -> String {
        let (prefix, text) = self.device_key_parts(store, d);
        prefix.key(text)
    }

    /// The canonical key of a device as (prefix, value), without building
    /// the string.
    pub(crate) fn device_key_parts<'s>(&self, store: &'s SignalStore, d: DeviceId) -> (DeviceKeyPrefix, &'s str) {
        let node = self.name_of(d).unwrap_or(d);
        let (class, text) = self.rank(store, node);
        ([DeviceKeyPrefix::Id, DeviceKeyPrefix::Serial, DeviceKeyPrefix::Name][class as usize], text)
    }

    /// The node naming device `d` (a root), if it is one.
    fn name_of(&self, d: DeviceId) -> Option<u32> {
        self.root_name.get(d as usize).copied().filter(|&n| n != NONE)
    }

    /// Whether a device has a strong hint.
    pub(crate) fn is_strong(&self, d: DeviceId) -> bool {
        self.name_of(d).is_some_and(|n| n < self.names)
    }

    pub(crate) fn node_of(&self, v: DirValue) -> Option<u32> {
        match v {
            DirValue::Serial(s) => Some(s),
            DirValue::DeviceId(d) => Some(self.n_serial + d),
            DirValue::Name(h) => Some(self.names + h),
            _ => None,
        }
    }
}

/// A directory value, typed and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirValue {
    Serial(u32),
    DeviceId(u32),
    Name(u32),
    User(u32),
    Absent,
}

/// Directory rows with their values interned into the signal tables.
pub(crate) struct DirectoryIds {
    pub(crate) rows: Vec<(DirValue, DirValue)>,
}

pub(crate) fn intern_directory(store: &mut SignalStore, md: &MasterData, rs: &Ruleset) -> DirectoryIds {
    let mut rows = Vec::with_capacity(md.directory.len());
    for r in &md.directory {
        let mut conv = |v: &str| -> DirValue {
            if v.is_empty() {
                return DirValue::Absent;
            }
            if !r.is_device {
                return normalize_user(v, rs.strip_netbios_domain).map_or(DirValue::Absent, |u| DirValue::User(store.users.intern(&u)));
            }
            if let Some(x) = v.strip_prefix(DeviceKeyPrefix::Serial.prefix()) {
                normalize_serial(x, &rs.serial_placeholders).map_or(DirValue::Absent, |x| DirValue::Serial(store.serials.intern(&x)))
            } else if let Some(x) = v.strip_prefix(DeviceKeyPrefix::Id.prefix()) {
                normalize_device_id(x).map_or(DirValue::Absent, |x| DirValue::DeviceId(store.device_ids.intern(&x)))
            } else if let Some(x) = v.strip_prefix(DeviceKeyPrefix::Name.prefix()) {
                normalize_hostname(x).map_or(DirValue::Absent, |x| DirValue::Name(store.hostnames.intern(&x)))
            } else {
                DirValue::Absent
            }
        };
        let c = conv(&r.canonical_id);
        let a = conv(&r.alias);
        rows.push((c, a));
    }
    DirectoryIds { rows }
}

/// The identity union-find: strong hints on one qualifying signal are one
/// device, and every directory device row is an alias of one device (names
/// included: a directory hostname alias binds that hostname to its device).
pub(crate) fn build_identity(
    store: &SignalStore,
    md: &MasterData,
    unique: &[u32],
    fates: &[Fate],
    dir: &DirectoryIds,
    exceptions: &mut Vec<ExceptionRecord>,
) -> Identity {
    let n_serial = store.serials.len() as u32;
    let names = n_serial + store.device_ids.len() as u32;
    let total = names + store.hostnames.len() as u32;
    let mut id = Identity { n_serial, names, uf: UnionFind::new(total as usize), root_name: Vec::new(), user_resolved: Vec::new() };
    for &i in unique {
        let s = &store.rows[i as usize];
        if matches!(fates[i as usize], Fate::Qualified(_)) && s.serial != NONE && s.device_id != NONE {
            id.uf.union(s.serial, n_serial + s.device_id);
        }
    }
    for &(c, a) in &dir.rows {
        if let (Some(x), Some(y)) = (id.node_of(c), id.node_of(a)) {
            id.uf.union(x, y);
        }
    }
    // The node naming each device: the byte-smallest strong hint (`id:` sorts
    // before `serial:`), else the smallest hostname.
    let mut best: Vec<u32> = vec![NONE; total as usize];
    for node in 0..total {
        let root = id.uf.find(node);
        let cur = best[root as usize];
        if cur == NONE || id.rank(store, node) < id.rank(store, cur) {
            best[root as usize] = node;
        }
    }
    id.root_name = best;

    // Users: one alias step; an alias under several canonical ids maps to the smallest.
    let mut alias_to: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (r, &(c, a)) in md.directory.iter().zip(&dir.rows) {
        if r.is_device {
            continue;
        }
        if let (DirValue::User(c), DirValue::User(a)) = (c, a) {
            alias_to.entry(a).or_default().push(c);
        }
    }
    id.user_resolved = (0..store.users.len() as u32).collect();
    for (alias, mut canon) in alias_to {
        canon.sort_by(|x, y| store.users.resolve(*x).cmp(store.users.resolve(*y)));
        canon.dedup();
        id.user_resolved[alias as usize] = canon[0];
        if canon.len() > 1 {
            exceptions.push(ExceptionRecord {
                code: ExceptionCode::ConflictingAlias.name(),
                source: "directory".to_string(),
                raw_id: store.users.resolve(alias).to_string(),
                detail: format!(
                    "alias listed under {}; using `{}`",
                    canon.iter().map(|c| format!("`{}`", store.users.resolve(*c))).collect::<Vec<_>>().join(", "),
                    store.users.resolve(canon[0])
                ),
            });
        }
    }
    id
}

/// One root or "several".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidates {
    None,
    One(u32),
    Several,
}

impl Candidates {
    fn add(&mut self, root: u32) {
        *self = match *self {
            Candidates::None => Candidates::One(root),
            Candidates::One(r) if r == root => Candidates::One(r),
            _ => Candidates::Several,
        }
    }
}

/// The device of every signal that counts or could (qualifying signals and
/// sessions clipped by the window); NONE when it has no device hint. Also the
/// signals whose hostname fallback was ambiguous.
pub(crate) fn resolve_devices(
    store: &SignalStore,
    rs: &Ruleset,
    id: &Identity,
    unique: &[u32],
    fates: &[Fate],
) -> (Vec<DeviceId>, Vec<u32>) {
    let mut uf = id.uf.clone();
    let n_serial = id.n_serial;
    let strong_of = |uf: &mut UnionFind, s: &Signal| -> Option<u32> {
        if s.serial != NONE {
            Some(uf.find(s.serial))
        } else if s.device_id != NONE {
            Some(uf.find(n_serial + s.device_id))
        } else {
            None
        }
    };
    // Hostname fallback candidates: strong devices whose qualifying signals
    // carry the hostname beside a strong hint.
    let mut from_signals = vec![Candidates::None; store.hostnames.len()];
    if rs.hostname_fallback {
        for &i in unique {
            let s = &store.rows[i as usize];
            if matches!(fates[i as usize], Fate::Qualified(_)) && s.hostname != NONE {
                if let Some(r) = strong_of(&mut uf, s) {
                    from_signals[s.hostname as usize].add(r);
                }
            }
        }
    }
    let mut devices = vec![NONE; store.rows.len()];
    let mut ambiguous = Vec::new();
    for &i in unique {
        if !matches!(fates[i as usize], Fate::Qualified(_) | Fate::ClippedSession(_)) {
            continue;
        }
        let s = &store.rows[i as usize];
        devices[i as usize] = match strong_of(&mut uf, s) {
            Some(r) => r,
            None if s.hostname == NONE => NONE,
            None => {
                // Known by hostname alone: a directory alias binding it to a
                // strong device wins; else the hostname fallback.
                let own = uf.find(id.names + s.hostname);
                if id.is_strong(own) {
                    own
                } else {
                    match from_signals[s.hostname as usize] {
                        Candidates::One(r) => r,
                        Candidates::Several => {
                            if matches!(fates[i as usize], Fate::Qualified(_)) {
                                ambiguous.push(i);
                            }
                            own
                        }
                        Candidates::None => own,
                    }
                }
            }
        };
    }
    (devices, ambiguous)
}

/// Each device's user: the smallest resolved user key among qualifying
/// signals of that device that carry a user.
pub(crate) fn device_users(
    store: &SignalStore,
    id: &Identity,
    unique: &[u32],
    fates: &[Fate],
    devices: &[DeviceId],
) -> FxHashMap<DeviceId, u32> {
    let mut out: FxHashMap<DeviceId, u32> = FxHashMap::default();
    for &i in unique {
        let s = &store.rows[i as usize];
        let d = devices[i as usize];
        if !matches!(fates[i as usize], Fate::Qualified(_)) || d == NONE || s.user == NONE {
            continue;
        }
        let u = id.user_resolved[s.user as usize];
        out.entry(d)
            .and_modify(|cur| {
                if store.users.resolve(u) < store.users.resolve(*cur) {
                    *cur = u;
                }
            })
            .or_insert(u);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_components() {
        let mut uf = UnionFind::new(6);
        uf.union(0, 1);
        uf.union(2, 3);
        uf.union(1, 3);
        assert_eq!(uf.find(0), uf.find(2));
        assert_ne!(uf.find(0), uf.find(4));
    }
}
