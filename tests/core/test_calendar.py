"""Working-day calendar and legal periods (DOMAIN §3, 民法典 §201–203) on the seeded 2004–2026 data."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from pingan.core import calendar
from pingan.core.calendar import (
    CalendarUnknownYear,
    add_calendar_days,
    add_working_days,
    add_working_hours,
    import_calendar,
    is_workday,
    legal_period_end,
)
from pingan.core.choices import AuditAction
from pingan.core.importing import ImportFailed
from pingan.core.models import AuditEntry, WorkingDay

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    calendar.invalidate()
    yield
    calendar.invalidate()


def test_seed_covers_2004_to_2026_with_notes():
    assert WorkingDay.objects.filter(date__year=2004).count() == 366
    assert WorkingDay.objects.filter(date__year=2026).count() == 365
    assert WorkingDay.objects.get(date=date(2026, 10, 1)).note == "国庆节"
    assert WorkingDay.objects.get(date=date(2026, 2, 17)).note == "春节"
    # 调休: weekend days that are working days.
    assert WorkingDay.objects.get(date=date(2026, 10, 10)).note == "调休"
    assert WorkingDay.objects.get(date=date(2026, 9, 20)).note == "调休"


def test_national_day_2026_is_seven_days_off_with_adjusted_weekends():
    for day in range(1, 8):
        assert not is_workday(date(2026, 10, day))
    assert is_workday(date(2026, 10, 8))
    # 2026 schedule: Sunday 9-20 and Saturday 10-10 are working days (调休).
    assert is_workday(date(2026, 9, 20))
    assert is_workday(date(2026, 10, 10))
    assert not is_workday(date(2026, 10, 11))  # an ordinary Sunday


def test_fifteen_day_period_ending_in_national_day_moves_to_next_working_day():
    # 9-20 + 15 days = 10-05 (the first day is not counted), a holiday → 10-08.
    assert legal_period_end(date(2026, 9, 20), days=15) == date(2026, 10, 8)


def test_day_period_ending_on_a_working_day_is_unchanged():
    assert legal_period_end(date(2026, 3, 2), days=10) == date(2026, 3, 12)


def test_month_period_ends_on_last_day_of_a_short_month():
    # 民法典 §202: no 2-31, so the month's last day; 2026-02-28 is a 调休 Saturday (working).
    assert legal_period_end(date(2026, 1, 31), months=1) == date(2026, 2, 28)
    assert legal_period_end(date(2024, 1, 31), months=1) == date(2024, 2, 29)


def test_month_period_ending_on_a_holiday_moves_on():
    # 2026-09-01 + 1 month = 10-01 (National Day) → 10-08.
    assert legal_period_end(date(2026, 9, 1), months=1) == date(2026, 10, 8)


def test_working_day_period():
    assert legal_period_end(date(2026, 9, 30), working_days=1) == date(2026, 10, 8)


def test_legal_period_needs_exactly_one_unit():
    with pytest.raises(ValueError):
        legal_period_end(date(2026, 1, 5))
    with pytest.raises(ValueError):
        legal_period_end(date(2026, 1, 5), days=1, months=1)


def test_add_working_days_over_spring_festival_2026():
    # 2-14 (Saturday) is a 调休 working day; 2-15..2-23 are the holiday.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 16), 0) == date(2026, 2, 16)


def test_add_calendar_days():
    assert add_calendar_days(date(2026, 12, 25), 10) == date(2027, 1, 4)


def test_working_hours_roll_over_the_weekend():
    # Friday 16:30 + 3 h: 1 h to 17:30, then Monday 08:30 + 2 h.
    start = datetime(2026, 11, 27, 16, 30, tzinfo=SH)
    assert add_working_hours(start, 3) == datetime(2026, 11, 30, 10, 30, tzinfo=SH)


def test_working_hours_from_utc_are_computed_in_local_time():
    start = datetime(2026, 11, 27, 8, 30, tzinfo=ZoneInfo("UTC"))  # 16:30 in Shanghai
    result = add_working_hours(start, 3)
    assert result == datetime(2026, 11, 30, 10, 30, tzinfo=SH)
    assert result.utcoffset() is not None


def test_working_hours_starting_at_lunch_begin_at_14_00():
    assert add_working_hours(datetime(2026, 11, 26, 12, 30, tzinfo=SH), 2) == datetime(
        2026, 11, 26, 16, 0, tzinfo=SH
    )
    assert add_working_hours(datetime(2026, 11, 26, 11, 0, tzinfo=SH), 2) == datetime(
        2026, 11, 26, 15, 0, tzinfo=SH
    )


def test_working_hours_outside_office_hours_start_at_next_opening():
    assert add_working_hours(datetime(2026, 11, 26, 7, 0, tzinfo=SH), 1) == datetime(
        2026, 11, 26, 9, 30, tzinfo=SH
    )
    assert add_working_hours(datetime(2026, 11, 27, 18, 0, tzinfo=SH), 1) == datetime(
        2026, 11, 30, 9, 30, tzinfo=SH
    )
    # National Day: the clock stands still until 10-08.
    assert add_working_hours(datetime(2026, 9, 30, 17, 0, tzinfo=SH), 1) == datetime(
        2026, 10, 8, 9, 0, tzinfo=SH
    )


def test_working_hours_fill_a_day_exactly_end_at_closing():
    assert add_working_hours(datetime(2026, 11, 26, 8, 30, tzinfo=SH), 7) == datetime(
        2026, 11, 26, 17, 30, tzinfo=SH
    )


def test_working_hours_follow_settings(settings):
    settings.OFFICE_HOURS = "09:00-17:00"
    assert add_working_hours(datetime(2026, 11, 26, 16, 0, tzinfo=SH), 2) == datetime(
        2026, 11, 27, 10, 0, tzinfo=SH
    )


def test_working_hours_refuse_naive_datetimes():
    with pytest.raises(ValueError):
        add_working_hours(datetime(2026, 11, 26, 9, 0), 1)


def test_unknown_year_raises_naming_the_year():
    with pytest.raises(CalendarUnknownYear, match="2027"):
        is_workday(date(2027, 1, 4))
    with pytest.raises(CalendarUnknownYear, match="2027"):
        add_working_days(date(2026, 12, 30), 5)
    assert issubclass(CalendarUnknownYear, ValueError)


def test_editing_a_working_day_reaches_the_cache():
    day = date(2026, 11, 26)
    assert is_workday(day)
    row = WorkingDay.objects.get(date=day)
    row.is_workday = False
    row.note = "临时休息"
    row.save()
    assert not is_workday(day)
    row.delete()
    with pytest.raises(CalendarUnknownYear, match="2026"):
        is_workday(day)


def test_other_processes_see_edits_after_the_cache_window(monkeypatch):
    day = date(2026, 11, 26)
    assert is_workday(day)
    # An edit made elsewhere (no signal in this process).
    WorkingDay.objects.filter(date=day).update(is_workday=False)
    assert is_workday(day)
    clock = [calendar._time.monotonic() + calendar.CACHE_SECONDS + 1]
    monkeypatch.setattr(calendar._time, "monotonic", lambda: clock[0])
    assert not is_workday(day)


# --------------------------------------------------------------------------------- import


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_adds_a_year_and_audits(tmp_path):
    lines = ["日期,是否工作日,说明"]
    day = date(2027, 1, 1)
    while day.year == 2027:
        off = day.weekday() >= 5 or day == date(2027, 1, 1)
        lines.append(f"{day.isoformat()},{'否' if off else '是'},{'元旦' if day == date(2027, 1, 1) else ''}")
        day = add_calendar_days(day, 1)
    summary = import_calendar(write_csv(tmp_path / "2027.csv", "\n".join(lines)))
    assert "365" in summary
    assert not is_workday(date(2027, 1, 1))
    assert is_workday(date(2027, 1, 4))
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.detail["years"] == [2027]


def test_import_updates_existing_days(tmp_path):
    import_calendar(
        write_csv(tmp_path / "c.csv", "date,is_workday,note\n2026-11-26,0,临时调整\n2026-11-28,true,调休\n")
    )
    assert not is_workday(date(2026, 11, 26))
    assert is_workday(date(2026, 11, 28))
    assert WorkingDay.objects.get(date=date(2026, 11, 26)).note == "临时调整"


def test_import_reports_every_bad_row_and_writes_nothing(tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        "date,is_workday,note\n2027-01-01,0,元旦\n2027-02-30,1,\n2027-01-02,maybe,\n2027-01-01,1,\n",
    )
    with pytest.raises(ImportFailed) as failed:
        import_calendar(path)
    errors = failed.value.errors
    assert [(e.row, e.field) for e in errors] == [(3, "date"), (4, "is_workday"), (5, "date")]
    assert "第 5 行" in str(errors[2]) and "第 2 行" in str(errors[2])
    assert not WorkingDay.objects.filter(date__year=2027).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_import_needs_the_columns(tmp_path):
    with pytest.raises(ImportFailed, match="is_workday"):
        import_calendar(write_csv(tmp_path / "c.csv", "date,note\n2027-01-01,x\n"))


def test_import_reads_excel(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["date", "is_workday", "note"])
    sheet.append([datetime(2027, 1, 1), 0, "元旦"])
    sheet.append(["2027-01-02", "否", ""])
    path = tmp_path / "c.xlsx"
    book.save(path)
    assert "2" in import_calendar(path)
    assert WorkingDay.objects.get(date=date(2027, 1, 1)).note == "元旦"


def test_import_command_reports_errors(tmp_path):
    from django.core.management import CommandError, call_command

    path = write_csv(tmp_path / "bad.csv", "date,is_workday\nnot-a-date,1\n")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import", "calendar", str(path))


def test_seed_default_restores_an_emptied_table():
    seeded = dict(WorkingDay.objects.filter(date__year=2026).values_list("date", "note"))
    WorkingDay.objects.filter(date__year__gte=2025).delete()
    with pytest.raises(CalendarUnknownYear):
        is_workday(date(2026, 10, 1))
    assert calendar.seed_default() == 365 + 365
    assert dict(WorkingDay.objects.filter(date__year=2026).values_list("date", "note")) == seeded
    assert not is_workday(date(2026, 10, 1))
    assert calendar.seed_default() == 0
