//! Verification and chaining read the pack as a stream (issue 15): the
//! streaming entry points give exactly the reports and runs of the in-memory
//! ones, whatever the reader's chunking, and a damaged, truncated,
//! oversized or reordered pack read as a stream is refused with a located
//! reason, never a panic.

use crate::common::{demo, load_fixture};
use crate::hostile_packs::{demo_pack, members, repack};
use eucora_license_core::internal::evidence::{replay_pack, replay_reader, verify, verify_reader};
use eucora_license_core::{reconcile, reconcile_after_pack, verify_pack_reader, write_compressed_pack, write_pack};
use std::io::Read;

/// A reader that hands out at most `step` bytes per call (and a varying
/// number), as a socket or a pipe may.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        let n = (1 + self.calls % self.step).min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn trickle(bytes: &[u8], step: usize) -> Trickle<'_> {
    Trickle { bytes, step, calls: 0 }
}

fn fixture_plain_pack() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/packs/demo-plain-v1.tar")).unwrap()
}

/// Same report through the stream as from the bytes, for both forms and the
/// pack written before compression, with reads of a few bytes or 64 KiB.
#[test]
fn the_streamed_report_is_the_in_memory_report() {
    let out = demo();
    let plain = write_pack(&out, Vec::new()).unwrap().0;
    let compressed = write_compressed_pack(&out, Vec::new()).unwrap().0;
    for pack in [&plain, &compressed, &fixture_plain_pack()] {
        let whole = verify(pack, None);
        assert!(whole.ok, "{:?}", whole.first_failure);
        for step in [7, 4096, 1 << 16] {
            assert_eq!(verify_reader(trickle(pack, step), None), whole, "step {step}");
        }
        assert_eq!(verify_pack_reader(std::io::BufReader::new(&pack[..]), None), whole);
        assert_eq!(replay_reader(trickle(pack, 13)), replay_pack(pack));
        assert_eq!(replay_pack(pack).unwrap(), out.snapshot.as_ref().unwrap().hash());
    }
}

/// Every truncation of either form is refused at the `archive` check, by
/// the tar's located reason or the frame's, and the replay refuses it too.
#[test]
fn a_truncated_stream_is_refused_at_the_archive_check() {
    let out = demo();
    let plain = write_pack(&out, Vec::new()).unwrap().0;
    let compressed = write_compressed_pack(&out, Vec::new()).unwrap().0;
    for pack in [&plain, &compressed] {
        let cuts: Vec<usize> = (0..pack.len()).step_by(pack.len() / 97 + 1).chain([pack.len() - 1, 1, 3]).collect();
        for cut in cuts {
            let r = verify_reader(trickle(&pack[..cut], 5000), None);
            assert_eq!(r.first_failure.as_deref(), Some("archive"), "cut at {cut}");
            let detail = &r.checks[0].detail;
            assert!(detail.starts_with("archive damaged at byte") || detail.starts_with("zstd frame:"), "cut at {cut}: {detail}");
            assert!(replay_reader(&pack[..cut]).is_err());
        }
    }
}

/// Damage inside the frame (any byte flipped) is refused, never a panic;
/// the frame's own reason wins over the damaged tar it may decompress to.
#[test]
fn a_damaged_frame_is_refused_with_the_frames_reason() {
    let compressed = write_compressed_pack(&demo(), Vec::new()).unwrap().0;
    for at in (20..compressed.len()).step_by(compressed.len() / 53 + 1) {
        let mut bad = compressed.clone();
        bad[at] ^= 0x5a;
        let r = verify_reader(&bad[..], None);
        assert_eq!(r.first_failure.as_deref(), Some("archive"), "byte {at}");
        assert!(r.checks[0].detail.starts_with("zstd frame:"), "byte {at}: {}", r.checks[0].detail);
    }
}

/// A member that would make verification hold more than the bound is
/// refused at its header, before its bytes are read: here `bundle.json`
/// claims 300 MiB, and only its header is there.
#[test]
fn an_oversized_member_is_refused_at_its_header() {
    let pack = demo_pack();
    let mut h = pack[..512].to_vec();
    assert!(h.starts_with(b"bundle.json\0"));
    h[124..136].copy_from_slice(format!("{:011o}\0", 300u64 << 20).as_bytes());
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let r = verify_reader(&h[..], None);
    assert_eq!(r.first_failure.as_deref(), Some("archive"));
    assert!(r.checks[0].detail.contains("`bundle.json`") && r.checks[0].detail.contains("refused"), "{}", r.checks[0].detail);
}

