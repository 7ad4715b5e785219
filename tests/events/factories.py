"""Event records for tests outside tests/events (the scope matrix)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pingan.accounts.choices import Platform
from pingan.cases.choices import Channel, DeadlineUnit
from pingan.events.models import Category
from pingan.events.services import intake

KC_POINT = (28.95, 118.85)


def kecheng_events(actor: Any) -> dict[str, int]:
    """Two open 柯城 events of one category (the second can be merged into the first)."""
    major, _ = Category.objects.get_or_create(
        code="01", defaults={"name": "市容环境", "platform": Platform.JIANGUAN}
    )
    category, _ = Category.objects.get_or_create(
        code="0101",
        defaults={
            "name": "暴露垃圾", "parent": major, "deadline_unit": DeadlineUnit.WORKING_DAYS,
            "deadline_amount": Decimal(1),
        },
    )  # fmt: skip
    ids = []
    for title in ("柯城府山路暴露垃圾", "柯城府山路暴露垃圾无人清理"):
        case, _created = intake(
            actor=actor,
            channel=Channel.HOTLINE,
            category=category,
            title=title,
            lat=KC_POINT[0],
            lon=KC_POINT[1],
        )
        ids.append(case.pk)
    return {"event": ids[1], "event2": ids[0]}
