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
pub fn node_hash(left: &Digest32, right: &Digest32) -> Digest32 {
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

/// The same root as [`root_of_leaves`], one leaf at a time, in O(log n)
/// memory: the perfect subtrees so far (sizes decreasing), merged as they
/// fill, folded from the right at the end. For units that stream past.
#[derive(Debug, Default, Clone)]
pub(crate) struct RootBuilder {
    stack: Vec<(Digest32, u64)>,
}

impl RootBuilder {
    /// Add the next leaf's hash.
    pub(crate) fn push(&mut self, leaf: Digest32) {
        let mut node = (leaf, 1u64);
        while let Some(&(top, size)) = self.stack.last() {
            if size != node.1 {
                break;
            }
            self.stack.pop();
            node = (node_hash(&top, &node.0), size * 2);
        }
        self.stack.push(node);
    }

    /// The root (of no leaves: the hash of nothing, as [`root_of_leaves`]).
    pub(crate) fn root(&self) -> Digest32 {
        let mut it = self.stack.iter().rev();
        let Some(&(mut acc, _)) = it.next() else { return sha256(b"") };
        for (h, _) in it {
            acc = node_hash(h, &acc);
        }
        acc
    }
}

/// MTH over raw leaf data.
pub fn root<'a>(leaves: impl IntoIterator<Item = &'a [u8]>) -> Digest32 {
    root_of_leaves(leaves.into_iter().map(leaf_hash).collect())
}

/// Audit path (RFC 9162 §2.1.3) for leaf `index` among `leaves`, bottom first.
pub fn inclusion_path(leaves: &[Digest32], index: usize) -> Vec<Digest32> {
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
pub fn verify_inclusion(leaf: &Digest32, index: u64, size: u64, path: &[Digest32], root: &Digest32) -> bool {
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

/// Consistency proof (RFC 9162 §2.1.4.1) from the tree of the first
/// `old_size` leaves to the tree of all `leaves`: `SUBPROOF(m, D[n], true)`,
/// written as the RFC's recursion. `old_size` must be in `1..=leaves.len()`
/// (the caller checks); from `n` to `n` the path is empty.
pub fn consistency_path(leaves: &[Digest32], old_size: usize) -> Vec<Digest32> {
    let mut out = Vec::new();
    if old_size == 0 || old_size > leaves.len() {
        return out;
    }
    subproof(old_size, leaves, true, &mut out);
    out
}

/// RFC 9162 `SUBPROOF(m, D[n], b)`, appending to `out` in the RFC's order.
fn subproof(m: usize, leaves: &[Digest32], complete: bool, out: &mut Vec<Digest32>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root_of_leaves(leaves.to_vec()));
        }
        return;
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root_of_leaves(leaves[k..].to_vec()));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root_of_leaves(leaves[..k].to_vec()));
    }
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn largest_power_of_two_below(n: usize) -> usize {
    1usize << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The length of `SUBPROOF(m, D[n], true)` without building it.
fn consistency_path_len(m: u64, n: u64) -> u64 {
    let (mut m, mut n, mut complete, mut len) = (m, n, true, 0u64);
    while m != n {
        let k = 1u64 << (u64::BITS - 1 - (n - 1).leading_zeros());
        len += 1;
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            complete = false;
        }
    }
    len + u64::from(!complete)
}

