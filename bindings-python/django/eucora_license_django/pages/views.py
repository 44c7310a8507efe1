"""The pages: thin views over ``services`` (every number from the core). Each view
authorises with D1 (``view.dashboard``, ...) and answers a 403 page naming the
reason when refused; writes go through the governed services (proposals,
approvals), which append their audit entries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

import eucora_license as el
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..conf import resolve_organization
from ..models import Entitlement, ImportJob, Integration, LicenseSKU, Organization, Ruleset, Vendor
from ..models import Policy as PolicyRow
from ..services import catalog as catalog_service
from ..services import governance as gov
from ..services import imports as import_service
from ..services import proposals as proposal_service
from ..services import queries
from ..services import runs as run_service
from .charts import trend_svg

T = "eucora_license_django/"
View = Callable[..., HttpResponse]


def correlation_id(request: HttpRequest) -> str:
    """The request's ``X-Correlation-ID`` when well-formed, else a new UUID."""
    given = request.headers.get("X-Correlation-ID", "")
    if given and len(given) <= 128 and all(c.isalnum() or c in "._:-" for c in given) and given.isascii():
        return given
    return str(uuid.uuid4())


def organization_of(request: HttpRequest) -> Organization:
    """The request's organisation (404 when the resolver finds none)."""
    org = resolve_organization(request)
    if org is None:
        raise Http404("no organisation")
    return org


def refused(request: HttpRequest, action: str, reason: str, status: int = 403) -> HttpResponse:
    """The 403 page naming the action and the D1/D2 reason code."""
    return render(request, T + "forbidden.html", {"action": action, "reason": reason}, status=status)


def can(request: HttpRequest, org: Organization, action: str) -> bool:
    """Whether the user holds ``action`` (D1) — to show or hide optional panels."""
    return bool(gov.authorize(org, gov.actor_for(request.user), action)["allowed"])


def page(action: str) -> Callable[[View], View]:
    """Login required, then D1 ``action`` on the request's organisation; the view gets ``org``."""

    def wrap(view: View) -> View:
        @login_required
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            org = organization_of(request)
            decision = gov.authorize(org, gov.actor_for(request.user), action)
            if not decision["allowed"]:
                return refused(request, action, str(decision["reason"]))
            try:
                return view(request, org, *args, **kwargs)
            except gov.NotFound as e:
                raise Http404(e.message) from e

        return inner

    return wrap


# ---------------------------------------------------------------------------------- dashboard

FILTERS = ("vendor", "sku", "pool", "region", "bu", "model")


@require_GET
@page("view.dashboard")
def dashboard(request: HttpRequest, org: Organization) -> HttpResponse:
    """Global counters, the 30/90-day trend, top SKUs, alerts, filters (GET)."""
    filters = {k: request.GET.get(k, "").strip() for k in FILTERS}
    active = {k: v for k, v in filters.items() if v}
    days = 90 if request.GET.get("days") == "90" else 30
    summary = queries.summary(org)
    points = queries.trend(org, days=days, sku=active.get("sku"))
    labels = [str(p["as_of"] or "")[:10] for p in points]
    chart = trend_svg(labels, {"consumed": [p["consumed"] for p in points], "entitled": [p["entitled"] for p in points]},
                      title=f"Consumed and entitled over the last {days} days"
                      + (f" ({active['sku']})" if "sku" in active else ""))
    skus = queries.top_skus(org, limit=10, filters=active)
    show_alerts = can(request, org, "view.alerts")
    counters = [(name, summary[name]) for name in queries.COUNTERS]
    options = queries.filter_options(org)
    return render(request, T + "dashboard.html", {
        "summary": summary, "counters": counters, "chart": chart, "days": days, "points": points,
        "skus": skus, "alerts": queries.alerts(org)[:20] if show_alerts else None, "filters": filters,
        "options": [(k, options.get(k, []), filters[k]) for k in FILTERS], "active": active,
    })


# ---------------------------------------------------------------------------------- SKU page


@require_GET
@page("view.dashboard")
def sku_page(request: HttpRequest, org: Organization, sku: str) -> HttpResponse:
    """Timeline, diffs with reasons, breakdowns, evidence links of one SKU."""
    detail = queries.sku_detail(org, sku, days=90)
    chosen = request.GET.get("snapshot") or detail["snapshot_hash"]
    diff = None
    if chosen:
        diff = detail["diff"] if chosen == detail["snapshot_hash"] else queries.sku_diff(org, sku, chosen)
    timeline = list(reversed(detail["timeline"]))
    return render(request, T + "sku.html", {
        "d": detail, "timeline": timeline, "diff": diff, "chosen": chosen,
        "can_evidence": can(request, org, "view.evidence"), "can_export": can(request, org, "evidence.export"),
    })


# ---------------------------------------------------------------------------------- evidence


