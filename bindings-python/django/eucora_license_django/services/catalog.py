"""Catalog and integration writes (``catalog.write``, ``integration.write``) for the
admin pages and the API: authorised by D1, one audit entry per write in the same
transaction (``before_hash`` / ``after_hash`` over the row's canonical JSON).
Entitlements are not written here: they change only through proposals."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from ..models import Integration, LicenseSKU, Organization, Vendor
from . import governance as gov

_MODELS = set(LicenseSKU.MODELS)


def _hash(row: Mapping[str, Any] | None) -> str | None:
    if row is None:
        return None
    return "sha256:" + hashlib.sha256(gov.canonical_json(dict(row))).hexdigest()


def _bad(field: str, message: str) -> gov.BadInput:
    return gov.BadInput("invalid_input", message, location={"file": None, "line": None, "field": field})


def _text(data: Mapping[str, Any], field: str, *, required: bool = False, max_length: int = 200) -> str:
    value = data.get(field)
    if value in (None, ""):
        if required:
            raise _bad(field, f"{field} is required")
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise _bad(field, f"{field} must be a string of at most {max_length} characters")
    return value.strip()


def vendor_dict(v: Vendor) -> dict[str, Any]:
    """A vendor as its A1 catalog object."""
    return {"id": v.vendor_id, "name": v.name, "contacts": v.contacts or []}


def sku_dict(s: LicenseSKU) -> dict[str, Any]:
    """A SKU as its A1 catalog object."""
    return {"id": s.sku_id, "vendor": s.vendor.vendor_id, "sku_code": s.sku_code or None, "name": s.name, "model": s.model,
            "unit_cost": s.unit_cost or None, "cost_period": s.cost_period or None, "currency": s.currency or None,
            "base_sku": s.base_sku.sku_id if s.base_sku else None}


def save_vendor(organization: Organization, actor: dict[str, Any], data: Mapping[str, Any], *, correlation_id: str) -> Vendor:
    """Create or update a vendor (``{"id", "name", "contacts"?}``)."""
    vendor_id = str(data.get("id") or "")
    gov.require(organization, actor, "catalog.write", correlation_id=correlation_id, entity=("vendor", vendor_id))
    vendor_id = _text(data, "id", required=True, max_length=128)
    name = _text(data, "name", required=True)
    contacts = data.get("contacts") or []
    if not isinstance(contacts, list):
        raise _bad("contacts", "contacts must be a list")
    with transaction.atomic():
        row = Vendor.objects.select_for_update().filter(organization=organization, vendor_id=vendor_id).first()
        before = vendor_dict(row) if row else None
        if row is None:
            row = Vendor(organization=organization, vendor_id=vendor_id)
        row.name, row.contacts = name, contacts
        row.save()
        gov.append_audit(organization, actor=actor, action="catalog.write", entity=("vendor", vendor_id), correlation_id=correlation_id,
                         before_hash=_hash(before), after_hash=_hash(vendor_dict(row)),
                         details={"created": before is None, "allowed": True, "reason": "allowed"})
    return row


def save_sku(organization: Organization, actor: dict[str, Any], data: Mapping[str, Any], *, correlation_id: str) -> LicenseSKU:
    """Create or update a SKU (the A1 catalog fields: ``id``, ``vendor``, ``name``, ``model``,
    ``sku_code``, ``unit_cost`` (decimal string), ``cost_period``, ``currency``, ``base_sku``)."""
    sku_id = str(data.get("id") or "")
    gov.require(organization, actor, "catalog.write", correlation_id=correlation_id, entity=("sku", sku_id))
    sku_id = _text(data, "id", required=True, max_length=128)
    vendor = Vendor.objects.filter(organization=organization, vendor_id=_text(data, "vendor", required=True)).first()
    if vendor is None:
        raise _bad("vendor", "unknown vendor")
    model = _text(data, "model", required=True)
    if model not in _MODELS:
        raise _bad("model", f"model must be one of {sorted(_MODELS)}")
    cost = _text(data, "unit_cost", max_length=40)
    if cost:
        import re

        if not re.fullmatch(r"[+-]?(\d+(\.\d+)?|\.\d+)", cost):
            raise _bad("unit_cost", "unit_cost must be a decimal string")
    base_id = _text(data, "base_sku", max_length=128)
    base = None
    if base_id:
        base = LicenseSKU.objects.filter(organization=organization, sku_id=base_id).first()
        if base is None or base.model not in ("subscription", "user"):
            raise _bad("base_sku", "base_sku must be a subscription or user SKU of the catalog")
    with transaction.atomic():
        row = LicenseSKU.objects.select_for_update().filter(organization=organization, sku_id=sku_id).select_related("vendor").first()
        before = sku_dict(row) if row else None
        if row is None:
            row = LicenseSKU(organization=organization, sku_id=sku_id)
        row.vendor, row.model, row.base_sku = vendor, model, base
        row.name = _text(data, "name", required=True)
        row.sku_code = _text(data, "sku_code", max_length=128)
        row.unit_cost = cost
        row.cost_period = _text(data, "cost_period", max_length=16)
        row.currency = _text(data, "currency", max_length=3)
        row.save()
        gov.append_audit(organization, actor=actor, action="catalog.write", entity=("sku", sku_id), correlation_id=correlation_id,
                         before_hash=_hash(before), after_hash=_hash(sku_dict(row)),
                         details={"created": before is None, "allowed": True, "reason": "allowed"})
    return row


def save_integration(organization: Organization, actor: dict[str, Any], data: Mapping[str, Any], *,
                     correlation_id: str) -> Integration:
    """Create or update an integration (``name``, ``adapter``, ``source``, ``options`` (no secrets), ``enabled``)."""
    name = str(data.get("name") or "")
    gov.require(organization, actor, "integration.write", correlation_id=correlation_id, entity=("integration", name))
    import eucora_license as el

    name = _text(data, "name", required=True, max_length=128)
    adapter = _text(data, "adapter", required=True, max_length=64)
    if adapter != "canonical" and adapter not in {a.name for a in el.adapters()}:
        raise _bad("adapter", "unknown adapter")
    options = data.get("options") or {}
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise _bad("options", "options must be an object of strings")
    secretish = [k for k in options if any(w in k.lower() for w in ("secret", "password", "token", "key"))]
    if secretish:
        raise _bad("options", "integration options hold no secrets (keep credentials in the host's secret store)")
    with transaction.atomic():
        row = Integration.objects.select_for_update().filter(organization=organization, name=name).first()
        before = None if row is None else {"name": row.name, "adapter": row.adapter, "source": row.source, "options": row.options,
                                           "enabled": row.enabled}
        if row is None:
            row = Integration(organization=organization, name=name)
        row.adapter, row.options = adapter, options
        row.source = _text(data, "source", max_length=64)
        row.enabled = bool(data.get("enabled", True))
        row.save()
        after = {"name": row.name, "adapter": row.adapter, "source": row.source, "options": row.options, "enabled": row.enabled}
        gov.append_audit(organization, actor=actor, action="integration.write", entity=("integration", name),
                         correlation_id=correlation_id, before_hash=_hash(before), after_hash=_hash(after),
                         details={"created": before is None, "adapter": adapter, "allowed": True, "reason": "allowed"})
    return row
