//! One pass over an evidence pack read as a stream (issue 15: verification
//! in bounded memory). The pack is never held: each member is hashed as it
//! passes; the small members (the inputs the replay reads whole: bundle,
//! ruleset, catalog, master data, imports, run report, manifest, snapshots)
//! are kept; the large ones (`signals.jsonl`, `units.jsonl`,
//! `previous_units.jsonl`) and the derived ones that arrive before the
//! replay can produce them (`exceptions.jsonl`, `diff.json`) are kept only
//! as their SHA-256 and segment fingerprints (to say where a replay differs);
//! `units.jsonl` also feeds each SKU's Merkle root, and, when replaying,
//! `signals.jsonl` and `previous_units.jsonl` feed the replay's inputs line
//! by line.
//!
//! Member order is fixed by A7 (names in byte order), so every input the
//! replay checks a signal against (`bundle.json`, `catalog.json`,
//! `directory.json`, `entitlements.json`, `imports.json`, `pools.json`,
//! `ruleset.json`) has arrived before `signals.jsonl` starts, and the
//! manifest before every member it is checked against is complete; the
//! checks themselves run after the pass, in the order of
//! [`super::verify`], so the engine sees nothing before every check passed.

use super::replay::Streamed;
use crate::canon::hash::Digest32;
use crate::canon::lines::{Lines, MAX_LINE};
use crate::canon::merkle::RootBuilder;
use crate::canon::zst;
use crate::document::manifest::{MemberWalk, MAX_KEPT};
use std::collections::BTreeMap;
use std::io::Read;

/// Members too large to keep: hashed and fingerprinted as they pass.
pub(super) const SEGMENTED: [&str; 5] = ["diff.json", "exceptions.jsonl", "previous_units.jsonl", "signals.jsonl", "units.jsonl"];

/// Segment length of the fingerprints that locate a difference.
const SEGMENT: usize = 64 << 10;

/// Fingerprints of consecutive 64 KiB segments of a member (FxHash, 8
/// bytes each, and the segment's count of line ends). They only say *where*
/// a replayed member first differs; *whether* it differs is the SHA-256.
#[derive(Default)]
pub(super) struct Segments {
    done: Vec<(u64, u32)>,
    hasher: rustc_hash::FxHasher,
    len: usize,
    lines: u32,
}

impl Segments {
    pub(super) fn feed(&mut self, mut bytes: &[u8]) {
        use std::hash::Hasher;
        while !bytes.is_empty() {
            let take = (SEGMENT - self.len).min(bytes.len());
            let (now, rest) = bytes.split_at(take);
            self.hasher.write(now);
            self.lines += memchr::memchr_iter(b'\n', now).count() as u32;
            self.len += take;
            if self.len == SEGMENT {
                self.close();
            }
            bytes = rest;
        }
    }

    fn close(&mut self) {
        use std::hash::Hasher;
        let h = std::mem::take(&mut self.hasher).finish();
        self.done.push((h, self.lines));
        self.len = 0;
        self.lines = 0;
    }

    pub(super) fn finish(mut self) -> Vec<(u64, u32)> {
        if self.len > 0 {
            self.close();
        }
        self.done
    }
}

/// Where two renderings of a member first differ, by their segments: the
/// byte range of the first differing segment and the line it starts on.
pub(super) fn locate(held: &[(u64, u32)], produced: &[(u64, u32)]) -> (u64, u64, u64) {
    let i = held.iter().zip(produced).position(|(a, b)| a != b).unwrap_or(held.len().min(produced.len()));
    let line = 1 + held.iter().take(i).map(|(_, n)| u64::from(*n)).sum::<u64>();
    let start = (i * SEGMENT) as u64;
    (start, start + SEGMENT as u64 - 1, line)
}

/// `units.jsonl` read line by line into each SKU's Merkle root.
#[derive(Default)]
struct UnitRoots {
    lines: Lines,
    roots: BTreeMap<String, RootBuilder>,
    error: Option<String>,
}

