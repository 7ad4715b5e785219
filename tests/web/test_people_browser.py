"""The people register in a real browser: log in, search by phone, open the card, reveal (audited).

Screenshots go to test-artifacts/ at desktop (1366×768) and phone (390×844) sizes.
Without /usr/bin/chromium the test is skipped, unless PINGAN_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Permission

from pingan.core.choices import AuditAction
from pingan.core.idnumber import make_id_number
from pingan.core.models import AuditEntry
from pingan.people import services
from pingan.people.synthetic import bulk_create_people, fake_people
from tests.browser import log_in, shot

PHONE = "13812345678"
ADDRESS = "衢州市柯城区府山街道府山路8号"

pytestmark = pytest.mark.browser


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"page scrolls sideways ({width}px > {viewport}px)"


@pytest.fixture
def register(tree, personas):
    """A 柯城 dispatcher who may reveal, register and edit; 120 synthetic people plus one known one."""
    user = personas.kecheng_dispatcher
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="people", codename__in=["reveal_person", "add_person", "change_person"]
        )
    )
    bulk_create_people(fake_people(120, [tree.kecheng_village, tree.kecheng_grid], seed=7))
    person = services.create_person(
        user,
        name="柯城甲乙",
        id_number=make_id_number("330802", date(1978, 11, 2), 17),
        phone=PHONE,
        address=ADDRESS,
        jurisdiction=tree.kecheng_grid,
    )
    return user, person


def test_dispatcher_searches_by_phone_and_reveals_the_card(transactional_db, live_server, register, browser):
    user, person = register
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, base, user.username)

    page.click("#sidenav a[href='/people/']")
    page.wait_for_url(f"{base}/people/")
    assert "共 121 人" in page.locator(".result-count").inner_text()
    assert page.locator(".people-table tbody tr").count() == 50
    assert PHONE not in page.content()
    shot(page, "people-list-1366")

    page.fill("#id_q", "138 1234 5678")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**/people/?*")
    rows = page.locator(".people-table tbody tr")
    assert rows.count() == 1
    assert "138****5678" in rows.first.inner_text()
    shot(page, "people-search-1366")

    rows.first.locator("a").first.click()
    page.wait_for_url(f"{base}/people/{person.pk}/")
    assert page.locator("#pf-phone .pii-masked").inner_text() == "138****5678"
    assert PHONE not in page.content()
    shot(page, "people-detail-1366")

    page.locator("#pf-phone button").click()
    page.wait_for_selector(".reveal-note")
    assert page.locator("#pf-phone .pii-plain").inner_text() == PHONE
    assert "本次查看已记录" in page.locator(".reveal-note").inner_text()
    assert page.locator("#pf-name .pii-masked").inner_text() == "柯***"  # only what was asked for
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL, target_id=str(person.pk)).count() == 1
    shot(page, "people-revealed-1366")

    # The same pages on a phone: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/people/")
    _no_sideways_scroll(page)
    shot(page, "people-list-390")
    page.goto(f"{base}/people/{person.pk}/")
    _no_sideways_scroll(page)
    shot(page, "people-detail-390")
    page.locator("button", has_text="全部查看").click()
    page.wait_for_selector(".reveal-note")
    assert page.locator("#pf-address .pii-plain").inner_text() == ADDRESS
    _no_sideways_scroll(page)
    shot(page, "people-revealed-390")
    page.goto(f"{base}/people/new/")
    _no_sideways_scroll(page)
    shot(page, "people-new-390")
    page.goto(f"{base}/people/{person.pk}/edit/")
    assert "138****5678" in page.locator(".field-current").nth(2).inner_text()
    assert PHONE not in page.content()
    _no_sideways_scroll(page)
    shot(page, "people-edit-390")

    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "people-edit-1366")
    page.goto(f"{base}/people/new/")
    page.fill("#id_name", "柯城丁")
    page.fill("#id_id_number", "330802199001011230")
    page.click(".form-actions button[type=submit]")
    page.wait_for_selector(".field-error")
    assert page.input_value("#id_name") == "柯城丁"
    shot(page, "people-new-error-1366")
    assert errors == []
    context.close()
