"""The generic case API: work list and counts, detail with timeline, actions, attachments, supervision board."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pingan.accounts.choices import Role
from pingan.cases import api as cases_api
from pingan.cases.choices import Action, DeadlineUnit, Status, Supervision
from pingan.cases.kinds import DeadlinePolicy
from pingan.cases.models import Attachment, Case
from pingan.cases.permissions import allowed_actions
from pingan.cases.services import transition
from pingan.people.services import create_person
from tests.cases.conftest import local
from tests.conftest import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
URGENT = DeadlinePolicy(DeadlineUnit.URGENT_HOURS, Decimal(48))  # no calendar needed: safe to dispatch "now"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post(client, url: str, body: dict):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content[:400]
    return [i["number"] for i in response.json()["items"]]


def dispatched(new_case, actors, units, unit=None, **kwargs):
    case = new_case(**kwargs)
    transition(case, Action.DISPATCH, actor=actors["dispatcher"], unit=unit or units.kecheng_police,
               at=local(2026, 11, 23, 9, 30))  # fmt: skip
    return case


# ---------------------------------------------------------------------------------------------
# Work list


def test_list_shows_cases_in_scope_with_labels_and_timing(new_case, actors, units):
    late = dispatched(new_case, actors, units)  # 3 working days from Mon 2026-11-23 → Thu 23:59:59
    fresh = new_case(at=local(2026, 11, 24, 8, 0))
    response = login(actors["dispatcher"]).get("/api/cases/")
    body = response.json()
    assert [i["number"] for i in body["items"]] == [fresh.number, late.number]  # newest first
    assert body["has_next"] is False and "count" not in body
    row = body["items"][1]
    assert row["status"] == "dispatched" and row["status_label"] == "待签收"
    assert row["area_code"] == "330802001001001" and row["area_name"] == "府山社区第1网格"
    assert row["unit_name"] == "柯城区公安分局" and row["kind_label"] == "测试事项"
    assert row["deadline_at"] == "2026-11-26T15:59:59Z"
    assert row["supervision"] == 0 and row["supervision_label"] == "正常"
    assert row["version"] == 1 and row["uuid"] == str(late.uuid)
    expected = int((timezone.now() - local(2026, 11, 26, 23, 59, 59)).total_seconds())
    assert row["seconds_left"] == 0 and abs(row["overdue_seconds"] - expected) <= 5
    assert body["items"][0]["deadline_at"] is None and body["items"][0]["overdue_seconds"] is None


def test_list_never_shows_the_requester(new_case, actors, tree, personas):
    person = create_person(
        personas.admin, name="柯城张三", phone="13812345678", jurisdiction=tree.kecheng_village
    )
    new_case(requester=person)
    body = login(actors["dispatcher"]).get("/api/cases/").content.decode()
    assert "张三" not in body and "13812345678" not in body


def test_jiangshan_dispatcher_lists_nothing_of_kecheng(new_case, actors, personas):
    new_case()
    client = login(personas.jiangshan_dispatcher)
    assert numbers(client.get("/api/cases/")) == []
    assert client.get("/api/cases/counts").json()["total"] == 0


def test_status_filter_takes_several_values(new_case, actors, units):
    registered = new_case()
    sent = dispatched(new_case, actors, units)
    cancelled = new_case()
    transition(cancelled, Action.CANCEL, actor=actors["dispatcher"], note="不符合立案条件")
    client = login(actors["dispatcher"])
    assert numbers(client.get("/api/cases/?status=registered&status=dispatched&ordering=registered_at")) == [
        registered.number, sent.number,
    ]  # fmt: skip
    assert numbers(client.get("/api/cases/?status=cancelled")) == [cancelled.number]
    assert client.get("/api/cases/?status=lost").status_code == 422


def test_overdue_filter_splits_open_cases_by_deadline(new_case, actors, units):
    late = dispatched(new_case, actors, units)  # deadline 2026-11-26, long past
    on_time = new_case(policy=URGENT, at=timezone.now() - timedelta(hours=1))
    transition(on_time, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police)  # 48 h left
    waiting = new_case()  # no deadline before dispatch
    client = login(actors["dispatcher"])
    assert numbers(client.get("/api/cases/?overdue=true")) == [late.number]
    assert set(numbers(client.get("/api/cases/?overdue=false"))) == {on_time.number, waiting.number}
    row = client.get(f"/api/cases/?q={on_time.number}").json()["items"][0]
    assert 47 * 3600 < row["seconds_left"] <= 48 * 3600 and row["overdue_seconds"] == 0


def test_late_report_stays_overdue_but_reported_in_time_does_not(new_case, actors, units):
    late = dispatched(new_case, actors, units)
    transition(late, Action.ACCEPT, actor=actors["handler"], at=local(2026, 11, 23, 10, 0))
    transition(late, Action.REPORT, actor=actors["handler"], note="已清理", at=local(2026, 11, 27, 9, 0))
    in_time = dispatched(new_case, actors, units)
    transition(in_time, Action.ACCEPT, actor=actors["handler"], at=local(2026, 11, 23, 10, 0))
    transition(in_time, Action.REPORT, actor=actors["handler"], note="已清理", at=local(2026, 11, 25, 9, 0))
    client = login(actors["dispatcher"])
    assert numbers(client.get("/api/cases/?overdue=true")) == [late.number]
    row = client.get(f"/api/cases/?q={late.number}").json()["items"][0]
    assert row["overdue_seconds"] == 9 * 3600 + 1  # reported 09:00 the day after a 23:59:59 deadline
    assert row["seconds_left"] is None


def test_mine_todo_differs_for_handler_and_dispatcher(new_case, actors, units):
    registered = new_case()
    sent = dispatched(new_case, actors, units)
    handling = dispatched(new_case, actors, units)
    transition(handling, Action.ACCEPT, actor=actors["handler"])
    reported = dispatched(new_case, actors, units)
    transition(reported, Action.ACCEPT, actor=actors["handler"])
    transition(reported, Action.REPORT, actor=actors["handler"], note="已处理")
    elsewhere = dispatched(new_case, actors, units, unit=units.kecheng_platform)

    def todo(user):
        return set(numbers(login(user).get("/api/cases/?mine=todo&page_size=100")))

    assert todo(actors["handler"]) == {sent.number, handling.number}
    assert todo(actors["other_handler"]) == {elsewhere.number}
    assert todo(actors["dispatcher"]) == {registered.number, reported.number}
    # An extension request waits on the desk too.
    transition(handling, Action.REQUEST_EXTENSION, actor=actors["handler"], amount=2, note="需协调")
    assert todo(actors["dispatcher"]) == {registered.number, reported.number, handling.number}


def test_mine_todo_includes_cases_co_handled_by_the_unit(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    transition(case, Action.ADD_COHANDLER, actor=actors["dispatcher"], units=[units.kecheng_platform])
    assert numbers(login(actors["other_handler"]).get("/api/cases/?mine=todo")) == [case.number]


def test_mine_todo_is_empty_for_a_grid_worker(new_case, personas):
    new_case()
    assert numbers(login(personas.kecheng_grid_worker).get("/api/cases/?mine=todo")) == []


def test_mine_done_lists_cases_with_a_step_by_the_user(new_case, actors, units):
    accepted = dispatched(new_case, actors, units)
    transition(accepted, Action.ACCEPT, actor=actors["handler"])
    dispatched(new_case, actors, units)  # not touched by the handler
    assert numbers(login(actors["handler"]).get("/api/cases/?mine=done")) == [accepted.number]


def test_area_unit_kind_supervision_and_text_filters(new_case, actors, units, tree):
    police = dispatched(new_case, actors, units)
    platform = dispatched(new_case, actors, units, unit=units.kecheng_platform)
    transition(platform, Action.YELLOW_CARD, actor=None)
    other = new_case(at=local(2026, 11, 25, 9, 0))
    Case.objects.filter(pk=other.pk).update(title="井盖缺失")
    client = login(actors["dispatcher"])
    assert numbers(client.get(f"/api/cases/?unit={units.kecheng_platform.pk}")) == [platform.number]
    assert numbers(client.get("/api/cases/?supervision=3")) == [platform.number]
    assert len(numbers(client.get("/api/cases/?area=330802001"))) == 3
    assert numbers(client.get("/api/cases/?area=330881")) == []
    assert numbers(client.get("/api/cases/?q=井盖")) == [other.number]
    assert (
        numbers(client.get(f"/api/cases/?q={police.number[:-1]}&ordering=registered_at"))[0] == police.number
    )
    assert len(numbers(client.get("/api/cases/?kind=test_matter"))) == 3
    bad_kind = client.get("/api/cases/?kind=nonsense")
    assert bad_kind.status_code == 422 and bad_kind.json()["detail"][0]["loc"] == ["kind"]
    assert client.get("/api/cases/?area=33x").json()["detail"][0]["loc"] == ["area"]


def test_category_filter_takes_a_small_or_a_big_category(new_case):
    from pingan.events.models import Category, Event

    big = Category.objects.create(code="A", name="市容环境")
    stalls = Category.objects.create(code="A01", name="占道经营", parent=big, deadline_unit="working_days",
                                     deadline_amount=3)  # fmt: skip
    rubbish = Category.objects.create(code="A02", name="暴露垃圾", parent=big, deadline_unit="working_days",
                                      deadline_amount=1)  # fmt: skip
    stall, heap, plain = new_case(), new_case(), new_case()
    Event.objects.create(case=stall, category=stalls)
    Event.objects.create(case=heap, category=rubbish)
    client = login(stall.reporter)
    assert numbers(client.get("/api/cases/?category=A01")) == [stall.number]
    assert set(numbers(client.get("/api/cases/?category=A"))) == {stall.number, heap.number}
    assert plain.number not in numbers(client.get("/api/cases/?category=A"))
    unknown = client.get("/api/cases/?category=Z99")
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["category"]


def test_registered_date_range_uses_local_days(new_case, actors):
    early = new_case(at=local(2026, 11, 23, 0, 5))  # 2026-11-22 16:05 UTC, but the 23rd in 衢州
    late = new_case(at=local(2026, 11, 24, 23, 55))
    client = login(actors["dispatcher"])
    assert numbers(client.get("/api/cases/?registered_from=2026-11-23&registered_to=2026-11-23")) == [
        early.number
    ]
    assert numbers(client.get("/api/cases/?registered_from=2026-11-24")) == [late.number]
    response = client.get("/api/cases/?registered_from=2026-11-24&registered_to=2026-11-23")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["registered_to"]


def test_ordering_by_deadline_puts_cases_without_one_last(new_case, actors, units):
    waiting = new_case()
    soon = dispatched(new_case, actors, units)
    later = new_case()
    transition(later, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police,
               at=local(2026, 11, 24, 9, 0))  # fmt: skip
    client = login(actors["dispatcher"])
    assert numbers(client.get("/api/cases/?ordering=deadline_at")) == [
        soon.number,
        later.number,
        waiting.number,
    ]
    assert numbers(client.get("/api/cases/?ordering=-deadline_at")) == [
        later.number,
        soon.number,
        waiting.number,
    ]
    assert client.get("/api/cases/?ordering=title").status_code == 422


def test_pages_without_counting(new_case, actors):
    made = [new_case(at=local(2026, 11, 23, 9, m)) for m in range(3)]
    client = login(actors["dispatcher"])
    first = client.get("/api/cases/?page_size=2").json()
    assert [i["number"] for i in first["items"]] == [made[2].number, made[1].number]
    assert first["has_next"] is True
    second = client.get("/api/cases/?page_size=2&page=2").json()
    assert [i["number"] for i in second["items"]] == [made[0].number] and second["has_next"] is False
    assert client.get("/api/cases/?page_size=500").status_code == 422


def test_counts_per_status_with_the_same_filters(new_case, actors, units):
    new_case()
    new_case()
    dispatched(new_case, actors, units)
    client = login(actors["dispatcher"])
    body = client.get("/api/cases/counts").json()
    counts = {s["status"]: s["count"] for s in body["statuses"]}
    assert body["total"] == 3
    assert counts["registered"] == 2 and counts["dispatched"] == 1 and counts["closed"] == 0
    assert {s["status"]: s["label"] for s in body["statuses"]}["registered"] == "待派遣"
    assert client.get(f"/api/cases/counts?unit={units.kecheng_police.pk}").json()["total"] == 1
    assert login(actors["handler"]).get("/api/cases/counts?mine=todo").json()["total"] == 1


def test_counts_stop_at_the_cap_and_say_there_are_more(new_case, actors, monkeypatch):
    monkeypatch.setattr(cases_api, "COUNT_CAP", 2)
    for _ in range(3):
        new_case()
    client = login(actors["dispatcher"])
    body = client.get("/api/cases/counts").json()
    registered = next(s for s in body["statuses"] if s["status"] == "registered")
    assert (registered["count"], registered["more"]) == (2, True)
    assert (body["total"], body["total_more"]) == (2, True)
    closed = next(s for s in body["statuses"] if s["status"] == "closed")
    assert (closed["count"], closed["more"]) == (0, False)
    html = client.get("/cases/desk/?tab=all").content.decode()
    assert '全部<span class="tab-count">2+</span>' in html


# ---------------------------------------------------------------------------------------------
# Detail


def test_detail_by_id_or_number_with_masked_requester_and_timeline(new_case, actors, units, tree, personas):
    person = create_person(
        personas.admin, name="柯城张三", phone="13812345678", jurisdiction=tree.kecheng_village
    )
    case = new_case(requester=person, lat=28.95, lon=118.85, address="府山街道1号")
    transition(case, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police,
               note="请尽快处理", at=local(2026, 11, 23, 9, 30))  # fmt: skip
    client = login(actors["dispatcher"])
    by_id = client.get(f"/api/cases/{case.pk}")
    by_number = client.get(f"/api/cases/{case.number}")
    assert by_id.status_code == 200 and by_id.json() == by_number.json()
    body = by_id.json()
    assert body["requester"]["name"] == "柯***" and body["requester"]["phone"] != "13812345678"
    assert "张三" not in by_id.content.decode()
    assert (body["lat"], body["lon"], body["address"]) == (28.95, 118.85, "府山街道1号")
    assert body["tier_label"] == "乡镇(街道)" and body["channel_label"] == "网格员上报"
    assert body["reporter"] == "柯城坐席"
    assert [(s["action_label"], s["from_label"], s["to_label"]) for s in body["timeline"]] == [
        ("登记", "", "待派遣"),
        ("派遣", "待派遣", "待签收"),
    ]
    step = body["timeline"][1]
    assert step["actor"] == "柯城坐席" and step["unit"] == "柯城区公安分局" and step["note"] == "请尽快处理"
    assert step["at"] == "2026-11-23T01:30:00Z"


def test_jiangshan_dispatcher_gets_404_on_a_kecheng_case(new_case, personas):
    case = new_case()
    client = login(personas.jiangshan_dispatcher)
    assert client.get(f"/api/cases/{case.pk}").status_code == 404
    assert client.get(f"/api/cases/{case.number}").status_code == 404
    assert client.get("/api/cases/999999").status_code == 404


def offered(client, case) -> list[str]:
    return [a["action"] for a in client.get(f"/api/cases/{case.pk}").json()["allowed_actions"]]


def test_allowed_actions_for_dispatcher_and_handler_on_a_dispatched_case(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    assert offered(login(actors["dispatcher"]), case) == [
        "park",
        "transfer",
        "add_cohandler",
        "escalate",
        "comment",
    ]
    assert offered(login(actors["handler"]), case) == ["accept", "return", "request_extension", "comment"]
    assert offered(login(actors["other_handler"]), case) == ["comment"]
    assert "supervise" in offered(login(actors["supervisor"]), case)
    offer = login(actors["handler"]).get(f"/api/cases/{case.pk}").json()["allowed_actions"][1]
    assert offer == {"action": "return", "label": "退回", "note_required": True, "inputs": ["note"]}


def test_allowed_actions_follow_a_pending_extension(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    transition(case, Action.REQUEST_EXTENSION, actor=actors["handler"], amount=2, note="需协调")
    case.refresh_from_db()
    assert Action.REQUEST_EXTENSION not in allowed_actions(case, actors["handler"])
    assert {Action.APPROVE_EXTENSION, Action.REJECT_EXTENSION} <= set(
        allowed_actions(case, actors["dispatcher"])
    )


def test_allowed_actions_on_a_registered_case(new_case, actors, personas):
    case = new_case()
    assert allowed_actions(case, actors["dispatcher"]) == [
        Action.CANCEL, Action.DISPATCH, Action.ESCALATE, Action.MERGE, Action.COMMENT,
    ]  # fmt: skip
    assert allowed_actions(case, actors["handler"]) == [Action.COMMENT]
    assert allowed_actions(case, personas.jiangshan_dispatcher) == []


# ---------------------------------------------------------------------------------------------
# Actions


def act(client, case, action: str, **body):
    return post(client, f"/api/cases/{case.pk}/actions/{action}", body)


def test_dispatch_through_the_api_returns_the_updated_detail(new_case, actors, units):
    case = new_case(policy=URGENT)
    response = act(login(actors["dispatcher"]), case, "dispatch", version=0, unit_id=units.kecheng_police.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "dispatched" and body["unit_name"] == "柯城区公安分局" and body["version"] == 1
    assert 47 * 3600 < body["seconds_left"] <= 48 * 3600
    assert body["timeline"][-1]["action"] == "dispatch"


def test_full_loop_through_the_api(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    handler, dispatcher = login(actors["handler"]), login(actors["dispatcher"])
    assert act(handler, case, "accept", version=1).json()["status"] == "handling"
    assert act(handler, case, "report", version=2, note="已清理").json()["status"] == "reported"
    assert act(dispatcher, case, "close", version=3).json()["status"] == "closed"
    body = act(dispatcher, case, "evaluate", version=4, satisfaction=4, by="callback").json()
    assert body["satisfaction"] == 4 and body["timeline"][-1]["data"] == {"satisfaction": 4, "by": "callback"}


def test_stale_version_gets_version_conflict_with_the_current_version(new_case, actors, units):
    case = new_case(policy=URGENT)
    first, second = login(actors["dispatcher"]), login(actors["supervisor"])
    assert act(first, case, "dispatch", version=0, unit_id=units.kecheng_police.pk).status_code == 200
    response = act(second, case, "dispatch", version=0, unit_id=units.kecheng_platform.pk)
    assert response.status_code == 409
    assert response.json() == {
        "code": "version_conflict", "detail": "该案件已被他人修改，请刷新后重试", "current_version": 1,
    }  # fmt: skip
    assert Case.objects.get(pk=case.pk).unit == units.kecheng_police


def test_close_before_verify_is_an_illegal_transition(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    response = act(login(actors["dispatcher"]), case, "close", version=1)
    assert response.status_code == 409
    assert response.json() == {
        "code": "illegal_transition", "detail": "案件当前为「待签收」，不能「核查通过结案」", "current_version": 1,
    }  # fmt: skip


def test_handler_of_another_unit_is_forbidden(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    response = act(login(actors["other_handler"]), case, "accept", version=1)
    assert response.status_code == 403 and response.json()["detail"] == "该案件不在您单位的待办中"
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED


def test_jiangshan_dispatcher_acting_on_a_kecheng_case_gets_404(new_case, personas):
    case = new_case()
    assert (
        act(login(personas.jiangshan_dispatcher), case, "cancel", version=0, note="重复").status_code == 404
    )


def test_unit_outside_the_scope_is_refused_on_unit_id(new_case, actors, units):
    case = new_case()
    client = login(actors["dispatcher"])
    for unit_id in (units.jiangshan_police.pk, 999999):
        response = act(client, case, "dispatch", version=0, unit_id=unit_id)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["unit_id"]
    missing = act(client, case, "dispatch", version=0)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["unit_id"]
    assert Case.objects.get(pk=case.pk).status == Status.REGISTERED


def test_bad_inputs_answer_422_naming_the_field(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    handler = login(actors["handler"])
    no_reason = act(handler, case, "return", version=1)
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["note"]
    unknown = act(handler, case, "teleport", version=1)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"][-1] == "action"
    no_version = act(handler, case, "accept")
    assert no_version.status_code == 422 and no_version.json()["detail"][0]["loc"][-1] == "version"
    extra = act(handler, case, "accept", version=1, colour="red")
    assert extra.status_code == 422
    dispatcher = login(actors["dispatcher"])
    no_units = act(dispatcher, case, "add_cohandler", version=1, unit_ids=[])
    assert no_units.json()["detail"][0]["loc"] == ["unit_ids"]
    no_target = act(dispatcher, new_case(), "merge", version=0, target="330802-20990101-00001")
    assert no_target.json()["detail"][0]["loc"] == ["target"]


def test_action_not_in_the_kinds_table_is_illegal(new_case, actors):
    response = act(login(actors["dispatcher"]), new_case(), "register", version=0)
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


def test_a_cohandling_unit_in_another_county_sees_the_case_once(new_case, actors, units, tree):
    """协办: a unit outside the case's area sees it through the scoping function, listed once."""
    from tests.conftest import make_user

    case = dispatched(new_case, actors, units)
    jiangshan = make_user("js_handler", Role.HANDLER, tree.jiangshan, units.jiangshan_police)
    other = login(jiangshan)
    assert other.get(f"/api/cases/{case.pk}").status_code == 404
    transition(case, Action.ADD_COHANDLER, actor=actors["dispatcher"], units=[units.jiangshan_police])
    transition(
        Case.objects.get(pk=case.pk),
        Action.ADD_COHANDLER,
        actor=actors["dispatcher"],
        units=[units.jiangshan_platform],
    )
    assert other.get(f"/api/cases/{case.pk}").status_code == 200
    listed = other.get("/api/cases/").json()["items"]
    assert [i["number"] for i in listed] == [case.number]
    assert other.get("/api/cases/?mine=todo").json()["items"][0]["number"] == case.number


