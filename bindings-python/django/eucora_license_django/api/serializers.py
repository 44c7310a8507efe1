"""Serializers describing the API's payloads for the OpenAPI schema (drf-spectacular).

The views answer the services' JSON-shaped data as is (every number and hash comes
from the core); these classes document it, and validate the few request bodies.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class LocationSerializer(serializers.Serializer[Any]):
    file = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(allow_null=True)


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error: ``code`` (D1 / D2 reason, core error code, ...), ``message``;
    ``action`` on a 403 refusal, ``location`` on a 400."""

    code = serializers.CharField()
    message = serializers.CharField()
    action = serializers.CharField(required=False)
    location = LocationSerializer(required=False)


class SummarySerializer(serializers.Serializer[Any]):
    """The A8 sidebar over the latest successful snapshot (counters null before the first)."""

    organization_id = serializers.CharField()
    entitled = serializers.IntegerField(allow_null=True)
    reserved = serializers.IntegerField(allow_null=True)
    consumed = serializers.IntegerField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    available = serializers.IntegerField(allow_null=True)
    last_reconciled_at = serializers.CharField(allow_null=True)
    last_success_at = serializers.CharField(allow_null=True)
    health = serializers.ChoiceField(choices=["ok", "degraded", "stale", "failed"])
    stale_for_seconds = serializers.IntegerField(allow_null=True)
    reason = serializers.JSONField(allow_null=True)
    snapshot_hash = serializers.CharField(allow_null=True)
    sequence = serializers.IntegerField(allow_null=True)


class ListSerializer(serializers.Serializer[Any]):
    """Lists: ``{"results": [...], "next": null | <url of the next page>}``."""

    results = serializers.ListField(child=serializers.JSONField())
    next = serializers.CharField(allow_null=True)


class ProposalSerializer(serializers.Serializer[Any]):
    """The D2 proposal object plus its host ``state``."""

    proposal_id = serializers.CharField()
    kind = serializers.CharField()
    payload = serializers.JSONField()
    payload_hash = serializers.CharField()
    proposer = serializers.JSONField()
    created_at = serializers.CharField()
    expires_at = serializers.CharField()
    policy_hash = serializers.CharField()
    correlation_id = serializers.CharField(allow_null=True)
    evidence = serializers.ListField(child=serializers.JSONField())
    state = serializers.ChoiceField(choices=["pending", "approved", "rejected", "expired"])


class EntitlementRequestSerializer(serializers.Serializer[Any]):
    """POST ``entitlements``: the A1 entitlement fields and ``action``."""

    action = serializers.ChoiceField(choices=["create", "update", "end"], required=False, default="create")
    entitlement_id = serializers.CharField()
    sku = serializers.CharField()
    contract_id = serializers.CharField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=0)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    unit_cost = serializers.CharField(required=False, allow_null=True, help_text="a decimal string")
    currency = serializers.CharField(required=False, allow_null=True)


class DecisionRequestSerializer(serializers.Serializer[Any]):
    """POST ``proposals/{id}/approve|reject`` (optional body)."""

    comment = serializers.CharField(required=False, allow_blank=True)
    payload_hash = serializers.CharField(required=False, help_text="defaults to the stored proposal's")


class RefusedApprovalSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    approver = serializers.CharField()
    reason = serializers.CharField()


class DecisionSerializer(serializers.Serializer[Any]):
    """The D2 decision; ``change`` is the core's applied change, null unless applied now."""

    state = serializers.ChoiceField(choices=["pending", "approved", "rejected", "expired"])
    counted = serializers.ListField(child=serializers.CharField())
    refused = RefusedApprovalSerializer(many=True)
    change = serializers.JSONField(allow_null=True)


class RunSerializer(serializers.Serializer[Any]):
    """A ``ReconciliationRun``."""

    run_id = serializers.CharField()
    organization_id = serializers.CharField()
    as_of = serializers.CharField()
    status = serializers.ChoiceField(choices=["running", "ok", "degraded", "failed"])
    reason_codes = serializers.ListField(child=serializers.CharField())
    errors = serializers.ListField(child=serializers.JSONField())  # type: ignore[assignment]  # a field, not Serializer.errors
    ruleset_hash = serializers.CharField(allow_null=True)
    inputs_hash = serializers.CharField(allow_null=True)
    correlation_id = serializers.CharField(allow_null=True)
    trigger = serializers.CharField()
    requested_by = serializers.CharField(allow_null=True)
    started_at = serializers.CharField(allow_null=True)
    finished_at = serializers.CharField(allow_null=True)
    snapshot_hash = serializers.CharField(allow_null=True)
    sequence = serializers.IntegerField(allow_null=True)


class RowErrorSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ImportJobBaseSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    job_id = serializers.CharField()
    adapter = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    file_name = serializers.CharField()
    input_hash = serializers.CharField()
    size = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    rows_accepted = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    row_errors = RowErrorSerializer(many=True)
    warnings = serializers.ListField(child=serializers.JSONField())
    status = serializers.CharField()
    created_at = serializers.CharField()
    created_by = serializers.CharField()
    correlation_id = serializers.CharField()


class ImportJobSerializer(ImportJobBaseSerializer):
    """The import job (the first file's) and ``jobs``: one per uploaded file."""

    jobs = ImportJobBaseSerializer(many=True)


class ImportRequestSerializer(serializers.Serializer[Any]):
    """POST ``import`` (multipart): the adapter and one or more files."""

    adapter = serializers.CharField()
    files = serializers.ListField(child=serializers.FileField())


class EvidenceSerializer(serializers.Serializer[Any]):
    """An evidence pack's metadata and its download link (``evidence.export``)."""

    snapshot_hash = serializers.CharField()
    pack_hash = serializers.CharField()
    size = serializers.IntegerField()
    sequence = serializers.IntegerField()
    reconciled_at = serializers.CharField(allow_null=True)
    created_at = serializers.CharField(allow_null=True)
    filename = serializers.CharField()
    download = serializers.CharField()
    download_allowed = serializers.BooleanField()


class VerifyFailureSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    seq = serializers.IntegerField()


class AuditVerifySerializer(serializers.Serializer[Any]):
    """D5: the chain verified, then checked against the stored checkpoint (consistency proof)."""

    ok = serializers.BooleanField()
    size = serializers.IntegerField()
    failure = VerifyFailureSerializer(allow_null=True)


class SkuDetailSerializer(serializers.Serializer[Any]):
    """GET ``skus/{sku}``: catalog data, counters, pools, entitlements, the snapshot
    timeline with each run's diff, the latest unit diff with reasons, the breakdowns."""

    sku = serializers.CharField()
    name = serializers.CharField()
    vendor = serializers.CharField()
    vendor_name = serializers.CharField()
    model = serializers.CharField()
    sku_code = serializers.CharField(allow_null=True)
    unit_cost = serializers.CharField(allow_null=True)
    cost_period = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    base_sku = serializers.CharField(allow_null=True)
    snapshot_hash = serializers.CharField(allow_null=True)
    record = serializers.JSONField(allow_null=True, help_text="the SKU's record in the latest snapshot")
    counters = serializers.JSONField(allow_null=True)
    pools = serializers.ListField(child=serializers.JSONField())
    entitlements = serializers.ListField(child=serializers.JSONField())
    timeline = serializers.ListField(child=serializers.JSONField())
    diff = serializers.JSONField(allow_null=True)
    breakdown = serializers.JSONField(help_text="{by_principal, by_source, by_confidence}")


class AgentRunSerializer(serializers.Serializer[Any]):
    """The D4 ``AgentRun``."""

    run_id = serializers.CharField()
    agent = serializers.CharField()
    actor = serializers.JSONField()
    correlation_id = serializers.CharField(allow_null=True)
    started_at = serializers.CharField()
    inputs_hash = serializers.CharField()
    model_calls = serializers.ListField(child=serializers.JSONField())
    steps = serializers.ListField(child=serializers.JSONField())
    outputs = serializers.JSONField()
    status = serializers.ChoiceField(choices=["ok", "failed"])
    error = serializers.JSONField(allow_null=True)


class AuditEntrySerializer(serializers.Serializer[Any]):
    """A D3 audit entry (all twelve keys)."""

    seq = serializers.IntegerField()
    prev_hash = serializers.CharField(allow_null=True)
    at = serializers.CharField()
    actor = serializers.JSONField()
    action = serializers.CharField()
    entity = serializers.JSONField()
    before_hash = serializers.CharField(allow_null=True)
    after_hash = serializers.CharField(allow_null=True)
    correlation_id = serializers.CharField(allow_null=True)
    evidence = serializers.ListField(child=serializers.JSONField())
    details = serializers.JSONField()
    entry_hash = serializers.CharField()


def list_of(name: str, item: serializers.Serializer[Any] | serializers.Field[Any, Any, Any, Any]) -> type[serializers.Serializer[Any]]:
    """A ``{"results": [item], "next"}`` serializer class named ``name``."""
    attrs: dict[str, Any] = {"results": serializers.ListField(child=item), "next": serializers.CharField(allow_null=True),
                             "__doc__": f"{name}: ``{{results, next}}`` (``next`` null: the whole list)"}
    cls: type[serializers.Serializer[Any]] = type(name, (serializers.Serializer,), attrs)
    return cls


ProposalListSerializer = list_of("ProposalList", ProposalSerializer())
AuditListSerializer = list_of("AuditList", AuditEntrySerializer())
