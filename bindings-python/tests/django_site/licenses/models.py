"""The host's own tables: catalog, entitlements, signals, and the sealed snapshots."""

from __future__ import annotations

from django.db import models


class Vendor(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200)


class Sku(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=16)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    cost_period = models.CharField(max_length=16, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    base_sku = models.ForeignKey("self", null=True, on_delete=models.PROTECT)


class Entitlement(models.Model):
    entitlement_id = models.CharField(primary_key=True, max_length=64)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT)
    contract_id = models.CharField(max_length=64, blank=True)
    quantity = models.PositiveIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    currency = models.CharField(max_length=3, blank=True)


class Signal(models.Model):
    source = models.CharField(max_length=32)
    raw_id = models.CharField(max_length=128)
    observed_at = models.DateTimeField()
    sku = models.CharField(max_length=64, blank=True)
    product = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=16, blank=True)
    user = models.CharField(max_length=200, blank=True)
    device_serial = models.CharField(max_length=64, blank=True)
    device_name = models.CharField(max_length=200, blank=True)
    session_start = models.DateTimeField(null=True)
    session_end = models.DateTimeField(null=True)
    quantity = models.PositiveIntegerField(null=True)
    confidence = models.DecimalField(max_digits=10, decimal_places=9, null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "raw_id"], name="signal_source_raw_id")]


class StoredSnapshot(models.Model):
    """A sealed snapshot and its evidence pack, addressed by hash."""

    snapshot_hash = models.CharField(primary_key=True, max_length=71)
    sequence = models.PositiveIntegerField(unique=True)
    reconciled_at = models.DateTimeField()
    canonical = models.BinaryField()
    evidence = models.BinaryField()
    pack_hash = models.CharField(max_length=71)


class FailedRun(models.Model):
    """A run that failed closed: its report, for the sidebar."""

    created = models.PositiveIntegerField(unique=True)
    report = models.JSONField()
