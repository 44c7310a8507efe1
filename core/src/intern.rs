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
    arena: String,
    /// End offset of each string in `arena` (start = previous end).
    ends: Vec<u32>,
    table: HashTable<u32>,
}

fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        let hash = hash_str(s);
        let (arena, ends) = (&self.arena, &self.ends);
        let get = |id: u32| -> &str {
            let end = ends[id as usize] as usize;
            let start = if id == 0 { 0 } else { ends[id as usize - 1] as usize };
            &arena[start..end]
        };
        if let Some(&id) = self.table.find(hash, |&id| get(id) == s) {
            return id;
        }
        let id = self.ends.len() as u32;
        self.arena.push_str(s);
        self.ends.push(self.arena.len() as u32);
        let (arena, ends) = (&self.arena, &self.ends);
        self.table.insert_unique(hash, id, |&id| {
            let end = ends[id as usize] as usize;
            let start = if id == 0 { 0 } else { ends[id as usize - 1] as usize };
            hash_str(&arena[start..end])
        });
        id
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.table.find(hash_str(s), |&id| self.resolve(id) == s).copied()
    }

    /// The string of `id`.
    pub fn resolve(&self, id: u32) -> &str {
        let end = self.ends[id as usize] as usize;
        let start = if id == 0 { 0 } else { self.ends[id as usize - 1] as usize };
        &self.arena[start..end]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Marks an absent optional id.
pub const NONE: u32 = u32::MAX;

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
