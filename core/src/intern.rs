//! String interning: each distinct string gets a dense `u32` id, so the hot
//! path compares and groups integers, not owned strings.
//!
//! Ids depend on insertion order, which depends on input order; they never
//! reach an output. Every decision that must not depend on input order (the
//! smallest key, the latest assignment's tie-break) compares the strings.

use rustc_hash::FxHashMap;

/// A dense string table.
#[derive(Default, Debug)]
pub struct Interner {
    map: FxHashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        let boxed: Box<str> = s.into();
        self.strings.push(boxed.clone());
        self.map.insert(boxed, id);
        id
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }

    /// The string of `id`.
    pub fn resolve(&self, id: u32) -> &str {
        &self.strings[id as usize]
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

/// Marks an absent optional id.
pub const NONE: u32 = u32::MAX;
