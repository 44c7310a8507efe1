"""verify(), prove() / verify_proof()."""

from __future__ import annotations

import io
import json
from pathlib import Path

import eucora_license as el
import pytest
from conftest import DEMO


def test_verify_a_good_pack_from_bytes_path_and_file(tmp_path: Path, demo_result: el.Result, demo_pack: bytes) -> None:
    report = el.verify(demo_pack)
    assert report.ok and report.first_failure is None
    assert report.snapshot_hash == demo_result.snapshot_hash
    names = [c.name for c in report.checks]
    assert names[0] == "archive" and names[-1] == "replay"
    assert all(c.status == "passed" for c in report.checks)
    p = tmp_path / "evidence.tar"
    p.write_bytes(demo_pack)
    assert el.verify(p).ok and el.verify(str(p)).ok
    with p.open("rb") as f:
        assert el.verify(f).ok
    assert el.verify(io.BytesIO(demo_pack)).ok


def test_verify_with_the_previous_snapshot(demo_result: el.Result) -> None:
    second = el.reconcile(DEMO, previous=demo_result.snapshot)
    pack = second.evidence_pack()
    report = el.verify(pack, previous=demo_result.snapshot)
    assert report.ok
    chain = next(c for c in report.checks if c.name == "chain")
    assert "sequence 2 follows" in chain.detail
    other = el.reconcile(DEMO).snapshot  # same content: same hash, so still the right link
    assert el.verify(pack, previous=other).ok


def test_verify_names_the_first_failed_check(demo_pack: bytes) -> None:
    # Flip one byte inside snapshot.json's content: its artifact hash fails.
    # (In the tar: the pack is compressed; verification takes either form.)
    tar = el.pack_archive(demo_pack)
    i = tar.index(b'"organization_id":"org-acme"')
    bad = tar[:i] + tar[i:].replace(b"org-acme", b"org-acmf", 1)
    with pytest.raises(el.VerificationError) as ei:
        el.verify(bad)
    e = ei.value
    assert e.check is not None and e.check.startswith("artifact:")
    assert e.verify_report is not None
    statuses = {c.name: c.status for c in e.verify_report.checks}
    assert statuses["replay"] == "skipped"
    assert f"check `{e.check}` failed" in str(e)


def test_verify_missing_file(tmp_path: Path) -> None:
    with pytest.raises(el.InvalidInput, match="cannot read the pack"):
        el.verify(tmp_path / "missing.tar")


def test_prove_and_verify_proof(demo_result: el.Result, tmp_path: Path) -> None:
    snap = demo_result.snapshot
    for rec in snap.skus:
        proof = el.prove(snap, rec.sku)
        assert proof.record == rec
        assert proof.skus_root == snap.skus_root and proof.snapshot_hash == snap.hash
        assert proof.tree_size == len(snap.skus)
        assert el.verify_proof(proof).sku == rec.sku
    proof = el.prove(snap.canonical_bytes(), "m365-e3")
    assert el.verify_proof(proof.to_json().encode()) == proof
    assert el.verify_proof(proof.to_dict()).index == proof.index
    p = tmp_path / "snapshot.json"
    p.write_bytes(snap.canonical_bytes())
    assert el.prove(p, "m365-e3") == proof


def test_a_tampered_proof_does_not_verify(demo_result: el.Result) -> None:
    d = el.prove(demo_result.snapshot, "autocad").to_dict()
    d["record"]["consumed"] = 0
    with pytest.raises(el.VerificationError) as ei:
        el.verify_proof(d)
    assert ei.value.code == "verification_failed"
    assert "do not rebuild skus_root" in ei.value.message
    with pytest.raises(el.InvalidInput, match="not JSON"):
        el.verify_proof(b"{nope")


def test_prove_unknown_sku(demo_result: el.Result) -> None:
    with pytest.raises(el.InvalidInput, match="SKU `nope` is not in the snapshot"):
        el.prove(demo_result.snapshot, "nope")


def test_verify_proof_rejects_wrong_types() -> None:
    with pytest.raises(el.InvalidInput, match="expected bytes, not str"):
        el.verify_proof(json.dumps({"sku": "x"}))  # type: ignore[arg-type]


def test_verify_proof_bound_to_a_snapshot_hash(demo_result: el.Result) -> None:
    snap = demo_result.snapshot
    proof = el.prove(snap, "m365-e3")
    assert el.verify_proof(proof, snapshot_hash=snap.hash) == proof
    assert el.verify_proof(proof, snapshot=snap) == proof
    with pytest.raises(el.VerificationError):
        el.verify_proof(proof, snapshot_hash="sha256:" + "0" * 64)


def test_pack_archive_unwraps_the_compressed_pack(demo_result: el.Result, demo_pack: bytes) -> None:
    assert demo_pack[:4] == b"\x28\xb5\x2f\xfd"  # the CLI's compressed form
    tar = el.pack_archive(demo_pack)
    assert len(tar) > 5 * len(demo_pack) and tar[257:262] == b"ustar" and tar[:11] == b"bundle.json"
    # The pack written before compression is a plain tar: returned as it is; today's wraps it.
    old = (DEMO.parent / "packs" / "demo-plain-v1.tar").read_bytes()
    assert el.pack_archive(old) == old and tar == old
    assert el.verify(tar).ok and el.verify(bytearray(demo_pack)).ok
    # The same bytes for any number of compressor threads.
    assert demo_result.evidence_pack(threads=3) == demo_pack
    with pytest.raises(el.InvalidInput, match="zstd frame"):
        el.pack_archive(demo_pack[:100])
    with pytest.raises(el.InvalidInput, match="expected the pack's bytes"):
        el.pack_archive("evidence.tar")  # type: ignore[arg-type]
    with pytest.raises(el.InvalidInput, match="threads"):
        demo_result.evidence_pack(threads=-1)
