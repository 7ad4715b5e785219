"""Police linkage services (警调联动): recording and importing 110 dispute calls, push, not-push,
feedback, follow-up, and the linkage rate on hand-built data (DOMAIN §4)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit
from pingan.cases import services as cases
from pingan.cases.choices import Action, Status
from pingan.cases.indicators import percent
from pingan.core.importing import ImportFailed
from pingan.core.models import AuditEntry
from pingan.disputes import linkage
from pingan.disputes.choices import CallFeedback, DisputeType, Source
from pingan.disputes.models import PoliceCall
from tests.conftest import make_user
from tests.disputes.conftest import local, two_parties

MARCH = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
HEADER = ["接警单号", "报警时间", "发生地点", "纠纷类型", "派出所", "区划代码", "简要警情"]


def make_call(station: Unit, jurisdiction, number: str, called_at: datetime, **extra) -> PoliceCall:
    """A call written straight to the table (hand-built statistics data)."""
    values = {
        "dispute_type": DisputeType.NEIGHBOUR,
        "push_due_at": called_at + timedelta(hours=24),
        **extra,
    }
    return PoliceCall.objects.create(
        call_number=number, called_at=called_at, jurisdiction=jurisdiction, station=station, **values
    )


def pushed(at: datetime, hours: float, **extra) -> dict:
    return {"status": CallFeedback.PUSHED, "pushed_at": at + timedelta(hours=hours), **extra}


@pytest.fixture
def jiangshan_station(tree) -> Unit:
    return Unit.objects.create(
        name="虎山派出所", kind=UnitKind.POLICE_STATION, jurisdiction=tree.jiangshan_township
    )


@pytest.fixture
def march_calls(tree, police_station):
    """20 five-type calls (4 of each key type) and 5 consumer calls at 信安派出所 in March 2026.

    Key types: 19 pushed, 18 of them within 24 h and one after 30 h; one still waiting. Of the
    pushed, 3 fed back (2 within 24 h of the push, one after 40 h), 2 followed up (one satisfied).
    Consumer calls: 2 pushed, 3 marked not pushed — they count as calls, not in the rate.
    """
    key_types = [
        DisputeType.NEIGHBOUR,
        DisputeType.FAMILY,
        DisputeType.LAND,
        DisputeType.LABOUR,
        DisputeType.MEDICAL,
    ]
    for i in range(20):
        at = local(2026, 3, 1 + i, 10, 0)
        kind = key_types[i % 5]
        if i == 19:
            extra = {}
        elif i == 18:
            extra = pushed(at, 30)
        elif i < 2:
            extra = pushed(at, 2, fed_back_at=at + timedelta(hours=20), status=CallFeedback.FED_BACK)
        elif i == 2:
            extra = pushed(at, 2, fed_back_at=at + timedelta(hours=42), status=CallFeedback.FED_BACK)
        else:
            extra = pushed(at, 3)
        if i in (0, 5):
            extra.update(followed_up_at=at + timedelta(days=2), followup_satisfied=(i == 0))
        make_call(police_station, tree.kecheng_village, f"KC2603{i:04d}", at, dispute_type=kind, **extra)
    for i in range(5):
        at = local(2026, 3, 10, 8 + i, 0)
        extra = (
            pushed(at, 1) if i < 2 else {"status": CallFeedback.NOT_PUSHED, "not_pushed_reason": "已当场调解"}
        )
        make_call(
            police_station, tree.kecheng_village, f"KCX{i}", at, dispute_type=DisputeType.CONSUMER, **extra
        )


# --- the linkage rate ----------------------------------------------------------------------------


def test_linkage_rate_and_timeliness_on_hand_built_data(personas, march_calls):
    rows = linkage.linkage_stats(personas.kecheng_dispatcher, by="station", **MARCH)
    assert [r.name for r in rows] == ["信安派出所"]
    row = rows[0]
    c = row.counts
    assert (c.calls, c.key_calls, c.pushed, c.pushed_on_time, c.waiting, c.not_pushed) == (
        25,
        20,
        19,
        18,
        1,
        0,
    )
    assert (c.fed_back, c.fed_back_on_time, c.followed_up, c.satisfied) == (3, 2, 2, 1)
    assert row.linkage_rate == Decimal("0.95")
    assert percent(row.linkage_rate) == "95.00%"
    assert percent(row.push_timeliness_rate) == "94.74%"  # 18 / 19
    assert percent(row.feedback_rate) == "15.79%"  # 3 / 19
    assert percent(row.feedback_timeliness_rate) == "66.67%"  # 2 / 3
    assert percent(row.followup_rate) == "10.53%"  # 2 / 19
    assert percent(row.satisfaction_rate) == "50.00%"
    assert row.meets_target is True
    assert row.timely_meets_target is False


def test_one_more_unpushed_call_drops_below_target(tree, personas, police_station, march_calls):
    make_call(police_station, tree.kecheng_village, "KC-LATE", local(2026, 3, 31, 23, 0))
    row = linkage.linkage_stats(personas.kecheng_dispatcher, by="county", **MARCH)[0]
    assert (row.key, row.name) == ("330802", "柯城区")
    assert percent(row.linkage_rate) == "90.48%"  # 19 / 21
    assert row.meets_target is False


def test_non_key_types_are_not_in_the_denominator(tree, personas, police_station):
    at = local(2026, 3, 5, 9, 0)
    make_call(police_station, tree.kecheng_village, "K1", at, **pushed(at, 1))
    for i in range(4):
        make_call(police_station, tree.kecheng_village, f"C{i}", at, dispute_type=DisputeType.TRAFFIC)
    row = linkage.linkage_stats(personas.kecheng_dispatcher, **MARCH)[0]
    assert (row.counts.calls, row.counts.key_calls) == (5, 1)
    assert row.linkage_rate == Decimal(1)


def test_no_key_calls_means_no_rate(tree, personas, police_station):
    make_call(
        police_station, tree.kecheng_village, "C1", local(2026, 3, 5, 9, 0), dispute_type=DisputeType.CONTRACT
    )
    row = linkage.linkage_stats(personas.kecheng_dispatcher, **MARCH)[0]
    assert row.linkage_rate is None
    assert row.meets_target is None
    assert percent(row.linkage_rate) == "—"


def test_by_month_lists_every_month_of_the_range(tree, personas, police_station):
    make_call(police_station, tree.kecheng_village, "M1", local(2026, 1, 31, 23, 30))  # 15:30 UTC
    make_call(police_station, tree.kecheng_village, "M2", local(2026, 3, 1, 0, 30))  # 2月28日 16:30 UTC
    rows = linkage.linkage_stats(
        personas.kecheng_dispatcher, by="month", date_from=date(2026, 1, 1), date_to=date(2026, 3, 31)
    )
    assert [(r.key, r.counts.calls) for r in rows] == [("2026-01", 1), ("2026-02", 0), ("2026-03", 1)]


def test_by_county_and_station_rows_and_total(tree, personas, police_station, jiangshan_station):
    at = local(2026, 3, 5, 9, 0)
    make_call(police_station, tree.kecheng_village, "KC1", at, **pushed(at, 1))
    make_call(jiangshan_station, tree.jiangshan_village, "JS1", at)
    make_call(jiangshan_station, tree.jiangshan_village, "JS2", at, **pushed(at, 1))
    counties = linkage.linkage_stats(personas.admin, by="county", **MARCH)
    assert [(r.name, r.counts.key_calls, r.counts.pushed) for r in counties] == [
        ("柯城区", 1, 1),
        ("江山市", 2, 1),
    ]
    stations = linkage.linkage_stats(personas.admin, by="station", **MARCH)
    assert {r.name for r in stations} == {"信安派出所", "虎山派出所"}
    summary = linkage.total(counties)
    assert (summary.counts.key_calls, summary.counts.pushed) == (3, 2)
    assert percent(summary.linkage_rate) == "66.67%"


def test_jiangshan_user_sees_none_of_kecheng_calls(personas, march_calls):
    user = personas.jiangshan_dispatcher
    assert linkage.visible_calls(user).count() == 0
    assert linkage.linkage_stats(user, by="station", **MARCH) == []
    assert linkage.linkage_stats(user, by="county", **MARCH) == []
    assert all(r.counts.calls == 0 for r in linkage.linkage_stats(user, by="month", **MARCH))


def test_station_member_sees_the_calls_of_their_station(tree, police_station, march_calls):
    officer = make_user("xinan_officer", Role.HANDLER, tree.jiangshan, police_station)  # scope elsewhere
    assert linkage.visible_calls(officer).count() == 25


def test_bad_period_names_the_field(personas):
    with pytest.raises(ValidationError) as exc:
        linkage.linkage_stats(personas.admin, date_from=date(2026, 3, 31), date_to=date(2026, 3, 1))
    assert "end" in exc.value.error_dict


# --- recording one call --------------------------------------------------------------------------


def record(actor, **overrides):
    values = {
        "call_number": "J3308022026030100001",
        "called_at": local(2026, 3, 1, 8, 30),
        "dispute_type": "邻里纠纷",
        "station": "信安派出所",
        "place": "府山街道某小区3幢",
        "area_code": "330802001001",
        "summary": "楼上漏水，双方争吵",
    }
    values.update(overrides)
    return linkage.record_call(actor, **values)


def test_record_call_sets_place_station_and_push_limit(tree, personas, police_station):
    call, duplicate = record(personas.kecheng_dispatcher)
    assert duplicate is False
    assert call.jurisdiction == tree.kecheng_village
    assert call.area_code == "330802001001"
    assert call.station == police_station
    assert call.dispute_type == DisputeType.NEIGHBOUR
    assert call.status == CallFeedback.WAITING
    assert call.push_due_at == local(2026, 3, 2, 8, 30)


def test_push_limit_is_configurable(settings, personas, police_station):
    settings.LINKAGE_PUSH_HOURS = 12
    call, _dup = record(personas.kecheng_dispatcher, called_at="2026-03-01 08:30")
    assert call.push_due_at == local(2026, 3, 1, 20, 30)


def test_same_call_number_returns_the_call_already_recorded(personas, police_station):
    first, _dup = record(personas.kecheng_dispatcher)
    again, duplicate = record(personas.kecheng_dispatcher, summary="重复推送")
    assert duplicate is True
    assert again.pk == first.pk
    assert PoliceCall.objects.count() == 1
    assert again.summary == "楼上漏水，双方争吵"


def test_same_call_number_outside_scope_is_refused_without_content(
    tree, personas, police_station, jiangshan_station
):
    record(personas.kecheng_dispatcher)
    with pytest.raises(ValidationError) as exc:
        record(personas.jiangshan_dispatcher, station="虎山派出所", area_code="330881001001")
    assert list(exc.value.error_dict) == ["call_number"]


def test_record_call_locates_a_point_to_its_grid(tree, personas, police_station):
    call, _dup = record(personas.kecheng_dispatcher, area_code="", lat=28.95, lon=118.85)
    assert call.jurisdiction == tree.kecheng_grid


def test_point_outside_the_installation_is_refused(personas, police_station):
    with pytest.raises(ValidationError) as exc:
        record(personas.kecheng_dispatcher, area_code="", lat=30.25, lon=120.15)  # 杭州
    assert "location" in exc.value.error_dict


def test_code_outside_the_installation_is_refused(personas, police_station):
    with pytest.raises(ValidationError) as exc:
        record(personas.kecheng_dispatcher, area_code="330106")
    assert "area_code" in exc.value.error_dict


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"call_number": ""}, "call_number"),
        ({"called_at": "昨天"}, "called_at"),
        ({"called_at": datetime(2027, 1, 1, 8, 0)}, "called_at"),
        ({"dispute_type": "吵架"}, "dispute_type"),
        ({"station": "不存在派出所"}, "station"),
        ({"area_code": "", "lat": None, "lon": None}, "area_code"),
        ({"area_code": "", "lat": 95.0, "lon": 118.85}, "lat"),
        ({"place": "长" * 201}, "place"),
    ],
)
def test_bad_fields_are_named(personas, police_station, overrides, field):
    with pytest.raises(ValidationError) as exc:
        record(personas.kecheng_dispatcher, **overrides)
    assert field in exc.value.error_dict
    assert PoliceCall.objects.count() == 0


def test_a_unit_that_is_not_a_police_station_is_refused(personas, units, police_station):
    with pytest.raises(ValidationError) as exc:
        record(personas.kecheng_dispatcher, station=units.kecheng_police.pk)  # 公安分局: a department
    assert "station" in exc.value.error_dict


def test_chinese_and_110_words_for_types(personas, police_station):
    call, _dup = record(personas.kecheng_dispatcher, call_number="A1", dispute_type="情感纠纷")
    assert call.dispute_type == DisputeType.FAMILY
    call, _dup = record(personas.kecheng_dispatcher, call_number="A2", dispute_type="劳资")
    assert call.dispute_type == DisputeType.LABOUR


def test_jiangshan_user_cannot_file_a_call_in_kecheng(personas, police_station):
    with pytest.raises(ValidationError) as exc:  # the station is not theirs to see either
        record(personas.jiangshan_dispatcher)
    assert "station" in exc.value.error_dict


def test_grid_worker_cannot_record(personas, police_station):
    with pytest.raises(PermissionDenied):
        record(personas.kecheng_grid_worker)


def test_station_officer_records_calls_of_their_station(tree, police_station):
    officer = make_user("xinan_duty", Role.HANDLER, tree.kecheng_township, police_station)
    call, _dup = record(officer)
    assert call.station == police_station


# --- import --------------------------------------------------------------------------------------


def xlsx(rows: list[list]) -> io.BytesIO:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "calls.xlsx"
    buffer.size = len(buffer.getvalue())
    return buffer


def row(number: str, **changes) -> list:
    values = {
        "number": number,
        "at": datetime(2026, 3, 1, 8, 30),
        "place": "府山街道某小区",
        "type": "邻里纠纷",
        "station": "信安派出所",
        "code": 330802001001,  # Excel stores codes as numbers
        "summary": "邻里争吵",
    }
    values.update(changes)
    return list(values.values())


def test_import_skips_and_reports_duplicates(personas, police_station):
    record(personas.kecheng_dispatcher, call_number="J1")
    result = linkage.import_calls(
        xlsx([row("J1"), row("J2"), row("J3", type="劳资纠纷"), row("J2", summary="再次")]),
        personas.kecheng_dispatcher,
    )
    assert result.created == 2
    assert [(e.row, e.field) for e in result.skipped] == [(2, "接警单号"), (5, "接警单号")]
    assert "已录入" in result.skipped[0].message
    assert "与第 3 行重复" in result.skipped[1].message
    assert sorted(PoliceCall.objects.values_list("call_number", flat=True)) == ["J1", "J2", "J3"]
    assert PoliceCall.objects.get(call_number="J2").summary == "邻里争吵"
    assert PoliceCall.objects.get(call_number="J3").area_code == "330802001001"
    assert result.summary == "导入110纠纷警情：新增 2 条，跳过重复 2 条"
    assert AuditEntry.objects.filter(action="import", detail__created=2).exists()

    again = linkage.import_calls(xlsx([row("J2"), row("J3")]), personas.kecheng_dispatcher)
    assert (again.created, len(again.skipped)) == (0, 2)
    assert PoliceCall.objects.count() == 3


def test_import_reports_every_bad_row_and_writes_nothing(personas, police_station):
    upload = xlsx(
        [
            row("B1"),
            row("B2", type="打架"),
            row("", at="明天"),
            row("B4", station="不存在派出所", code=330106),
            row("B5"),
        ]
    )
    with pytest.raises(ImportFailed) as exc:
        linkage.import_calls(upload, personas.kecheng_dispatcher)
    assert [(e.row, e.field) for e in exc.value.errors] == [
        (3, "纠纷类型"),
        (4, "接警单号"),
        (4, "报警时间"),
        (5, "派出所"),
        (5, "区划代码"),
    ]
    assert PoliceCall.objects.count() == 0


def test_import_csv_in_gbk_with_a_missing_column(personas, police_station):
    text = "接警单号,报警时间,纠纷类型,派出所\nC1,2026-03-01 08:30,邻里纠纷,信安派出所\n"
    upload = io.BytesIO(text.encode("gb18030"))
    upload.name, upload.size = "calls.csv", len(upload.getvalue())
    with pytest.raises(ImportFailed) as exc:
        linkage.import_calls(upload, personas.kecheng_dispatcher)
    assert [(e.row, e.field) for e in exc.value.errors] == [(1, "区划代码")]


def test_import_csv_in_gbk(personas, police_station):
    text = ",".join(HEADER) + "\nC1,2026/3/1 8:30,府山,土地纠纷,信安派出所,330802001,山林边界\n"
    upload = io.BytesIO(text.encode("gb18030"))
    upload.name, upload.size = "calls.csv", len(upload.getvalue())
    result = linkage.import_calls(upload, personas.kecheng_dispatcher)
    assert result.created == 1
    call = PoliceCall.objects.get()
    assert (call.dispute_type, call.called_at) == (DisputeType.LAND, local(2026, 3, 1, 8, 30))


def test_import_refuses_other_files(personas):
    upload = io.BytesIO(b"hello")
    upload.name, upload.size = "calls.txt", 5
    with pytest.raises(ImportFailed) as exc:
        linkage.import_calls(upload, personas.kecheng_dispatcher)
    assert exc.value.errors[0].row == 0


# --- push, not push, feedback, follow-up ---------------------------------------------------------


@pytest.fixture
def call(personas, police_station) -> PoliceCall:
    return record(personas.kecheng_dispatcher).call


def test_push_opens_a_dispute_and_dispatches_it(personas, orgs, call):
    at = local(2026, 3, 1, 15, 0)
    pushed_call = linkage.push(
        call, personas.kecheng_dispatcher, orgs.village.unit, at, parties=two_parties()
    )
    assert pushed_call.status == CallFeedback.PUSHED
    assert pushed_call.pushed_at == at
    assert pushed_call.pushed_to == orgs.village.unit
    dispute = pushed_call.dispute
    assert dispute.source == Source.POLICE_110
    assert dispute.dispute_type == DisputeType.NEIGHBOUR
    case = dispute.case
    assert (case.status, case.unit, case.channel) == (Status.DISPATCHED, orgs.village.unit, "police_110")
    assert "J3308022026030100001" in case.description


def test_push_without_parties_leaves_them_to_the_mediator(personas, orgs, call):
    """The call has no parties (only number, time, place, type, station): the dispute starts
    without them. Needs register_dispute to accept no parties for source police_110."""
    pushed_call = linkage.push(
        call, personas.kecheng_dispatcher, orgs.village.unit.pk, local(2026, 3, 1, 9, 0)
    )
    assert pushed_call.dispute.parties.count() == 0
    assert pushed_call.dispute.case.status == Status.DISPATCHED


def test_push_twice_is_refused(personas, orgs, call):
    linkage.push(
        call, personas.kecheng_dispatcher, orgs.village.unit, local(2026, 3, 1, 9, 0), parties=two_parties()
    )
    with pytest.raises(linkage.LinkageError):
        linkage.push(call, personas.kecheng_dispatcher, orgs.township.unit, parties=two_parties())


def test_push_to_a_unit_that_is_not_a_mediation_org_is_refused(personas, units, call):
    with pytest.raises(ValidationError) as exc:
        linkage.push(call, personas.kecheng_dispatcher, units.kecheng_platform, parties=two_parties())
    assert "org_unit" in exc.value.error_dict
    assert PoliceCall.objects.get(pk=call.pk).status == CallFeedback.WAITING


def test_push_before_the_call_is_refused(personas, orgs, call):
    with pytest.raises(ValidationError) as exc:
        linkage.push(
            call,
            personas.kecheng_dispatcher,
            orgs.village.unit,
            local(2026, 3, 1, 8, 0),
            parties=two_parties(),
        )
    assert "at" in exc.value.error_dict


def test_mediator_cannot_push(mediators, orgs, call):
    with pytest.raises(PermissionDenied):
        linkage.push(call, mediators.village, orgs.village.unit, parties=two_parties())


def test_jiangshan_dispatcher_cannot_push_a_kecheng_call(personas, orgs, call):
    with pytest.raises(PermissionDenied):
        linkage.push(call, personas.jiangshan_dispatcher, orgs.jiangshan.unit, parties=two_parties())


def test_suggestions_follow_type_place_and_scope(personas, orgs, police_station):
    labour, _dup = record(personas.kecheng_dispatcher, call_number="L1", dispute_type="劳资纠纷")
    names = [s.org.unit.name for s in linkage.suggest_orgs(labour, personas.kecheng_dispatcher, limit=5)]
    assert names[0] == "府山社区人民调解委员会"
    assert "柯城区劳动争议人民调解委员会" in names
    assert "虎山街道人民调解委员会" not in names
    neighbour, _dup = record(personas.kecheng_dispatcher, call_number="N1")
    names = [s.org.unit.name for s in linkage.suggest_orgs(neighbour, personas.kecheng_dispatcher, limit=5)]
    assert "柯城区劳动争议人民调解委员会" not in names


def test_not_push_needs_a_reason_and_counts_as_not_pushed(personas, call):
    with pytest.raises(ValidationError) as exc:
        linkage.not_push(call, personas.kecheng_dispatcher, "  ")
    assert "reason" in exc.value.error_dict
    linkage.not_push(call, personas.kecheng_dispatcher, "双方已当场和解，无需调解")
    call.refresh_from_db()
    assert (call.status, call.not_pushed_reason) == (CallFeedback.NOT_PUSHED, "双方已当场和解，无需调解")
    row = linkage.linkage_stats(personas.kecheng_dispatcher, **MARCH)[0]
    assert (row.counts.key_calls, row.counts.pushed, row.counts.not_pushed) == (1, 0, 1)
    assert row.linkage_rate == Decimal(0)


def test_the_mediation_outcome_is_the_feedback(personas, orgs, mediators, call):
    at = local(2026, 3, 1, 9, 0)
    pushed_call = linkage.push(
        call, personas.kecheng_dispatcher, orgs.village.unit, at, parties=two_parties()
    )
    case = pushed_call.dispute.case
    cases.transition(case, Action.ACCEPT, actor=mediators.village, at=at + timedelta(hours=1))
    case = cases.transition(
        case, Action.REPORT, actor=mediators.village, note="双方达成赔偿协议", at=at + timedelta(hours=20)
    )  # the kind's REPORT hook (kind.py) records the feedback
    call.refresh_from_db()
    assert call.status == CallFeedback.FED_BACK
    assert call.fed_back_at == at + timedelta(hours=20)
    assert call.feedback.endswith("双方达成赔偿协议")
    row = linkage.linkage_stats(personas.kecheng_dispatcher, **MARCH)[0]
    assert (row.counts.fed_back, row.counts.fed_back_on_time) == (1, 1)
    # Rework and a second report: the text is the latest, the time stays the first.
    cases.transition(
        case, Action.REWORK, actor=personas.kecheng_dispatcher, note="协议未签字", at=at + timedelta(hours=21)
    )
    cases.transition(
        case, Action.REPORT, actor=mediators.village, note="协议已签字", at=at + timedelta(hours=40)
    )
    call.refresh_from_db()
    assert (call.fed_back_at, call.feedback) == (at + timedelta(hours=20), "协议已签字")


def test_feedback_hook_ignores_disputes_without_a_call(new_dispute):
    dispute = new_dispute()
    linkage.on_dispute_reported(dispute.case, dispute.case.steps.first())  # nothing to do, no error


def test_follow_up_once_after_the_push(tree, personas, orgs, police_station, call):
    with pytest.raises(linkage.LinkageError):
        linkage.follow_up(call, personas.kecheng_dispatcher, "已回访", True)
    linkage.push(
        call, personas.kecheng_dispatcher, orgs.village.unit, local(2026, 3, 1, 9, 0), parties=two_parties()
    )
    officer = make_user("xinan_callback", Role.HANDLER, tree.kecheng_township, police_station)
    done = linkage.follow_up(call, officer, "报警人表示纠纷已化解", True, local(2026, 3, 3, 10, 0))
    assert (done.followed_up_at, done.followup_satisfied) == (local(2026, 3, 3, 10, 0), True)
    with pytest.raises(linkage.LinkageError):
        linkage.follow_up(call, personas.kecheng_dispatcher, "再次回访", True)


def test_follow_up_needs_a_note_and_the_right_person(personas, mediators, orgs, call):
    linkage.push(
        call, personas.kecheng_dispatcher, orgs.village.unit, local(2026, 3, 1, 9, 0), parties=two_parties()
    )
    with pytest.raises(ValidationError):
        linkage.follow_up(call, personas.kecheng_dispatcher, "", None)
    with pytest.raises(PermissionDenied):
        linkage.follow_up(call, mediators.village, "回访", True)


def test_feedback_carries_the_mediation_outcome(personas, orgs, mediators, call):
    from pingan.disputes import services as disputes

    at = local(2026, 3, 1, 9, 0)
    dispute = linkage.push(call, personas.kecheng_dispatcher, orgs.village.unit, at).dispute
    disputes.accept(dispute, actor=mediators.village, at=at + timedelta(hours=1))
    disputes.record_outcome(
        dispute,
        actor=mediators.village,
        outcome="failure",
        note="双方分歧较大",
        routes_told="可向人民法院起诉",
        at=at + timedelta(hours=50),
    )
    call.refresh_from_db()
    assert call.feedback == "调解不成：双方分歧较大。已告知：可向人民法院起诉"
    assert call.fed_back_at == at + timedelta(hours=50)
    row = linkage.linkage_stats(personas.kecheng_dispatcher, **MARCH)[0]
    assert (row.counts.fed_back, row.counts.fed_back_on_time) == (1, 0)  # 49 h after the push
