"""Bundles built from Python objects: the inputs of one reconciliation.

A :class:`Bundle` holds the files of DESIGN A1 in memory (``bundle.json``,
``catalog.json``, ``entitlements.csv``, ``signals/*.csv``, ``imports/<adapter>/*``,
...). Build it from a host's database rows (dicts), from raw bytes, or from a
directory; then :func:`eucora_license.reconcile` it. Rows become the same
files the CLI would read, so the snapshot hash is the one the CLI computes for
the equivalent directory (see :meth:`Bundle.write`).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from ._convert import as_bytes, bad, date_text, decimal_text, instant_text, int_text, json_value, text, type_name
from ._errors import InvalidInput, Location

__all__ = ["Bundle", "SIGNAL_COLUMNS", "ENTITLEMENT_COLUMNS", "POOL_COLUMNS", "DIRECTORY_COLUMNS"]

_Conv = Callable[[object, str], str]


def _id(value: object, where: str) -> str:
    return text(value, where, allow_int=True)


def _str(value: object, where: str) -> str:
    return text(value, where)


# Column -> (required key, converter). Order = CSV header order.
SIGNAL_COLUMNS: Mapping[str, tuple[bool, _Conv]] = MappingProxyType(
    {
        "source": (True, _str),
        "raw_id": (True, _id),
        "observed_at": (True, instant_text),
        "sku": (False, _str),
        "product": (False, _str),
        "kind": (True, _str),
        "status": (False, _str),
        "user": (False, _str),
        "device_serial": (False, _str),
        "device_id": (False, _str),
        "device_name": (False, _str),
        "last_used_at": (False, instant_text),
        "session_start": (False, instant_text),
        "session_end": (False, instant_text),
        "quantity": (False, int_text),
        "confidence": (False, decimal_text),
    }
)
ENTITLEMENT_COLUMNS: Mapping[str, tuple[bool, _Conv]] = MappingProxyType(
    {
        "entitlement_id": (True, _id),
        "sku": (True, _str),
        "contract_id": (False, _id),
        "quantity": (True, int_text),
        "starts_on": (True, date_text),
        "ends_on": (False, date_text),
        "unit_cost": (False, decimal_text),
        "currency": (False, _str),
    }
)
POOL_COLUMNS: Mapping[str, tuple[bool, _Conv]] = MappingProxyType(
    {
        "pool_id": (True, _id),
        "sku": (True, _str),
        "scope": (True, _str),
        "quantity": (False, int_text),
        "reserved": (False, int_text),
    }
)
DIRECTORY_COLUMNS: Mapping[str, tuple[bool, _Conv]] = MappingProxyType(
    {
        "principal_type": (True, _str),
        "canonical_id": (True, _id),
        "alias": (True, _id),
        "status": (False, _str),
        "region": (False, _str),
        "bu": (False, _str),
        "last_active_at": (False, instant_text),
    }
)


def rows_to_csv(rows: Iterable[Mapping[str, Any]], columns: Mapping[str, tuple[bool, _Conv]], what: str) -> bytes:
    """Rows (mappings of column -> value) as CSV bytes with a fixed header.

    A missing required key or an unknown key raises :class:`InvalidInput`
    naming the row (``what[i]``) and the key; a value of the wrong type names
    ``what[i].column``. ``None`` and absent optional keys are empty fields.
    """
    if isinstance(rows, (str, bytes, Mapping)):
        raise bad(what, f"expected an iterable of rows (mappings), not {type_name(rows)}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = list(columns)
    w.writerow(names)
    known = set(names)
    for i, row in enumerate(rows):
        where = f"{what}[{i}]"
        if not isinstance(row, Mapping):
            raise bad(where, f"expected a mapping of column to value (e.g. a dict, or a queryset's .values()), not {type_name(row)}")
        for k in row:
            if k not in known:
                raise InvalidInput(
                    f"unknown key {k!r} (known: {', '.join(names)})", location=Location(field=f"{where}.{k}")
                )
        out = []
        for name, (required, conv) in columns.items():
            if name not in row:
                if required:
                    raise InvalidInput(f"missing required key {name!r}", location=Location(field=f"{where}.{name}"))
                out.append("")
                continue
            v = row[name]
            out.append("" if v is None else conv(v, f"{where}.{name}"))
        w.writerow(out)
    return buf.getvalue().encode("utf-8")


def _json_bytes(doc: Any, what: str) -> bytes:
    return json.dumps(json_value(doc, what), ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8") + b"\n"


def _check_rel_path(path: object, what: str) -> str:
    if not isinstance(path, str):
        raise bad(what, f"file names must be str, not {type_name(path)}")
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise bad(what, f"`{path}` is not a relative '/'-separated path inside the bundle")
    return path


class Bundle:
    """The inputs of one reconciliation, held in memory.

    Build from Python objects::

        bundle = Bundle(
            organization_id="org-acme",
            as_of=datetime(2026, 11, 22, 6, tzinfo=timezone.utc),
            run_id="run-2026-11-22",
            catalog={"vendors": [...], "skus": [...]},
            ruleset=ruleset_dict,                    # or the JSON bytes
            entitlements=Entitlement.objects.values(*ENTITLEMENT_FIELDS),
            signals=Signal.objects.values(*SIGNAL_FIELDS),
            expected_sources=["intune", "entra"],
        )

    or from bytes (:meth:`from_files`) or a directory (:meth:`from_dir`), and
    add more with :meth:`add_signals`, :meth:`add_signal_file`,
    :meth:`add_import` and :meth:`add_file`.

    Rows are mappings; accepted value types per column: ids ``str`` or
    ``int``; text ``str``; instants aware ``datetime`` (or RFC 3339 ``str``);
    dates ``datetime.date`` (or ``YYYY-MM-DD``); counts ``int``; money and
    confidence ``Decimal`` (or ``int``, or a decimal ``str``; never
    ``float``). ``None`` is an empty field. Unknown keys are an error (no
    silent typos).

    A bundle is a mutable builder: do not modify one from two threads at
    once. :func:`~eucora_license.reconcile` copies its files, so a bundle may
    be reused or changed after a run.
    """

    __slots__ = ("_files",)

    def __init__(
        self,
        *,
        organization_id: str,
        as_of: _dt.datetime | str,
        run_id: str,
        catalog: Mapping[str, Any] | bytes,
        ruleset: Mapping[str, Any] | bytes,
        entitlements: Iterable[Mapping[str, Any]] = (),
        pools: Iterable[Mapping[str, Any]] | None = None,
        directory: Iterable[Mapping[str, Any]] | None = None,
        signals: Iterable[Mapping[str, Any]] | None = None,
        expected_sources: Iterable[str] = (),
        schedule_interval_hours: int = 24,
        adapter_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._files: dict[str, bytes] = {}
        if isinstance(expected_sources, (str, bytes)):
            raise bad("expected_sources", "expected a list of source names, not a single str")
        params: dict[str, Any] = {
            "organization_id": text(organization_id, "organization_id"),
            "as_of": instant_text(as_of, "as_of"),
            "run_id": text(run_id, "run_id"),
            "ruleset": "ruleset.json",
            "expected_sources": [text(s, f"expected_sources[{i}]") for i, s in enumerate(expected_sources)],
            "schedule_interval_hours": int(int_text(schedule_interval_hours, "schedule_interval_hours")),
        }
        if adapter_options is not None:
            if not isinstance(adapter_options, Mapping):
                raise bad("adapter_options", f"expected a mapping of adapter name to options, not {type_name(adapter_options)}")
            opts: dict[str, dict[str, str]] = {}
            for name, o in adapter_options.items():
                if not isinstance(o, Mapping):
                    raise bad(f"adapter_options.{name}", f"expected a mapping of option to value, not {type_name(o)}")
                opts[str(name)] = {str(k): _option_text(v, f"adapter_options.{name}.{k}") for k, v in o.items()}
            params["adapter_options"] = opts
        self._files["bundle.json"] = _json_bytes(params, "bundle")
        self._files["catalog.json"] = self._document(catalog, "catalog")
        self._files["ruleset.json"] = self._document(ruleset, "ruleset")
        self._files["entitlements.csv"] = rows_to_csv(entitlements, ENTITLEMENT_COLUMNS, "entitlements")
        if pools is not None:
            self._files["pools.csv"] = rows_to_csv(pools, POOL_COLUMNS, "pools")
        if directory is not None:
            self._files["directory.csv"] = rows_to_csv(directory, DIRECTORY_COLUMNS, "directory")
        if signals is not None:
            self.add_signals(signals)

    @staticmethod
    def _document(doc: Mapping[str, Any] | bytes, what: str) -> bytes:
        if isinstance(doc, (bytes, bytearray, memoryview)):
            return bytes(doc)
        if not isinstance(doc, Mapping):
            raise bad(what, f"expected a dict (the {what}.json object) or its JSON bytes, not {type_name(doc)}")
        return _json_bytes(doc, what)

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> Bundle:
        """A bundle from ``{path: bytes}`` in the directory layout (``bundle.json``,
        ``catalog.json``, ``signals/intune.csv``, ``imports/entra-users/page-1.json``...)."""
        if not isinstance(files, Mapping):
            raise bad("files", f"expected a mapping of path to bytes, not {type_name(files)}")
        b = cls.__new__(cls)
        b._files = {}
        for path, data in files.items():
            b.add_file(path, data)
        return b

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> Bundle:
        """Read a bundle directory into memory (dot-files are skipped, as the CLI does)."""
        root = os.fspath(path)
        if not os.path.isdir(root):
            raise InvalidInput(f"`{root}` is not a bundle directory", location=Location(file=root))
        files: dict[str, bytes] = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                with open(full, "rb") as f:
                    files[rel] = f.read()
        return cls.from_files(files)

    def add_file(self, path: str, data: bytes) -> None:
        """Add or replace one file by its path inside the bundle."""
        p = _check_rel_path(path, "path")
        self._files[p] = as_bytes(data, p)

    def add_signals(self, rows: Iterable[Mapping[str, Any]], *, name: str = "signals") -> None:
        """Add signal rows as ``signals/<name>.csv`` (one file per call; the
        reject threshold applies per file, so one file per source is usual)."""
        n = _check_rel_path(name, "name")
        self._files[f"signals/{n}.csv"] = rows_to_csv(rows, SIGNAL_COLUMNS, f"signals[{n}]" if n != "signals" else "signals")

    def add_signal_file(self, name: str, data: bytes) -> None:
        """Add a canonical signal file (``name`` ends in ``.csv`` or ``.jsonl``)."""
        n = _check_rel_path(name, "name")
        if not (n.endswith(".csv") or n.endswith(".jsonl")):
            raise bad("name", f"a signal file name ends in .csv or .jsonl, not `{n}`")
        self._files[f"signals/{n}"] = as_bytes(data, f"signals/{n}")

    def add_import(self, adapter: str, name: str, data: bytes) -> None:
        """Add a raw export file for adapter ``adapter`` (``imports/<adapter>/<name>``)."""
        a = _check_rel_path(adapter, "adapter")
        n = _check_rel_path(name, "name")
        self._files[f"imports/{a}/{n}"] = as_bytes(data, f"imports/{a}/{n}")

    @property
    def files(self) -> Mapping[str, bytes]:
        """The bundle's files by path (a read-only view)."""
        return MappingProxyType(self._files)

    def write(self, directory: str | os.PathLike[str]) -> None:
        """Write the files into ``directory`` (created if needed): a bundle
        directory the CLI reconciles to the same snapshot hash."""
        root = os.fspath(directory)
        for path, data in sorted(self._files.items()):
            full = os.path.join(root, *path.split("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)

    def __repr__(self) -> str:
        return f"<Bundle {len(self._files)} files: {', '.join(sorted(self._files)[:6])}{', ...' if len(self._files) > 6 else ''}>"


def _option_text(value: object, where: str) -> str:
    if isinstance(value, _dt.datetime):
        return instant_text(value, where)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return text(value, where)
