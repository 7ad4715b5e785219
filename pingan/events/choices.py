"""Choices of the events app: catalogue attribute types and where a unit suggestion came from."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FieldDatatype(models.TextChoices):
    """Datatypes of a category's extra attributes (Open311 GeoReport v2 service definitions)."""

    STRING = "string", _("单行文本")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文本")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


LIST_DATATYPES = (FieldDatatype.SINGLEVALUELIST, FieldDatatype.MULTIVALUELIST)


class SuggestionSource(models.TextChoices):
    """Why the dispatch desk suggests a unit (pingan.events.routing)."""

    LEARNED = "learned", _("按分拨习惯")  # the unit dispatchers chose most often here
    RULE = "rule", _("分拨规则")
    DEFAULT_UNIT = "default_unit", _("类型默认单位")
    PLATFORM = "platform", _("乡镇(街道)平台")
    NONE = "none", _("无建议")
