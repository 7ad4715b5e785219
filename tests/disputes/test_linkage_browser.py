"""The linkage board in a real browser: the city leader sees the rates by county and station
against the 95 % target (ECharts), pushes a waiting call in one click, downloads the Excel.

Screenshots go to test-artifacts/ at desktop (1366×768) and phone (390×844) sizes.
Without /usr/bin/chromium the test is skipped, unless PINGAN_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from pingan.accounts.choices import UnitKind
from pingan.accounts.models import Unit
from pingan.disputes.choices import KEY_TYPES, CallFeedback, DisputeType
from pingan.disputes.models import PoliceCall
from tests.browser import log_in, shot
from tests.disputes.test_linkage import make_call, pushed

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page scrolls sideways ({width}px)"


@pytest.fixture
def board_data(tree, personas, police_station, orgs):
    """This month: 信安派出所 30 key-type calls (all pushed, 1 late), 荷花派出所 12 (11 pushed),
    虎山派出所 (江山) 20 (18 pushed); two calls waiting, one of them past its 24 hours."""
    hehua = Unit.objects.create(
        name="荷花派出所", kind=UnitKind.POLICE_STATION, jurisdiction=tree.kecheng_township
    )
    hushan = Unit.objects.create(
        name="虎山派出所", kind=UnitKind.POLICE_STATION, jurisdiction=tree.jiangshan_township
    )
    now = timezone.now()
    start = timezone.localtime(now).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    span = max((now - start).total_seconds() - 40 * 3600, 3600)
    plan = [
        (police_station, tree.kecheng_village, "XA", 30, 30, 1),
        (hehua, tree.kecheng_village, "HH", 12, 11, 0),
        (hushan, tree.jiangshan_village, "HS", 20, 18, 3),
    ]
    for station, place, prefix, total, done, late in plan:
        for i in range(total):
            at = start + timedelta(seconds=span * i / total)
            extra = pushed(at, 30 if i < late else 3) if i < done else {"status": CallFeedback.NOT_PUSHED}
            kind = KEY_TYPES[i % len(KEY_TYPES)]
            make_call(station, place, f"{prefix}{i:03d}", at, dispute_type=kind, place="府山街道", **extra)
    make_call(
        police_station,
        tree.kecheng_village,
        "WAIT-LATE",
        now - timedelta(hours=30),
        place="府山街道衢化路12号",
    )
    make_call(
        hehua,
        tree.kecheng_village,
        "WAIT-NEW",
        now - timedelta(hours=3),
        dispute_type=DisputeType.LABOUR,
        place="荷花路工地",
    )
    return personas


def test_linkage_board_in_the_browser(transactional_db, live_server, board_data, browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    log_in(page, live_server.url, "city_leader")
    page.goto(f"{live_server.url}/linkage/")
    page.wait_for_selector("#county-chart canvas")
    page.wait_for_selector("#station-chart canvas")
    assert "联动率" in page.inner_text("#linkage-kpis")
    assert page.locator("#county-table tbody tr").count() == 2
    assert page.locator("#station-table tbody tr").count() == 3
    shot(page, "linkage-board-desktop")
    page.locator("#station-chart").scroll_into_view_if_needed()
    shot(page, "linkage-board-charts")

    # One-click push of the overdue call to the suggested organisation.
    row = page.locator("tr[data-call]", has_text="WAIT-LATE")
    assert "推送已超时" in row.inner_text()
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/linkage/")
    assert "已推送至调解组织" in page.inner_text(".messages")
    call = PoliceCall.objects.get(call_number="WAIT-LATE")
    assert call.status == CallFeedback.PUSHED
    assert call.pushed_to.name == "府山社区人民调解委员会"

    with page.expect_download() as download:
        page.click("#export-xlsx")
    with open(download.value.path(), "rb") as saved:  # the download has no .xlsx suffix
        book = openpyxl.load_workbook(saved)
    assert book.sheetnames == ["按派出所", "按县(市、区)", "按月"]

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    log_in(phone, live_server.url, "city_leader")
    phone.goto(f"{live_server.url}/linkage/")
    phone.wait_for_selector("#county-chart canvas")
    _no_sideways_scroll(phone)
    shot(phone, "linkage-board-phone")
    phone.locator("#waiting").scroll_into_view_if_needed()
    shot(phone, "linkage-board-phone-waiting")
    context.close()