impl UnitRoots {
    fn line(roots: &mut BTreeMap<String, RootBuilder>, error: &mut Option<String>, i: usize, line: std::result::Result<&[u8], ()>) {
        if error.is_some() {
            return;
        }
        let Ok(line) = line else {
            *error = Some(format!("line {i}: longer than {MAX_LINE} bytes"));
            return;
        };
        match crate::history::diff::unit_line(line) {
            Ok((sku, unit)) => {
                let leaf = crate::canon::merkle::leaf_hash(unit);
                match roots.get_mut(sku.as_ref()) {
                    Some(r) => r.push(leaf),
                    None => roots.entry(sku.into_owned()).or_default().push(leaf),
                }
            }
            Err(e) => *error = Some(format!("line {i}: {e}")),
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        let (roots, error) = (&mut self.roots, &mut self.error);
        self.lines.feed(chunk, &mut |i, l| Self::line(roots, error, i, l));
    }

    fn finish(mut self) -> std::result::Result<BTreeMap<String, RootBuilder>, String> {
        let (roots, error) = (&mut self.roots, &mut self.error);
        self.lines.finish(&mut |i, l| Self::line(roots, error, i, l));
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.roots),
        }
    }
}

/// What one pass over a pack leaves: enough for every check of A7.
pub(super) struct Pass {
    /// The `archive` check: the number of entries, or why the archive (or
    /// the frame around it) is refused.
    pub(super) archive: std::result::Result<usize, String>,
    /// Members present, in archive order (the manifest included).
    pub(super) present: Vec<&'static str>,
    /// Every member but the manifest: size and SHA-256.
    pub(super) digests: BTreeMap<&'static str, (u64, Digest32)>,
    /// The members kept whole.
    pub(super) kept: BTreeMap<&'static str, Vec<u8>>,
    /// The fingerprints of the members not kept.
    pub(super) segments: BTreeMap<&'static str, Vec<(u64, u32)>>,
    /// Each SKU's `units_root` as `units.jsonl` gives it (`None`: no such member).
    pub(super) unit_roots: Option<std::result::Result<BTreeMap<String, RootBuilder>, String>>,
}

impl Pass {
    pub(super) fn has(&self, name: &str) -> bool {
        self.present.contains(&name)
    }
}

/// Read a pack (either form) once. `replay`, when given, is fed the
/// replay's inputs as they pass.
pub(super) fn pass<R: Read>(source: R, mut replay: Option<&mut Streamed>) -> Pass {
    let mut out = Pass {
        archive: Ok(0),
        present: Vec::new(),
        digests: BTreeMap::new(),
        kept: BTreeMap::new(),
        segments: BTreeMap::new(),
        unit_roots: None,
    };
    let reader = match zst::archive_reader(source) {
        Ok(r) => r,
        Err(e) => {
            out.archive = Err(e);
            return out;
        }
    };
    let mut walk = MemberWalk::new(reader);
    let mut kept_total = 0u64;
    let result = (|| -> std::result::Result<(), String> {
        while let Some((name, size)) = walk.next()? {
            out.present.push(name);
            let segmented = SEGMENTED.contains(&name);
            if !segmented {
                kept_total = kept_total.saturating_add(size);
                if kept_total > MAX_KEPT {
                    return Err(format!(
                        "member `{name}` ({size} bytes) takes the members read whole past {MAX_KEPT} bytes; a pack's are a few MB: refused"
                    ));
                }
            }
            if let Some(r) = replay.as_deref_mut() {
                r.start(name, &out.kept);
            }
            let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
            let mut kept = Vec::new();
            let mut segments = Segments::default();
            let mut roots = (name == "units.jsonl").then(UnitRoots::default);
            let r = &mut replay;
            walk.data(|chunk| {
                sha2::Digest::update(&mut hasher, chunk);
                if segmented {
                    segments.feed(chunk);
                } else {
                    kept.extend_from_slice(chunk);
                }
                if let Some(u) = roots.as_mut() {
                    u.feed(chunk);
                }
                if let Some(r) = r.as_deref_mut() {
                    r.feed(name, chunk);
                }
            })?;
            if let Some(r) = replay.as_deref_mut() {
                r.end(name);
            }
            if name != crate::document::manifest::MANIFEST {
                out.digests.insert(name, (size, Digest32(sha2::Digest::finalize(hasher).into())));
            }
            if segmented {
                out.segments.insert(name, segments.finish());
            } else {
                out.kept.insert(name, kept);
            }
            if let Some(u) = roots {
                out.unit_roots = Some(u.finish());
            }
        }
        Ok(())
    })();
    out.archive = match result {
        // A bad frame may decompress to a damaged tar before libzstd sees
        // it: the frame's reason wins. A sound end still needs the frame's
        // end checks (size, checksum, nothing after it): the walk read to
        // the end of the tar, and draining reads the frame's end.
        Err(e) => Err(walk.source_mut().drain().unwrap_or(e)),
        Ok(()) => match walk.source_mut().drain() {
            Some(e) => Err(e),
            None => Ok(walk.count()),
        },
    };
    out
}
