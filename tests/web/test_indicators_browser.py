"""The indicator pages in a real browser: log in, open 指标统计, see both charts and the table,
sort by a column, export to Excel (a download), open 单位考评.

Screenshots go to test-artifacts/ at desktop (1366×768) and phone (390×844) sizes.
Without /usr/bin/chromium the test is skipped, unless PINGAN_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import openpyxl
import pytest

from tests.cases.indicator_history import build
from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
MARCH = "start=2026-03-01&end=2026-03-31"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("PINGAN_REQUIRE_BROWSER") == "1":
            pytest.fail("PINGAN_REQUIRE_BROWSER=1 but /usr/bin/chromium is not installed")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _shot(page, name: str) -> None:
    page.wait_for_timeout(400)  # let the charts finish their short animation
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"page scrolls sideways ({width}px > {viewport}px)"


def test_leader_opens_indicators_sorts_and_exports(
    transactional_db, live_server, tree, units, personas, browser
):
    build(tree, units, personas)
    user = personas.city_leader
    base = live_server.url
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.click("#sidenav a[href='/cases/indicators/']")
    page.wait_for_url(f"{base}/cases/indicators/")

    page.goto(f"{base}/cases/indicators/?{MARCH}")
    page.wait_for_selector("#ranking-chart canvas")
    page.wait_for_selector("#trend-chart canvas")
    rows = page.locator(".indicator-table tbody tr")
    assert rows.count() == 5  # every unit in the city leader's scope, with or without matters
    assert page.locator(".indicator-table .grade-A").first.inner_text() == "A"
    _no_sideways_scroll(page)
    _shot(page, "indicators-1366")
    page.locator(".indicator-table").scroll_into_view_if_needed()
    _shot(page, "indicators-table-1366")

    # Sort by 得分 (highest first): 江山 90 (A), 柯城 70 (C), then the units without a score.
    page.locator(".indicator-table thead th", has_text="得分").locator("button").click()
    assert (
        page.locator(".indicator-table thead th", has_text="得分").get_attribute("aria-sort") == "descending"
    )
    assert rows.first.locator("th").inner_text() == "江山市公安局"
    assert rows.nth(1).locator("th").inner_text() == "柯城区公安分局"

    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    assert sheet["A3"].value == "名称"
    assert {row[0].value for row in sheet.iter_rows(min_row=4)} >= {"柯城区公安分局", "江山市公安局", "合计"}

    page.goto(f"{base}/cases/indicators/?{MARCH}&group=area&level=township")
    page.wait_for_selector("#ranking-chart canvas")
    _shot(page, "indicators-area-1366")

    page.goto(f"{base}/cases/indicators/scorecard/?{MARCH}")
    assert page.locator(".scorecard-table tbody tr").first.locator("th").inner_text() == "江山市公安局"
    _no_sideways_scroll(page)
    _shot(page, "indicators-scorecard-1366")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/cases/indicators/?{MARCH}")
    page.wait_for_selector("#ranking-chart canvas")
    _no_sideways_scroll(page)
    _shot(page, "indicators-390")
    page.evaluate("document.getElementById('ranking-chart').scrollIntoView()")
    _shot(page, "indicators-ranking-390")
    page.evaluate("document.getElementById('trend-chart').scrollIntoView()")
    _shot(page, "indicators-trend-390")
    page.evaluate("document.querySelector('.indicator-table').scrollIntoView()")
    _shot(page, "indicators-table-390")
    page.goto(f"{base}/cases/indicators/scorecard/?{MARCH}")
    _no_sideways_scroll(page)
    _shot(page, "indicators-scorecard-390")
    assert errors == []
    context.close()
