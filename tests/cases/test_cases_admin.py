"""The case admin is read-only: lists and shows cases with their timeline, never changes them."""

from __future__ import annotations

from pingan.cases.choices import Action
from pingan.cases.models import Case, Step
from pingan.cases.services import transition
from pingan.people.services import create_person
from tests.cases.conftest import local
from tests.conftest import login


def test_changelist_searches_by_number_prefix_and_title(new_case, personas):
    first = new_case(at=local(2026, 11, 23, 9, 0))
    second = new_case(at=local(2026, 11, 24, 9, 0))
    Case.objects.filter(pk=second.pk).update(title="井盖缺失")
    client = login(personas.admin)
    by_number = client.get("/admin/cases/case/", {"q": "330802-20261123"}).content.decode()
    assert first.number in by_number and second.number not in by_number
    by_title = client.get("/admin/cases/case/", {"q": "井盖"}).content.decode()
    assert second.number in by_title and first.number not in by_title


def test_changelist_filters_by_status(new_case, actors, units, personas):
    waiting = new_case()
    sent = new_case()
    transition(sent, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police,
               at=local(2026, 11, 23, 9, 30))  # fmt: skip
    page = login(personas.admin).get("/admin/cases/case/", {"status__exact": "dispatched"}).content.decode()
    assert sent.number in page and waiting.number not in page
    assert "柯城区公安分局" in page


def test_case_page_shows_the_timeline_read_only_and_the_requester_masked(
    new_case, actors, units, personas, tree
):
    person = create_person(
        personas.admin, name="柯城张三", phone="13812345678", jurisdiction=tree.kecheng_village
    )
    case = new_case(requester=person)
    transition(case, Action.DISPATCH, actor=actors["dispatcher"], unit=units.kecheng_police, note="请核实",
               at=local(2026, 11, 23, 9, 30))  # fmt: skip
    response = login(personas.admin).get(f"/admin/cases/case/{case.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "请核实" in page and "派遣" in page and "柯***" in page
    assert "张三" not in page and "13812345678" not in page
    assert 'name="_save"' not in page and "steps-0-DELETE" not in page


def test_nothing_can_be_added_changed_or_deleted(new_case, personas):
    case = new_case()
    client = login(personas.admin)
    assert client.get("/admin/cases/case/add/").status_code == 403
    assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/cases/case/{case.pk}/change/", {"title": "改过"})
    assert Case.objects.get(pk=case.pk).title == "占道经营"
    assert Step.objects.filter(case=case).count() == 1
