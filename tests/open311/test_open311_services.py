"""GeoReport v2 discovery, service list and service definitions, in JSON and XML."""

from __future__ import annotations

import pytest

from tests.open311.conftest import BASE, body, error_fields, get, xml

SERVICE_ELEMENTS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_ELEMENTS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]


def test_discovery_json_names_the_v2_endpoint_and_both_formats(services):
    response = get("discovery.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = body(response)
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    assert "open311_client" in data["key_service"]
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "test"  # not PINGAN_PRODUCTION
    assert endpoint["formats"] == ["text/xml", "application/json"]
    # The changeset is the catalogue's last change, a W3C datetime with its offset.
    assert endpoint["changeset"] == data["changeset"] and data["changeset"].endswith("+08:00")


def test_discovery_xml_uses_the_spec_element_names(services):
    root = xml(get("discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


def test_service_list_has_every_usable_subcategory_with_string_codes(services):
    services["0106"].active = False
    services["0106"].save()
    data = body(get("services.json"))
    assert [s["service_code"] for s in data] == ["0101", "0401", "0603"]
    garbage = data[0]
    assert garbage == {
        "service_code": "0101",
        "service_name": "暴露垃圾",
        "description": "公共区域有可见垃圾",
        "metadata": True,
        "type": "realtime",
        "keywords": "市容环境, 暴露垃圾, 监管执法",
        "group": "市容环境",
    }
    assert [s["metadata"] for s in data] == [True, False, False]


def test_service_list_xml_has_one_service_element_per_service(services):
    root = xml(get("services.xml"))
    assert root.tag == "services"
    assert [s.tag for s in root] == ["service"] * 4
    first = root[0]
    assert [c.tag for c in first] == SERVICE_ELEMENTS
    assert first.findtext("service_code") == "0101" and first.findtext("metadata") == "true"
    assert root[1].findtext("metadata") == "false"


def test_service_definition_lists_the_category_fields_as_attributes(services):
    response = get("services/0101.json")
    assert response.status_code == 200
    data = body(response)
    assert data["service_code"] == "0101"
    kind, volume, seen_at, signs, notice = data["attributes"]
    assert kind == {
        "variable": True,
        "code": "kind",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": "单选",
        "order": 1,
        "description": "垃圾种类",
        "values": [{"key": "household", "name": "生活垃圾"}, {"key": "construction", "name": "建筑垃圾"}],
    }
    assert (volume["datatype"], volume["required"], volume["order"], "values" in volume) == (
        "number",
        False,
        2,
        False,
    )
    assert seen_at["datatype"] == "datetime" and signs["datatype"] == "multivaluelist"
    assert notice["variable"] is False and notice["order"] == 5


def test_service_definition_xml_nests_values(services):
    root = xml(get("services/0101.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "0101"
    attributes = root.findall("attributes/attribute")
    assert len(attributes) == 5
    assert [c.tag for c in attributes[0]] == [*ATTRIBUTE_ELEMENTS, "values"]
    values = attributes[0].findall("values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [
        ("household", "生活垃圾"),
        ("construction", "建筑垃圾"),
    ]


def test_service_without_fields_has_an_empty_attribute_list(services):
    assert body(get("services/0401.json")) == {"service_code": "0401", "attributes": []}


@pytest.mark.parametrize("code", ["9999", "01"])  # unknown, and a 大类 (no request can be filed under it)
def test_unknown_service_code_is_404_with_the_spec_error_list(services, code):
    response = get(f"services/{code}.json")
    assert response.status_code == 404
    (error,) = body(response)
    assert error["code"] == 404 and error["description"].startswith("service_code: ")


def test_unknown_format_is_404_with_an_xml_error(services):
    response = get("services.html")
    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert root.findtext("error/description").startswith("format: ")


def test_jurisdiction_id_must_be_a_code_of_this_installation(services, tree):
    assert get("services.json", jurisdiction_id="330881").status_code == 200
    assert get("services.json", jurisdiction_id="").status_code == 200  # empty = absent
    response = get("services.json", jurisdiction_id="341000")  # 黄山: another installation
    assert response.status_code == 404
    assert error_fields(response) == ["jurisdiction_id"]


def test_wrong_method_is_refused_with_an_error_list(services, client):
    response = client.delete(f"{BASE}/services.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert error_fields(response) == ["method"]
    assert client.put(f"{BASE}/requests.json").status_code == 405


def test_server_fault_is_500_with_an_error_list_and_logged(services, monkeypatch, caplog):
    from pingan.open311 import georeport

    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(georeport, "services_queryset", broken)
    response = get("services.xml")
    assert response.status_code == 500
    assert xml(response).findtext("error/code") == "500"
    assert "database went away" not in response.content.decode()
    assert "database went away" in caplog.text
