"""Deadlines of cases, from the core calendar and from nowhere else (ARCHITECTURE principle 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings

from pingan.cases.choices import DeadlineUnit
from pingan.core import calendar


@dataclass(frozen=True)
class Clock:
    """When the responsible unit's time runs out, and when warnings and red cards fall due."""

    deadline: datetime
    warn_at: datetime
    red_at: datetime


def deadline_after(start: datetime, unit: str, amount: Decimal | float | int) -> datetime:
    """The deadline of a policy ``amount`` × ``unit`` counted from ``start`` (aware).

    Working days and calendar days end at the end of the last day (local time): "within 3
    working days" of a Friday-afternoon dispatch means by the end of Wednesday.
    """
    amount = Decimal(amount)
    if unit == DeadlineUnit.URGENT_HOURS:
        return start + timedelta(hours=float(amount))
    if unit == DeadlineUnit.WORKING_HOURS:
        return calendar.add_working_hours(start, float(amount))
    local = start.astimezone(calendar.local_zone())
    if unit == DeadlineUnit.WORKING_DAYS:
        last_day = calendar.add_working_days(local.date(), int(amount))
    elif unit == DeadlineUnit.CALENDAR_DAYS:
        last_day = calendar.add_calendar_days(local.date(), int(amount))
    else:
        raise ValueError(f"unknown deadline unit {unit!r}")
    return datetime.combine(last_day, time(23, 59, 59), tzinfo=calendar.local_zone())


def clock(start: datetime, unit: str, amount: Decimal | float | int) -> Clock:
    """Deadline plus the warning (a share of the allowed time) and red-card moments."""
    deadline = deadline_after(start, unit, amount)
    allowed = deadline - start
    return Clock(
        deadline=deadline,
        warn_at=start + allowed * settings.CASE_WARN_SHARE,
        red_at=deadline + allowed * settings.CASE_RED_SHARE,
    )


def extended(current: datetime, unit: str, amount: Decimal | float | int) -> datetime:
    """A deadline moved on by an approved extension (延期) of ``amount`` × ``unit``."""
    return deadline_after(current, unit, amount)
