"""The GIL is released while the engine works: another Python thread makes
progress during a large reconcile, a verification and pack writing. Results
are shared between threads safely."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import eucora_license as el
import pytest
from conftest import make_bundle

N_SIGNALS = 200_000


def large_bundle() -> el.Bundle:
    """N_SIGNALS installation/usage signals over 40 000 devices and two SKUs, as CSV bytes."""
    b = make_bundle(signals=None)
    header = "source,raw_id,observed_at,sku,kind,device_serial,device_name\n"
    lines = [header]
    for i in range(N_SIGNALS):
        d = i % 40_000
        lines.append(
            f"intune,r{i},2026-11-{10 + i % 12:02d}T{i % 24:02d}:00:00Z,{'acrobat' if i % 3 else 'e3'},"
            f"{'installation' if i % 2 else 'usage'},SN{d:06d},host-{d}\n"
        )
    b.add_signal_file("intune.csv", "".join(lines).encode())
    return b


def progress_while(work: Callable[[], object]) -> tuple[float, float, int]:
    """Run `work` in a thread; count main-thread loop iterations meanwhile.

    Returns (duration of work, longest pause of the main loop during work, iterations)."""
    done = threading.Event()
    span: list[float] = []
    errors: list[BaseException] = []

    def run() -> None:
        span.append(time.perf_counter())
        try:
            work()
        except BaseException as e:  # surfaced below
            errors.append(e)
        span.append(time.perf_counter())
        done.set()

    t = threading.Thread(target=run)
    stamps: list[float] = []
    t.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
    t.join()
    if errors:
        raise errors[0]
    start, end = span
    inside = [s for s in stamps if start <= s <= end]
    gaps = [b - a for a, b in zip([start] + inside, inside + [end], strict=True)]
    return end - start, max(gaps), len(inside)


@pytest.fixture(scope="module")
def big() -> el.Bundle:
    return large_bundle()


@pytest.fixture(scope="module")
def big_result(big: el.Bundle) -> el.Result:
    return el.reconcile(big)


def _assert_progress(duration: float, longest_pause: float, iterations: int) -> None:
    # With the GIL held for the whole call, the main loop would pause for the
    # entire duration. Released, it keeps running: its longest pause is a few
    # switch intervals (5 ms each), far below the call's duration (half of it
    # leaves room for a busy machine descheduling the main thread).
    assert duration > 0.05, f"work too short to show anything ({duration:.3f} s)"
    assert iterations > 1000, f"main thread made only {iterations} iterations in {duration:.3f} s"
    assert longest_pause < duration / 2, f"main thread paused {longest_pause:.3f} s of {duration:.3f} s"


def test_another_thread_progresses_during_a_large_reconcile(big: el.Bundle, big_result: el.Result) -> None:
    acrobat = big_result.snapshot.sku("acrobat")
    assert acrobat is not None and acrobat.consumed > 0
    holder: list[el.Result] = []
    _assert_progress(*progress_while(lambda: holder.append(el.reconcile(big))))
    assert holder[0].snapshot_hash == big_result.snapshot_hash


def test_another_thread_progresses_during_pack_writing_and_verify(big_result: el.Result) -> None:
    sink = io.BytesIO()
    _assert_progress(*progress_while(lambda: big_result.evidence_pack(sink, chunk_size=1 << 20)))
    pack = sink.getvalue()
    _assert_progress(*progress_while(lambda: el.verify(pack)))


def test_results_are_shared_between_threads(big: el.Bundle) -> None:
    result = el.reconcile(make_bundle())
    with ThreadPoolExecutor(max_workers=4) as pool:
        snaps = list(pool.map(lambda _: result.snapshot, range(8)))
        packs = list(pool.map(lambda _: result.evidence_pack(), range(4)))
        hashes = list(pool.map(lambda _: el.reconcile(make_bundle()).snapshot_hash, range(4)))
    assert all(s is snaps[0] for s in snaps)  # built once, cached
    assert len(set(packs)) == 1 and el.verify(packs[0]).ok
    assert set(hashes) == {result.snapshot_hash}
