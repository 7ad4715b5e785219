"""The event report page (/events/report/): phone-first intake through services.intake.

A grid worker reports with the phone's position (WGS-84) and photos; a double tap (the same
idempotency key twice) files one case; errors come back beside their fields with what was
typed kept; the requester's personal data is masked on the case page.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pingan.cases.choices import Channel, Status
from pingan.cases.models import Attachment, Case
from pingan.events.models import Event
from tests.conftest import login
from tests.events.conftest import JS_POINT, KC_POINT, OUTSIDE_POINT

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
URL = "/events/report/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def form_data(**changes):
    data = {
        "category": "0101",
        "title": "府山路口暴露垃圾",
        "description": "垃圾堆放两天，有异味",
        "lat": str(KC_POINT[0]),
        "lon": str(KC_POINT[1]),
        "crs": "wgs84",
        "address": "",
        "idempotency_key": "k-0001",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def html(response) -> str:
    return response.content.decode()


def test_the_form_for_a_grid_worker_has_camera_position_and_on_spot(catalogue, personas):
    response = login(personas.kecheng_grid_worker).get(URL)
    body = html(response)
    assert response.status_code == 200
    assert re.search(
        r'<input type="file"[^>]*name="photos"[^>]*accept="image/\*"[^>]*capture="environment"', body
    )
    assert "使用当前位置" in body and 'name="lat"' in body and 'name="crs"' in body
    assert 'name="solved_on_spot"' in body and 'name="channel"' not in body
    assert '<optgroup label="市容环境">' in body and '<option value="0101">暴露垃圾</option>' in body
    assert '<option value="01">' not in body  # a 大类 cannot be chosen
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', body)
    assert key is not None
    assert key.group(1) not in html(login(personas.kecheng_grid_worker).get(URL))  # a new key per page


def test_the_form_for_the_desk_has_channel_and_no_on_spot(catalogue, personas):
    body = html(login(personas.kecheng_dispatcher).get(URL))
    assert 'name="channel"' in body and '<option value="hotline"' in body and 'value="grid"' not in body
    assert 'name="solved_on_spot"' not in body
    assert 'name="requester_name"' in body and 'name="requester_phone"' in body


def test_roles_that_do_not_report_are_refused(catalogue, personas):
    assert login(personas.kecheng_handler).get(URL).status_code == 403
    assert login(personas.kecheng_handler).post(URL, form_data()).status_code == 403
    assert login(None).get(URL).status_code == 302  # to the login page


def test_grid_worker_reports_with_position_and_photo(catalogue, personas, tree):
    photo = SimpleUploadedFile("scene.png", PNG, content_type="image/png")
    client = login(personas.kecheng_grid_worker)
    response = client.post(URL, {**form_data(), "photos": photo})
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('cases:detail', args=[case.pk])}?reported=1"
    assert case.channel == Channel.GRID and case.status == Status.REGISTERED
    assert case.jurisdiction == tree.kecheng_grid and (case.lat, case.lon) == KC_POINT
    assert case.reporter == personas.kecheng_grid_worker
    assert Event.objects.get(case=case).category.code == "0101"
    assert Attachment.objects.get(step__case=case).name == "scene.png"
    page = html(client.get(response["Location"]))
    assert f"已上报，案件编号 {case.number}" in page and "data-clear-draft" in page
    assert "<img src=" in page  # the photo on the case page


def test_a_double_tap_files_one_case(catalogue, personas):
    client = login(personas.kecheng_grid_worker)
    first = client.post(URL, form_data(idempotency_key="tap-1"))
    second = client.post(URL, form_data(idempotency_key="tap-1"))
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]
    page = html(client.get(second["Location"]))
    assert "该事件已上报过（重复提交已忽略）" in page


def test_the_same_key_with_other_content_asks_before_filing_again(catalogue, personas):
    client = login(personas.kecheng_grid_worker)
    client.post(URL, form_data(idempotency_key="tap-2"))
    response = client.post(URL, form_data(idempotency_key="tap-2", title="另一件事"))
    body = html(response)
    assert response.status_code == 200 and Case.objects.count() == 1
    assert "这张表单已经提交过" in body
    assert 'value="另一件事"' in body and 'name="idempotency_key" value="tap-2"' not in body


def test_solved_on_spot_closes_the_case_at_once(catalogue, personas):
    login(personas.kecheng_grid_worker).post(URL, form_data(solved_on_spot="on"))
    case = Case.objects.get()
    assert case.status == Status.CLOSED and Event.objects.get(case=case).on_spot is True


def test_without_position_a_grid_worker_reports_in_their_grid(catalogue, personas, tree):
    login(personas.kecheng_grid_worker).post(URL, form_data(lat="", lon=""))
    case = Case.objects.get()
    assert case.jurisdiction == tree.kecheng_grid and case.lat is None


def test_errors_beside_fields_keep_what_was_typed(catalogue, personas):
    response = login(personas.kecheng_grid_worker).post(
        URL, form_data(title="", description="井盖缺失，很危险")
    )
    body = html(response)
    assert response.status_code == 200 and Case.objects.count() == 0
    assert "这个字段是必填项" in body or "必填" in body
    assert "井盖缺失，很危险</textarea>" in body
    assert '<option value="0101" selected>' in body


def test_a_position_outside_the_grid_is_reported_at_the_position_block(catalogue, personas):
    for point in (OUTSIDE_POINT, JS_POINT):
        response = login(personas.kecheng_grid_worker).post(
            URL, form_data(lat=str(point[0]), lon=str(point[1]))
        )
        body = html(response)
        assert response.status_code == 200
        assert "不在本平台的任何网格内" in body or "不在您的管辖范围内" in body
        assert 'value="府山路口暴露垃圾"' in body
    assert Case.objects.count() == 0


def test_a_file_that_is_not_a_photo_is_refused(catalogue, personas):
    bad = SimpleUploadedFile("notes.exe", b"MZ....", content_type="application/octet-stream")
    response = login(personas.kecheng_grid_worker).post(URL, {**form_data(), "photos": bad})
    body = html(response)
    assert response.status_code == 200 and Case.objects.count() == 0
    assert "照片须为 jpg、png、webp、heic 或 gif" in body and "出错后照片需要重新选择" in body


def test_hotline_intake_with_requester_shows_it_masked(catalogue, personas):
    client = login(personas.kecheng_dispatcher)
    response = client.post(
        URL,
        form_data(
            channel="hotline",
            channel_ref="12345-0001",
            requester_name="柯城王五",
            requester_phone="13900002222",
        ),
    )
    case = Case.objects.get()
    assert case.channel == Channel.HOTLINE and case.requester is not None
    page = html(client.get(response["Location"]))
    assert "柯城王五" not in page and "13900002222" not in page and "139****2222" in page
    assert "12345-0001" in page


def test_a_grid_worker_cannot_post_another_channel(catalogue, personas):
    login(personas.kecheng_grid_worker).post(URL, form_data(channel="hotline"))
    assert Case.objects.get().channel == Channel.GRID  # the page files grid workers as 网格员上报
