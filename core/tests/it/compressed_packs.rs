//! The compressed evidence pack (issue 15): the archive as one Zstandard
//! frame with pinned settings. Packs written before compression (a plain
//! tar) still verify; the compressed bytes are deterministic and decompress
//! to exactly the archive; a bad frame is refused at the `archive` check
//! with a reason, never a panic.

use crate::common::demo;
use eucora_license_core::internal::evidence::verify;
use eucora_license_core::{open_pack, pack_archive, write_compressed_pack, write_pack};

const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

fn fixture_plain_pack() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/packs/demo-plain-v1.tar");
    std::fs::read(path).expect("fixtures/packs/demo-plain-v1.tar")
}

fn failed(pack: &[u8]) -> (String, String) {
    let r = verify(pack, None);
    assert!(!r.ok);
    let c = r.checks.iter().find(|c| c.status == "failed").unwrap();
    (c.name.clone(), c.detail.clone())
}

/// A pack written by the release before compression (the CLI at the
/// merge base, `reconcile fixtures/demo`) verifies, replay included, and is
/// byte for byte the archive the compressed pack holds today.
#[test]
fn a_plain_pack_written_before_compression_still_verifies() {
    let old = fixture_plain_pack();
    assert!(old.len() > 512 && !old.starts_with(&MAGIC));
    let r = verify(&old, None);
    assert!(r.ok, "{:?}", r.first_failure);
    let out = demo();
    assert_eq!(r.snapshot_hash, Some(out.snapshot.as_ref().unwrap().hash().to_prefixed()));
    let (pack, _) = write_compressed_pack(&out, Vec::new()).unwrap();
    assert_eq!(&*pack_archive(&pack).unwrap(), &old[..], "the compressed pack wraps the very archive of before");
    assert!(open_pack(&old).is_ok());
}

/// The pack is a zstd frame, verifies with replay, has the same pack hash
/// as its archive (identity independent of the compressor) and is much
/// smaller than it.
#[test]
fn the_compressed_pack_verifies_and_keeps_the_pack_hash() {
    let out = demo();
    let (pack, hash) = write_compressed_pack(&out, Vec::new()).unwrap();
    let (archive, archive_hash) = write_pack(&out, Vec::new()).unwrap();
    assert!(pack.starts_with(&MAGIC));
    assert_eq!(hash, archive_hash);
    assert!(pack.len() * 5 < archive.len(), "{} bytes compressed from {}", pack.len(), archive.len());
    let r = verify(&pack, None);
    assert!(r.ok, "{:?}", r.first_failure);
    assert!(r.checks.iter().any(|c| c.name == "replay" && c.status == "passed"));
    assert_eq!(verify(&archive, None), r, "the same report for either form");
    assert_eq!(eucora_license_core::replay_pack(&pack), eucora_license_core::replay_pack(&archive));
    // `open_pack` hands out slices of the archive: it wants the archive.
    assert!(open_pack(&pack).unwrap_err().message().contains("pack_archive"));
    let a = pack_archive(&pack).unwrap();
    assert_eq!(open_pack(&a).unwrap().snapshot().hash(), out.snapshot.as_ref().unwrap().hash());
}

/// Same inputs, same bytes: two writes, and the public and internal names
/// of the writer, agree; the frame header declares the content size and the
/// pinned level's output is fixed (its hash pinned here: a change of the
/// compressor's version or settings must show up as a deliberate change).
#[test]
fn the_compressed_bytes_are_deterministic() {
    let out = demo();
    let a = write_compressed_pack(&out, Vec::new()).unwrap().0;
    let b = eucora_license_core::internal::evidence::write_compressed_pack(&out, Vec::new()).unwrap().0;
    assert_eq!(a, b);
    let again = write_compressed_pack(&demo(), Vec::new()).unwrap().0;
    assert_eq!(a, again);
    // Frame header descriptor: content size present (FCS flag bits set),
    // checksum flag set, no dictionary id.
    let fhd = a[4];
    assert_ne!(fhd >> 6, 0, "content size declared");
    assert_eq!(fhd & 0b100, 0b100, "content checksum");
    assert_eq!(fhd & 0b11, 0, "no dictionary id");
}