/// Members out of name order (the snapshot before the signals it rests
/// on), twice, or unknown are refused as the stream reaches them.
#[test]
fn member_order_attacks_are_refused_in_the_stream() {
    let files = members(demo_pack());
    let mut w = eucora_license_core::internal::tar::TarWriter::new(Vec::new());
    // TarWriter keeps names in order: build the reordered archive by
    // concatenating two archives' entries.
    let one = |name: &str, data: &[u8]| {
        let mut w = eucora_license_core::internal::tar::TarWriter::new(Vec::new());
        w.append(name, data).unwrap();
        let b = w.finish().unwrap();
        b[..b.len() - 1024].to_vec()
    };
    let mut swapped = Vec::new();
    for (n, d) in files.iter().filter(|(n, _)| n == "snapshot.json") {
        swapped.extend(one(n, d));
    }
    for (n, d) in files.iter().filter(|(n, _)| n != "snapshot.json") {
        swapped.extend(one(n, d));
    }
    swapped.extend([0u8; 1024]);
    let r = verify_reader(&swapped[..], None);
    assert_eq!(r.first_failure.as_deref(), Some("archive"));
    assert!(r.checks[0].detail.contains("not in name order"), "{}", r.checks[0].detail);

    let mut twice = Vec::new();
    for (n, d) in files.iter().take(2) {
        twice.extend(one(n, d));
    }
    twice.extend(one(&files[1].0, &files[1].1));
    twice.extend([0u8; 1024]);
    let r = verify_reader(&twice[..], None);
    assert!(r.checks[0].detail.contains("appears twice"), "{}", r.checks[0].detail);

    w.append("zz-unknown", b"x").unwrap();
    let unknown = w.finish().unwrap();
    let r = verify_reader(&unknown[..], None);
    assert!(r.checks[0].detail.contains("not one an evidence pack holds"), "{}", r.checks[0].detail);
}

/// A derived member that streamed past (not kept) and was forged with
/// every hash recomputed fails the replay, located to its first differing
/// segment.
#[test]
fn a_forged_streamed_member_is_located() {
    let mut files = members(demo_pack());
    let f = files.iter_mut().find(|f| f.0 == "exceptions.jsonl").unwrap();
    let at = f.1.len() / 2;
    f.1[at] = if f.1[at] == b'a' { b'b' } else { b'a' };
    let pack = repack(files);
    let r = verify_reader(&pack[..], None);
    assert_eq!(r.first_failure.as_deref(), Some("replay"), "{:?}", r.checks.iter().find(|c| c.status == "failed"));
    let detail = &r.checks.iter().find(|c| c.status == "failed").unwrap().detail;
    assert!(detail.contains("`exceptions.jsonl`") && detail.contains("first difference in bytes 0–"), "{detail}");
}

/// A run chained to a previous pack read as a stream is the run chained to
/// its bytes, pack bytes included, for both forms; and a damaged previous
/// pack fails the run closed with the reason.
#[test]
fn a_run_chains_to_a_streamed_previous_pack() {
    let first = reconcile(&load_fixture("demo-history/step-1"), None);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let bundle = load_fixture("demo-history/step-2");
    for prev in [write_pack(&first, Vec::new()).unwrap().0, write_compressed_pack(&first, Vec::new()).unwrap().0] {
        let from_bytes = reconcile(&bundle, Some(&prev));
        let streamed = reconcile_after_pack(&bundle, &mut trickle(&prev, 999));
        assert!(streamed.errors.is_empty(), "{:?}", streamed.errors);
        assert_eq!(streamed.snapshot.as_ref().unwrap().hash(), from_bytes.snapshot.as_ref().unwrap().hash());
        let pack = write_pack(&streamed, Vec::new()).unwrap().0;
        assert_eq!(pack, write_pack(&from_bytes, Vec::new()).unwrap().0);
        assert!(verify_reader(&pack[..], None).ok);
        let cut = reconcile_after_pack(&bundle, &mut &prev[..prev.len() - 700]);
        assert!(cut.snapshot.is_none());
        assert_eq!(cut.errors[0].code().name(), "previous_snapshot_invalid", "{:?}", cut.errors);
    }
}
