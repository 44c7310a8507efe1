"""Every model of DESIGN Part E (plus ``Organization``), scoped by organisation.

Decimal amounts that enter hashed data (``unit_cost``, ``confidence``) are kept as
the decimal *strings* the core reads and writes, so they round-trip byte for
byte (no float, no re-scaling); so are the instants of signals and directory
rows (RFC 3339 text, kept to the nanosecond as the core reads them). ``ConsumptionSnapshot``, ``EvidencePack`` and
``AuditLog`` are immutable: ``save`` of a stored row, ``delete``,
``QuerySet.update`` / ``delete`` and ``bulk_update`` raise :class:`ImmutableRecordError`;
on PostgreSQL a trigger (migration 0003) refuses ``UPDATE`` and ``DELETE`` too.
Only the services (``eucora_license_django.services``) write these tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from django.db import models

_M = TypeVar("_M", bound=models.Model)

ROLES: tuple[str, ...] = ("license_admin", "license_auditor", "ops_manager", "agent_operator", "viewer")
"""The five D1 roles; each is a Django group of the same name (migration 0002)."""


class ImmutableRecordError(Exception):
    """An update or delete of an immutable record (snapshot, evidence pack, audit entry)."""


class ImmutableQuerySet(models.QuerySet[_M]):
    """A queryset that refuses every bulk change; inserts (``create``, ``bulk_create``) only."""

    def update(self, **kwargs: Any) -> int:
        raise ImmutableRecordError(f"{self.model.__name__} is immutable: update refused")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError(f"{self.model.__name__} is immutable: delete refused")

    def bulk_update(self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None) -> int:
        raise ImmutableRecordError(f"{self.model.__name__} is immutable: bulk_update refused")

    def update_or_create(self, defaults: Any = None, create_defaults: Any = None, **kwargs: Any) -> tuple[_M, bool]:
        raise ImmutableRecordError(f"{self.model.__name__} is immutable: update_or_create refused")

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        if kwargs.get("update_conflicts"):
            raise ImmutableRecordError(f"{self.model.__name__} is immutable: bulk_create(update_conflicts) refused")
        return super().bulk_create(objs, *args, **kwargs)


class ImmutableModel(models.Model):
    """Base of the append-only models: a stored row never changes."""

    objects: ClassVar[models.Manager[Any]] = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise ImmutableRecordError(f"{type(self).__name__} is immutable: update refused")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError(f"{type(self).__name__} is immutable: delete refused")


# ----------------------------------------------------------------------------- organisation


class Organization(models.Model):
    """A tenant: its id is the A1 ``organization_id`` written into every bundle and snapshot."""

    id = models.CharField(primary_key=True, max_length=128)
    name = models.CharField(max_length=200)
    expected_sources = models.JSONField(default=list, blank=True, help_text="A1 expected_sources (coverage, Degraded)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name or self.id


class ChainHead(models.Model):
    """The head of an organisation's audit chain: the row every append locks
    (``SELECT ... FOR UPDATE``), so two writers never fork the chain."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="chain_head")
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=71, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.organization_id} audit head #{self.seq}"


