"""Case pages: the dispatch desk, my work, a case with its timeline and actions, the supervision board.

Each page renders for the roles that use it; a case outside the user's scope is 404; actions
not allowed are neither shown nor accepted (403/409); a stale version shows the conflict
message and keeps the typed note; the export holds exactly the filtered rows.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from pingan.accounts.choices import Platform
from pingan.cases.choices import Action, Channel, DeadlineUnit, Status, Supervision
from pingan.cases.models import Case, Step
from pingan.cases.services import transition
from pingan.cases.views import duration_text
from pingan.events.models import Category, RoutingRule
from pingan.events.services import intake
from tests.cases.conftest import local
from tests.conftest import login

KC_POINT = (28.95, 118.85)
JS_POINT = (28.65, 118.55)
CONFLICT = "该案件已被他人修改，请刷新后重试"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def categories(db, units, tree):
    """Two 小类 with hour deadlines (no working-day calendar needed to dispatch "now"); 暴露垃圾 in
    柯城 is routed to 柯城区公安分局 by a rule, so the desk suggests it."""
    major = Category.objects.create(code="01", name="市容环境", platform=Platform.JIANGUAN)
    rubbish = Category.objects.create(
        code="0101", name="暴露垃圾", parent=major,
        deadline_unit=DeadlineUnit.URGENT_HOURS, deadline_amount=Decimal(48), close_condition="垃圾清运完毕",
    )  # fmt: skip
    stalls = Category.objects.create(
        code="0106", name="占道经营", parent=major,
        deadline_unit=DeadlineUnit.URGENT_HOURS, deadline_amount=Decimal(24),
    )  # fmt: skip
    RoutingRule.objects.create(category=rubbish, jurisdiction=tree.kecheng, unit=units.kecheng_police)
    return {"rubbish": rubbish, "stalls": stalls}


@pytest.fixture
def file_event(categories, personas):
    def make(title="府山路口暴露垃圾", category="0101", actor=None, point=KC_POINT, **kwargs):
        case, _created = intake(
            actor=actor or personas.kecheng_dispatcher,
            channel=kwargs.pop("channel", Channel.HOTLINE),
            category=category,
            title=title,
            lat=point[0],
            lon=point[1],
            **kwargs,
        )
        return case

    return make


def body(response) -> str:
    return response.content.decode()


def act(client, case: Case, action: str, **data):
    data.setdefault("version", case.version)
    return client.post(reverse("cases:act", args=[case.pk, action]), data)


def action_buttons(html: str) -> set[str]:
    return set(re.findall(r'data-action-open="([a-z_]+)"', html))


# ---------------------------------------------------------------------------------------------
# The desk


def test_desk_lists_the_queue_with_suggestion_and_one_click_dispatch(file_event, personas, units):
    case = file_event()
    file_event(title="江山暴露垃圾", actor=personas.jiangshan_dispatcher, point=JS_POINT)
    response = login(personas.kecheng_dispatcher).get(reverse("cases:desk"))
    html = body(response)
    assert response.status_code == 200
    assert case.number in html and "江山暴露垃圾" not in html
    assert "建议：" in html and units.kecheng_police.name in html and "分拨规则" in html
    assert f'action="{reverse("cases:act", args=[case.pk, "dispatch"])}"' in html
    assert f'name="unit_id" value="{units.kecheng_police.pk}"' in html
    # Counts per status as tabs: 待办 1, 待派遣 1, 全部 1.
    tabs = dict(re.findall(r'href="\?tab=(\w+)"[^>]*>[^<]+<span class="tab-count">(\d+)</span>', html))
    assert (
        tabs["todo"] == "1" and tabs["registered"] == "1" and tabs["dispatched"] == "0" and tabs["all"] == "1"
    )


def test_one_click_dispatch_goes_to_the_suggested_unit_and_back_to_the_desk(file_event, personas, units):
    case = file_event()
    client = login(personas.kecheng_dispatcher)
    response = act(client, case, "dispatch", unit_id=units.kecheng_police.pk, next="/cases/desk/?tab=todo")
    assert response.status_code == 302 and response["Location"] == "/cases/desk/?tab=todo"
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.unit == units.kecheng_police
    step = case.steps.get(action=Action.DISPATCH)
    assert step.data["suggested_unit_id"] == units.kecheng_police.pk  # routing learns from the desk
    html = body(client.get("/cases/desk/?tab=todo"))
    assert f"{case.number} 已派遣至 {units.kecheng_police.name}" in html
    assert "分拨台待办已清空" in html


def test_dispatch_refuses_a_next_url_of_another_site(file_event, personas, units):
    case = file_event()
    response = act(
        login(personas.kecheng_dispatcher),
        case,
        "dispatch",
        unit_id=units.kecheng_police.pk,
        next="https://evil.example/",
    )
    assert response["Location"] == reverse("cases:detail", args=[case.pk])


def test_desk_filters_sort_and_tabs(file_event, personas, units):
    rubbish = file_event(title="府山路口暴露垃圾", at=local(2026, 11, 20, 9, 0))
    stall = file_event(title="新桥街占道经营", category="0106", at=local(2026, 11, 24, 9, 0))
    client = login(personas.kecheng_dispatcher)
    html = body(client.get("/cases/desk/?category=0106"))
    assert stall.number in html and rubbish.number not in html
    html = body(client.get("/cases/desk/?q=府山"))
    assert rubbish.number in html and stall.number not in html
    html = body(client.get("/cases/desk/?registered_from=2026-11-21"))
    assert stall.number in html and rubbish.number not in html
    html = body(client.get("/cases/desk/?sort=registered_at"))
    assert html.index(rubbish.number) < html.index(stall.number)  # oldest first
    html = body(client.get("/cases/desk/"))
    assert html.index(stall.number) < html.index(rubbish.number)  # newest first by default
    html = body(client.get("/cases/desk/?tab=dispatched"))
    assert rubbish.number not in html and "该状态下没有案件" in html


def test_desk_shows_field_errors_instead_of_failing(personas, categories):
    response = login(personas.kecheng_dispatcher).get(
        "/cases/desk/?registered_from=2026-11-30&registered_to=2026-11-01"
    )
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in body(response)
    response = login(personas.kecheng_dispatcher).get(
        "/cases/desk/?registered_from=yesterday&page=x&sort=nope"
    )
    assert response.status_code == 200 and "has-error" in body(response)


def test_desk_paginates_without_counting(file_event, personas, monkeypatch):
    from pingan.cases import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    made = [file_event(title=f"暴露垃圾{i}", at=local(2026, 11, 20, 9, i)) for i in range(3)]
    client = login(personas.kecheng_dispatcher)
    first = body(client.get("/cases/desk/"))
    assert made[2].number in first and made[1].number in first and made[0].number not in first
    assert 'rel="next"' in first
    second = body(client.get("/cases/desk/?page=2"))
    assert made[0].number in second and 'rel="next"' not in second and 'rel="prev"' in second


def test_desk_empty_state_says_what_to_do(personas, categories):
    html = body(login(personas.kecheng_dispatcher).get("/cases/desk/"))
    assert "分拨台待办已清空" in html and reverse("events:report") in html
    html = body(login(personas.kecheng_dispatcher).get("/cases/desk/?q=无此案件"))
    assert "没有符合筛选条件的案件" in html


# ---------------------------------------------------------------------------------------------
# Export


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def test_export_contains_the_filtered_rows_only(file_event, personas):
    rubbish = file_event(title="府山路口暴露垃圾")
    stall = file_event(title="新桥街占道经营", category="0106")
    file_event(title="江山占道经营", category="0106", actor=personas.jiangshan_dispatcher, point=JS_POINT)
    rows = sheet_rows(login(personas.kecheng_dispatcher).get("/cases/desk/export.xlsx?tab=all&category=0106"))
    assert rows[1][:5] == ("编号", "标题", "事项类型", "事件类型", "状态")
    data = rows[2:]
    assert [r[0] for r in data] == [stall.number]
    assert data[0][1] == "新桥街占道经营" and data[0][3] == "市容环境/占道经营" and data[0][4] == "待派遣"
    assert rubbish.number not in str(rows)
    everything = sheet_rows(login(personas.kecheng_dispatcher).get("/cases/desk/export.xlsx?tab=all"))
    assert len(everything) == 2 + 2  # title, header, the two 柯城 cases (not 江山's)


def test_export_has_no_personal_data(file_event, personas):
    file_event(requester_name="柯城李四", requester_phone="13900001111")
    text = str(sheet_rows(login(personas.kecheng_dispatcher).get("/cases/desk/export.xlsx?tab=all")))
    assert "柯城李四" not in text and "13900001111" not in text


def test_export_stops_at_the_row_limit(file_event, personas, monkeypatch):
    from pingan.cases import views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 2)
    for i in range(3):
        file_event(title=f"暴露垃圾{i}")
    rows = sheet_rows(login(personas.kecheng_dispatcher).get("/cases/desk/export.xlsx?tab=all"))
    assert len(rows) == 2 + 2 + 1 and "仅导出前 2 条" in rows[-1][0]


# ---------------------------------------------------------------------------------------------
# A case: detail, scope, actions


def test_detail_shows_header_timeline_map_and_the_desk_actions(file_event, personas, units):
    case = file_event(requester_name="柯城李四", requester_phone="13900001111")
    response = login(personas.kecheng_dispatcher).get(reverse("cases:detail", args=[case.pk]))
    html = body(response)
    assert response.status_code == 200
    assert case.number in html and "待派遣" in html and "正常" in html and "派遣后计时" in html
    assert "市容环境/暴露垃圾" in html and "12345热线" in html and "垃圾清运完毕" in html
    assert "柯城李四" not in html and "13900001111" not in html and "139****1111" in html
    assert 'id="case-map"' in html and '"grid": "330802001001001"' in html
    assert "流转记录" in html and "登记" in html
    assert action_buttons(html) == {"cancel", "dispatch", "escalate", "comment"}
    assert f'<option value="{units.kecheng_police.pk}" selected>{units.kecheng_police.name}（建议）' in html


def test_case_outside_scope_is_404_for_page_and_actions(file_event, personas, units):
    case = file_event()
    client = login(personas.jiangshan_dispatcher)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert act(client, case, "dispatch", unit_id=units.jiangshan_police.pk).status_code == 404
    assert client.get(reverse("cases:detail", args=[999_999])).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_unknown_action_is_404_and_get_is_refused(file_event, personas):
    case = file_event()
    client = login(personas.kecheng_dispatcher)
    assert act(client, case, "explode").status_code == 404
    assert client.get(reverse("cases:act", args=[case.pk, "dispatch"])).status_code == 405


def test_handler_sees_only_unit_actions_and_is_refused_the_rest(file_event, personas, units):
    case = file_event()
    transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
    handler = login(personas.kecheng_handler)
    html = body(handler.get(reverse("cases:detail", args=[case.pk])))
    assert action_buttons(html) == {"accept", "return", "request_extension", "comment"}
    assert "核查通过结案" not in html and 'data-action-open="dispatch"' not in html
    # Posted anyway: not this role's action → 403; not from this status → 409; nothing changes.
    response = act(handler, case, "dispatch", unit_id=units.kecheng_police.pk)
    assert response.status_code == 403 and "您的角色不能执行该操作" in body(response)
    response = act(handler, case, "report", note="已处理")
    assert response.status_code == 409 and "不能「处置反馈」" in body(response)
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.version == 1


def test_grid_worker_cannot_dispatch(file_event, personas, units):
    case = file_event(actor=personas.kecheng_grid_worker, channel=Channel.GRID)
    worker = login(personas.kecheng_grid_worker)
    html = body(worker.get(reverse("cases:detail", args=[case.pk])))
    assert action_buttons(html) == {"comment"}
    assert act(worker, case, "dispatch", unit_id=units.kecheng_police.pk).status_code == 403


def test_stale_version_shows_the_conflict_and_keeps_the_note(file_event, personas, units, actors):
    case = file_event()
    seen = case.version
    transition(case, Action.COMMENT, actor=actors["supervisor"], note="请优先处理")  # someone else, meanwhile
    response = act(
        login(personas.kecheng_dispatcher), case, "cancel", version=seen, note="重复来电，已在 0001 号登记"
    )
    html = body(response)
    assert response.status_code == 409
    assert CONFLICT in html
    assert ">重复来电，已在 0001 号登记</textarea>" in html
    assert 'class="action-panel is-open"' in html and "请优先处理" in html  # the current timeline
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_conflict_when_the_action_is_gone_keeps_the_note_to_copy(file_event, personas, units):
    case = file_event()
    seen = case.version
    transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
    response = act(login(personas.kecheng_dispatcher), case, "cancel", version=seen, note="群众撤回")
    html = body(response)
    assert response.status_code == 409 and CONFLICT in html
    assert 'class="lost-note" readonly rows="3">群众撤回</textarea>' in html


def test_missing_note_is_an_error_beside_the_note(file_event, personas, units):
    case = file_event()
    transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
    response = act(login(personas.kecheng_handler), case, "return", note="  ")
    html = body(response)
    assert response.status_code == 422
    assert "「退回」须填写意见或理由" in html
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED


def test_dispatch_to_a_unit_outside_scope_is_refused(file_event, personas, units):
    case = file_event()
    response = act(login(personas.kecheng_dispatcher), case, "dispatch", unit_id=units.jiangshan_police.pk)
    assert response.status_code == 422 and "请选择您数据范围内的责任单位" in body(response)
    case.refresh_from_db()
    assert case.status == Status.REGISTERED


def test_the_loop_through_the_pages_writes_every_step(file_event, personas, units):
    case = file_event()
    desk, handler = login(personas.kecheng_dispatcher), login(personas.kecheng_handler)
    assert act(desk, case, "dispatch", unit_id=units.kecheng_police.pk).status_code == 302
    case.refresh_from_db()
    assert act(handler, case, "accept").status_code == 302
    case.refresh_from_db()
    assert act(handler, case, "report", note="已清运").status_code == 302
    case.refresh_from_db()
    assert act(desk, case, "close", note="现场核查无垃圾").status_code == 302
    case.refresh_from_db()
    assert act(desk, case, "evaluate", satisfaction="5", by="callback").status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfaction == 5
    assert list(case.steps.values_list("action", flat=True)) == [
        Action.REGISTER, Action.DISPATCH, Action.ACCEPT, Action.REPORT, Action.CLOSE, Action.EVALUATE,
    ]  # fmt: skip
    html = body(desk.get(reverse("cases:detail", args=[case.pk])))
    for label in ("派遣", "签收", "处置反馈", "核查通过结案", "评价", "已清运", "现场核查无垃圾"):
        assert label in html
    assert "待签收 → 处置中" in html and "5 / 5" in html


def test_extension_request_and_approval(file_event, personas, units, actors):
    case = file_event()
    transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
    deadline = case.deadline_at
    assert (
        act(login(personas.kecheng_handler), case, "request_extension", amount="2", note="需协调").status_code
        == 302
    )
    case.refresh_from_db()
    html = body(login(personas.kecheng_dispatcher).get(reverse("cases:detail", args=[case.pk])))
    assert "延期待批" in html and 'name="amount" type="number"' in html and 'value="2' in html
    assert act(login(personas.kecheng_dispatcher), case, "approve_extension", amount="2").status_code == 302
    case.refresh_from_db()
    assert case.extension_count == 1 and (case.deadline_at - deadline).total_seconds() == 2 * 3600


def test_merge_from_the_duplicates_card(file_event, personas):
    first = file_event(title="府山路口暴露垃圾无人清理")
    second = file_event(title="府山路口暴露垃圾无人清理 堆了三天")
    client = login(personas.kecheng_dispatcher)
    html = body(client.get(reverse("cases:detail", args=[second.pk])))
    assert "疑似重复" in html and first.number in html
    response = act(client, second, "merge", target=first.pk)
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.merged_into == first and second.status == Status.CANCELLED


# ---------------------------------------------------------------------------------------------
# My work


def test_my_work_todo_for_the_unit_and_done_for_the_reporter(file_event, personas, units):
    reported = file_event(actor=personas.kecheng_grid_worker, channel=Channel.GRID, title="井盖缺失")
    other = file_event(title="路灯不亮")
    transition(other, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
    html = body(login(personas.kecheng_handler).get(reverse("cases:mywork")))
    assert other.number in html and reported.number not in html
    assert 'aria-current="page">待办<span class="tab-count">1</span>' in html
    # A grid worker's page opens on what they reported (已办).
    html = body(login(personas.kecheng_grid_worker).get(reverse("cases:mywork")))
    assert reported.number in html and other.number not in html
    assert 'aria-current="page">已办<span class="tab-count">1</span>' in html


def test_my_work_empty_states(personas, categories):
    html = body(login(personas.kecheng_handler).get(reverse("cases:mywork")))
    assert "本单位暂无待办案件" in html
    html = body(login(personas.kecheng_grid_worker).get(reverse("cases:mywork")))
    assert "您还没有办理过案件" in html and reverse("events:report") in html


# ---------------------------------------------------------------------------------------------
# Supervision board


def test_board_groups_open_cases_by_level_red_first(file_event, personas, units):
    yellow = file_event(title="黄牌案件")
    red = file_event(title="红牌案件")
    calm = file_event(title="正常案件")
    for case in (yellow, red, calm):
        transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
    transition(yellow, Action.YELLOW_CARD, actor=None)
    transition(red, Action.RED_CARD, actor=None)
    for user in (personas.city_leader, personas.kecheng_dispatcher):
        response = login(user).get(reverse("cases:board"))
        html = body(response)
        assert response.status_code == 200
        assert html.index("红牌案件") < html.index("黄牌案件")
        assert "正常案件" not in html
        assert "在办督办案件 2 件" in html
    html = body(login(personas.jiangshan_dispatcher).get(reverse("cases:board")))
    assert "红牌案件" not in html and "没有预警或被督办的在办案件" in html


def test_board_column_links_to_the_desk_when_more_than_shown(file_event, personas, units, monkeypatch):
    from pingan.cases import views

    monkeypatch.setattr(views, "BOARD_LIMIT", 1)
    for title in ("红牌一", "红牌二"):
        case = file_event(title=title)
        transition(case, Action.DISPATCH, actor=personas.kecheng_dispatcher, unit=units.kecheng_police)
        transition(case, Action.RED_CARD, actor=None)
    html = body(login(personas.city_leader).get(reverse("cases:board")))
    assert f"/cases/desk/?tab=open&amp;supervision={int(Supervision.RED)}" in html
    assert "在分拨台查看全部 2 件" in html


# ---------------------------------------------------------------------------------------------
# Navigation and small helpers


def test_navigation_shows_each_page_to_its_roles(personas, categories):
    def links(user) -> set[str]:
        html = body(login(user).get(reverse("home")))
        return {name for name, url in NAV_URLS.items() if f'href="{url}"' in html}

    NAV_URLS = {
        "report": reverse("events:report"),
        "desk": reverse("cases:desk"),
        "mine": reverse("cases:mywork"),
        "board": reverse("cases:board"),
    }
    assert links(personas.kecheng_grid_worker) == {"report", "mine"}
    assert links(personas.kecheng_dispatcher) == {"report", "desk", "board"}
    assert links(personas.kecheng_handler) == {"mine"}
    assert links(personas.city_leader) == {"mine", "board"}
    assert links(personas.admin) == {"report", "desk", "mine", "board"}


def test_case_page_lights_no_nav_entry_of_the_shared_namespace(file_event, personas):
    case = file_event()
    html = body(login(personas.kecheng_dispatcher).get(reverse("cases:detail", args=[case.pk])))
    assert 'aria-current="page" class="is-active"' not in html
    html = body(login(personas.kecheng_dispatcher).get(reverse("cases:desk")))
    assert f'<a href="{reverse("cases:desk")}" aria-current="page" class="is-active">' in html


def test_duration_text():
    assert duration_text(0) == "0 分钟"
    assert duration_text(59) == "1 分钟"
    assert duration_text(3 * 3600 + 5 * 60) == "3 小时 5 分钟"
    assert duration_text(2 * 86400 + 4 * 3600) == "2 天 4 小时"
    assert duration_text(86400) == "1 天"


def test_step_count_on_the_page_matches_the_log(file_event, personas):
    case = file_event()
    html = body(login(personas.kecheng_dispatcher).get(reverse("cases:detail", args=[case.pk])))
    assert html.count('class="tl-step') == Step.objects.filter(case=case).count() == 1


def test_a_post_without_version_asks_to_reload(file_event, personas, units):
    case = file_event()
    url = reverse("cases:act", args=[case.pk, "dispatch"])
    response = login(personas.kecheng_dispatcher).post(
        url, {"unit_id": units.kecheng_police.pk, "note": "急"}
    )
    assert response.status_code == 422
    assert "缺少版本号，请刷新页面后重试" in body(response)
    case.refresh_from_db()
    assert case.status == Status.REGISTERED
