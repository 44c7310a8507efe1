"""AC1 in a real browser (Debian chromium through Playwright): the sidebar shows
the latest successful snapshot's numbers and time exactly; a failed run keeps
them and shows Failed with the reason and the last success time; a late run
shows Stale with its duration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pages_helpers import DAY, SIGNALS_BAD, load, make_users, reconciled_org

from core_helpers import core_settings  # noqa: F401
from eucora_license_django.services import queries, runs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sidebar_text(page: Any, selector: str) -> str:
    return str(page.locator(f"[data-sidebar] {selector}").inner_text()).strip()


def snapshot_numbers(org: Any) -> tuple[dict[str, Any], str]:
    latest = queries.latest_snapshot(org)
    assert latest is not None
    doc = queries.snapshot_document(latest)
    return doc["totals"], str(doc["reconciled_at"])


def test_ac1_sidebar_shows_the_latest_snapshot_exactly(
    core_settings: Path, live_server: Any, browser_page: Any, browser_login: Any, screenshot: Any  # noqa: F811
) -> None:
    org, last = reconciled_org()
    assert last.status in ("ok", "degraded")
    make_users()
    totals, reconciled_at = snapshot_numbers(org)
    browser_login("viewer")
    browser_page.goto(live_server.url + "/")
    for name in ("consumed", "entitled", "remaining"):
        assert sidebar_text(browser_page, f'[data-sidebar-counter="{name}"]') == str(totals[name])
    when = browser_page.locator('[data-sidebar] [data-sidebar-field="last_reconciled_at"]')
    assert when.inner_text() == reconciled_at and when.get_attribute("datetime") == reconciled_at
    assert browser_page.locator('[data-sidebar] [data-health]').get_attribute("data-health") == last.status
    # the sidebar is on every page, with a link to the dashboard
    browser_page.goto(live_server.url + "/skus/visio")
    assert sidebar_text(browser_page, '[data-sidebar-counter="consumed"]') == str(totals["consumed"])
    browser_page.get_by_role("link", name="Open the license dashboard").click()
    browser_page.wait_for_url(live_server.url + "/")
    screenshot("sidebar", full_page=False)


def test_ac1_sidebar_failed_run_keeps_the_numbers(
    core_settings: Path, live_server: Any, browser_page: Any, browser_login: Any, screenshot: Any  # noqa: F811
) -> None:
    now = timezone.now()
    org, _ = reconciled_org(end=now - DAY)
    make_users()
    totals, reconciled_at = snapshot_numbers(org)
    load(org, SIGNALS_BAD, now)
    failed = runs.reconcile_organization(org, now=now)
    assert failed.status == "failed" and "conflicting_duplicate" in failed.reason_codes
    browser_login("viewer")
    browser_page.goto(live_server.url + "/")
    for name in ("consumed", "entitled", "remaining"):
        assert sidebar_text(browser_page, f'[data-sidebar-counter="{name}"]') == str(totals[name])
    health = browser_page.locator("[data-sidebar] [data-health]")
    assert health.get_attribute("data-health") == "failed" and health.inner_text() == "Failed"
    reason = sidebar_text(browser_page, '[data-sidebar-field="reason"]')
    assert "reconciliation_failed" in reason and "conflicting_duplicate" in reason
    assert sidebar_text(browser_page, '[data-sidebar-field="last_success_at"]') == reconciled_at
    assert sidebar_text(browser_page, '[data-sidebar-field="last_reconciled_at"]') == reconciled_at
    screenshot("sidebar-failed", full_page=False)


def test_ac1_sidebar_late_run_is_stale_with_its_duration(
    core_settings: Path, live_server: Any, browser_page: Any, browser_login: Any, screenshot: Any  # noqa: F811
) -> None:
    org, _ = reconciled_org(end=timezone.now() - 3 * DAY)
    make_users()
    totals, reconciled_at = snapshot_numbers(org)
    browser_login("viewer")
    browser_page.goto(live_server.url + "/")
    health = browser_page.locator("[data-sidebar] [data-health]")
    assert health.get_attribute("data-health") == "stale" and health.inner_text() == "Stale"
    stale = browser_page.locator('[data-sidebar] [data-sidebar-field="stale_for"] [data-seconds]')
    seconds = int(stale.get_attribute("data-seconds"))
    expected = timezone.now() - dt.datetime.fromisoformat(reconciled_at.replace("Z", "+00:00"))
    assert 0 <= expected.total_seconds() - seconds < 120
    assert seconds >= 3 * 86400 and stale.inner_text().startswith("3 d")
    assert sidebar_text(browser_page, '[data-sidebar-counter="consumed"]') == str(totals["consumed"])
    screenshot("sidebar-stale", full_page=False)