def test_cohandlers_and_merge_resolve_ids_and_numbers(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    dispatcher = login(actors["dispatcher"])
    body = act(dispatcher, case, "add_cohandler", version=1, unit_ids=[units.kecheng_platform.pk]).json()
    assert body["cohandlers"] == [{"id": units.kecheng_platform.pk, "name": "信安街道综治工作平台"}]
    first, duplicate = new_case(), new_case()
    merged = act(dispatcher, duplicate, "merge", version=0, target=first.number).json()
    assert merged["status"] == "cancelled" and merged["merged_into"] == first.number


# ---------------------------------------------------------------------------------------------
# Attachments


def upload(client, case, *files, **form):
    return client.post(f"/api/cases/{case.pk}/attachments", {"file": list(files), **form})


def test_photo_upload_adds_a_comment_step_with_the_attachment(new_case, actors):
    case = new_case()
    photo = SimpleUploadedFile("现场.png", PNG, content_type="application/octet-stream")
    report = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    response = upload(login(actors["handler"]), case, photo, report, note="现场照片")
    assert response.status_code == 200, response.content
    step = response.json()["timeline"][-1]
    assert step["action"] == "comment" and step["note"] == "现场照片" and response.json()["version"] == 1
    assert [(a["name"], a["content_type"], a["size"]) for a in step["attachments"]] == [
        ("现场.png", "image/png", len(PNG)),
        ("report.pdf", "application/pdf", len(PDF)),
    ]
    download = login(actors["dispatcher"]).get(step["attachments"][0]["url"])
    assert download.status_code == 200 and download.content == PNG
    assert download["Content-Type"] == "image/png"


def test_upload_refuses_other_types_and_big_files_with_422(new_case, actors, monkeypatch):
    case = new_case()
    client = login(actors["dispatcher"])
    csv = upload(client, case, SimpleUploadedFile("x.csv", b"a,b\n", content_type="image/png"))
    assert csv.status_code == 422 and csv.json()["detail"][0]["loc"] == ["file"]
    monkeypatch.setattr(cases_api, "MAX_ATTACHMENT_BYTES", 1024)
    big = upload(client, case, SimpleUploadedFile("big.png", PNG + b"\x00" * 1024, content_type="image/png"))
    assert big.status_code == 422 and "超过" in big.json()["detail"][0]["msg"]
    assert upload(client, case).status_code == 422
    assert Attachment.objects.count() == 0 and Case.objects.get(pk=case.pk).version == 0


def test_upload_with_a_stale_version_is_a_conflict(new_case, actors, units):
    case = dispatched(new_case, actors, units)
    response = upload(login(actors["handler"]), case, SimpleUploadedFile("a.png", PNG), version="0")
    assert response.status_code == 409 and response.json()["current_version"] == 1
    assert Attachment.objects.count() == 0


def test_attachments_are_out_of_reach_of_another_county(new_case, actors, personas):
    case = new_case()
    other = new_case()
    body = upload(login(actors["dispatcher"]), case, SimpleUploadedFile("a.png", PNG)).json()
    url = body["timeline"][-1]["attachments"][0]["url"]
    outsider = login(personas.jiangshan_dispatcher)
    assert outsider.get(url).status_code == 404
    assert upload(outsider, case, SimpleUploadedFile("b.png", PNG)).status_code == 404
    attachment_id = body["timeline"][-1]["attachments"][0]["id"]
    # An attachment is only found under its own case.
    assert (
        login(actors["dispatcher"]).get(f"/api/cases/{other.pk}/attachments/{attachment_id}").status_code
        == 404
    )


# ---------------------------------------------------------------------------------------------
# Supervision board


def test_supervision_board_groups_open_cases_by_level(new_case, actors, units, personas):
    warned = dispatched(new_case, actors, units)
    transition(warned, Action.WARN, actor=None)
    yellow = dispatched(new_case, actors, units)
    transition(yellow, Action.YELLOW_CARD, actor=None)
    red = dispatched(new_case, actors, units)
    transition(red, Action.RED_CARD, actor=None)
    red_closed = dispatched(new_case, actors, units)
    transition(red_closed, Action.RED_CARD, actor=None)
    transition(red_closed, Action.ACCEPT, actor=actors["handler"])
    transition(red_closed, Action.REPORT, actor=actors["handler"], note="已处理")
    transition(red_closed, Action.CLOSE, actor=actors["dispatcher"])
    dispatched(new_case, actors, units)  # not under supervision
    body = login(actors["dispatcher"]).get("/api/cases/supervision").json()
    assert body["total"] == 3
    assert [(g["level"], g["label"], g["count"]) for g in body["levels"]] == [
        (Supervision.RED, "红牌", 1),
        (Supervision.YELLOW, "黄牌", 1),
        (Supervision.NORMAL, "督办", 0),
        (Supervision.WARNING, "预警", 1),
    ]
    assert [i["number"] for i in body["levels"][0]["items"]] == [red.number]
    assert login(personas.jiangshan_dispatcher).get("/api/cases/supervision").json()["total"] == 0
    assert login(actors["dispatcher"]).get("/api/cases/supervision?area=330881").json()["total"] == 0


# ---------------------------------------------------------------------------------------------
# Cost


def test_list_and_detail_queries_do_not_grow_with_rows(
    new_case, actors, units, django_assert_max_num_queries
):
    cases = [dispatched(new_case, actors, units) for _ in range(6)]
    for case in cases[:3]:
        upload(
            login(actors["dispatcher"]),
            case,
            SimpleUploadedFile("a.png", PNG),
            SimpleUploadedFile("b.png", PNG),
        )
    client = login(actors["dispatcher"])
    # session, user, scope codes, scope units, then one query for the page / per status counted.
    with django_assert_max_num_queries(5):
        assert len(client.get("/api/cases/?mine=done&page_size=100").json()["items"]) == 6
    with django_assert_max_num_queries(4 + len(Status)):
        client.get("/api/cases/counts?overdue=true")
    # … case, co-handlers, steps with actors and units, attachments, and the scope check of the offer.
    with django_assert_max_num_queries(9):
        assert len(client.get(f"/api/cases/{cases[0].pk}").json()["timeline"]) == 3


def test_extension_through_the_api_moves_the_deadline(new_case, actors, units):
    case = new_case(policy=URGENT, at=timezone.now())
    transition(case, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police)
    deadline = Case.objects.get(pk=case.pk).deadline_at
    asked = act(login(actors["handler"]), case, "request_extension", version=1, amount="12", note="需协调")
    assert asked.status_code == 200 and asked.json()["extension_pending"] is True
    approved = act(login(actors["dispatcher"]), case, "approve_extension", version=2).json()
    assert approved["extension_count"] == 1 and approved["extension_pending"] is False
    assert Case.objects.get(pk=case.pk).deadline_at == deadline + timedelta(hours=12)


def test_ids_too_large_for_the_database_are_422_or_404(new_case, actors):
    case = new_case()
    client = login(actors["dispatcher"])
    big = "9" * 25
    assert client.get(f"/api/cases/?unit={big}").status_code == 422
    assert client.get(f"/api/cases/supervision?unit={big}").status_code == 422
    assert client.get(f"/api/cases/{big}").status_code == 404
    assert act(client, case, "dispatch", version=0, unit_id=int(big)).status_code == 422


def test_the_index_predicates_name_the_open_and_clock_statuses():
    """The partial indexes of cases/models.py spell the statuses out (migrations need literals)."""
    from pingan.cases import models
    from pingan.cases.choices import CLOCK_STATUSES, OPEN_STATUSES

    assert [s.value for s in OPEN_STATUSES] == models.OPEN
    # case_sweep_warn / case_sweep_red hold the cases below 预警 (1) / 红牌 (4).
    assert (Supervision.WARNING, Supervision.RED) == (1, 4)
    assert [s.value for s in CLOCK_STATUSES] == models.CLOCK
