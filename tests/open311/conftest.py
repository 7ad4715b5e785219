"""An Open311 client of 柯城区, the small catalogue with attributes on 暴露垃圾, and HTTP helpers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from pingan.events.catalogue import import_catalogue
from pingan.events.models import Category
from pingan.open311.models import ApiClient
from pingan.open311.services import create_client
from tests.events.conftest import CATALOGUE_CSV, JS_POINT, KC_POINT, OUTSIDE_POINT, local  # noqa: F401

BASE = "/open311/v2"
GARBAGE_FIELDS = [
    {
        "code": "kind",
        "datatype": "singlevaluelist",
        "required": True,
        "description": "垃圾种类",
        "values": [{"key": "household", "name": "生活垃圾"}, {"key": "construction", "name": "建筑垃圾"}],
    },
    {"code": "volume", "datatype": "number", "required": False, "description": "大约方量"},
    {"code": "seen_at", "datatype": "datetime", "required": False, "description": "发现时间"},
    {
        "code": "signs",
        "datatype": "multivaluelist",
        "required": False,
        "description": "现场情形",
        "values": [{"key": "smell", "name": "有异味"}, {"key": "road", "name": "占用道路"}],
    },
    {"code": "notice", "datatype": "text", "variable": False, "description": "请勿将垃圾倒入河道"},
]


@pytest.fixture
def services(db, tmp_path) -> dict[str, Category]:
    """The events tests' catalogue; 暴露垃圾 (0101) has attributes, the others none."""
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUE_CSV, encoding="utf-8")
    import_catalogue(path)
    catalogue = {c.code: c for c in Category.objects.all()}
    garbage = catalogue["0101"]
    garbage.fields = GARBAGE_FIELDS
    garbage.full_clean()
    garbage.save()
    return catalogue


@pytest.fixture
def kecheng_app(tree, services) -> tuple[ApiClient, str]:
    """A 柯城区 client ("柯城随手拍") and its api_key."""
    return create_client(name="柯城随手拍", jurisdiction=tree.kecheng)


def good_report(key: str, **overrides: Any) -> dict[str, Any]:
    """A complete POST requests form for 暴露垃圾 in 柯城区."""
    data: dict[str, Any] = {
        "api_key": key,
        "service_code": "0101",
        "lat": str(KC_POINT[0]),
        "long": str(KC_POINT[1]),
        "description": "府山路口有一堆生活垃圾，三天没人清理",
        "attribute[kind]": "household",
        "first_name": "三",
        "last_name": "张",
        "phone": "13812345678",
        "email": "zhangsan@example.com",
        "media_url": "https://img.example.com/fushan/1.jpg",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(data: dict[str, Any], fmt: str = "json", headers: dict[str, str] | None = None):
    # CSRF checks on, as for a real client: the endpoint authenticates by api_key, not session.
    return Client(enforce_csrf_checks=True).post(
        f"{BASE}/requests.{fmt}",
        data=urlencode(data, doseq=True),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        headers=headers or {},
    )


def get(path: str, **params: Any):
    return Client().get(f"{BASE}/{path}", params)


def body(response) -> Any:
    return json.loads(response.content.decode("utf-8"))


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def error_fields(response) -> list[str]:
    """The parameter each error names ("service_code: …" → "service_code")."""
    return [e["description"].split(":", 1)[0] for e in body(response)]
