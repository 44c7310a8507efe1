//! String interning: each distinct string gets a dense `u32` id, so the hot
//! path compares and groups integers, not owned strings.
//!
//! All strings live in one arena; the table holds 16-byte slots (tag, id,
//! offset, length), so a string costs its bytes plus 4 bytes of offsets and
//! 16–32 bytes of table (load between 0.35 and 0.7), not a heap allocation.
//! Ids depend on insertion order, which depends on input order; they never
//! reach an output. Every decision that must not depend on input order (the
//! smallest key, the latest assignment's tie-break) compares the strings.

use std::hash::Hasher;

/// A dense string table.
///
/// The table is open addressing with linear probing over 16-byte slots that
/// keep the hash tag, the id and where the bytes are, so a probe reads one
/// slot and then the bytes straight from the arena. With millions of strings
/// every probe is a cache miss; [`Interner::touch`] lets a caller that knows
/// the next strings start their slot loads early (a plain load, the core
/// forbids `unsafe` and with it the prefetch intrinsics), so several misses
/// overlap instead of queuing.
#[derive(Default, Debug, Clone)]
pub struct Interner {
    /// The strings, id = position.
    strings: Arena,
    /// `[tag, id + 1, start, len]`; `id + 1 == 0` marks an empty slot (so a
    /// fresh table is zeroed memory). The length is a power of two ≥ 16, or 0.
    slots: Vec<[u32; 4]>,
    /// log2 of the slot count.
    bits: u32,
    /// The last id returned: rows often repeat the previous row's value.
    last: Option<u32>,
}

fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A string's tag: the high 32 bits of its Fibonacci-scrambled hash. The
/// slot is the tag's top `bits` bits, so a table grows without re-reading
/// its strings.
#[inline]
pub(crate) fn tag_of(s: &str) -> u32 {
    (hash_str(s).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

impl Interner {
    /// The id of `s`, adding it if new.
    #[inline]
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(last) = self.last {
            if self.resolve(last) == s {
                return last;
            }
        }
        let id = self.intern_tagged(s, tag_of(s));
        self.last = Some(id);
        id
    }

    /// Start loading the slot where a string with tag `tag` would be, ahead
    /// of interning it; returns the slot's first word (pass it to
    /// `std::hint::black_box` so the load is kept).
    #[inline]
    pub(crate) fn touch(&self, tag: u32) -> u32 {
        match self.slots.get(self.home(tag)) {
            Some(s) => s[0],
            None => 0,
        }
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        if self.bits == 0 {
            0
        } else {
            (tag >> (32 - self.bits)) as usize
        }
    }

    /// The id of `s` whose tag ([`tag_of`]) is `tag`, adding it if new.
    pub(crate) fn intern_tagged(&mut self, s: &str, tag: u32) -> u32 {
        if (self.strings.len() + 1) * 10 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let bytes = self.strings.bytes.as_bytes();
        let len = s.len() as u32;
        let mut i = self.home(tag);
        loop {
            let slot = self.slots[i];
            if slot[1] == 0 {
                let start = bytes.len() as u32;
                let id = self.strings.push(s);
                self.slots[i] = [tag, id + 1, start, len];
                return id;
            }
            if slot[0] == tag && slot[3] == len && &bytes[slot[2] as usize..(slot[2] + len) as usize] == s.as_bytes() {
                return slot[1] - 1;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bits = (self.bits + 1).max(4);
        let mut slots = vec![[0u32; 4]; 1usize << bits];
        let mask = slots.len() - 1;
        for slot in self.slots.iter().filter(|s| s[1] != 0) {
            let mut i = (slot[0] >> (32 - bits)) as usize;
            while slots[i][1] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = *slot;
        }
        self.slots = slots;
        self.bits = bits;
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let tag = tag_of(s);
        let mask = self.slots.len() - 1;
        let bytes = self.strings.bytes.as_bytes();
        let len = s.len() as u32;
        let mut i = self.home(tag);
        loop {
            let slot = self.slots[i];
            if slot[1] == 0 {
                return None;
            }
            if slot[0] == tag && slot[3] == len && &bytes[slot[2] as usize..(slot[2] + len) as usize] == s.as_bytes() {
                return Some(slot[1] - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Intern every string of `other` in its id order; returns the id here of
    /// each of `other`'s ids. Interning a table's strings in id order gives
    /// them ids in first-appearance order, which is how a parallel read
    /// merges per-block tables into exactly the ids a sequential read gives.
    pub fn merge(&mut self, other: &Interner) -> Vec<u32> {
        let batch: Vec<(&str, u32)> = (0..other.len() as u32).map(|id| other.resolve(id)).map(|s| (s, tag_of(s))).collect();
        self.intern_batch(&batch)
    }

    /// Intern `(string, tag)` pairs in order, starting each lookup's table
    /// load a few strings ahead; returns their ids.
    pub(crate) fn intern_batch(&mut self, batch: &[(&str, u32)]) -> Vec<u32> {
        const AHEAD: usize = 8;
        let mut out = Vec::with_capacity(batch.len());
        for (i, &(s, tag)) in batch.iter().enumerate() {
            if let Some(&(_, t)) = batch.get(i + AHEAD) {
                std::hint::black_box(self.touch(t));
            }
            out.push(self.intern_tagged(s, tag));
        }
        out
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
        self.strings.heap_bytes() + self.slots.capacity() * 16
    }

    /// Remove every string, keeping the allocations.
    pub fn clear(&mut self) {
        self.strings.clear();
        self.slots.fill([0; 4]);
        self.last = None;
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

    /// Remove every string, keeping the allocations.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
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

    #[test]
    fn merging_tables_in_order_gives_the_sequential_ids() {
        let (mut seq, mut a, mut b) = (Interner::default(), Interner::default(), Interner::default());
        for s in ["x", "y", "x", "z"] {
            seq.intern(s);
            a.intern(s);
        }
        for s in ["w", "y", "v"] {
            seq.intern(s);
            b.intern(s);
        }
        let mut m = Interner::default();
        assert_eq!(m.merge(&a), vec![0, 1, 2]);
        assert_eq!(m.merge(&b), vec![3, 1, 4]);
        assert_eq!(m.len(), seq.len());
        for id in 0..seq.len() as u32 {
            assert_eq!(m.resolve(id), seq.resolve(id));
        }
        m.clear();
        assert_eq!((m.len(), m.get("x")), (0, None));
        assert_eq!(m.intern("v"), 0);
    }
}
