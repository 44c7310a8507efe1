"""The functions of :mod:`eucora_license` (everything the CLI does)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from collections.abc import Iterable, Mapping
from typing import IO, Any, Protocol, overload

from . import _native
from ._bundle import Bundle
from ._convert import as_bytes, bad, format_instant, json_value, read_path, text, type_name
from ._errors import EucoraLicenseError, VerificationError
from ._model import (
    AdapterInfo,
    AdapterJob,
    Diff,
    DirectoryEntry,
    ExceptionRecord,
    ImportResult,
    Proof,
    RowError,
    RulesetInfo,
    RunReport,
    SidebarState,
    Snapshot,
    VerifyReport,
    _frozen_json,
)

__all__ = [
    "Result",
    "adapters",
    "diff",
    "explain",
    "hash_ruleset",
    "import_file",
    "prove",
    "reconcile",
    "sidebar",
    "validate_ruleset",
    "verify",
    "verify_proof",
]


class SupportsWrite(Protocol):
    """A binary file-like object: anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> object: ...


PathLike = str | os.PathLike[str]
SnapshotInput = Snapshot | bytes | bytearray | memoryview | PathLike


def _snapshot_bytes(value: object, what: str) -> bytes:
    """A snapshot given as a Snapshot, its bytes, or a path to snapshot.json."""
    if isinstance(value, Snapshot):
        return value.canonical_bytes()
    if isinstance(value, (str, os.PathLike)):
        return read_path(value, what)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise bad(what, f"expected a Snapshot, its bytes or a path to snapshot.json, not {type_name(value)}")


RunInput = Snapshot | bytes | bytearray | memoryview | PathLike


def _run_bytes(value: object, what: str) -> bytes:
    """A past run: a Snapshot, snapshot JSON or evidence-pack bytes, or a path to
    either file or to a run directory (its ``evidence.tar``, else its ``snapshot.json``).

    A run directory is read as the CLI reads it: under the directory's lock,
    after finishing a switch an interrupted :meth:`Result.write` (or CLI run)
    left, so the bytes belong to one complete run."""
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, str) and os.path.isdir(path):
            return _native.read_run_dir(path, what)
        return read_path(path, what)
    if isinstance(value, Snapshot):
        return value.canonical_bytes()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise bad(what, f"expected a Snapshot, snapshot or evidence-pack bytes, or a path, not {type_name(value)}")


