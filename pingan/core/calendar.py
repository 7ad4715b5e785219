"""Working-day calendar and deadline arithmetic (DOMAIN §3). Every deadline comes from here.

The table ``WorkingDay`` holds one row per date (seeded from chinesecalendar by migration
0002, editable in the admin, extendable with ``pingan import calendar FILE``). A year with
no rows is unknown: asking about it raises ``CalendarUnknownYear``, never a weekends-only guess.

Caching: each process keeps the years it has read in memory. ``invalidate()`` clears them
(called on every WorkingDay save/delete in this process and after an import). Another
process notices an edit within ``CACHE_SECONDS`` (30 s): a year read longer ago than that
is read again from the database (one indexed query of ~365 rows).
"""

from __future__ import annotations

import calendar as _stdcal
import csv
import itertools
import threading
import time as _time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.core.importing import ImportFailed, RowError

# Edits made in another process reach this one within this many seconds.
CACHE_SECONDS = 30.0
# chinesecalendar's English holiday names → the names offices use (as in migration 0002).
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class CalendarUnknownYear(ValueError):
    """The working-day table has no (or incomplete) data for a year."""

    def __init__(self, year: int, missing: date | None = None) -> None:
        self.year = year
        self.missing = missing
        if missing is None:
            message = _(
                "%(year)s 年的工作日历尚未维护，请管理员导入该年的节假日安排（pingan import calendar）"
            ) % {"year": year}
        else:
            message = _("%(year)s 年的工作日历不完整（缺少 %(date)s），请管理员补充") % {
                "year": year,
                "date": missing.isoformat(),
            }
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# The per-process cache: year → (loaded at, {date: is_workday})

_lock = threading.Lock()
_years: dict[int, tuple[float, dict[date, bool]]] = {}


def invalidate() -> None:
    """Forget every cached year (the next question reads the table again)."""
    with _lock:
        _years.clear()


def _load_year(year: int) -> dict[date, bool]:
    from pingan.core.models import WorkingDay

    rows = WorkingDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31))
    return dict(rows.values_list("date", "is_workday"))


def _year(year: int) -> dict[date, bool]:
    now = _time.monotonic()
    cached = _years.get(year)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    days = _load_year(year)
    if not days:
        raise CalendarUnknownYear(year)
    with _lock:
        _years[year] = (now, days)
    return days


def is_workday(d: date) -> bool:
    """Whether offices work on ``d`` (statutory holidays off, 调休 weekends on)."""
    if isinstance(d, datetime):
        d = d.date()
    days = _year(d.year)
    try:
        return days[d]
    except KeyError:
        raise CalendarUnknownYear(d.year, missing=d) from None


def next_workday(d: date) -> date:
    """``d`` itself if it is a working day, otherwise the first working day after it."""
    while not is_workday(d):
        d += timedelta(days=1)
    return d


