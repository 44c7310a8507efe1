"""A chained history (fixtures/demo-history): previous runs given as packs or
directories, diff(), explain(), pseudonymised packs — each compared with the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import eucora_license as el
import pytest
from conftest import REPO, cli_reconcile

HISTORY = REPO / "fixtures" / "demo-history"
KEY = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[el.Result]]:
    """Three chained runs through Python, each written out like the CLI's --out."""
    root = tmp_path_factory.mktemp("history")
    results: list[el.Result] = []
    for n in (1, 2, 3):
        prev = None if n == 1 else root / str(n - 1)  # a previous output directory: its evidence.tar
        r = el.reconcile(HISTORY / f"step-{n}", previous=prev)
        r.write(root / str(n))
        results.append(r)
    return root, results


def test_chained_runs_equal_the_cli(cli: Path, tmp_path: Path, runs: tuple[Path, list[el.Result]]) -> None:
    root, results = runs
    for n in (1, 2, 3):
        extra = () if n == 1 else ("--previous", str(tmp_path / str(n - 1)))
        proc = cli_reconcile(cli, HISTORY / f"step-{n}", tmp_path / str(n), *extra)
        assert proc.returncode == 0, proc.stderr
        for name in ("snapshot.json", "evidence.tar"):
            assert (tmp_path / str(n) / name).read_bytes() == (root / str(n) / name).read_bytes(), (n, name)
    second = results[1].snapshot
    assert second.sequence == 2 and second.diff is not None and second.diff.basis == "units"


def test_diff_between_consecutive_runs(cli: Path, runs: tuple[Path, list[el.Result]]) -> None:
    root, results = runs
    d = el.diff(root / "1", root / "2")
    assert d.basis == "units" and d.previous_hash == results[0].snapshot_hash
    copilot = d.sku("m365-copilot")
    assert copilot is not None and copilot.removed.get("revoked") == 1
    assert d.units is not None  # the current run given as a directory: its pack's unit lists
    proc = subprocess.run([str(cli), "diff", str(root / "1"), str(root / "2"), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == d.to_dict()
    # From snapshots alone: the same summary, no unit lists.
    s = el.diff(results[0].snapshot, results[1].snapshot)
    assert s.units is None and s.skus == d.skus
    assert s == el.diff(results[0].snapshot.canonical_bytes(), (root / "2" / "snapshot.json").read_bytes())


def test_diff_of_runs_that_do_not_follow_each_other(runs: tuple[Path, list[el.Result]]) -> None:
    root, _ = runs
    d = el.diff(root / "1" / "snapshot.json", root / "3" / "evidence.tar")
    assert d.basis == "counters" and d.units is None
    assert all(not c.added and not c.removed for c in d.skus)


def test_explain(cli: Path, runs: tuple[Path, list[el.Result]]) -> None:
    root, results = runs
    text = el.explain(root / "2", root / "3", "matlab-concurrent")
    assert "−5 tokens at the peak: 5 source flexlm sent nothing this run." in text
    proc = subprocess.run([str(cli), "explain", str(root / "2"), str(root / "3"), "--sku", "matlab-concurrent"],
                          capture_output=True, text=True)
    assert proc.stdout.rstrip("\n") == text.rstrip("\n")
    with pytest.raises(el.EucoraLicenseError) as ei:
        el.explain(root / "1", root / "3", "acrobat-pro")
    assert ei.value.code in el.ERROR_CODES
    with pytest.raises(el.InvalidInput, match="expected a Snapshot"):
        el.explain(42, root / "3", "x")  # type: ignore[arg-type]


def test_pseudonymised_pack_verifies_and_names_no_one(cli: Path, tmp_path: Path, runs: tuple[Path, list[el.Result]]) -> None:
    root, results = runs
    shared = results[2].pseudonymised(KEY)
    assert shared.snapshot.totals == results[2].snapshot.totals
    pack = shared.evidence_pack()
    assert el.verify(pack, previous=results[1].snapshot).ok
    tar = el.pack_archive(pack)  # the members, uncompressed
    assert b'"raw_id":"' in tar
    for name in (b"alice@acme.com", b"PF3ABC12", b"lt-0042", b"lic-alice-spe_e3"):
        assert name not in tar
    key_file = tmp_path / "share.key"
    key_file.write_bytes(KEY)
    proc = cli_reconcile(cli, HISTORY / "step-3", tmp_path / "out", "--previous", str(root / "2"), "--share-key", str(key_file))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "evidence.shared.tar").read_bytes() == pack
    with pytest.raises(el.InvalidInput, match="expected bytes, not str"):
        results[2].pseudonymised("secret")  # type: ignore[arg-type]