/// Truncated, corrupted, trailing-bytes and bomb frames are refused at the
/// `archive` check with a reason; nothing panics; the replay, `open_run`
/// refuse them too.
#[test]
fn bad_frames_are_refused_at_the_archive_check() {
    let out = demo();
    let pack = write_compressed_pack(&out, Vec::new()).unwrap().0;

    let truncated = &pack[..pack.len() - 10];
    let (name, detail) = failed(truncated);
    assert_eq!(name, "archive");
    assert!(detail.starts_with("zstd frame:"), "{detail}");

    let mut corrupt = pack.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x55;
    let (name, detail) = failed(&corrupt);
    assert_eq!(name, "archive");
    assert!(detail.starts_with("zstd frame:"), "{detail}");

    let mut trailing = pack.clone();
    trailing.extend_from_slice(b"junk");
    let (name, detail) = failed(&trailing);
    assert_eq!((name.as_str(), detail.contains("after the frame")), ("archive", true), "{detail}");

    // A bomb: a tiny valid frame of zeros that declares 64 MiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = zstd_frame_of(&zeros);
    assert!(bomb.len() * 1024 < zeros.len(), "the bomb is small: {}", bomb.len());
    let (name, detail) = failed(&bomb);
    assert_eq!(name, "archive");
    assert!(detail.contains("over the bound"), "{detail}");
    assert!(pack_archive(&bomb).is_err());
    assert!(eucora_license_core::replay_pack(&bomb).unwrap_err().contains("over the bound"));

    // Only the magic: no frame header.
    let (name, _) = failed(&MAGIC);
    assert_eq!(name, "archive");

    // A frame of a valid but unknown content: not an archive.
    let not_tar = zstd_frame_of(b"hello, not a tar");
    let (name, _) = failed(&not_tar);
    assert_eq!(name, "archive");

    for bad in [truncated, &corrupt[..], &trailing[..], &bomb[..]] {
        assert!(eucora_license_core::replay_pack(bad).is_err());
        assert!(eucora_license_core::open_run(bad).is_err());
    }
}

/// A valid zstd frame of `data` with the content size declared, as a
/// hostile writer could make one, built by hand (RFC 8878): RLE blocks for
/// runs of one byte (which is how a bomb stays tiny), raw blocks otherwise.
fn zstd_frame_of(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // Frame header: magic, descriptor (FCS 8 bytes, single segment), size.
    out.extend_from_slice(&MAGIC);
    out.push(0b1110_0000);
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    let chunks: Vec<&[u8]> = data.chunks(128 << 10).collect();
    for (i, c) in chunks.iter().enumerate() {
        let last = u32::from(i + 1 == chunks.len());
        if c.iter().all(|b| *b == c[0]) && c.len() > 1 {
            let h = last | (1 << 1) | ((c.len() as u32) << 3);
            out.extend_from_slice(&h.to_le_bytes()[..3]);
            out.push(c[0]);
        } else {
            let h = last | ((c.len() as u32) << 3);
            out.extend_from_slice(&h.to_le_bytes()[..3]);
            out.extend_from_slice(c);
        }
    }
    out
}

/// A run chained to the previous run's compressed pack gives the same
/// snapshot as one chained to its plain archive, and that pack verifies
/// against the previous snapshot.
#[test]
fn a_run_chains_to_a_compressed_previous_pack() {
    let first = demo();
    let compressed = write_compressed_pack(&first, Vec::new()).unwrap().0;
    let plain = write_pack(&first, Vec::new()).unwrap().0;
    let bundle = crate::common::load_fixture("demo");
    let a = eucora_license_core::reconcile(&bundle, Some(&compressed));
    let b = eucora_license_core::reconcile(&bundle, Some(&plain));
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.snapshot.as_ref().unwrap().hash(), b.snapshot.as_ref().unwrap().hash());
    let second = write_compressed_pack(&a, Vec::new()).unwrap().0;
    let prev = first.snapshot.as_ref().unwrap().canonical_bytes().to_vec();
    let r = verify(&second, Some(&prev));
    assert!(r.ok, "{:?}", r.first_failure);
    let (snap, detail) = eucora_license_core::open_run(&compressed).unwrap();
    assert_eq!(snap.hash(), first.snapshot.as_ref().unwrap().hash());
    assert_eq!(format!("{detail:?}"), format!("{:?}", eucora_license_core::open_run(&plain).unwrap().1));
}
