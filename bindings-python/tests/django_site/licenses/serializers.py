"""DRF serializers over the module's read-only objects (Decimal and datetime as DRF renders them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers


class CountersSerializer(serializers.Serializer[Any]):
    entitled = serializers.IntegerField()
    reserved = serializers.IntegerField()
    reserved_effective = serializers.IntegerField()
    consumed = serializers.IntegerField()
    remaining = serializers.IntegerField()
    available = serializers.IntegerField()
    variance = serializers.IntegerField()


class PoolSerializer(CountersSerializer):
    name = serializers.CharField()
    scope = serializers.CharField(allow_null=True)
    variance_percent = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    compliance_status = serializers.CharField()


class SkuSerializer(CountersSerializer):
    sku = serializers.CharField()
    model = serializers.CharField()
    variance_percent = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    compliance_status = serializers.CharField()
    units_root = serializers.CharField()


class SkuDetailSerializer(SkuSerializer):
    pools = PoolSerializer(many=True)
    proof_path = serializers.ListField(child=serializers.CharField())
    skus_root = serializers.CharField()


class SummarySerializer(serializers.Serializer[Any]):
    state = serializers.CharField()
    reason = serializers.CharField(allow_null=True)
    counters = CountersSerializer(allow_null=True)
    # Instants leave the API in UTC whatever the site's TIME_ZONE.
    last_reconciled_at = serializers.DateTimeField(allow_null=True, default_timezone=dt.UTC)
    stale_for_seconds = serializers.IntegerField(allow_null=True)
    snapshot_hash = serializers.CharField(allow_null=True)
    sequence = serializers.IntegerField(allow_null=True)
