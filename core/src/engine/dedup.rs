//! Duplicate rows (DESIGN A1): one row per (source, raw_id); identical
//! content collapses, different content fails the run closed.

use crate::error::{Error, ErrorCode, Location};
use crate::input::signals::{Signal, SignalStore};

/// Keep one row per (source, raw_id), the first in input order. Identical content collapses; different
/// content is `conflicting_duplicate` (every conflict reported, sorted).
pub fn collapse_duplicates(store: &SignalStore) -> Result<Vec<u32>, Vec<Error>> {
    // (hash, first row) of each (source, raw_id); strings compared on a hash match.
    let mut first: hashbrown::HashTable<(u64, u32)> = hashbrown::HashTable::with_capacity(store.rows.len());
    let mut unique = Vec::with_capacity(store.rows.len());
    let mut conflicts: Vec<Error> = Vec::new();
    for (i, s) in store.rows.iter().enumerate() {
        let raw = store.raw_id_of(s);
        let hash = crate::input::intern::hash_of(raw) ^ (s.source as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let same_key = |&(h, j): &(u64, u32)| {
            h == hash && {
                let o = &store.rows[j as usize];
                o.source == s.source && store.raw_id_of(o) == raw
            }
        };
        match first.find(hash, same_key) {
            None => {
                first.insert_unique(hash, (hash, i as u32), |&(h, _)| h);
                unique.push(i as u32);
            }
            Some(&(_, j)) => {
                let other = &store.rows[j as usize];
                if !other.same_content(s, store) {
                    // Report at the later of the two locations, naming both, so
                    // the message does not depend on input order.
                    let (a, b) = order_locations(store, other, s);
                    conflicts.push(
                        Error::new(
                            ErrorCode::ConflictingDuplicate,
                            format!(
                                "source `{}` raw_id `{}` appears with different content (also at {}:{})",
                                store.source_of(s),
                                raw,
                                job_path(store, a),
                                a.line
                            ),
                        )
                        .at(Location::line(job_path(store, b), b.line as u64)),
                    );
                }
            }
        }
    }
    if conflicts.is_empty() {
        Ok(unique)
    } else {
        conflicts.sort_by_key(|a| a.to_string());
        conflicts.dedup();
        Err(conflicts)
    }
}

/// The path of the file a row came from. A row always names a job of its
/// store, except in a crafted evidence pack (rows naming a job that
/// `imports.json` lacks): then the text says so instead of indexing past the
/// list.
pub(crate) fn job_path(store: &SignalStore, s: &Signal) -> String {
    store.jobs.get(s.file as usize).map_or_else(|| format!("<unknown import #{}>", s.file), |j| j.path.clone())
}

fn order_locations<'a>(store: &SignalStore, x: &'a Signal, y: &'a Signal) -> (&'a Signal, &'a Signal) {
    let kx = (job_path(store, x), x.line);
    let ky = (job_path(store, y), y.line);
    if kx <= ky {
        (x, y)
    } else {
        (y, x)
    }
}