# ---------------------------------------------------------------------------------------------
# Day arithmetic


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself is not counted; n = 0 → start)."""
    if n < 0:
        raise ValueError("n must not be negative")
    d = start
    while n > 0:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def add_calendar_days(start: date, n: int) -> date:
    """``start`` plus n calendar days (no holiday adjustment; see legal_period_end for that)."""
    return start + timedelta(days=n)


def add_months(start: date, months: int) -> date:
    """Same date n months later, or that month's last day if the date does not exist there."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = _stdcal.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def legal_period_end(
    start: date,
    *,
    days: int | None = None,
    months: int | None = None,
    working_days: int | None = None,
) -> date:
    """Last day of a statutory period that begins on ``start`` (民法典 §201–203).

    Exactly one of ``days``, ``months`` or ``working_days`` is given.
    """
    given = [v for v in (days, months, working_days) if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of days, months, working_days")
    if working_days is not None:
        # A period counted in working days already ends on a working day.
        return add_working_days(start, working_days)
    # 民法典 §201: the first day is not counted, so a period of n days ends on start + n.
    # 民法典 §202: a month period ends on the matching date of the last month, or on that
    # month's last day when the month has no such date.
    end = start + timedelta(days=days) if days is not None else add_months(start, months or 0)
    # 民法典 §203: when the last day is a statutory holiday (or rest day), the period ends
    # on the first day after it that is a working day.
    return next_workday(end)


# ---------------------------------------------------------------------------------------------
# Working hours


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def office_windows(spec: str | None = None) -> list[tuple[time, time]]:
    """Parse OFFICE_HOURS "08:30-12:00,14:00-17:30" into sorted, non-overlapping windows."""
    spec = spec if spec is not None else settings.OFFICE_HOURS
    windows: list[tuple[time, time]] = []
    try:
        for part in spec.split(","):
            opening, closing = (time.fromisoformat(x.strip()) for x in part.split("-"))
            if closing <= opening:
                raise ValueError(part)
            windows.append((opening, closing))
    except ValueError as exc:
        raise ValueError(f"OFFICE_HOURS must look like '08:30-12:00,14:00-17:30', got {spec!r}") from exc
    windows.sort()
    for (_o1, c1), (o2, _c2) in itertools.pairwise(windows):
        if o2 < c1:
            raise ValueError(f"OFFICE_HOURS windows overlap: {spec!r}")
    if not windows:
        raise ValueError("OFFICE_HOURS is empty")
    return windows


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` office hours after ``start``, counted in local time (Asia/Shanghai).

    ``start`` must be aware. A start outside office hours begins counting at the next
    opening; a deadline that uses up a window exactly ends at its closing time.
    Returns an aware datetime in the local zone.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("add_working_hours needs an aware datetime")
    if hours < 0:
        raise ValueError("hours must not be negative")
    zone = local_zone()
    cursor = start.astimezone(zone)
    remaining = timedelta(seconds=round(hours * 3600))
    windows = office_windows()
    day = cursor.date()
    while True:
        if is_workday(day):
            for opening, closing in windows:
                window_start = datetime.combine(day, opening, tzinfo=zone)
                window_end = datetime.combine(day, closing, tzinfo=zone)
                if cursor >= window_end:
                    continue
                begin = max(cursor, window_start)
                available = window_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                cursor = window_end
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0), tzinfo=zone)


# ---------------------------------------------------------------------------------------------
# Import (pingan import calendar FILE)

_COLUMNS = {
    "date": "date",
    "日期": "date",
    "is_workday": "is_workday",
    "是否工作日": "is_workday",
    "工作日": "is_workday",
    "note": "note",
    "说明": "note",
    "备注": "note",
}
_TRUE = {"1", "是", "true", "yes", "y", "t", "工作日"}
_FALSE = {"0", "否", "false", "no", "n", "f", "休息日"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")


@dataclass(frozen=True)
class CalendarRow:
    row: int
    date: date
    is_workday: bool
    note: str


def _read_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(1-based row number, cells) for every row of a CSV or Excel file, header included."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)
        finally:
            workbook.close()
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, values in enumerate(csv.reader(handle), start=1):
            yield number, list(values)


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _parse_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(text)


def _blank(cells: Iterable[Any]) -> bool:
    return all(c is None or str(c).strip() == "" for c in cells)


def parse_calendar_file(path: str | Path) -> list[CalendarRow]:
    """Read and validate every row; raise ImportFailed listing every problem."""
    rows = _read_rows(Path(path))
    header: dict[str, int] = {}
    errors: list[RowError] = []
    parsed: list[CalendarRow] = []
    seen: dict[date, int] = {}
    for number, cells in rows:
        if _blank(cells):
            continue
        if not header:
            for index, cell in enumerate(cells):
                key = _COLUMNS.get(str(cell or "").strip().lower()) or _COLUMNS.get(str(cell or "").strip())
                if key and key not in header:
                    header[key] = index
            missing = [c for c in ("date", "is_workday") if c not in header]
            if missing:
                raise ImportFailed(
                    [
                        RowError(
                            number,
                            _("缺少列: %(cols)s（需要 date,is_workday,note 或 日期,是否工作日,说明）")
                            % {"cols": ", ".join(missing)},
                        )
                    ]
                )
            continue
        row = _parse_row(number, cells, header, errors)
        if row is None:
            continue
        if row.date in seen:
            errors.append(
                RowError(number, _("日期重复（与第 %(row)s 行相同）") % {"row": seen[row.date]}, "date")
            )
            continue
        seen[row.date] = number
        parsed.append(row)
    if not header:
        raise ImportFailed([RowError(0, _("文件为空"))])
    if errors:
        raise ImportFailed(errors)
    return parsed


def _cell(cells: list[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return None
    return cells[index]


def _parse_row(
    number: int, cells: list[Any], header: dict[str, int], errors: list[RowError]
) -> CalendarRow | None:
    raw_date = _cell(cells, header["date"])
    raw_flag = _cell(cells, header["is_workday"])
    note = str(_cell(cells, header.get("note")) or "").strip()
    ok = True
    try:
        day = _parse_date(raw_date)
    except ValueError:
        errors.append(RowError(number, _("日期无效: %(value)s") % {"value": raw_date}, "date"))
        ok = False
    try:
        flag = _parse_flag(raw_flag)
    except ValueError:
        errors.append(
            RowError(
                number,
                _("是否工作日应为 1/0、是/否 或 true/false，而不是 %(value)s") % {"value": raw_flag},
                "is_workday",
            )
        )
        ok = False
    if len(note) > 60:
        errors.append(RowError(number, _("说明不能超过 60 个字"), "note"))
        ok = False
    if not ok:
        return None
    return CalendarRow(number, day, flag, note)


def import_calendar(path: str | Path) -> str:
    """Validate a CSV/Excel calendar file, then upsert all of it in one transaction (audited)."""
    from pingan.core import audit
    from pingan.core.choices import AuditAction
    from pingan.core.models import WorkingDay

    rows = parse_calendar_file(path)
    if not rows:
        raise ImportFailed([RowError(0, _("文件中没有数据行"))])
    objects = [WorkingDay(date=r.date, is_workday=r.is_workday, note=r.note) for r in rows]
    years = sorted({r.date.year for r in rows})
    with transaction.atomic():
        WorkingDay.objects.bulk_create(
            objects,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["date"],
            update_fields=["is_workday", "note"],
        )
        incomplete = _incomplete_years(years)
        audit.record(
            AuditAction.IMPORT,
            detail={"kind": "calendar", "rows": len(rows), "years": years, "incomplete": incomplete},
        )
    invalidate()
    summary = _("工作日历导入 %(n)s 天（%(years)s 年）") % {
        "n": len(rows),
        "years": "、".join(map(str, years)),
    }
    if incomplete:
        summary += _("；注意：%(years)s 年尚不完整") % {"years": "、".join(map(str, incomplete))}
    return summary


def _incomplete_years(years: list[int]) -> list[int]:
    from pingan.core.models import WorkingDay

    result = []
    for year in years:
        expected = 366 if _stdcal.isleap(year) else 365
        have = WorkingDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)).count()
        if have != expected:
            result.append(year)
    return result


def seed_default() -> int:
    """Insert the packaged chinesecalendar days (2004–2026) that the table lacks; return how many.

    Migration 0002 does this on install; this helper restores the default after a test
    run or an operator emptied the table. Rows already present (edited ones) are kept.
    """
    import chinese_calendar

    from pingan.core.models import WorkingDay

    have = set(WorkingDay.objects.values_list("date", flat=True))
    rows = []
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        if day not in have:
            if day in chinese_calendar.workdays:
                rows.append(WorkingDay(date=day, is_workday=True, note="调休" if day.weekday() >= 5 else ""))
            elif day in chinese_calendar.holidays:
                name = chinese_calendar.holidays[day]
                rows.append(WorkingDay(date=day, is_workday=False, note=HOLIDAY_NAMES.get(name, name)))
            else:
                rows.append(WorkingDay(date=day, is_workday=day.weekday() < 5, note=""))
        day += timedelta(days=1)
    WorkingDay.objects.bulk_create(rows, batch_size=1000)
    invalidate()
    return len(rows)


def known_years() -> list[int]:
    """Years that have at least one row in the working-day table."""
    from pingan.core.models import WorkingDay

    return sorted({d.year for d in WorkingDay.objects.dates("date", "year")})
