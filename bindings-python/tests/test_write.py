"""Result.write goes through the CLI's output-directory protocol (the shared
`dirbundle/src/outdir.rs`): the same bytes, one set replaced by another, no
temporaries left, interrupted switches finished by the next reader."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import eucora_license as el
import pytest
from conftest import DEMO, REPO, cli_reconcile

HISTORY = REPO / "fixtures" / "demo-history"
OUTPUTS = ("snapshot.json", "evidence.tar", "run_report.json", "exceptions.jsonl")


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def temporaries(directory: Path) -> list[str]:
    return [n for n in names(directory) if n.startswith((".staging-", ".commit", ".lock")) or ".tmp-" in n]


@pytest.fixture(scope="module")
def other_result() -> el.Result:
    return el.reconcile(HISTORY / "step-1")


def test_write_is_byte_identical_to_the_cli_and_leaves_no_temporaries(
    cli: Path, tmp_path: Path, demo_result: el.Result
) -> None:
    assert cli_reconcile(cli, DEMO, tmp_path / "cli").returncode == 0
    demo_result.write(tmp_path / "py")
    assert names(tmp_path / "py") == names(tmp_path / "cli") == sorted(OUTPUTS)
    for name in OUTPUTS:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    # pack=False: the CLI's --no-pack.
    assert cli_reconcile(cli, DEMO, tmp_path / "cli-np", "--no-pack").returncode == 0
    demo_result.write(str(tmp_path / "py-np"), pack=False)
    assert names(tmp_path / "py-np") == names(tmp_path / "cli-np") == ["exceptions.jsonl", "run_report.json", "snapshot.json"]
    for name in names(tmp_path / "cli-np"):
        assert (tmp_path / "py-np" / name).read_bytes() == (tmp_path / "cli-np" / name).read_bytes(), name


def test_write_over_a_previous_run_replaces_the_set(
    cli: Path, tmp_path: Path, demo_result: el.Result, other_result: el.Result
) -> None:
    out = tmp_path / "out"
    key = tmp_path / "share.key"
    key.write_bytes(b"0123456789abcdef0123456789abcdef")
    # A CLI run with a shared pack, plus what a killed older run left behind and a user's file.
    assert cli_reconcile(cli, DEMO, out, "--share-key", str(key)).returncode == 0
    assert "evidence.shared.tar" in names(out)
    (out / ".staging-999999-0").mkdir()
    (out / ".staging-999999-0" / "snapshot.json").write_bytes(b"half written")
    (out / ".commit.tmp-999999-0").write_bytes(b"partial journal")
    (out / ".evidence.tar.tmp-1-2").write_bytes(b"an older version's temporary")
    (out / "notes.txt").write_bytes(b"mine")

    other_result.write(out)
    assert temporaries(out) == []
    # The shared pack of the older run is gone: it would not match the new snapshot.
    assert names(out) == sorted([*OUTPUTS, "notes.txt"])
    assert (out / "snapshot.json").read_bytes() == other_result.snapshot.canonical_bytes()
    assert (out / "evidence.tar").read_bytes() == other_result.evidence_pack()
    assert (out / "exceptions.jsonl").read_bytes() == other_result.exceptions_jsonl()
    assert (out / "notes.txt").read_bytes() == b"mine"

    # Without a pack, the older pack goes too.
    demo_result.write(out, pack=False)
    assert temporaries(out) == []
    assert names(out) == ["exceptions.jsonl", "notes.txt", "run_report.json", "snapshot.json"]
    assert (out / "snapshot.json").read_bytes() == demo_result.snapshot.canonical_bytes()
    # The CLI reads the directory Python wrote as one of its own runs.
    proc = cli_reconcile(cli, DEMO, tmp_path / "next", "--previous", str(out))
    assert proc.returncode == 0, proc.stderr
    assert el.Snapshot.from_bytes((tmp_path / "next" / "snapshot.json").read_bytes()).previous_hash == demo_result.snapshot_hash


def test_a_reader_finishes_an_interrupted_switch(tmp_path: Path, demo_result: el.Result, other_result: el.Result) -> None:
    out = tmp_path / "out"
    demo_result.write(out)
    # A switch that stopped after its commit point: the journal is renamed into
    # place, the new snapshot and report are still in the staging directory.
    staging = out / ".staging-999999-0"
    staging.mkdir()
    (staging / "snapshot.json").write_bytes(other_result.snapshot.canonical_bytes())
    (staging / "run_report.json").write_bytes(b"{}\n")
    (out / ".commit").write_text(
        "eucora-license outputs v1\nstaging .staging-999999-0\nremove evidence.tar\n"
        "install snapshot.json\ninstall run_report.json\n"
    )
    # Reading the directory as a run (here: as the previous run of the next
    # step) finishes the switch first: the chain is to the new snapshot.
    nxt = el.reconcile(HISTORY / "step-2", previous=out)
    assert nxt.snapshot.previous_hash == other_result.snapshot_hash
    assert temporaries(out) == []
    assert names(out) == ["exceptions.jsonl", "run_report.json", "snapshot.json"]
    assert (out / "snapshot.json").read_bytes() == other_result.snapshot.canonical_bytes()
    assert (out / "run_report.json").read_bytes() == b"{}\n"


def test_concurrent_writers_leave_one_complete_set(tmp_path: Path, demo_result: el.Result, other_result: el.Result) -> None:
    out = tmp_path / "out"
    errors: list[BaseException] = []

    def writer(result: el.Result) -> None:
        try:
            for _ in range(3):
                result.write(out)
        except BaseException as e:  # re-raised below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(r,)) for r in (demo_result, other_result)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert temporaries(out) == [] and names(out) == sorted(OUTPUTS)
    written = {name: (out / name).read_bytes() for name in OUTPUTS}
    report = json.loads(written.pop("run_report.json"))
    expected = [
        {
            "snapshot.json": r.snapshot.canonical_bytes(),
            "evidence.tar": r.evidence_pack(),
            "exceptions.jsonl": r.exceptions_jsonl(),
        }
        for r in (demo_result, other_result)
    ]
    assert written in expected
    # The report belongs to the same run as the snapshot.
    assert report["snapshot_hash"] == json.loads(written["snapshot.json"])["snapshot_hash"]


def test_an_unwritable_directory_raises_oserror_naming_the_path(tmp_path: Path, demo_result: el.Result) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory")
    with pytest.raises(OSError, match=re.escape(str(blocker))):
        demo_result.write(blocker)
    with pytest.raises(OSError, match=re.escape(str(blocker))):
        demo_result.write(blocker / "below")
    assert blocker.read_bytes() == b"not a directory"
    with pytest.raises(el.InvalidInput):
        demo_result.write(b"bytes-path")  # type: ignore[arg-type]
