"""The pages: each renders for the roles D1 allows and answers a 403 page naming
the reason for the others; the sidebar shows exactly the core's summary; the
trend chart is deterministic SVG; approvals through the queue's forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pages_helpers import ROLES, make_users, reconciled_org

from core_helpers import core_settings  # noqa: F401
from eucora_license_django.models import Entitlement, Organization
from eucora_license_django.pages.charts import trend_svg
from eucora_license_django.services import governance as gov
from eucora_license_django.services import proposals as proposal_service
from eucora_license_django.services import queries
from eucora_license_django.templatetags.eucora_sidebar import duration

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(core_settings: Path) -> Organization:  # noqa: F811
    org, _ = reconciled_org()
    make_users()
    return org


def client_for(role: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=role))
    return c


def counter(html: str, name: str) -> str:
    m = re.search(rf'data-counter="{name}">([^<]*)<', html)
    assert m, name
    return m.group(1)


# ------------------------------------------------------------------------------- chart


def test_chart_is_deterministic_svg() -> None:
    labels = ["2026-11-01", "2026-11-02", "2026-11-03"]
    series: dict[str, list[int | None]] = {"consumed": [5, 6, None], "entitled": [8, 8, 8]}
    one = trend_svg(labels, series, title="Trend <30 days>")
    two = trend_svg(list(labels), dict(series), title="Trend <30 days>")
    assert one == two
    assert one.startswith("<svg") and one.endswith("</svg>")
    assert "<title id=\"chart-title\">Trend &lt;30 days&gt;</title>" in one
    # top 8, plot height 172: y(8) = 12, y(6) = 55, y(5) = 77; consumed: two points then a gap
    assert '<polyline points="48,184 338,184 628,184"' not in one
    assert 'points="48,12 338,12 628,12"' in one and 'data-series="entitled"' in one
    assert 'points="48,77 338,55"' in one
    assert "." not in re.sub(r"<title.*?</title>|\d+-\d+-\d+", "", one).replace("http://www.w3.org", "")
    assert trend_svg([], {"consumed": []}, title="empty").count("<polyline") == 0
    single = trend_svg(["d"], {"consumed": [3]}, title="one")
    assert "<circle" in single


def test_duration_filter() -> None:
    assert duration(3 * 86400 + 2 * 3600 + 5 * 60 + 7) == "3 d 2 h 5 min"
    assert duration(59) == "59 s"
    assert duration(None) == ""


# ------------------------------------------------------------------------------- access

PAGES: list[tuple[str, str, dict[str, Any]]] = [
    ("dashboard", "view.dashboard", {}),
    ("sku", "view.dashboard", {"sku": "visio"}),
    ("approvals", "view.dashboard", {}),
    ("audit", "audit.run", {}),
    ("admin_catalog", "view.dashboard", {}),
    ("admin_integrations", "view.dashboard", {}),
    ("admin_versions", "view.dashboard", {}),
]


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_for_allowed_roles_and_refuse_others(org: Organization, role: str) -> None:
    c = client_for(role)
    actor = gov.actor_for(User.objects.get(username=role))
    for name, action, kwargs in PAGES:
        resp = c.get(reverse(f"eucora_license:{name}", kwargs=kwargs))
        decision = gov.authorize(org, actor, action)
        if decision["allowed"]:
            assert resp.status_code == 200, (role, name)
            assert b'data-sidebar' in resp.content and b"<main" in resp.content
        else:
            assert resp.status_code == 403, (role, name)
            assert decision["reason"].encode() in resp.content and action.encode() in resp.content
    snap = queries.latest_snapshot(org)
    assert snap is not None
    ev = c.get(reverse("eucora_license:evidence", args=[snap.snapshot_hash]))
    dl = c.get(reverse("eucora_license:evidence_download", args=[snap.snapshot_hash]))
    assert ev.status_code == (200 if gov.authorize(org, actor, "view.evidence")["allowed"] else 403)
    assert dl.status_code == (200 if gov.authorize(org, actor, "evidence.export")["allowed"] else 403)
    if dl.status_code == 200:
        import eucora_license as el

        assert el.verify(dl.content).ok


def test_anonymous_is_sent_to_login(org: Organization) -> None:
    resp = Client().get("/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_dashboard_counters_and_sidebar_equal_the_core(org: Organization) -> None:
    html = client_for("viewer").get("/").content.decode()
    s = queries.summary(org)
    for name in queries.COUNTERS:
        assert counter(html, name) == str(s[name])
    for name in ("consumed", "entitled", "remaining"):
        assert f'data-sidebar-counter="{name}">{s[name]}<' in html
    assert f'datetime="{s["last_reconciled_at"]}">{s["last_reconciled_at"]}<' in html
    assert "<svg" in html and 'data-series="consumed"' in html
    assert 'href="/skus/visio"' in html


def test_dashboard_filters(org: Organization) -> None:
    c = client_for("viewer")
    html = c.get("/", {"vendor": "nope"}).content.decode()
    assert "No SKU matches." in html
    html = c.get("/", {"model": "device", "days": "90"}).content.decode()
    assert 'data-sku="visio"' in html and 'data-sku="m365-e3"' not in html and "last 90 days" in html


def test_sku_page_diff_and_evidence_links(org: Organization) -> None:
    html = client_for("license_auditor").get("/skus/visio").content.decode()
    assert "serial:PF4" in html and "new_signal" in html
    assert "data-evidence-download" in html and "intune" in html
    assert client_for("viewer").get("/skus/nope").status_code == 404


def test_approve_and_self_approval_through_the_queue(org: Organization) -> None:
    admin = gov.actor_for(User.objects.get(username="license_admin"))
    p = proposal_service.propose_entitlement(org, admin, {"entitlement_id": "E-9", "sku": "visio", "quantity": 5,
                                                          "starts_on": "2026-12-01"}, correlation_id="t")
    queue = client_for("license_admin").get("/approvals").content.decode()
    assert p.proposal_id in queue and "role_lacks_action" in queue
    refused = client_for("license_admin").post(f"/approvals/{p.proposal_id}/approve")
    assert refused.status_code == 403 and b'data-refused="role_lacks_action"' in refused.content
    ok = client_for("ops_manager").post(f"/approvals/{p.proposal_id}/approve", {"comment": "fine"})
    assert ok.status_code == 200 and b'data-result="approved"' in ok.content
    assert Entitlement.objects.filter(organization=org, entitlement_id="E-9", quantity=5).exists()
    again = client_for("ops_manager").post(f"/approvals/{p.proposal_id}/approve")
    assert again.status_code == 409 and b"already_applied" in again.content


def test_approve_needs_csrf(org: Organization) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(User.objects.get(username="ops_manager"))
    assert c.post("/approvals/sha256:00/approve").status_code == 403


def test_entitlement_form_becomes_a_proposal(org: Organization) -> None:
    c = client_for("license_admin")
    resp = c.post("/manage/entitlements/propose", {"action": "create", "entitlement_id": "E-10", "sku": "visio",
                                                   "quantity": "4", "starts_on": "2026-12-01"})
    assert resp.status_code == 302
    assert not Entitlement.objects.filter(entitlement_id="E-10").exists()
    assert any(p["payload"]["entitlement_id"] == "E-10" for p in queries.proposals(org, state="pending"))
    assert client_for("viewer").post("/manage/entitlements/propose", {"entitlement_id": "E-11"}).status_code == 403
    bad = c.post("/manage/entitlements/propose", {"entitlement_id": "E-12", "sku": "visio", "quantity": "x"})
    assert bad.status_code == 400


def test_audit_page_verifies(org: Organization) -> None:
    html = client_for("license_auditor").get("/audit").content.decode()
    assert 'data-verify="ok"' in html and "reconcile.run" in html


def test_chart_negative_values_stay_inside() -> None:
    svg = trend_svg(["a", "b"], {"remaining": [-3, 5]}, title="remaining")
    # axis -4 .. 8: y(-3) = 184 - 1 * 172 // 12, y(5) = 184 - 9 * 172 // 12
    assert 'points="48,170 628,55"' in svg and ">-4</text>" in svg


def test_sidebar_tag_works_without_the_context_processor(org: Organization, settings: Any) -> None:
    templates = [{**settings.TEMPLATES[0], "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"], "context_processors": [
        p for p in settings.TEMPLATES[0]["OPTIONS"]["context_processors"] if "eucora" not in p]}}]
    settings.TEMPLATES = templates
    html = client_for("viewer").get("/").content.decode()
    s = queries.summary(org)
    assert f'data-sidebar-counter="consumed">{s["consumed"]}<' in html


def test_catalog_forms_write_with_audit_or_refuse(org: Organization) -> None:
    from eucora_license_django.models import AuditLog, Integration, LicenseSKU, Vendor

    admin = client_for("license_admin")
    assert admin.post("/manage/vendor/save", {"id": "adobe", "name": "Adobe"}).status_code == 302
    assert admin.post("/manage/sku/save", {"id": "acrobat", "vendor": "adobe", "name": "Acrobat", "model": "user",
                                           "unit_cost": "15.00", "currency": "USD"}).status_code == 302
    assert LicenseSKU.objects.get(organization=org, sku_id="acrobat").vendor.vendor_id == "adobe"
    assert admin.post("/manage/integration/save", {"name": "csv", "adapter": "canonical"}).status_code == 302
    assert Integration.objects.filter(organization=org, name="csv").exists()
    bad = admin.post("/manage/sku/save", {"id": "x", "vendor": "adobe", "name": "X", "model": "nope"})
    assert bad.status_code == 400 and b"model" in bad.content
    before = AuditLog.objects.filter(organization=org).count()
    no = client_for("viewer").post("/manage/vendor/save", {"id": "evil", "name": "Evil"})
    assert no.status_code == 403 and b"role_lacks_action" in no.content
    assert not Vendor.objects.filter(vendor_id="evil").exists()
    assert AuditLog.objects.filter(organization=org).count() == before + 1
    html = admin.get("/manage/catalog").content.decode()
    assert "data-vendor-form" in html and "data-sku-form" in html and "acrobat" in html
    assert "data-vendor-form" not in client_for("ops_manager").get("/manage/catalog").content.decode()


def test_upload_and_reconcile_forms(org: Organization) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from pages_helpers import SIGNALS_DAY2

    from eucora_license_django.models import ImportJob, ReconciliationRun

    op = client_for("agent_operator")
    resp = op.post("/manage/import", {"adapter": "canonical", "files": SimpleUploadedFile("extra.csv", SIGNALS_DAY2)})
    assert resp.status_code == 302 and ImportJob.objects.filter(organization=org, file_name="extra.csv").exists()
    assert client_for("viewer").post("/manage/import", {"adapter": "canonical"}).status_code == 403
    runs_before = ReconciliationRun.objects.filter(organization=org).count()
    assert op.post("/manage/reconcile").status_code == 302
    assert ReconciliationRun.objects.filter(organization=org).count() == runs_before + 1
    assert client_for("viewer").post("/manage/reconcile").status_code == 403
    html = op.get("/manage/integrations").content.decode()
    assert "data-upload-form" in html and "data-reconcile-form" in html and "extra.csv" in html
