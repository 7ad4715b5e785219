"""Intake from every channel: place → grid, category → deadline, requester sealed, retries harmless."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from pingan.accounts.choices import Role
from pingan.cases.choices import Action, Channel, DeadlineUnit, Status, Tier
from pingan.cases.models import Attachment, Case, Step
from pingan.cases.services import transition
from pingan.events.models import Category, Event, IdempotencyKey
from pingan.events.services import intake
from pingan.geo.coords import from_wgs84
from pingan.people.models import Person
from pingan.people.services import create_person
from tests.conftest import make_user
from tests.events.conftest import KC_POINT, OUTSIDE_POINT, local


def _field(exc: pytest.ExceptionInfo) -> set[str]:
    return set(exc.value.error_dict)


@pytest.mark.parametrize(
    ("channel", "persona"),
    [
        (Channel.HOTLINE, "kecheng_dispatcher"),
        (Channel.CITIZEN, "kecheng_dispatcher"),
        (Channel.POLICE_110, "kecheng_dispatcher"),
        (Channel.INSPECTION, "city_leader"),
        (Channel.FEDERATION, "kecheng_dispatcher"),
        (Channel.GRID, "kecheng_grid_worker"),
    ],
)
def test_intake_from_each_channel_registers_an_event_in_the_grid(report, personas, tree, channel, persona):
    case = report(actor=getattr(personas, persona), channel=channel, channel_ref="GD20261123-0042")
    assert case.kind == "event" and case.channel == channel
    assert case.status == Status.REGISTERED
    assert case.jurisdiction == tree.kecheng_grid and case.area_code == "330802001001001"
    assert case.number.startswith("330802-20261123-")
    event = Event.objects.get(case=case)
    assert event.category.code == "0101" and event.channel_ref == "GD20261123-0042" and not event.on_spot
    assert list(Step.objects.filter(case=case).values_list("action", flat=True)) == [Action.REGISTER]


def test_grid_worker_solving_on_the_spot_closes_at_once(report, personas):
    at = local(2026, 11, 23, 10, 15)
    case = report(actor=personas.kecheng_grid_worker, channel=Channel.GRID, solved_on_spot=True, at=at)
    assert case.status == Status.CLOSED and case.closed_at == at and case.handled_at == at
    assert case.tier == Tier.VILLAGE
    assert Event.objects.get(case=case).on_spot is True
    step = Step.objects.get(case=case)
    assert (step.action, step.from_status, step.to_status) == (Action.SOLVE_ON_SPOT, "", Status.CLOSED)


def test_only_grid_reports_can_be_solved_on_the_spot(report):
    with pytest.raises(ValidationError) as caught:
        report(channel=Channel.HOTLINE, solved_on_spot=True)
    assert _field(caught) == {"solved_on_spot"}


def test_grid_channel_belongs_to_grid_workers(report, personas):
    with pytest.raises(ValidationError) as caught:
        report(channel=Channel.GRID)  # the hotline seat
    assert _field(caught) == {"channel"}
    with pytest.raises(ValidationError) as caught:
        report(actor=personas.kecheng_grid_worker, channel=Channel.HOTLINE)
    assert _field(caught) == {"channel"}


def test_handler_cannot_file_events(report, personas):
    with pytest.raises(PermissionDenied):
        report(actor=personas.kecheng_handler)


def test_deadline_comes_from_the_category(report, personas, units):
    building = report(category="0401", title="违法搭建彩钢棚")
    assert (building.deadline_unit, building.deadline_amount) == (DeadlineUnit.WORKING_DAYS, 15)
    gas = report(category="0603", title="楼道燃气味很重")
    assert (gas.deadline_unit, gas.deadline_amount) == (DeadlineUnit.URGENT_HOURS, 2)
    transition(
        gas,
        Action.DISPATCH,
        actor=personas.kecheng_dispatcher,
        unit=units.kecheng_platform,
        at=local(2026, 11, 23, 9, 30),
    )
    assert gas.deadline_at == local(2026, 11, 23, 11, 30)
    # Monday 2026-11-23 + 15 working days → Monday 2026-12-14, end of day.
    transition(
        building,
        Action.DISPATCH,
        actor=personas.kecheng_dispatcher,
        unit=units.kecheng_platform,
        at=local(2026, 11, 23, 9, 30),
    )
    assert building.deadline_at == local(2026, 12, 14, 23, 59, 59)


def test_location_outside_every_grid_is_refused_with_a_clear_message(report):
    with pytest.raises(ValidationError) as caught:
        report(lat=OUTSIDE_POINT[0], lon=OUTSIDE_POINT[1])
    assert _field(caught) == {"location"}
    assert "不在本平台的任何网格内" in caught.value.error_dict["location"][0].message
    assert Case.objects.count() == 0


def test_bad_coordinates_name_the_field(report):
    with pytest.raises(ValidationError) as caught:
        report(lat=128.0)
    assert _field(caught) == {"lat"}
    with pytest.raises(ValidationError) as caught:
        report(lat=None)
    assert _field(caught) == {"lat"}
    with pytest.raises(ValidationError) as caught:
        report(crs="mars")
    assert _field(caught) == {"crs"}


def test_gcj02_point_is_stored_in_wgs84(report, tree):
    lat, lon = from_wgs84(*KC_POINT, "gcj02")
    case = report(lat=lat, lon=lon, crs="gcj02")
    assert case.jurisdiction == tree.kecheng_grid
    assert case.lat == pytest.approx(KC_POINT[0], abs=1e-5) and case.lon == pytest.approx(
        KC_POINT[1], abs=1e-5
    )


def test_location_in_another_county_is_outside_the_actors_scope(report):
    with pytest.raises(ValidationError) as caught:
        report(lat=28.65, lon=118.55)  # 江山市, reported by the 柯城 seat
    assert _field(caught) == {"location"}
    assert "管辖范围" in caught.value.error_dict["location"][0].message


def test_address_only_locates_the_township(report, tree):
    case = report(lat=None, lon=None, address="浙江省衢州市柯城区信安街道府山路12号")
    assert case.jurisdiction == tree.kecheng_township and case.lat is None


def test_grid_worker_without_position_reports_in_own_grid(report, personas, tree):
    case = report(
        actor=personas.kecheng_grid_worker, channel=Channel.GRID, lat=None, lon=None, address="菜场东门"
    )
    assert case.jurisdiction == tree.kecheng_grid


def test_seat_without_position_or_known_address_is_asked_for_one(report):
    with pytest.raises(ValidationError) as caught:
        report(lat=None, lon=None, address="菜场东门")
    assert _field(caught) == {"location"}


@pytest.mark.parametrize("code", ["9999", "01", "0106-off"])
def test_unknown_major_or_inactive_category_is_refused(report, catalogue, code):
    if code == "0106-off":
        Category.objects.filter(code="0106").update(active=False)
        code = "0106"
    with pytest.raises(ValidationError) as caught:
        report(category=code)
    assert _field(caught) == {"category"}
    assert Case.objects.count() == 0


def test_category_under_an_inactive_major_is_refused(report):
    Category.objects.filter(code="01").update(active=False)
    with pytest.raises(ValidationError) as caught:
        report(category="0101")
    assert "已停用" in caught.value.error_dict["category"][0].message


def test_every_input_problem_is_reported_at_once(report):
    with pytest.raises(ValidationError) as caught:
        report(channel="fax", category="9999", photos=[SimpleUploadedFile("a.exe", b"x")])
    assert _field(caught) == {"channel", "category", "photos"}


def test_requester_is_found_by_phone_or_registered_sealed(report, personas, tree):
    known = create_person(personas.admin, name="王芳", phone="13812345678", jurisdiction=tree.kecheng_village)
    case = report(requester_name="王芳", requester_phone="138 1234 5678")
    assert case.requester == known and Person.objects.count() == 1
    new = report(requester_name="李强", requester_phone="13900001111")
    person = new.requester
    assert person.pk != known.pk and person.name == "李强" and person.phone == "+8613900001111"
    assert person.jurisdiction == tree.kecheng_grid
    # Nothing personal on the event or the case's text fields.
    event = Event.objects.get(case=new)
    assert "13900001111" not in f"{event.channel_ref}{new.title}{new.description}{new.data}"


def test_requester_errors_name_the_requester_fields(report):
    with pytest.raises(ValidationError) as caught:
        report(requester_name="李强", requester_phone="123")
    assert _field(caught) == {"requester_phone"}
    with pytest.raises(ValidationError) as caught:
        report(requester_phone="13900001111")
    assert _field(caught) == {"requester_name"}


def test_photos_are_attached_to_the_register_step(report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = report(photos=[SimpleUploadedFile("scene.jpg", b"\xff\xd8\xff", content_type="image/jpeg")])
    attachment = Attachment.objects.get(step__case=case)
    assert (
        attachment.step.action == Action.REGISTER and attachment.name == "scene.jpg" and attachment.size == 3
    )


def test_idempotent_retry_returns_the_same_case_and_creates_one(catalogue, personas):
    values = {
        "actor": personas.kecheng_dispatcher,
        "channel": Channel.HOTLINE,
        "category": "0101",
        "title": "暴露垃圾",
        "lat": KC_POINT[0],
        "lon": KC_POINT[1],
        "requester_name": "王芳",
        "requester_phone": "13812345678",
        "idempotency_key": "call-20261123-0001",
    }
    first, created = intake(**values)
    again, created_again = intake(**values)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Case.objects.count() == 1 and Person.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    with pytest.raises(ValidationError) as caught:
        intake(**{**values, "title": "另一件事"})
    assert set(caught.value.error_dict) == {"Idempotency-Key"}
    assert Case.objects.count() == 1


def test_same_key_from_two_users_makes_two_cases(catalogue, personas, tree):
    other_seat = make_user("kc_seat2", Role.DISPATCHER, tree.kecheng)
    values = {
        "channel": Channel.HOTLINE,
        "category": "0101",
        "title": "暴露垃圾",
        "lat": KC_POINT[0],
        "lon": KC_POINT[1],
        "idempotency_key": "1",
    }
    first, _ = intake(actor=personas.kecheng_dispatcher, **values)
    second, created = intake(actor=other_seat, **values)
    assert created and first.pk != second.pk


def test_concurrent_retry_losing_the_race_answers_with_the_winners_case(catalogue, personas):
    """Two requests with one key pass the lookup together; the unique key settles it."""
    values = {
        "actor": personas.kecheng_dispatcher,
        "channel": Channel.HOTLINE,
        "category": "0101",
        "title": "暴露垃圾",
        "lat": KC_POINT[0],
        "lon": KC_POINT[1],
        "idempotency_key": "k-1",
    }
    winner, _ = intake(**values)
    real_filter = IdempotencyKey.objects.filter
    calls = {"n": 0}

    def blind_first_lookup(*args, **kwargs):
        calls["n"] += 1
        return IdempotencyKey.objects.none() if calls["n"] == 1 else real_filter(*args, **kwargs)

    with mock.patch.object(IdempotencyKey.objects, "filter", side_effect=blind_first_lookup):
        loser, created = intake(**values)
    assert created is False and loser.pk == winner.pk
    assert Case.objects.count() == 1 and Event.objects.count() == 1


def test_blank_or_overlong_idempotency_key_is_refused(report):
    for key in ("  ", "k" * 101):
        with pytest.raises(ValidationError) as caught:
            report(idempotency_key=key)
        assert set(caught.value.error_dict) == {"Idempotency-Key"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)")
def test_concurrent_retries_on_postgresql_make_one_case(transactional_db, catalogue, personas):
    values = {
        "actor": personas.kecheng_dispatcher,
        "channel": Channel.HOTLINE,
        "category": "0101",
        "title": "暴露垃圾",
        "lat": KC_POINT[0],
        "lon": KC_POINT[1],
        "idempotency_key": "burst-1",
    }
    barrier = threading.Barrier(4)
    results: list[tuple[int, bool]] = []

    def retry() -> None:
        try:
            barrier.wait()
            case, created = intake(**values)
            results.append((case.pk, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len({pk for pk, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Case.objects.count() == 1
