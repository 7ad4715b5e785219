import os
from datetime import date
import pytest
from pingan.accounts.models import Unit
from pingan.accounts.choices import UnitKind
from pingan.cases import rollups
from pingan.cases.models import Case
from tests.cases.indicator_history import build
from tests.conftest import PASSWORD
from tests.web.test_indicators_browser import browser, _shot  # noqa

pytestmark = pytest.mark.browser

def test_many(transactional_db, live_server, tree, units, personas, browser):
    h = build(tree, units, personas)
    case = h.cases["c1"]
    for i in range(40):
        u = Unit.objects.create(name=f"测试单位{i:02d}号", kind=UnitKind.DEPARTMENT, jurisdiction=tree.kecheng)
        rollups.bump(case, u.pk, date(2026, 3, 5), {"handled": 10, "handled_on_time": i % 10, "closed": 9, "closed_on_time": i % 9})
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", personas.city_leader.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/cases/indicators/?start=2026-03-01&end=2026-03-31")
    page.wait_for_selector("#ranking-chart canvas")
    page.evaluate("document.getElementById('ranking-chart').scrollIntoView()")
    _shot(page, "scratch-many")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#ranking-chart canvas")
    page.evaluate("document.getElementById('ranking-chart').scrollIntoView()")
    _shot(page, "scratch-many-390")
