//! String interning: each distinct string gets a dense `u32` id, so the hot
//! path compares and groups integers, not owned strings.
//!
//! All strings live in one arena; the table holds only ids, so a million raw
//! ids cost their bytes plus about 13 bytes each, not two heap allocations.
//! Ids depend on insertion order, which depends on input order; they never
//! reach an output. Every decision that must not depend on input order (the
//! smallest key, the latest assignment's tie-break) compares the strings.

use hashbrown::HashTable;
use std::hash::Hasher;

/// A dense string table.
#[derive(Default, Debug, Clone)]
pub struct Interner {
    /// The strings, id = position.
    strings: Arena,
    /// (hash, id) pairs: the stored hash makes growth and mismatches cheap.
    table: HashTable<(u64, u32)>,
    /// The last id returned: rows often repeat the previous row's value.
    last: Option<u32>,
}

fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(last) = self.last {
            if self.resolve(last) == s {
                return last;
            }
        }
        let id = self.intern_uncached(s);
        self.last = Some(id);
        id
    }

    fn intern_uncached(&mut self, s: &str) -> u32 {
        let hash = hash_str(s);
        let strings = &self.strings;
        if let Some(&(_, id)) = self.table.find(hash, |&(h, id)| h == hash && strings.resolve(id) == s) {
            return id;
        }
        let id = self.strings.push(s);
        self.table.insert_unique(hash, (hash, id), |&(h, _)| h);
        id
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let hash = hash_str(s);
        self.table.find(hash, |&(h, id)| h == hash && self.resolve(id) == s).map(|&(_, id)| id)
    }

    /// The string of `id`.
    pub fn resolve(&self, id: u32) -> &str {
        self.strings.resolve(id)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// Append-only strings without de-duplication, for values that are nearly
/// always distinct (raw record ids): no hash table to build or probe.
#[derive(Default, Debug, Clone)]
pub struct Arena {
    bytes: String,
    ends: Vec<u32>,
}

impl Arena {
    /// Store `s`; returns its id.
    pub fn push(&mut self, s: &str) -> u32 {
        self.bytes.push_str(s);
        self.ends.push(self.bytes.len() as u32);
        (self.ends.len() - 1) as u32
    }

    /// The string of `id`.
    pub fn resolve(&self, id: u32) -> &str {
        let end = self.ends[id as usize] as usize;
        let start = if id == 0 { 0 } else { self.ends[id as usize - 1] as usize };
        &self.bytes[start..end]
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The FxHash of a string (stable within a run; never emitted).
pub(crate) fn hash_of(s: &str) -> u64 {
    hash_str(s)
}

/// Marks an absent optional id.
pub(crate) const NONE: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_stable() {
        let mut i = Interner::default();
        let a = i.intern("alpha");
        let b = i.intern("");
        let c = i.intern("beta");
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(i.intern("alpha"), a);
        assert_eq!(i.resolve(c), "beta");
        assert_eq!(i.resolve(b), "");
        assert_eq!(i.get("beta"), Some(c));
        assert_eq!(i.get("gamma"), None);
        for n in 0..10_000 {
            i.intern(&n.to_string());
        }
        assert_eq!(i.resolve(i.get("9999").unwrap()), "9999");
        assert_eq!(i.len(), 10_003);
    }
}
