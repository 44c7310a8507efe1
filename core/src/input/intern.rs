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
    /// One entry per string: [`Slot`] keeps the hash, the id and where the
    /// bytes are, so a probe compares hash and length first and then reads
    /// the bytes straight from the arena, without first loading the arena's
    /// `ends` array (one cache miss fewer per probe in a large table).
    table: HashTable<Slot>,
    /// The last id returned: rows often repeat the previous row's value.
    last: Option<u32>,
}

/// A table entry (16 bytes): the high half of the string's hash, its id,
/// and its byte range in the arena.
#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u32,
    id: u32,
    start: u32,
    len: u32,
}

/// The table's 64-bit hash, rebuilt from the 32 bits a [`Slot`] keeps (so
/// growth never re-reads a string): hashbrown takes the bucket from the low
/// bits and the control byte from the top seven.
fn table_hash(h32: u32) -> u64 {
    ((h32 as u64) << 32) | h32 as u64
}

fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// The 32 bits of [`hash_str`] an interner keeps (the high half: FxHash
/// mixes its last word into the high bits best).
fn hash32(s: &str) -> u32 {
    (hash_str(s) >> 32) as u32
}

impl Interner {
    /// An empty table with room for `n` strings of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        Interner { strings: Arena::with_capacity(n, bytes), table: HashTable::with_capacity(n), last: None }
    }

    /// The id of `s`, adding it if new.
    #[inline]
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(last) = self.last {
            if self.resolve(last) == s {
                return last;
            }
        }
        let id = self.intern_hashed(s, hash32(s));
        self.last = Some(id);
        id
    }

    /// The id of `s` whose [`Interner`] hash is `h32`, adding it if new.
    fn intern_hashed(&mut self, s: &str, h32: u32) -> u32 {
        let bytes = self.strings.bytes.as_bytes();
        let len = s.len() as u32;
        let found = self.table.find(table_hash(h32), |e| {
            e.hash == h32 && e.len == len && &bytes[e.start as usize..(e.start + e.len) as usize] == s.as_bytes()
        });
        if let Some(e) = found {
            return e.id;
        }
        let start = self.strings.bytes.len() as u32;
        let id = self.strings.push(s);
        self.table.insert_unique(table_hash(h32), Slot { hash: h32, id, start, len }, |e| table_hash(e.hash));
        id
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let h32 = hash32(s);
        let bytes = self.strings.bytes.as_bytes();
        let len = s.len() as u32;
        self.table
            .find(table_hash(h32), |e| {
                e.hash == h32 && e.len == len && &bytes[e.start as usize..(e.start + e.len) as usize] == s.as_bytes()
            })
            .map(|e| e.id)
    }

    /// Intern every string of `other` in its id order; returns the id here of
    /// each of `other`'s ids. Interning a table's strings in id order gives
    /// them ids in first-appearance order, which is how a parallel read
    /// merges per-chunk tables into exactly the ids a sequential read gives.
    pub fn merge(&mut self, other: &Interner) -> Vec<u32> {
        self.table.reserve(other.len(), |e| table_hash(e.hash));
        (0..other.len() as u32).map(|id| { let s = other.resolve(id); self.intern_hashed(s, hash32(s)) }).collect()
    }

    /// The string of `id`.
    #[inline]
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

    /// Bytes held on the heap (capacity, not length), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.strings.heap_bytes() + self.table.capacity() * std::mem::size_of::<Slot>() * 8 / 7 + self.table.capacity() * 8 / 7
    }

    /// Give back spare capacity (once the table is complete).
    pub fn shrink_to_fit(&mut self) {
        self.strings.shrink_to_fit();
        self.table.shrink_to_fit(|e| table_hash(e.hash));
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
    /// An empty arena with room for `n` strings of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        Arena { bytes: String::with_capacity(bytes), ends: Vec::with_capacity(n) }
    }

    /// Append every string of `other` (ids shift by this arena's length).
    pub fn append(&mut self, other: &Arena) {
        let base = self.bytes.len() as u32;
        self.bytes.push_str(&other.bytes);
        self.ends.extend(other.ends.iter().map(|&e| e + base));
    }

    /// Bytes held on the heap (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4
    }

    /// Give back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Store `s`; returns its id.
    pub fn push(&mut self, s: &str) -> u32 {
        self.bytes.push_str(s);
        self.ends.push(self.bytes.len() as u32);
        (self.ends.len() - 1) as u32
    }

    /// The string of `id`.
    #[inline]
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
