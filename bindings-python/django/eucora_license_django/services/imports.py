"""Imports (A1 "Every import ... yields an ImportJob"): raw exports or canonical
signal files stored as exact bytes with their ``eucora.import.v1`` hash, row counts
and row errors, and the canonical ``ConsumptionSignal`` rows read from them.

An import is a source's full export: a new job for the same ``(adapter,
file_name)`` retires the previous one (``active=False``), and a run reconciles the
active jobs' bytes. Row counts and errors come from the core: an adapter's
``import_file`` at upload, and every run's report refreshes them
(``runs._update_import_jobs``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import eucora_license as el
from django.db import transaction
from django.utils import timezone

from ..models import ConsumptionSignal, ImportJob, Integration, Organization
from . import governance as gov

SIGNAL_COLUMNS = ("source", "raw_id", "observed_at", "sku", "product", "kind", "status", "user", "device_serial", "device_id",
                  "device_name", "last_used_at", "session_start", "session_end", "quantity", "confidence")


def import_hash(data: bytes) -> str:
    """``eucora.import.v1`` hash of raw input bytes (A5: tag, NUL, bytes)."""
    return "sha256:" + hashlib.sha256(b"eucora.import.v1\0" + data).hexdigest()


def canonical_rows(name: str, data: bytes) -> list[dict[str, str]]:
    """The rows of a canonical signal file (``.csv`` with a header, or ``.jsonl``), as text;
    malformed rows are left to the core (they are counted and reported by the next run)."""
    rows: list[dict[str, str]] = []
    if name.endswith(".jsonl"):
        for line in data.split(b"\n"):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                rows.append({c: "" if obj.get(c) is None else str(obj.get(c)) for c in SIGNAL_COLUMNS})
        return rows
    reader = csv.DictReader(io.StringIO(data.decode("utf-8", errors="replace")))
    for r in reader:
        rows.append({c: (r.get(c) or "").strip() for c in SIGNAL_COLUMNS})
    return rows


def _signal_rows(organization: Organization, job: ImportJob, rows: Iterable[Mapping[str, Any]]) -> list[ConsumptionSignal]:
    out = []
    for r in rows:
        if not r.get("source") or not r.get("raw_id") or not r.get("observed_at") or not r.get("kind"):
            continue
        out.append(ConsumptionSignal(organization=organization, import_job=job,
                                     **{c: str(r.get(c) or "")[:ConsumptionSignal._meta.get_field(c).max_length or 255]  # type: ignore[union-attr]
                                        for c in SIGNAL_COLUMNS}))
    return out


def store_job(
    organization: Organization,
    *,
    adapter: str,
    file_name: str,
    data: bytes,
    created_at: dt.datetime,
    created_by: str = "",
    correlation_id: str = "",
    source: str = "",
    rows: Iterable[Mapping[str, Any]] = (),
    counts: tuple[int, int, int] = (0, 0, 0),
    row_errors: list[dict[str, Any]] | None = None,
    warnings: list[str] | None = None,
) -> ImportJob:
    """Store one job (retiring the active job of the same ``(adapter, file_name)``) and its signal rows.
    Runs in the caller's transaction."""
    ImportJob.objects.filter(organization=organization, adapter=adapter, file_name=file_name, active=True).update(active=False)
    total, accepted, rejected = counts
    job = ImportJob.objects.create(
        organization=organization, adapter=adapter, source=source, file_name=file_name, input_hash=import_hash(data),
        input=data, size=len(data), rows_total=total, rows_accepted=accepted, rows_rejected=rejected,
        row_errors=row_errors or [], warnings=warnings or [], status="rejected" if rejected and not accepted else "ok",
        active=True, created_at=created_at, created_by=created_by, correlation_id=correlation_id,
    )
    ConsumptionSignal.objects.bulk_create(_signal_rows(organization, job, rows), batch_size=1000)
    return job


def retire_missing(organization: Organization, keep: Iterable[tuple[str, str]]) -> int:
    """Retire every active job not in ``keep`` (``(adapter, file_name)`` pairs): the
    sources that sent nothing this time (their coverage then reads ``missing``)."""
    keep_set = set(keep)
    stale = [j.pk for j in ImportJob.objects.filter(organization=organization, active=True) if (j.adapter, j.file_name) not in keep_set]
    return ImportJob.objects.filter(pk__in=stale).update(active=False)


def import_files(
    organization: Organization,
    actor: dict[str, Any],
    adapter: str,
    files: Mapping[str, bytes],
    *,
    correlation_id: str,
    options: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> list[ImportJob]:
    """POST ``import``: authorise ``import.upload`` (403 + audit when refused), read the
    files with the adapter (``canonical`` for signal files: ``.csv`` / ``.jsonl``), store
    one ``ImportJob`` per file with its signals, and append one audit entry, in one
    transaction. A bad adapter or unreadable input is :class:`~.governance.BadInput`."""
    gov.require(organization, actor, "import.upload", correlation_id=correlation_id, entity=("import", adapter))
    at = now or timezone.now()
    if not files:
        raise gov.BadInput("invalid_input", "no file uploaded", location={"file": None, "line": None, "field": "files"})
    known = {a.name for a in el.adapters()}
    if adapter != ImportJob.CANONICAL and adapter not in known:
        raise gov.BadInput("invalid_input", f"unknown adapter {adapter!r}", location={"file": None, "line": None, "field": "adapter"})
    opts = dict(options or {})
    for integ in Integration.objects.filter(organization=organization, adapter=adapter, enabled=True):
        opts = {**integ.options, **opts}
    prepared: list[dict[str, Any]] = []
    for name, data in sorted(files.items()):
        if adapter == ImportJob.CANONICAL:
            if not (name.endswith(".csv") or name.endswith(".jsonl")):
                raise gov.BadInput("invalid_input", "a signal file name ends in .csv or .jsonl",
                                   location={"file": name, "line": None, "field": None})
            rows = canonical_rows(name, data)
            sources = sorted({r["source"] for r in rows if r["source"]})
            prepared.append({"file_name": name, "data": data, "rows": rows, "source": ",".join(sources)[:64],
                             "counts": (len(rows), 0, 0), "errors": [], "warnings": []})
        else:
            try:
                result = el.import_file(adapter, {name: data}, **{k: str(v) for k, v in opts.items()})
            except el.EucoraLicenseError as e:
                raise gov.bad_input_from(e) from e
            job = result.jobs[0] if result.jobs else None
            errors = [{"line": e.line, "column": e.column, "code": e.code, "message": e.message} for e in (job.errors if job else ())]
            prepared.append({"file_name": name, "data": data, "rows": result.signals, "source": result.source,
                             "counts": (job.records if job else 0, (job.records - job.rejected) if job else 0, job.rejected if job else 0),
                             "errors": errors, "warnings": list(job.notes) if job else []})
    with transaction.atomic():
        jobs = [store_job(organization, adapter=adapter, file_name=p["file_name"], data=p["data"], created_at=at,
                          created_by=gov.actor_id(actor), correlation_id=correlation_id, source=p["source"], rows=p["rows"],
                          counts=p["counts"], row_errors=p["errors"], warnings=p["warnings"]) for p in prepared]
        gov.append_audit(organization, actor=actor, action="import.upload", entity=("import_job", str(jobs[0].pk)),
                         correlation_id=correlation_id, after_hash=jobs[0].input_hash if len(jobs) == 1 else None,
                         evidence=[j.input_hash for j in jobs],
                         details={"adapter": adapter, "files": [j.file_name for j in jobs], "jobs": [j.pk for j in jobs],
                                  "allowed": True, "reason": "allowed"}, at=at)
    return jobs