class RunLock(models.Model):
    """One row per organisation locked (``SELECT ... FOR UPDATE``) for the whole of a
    reconciliation, so two runs of one organisation never overlap."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="run_lock")
    locked_by = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.organization_id} run lock"


# ---------------------------------------------------------------------------------- catalog


class Vendor(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="vendors")
    vendor_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200)
    contacts = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("organization", "vendor_id")
        constraints = [models.UniqueConstraint(fields=["organization", "vendor_id"], name="eucora_vendor_unique")]

    def __str__(self) -> str:
        return self.name


class LicenseSKU(models.Model):
    MODELS = ("device", "user", "concurrent", "subscription", "feature")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="skus")
    sku_id = models.CharField(max_length=128)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="skus")
    sku_code = models.CharField(max_length=128, blank=True, default="")
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=16, choices=[(m, m) for m in MODELS])
    unit_cost = models.CharField(max_length=40, blank=True, default="", help_text="decimal string")
    cost_period = models.CharField(max_length=16, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    base_sku = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="features")

    class Meta:
        ordering = ("organization", "sku_id")
        constraints = [models.UniqueConstraint(fields=["organization", "sku_id"], name="eucora_sku_unique")]
        verbose_name = "license SKU"

    def __str__(self) -> str:
        return self.sku_id


class LicensePool(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="pools")
    pool_id = models.CharField(max_length=128)
    sku = models.ForeignKey(LicenseSKU, on_delete=models.PROTECT, related_name="pools")
    scope = models.CharField(max_length=200, help_text="global, region:<v> or bu:<v>")
    quantity = models.PositiveBigIntegerField(null=True, blank=True)
    reserved = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ("organization", "pool_id")
        constraints = [models.UniqueConstraint(fields=["organization", "pool_id"], name="eucora_pool_unique")]

    def __str__(self) -> str:
        return self.pool_id


class Entitlement(models.Model):
    """An A1 entitlement row, keyed by its ``entitlement_id``. Changed only by applying
    an approved ``entitlement.*`` proposal (``services.proposals``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="entitlements")
    entitlement_id = models.CharField(max_length=128)
    sku = models.ForeignKey(LicenseSKU, on_delete=models.PROTECT, related_name="entitlements")
    contract_id = models.CharField(max_length=128, blank=True, default="")
    quantity = models.PositiveBigIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    unit_cost = models.CharField(max_length=40, blank=True, default="", help_text="decimal string")
    currency = models.CharField(max_length=3, blank=True, default="")
    applied_proposal_id = models.CharField(max_length=71, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("organization", "entitlement_id")
        constraints = [models.UniqueConstraint(fields=["organization", "entitlement_id"], name="eucora_entitlement_unique")]

    def __str__(self) -> str:
        return self.entitlement_id


class DirectoryEntry(models.Model):
    """A ``directory.csv`` row (an identity alias with principal attributes); ``position``
    keeps file order, which A9 reads ("the first row in file order")."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="directory")
    position = models.PositiveIntegerField()
    principal_type = models.CharField(max_length=8)
    canonical_id = models.CharField(max_length=320)
    alias = models.CharField(max_length=320)
    status = models.CharField(max_length=16, blank=True, default="")
    region = models.CharField(max_length=64, blank=True, default="")
    bu = models.CharField(max_length=64, blank=True, default="")
    last_active_at = models.CharField(max_length=40, blank=True, default="", help_text="RFC 3339 instant or empty")

    class Meta:
        ordering = ("organization", "position")
        indexes = [models.Index(fields=["organization", "canonical_id"], name="eucora_dir_canonical")]
        verbose_name_plural = "directory entries"

    def __str__(self) -> str:
        return f"{self.principal_type}:{self.alias} -> {self.canonical_id}"


class Integration(models.Model):
    """A configured source: which adapter reads its exports (options hold no secrets)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="integrations")
    name = models.CharField(max_length=128)
    adapter = models.CharField(max_length=64, help_text="an eucora_license adapter name, or 'canonical'")
    source = models.CharField(max_length=64, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ("organization", "name")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="eucora_integration_unique")]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------- imports, signals


class ImportJob(models.Model):
    """One imported file: the exact input bytes (fed to the core at each run), their
    ``eucora.import.v1`` hash, row counts and row errors. The ``active`` jobs are the
    organisation's current exports: a new job for the same ``(adapter, file_name)``
    retires the previous one."""

    CANONICAL = "canonical"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="import_jobs")
    job_id = models.CharField(max_length=128, blank=True, default="", help_text="the core's job id, once known")
    adapter = models.CharField(max_length=64, help_text="adapter name, or 'canonical' for signal files")
    source = models.CharField(max_length=64, blank=True, default="")
    file_name = models.CharField(max_length=255)
    input_hash = models.CharField(max_length=71)
    input = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    row_errors = models.JSONField(default=list, blank=True, help_text="[{line, column, code, message}]")
    warnings = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, default="ok", help_text="ok | rejected")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ("organization", "-created_at", "-id")
        indexes = [models.Index(fields=["organization", "active"], name="eucora_import_active")]

    def __str__(self) -> str:
        return f"{self.adapter}/{self.file_name} ({self.input_hash[:19]})"


