"""The closed loop in a real browser: a grid worker reports from a phone (position and photo),
the 柯城 dispatcher dispatches it from the desk in one click, the handler accepts and reports
back, the dispatcher closes it, and the timeline shows each step.

Screenshots of every page go to test-artifacts/ at desktop (1366×768) and phone (390×844) sizes.
Without /usr/bin/chromium the test is skipped, unless PINGAN_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pingan.accounts.choices import Platform
from pingan.cases.choices import Action, Channel, DeadlineUnit, Status
from pingan.cases.models import Case
from pingan.cases.services import transition
from pingan.events.models import Category, RoutingRule
from pingan.events.services import intake
from tests.browser import log_in, shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
KC_POINT = {"latitude": 28.95, "longitude": 118.85}  # inside the conftest 柯城 grid
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f0c3a10000000049454e44ae426082"
)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page scrolls sideways ({width}px)"


@pytest.fixture
def loop_data(tree, units, personas, settings, tmp_path):
    """A catalogue with hour deadlines (dispatching "now" needs no working-day table), a rule
    routing 暴露垃圾 in 柯城 to 柯城区公安分局, and a few cases under supervision for the board."""
    settings.MEDIA_ROOT = tmp_path
    major = Category.objects.create(code="01", name="市容环境", platform=Platform.JIANGUAN)
    rubbish = Category.objects.create(
        code="0101", name="暴露垃圾", parent=major,
        deadline_unit=DeadlineUnit.URGENT_HOURS, deadline_amount=Decimal(48), close_condition="垃圾清运完毕",
    )  # fmt: skip
    Category.objects.create(
        code="0106", name="占道经营", parent=major,
        deadline_unit=DeadlineUnit.URGENT_HOURS, deadline_amount=Decimal(24),
    )  # fmt: skip
    RoutingRule.objects.create(category=rubbish, jurisdiction=tree.kecheng, unit=units.kecheng_police)
    dispatcher, now = personas.kecheng_dispatcher, timezone.now()
    # 占道经营 has 24 hours: dispatched 4 days ago → 红牌, 30 hours ago → 黄牌, 22 hours ago → 预警.
    for title, card, hours_ago in (
        ("新桥街夜市占道经营屡禁不止", Action.RED_CARD, 96),
        ("荷花路人行道摆摊", Action.YELLOW_CARD, 30),
        ("府山公园门口流动摊贩", Action.WARN, 22),
    ):
        at = now - timedelta(hours=hours_ago)
        case, _created = intake(
            actor=dispatcher,
            channel=Channel.HOTLINE,
            category="0106",
            title=title,
            lat=28.93,
            lon=118.83,
            at=at,
        )
        transition(case, Action.DISPATCH, actor=dispatcher, unit=units.kecheng_platform, at=at)
        transition(case, card, actor=None)
    return personas


def test_grid_worker_reports_and_the_loop_closes_in_the_browser(
    transactional_db, live_server, loop_data, browser
):
    personas = loop_data
    base = live_server.url
    errors: list[str] = []

    # ---- 1. a grid worker on a phone reports an event with the position and a photo ----------
    phone = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
        geolocation=KC_POINT, permissions=["geolocation"],
    )  # fmt: skip
    page = phone.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, personas.kecheng_grid_worker.username)
    page.click(".nav-toggle")
    page.click("#sidenav a[href='/events/report/']")
    page.wait_for_url(f"{base}/events/report/")
    _no_sideways_scroll(page)
    shot(page, "cases-report-empty-390")

    page.select_option("#id_category", "0101")
    page.fill("#id_title", "府山路口暴露垃圾")
    page.fill("#id_description", "垃圾堆放两天，有异味，影响通行")
    page.click("#locate-button")
    page.wait_for_selector("#locate-status.is-ok")
    assert "府山社区第1网格" in page.inner_text("#locate-status")
    assert page.input_value("#id_lat") == "28.95" and page.input_value("#id_lon") == "118.85"
    page.set_input_files("#id_photos", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": PNG}])
    page.wait_for_selector("#photo-previews img")
    # Typed text survives a reload (a lost connection, a closed tab): the draft is restored.
    page.wait_for_timeout(400)
    page.reload()
    page.wait_for_selector("#draft-note:not([hidden])")
    assert page.input_value("#id_title") == "府山路口暴露垃圾"
    assert page.input_value("#id_lat") == "28.95"
    page.set_input_files("#id_photos", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": PNG}])
    page.wait_for_selector("#locate-status.is-ok")
    page.wait_for_timeout(500)  # the grid outline on the small map
    _no_sideways_scroll(page)
    shot(page, "cases-report-filled-390")
    page.locator("#place-title").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 120)")
    shot(page, "cases-report-place-390")

    page.click("#report-submit")
    page.wait_for_url("**/cases/*/?reported=1")
    case = Case.objects.get(title="府山路口暴露垃圾")
    assert page.inner_text("#case-number") == case.number
    assert f"已上报，案件编号 {case.number}" in page.inner_text(".messages")
    assert case.channel == Channel.GRID
    assert case.steps.get().attachments.count() == 1
    assert (
        page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('pingan.report.draft')).length")
        == 0
    )
    _no_sideways_scroll(page)
    shot(page, "cases-reported-390")
    page.goto(f"{base}/cases/mine/")
    assert case.number in page.inner_text("#case-list")
    _no_sideways_scroll(page)
    shot(page, "cases-mine-grid-390")
    phone.close()

    # ---- 2. the 柯城 dispatcher sees it on the desk with the suggestion, dispatches in one click --
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = desk.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, personas.kecheng_dispatcher.username)
    page.click("#sidenav a[href='/cases/desk/']")
    page.wait_for_url(f"{base}/cases/desk/")
    row = page.locator(f"tr[data-case='{case.pk}']")
    assert "柯城区公安分局" in row.inner_text() and "建议" in row.inner_text()
    shot(page, "cases-desk-1366")
    row.locator("button", has_text="派遣").click()
    page.wait_for_selector(".messages")
    assert f"{case.number} 已派遣至 柯城区公安分局" in page.inner_text(".messages")
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.unit.name == "柯城区公安分局"
    shot(page, "cases-desk-dispatched-1366")
    page.goto(f"{base}/cases/desk/?tab=all")
    shot(page, "cases-desk-all-1366")
    page.goto(f"{base}/cases/board/")
    assert page.locator(".board-column.sv-red .board-item").count() == 1
    assert "已超期 3 天" in page.locator(".board-column.sv-red").inner_text()
    shot(page, "cases-board-1366")

    # ---- 3. the handler accepts and reports back ---------------------------------------------------
    handler = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    hpage = handler.new_page()
    hpage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(hpage, base, personas.kecheng_handler.username)
    hpage.click("#sidenav a[href='/cases/mine/']")
    hpage.wait_for_url(f"{base}/cases/mine/")
    shot(hpage, "cases-mine-handler-1366")
    hpage.locator(f"form[action='/cases/{case.pk}/act/accept/'] button").click()  # 签收 from the list
    hpage.wait_for_selector(".messages")
    assert f"{case.number}：已签收" in hpage.inner_text(".messages")
    hpage.click(f"a.case-link[href='/cases/{case.pk}/']")
    hpage.wait_for_url(f"{base}/cases/{case.pk}/")
    assert hpage.locator("[data-action-open]").all_inner_texts() == ["退回", "处置反馈", "申请延期", "备注"]
    assert hpage.locator("#case-status").inner_text() == "处置中"
    hpage.click("[data-action-open=report]")
    hpage.fill("#note-report", "已联系环卫清运，现场已清理干净")
    shot(hpage, "cases-detail-report-form-1366")
    hpage.click("#act-report button[type=submit]")
    hpage.wait_for_selector("#case-status:has-text('待核查')")
    handler.close()

    # ---- 4. the dispatcher verifies and closes; the timeline shows each step -------------------------
    page.goto(f"{base}/cases/{case.pk}/")
    page.click("[data-action-open=close]")
    page.fill("#note-close", "回访核实，已清理")
    page.click("#act-close button[type=submit]")
    page.wait_for_selector("#case-status:has-text('已结案')")
    steps = page.locator(".tl-step .tl-action").all_inner_texts()
    assert steps == ["登记", "派遣", "签收", "处置反馈", "核查通过结案"]
    assert "已联系环卫清运" in page.inner_text("#timeline")
    page.wait_for_timeout(500)
    shot(page, "cases-detail-closed-1366")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    shot(page, "cases-detail-timeline-1366")

    # ---- 5. the same pages on a phone: one column, nothing wider than the screen -------------------
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/cases/desk/?tab=open")
    page.locator(".case-row").first.locator(".case-link").click()
    page.wait_for_selector("[data-action-open=supervise], [data-action-open=transfer]")
    page.click("[data-action-open=transfer]")
    _no_sideways_scroll(page)
    shot(page, "cases-detail-transfer-390")
    for name, url in (
        ("detail", f"/cases/{case.pk}/"),
        ("desk", "/cases/desk/?tab=all"),
        ("board", "/cases/board/"),
        ("mine", "/cases/mine/?tab=done"),
    ):
        page.goto(f"{base}{url}")
        _no_sideways_scroll(page)
        shot(page, f"cases-{name}-390")
    desk.close()
    assert errors == []