class Result:
    """The outcome of a successful :func:`reconcile` (``ok`` or ``degraded``).

    ``snapshot``, ``report`` and ``exceptions`` are built on first access and
    then cached. A Result is immutable and safe to share between threads;
    :meth:`evidence_pack` may be called from several threads at once.
    """

    __slots__ = ("_outcome", "_lock", "_snapshot", "_report", "_exceptions")

    def __init__(self, outcome: _native.Outcome) -> None:
        """Internal: returned by :func:`reconcile`."""
        self._outcome = outcome
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._report: RunReport | None = None
        self._exceptions: tuple[ExceptionRecord, ...] | None = None

    @property
    def status(self) -> str:
        """``ok``, or ``degraded`` when an expected source is missing or collapsed."""
        return self._outcome.status

    @property
    def snapshot_hash(self) -> str:
        """The snapshot's hash (without building the :class:`Snapshot`)."""
        h = self._outcome.snapshot_hash
        assert h is not None
        return h

    @property
    def snapshot(self) -> Snapshot:
        """The sealed snapshot."""
        with self._lock:
            if self._snapshot is None:
                data = self._outcome.snapshot_bytes()
                assert data is not None
                self._snapshot = Snapshot(data, self.snapshot_hash)
            return self._snapshot

    @property
    def report(self) -> RunReport:
        """The run report (``run_report.json``)."""
        with self._lock:
            if self._report is None:
                self._report = RunReport._from_json(json.loads(self._outcome.report_json()))
            return self._report

    @property
    def exceptions(self) -> tuple[ExceptionRecord, ...]:
        """Signals excluded or flagged by the run, sorted (``exceptions.jsonl``)."""
        with self._lock:
            if self._exceptions is None:
                lines = self._outcome.exceptions_jsonl().splitlines()
                self._exceptions = tuple(
                    ExceptionRecord(str(d["code"]), str(d["source"]), str(d["raw_id"]), str(d.get("detail", "")))
                    for d in map(json.loads, lines)
                )
            return self._exceptions

    def exceptions_jsonl(self) -> bytes:
        """``exceptions.jsonl`` as the CLI writes it."""
        return self._outcome.exceptions_jsonl()

    @overload
    def evidence_pack(self, file: None = None, *, chunk_size: int = ..., threads: int = ...) -> bytes: ...

    @overload
    def evidence_pack(self, file: SupportsWrite, *, chunk_size: int = ..., threads: int = ...) -> str: ...

    def evidence_pack(self, file: SupportsWrite | None = None, *, chunk_size: int = 1 << 20, threads: int = 1) -> bytes | str:
        """The evidence pack (DESIGN A7): the deterministic tar in one pinned
        zstd frame, as the CLI writes it (docs/audit-guide.md, section 9);
        :func:`pack_archive` gives back the tar for ``tarfile``.

        Without ``file``: the pack as ``bytes``. With ``file`` (anything with
        ``write(bytes)``: an open file, ``io.BytesIO``, a Django
        ``StreamingHttpResponse`` generator's buffer...): the pack is streamed
        into it in chunks of ``chunk_size`` bytes, never held whole in memory,
        and the pack hash is returned. The GIL is released while the pack is
        generated; it is taken only for each ``write`` call. ``threads``
        compressor threads work while the pack is produced (the bytes are the
        same for any number).
        """
        workers = _threads(threads)
        if file is None:
            data, _ = self._outcome.pack_bytes(workers)
            return data
        if not callable(getattr(file, "write", None)):
            raise bad("file", f"expected a binary file-like object with write(), not {type_name(file)}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise bad("chunk_size", "expected a positive int")
        pack_hash, _ = self._outcome.write_pack(file, chunk_size, workers)
        return pack_hash

    def pseudonymised(self, key: bytes) -> Result:
        """The same run with users, devices and record ids replaced by keyed,
        order-preserving pseudonyms (same counters). Its evidence pack is the
        one to share outside the organisation (the CLI's ``--share-key``
        writes it as ``evidence.shared.tar``); it verifies on its own. Keep
        ``key`` secret: with it the pseudonyms can be linked back."""
        return Result(self._outcome.pseudonymise(as_bytes(key, "key")))

    def write(self, directory: PathLike, *, pack: bool = True, threads: int = 1) -> None:
        """Write the CLI's outputs into ``directory`` (created if needed):
        ``snapshot.json``, ``evidence.tar`` (unless ``pack=False``),
        ``run_report.json`` and ``exceptions.jsonl``, byte for byte as
        ``eucora-license reconcile --out`` writes them, and through the same
        native code, so with the same guarantees: the directory is locked
        (a second writer, CLI or Python, waits for the first), a switch an
        interrupted run left is finished and its temporaries are removed,
        the files are staged and synced to disk, then switched in as one set
        through an atomic journal rename. Readers that go through the lock
        (``previous=``, :func:`diff`, :func:`explain` given the directory, and
        the CLI) see the old set or the new one, never a mix. An older
        ``evidence.tar`` (with ``pack=False``) or ``evidence.shared.tar`` is
        removed: it would not match the new snapshot. Other files in
        ``directory`` are left alone.

        The GIL is released while writing. Raises :class:`OSError` (e.g.
        :class:`PermissionError`) naming the path when the directory cannot
        be written; the previous set is then kept. ``threads`` is as for
        :meth:`evidence_pack`."""
        workers = _threads(threads)
        root = os.fspath(directory)
        if not isinstance(root, str):
            raise bad("directory", "expected a str path, not bytes")
        self._outcome.write_run(root, bool(pack), workers)

    def __repr__(self) -> str:
        return f"<Result {self.status} {self.snapshot_hash}>"


def reconcile(
    bundle: PathLike | Bundle, *, previous: RunInput | None = None, threads: int = 1, keep_units: bool = True
) -> Result:
    """Reconcile a bundle: a directory path, or a :class:`Bundle` built in memory.

    ``previous`` chains the snapshot to the previous run: a :class:`Snapshot`,
    snapshot JSON or evidence-pack bytes, or a path to either file or to a
    previous output directory (as the CLI's ``--previous``). Its hash must
    verify and it must belong to the same organization. Given the previous
    evidence pack, the snapshot's ``diff`` gives reasons per unit
    (``basis == "units"``); given a snapshot, counter deltas.

    Returns a :class:`Result` when a snapshot was sealed (status ``ok`` or
    ``degraded``). A run that fails closed raises the error family of its
    first reason, with every error in ``.errors`` and the run report in
    ``.report``: :class:`InvalidInput` (unusable input), :class:`RulesetError`,
    :class:`IntegrityError` (``catalog_integrity``, ``conflicting_duplicate``,
    ``previous_snapshot_invalid``, ``reject_threshold_exceeded``).

    ``threads`` (at least 1; default 1) spreads the data-parallel stages
    over that many threads; the result is byte-identical for every value
    (DESIGN Part B), so it only changes how fast the run is.

    ``keep_units=False`` is for a run whose evidence pack is never written
    (the CLI's ``--no-pack``): the units are hashed into their Merkle roots
    and not kept (about 1 GB less at 10 M signals). The snapshot, report
    and exceptions are the same bytes; writing a pack from such a result
    raises :class:`InternalError`.

    The GIL is released for the whole computation.
    """
    if not isinstance(threads, int) or isinstance(threads, bool):
        raise bad("threads", f"expected an int of at least 1, not {type_name(threads)}")
    if not isinstance(keep_units, bool):
        raise bad("keep_units", f"expected a bool, not {type_name(keep_units)}")
    prev = None if previous is None else _run_bytes(previous, "previous")
    if isinstance(bundle, Bundle):
        return Result(_native.reconcile_files(dict(bundle.files), prev, threads, keep_units))
    if isinstance(bundle, (str, os.PathLike)):
        path = os.fspath(bundle)
        if not isinstance(path, str):
            raise bad("bundle", "expected a str path, not bytes")
        return Result(_native.reconcile_dir(path, prev, threads, keep_units))
    raise bad("bundle", f"expected a bundle directory path or a Bundle, not {type_name(bundle)}")


def diff(previous: RunInput, current: RunInput) -> Diff:
    """What changed between two runs (the CLI's ``diff``).

    Each run is a :class:`Snapshot`, snapshot or evidence-pack bytes, or a
    path to either or to an output directory. When ``current`` directly
    follows ``previous`` its own diff is returned (reasons per unit when it
    was chained to the previous pack; with ``current`` given as its pack,
    the unit lists too, in ``.units``); otherwise counter deltas
    (``basis == "counters"``).
    """
    raw = json.loads(_native.diff(_run_bytes(previous, "previous"), _run_bytes(current, "current")))
    return Diff._from_json(raw["summary"], raw["units"])


def explain(previous: RunInput, current: RunInput, sku: str) -> str:
    """Why one SKU's numbers changed between two consecutive runs, in words
    (the CLI's ``explain``); every number comes from the diff. Runs as for
    :func:`diff`; pass the current run's evidence pack for unit-level reasons."""
    return _native.explain(_run_bytes(previous, "previous"), _run_bytes(current, "current"), text(sku, "sku"))


def _threads(threads: object) -> int:
    """A ``threads`` argument: a non-negative int (0 counts as 1)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise bad("threads", "expected a non-negative int")
    return max(threads, 1)


def pack_archive(pack: bytes | bytearray | memoryview) -> bytes:
    """The plain tar of an evidence pack of either form: a compressed pack
    (what the CLI, :meth:`Result.evidence_pack` and :meth:`Result.write`
    write) is decompressed, with the verifier's bounds; a plain tar (packs
    written before the compression) is returned as it is. Hand the result to
    ``tarfile``; verification takes either form. A damaged frame raises
    :class:`InvalidInput`."""
    if not isinstance(pack, (bytes, bytearray, memoryview)):
        raise bad("pack", f"expected the pack's bytes, not {type_name(pack)}")
    return _native.pack_archive(bytes(pack))


def verify(pack: bytes | bytearray | memoryview | PathLike | IO[bytes], previous: SnapshotInput | None = None) -> VerifyReport:
    """Verify an evidence pack offline: every artifact hash, the manifest, the
    snapshot hash, both Merkle roots, the chain link (to ``previous`` when
    given) and a replay of the reconciliation from the pack's own inputs.

    ``pack`` is the tar's bytes, a path to it, or a binary file object.
    Returns the :class:`VerifyReport` when every check passed; otherwise
    raises :class:`VerificationError` naming the first failed check, with the
    full report in ``.verify_report``. The GIL is released while verifying.
    """
    prev = None if previous is None else _snapshot_bytes(previous, "previous")
    if isinstance(pack, (str, os.PathLike)):
        raw = _native.verify_pack_file(os.fspath(pack), prev)
    elif isinstance(pack, (bytes, bytearray, memoryview)):
        raw = _native.verify_pack(bytes(pack), prev)
    elif callable(getattr(pack, "read", None)):
        data = pack.read()
        raw = _native.verify_pack(as_bytes(data, "pack.read()"), prev)
    else:
        raise bad("pack", f"expected the pack's bytes, a path or a binary file, not {type_name(pack)}")
    report = VerifyReport._from_json(json.loads(raw))
    if not report.ok:
        failed = next((c for c in report.checks if c.status == "failed"), None)
        name = report.first_failure or "?"
        detail = failed.detail if failed else ""
        raise VerificationError(
            f"the evidence pack does not verify: check `{name}` failed: {detail}",
            check=name,
            verify_report=report,
        )
    return report


def prove(snapshot: SnapshotInput, sku: str) -> Proof:
    """The inclusion proof of one SKU's record in ``snapshot`` (its Merkle audit
    path to ``skus_root``). Raises :class:`InvalidInput` for an unknown SKU
    and :class:`IntegrityError` for snapshot bytes that do not verify."""
    data = _snapshot_bytes(snapshot, "snapshot")
    return Proof._from_json(json.loads(_native.prove(data, text(sku, "sku"))))


def verify_proof(
    proof: Proof | Mapping[str, Any] | bytes,
    *,
    snapshot_hash: str | None = None,
    snapshot: SnapshotInput | None = None,
) -> Proof:
    """Check an inclusion proof (a :class:`Proof`, its JSON data or JSON
    bytes): the record and the path must rebuild ``skus_root``, and the
    snapshot the proof carries must hash to its ``snapshot_hash``. Pass
    ``snapshot_hash`` (a hash you trust) or ``snapshot`` (the snapshot you
    hold) to bind the proof to that snapshot; without either, compare the
    returned proof's ``snapshot_hash`` with one you trust. Returns the proof;
    raises :class:`VerificationError` when it does not hold."""
    if isinstance(proof, Proof):
        data = json.dumps(proof.to_dict()).encode()
    elif isinstance(proof, Mapping):
        data = json.dumps(json_value(proof, "proof")).encode()
    else:
        data = as_bytes(proof, "proof")
    if snapshot_hash is not None and snapshot is not None:
        raise bad("snapshot_hash", "pass snapshot_hash or snapshot, not both")
    expected = None if snapshot_hash is None else text(snapshot_hash, "snapshot_hash")
    snap = None if snapshot is None else _snapshot_bytes(snapshot, "snapshot")
    _native.verify_proof(data, expected, snap)
    return Proof._from_json(json.loads(data))


def sidebar(
    latest_success: SnapshotInput | None,
    *,
    now: _dt.datetime,
    last_run: RunReport | EucoraLicenseError | Mapping[str, Any] | None = None,
    schedule_interval: _dt.timedelta = _dt.timedelta(hours=24),
    stale_factor: int = 2,
) -> SidebarState:
    """The sidebar state (DESIGN A8) at ``now`` (a timezone-aware datetime;
    the engine reads no clock).

    ``latest_success`` is the latest successful snapshot (or ``None``),
    ``last_run`` the last run's report: a :class:`RunReport`, the error a
    failed :func:`reconcile` raised (its ``.report``), or report JSON data.
    State precedence: ``failed`` > ``stale`` (older than ``stale_factor x
    schedule_interval``) > ``degraded`` > ``ok``.
    """
    if not isinstance(now, _dt.datetime):
        raise bad("now", f"expected a timezone-aware datetime, not {type_name(now)}")
    now_text = format_instant(now, "now")
    if not isinstance(schedule_interval, _dt.timedelta):
        raise bad("schedule_interval", f"expected a timedelta, not {type_name(schedule_interval)}")
    interval = schedule_interval // _dt.timedelta(seconds=1)
    if interval <= 0 or schedule_interval % _dt.timedelta(seconds=1):
        raise bad("schedule_interval", "expected a positive whole number of seconds")
    if isinstance(stale_factor, bool) or not isinstance(stale_factor, int) or stale_factor < 0:
        raise bad("stale_factor", "expected a non-negative int")
    snap = None if latest_success is None else _snapshot_bytes(latest_success, "latest_success")
    run: bytes | None
    if last_run is None:
        run = None
    elif isinstance(last_run, RunReport):
        run = last_run.to_json().encode()
    elif isinstance(last_run, EucoraLicenseError):
        if last_run.report is None:
            raise bad("last_run", "this error carries no run report (only a failed reconcile's error does)")
        run = last_run.report.to_json().encode()
    elif isinstance(last_run, Mapping):
        run = json.dumps(json_value(last_run, "last_run")).encode()
    else:
        raise bad("last_run", f"expected a RunReport, a failed run's error or report data, not {type_name(last_run)}")
    raw = _native.sidebar(snap, run, now_text, interval, stale_factor)
    return SidebarState._from_json(json.loads(raw))


def _ruleset_bytes(ruleset: object) -> bytes:
    if isinstance(ruleset, (str, os.PathLike)):
        return read_path(ruleset, "ruleset")
    if isinstance(ruleset, Mapping):
        return json.dumps(json_value(ruleset, "ruleset")).encode()
    if isinstance(ruleset, (bytes, bytearray, memoryview)):
        return bytes(ruleset)
    raise bad("ruleset", f"expected a dict, JSON bytes or a path, not {type_name(ruleset)}")


def validate_ruleset(ruleset: Mapping[str, Any] | bytes | PathLike, *, sku_ids: Iterable[str] | None = None) -> RulesetInfo:
    """Validate a ruleset (a dict, JSON bytes or a path to the file).

    With ``sku_ids`` (the catalog's SKU ids), mappings to unknown SKUs are an
    error too. Returns the ruleset's id, version and hash; raises
    :class:`RulesetError` with every issue in ``.issues``.
    """
    data = _ruleset_bytes(ruleset)
    ids: list[str] | None = None
    if sku_ids is not None:
        if isinstance(sku_ids, (str, bytes)):
            raise bad("sku_ids", "expected a list of SKU ids, not a single str")
        ids = [text(s, f"sku_ids[{i}]") for i, s in enumerate(sku_ids)]
    d = json.loads(_native.validate_ruleset(data, ids))
    return RulesetInfo(str(d["id"]), int(d["version"]), str(d["hash"]))


def hash_ruleset(ruleset: Mapping[str, Any] | bytes | PathLike) -> str:
    """The ruleset's identity: the ``eucora.ruleset.v1`` hash of its canonical
    JSON (``sha256:<hex>``), as recorded in snapshots. Does not validate."""
    return _native.hash_ruleset(_ruleset_bytes(ruleset))


def import_file(
    adapter: str,
    data: bytes | Mapping[str, bytes],
    *,
    name: str = "input",
    **options: str | _dt.datetime | _dt.date,
) -> ImportResult:
    """Run a source adapter over raw export bytes (the CLI's ``import``).

    ``data`` is one file's bytes (named ``name``) or ``{file name: bytes}``
    for adapters that read several files (Graph pages, FlexLM logs).
    ``options`` are the adapter's options (see :func:`adapters`), e.g.
    ``observed_at=datetime(...)``, ``utc_offset="+01:00"``. Unknown adapters
    and options raise :class:`InvalidInput`; a file the adapter cannot read
    as a whole raises :class:`InvalidInput` naming it; bad records are
    returned as row errors in ``jobs``.
    """
    adapter = text(adapter, "adapter")
    files: list[tuple[str, bytes]]
    if isinstance(data, Mapping):
        files = [(text(k, "data key"), as_bytes(v, f"data[{k!r}]")) for k, v in data.items()]
    else:
        files = [(text(name, "name"), as_bytes(data, "data"))]
    opts: dict[str, str] = {}
    for k, v in options.items():
        if isinstance(v, _dt.datetime):
            opts[k] = format_instant(v, k)
        elif isinstance(v, _dt.date):
            opts[k] = v.isoformat()
        else:
            opts[k] = text(v, k)
    jsonl, raw = _native.import_files(adapter, files, opts)
    r = json.loads(raw)
    signals = tuple(_frozen_json(json.loads(line)) for line in jsonl.splitlines() if line)
    return ImportResult(
        adapter=str(r["adapter"]),
        adapter_version=str(r["adapter_version"]),
        source=str(r["source"]),
        signals=signals,
        jobs=tuple(
            AdapterJob(
                path=str(j["path"]),
                input_hash=str(j["input_hash"]),
                records=int(j["records"]),
                signals=int(j["signals"]),
                rejected=int(j["rejected"]),
                errors=tuple(RowError._from_json(e) for e in j.get("errors", [])),
                notes=tuple(str(n) for n in j.get("notes", [])),
            )
            for j in r["jobs"]
        ),
        directory=tuple(
            DirectoryEntry(
                str(d["principal_type"]),
                str(d["canonical_id"]),
                str(d["alias"]),
                str(d.get("status", "")),
                str(d.get("last_active_at", "")),
            )
            for d in r["directory"]
        ),
        entitlement_observations=tuple(_frozen_json(o) for o in r["entitlement_observations"]),
        _jsonl=jsonl,
    )


def adapters() -> tuple[AdapterInfo, ...]:
    """Every source adapter, by name (the CLI's ``adapters``)."""
    return tuple(AdapterInfo(n, v, s, tuple(o)) for n, v, s, o in _native.adapters())
