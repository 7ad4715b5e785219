"""Disputes in a real browser: the 柯城 dispatcher registers a walk-in dispute at the one-stop
window (a second applicant added on the page, a mistyped ID number corrected without retyping
anything else) and assigns it to the suggested mediation committee in one click; the
committee's mediator accepts it on the workbench, records both parties' consent and a
successful outcome with the agreement; the statistics count it.

Screenshots go to test-artifacts/ at desktop (1366×768) and phone (390×844) sizes.
Without /usr/bin/chromium the test is skipped, unless PINGAN_REQUIRE_BROWSER=1 (then it fails).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.cases.choices import Status
from pingan.cases.models import Case
from pingan.disputes import services, stats
from pingan.disputes.choices import Consent, DisputeType, Outcome, PartyRole, Source
from pingan.disputes.models import Agreement, Dispute
from tests.browser import log_in, shot
from tests.disputes.conftest import new_id_number

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
BAD_ID = "330802199001011231"  # checksum digit wrong


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"]:
        print(
            "WIDE",
            page.evaluate(
                """Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 392).slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join('\\n')"""
            ),
        )
    assert width <= page.viewport_size["width"], f"page scrolls sideways ({width}px)"


def _fill_party(page, prefix: str, index: int, name: str, id_number: str, phone: str) -> None:
    page.fill(f"#id_{prefix}-{index}-name", name)
    page.fill(f"#id_{prefix}-{index}-id_number", id_number)
    page.fill(f"#id_{prefix}-{index}-phone", phone)


def _history(new_dispute, orgs, mediators, personas) -> None:
    """A year of 柯城 disputes for the statistics: types, months, 110 ones, flags, outcomes."""
    kinds = [DisputeType.NEIGHBOUR, DisputeType.LABOUR, DisputeType.FAMILY, DisputeType.LAND,
             DisputeType.CONSUMER, DisputeType.MEDICAL, DisputeType.PROPERTY_MANAGEMENT]  # fmt: skip
    now = timezone.now()
    for i in range(21):
        at = now - timedelta(days=15 * (i + 1) + i % 3)
        dispute = new_dispute(
            dispute_type=kinds[i % len(kinds)], at=at, title=f"历史纠纷{i}",
            source=Source.POLICE_110 if i % 4 == 0 else Source.WINDOW, violence_threat=i % 6 == 0,
        )  # fmt: skip
        if i % 3 == 2:
            continue  # still open
        org = orgs.labour if dispute.dispute_type == DisputeType.LABOUR else orgs.village
        mediator = mediators.labour if org == orgs.labour else mediators.village
        services.assign(dispute, actor=personas.kecheng_dispatcher, org_unit=org.unit, at=at)
        services.accept(dispute, actor=mediator, at=at)
        services.record_consent(
            dispute, actor=mediator, applicant=Consent.AGREED, respondent=Consent.AGREED, at=at
        )
        if i % 5 == 4:
            services.record_outcome(
                dispute, actor=mediator, outcome=Outcome.FAILURE, routes_told="诉讼", at=at
            )
        else:
            day = timezone.localtime(at).date()
            agreement = {
                "facts": "事实",
                "terms": "赔偿",
                "performance": "转账",
                "perform_by": day,
                "signed_on": day,
            }
            services.record_outcome(
                dispute, actor=mediator, outcome=Outcome.SUCCESS, agreement=agreement, at=at
            )


def test_walk_in_dispute_from_the_window_to_an_agreement(
    transactional_db, live_server, browser, tree, personas, orgs, mediators, police_station, new_dispute
):
    base = live_server.url
    errors: list[str] = []
    ids = [new_id_number() for _ in range(3)]

    # ---- 1. the window on a phone: one column, nothing wider than the screen ---------------------
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    ppage = phone.new_page()
    ppage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(ppage, base, personas.kecheng_dispatcher.username)
    ppage.goto(f"{base}/disputes/new/")
    _no_sideways_scroll(ppage)
    shot(ppage, "disputes-window-390")
    ppage.click("label.type-chip:has-text('劳资纠纷')")
    ppage.fill("#id_facts", "工地拖欠三名工人两个月工资共计四万元。")
    _fill_party(ppage, "applicants", 0, "陈工人", ids[0], "13900000021")
    ppage.locator("#applicants-side").scroll_into_view_if_needed()
    _no_sideways_scroll(ppage)
    shot(ppage, "disputes-window-parties-390")
    phone.close()

    # ---- 2. the dispatcher registers a walk-in dispute at the window (desktop) ------------------------
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = desk.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, personas.kecheng_dispatcher.username)
    page.click("#sidenav a[href='/disputes/new/']")
    page.wait_for_url(f"{base}/disputes/new/")
    shot(page, "disputes-window-1366")
    page.click("label.type-chip:has-text('邻里纠纷')")
    page.fill("#id_facts", "楼上装修噪音持续一个月，晚间施工，双方多次争吵。")
    page.select_option("#id_jurisdiction", tree.kecheng_village.code)
    _fill_party(page, "applicants", 0, "赵大明", ids[0], "13900000011")
    page.wait_for_selector("#applicants-rows .party-hint .is-new")  # htmx: not in the register yet
    page.click("[data-add-party][value=applicants]")  # a second applicant, on the page
    page.wait_for_selector("#id_applicants-1-name")
    _fill_party(page, "applicants", 1, "赵太太", ids[1], "13900000013")
    _fill_party(page, "respondents", 0, "钱小红", BAD_ID, "13900000012")
    page.wait_for_selector("#respondents-rows .party-hint .is-invalid")
    assert "校验位错误" in page.inner_text("#respondents-rows .party-hint")
    shot(page, "disputes-window-filled-1366")
    page.click("#window-submit")
    page.wait_for_selector(".form-errors")
    # The service named parties[2].id_number: the error sits on the respondent's row; nothing was lost.
    assert "校验位错误" in page.inner_text("#respondents-rows .field-id .field-error")
    assert page.input_value("#id_applicants-1-name") == "赵太太"
    assert page.input_value("#id_facts").startswith("楼上装修噪音")
    assert page.is_checked("input[name=dispute_type][value=neighbour]")
    assert Dispute.objects.count() == 0
    page.locator("#respondents-side").scroll_into_view_if_needed()
    shot(page, "disputes-window-error-1366")
    page.fill("#id_respondents-0-id_number", ids[2])
    page.click("#window-submit")
    page.wait_for_url("**/disputes/*/?registered=1")
    dispute = Dispute.objects.get()
    case = Case.objects.get(pk=dispute.pk)
    assert f"已登记，案件编号 {case.number}" in page.inner_text(".messages")
    assert sorted(dispute.parties.values_list("role", flat=True)) == [
        PartyRole.APPLICANT, PartyRole.APPLICANT, PartyRole.RESPONDENT,
    ]  # fmt: skip
    assert "赵*" in page.inner_text("#parties") and "赵大明" not in page.inner_text("#parties")
    first = page.locator(".dp-suggest li").first
    assert "府山社区人民调解委员会" in first.inner_text()
    shot(page, "disputes-detail-registered-1366")
    first.locator("button", has_text="派遣").click()
    page.wait_for_selector(".messages")
    assert f"{case.number} 已派遣至 府山社区人民调解委员会" in page.inner_text(".messages")
    assert page.inner_text("#case-status") == "待签收"
    desk.close()

    # ---- 3. the mediator accepts, records consent and a successful outcome ---------------------------
    med = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    mpage = med.new_page()
    mpage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(mpage, base, mediators.village.username)
    mpage.click("#sidenav a[href='/disputes/workbench/']")
    mpage.wait_for_url(f"{base}/disputes/workbench/")
    card = mpage.locator(f"article[data-case='{case.pk}']")
    assert "剩余" in card.inner_text() and "下一步：签收" in card.inner_text().replace("\n", "")
    shot(mpage, "disputes-workbench-1366")
    card.locator("button[data-act=accept]").click()
    mpage.wait_for_selector(".messages")
    card = mpage.locator(f"article[data-case='{case.pk}']")
    card.locator("label.dp-choice:has-text('同意调解')").first.click()
    card.locator("fieldset:has-text('被申请人意愿') label.dp-choice:has-text('同意调解')").click()
    assert not card.locator("textarea[name=routes_told]").is_visible()  # only when a party refuses
    shot(mpage, "disputes-workbench-consent-1366")
    card.locator("button[data-act=consent]").click()
    mpage.wait_for_selector(".messages")
    dispute.refresh_from_db()
    assert (dispute.applicant_consent, dispute.respondent_consent) == (Consent.AGREED, Consent.AGREED)

    mpage.goto(f"{base}/disputes/{case.pk}/")
    mpage.click("summary:has-text('记录调解结果')")
    mpage.click("label.dp-choice:has-text('调解成功')")
    assert mpage.locator(".dp-outcome-form .dp-agreement").is_visible()
    assert not mpage.locator(".dp-outcome-form .dp-routes").is_visible()
    today = timezone.localdate()
    mpage.fill(f"#d{case.pk}-terms", "钱小红承诺晚8点后不再施工，并补偿赵大明2000元。")
    mpage.fill(f"#d{case.pk}-performance", "当面支付现金")
    mpage.fill(f"#d{case.pk}-perform_by", (today + timedelta(days=7)).isoformat())
    mpage.locator(".dp-outcome-form").scroll_into_view_if_needed()
    shot(mpage, "disputes-outcome-form-1366")
    mpage.click("button[data-act=outcome]")
    mpage.wait_for_selector(".messages")
    assert "已记录调解成功并反馈" in mpage.inner_text(".messages")
    dispute.refresh_from_db()
    assert dispute.outcome == Outcome.SUCCESS
    assert Agreement.objects.get(dispute=dispute).terms.startswith("钱小红承诺")
    mpage.goto(f"{base}/disputes/{case.pk}/")
    assert mpage.inner_text("#case-status") == "待核查"
    assert "钱小红承诺" in mpage.inner_text("#agreement-terms")
    assert mpage.inner_text("#confirmation-status") == "待申请"
    steps = mpage.locator(".tl-step .tl-action").all_inner_texts()
    assert steps[:3] == ["登记", "派遣", "签收"] and "处置反馈" in steps
    shot(mpage, "disputes-detail-1366")
    mpage.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    shot(mpage, "disputes-detail-timeline-1366")
    med.close()
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED

    # ---- 4. the statistics count it, with a year of earlier disputes ----------------------------------
    _history(new_dispute, orgs, mediators, personas)
    expected = stats.summary(personas.kecheng_dispatcher, stats.default_filters(timezone.localdate()))
    stats_ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    spage = stats_ctx.new_page()
    spage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(spage, base, personas.kecheng_dispatcher.username)
    spage.click("#sidenav a[href='/disputes/stats/']")
    spage.wait_for_url(f"{base}/disputes/stats/")
    assert spage.inner_text("#stat-total") == str(expected.total) and expected.total == 22
    assert spage.inner_text("#stat-success-rate") == stats.percent(expected.success_rate)
    spage.wait_for_selector("#trend-chart canvas")
    shot(spage, "disputes-stats-1366", settle_ms=900)
    spage.evaluate("window.scrollTo(0, 700)")
    shot(spage, "disputes-stats-tables-1366")
    spage.goto(f"{base}/disputes/?tab=all")
    assert case.number in spage.inner_text("#dispute-list")
    shot(spage, "disputes-list-1366")
    stats_ctx.close()

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    ppage = phone.new_page()
    ppage.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(ppage, base, mediators.village.username)
    ppage.goto(f"{base}/disputes/{case.pk}/")
    _no_sideways_scroll(ppage)
    shot(ppage, "disputes-detail-390")
    ppage.goto(f"{base}/disputes/workbench/?tab=reported")
    _no_sideways_scroll(ppage)
    shot(ppage, "disputes-workbench-reported-390")
    waiting = new_dispute(title="相邻通道堆物纠纷", violence_threat=True)
    services.assign(waiting, actor=personas.kecheng_dispatcher, org_unit=orgs.village.unit)
    services.accept(waiting, actor=mediators.village)
    ppage.goto(f"{base}/disputes/workbench/")
    assert "征询双方调解意愿" in ppage.inner_text(f"article[data-case='{waiting.pk}']")
    _no_sideways_scroll(ppage)
    shot(ppage, "disputes-workbench-390")
    phone.close()
    assert errors == []
