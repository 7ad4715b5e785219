"""Seed the working-day table 2004–2026 from chinesecalendar (the packaged default, DOMAIN §3).

Administrators extend it each winter when the State Council publishes the next year's
schedule (admin or `pingan import calendar FILE`).
"""

from datetime import date, timedelta

from django.db import migrations

FIRST = date(2004, 1, 1)
LAST = date(2026, 12, 31)

# chinesecalendar's English holiday names → the Chinese names offices use.
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
IN_LIEU_WORKDAY = "调休"


def seed(apps, schema_editor):
    import chinese_calendar

    WorkingDay = apps.get_model("core", "WorkingDay")
    # The library's own tables: statutory holidays and the weekend days moved to work (调休).
    holidays = chinese_calendar.holidays
    workdays = chinese_calendar.workdays
    rows = []
    day = FIRST
    while day <= LAST:
        if day in workdays:
            rows.append(
                WorkingDay(date=day, is_workday=True, note=IN_LIEU_WORKDAY if day.weekday() >= 5 else "")
            )
        elif day in holidays:
            rows.append(
                WorkingDay(date=day, is_workday=False, note=HOLIDAY_NAMES.get(holidays[day], holidays[day]))
            )
        else:
            rows.append(WorkingDay(date=day, is_workday=day.weekday() < 5, note=""))
        day += timedelta(days=1)
    existing = set(WorkingDay.objects.filter(date__gte=FIRST, date__lte=LAST).values_list("date", flat=True))
    WorkingDay.objects.bulk_create([r for r in rows if r.date not in existing], batch_size=1000)


def unseed(apps, schema_editor):
    WorkingDay = apps.get_model("core", "WorkingDay")
    WorkingDay.objects.filter(date__gte=FIRST, date__lte=LAST).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
