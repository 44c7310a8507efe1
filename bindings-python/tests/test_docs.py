"""The README's Python example and every example of docs/python.md run as written."""

from __future__ import annotations

import subprocess
import sys

from doc_examples import REPO, python_md_examples, readme_example


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)


def test_readme_example_runs() -> None:
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) == 5
    proc = run(code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Totals(entitled=54, reserved=4, reserved_effective=4, consumed=46")
    assert lines[1].startswith("True sha256:")


def test_readme_one_liner() -> None:
    proc = run("import eucora_license; print(eucora_license.reconcile('fixtures/demo').snapshot.totals)")
    assert proc.returncode == 0, proc.stderr
    assert "consumed=46" in proc.stdout


def test_python_md_examples_run() -> None:
    code = python_md_examples()
    assert code.count("el.reconcile(") >= 3
    proc = run(code)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "13 13.33 compliant" in out
    assert "[('$.lookback_dayz', 'unknown_key')]" in out
    assert "invalid_input catalog.json reconciliation failed closed: required file `catalog.json` is missing" in out
    assert "invalid_input: [as_of]: naive datetime" in out
    assert "critical -1 Consumed 3 exceeds entitled 2: remaining -1." in out
    assert "chain_broken 2" in out
    # Governance and agents.
    assert "role_lacks_action\napproved ['u-otto']\nalready_applied\n" in out
    assert "ok ['Autodesk Revit 2026'] ['autocad']\nTrue\nTrue\n{'code': 'entry_hash_mismatch', 'seq': 2}\n" in out