/// Check a consistency proof (RFC 9162 §2.1.4.2) that the tree of
/// `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root`. From a size to itself the path
/// must be empty and the roots equal; from size 0, or to a smaller size,
/// nothing is proven (false).
pub fn verify_consistency(old_size: u64, new_size: u64, old_root: &Digest32, new_root: &Digest32, path: &[Digest32]) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return path.is_empty() && old_root == new_root;
    }
    // An RFC path for these sizes has exactly this length; checking it
    // first costs nothing and refuses padded or truncated paths outright.
    if path.len() as u64 != consistency_path_len(old_size, new_size) {
        return false;
    }
    let mut proof: Vec<Digest32> = Vec::with_capacity(path.len() + 1);
    if old_size.is_power_of_two() {
        proof.push(*old_root);
    }
    proof.extend_from_slice(path);
    let (mut fnode, mut snode) = (old_size - 1, new_size - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (proof[0], proof[0]);
    for c in &proof[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && fr == *old_root && sr == *new_root
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

    /// RFC 9162 §2.1.3.1 `PATH(m, D[n])`, written literally, as an oracle for
    /// the iterative audit path.
    fn path_oracle(m: usize, leaves: &[Digest32]) -> Vec<Digest32> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = largest_power_of_two_below(n);
        if m < k {
            let mut p = path_oracle(m, &leaves[..k]);
            p.push(root_of_leaves(leaves[k..].to_vec()));
            p
        } else {
            let mut p = path_oracle(m - k, &leaves[k..]);
            p.push(root_of_leaves(leaves[..k].to_vec()));
            p
        }
    }

    #[test]
    fn inclusion_paths_match_the_rfc_definition() {
        for n in 1..40usize {
            let leaves: Vec<Digest32> = (0..n).map(|i| leaf_hash(&(i as u32).to_be_bytes())).collect();
            for m in 0..n {
                assert_eq!(inclusion_path(&leaves, m), path_oracle(m, &leaves), "m={m} n={n}");
            }
        }
    }

    /// RFC 6962 §2.1.3's worked example (the tree RFC 9162 §2.1.5 keeps):
    /// seven leaves d0..d6, leaf hashes a..f and j, nodes g = (a, b),
    /// h = (c, d), i = (e, f), k = (g, h), l = (i, j), and the three
    /// consistency proofs the RFC lists, by node name.
    #[test]
    fn consistency_proofs_match_the_rfc_example() {
        let leaves: Vec<Digest32> = (0u8..7).map(|n| leaf_hash(&[n])).collect();
        let (a, b, c, d, e, f, j) = (leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], leaves[6]);
        let (g, h, i) = (node_hash(&a, &b), node_hash(&c, &d), node_hash(&e, &f));
        let (k, l) = (node_hash(&g, &h), node_hash(&i, &j));
        assert_eq!(root_of_leaves(leaves.clone()), node_hash(&k, &l));
        // PROOF(3, D[7]) = [c, d, g, l].
        assert_eq!(consistency_path(&leaves, 3), vec![c, d, g, l]);
        // PROOF(4, D[7]) = [l].
        assert_eq!(consistency_path(&leaves, 4), vec![l]);
        // PROOF(6, D[7]) = [i, j, k].
        assert_eq!(consistency_path(&leaves, 6), vec![i, j, k]);
        assert_eq!(consistency_path(&leaves, 7), Vec::<Digest32>::new());
        // The audit path of d0 in the same tree is [b, h, l] (RFC 6962 §2.1.3).
        assert_eq!(inclusion_path(&leaves, 0), vec![b, h, l]);
        assert_eq!(inclusion_path(&leaves, 6), vec![i, k]);
    }

    #[test]
    fn consistency_proofs_verify_for_every_pair_and_reject_tampering() {
        let leaves: Vec<Digest32> = (0u16..33).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 1..=leaves.len() {
            let new_root = root_of_leaves(leaves[..n].to_vec());
            for m in 1..=n {
                let old_root = root_of_leaves(leaves[..m].to_vec());
                let path = consistency_path(&leaves[..n], m);
                let (m64, n64) = (m as u64, n as u64);
                assert!(verify_consistency(m64, n64, &old_root, &new_root, &path), "m={m} n={n}");
                // Wrong roots, sizes and every single-bit flip of the path fail.
                let other = leaf_hash(b"x");
                assert!(!verify_consistency(m64, n64, &other, &new_root, &path), "m={m} n={n}");
                assert!(!verify_consistency(m64, n64, &old_root, &other, &path), "m={m} n={n}");
                assert_eq!(path.len() as u64, consistency_path_len(m64, n64), "m={m} n={n}");
                for p in 0..path.len() {
                    for bit in [0usize, 7, 100, 255] {
                        let mut bad = path.clone();
                        bad[p].0[bit / 8] ^= 1 << (bit % 8);
                        assert!(!verify_consistency(m64, n64, &old_root, &new_root, &bad), "m={m} n={n} p={p} bit={bit}");
                    }
                }
                let mut longer = path.clone();
                longer.push(other);
                assert!(!verify_consistency(m64, n64, &old_root, &new_root, &longer), "m={m} n={n}");
                if !path.is_empty() {
                    assert!(!verify_consistency(m64, n64, &old_root, &new_root, &path[..path.len() - 1]), "m={m} n={n}");
                }
            }
        }
        assert!(!verify_consistency(0, 3, &sha256(b""), &root_of_leaves(leaves[..3].to_vec()), &[]));
    }

    /// The streaming root is the RFC 9162 root for every tree size.
    #[test]
    fn the_streaming_root_is_the_root() {
        let leaves: Vec<Digest32> = (0u32..70).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        for n in 0..leaves.len() {
            let mut b = RootBuilder::default();
            leaves[..n].iter().for_each(|l| b.push(*l));
            assert_eq!(b.root(), root_of_leaves(leaves[..n].to_vec()), "{n} leaves");
        }
    }
}
