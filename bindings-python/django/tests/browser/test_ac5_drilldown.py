"""AC5 in a real browser: dashboard → SKU → a diff → evidence download, and the
downloaded pack verifies with the core and explains the change; approvals done
in the browser (ops_manager approves what license_admin proposed; the
proposer's own approve is refused with the D1/D2 reason)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import eucora_license as el
import pytest
from django.contrib.auth.models import Group, User
from pages_helpers import make_users, reconciled_org

from core_helpers import core_settings  # noqa: F401
from eucora_license_django.models import Entitlement, Proposal
from eucora_license_django.services import queries
from eucora_license_django.services import runs as run_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ac5_dashboard_to_sku_to_diff_to_evidence_download(
    core_settings: Path, live_server: Any, browser_page: Any, browser_login: Any, screenshot: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    org, _ = reconciled_org()
    make_users()
    latest = queries.latest_snapshot(org)
    assert latest is not None
    summary = queries.summary(org)
    browser_login("license_auditor")
    page = browser_page
    page.goto(live_server.url + "/")
    for name in queries.COUNTERS:
        assert page.locator(f'[data-counter="{name}"]').inner_text() == str(summary[name])
    assert page.locator("figure[data-chart] svg polyline[data-series='consumed']").count() == 1
    screenshot("dashboard")
    page.locator('[data-top-skus] a[data-sku="visio"]').click()
    page.wait_for_url(live_server.url + "/skus/visio")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Visio")
    screenshot("sku-page")
    page.locator(f'[data-diff-link="{latest.sequence}"]').click()
    diff = page.locator(f'section[data-diff="{latest.snapshot_hash}"]')
    assert "serial:PF4" in diff.inner_text() and "new_signal" in diff.inner_text()
    diff.locator("[data-evidence-link]").click()
    page.wait_for_url("**/evidence/**")
    pack_hash = page.locator("[data-pack-hash]").inner_text()
    with page.expect_download() as info:
        page.locator("[data-evidence-download]").click()
    target = tmp_path / "pack.tar"
    info.value.save_as(str(target))
    data = target.read_bytes()
    report = el.verify(data)
    assert report.ok
    assert pack_hash == queries.evidence(org, latest.snapshot_hash)["pack_hash"]
    # the pack explains why Visio's consumption changed: its diff names the new unit and reason
    members = run_service.pack_members(data, ("diff.json",))
    visio = next(s for s in json.loads(members["diff.json"])["skus"] if s["sku"] == "visio")
    assert [(u["key"], u["reason"]) for u in visio["added"]] == [("serial:PF4", "new_signal")]


def test_ac5_approval_in_the_browser_and_the_proposers_own_approve_refused(
    core_settings: Path, live_server: Any, browser_context: Any, browser_page: Any, browser_login: Any,  # noqa: F811
    screenshot: Any,
) -> None:
    org, _ = reconciled_org()
    make_users()
    page = browser_page
    # license_admin proposes a new entitlement through the form
    browser_login("license_admin")
    page.goto(live_server.url + "/manage/catalog")
    form = page.locator("form[data-propose]")
    form.get_by_label("Entitlement id").fill("E-77")
    form.get_by_label("SKU").select_option("visio")
    form.get_by_label("Quantity").fill("7")
    form.get_by_label("Starts on").fill("2026-12-01")
    form.get_by_role("button", name="Propose").click()
    page.wait_for_url("**/approvals?state=pending")
    proposal = Proposal.objects.get(organization=org, state="pending")
    card = page.locator(f'[data-proposal="{proposal.proposal_id}"]')
    # shown in advance next to the button: license_admin may not approve (D1)
    assert card.locator("[data-expected-refusal]").get_attribute("data-expected-refusal") == "role_lacks_action"
    screenshot("approvals-queue")
    card.locator("[data-approve]").click()
    assert page.locator("[data-refused]").get_attribute("data-refused") == "role_lacks_action"
    assert not Entitlement.objects.filter(entitlement_id="E-77").exists()

    # a proposer who may approve is still refused on its own proposal: self_approval
    lead = User.objects.create_user("lead", password="demo")
    lead.groups.add(Group.objects.get(name="license_admin"), Group.objects.get(name="ops_manager"))
    browser_context.clear_cookies()
    browser_login("lead")
    page.goto(live_server.url + "/manage/catalog")
    form = page.locator("form[data-propose]")
    form.get_by_label("Entitlement id").fill("E-78")
    form.get_by_label("Quantity").fill("2")
    form.get_by_label("Starts on").fill("2026-12-01")
    form.get_by_role("button", name="Propose").click()
    page.wait_for_url("**/approvals?state=pending")
    own = Proposal.objects.get(organization=org, proposer="lead")
    mine = page.locator(f'[data-proposal="{own.proposal_id}"] [data-expected-refusal]')
    assert mine.get_attribute("data-expected-refusal") == "self_approval"
    page.locator(f'[data-proposal="{own.proposal_id}"] [data-approve]').click()
    assert page.locator("[data-refused]").get_attribute("data-refused") == "self_approval"

    # ops_manager approves license_admin's proposal: applied
    browser_context.clear_cookies()
    browser_login("ops_manager")
    page.goto(live_server.url + "/approvals?state=pending")
    card = page.locator(f'[data-proposal="{proposal.proposal_id}"]')
    card.get_by_label("Comment").fill("checked against the contract")
    card.locator("[data-approve]").click()
    assert page.locator("[data-result]").get_attribute("data-result") == "approved"
    assert Entitlement.objects.filter(organization=org, entitlement_id="E-77", quantity=7).exists()
    assert Proposal.objects.get(pk=proposal.pk).state == "approved"
    screenshot("approvals-after")
