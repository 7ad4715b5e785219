"""The shell and the map in a real browser (Debian's chromium driven by Playwright).

Screenshots go to test-artifacts/ for a person to look at (UI.md: check it as a user would).
"""

from __future__ import annotations

import pytest

from tests.browser import log_in, shot

pytestmark = pytest.mark.browser


def test_grid_worker_logs_in_and_opens_their_grid_on_the_map(
    transactional_db, live_server, personas, tree, browser
):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/login/")
    shot(page, "login-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "login-390")
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server.url, "kc_grid")
    assert page.locator(".grid-name").inner_text() == tree.kecheng_grid.name
    shot(page, "home-grid-worker-1366")

    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-ready]")
    grids = page.locator("path.pa-grid")
    grids.first.wait_for()
    assert grids.count() >= 1

    grids.first.click()
    code = page.locator(".leaflet-popup-content .popup-code")
    code.wait_for()
    assert code.inner_text() == tree.kecheng_grid.code
    popup = page.locator(".leaflet-popup-content")
    page.wait_for_function(
        "() => !document.querySelector('.leaflet-popup-content').textContent.includes('加载中')"
    )
    assert "柯城网格员" in popup.inner_text()
    assert tree.kecheng_village.name in popup.inner_text()  # parents chain
    shot(page, "map-grid-popup-1366")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    shot(page, "home-grid-worker-390")
    assert page.locator(".nav-toggle").is_visible()
    assert not page.locator("#sidenav").is_visible() or page.locator("#sidenav").bounding_box()["x"] < 0
    page.click(".nav-toggle")
    page.wait_for_timeout(300)
    assert page.locator("#sidenav a[href='/map/']").is_visible()
    shot(page, "nav-open-390")
    page.click("#sidenav a[href='/map/']")
    page.wait_for_selector("#map[data-ready]")
    page.locator("path.pa-grid").first.wait_for()
    shot(page, "map-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    assert errors == []
    context.close()


def test_leader_home_chart_and_map_outlines(transactional_db, live_server, personas, tree, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url, "city_leader")
    page.wait_for_selector("#scope-chart canvas")
    shot(page, "home-leader-1366")

    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-ready]")
    assert page.locator("path.pa-county").count() == 2
    assert page.locator("path.pa-township").count() == 2
    page.locator("path.pa-township").first.click()
    page.locator("path.pa-grid").first.wait_for()
    shot(page, "map-leader-1366")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#scope-chart canvas")
    shot(page, "home-leader-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    context.close()


def test_admin_audit_page_in_english(transactional_db, live_server, personas, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/audit/")
    # An English browser still gets Chinese; the user switches in the user menu.
    assert page.locator("h1").inner_text() == "审计日志"
    with page.expect_navigation():
        page.evaluate("document.querySelector('.menu-languages button[value=en]').click()")
    page.goto(f"{live_server.url}/audit/")
    assert page.locator("h1").inner_text() == "Audit log"
    shot(page, "audit-en-1366")
    page.fill("#id_username", "nobody")
    page.click(".filters button[type=submit]")
    page.wait_for_selector("#audit-results .empty")
    assert "username=nobody" in page.url
    page.goto(f"{live_server.url}/audit/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    shot(page, "audit-en-390")
    context.close()
