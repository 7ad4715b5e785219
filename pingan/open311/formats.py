"""GeoReport v2 output: the same data as XML (required by the spec) or JSON, and the error list.

The spec's JSON is a programmatic mapping of its XML (the "Spark convention"): a list element
(``<services>``) becomes a JSON array of its children (``<service>``), a leaf becomes a value,
an empty leaf ``null``. So each resource is built once as Python data and written either way;
``LIST_ITEMS`` names the child element of every list element of the spec.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.open311.choices import Format

# GeoReport v2 / Service Discovery element names: list element → its items' element.
LIST_ITEMS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
CONTENT_TYPES = {Format.XML: "text/xml; charset=utf-8", Format.JSON: "application/json; charset=utf-8"}
# Encoding section of the spec: "the root element must be preceded with the XML declaration
# including the encoding="UTF-8" attribute" (ElementTree's own declaration uses single quotes).
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class Open311Error(Exception):
    """A refused request: the HTTP status and the spec's error list [(code, description)].

    Statuses per the spec's Errors section: 404 for a resource that does not exist, 403 for a
    missing or invalid api_key, 400 for any other request that cannot be fulfilled.
    """

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.errors = [(status, d) for d in descriptions]


def parse_format(value: str) -> Format:
    """The ``{format}`` of the URL; anything but xml/json is a resource that does not exist."""
    try:
        return Format(value)
    except ValueError:
        message = _("不支持的格式「%(value)s」，请使用 .xml 或 .json") % {"value": value[:20]}
        raise Open311Error(404, field_error("format", message)) from None


def field_error(field: str, message: Any) -> str:
    """An error description that names the parameter first: "service_code: …"."""
    return f"{field}: {message}"


def w3c(value: datetime | None) -> str | None:
    """A W3C-DTF datetime with its offset (spec: timezone information must be included)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def render(fmt: Format, root: str, data: Any, status: int = 200) -> HttpResponse:
    """``data`` (a list or a dict) as the resource ``root`` in ``fmt``."""
    if fmt == Format.JSON:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    else:
        element = _element(root, data)
        body = XML_DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def render_errors(fmt: Format, status: int, errors: Iterable[tuple[int, str]]) -> HttpResponse:
    """The spec's error response: a list of {code, description}, with the HTTP status."""
    data = [{"code": code, "description": description} for code, description in errors]
    return render(fmt, "errors", data, status=status)


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, list | tuple):
        item_tag = LIST_ITEMS[tag]
        for item in value:
            element.append(_element(item_tag, item))
    elif value is not None:
        element.text = _text(value)
    return element


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
