//! RFC 9162 Merkle tree hash (MTH) over an ordered list of leaves.
//!
//! `leaf = SHA-256(0x00 || data)`, `node = SHA-256(0x01 || left || right)`, a
//! list of `n > 1` leaves splits at the largest power of two below `n`, and the
//! empty tree hashes to `SHA-256("")`. Snapshots use it over per-SKU records
//! (`skus_root`) and over each SKU's units (`units_root`), so one SKU can be
//! proven without the whole pack.

use crate::canon::hash::{sha256, Digest32};
use sha2::{Digest, Sha256};

/// The hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Digest32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Digest32(h.finalize().into())
}

/// The hash of an interior node.
pub(crate) fn node_hash(left: &Digest32, right: &Digest32) -> Digest32 {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Digest32(h.finalize().into())
}

/// MTH over already-hashed leaves. Computed bottom-up, level by level, which
/// gives the same tree as RFC 9162's recursive split: an odd node at the end
/// of a level is carried up unchanged.
///
/// ```
/// use eucora_license_core::internal::merkle::{root_of_leaves, leaf_hash};
/// let one = root_of_leaves(vec![leaf_hash(b"")]);
/// assert_eq!(one.to_prefixed(), "sha256:6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
/// ```
pub fn root_of_leaves(mut level: Vec<Digest32>) -> Digest32 {
    if level.is_empty() {
        return sha256(b"");
    }
    while level.len() > 1 {
        level = parent_level(&level);
    }
    level[0]
}

/// The level above `level`: pairs hashed into nodes, an odd last node carried up.
fn parent_level(level: &[Digest32]) -> Vec<Digest32> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => unreachable!("chunks(2) yields one or two items"),
        })
        .collect()
}

/// MTH over raw leaf data.
pub fn root<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Digest32 {
    root_of_leaves(leaves.into_iter().map(leaf_hash).collect())
}

/// Audit path (RFC 9162 §2.1.3) for leaf `index` among `leaves`, bottom first.
pub(crate) fn inclusion_path(leaves: &[Digest32], index: usize) -> Vec<Digest32> {
    let mut path = Vec::new();
    let mut level = leaves.to_vec();
    let mut idx = index;
    while level.len() > 1 {
        let sibling = idx ^ 1;
        if sibling < level.len() {
            path.push(level[sibling]);
        }
        level = parent_level(&level);
        idx /= 2;
    }
    path
}

/// Check an audit path (RFC 9162 §2.1.3.2) for leaf `index` of a tree of `size`.
pub(crate) fn verify_inclusion(leaf: &Digest32, index: u64, size: u64, path: &[Digest32], root: &Digest32) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's recursive definition, written literally, as an oracle.
    fn mth(leaves: &[&[u8]]) -> Digest32 {
        match leaves.len() {
            0 => sha256(b""),
            1 => leaf_hash(leaves[0]),
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn iterative_matches_recursive_definition() {
        let data: Vec<Vec<u8>> = (0u8..40).map(|i| vec![i; i as usize]).collect();
        for n in 0..data.len() {
            let refs: Vec<&[u8]> = data[..n].iter().map(|v| v.as_slice()).collect();
            assert_eq!(root(refs.iter().copied()), mth(&refs), "n={n}");
        }
    }

    #[test]
    fn inclusion_paths_verify_and_reject_tampering() {
        let leaves: Vec<Digest32> = (0u8..13).map(|i| leaf_hash(&[i])).collect();
        let r = root_of_leaves(leaves.clone());
        for i in 0..leaves.len() {
            let path = inclusion_path(&leaves, i);
            assert!(verify_inclusion(&leaves[i], i as u64, leaves.len() as u64, &path, &r), "leaf {i}");
            let other = leaf_hash(b"tampered");
            assert!(!verify_inclusion(&other, i as u64, leaves.len() as u64, &path, &r));
        }
    }
}
