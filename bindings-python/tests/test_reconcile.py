"""reconcile(): the demo's counters, hashes equal to the CLI's, bundles from rows, chaining."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from conftest import AS_OF, DEMO, cli_reconcile, make_bundle

FIELDS = ("entitled", "reserved", "reserved_effective", "consumed", "remaining", "available")


def test_demo_counters_match_expected(demo_result: el.Result, expected: dict[str, Any]) -> None:
    snap = demo_result.snapshot
    assert demo_result.status == "ok"
    assert len(snap.skus) == len(expected["skus"])
    for sku_id, exp in expected["skus"].items():
        rec = snap.sku(sku_id)
        assert rec is not None, sku_id
        for f in FIELDS + ("variance", "compliance_status"):
            assert getattr(rec, f) == exp[f], f"{sku_id}.{f}"
        assert rec.variance_percent == Decimal(exp["variance_percent"])
        assert isinstance(rec.variance_percent, Decimal)
        pools = {p.name: p for p in rec.pools}
        assert set(pools) == set(exp["pools"])
        for name, ep in exp["pools"].items():
            for f in FIELDS + ("compliance_status",):
                assert getattr(pools[name], f) == ep[f], f"{sku_id}.pools.{name}.{f}"
    for f in FIELDS + ("variance",):
        assert getattr(snap.totals, f) == expected["totals"][f], f"totals.{f}"
    got = sorted((e.code, e.source, e.raw_id) for e in demo_result.exceptions)
    want = sorted((e["code"], e["source"], e["raw_id"]) for e in expected["exceptions"])
    assert got == want


def test_demo_snapshot_attributes_have_python_types(demo_result: el.Result) -> None:
    snap = demo_result.snapshot
    assert snap.reconciled_at == datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    assert snap.reconciled_at.tzinfo is not None
    assert snap.sequence == 1 and snap.previous_hash is None and snap.diff is None
    assert snap.organization_id == "org-acme"
    assert snap.health == "ok" and snap.health_reasons == ()
    assert snap.hash == demo_result.snapshot_hash == snap.to_dict()["snapshot_hash"]
    assert snap.hash.startswith("sha256:") and len(snap.hash) == 71
    assert set(snap.by_model) == {"concurrent", "device", "feature", "subscription", "user"}
    assert sum(t.consumed for t in snap.by_model.values()) == snap.totals.consumed
    assert all(c.status == "ok" and c.signals > 0 for c in snap.coverage.values())
    for c in snap.coverage.values():
        assert c.last_observed_at is not None and c.last_observed_at <= snap.reconciled_at
    assert sum(snap.exceptions_summary.values()) == len(demo_result.exceptions)
    assert all(isinstance(j.rows_total, int) for j in snap.imports)
    assert snap.ruleset.version >= 1 and snap.ruleset.hash.startswith("sha256:")
    assert snap.sku("no-such-sku") is None


def test_snapshot_is_read_only(demo_result: el.Result) -> None:
    snap = demo_result.snapshot
    with pytest.raises(AttributeError):
        snap.sequence = 2  # read-only at run time
    with pytest.raises(TypeError):
        snap.coverage["x"] = snap.coverage["entra"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        snap.totals.consumed = 0  # type: ignore[misc]
    # to_dict() is a copy: changing it changes nothing.
    d = snap.to_dict()
    d["sequence"] = 99
    assert snap.sequence == 1


def test_snapshot_serialisations_agree(demo_result: el.Result) -> None:
    snap = demo_result.snapshot
    assert snap.to_json().encode() == snap.canonical_bytes()
    assert json.loads(snap.to_json()) == snap.to_dict()
    again = el.Snapshot.from_bytes(json.dumps(snap.to_dict(), indent=2).encode())
    assert again == snap and again.canonical_bytes() == snap.canonical_bytes()


def test_demo_hash_equals_the_cli(cli: Path, tmp_path: Path, demo_result: el.Result) -> None:
    proc = cli_reconcile(cli, DEMO, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    cli_snapshot = (tmp_path / "out" / "snapshot.json").read_bytes()
    assert cli_snapshot == demo_result.snapshot.canonical_bytes()
    assert json.loads(cli_snapshot)["snapshot_hash"] == demo_result.snapshot_hash


def test_outputs_are_byte_identical_to_the_cli(cli: Path, tmp_path: Path, demo_result: el.Result) -> None:
    assert cli_reconcile(cli, DEMO, tmp_path / "cli").returncode == 0
    demo_result.write(tmp_path / "py")
    for name in ("snapshot.json", "evidence.tar", "run_report.json", "exceptions.jsonl"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert (tmp_path / "py" / "evidence.tar").read_bytes() == demo_result.evidence_pack()


def test_reconcile_accepts_str_and_pathlike(demo_result: el.Result) -> None:
    assert el.reconcile(str(DEMO)).snapshot_hash == demo_result.snapshot_hash
    assert el.reconcile(el.Bundle.from_dir(DEMO)).snapshot_hash == demo_result.snapshot_hash


def test_bundle_from_rows_matches_the_cli_on_the_written_directory(cli: Path, tmp_path: Path) -> None:
    bundle = make_bundle()
    result = el.reconcile(bundle)
    snap = result.snapshot
    acrobat, e3 = snap.sku("acrobat"), snap.sku("e3")
    assert acrobat is not None and e3 is not None
    # One device seen twice (serial normalised, +01:00 offset), one more device.
    assert (acrobat.entitled, acrobat.consumed, acrobat.remaining) == (10, 2, 8)
    assert acrobat.compliance_status == "under_utilized" and acrobat.variance_percent == Decimal("80.00")
    # Carol's assignment is revoked.
    assert (e3.entitled, e3.consumed, e3.available) == (3, 2, 1)
    bundle.write(tmp_path / "bundle")
    proc = cli_reconcile(cli, tmp_path / "bundle", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "snapshot.json").read_bytes() == snap.canonical_bytes()


def test_row_order_does_not_change_the_counters() -> None:
    from conftest import signal_rows

    a = el.reconcile(make_bundle()).snapshot
    b = el.reconcile(make_bundle(signals=list(reversed(signal_rows())))).snapshot
    # The rows' file hash (an import's input_hash) differs; nothing computed from the rows does.
    assert a.skus_root == b.skus_root and a.skus == b.skus and a.totals == b.totals
    assert [i.input_hash for i in a.imports] != [i.input_hash for i in b.imports]


def test_bundle_from_files_and_signal_files() -> None:
    base = make_bundle(signals=None)
    files = dict(base.files)
    b = el.Bundle.from_files(files)
    b.add_signal_file(
        "intune.jsonl",
        b'{"source":"intune","raw_id":"9","observed_at":"2026-11-21T10:00:00Z","sku":"acrobat","kind":"usage","device_name":"lt-1"}\n',
    )
    snap = el.reconcile(b).snapshot
    acrobat = snap.sku("acrobat")
    assert acrobat is not None and acrobat.consumed == 1
    assert [i.path for i in snap.imports if i.adapter == "canonical" and i.path.startswith("signals/")] == ["signals/intune.jsonl"]
    # entra sent nothing: degraded, and the coverage says why.
    assert snap.health == "degraded" and snap.coverage["entra"].status == "missing"
    assert "source_missing:entra" in snap.health_reasons


def test_raw_exports_through_an_adapter_folder() -> None:
    folder = Path(__file__).resolve().parents[2] / "fixtures" / "adapters" / "jamf-inventory"
    b = make_bundle(expected_sources=["jamf"], signals=None, adapter_options={"jamf-inventory": {"observed_at": AS_OF}})
    for page in sorted(folder.glob("page-*.json")):
        b.add_import("jamf-inventory", page.name, page.read_bytes())
    result = el.reconcile(b)
    jobs = [j for j in result.report.imports if j.adapter == "jamf-inventory"]
    assert len(jobs) == 3 and all(j.rows_total > 0 for j in jobs)
    assert result.snapshot.coverage["jamf"].signals == sum(j.rows_accepted for j in jobs)


def test_previous_chains_the_snapshots(demo_result: el.Result) -> None:
    first = demo_result.snapshot
    second = el.reconcile(DEMO, previous=first).snapshot
    assert second.sequence == 2 and second.previous_hash == first.hash
    assert second.diff is not None and second.diff.previous_hash == first.hash and second.diff.skus == ()
    # bytes and a path give the same chain.
    assert el.reconcile(DEMO, previous=first.canonical_bytes()).snapshot_hash == second.hash


def test_previous_from_a_path(tmp_path: Path, demo_result: el.Result) -> None:
    p = tmp_path / "snapshot.json"
    p.write_bytes(demo_result.snapshot.canonical_bytes())
    assert el.reconcile(DEMO, previous=p).snapshot.sequence == 2


def test_evidence_pack_bytes_and_streamed_agree(demo_result: el.Result, demo_pack: bytes) -> None:
    sink = io.BytesIO()
    pack_hash = demo_result.evidence_pack(sink, chunk_size=4096)
    assert sink.getvalue() == demo_pack
    assert demo_pack.startswith(b"\x28\xb5\x2f\xfd")  # the compressed form, as the CLI writes it
    with tarfile.open(fileobj=io.BytesIO(el.pack_archive(demo_pack))) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        names = tar.getnames()
    assert manifest["pack_hash"] == pack_hash
    assert manifest["snapshot_hash"] == demo_result.snapshot_hash
    assert names == sorted(names) and "snapshot.json" in names


class _CountingSink:
    """A file-like object that records each write (chunks, never the whole pack)."""

    def __init__(self) -> None:
        self.chunks: list[int] = []
        self.data = bytearray()

    def write(self, b: bytes) -> int:
        self.chunks.append(len(b))
        self.data += b
        return len(b)


def test_evidence_pack_is_written_in_chunks(demo_result: el.Result, demo_pack: bytes) -> None:
    sink = _CountingSink()
    demo_result.evidence_pack(sink, chunk_size=8192)
    assert bytes(sink.data) == demo_pack
    assert len(sink.chunks) > 1 and max(sink.chunks) <= 8192 + 64 * 1024


def test_report_and_exceptions(demo_result: el.Result) -> None:
    report = demo_result.report
    assert report.status == "ok" and report.reasons == () and report.errors == ()
    assert report.snapshot_hash == demo_result.snapshot_hash and report.sequence == 1
    assert report.reconciled_at == AS_OF
    assert {j.path for j in report.imports} >= {"catalog.json", "entitlements.csv"}
    assert dict(report.exceptions) == dict(demo_result.snapshot.exceptions_summary)
    assert json.loads(report.to_json()) == report.to_dict()
    lines = demo_result.exceptions_jsonl().splitlines()
    assert len(lines) == len(demo_result.exceptions)
    assert all(e.detail for e in demo_result.exceptions)


def test_pools_directory_and_named_signal_files(cli: Path, tmp_path: Path) -> None:
    from conftest import signal_rows

    rows = signal_rows()
    bundle = make_bundle(
        signals=[r for r in rows if r["source"] == "intune"],
        pools=[{"pool_id": "e3-emea", "sku": "e3", "scope": "region:emea", "quantity": 2, "reserved": 1}],
        directory=[
            {"principal_type": "user", "canonical_id": "alice@acme.com", "alias": "a.smith@acme.com",
             "status": "active", "region": "emea", "bu": None, "last_active_at": AS_OF},
        ],
    )
    bundle.add_signals([dict(r, user="a.smith@acme.com") if r["raw_id"] == "u-alice" else r
                        for r in rows if r["source"] == "entra"], name="entra")
    assert {"signals/signals.csv", "signals/entra.csv", "pools.csv", "directory.csv"} <= set(bundle.files)
    snap = el.reconcile(bundle).snapshot
    e3 = snap.sku("e3")
    assert e3 is not None and e3.consumed == 2  # alice (through her alias) and bob
    pools = {p.name: p for p in e3.pools}
    assert set(pools) == {"e3-emea", "unpooled"}
    assert (pools["e3-emea"].consumed, pools["e3-emea"].reserved, pools["e3-emea"].scope) == (1, 1, "region:emea")
    assert (pools["unpooled"].entitled, pools["unpooled"].consumed, pools["unpooled"].scope) == (1, 1, None)
    bundle.write(tmp_path / "b")
    assert cli_reconcile(cli, tmp_path / "b", tmp_path / "out").returncode == 0
    assert (tmp_path / "out" / "snapshot.json").read_bytes() == snap.canonical_bytes()


class _FullDisk:
    def __init__(self) -> None:
        self.calls = 0

    def write(self, b: bytes) -> int:
        self.calls += 1
        if self.calls == 3:
            raise OSError(28, "No space left on device")
        return len(b)


def test_a_failing_file_object_raises_its_own_error(demo_result: el.Result) -> None:
    sink = _FullDisk()
    with pytest.raises(OSError, match="No space left on device"):
        demo_result.evidence_pack(sink, chunk_size=1024)
    assert sink.calls == 3  # stopped at the first failure
    with pytest.raises(el.InvalidInput, match="expected a binary file-like object"):
        demo_result.evidence_pack(object())  # type: ignore[call-overload]
    with pytest.raises(el.InvalidInput, match="positive int"):
        demo_result.evidence_pack(io.BytesIO(), chunk_size=0)


@pytest.mark.parametrize("source", ["dir", "memory"])
def test_threads_give_identical_bytes(source: str) -> None:
    """`threads` changes how the run is carried out, never its bytes (DESIGN Part B)."""
    bundle: Path | el.Bundle = DEMO if source == "dir" else make_bundle()
    one = el.reconcile(bundle)
    assert one.snapshot.canonical_bytes() == el.reconcile(bundle, threads=1).snapshot.canonical_bytes()
    for threads in (2, 3):
        other = el.reconcile(bundle, threads=threads)
        assert other.snapshot.canonical_bytes() == one.snapshot.canonical_bytes()
        assert other.exceptions_jsonl() == one.exceptions_jsonl()
        assert other.evidence_pack() == one.evidence_pack()


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_threads_must_be_an_int_of_at_least_one(bad: Any) -> None:
    with pytest.raises(el.InvalidInput) as e:
        el.reconcile(DEMO, threads=bad)
    assert "threads" in str(e.value)


@pytest.mark.parametrize("source", ["dir", "memory"])
def test_keep_units_false_gives_the_same_snapshot_and_no_pack(source: str, tmp_path: Path) -> None:
    """Without the units (the CLI's --no-pack) the snapshot, report and
    exceptions are the same bytes; a pack cannot be written from it."""
    bundle: Path | el.Bundle = DEMO if source == "dir" else make_bundle()
    full = el.reconcile(bundle)
    lean = el.reconcile(bundle, keep_units=False, threads=2)
    assert lean.snapshot.canonical_bytes() == full.snapshot.canonical_bytes()
    assert lean.exceptions_jsonl() == full.exceptions_jsonl()
    lean.write(tmp_path / "lean", pack=False)
    full.write(tmp_path / "full", pack=False)
    for name in ("snapshot.json", "run_report.json", "exceptions.jsonl"):
        assert (tmp_path / "lean" / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name
    with pytest.raises(el.InternalError, match="without keeping its units"):
        lean.evidence_pack()
    with pytest.raises(el.InvalidInput, match="keep_units"):
        el.reconcile(bundle, keep_units=1)  # type: ignore[arg-type]
