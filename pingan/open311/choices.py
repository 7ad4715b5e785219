"""Choices of the Open311 GeoReport v2 endpoint: output formats, request statuses, service types."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Format(models.TextChoices):
    """The ``.{format}`` suffix of every GeoReport v2 resource (XML is required, JSON optional)."""

    XML = "xml", "XML"
    JSON = "json", "JSON"


class RequestStatus(models.TextChoices):
    """A service request's status as GeoReport v2 knows it: only open or closed."""

    OPEN = "open", _("处理中")
    CLOSED = "closed", _("已办结")


class ServiceType(models.TextChoices):
    """How a service answers a POST (GeoReport v2 ``type``)."""

    REALTIME = "realtime", _("实时返回编号")  # the service_request_id comes back at once
    BATCH = "batch", _("先返回令牌")  # a token first, the id later through tokens/{token}
    BLACKBOX = "blackbox", _("不返回编号")
