"""Conversions between Python values and the engine's text forms.

Instants: timezone-aware ``datetime`` in (a naive one is refused), RFC 3339
UTC text to the engine; engine instants come back as aware UTC ``datetime``
(microsecond precision: the engine keeps nanoseconds, the raw text is in
``to_dict()``). Money, confidences and percentages: ``Decimal`` (never
``float``). Counts: ``int``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._errors import InvalidInput, Location

UTC = _dt.UTC

_INSTANT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:[Zz]|([+-])(\d\d):(\d\d))$")


def type_name(value: object) -> str:
    return type(value).__name__


def bad(where: str, message: str) -> InvalidInput:
    return InvalidInput(message, location=Location(field=where))


def format_instant(value: _dt.datetime, where: str) -> str:
    """An aware datetime as RFC 3339 UTC text (``...Z``, fraction without trailing zeros)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise bad(
            where,
            "naive datetime (no timezone); pass a timezone-aware datetime, "
            "e.g. datetime(..., tzinfo=datetime.timezone.utc)",
        )
    u = value.astimezone(UTC)
    text = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
    if u.microsecond:
        text += "." + f"{u.microsecond:06d}".rstrip("0")
    return text + "Z"


def instant_text(value: object, where: str) -> str:
    """An instant column: aware ``datetime`` or RFC 3339 ``str`` (checked by the engine)."""
    if isinstance(value, _dt.datetime):
        return format_instant(value, where)
    if isinstance(value, str):
        return value
    raise bad(where, f"expected a timezone-aware datetime (or RFC 3339 str), not {type_name(value)}")


def date_text(value: object, where: str) -> str:
    """A date column: ``datetime.date`` (not a datetime) or ``YYYY-MM-DD`` str."""
    if isinstance(value, _dt.datetime):
        raise bad(where, "expected a date, not a datetime (use .date() to say which day)")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise bad(where, f"expected a datetime.date (or YYYY-MM-DD str), not {type_name(value)}")


def decimal_text(value: object, where: str) -> str:
    """A decimal column (money, confidence): ``Decimal``, ``int`` or decimal ``str``; never ``float``."""
    if isinstance(value, bool):
        raise bad(where, "expected a Decimal, not bool")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise bad(where, f"expected a finite Decimal, not {value}")
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        raise bad(where, "expected a Decimal, not float (floats are inexact; use decimal.Decimal('...'))")
    raise bad(where, f"expected a Decimal, not {type_name(value)}")


def int_text(value: object, where: str) -> str:
    """A count column: plain ``int`` only."""
    if isinstance(value, bool) or not isinstance(value, int):
        hint = " (counts are whole numbers)" if isinstance(value, (float, Decimal)) else ""
        raise bad(where, f"expected an int, not {type_name(value)}{hint}")
    return str(value)


def text(value: object, where: str, *, allow_int: bool = False) -> str:
    """A text column: ``str`` (or ``int`` for ids)."""
    if isinstance(value, str):
        return value
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise bad(where, f"expected a str, not {type_name(value)}")


def json_value(value: object, where: str) -> Any:
    """A Python value as JSON for a document (catalog, ruleset, report):
    ``Decimal`` becomes its exact text, ``datetime`` RFC 3339 UTC, ``date``
    ISO; ``float``, ``bytes`` and other types are refused with their path."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise bad(where, "float is not allowed (hashed data holds no floats); use Decimal or a decimal str")
    if isinstance(value, Decimal):
        return decimal_text(value, where)
    if isinstance(value, _dt.datetime):
        return format_instant(value, where)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise bad(where, f"object keys must be str, not {type_name(k)}")
            out[k] = json_value(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise bad(where, f"{type_name(value)} is not a JSON value")


def parse_instant(value: object) -> _dt.datetime | None:
    """Engine instant text (RFC 3339) as an aware UTC datetime; ``None`` stays ``None``."""
    if value is None:
        return None
    m = _INSTANT.match(str(value))
    if not m:
        raise ValueError(f"not an RFC 3339 instant: {value!r}")
    y, mo, d, h, mi, s, frac, sign, oh, om = m.groups()
    micro = int((frac or "")[:6].ljust(6, "0"))
    t = _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=UTC)
    if sign:
        off = _dt.timedelta(hours=int(oh), minutes=int(om))
        t = t - off if sign == "+" else t + off
    return t


def parse_decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def read_path(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InvalidInput(
            f"cannot read the {what} `{os.fspath(path)}`: {e.strerror or e}", location=Location(file=os.fspath(path))
        ) from None


def as_bytes(value: object, where: str) -> bytes:
    """Bytes-like input: ``bytes``, ``bytearray``, ``memoryview``. A ``str`` is refused."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        raise bad(where, "expected bytes, not str (encode text with .encode('utf-8'), or pass the file's raw bytes)")
    raise bad(where, f"expected bytes, not {type_name(value)}")