class ConsumptionSignal(models.Model):
    """A canonical signal (A1 columns) read from an import job, for queries and agents."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="signals")
    import_job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="signals")
    source = models.CharField(max_length=64)
    raw_id = models.CharField(max_length=255)
    observed_at = models.CharField(max_length=40, help_text="RFC 3339")
    sku = models.CharField(max_length=128, blank=True, default="")
    product = models.CharField(max_length=255, blank=True, default="")
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=16, blank=True, default="")
    user = models.CharField(max_length=320, blank=True, default="")
    device_serial = models.CharField(max_length=128, blank=True, default="")
    device_id = models.CharField(max_length=128, blank=True, default="")
    device_name = models.CharField(max_length=255, blank=True, default="")
    last_used_at = models.CharField(max_length=40, blank=True, default="")
    session_start = models.CharField(max_length=40, blank=True, default="")
    session_end = models.CharField(max_length=40, blank=True, default="")
    quantity = models.CharField(max_length=20, blank=True, default="")
    confidence = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["organization", "source", "raw_id"], name="eucora_signal_raw"),
            models.Index(fields=["organization", "sku"], name="eucora_signal_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.raw_id}"


# ------------------------------------------------------------------------------ rulesets, policy


class Ruleset(models.Model):
    """A ruleset version (A2); the ``active`` one is used by runs. Identity is its hash."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rulesets")
    ruleset_id = models.CharField(max_length=128)
    version = models.PositiveIntegerField()
    hash = models.CharField(max_length=71)
    document = models.JSONField()
    active = models.BooleanField(default=False)
    applied_proposal_id = models.CharField(max_length=71, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("organization", "-version")
        constraints = [models.UniqueConstraint(fields=["organization", "version"], name="eucora_ruleset_version_unique")]

    def __str__(self) -> str:
        return f"{self.ruleset_id} v{self.version}"


class Policy(models.Model):
    """A policy version (Part C + D sections); the ``active`` one decides D1/D2 and C2/C3."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="policies")
    policy_id = models.CharField(max_length=128)
    version = models.PositiveIntegerField()
    hash = models.CharField(max_length=71)
    canonical = models.BinaryField(help_text="the policy document's bytes as given to the core")
    active = models.BooleanField(default=False)
    applied_proposal_id = models.CharField(max_length=71, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("organization", "-version")
        verbose_name_plural = "policies"
        constraints = [models.UniqueConstraint(fields=["organization", "version"], name="eucora_policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.policy_id} v{self.version}"


# ------------------------------------------------------------------------------------- runs


class ReconciliationRun(models.Model):
    """One reconciliation of an organisation for one ``as_of`` (its schedule slot);
    ``run_id`` derives from ``as_of``, so a retry in the same slot is the same row."""

    RUNNING, OK, DEGRADED, FAILED = "running", "ok", "degraded", "failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=128)
    as_of = models.DateTimeField()
    status = models.CharField(max_length=16, default=RUNNING)
    reason_codes = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="[{code, message, location}] of a failed run")
    ruleset_hash = models.CharField(max_length=71, blank=True, default="")
    inputs_hash = models.CharField(max_length=71, blank=True, default="", help_text="sha256 over the bundle files")
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    trigger = models.CharField(max_length=16, default="schedule", help_text="schedule | manual | seed")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    report = models.JSONField(null=True, blank=True, help_text="run_report.json")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("organization", "-as_of")
        constraints = [models.UniqueConstraint(fields=["organization", "run_id"], name="eucora_run_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} ({self.status})"


class ConsumptionSnapshot(ImmutableModel):
    """A sealed snapshot: ``canonical`` holds the RFC 8785 bytes of the whole
    ``snapshot.json`` (``snapshot_hash`` included). Immutable."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="snapshots")
    run = models.OneToOneField(ReconciliationRun, on_delete=models.PROTECT, related_name="snapshot")
    sequence = models.PositiveIntegerField()
    snapshot_hash = models.CharField(max_length=71, unique=True)
    previous_hash = models.CharField(max_length=71, blank=True, default="")
    reconciled_at = models.DateTimeField()
    health = models.CharField(max_length=16)
    canonical = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("organization", "-sequence")
        constraints = [models.UniqueConstraint(fields=["organization", "sequence"], name="eucora_snapshot_sequence_unique")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.snapshot_hash[:19]}"


class EvidencePack(ImmutableModel):
    """A snapshot's evidence pack: a file in Django's storage and its ``eucora.pack.v1`` hash. Immutable."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="evidence_packs")
    snapshot = models.OneToOneField(ConsumptionSnapshot, on_delete=models.PROTECT, related_name="evidence_pack")
    pack_hash = models.CharField(max_length=71)
    file = models.CharField(max_length=500, help_text="name in the EVIDENCE_STORAGE storage")
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"pack {self.pack_hash[:19]}"


class ConsumptionUnit(models.Model):
    """A counted unit of a snapshot (from the pack's ``units.jsonl``), queryable per
    SKU, principal, source and confidence."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="units")
    snapshot = models.ForeignKey(ConsumptionSnapshot, on_delete=models.DO_NOTHING, related_name="units", db_constraint=True)
    sku = models.CharField(max_length=128)
    key = models.CharField(max_length=500, help_text="the unit's principal key")
    principal_type = models.CharField(max_length=16, blank=True, default="")
    pool = models.CharField(max_length=128, blank=True, default="")
    source = models.CharField(max_length=64, help_text="first source of its signals (byte order)")
    sources = models.JSONField(default=list)
    confidence = models.CharField(max_length=20, help_text="lowest confidence of its signals, decimal string")
    needs_review = models.BooleanField(default=False)
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["snapshot", "sku"], name="eucora_unit_sku"),
            models.Index(fields=["organization", "key"], name="eucora_unit_key"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.key}"


class Alert(models.Model):
    """A C2 alert, upserted by ``alert_id`` at each run: first/last seen, resolved when
    a later run no longer raises it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="alerts")
    alert_id = models.CharField(max_length=128)
    type = models.CharField(max_length=64)
    severity = models.CharField(max_length=16)
    subject = models.JSONField(default=dict)
    facts = models.JSONField(default=dict)
    message = models.TextField(blank=True, default="")
    document = models.JSONField(default=dict, help_text="the alert as the core returned it")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    snapshot_hash = models.CharField(max_length=71, help_text="latest snapshot that raised it")

    class Meta:
        ordering = ("organization", "resolved_at", "-last_seen_at", "alert_id")
        constraints = [models.UniqueConstraint(fields=["organization", "alert_id"], name="eucora_alert_unique")]

    def __str__(self) -> str:
        return f"{self.type} {self.alert_id}"


# ------------------------------------------------------------------------------- governance


class Proposal(models.Model):
    """A D2 proposal, stored as the core's canonical bytes so ``proposal_id`` always re-derives."""

    PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="proposals")
    proposal_id = models.CharField(max_length=71)
    kind = models.CharField(max_length=32)
    canonical = models.BinaryField(help_text="RFC 8785 bytes of the D2 proposal object")
    payload_hash = models.CharField(max_length=71)
    proposer = models.CharField(max_length=150, help_text="the proposer's id (user, or the user an agent acts for)")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    policy_hash = models.CharField(max_length=71)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    state = models.CharField(max_length=16, default=PENDING)
    applied_at = models.DateTimeField(null=True, blank=True)
    change = models.JSONField(null=True, blank=True, help_text="D2 apply's change, once applied")

    class Meta:
        ordering = ("organization", "-created_at")
        constraints = [models.UniqueConstraint(fields=["organization", "proposal_id"], name="eucora_proposal_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.proposal_id[:19]} ({self.state})"


class Approval(models.Model):
    """A D2 approval or rejection (``document`` is the object given to ``decide``)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="approvals")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="approvals")
    approver = models.CharField(max_length=150)
    decision = models.CharField(max_length=8, help_text="approve | reject")
    at = models.DateTimeField()
    comment = models.TextField(blank=True, default="")
    document = models.JSONField()
    counted = models.BooleanField(default=False)
    refused_reason = models.CharField(max_length=64, blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ("proposal", "at", "id")

    def __str__(self) -> str:
        return f"{self.decision} by {self.approver}"


class AgentRun(models.Model):
    """A D4 agent run (``document`` is the AgentRun JSON, replayable)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="agent_runs")
    run_id = models.CharField(max_length=128)
    agent = models.CharField(max_length=64)
    actor = models.JSONField()
    requested_by = models.CharField(max_length=150)
    status = models.CharField(max_length=16)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    model_id = models.CharField(max_length=128, blank=True, default="")
    started_at = models.DateTimeField()
    document = models.JSONField()

    class Meta:
        ordering = ("organization", "-started_at", "-id")

    def __str__(self) -> str:
        return f"{self.agent} {self.run_id}"


class AuditLog(ImmutableModel):
    """One D3 audit entry, append-only: ``line`` is its canonical JSON (a LOG.jsonl line).
    Appended only by ``services.governance.append_audit`` under the chain-head lock."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="audit_entries")
    seq = models.PositiveBigIntegerField()
    entry_hash = models.CharField(max_length=71)
    prev_hash = models.CharField(max_length=71, blank=True, default="")
    at = models.DateTimeField()
    actor_id = models.CharField(max_length=150, help_text="user id, or agent@user")
    action = models.CharField(max_length=64)
    entity_type = models.CharField(max_length=64, blank=True, default="")
    entity_id = models.CharField(max_length=255, blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    line = models.BinaryField()

    class Meta:
        ordering = ("organization", "seq")
        constraints = [models.UniqueConstraint(fields=["organization", "seq"], name="eucora_audit_seq_unique")]
        indexes = [models.Index(fields=["organization", "correlation_id"], name="eucora_audit_corr")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"