@require_GET
@page("view.evidence")
def evidence_page(request: HttpRequest, org: Organization, snapshot_hash: str) -> HttpResponse:
    """The evidence pack's metadata and its download link (``evidence.export``)."""
    meta = queries.evidence(org, snapshot_hash)
    return render(request, T + "evidence.html", {"m": meta, "can_export": can(request, org, "evidence.export"),
                                                 "sku": request.GET.get("sku", "")})


@require_GET
@page("evidence.export")
def evidence_download(request: HttpRequest, org: Organization, snapshot_hash: str) -> HttpResponse:
    """The pack itself (a tar the core's ``verify`` checks)."""
    meta = queries.evidence(org, snapshot_hash)
    data = queries.evidence_bytes(org, snapshot_hash)
    response = HttpResponse(data, content_type="application/x-tar")
    response["Content-Disposition"] = f'attachment; filename="{meta["filename"]}"'
    response["X-Evidence-Pack-Hash"] = meta["pack_hash"]
    return response


# ---------------------------------------------------------------------------------- approvals


def _queue(request: HttpRequest, org: Organization, *, message: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    me = request.user.get_username()
    actor = gov.actor_for(request.user)
    rows = queries.proposals(org)
    decisions: dict[str, dict[str, Any]] = {}
    for p in rows:
        proposer = p.get("proposer") or {}
        p["mine"] = proposer.get("id") == me or (proposer.get("on_behalf_of") or {}).get("id") == me
        # The refusal the approve button will meet, shown next to it in advance:
        # D1 on the kind's approve action first, then D2's self_approval.
        action = gov.APPROVE_ACTION.get(str(p.get("kind")), "")
        if action and action not in decisions:
            decisions[action] = gov.authorize(org, actor, action)
        decision = decisions.get(action)
        if decision is not None and not decision["allowed"]:
            p["refusal"] = str(decision["reason"])
        elif p["mine"]:
            p["refusal"] = "self_approval"
        else:
            p["refusal"] = None
    state = request.GET.get("state", "")
    shown = [p for p in rows if not state or p["state"] == state]
    return render(request, T + "approvals.html", {"proposals": shown, "message": message, "state": state,
                                                  "states": ["pending", "approved", "rejected", "expired"]}, status=status)


@require_GET
@page("view.dashboard")
def approvals(request: HttpRequest, org: Organization) -> HttpResponse:
    """The proposals (pending first in the filter), each with approve/reject forms."""
    return _queue(request, org)


@require_POST
@login_required
def decide(request: HttpRequest, proposal_id: str, decision: str) -> HttpResponse:
    """POST approve/reject (CSRF): the D2 decision; refused → the queue with the reason, 403."""
    org = organization_of(request)
    if decision not in ("approve", "reject"):
        raise Http404(decision)
    actor = gov.actor_for(request.user)
    try:
        outcome = proposal_service.decide_proposal(org, actor, proposal_id, decision,
                                                   comment=request.POST.get("comment", "")[:1000],
                                                   correlation_id=correlation_id(request))
    except gov.NotFound as e:
        raise Http404(e.message) from e
    except (gov.Refused, gov.Conflict) as e:
        return _queue(request, org, status=e.status, message={
            "ok": False, "code": e.code, "proposal_id": proposal_id, "decision": decision})
    return _queue(request, org, message={"ok": True, "proposal_id": proposal_id, "decision": decision,
                                         "state": outcome.state, "applied": outcome.change is not None})


# ---------------------------------------------------------------------------------- audit


@require_GET
@page("audit.run")
def audit(request: HttpRequest, org: Organization) -> HttpResponse:
    """The D3 chain (newest first, optionally one correlation id), its verification and checkpoint."""
    cid = request.GET.get("correlation_id", "").strip() or None
    entries = list(reversed(queries.audit(org, correlation_id=cid)))
    return render(request, T + "audit.html", {"entries": entries[:200], "total": len(entries),
                                              "verify": gov.verify_audit(org), "checkpoint": gov.read_checkpoint(org),
                                              "correlation_id": cid or ""})


# ---------------------------------------------------------------------------------- admin


@require_GET
@page("view.dashboard")
def admin_catalog(request: HttpRequest, org: Organization) -> HttpResponse:
    """Vendors, SKUs and entitlements (entitlement edits become proposals)."""
    return render(request, T + "admin_catalog.html", {
        "vendors": Vendor.objects.filter(organization=org).order_by("vendor_id"),
        "skus": LicenseSKU.objects.filter(organization=org).select_related("vendor").order_by("sku_id"),
        "entitlements": Entitlement.objects.filter(organization=org).select_related("sku").order_by("entitlement_id"),
        "can_propose": can(request, org, "entitlement.propose"),
        "can_write": can(request, org, "catalog.write"),
        "models": LicenseSKU.MODELS,
        "sku_ids": LicenseSKU.objects.filter(organization=org).order_by("sku_id").values_list("sku_id", flat=True),
    })


@require_POST
@login_required
def propose_entitlement(request: HttpRequest) -> HttpResponse:
    """POST a new/updated/ended entitlement: a pending proposal (nothing changes until approved)."""
    org = organization_of(request)
    data: dict[str, Any] = {k: request.POST.get(k, "").strip() for k in
                            ("action", "entitlement_id", "sku", "quantity", "starts_on", "ends_on", "contract_id",
                             "unit_cost", "currency", "pool")}
    data = {k: v for k, v in data.items() if v != ""}
    if "quantity" in data:
        try:
            data["quantity"] = int(data["quantity"])
        except ValueError:
            pass
    try:
        proposal_service.propose_entitlement(org, gov.actor_for(request.user), data, correlation_id=correlation_id(request))
    except gov.Refused as e:
        return refused(request, "entitlement.propose", e.code)
    except gov.BadInput as e:
        return render(request, T + "bad_input.html", {"code": e.code, "message": e.message, "details": e.details}, status=400)
    return HttpResponseRedirect(reverse("eucora_license:approvals") + "?state=pending")


@require_GET
@page("view.dashboard")
def admin_integrations(request: HttpRequest, org: Organization) -> HttpResponse:
    """Integrations and import jobs (with their input hashes and row errors)."""
    return render(request, T + "admin_integrations.html", {
        "integrations": Integration.objects.filter(organization=org).order_by("pk"),
        "jobs": ImportJob.objects.filter(organization=org).order_by("-created_at", "-pk")[:100],
        "can_write": can(request, org, "integration.write"),
        "can_upload": can(request, org, "import.upload"),
        "can_reconcile": can(request, org, "reconcile.run"),
        "adapters": ["canonical", *sorted(a.name for a in el.adapters())],
        "runs": queries.runs(org, limit=20),
    })


@require_POST
@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """POST (multipart) ``adapter`` and files: import jobs (``import.upload``), with row errors."""
    org = organization_of(request)
    files = {str(f.name or "upload"): f.read() for f in request.FILES.getlist("files")}
    try:
        import_service.import_files(org, gov.actor_for(request.user), request.POST.get("adapter", "canonical"), files,
                                    correlation_id=correlation_id(request))
    except gov.Refused as e:
        return refused(request, "import.upload", e.code)
    except gov.BadInput as e:
        return render(request, T + "bad_input.html", {"code": e.code, "message": e.message, "details": e.details}, status=400)
    return HttpResponseRedirect(reverse("eucora_license:admin_integrations"))


@require_POST
@login_required
def reconcile(request: HttpRequest) -> HttpResponse:
    """POST: a manual run now (``reconcile.run``); a failure keeps the previous truth (the sidebar says Failed)."""
    org = organization_of(request)
    actor = gov.actor_for(request.user)
    cid = correlation_id(request)
    try:
        gov.require(org, actor, "reconcile.run", correlation_id=cid, entity=("organization", org.pk))
    except gov.Refused as e:
        return refused(request, "reconcile.run", e.code)
    run_service.run_now(org, actor, correlation_id=cid)
    return HttpResponseRedirect(reverse("eucora_license:admin_integrations"))


#: The catalog forms: kind -> (D1 action, service, fields, page to return to).
CATALOG_FORMS: dict[str, tuple[str, Callable[..., Any], tuple[str, ...], str]] = {
    "vendor": ("catalog.write", catalog_service.save_vendor, ("id", "name"), "eucora_license:admin_catalog"),
    "sku": ("catalog.write", catalog_service.save_sku,
            ("id", "vendor", "name", "model", "sku_code", "unit_cost", "cost_period", "currency", "base_sku"),
            "eucora_license:admin_catalog"),
    "integration": ("integration.write", catalog_service.save_integration, ("name", "adapter", "source"),
                    "eucora_license:admin_integrations"),
}


@require_POST
@login_required
def catalog_write(request: HttpRequest, kind: str) -> HttpResponse:
    """POST a vendor, SKU or integration (``catalog.write`` / ``integration.write``): the
    service authorises (a refusal is audited and answers the 403 page), validates (400
    page naming the field) and writes with its audit entry."""
    if kind not in CATALOG_FORMS:
        raise Http404(kind)
    action, save, fields, back = CATALOG_FORMS[kind]
    org = organization_of(request)
    data = {k: request.POST.get(k, "").strip() for k in fields}
    try:
        save(org, gov.actor_for(request.user), data, correlation_id=correlation_id(request))
    except gov.Refused as e:
        return refused(request, action, e.code)
    except gov.BadInput as e:
        return render(request, T + "bad_input.html", {"code": e.code, "message": e.message, "details": e.details}, status=400)
    return HttpResponseRedirect(reverse(back))


@require_GET
@page("view.dashboard")
def admin_versions(request: HttpRequest, org: Organization) -> HttpResponse:
    """Ruleset and policy versions (changes go through ``ruleset.version`` / ``policy.version`` proposals)."""
    return render(request, T + "admin_versions.html", {
        "rulesets": Ruleset.objects.filter(organization=org).order_by("-version"),
        "policies": PolicyRow.objects.filter(organization=org).order_by("-version"),
    })
