"""`pingan check`: configuration, database, migrations and calendar coverage."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone


def run_checks(deploy: bool = False) -> list[str]:
    """Return a list of problems (empty when all is well)."""
    problems: list[str] = []
    try:
        call_command("check", deploy=deploy, fail_level="ERROR", verbosity=0)
    except Exception as exc:
        problems.append(f"Django check: {exc}")
    try:
        connection.ensure_connection()
    except Exception as exc:
        return [*problems, f"数据库无法连接 / database unreachable: {exc}"]
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        problems.append(f"{len(pending)} 个数据库迁移未执行，请运行 pingan migrate / pending migrations")
        return problems
    from pingan.core.models import WorkingDay

    year = timezone.localdate().year
    if not WorkingDay.objects.filter(date__year=year).exists():
        problems.append(f"{year} 年的工作日历缺失，请导入 (pingan import calendar FILE)")
    return problems


def warnings() -> list[str]:
    """Things to do soon that do not stop the platform."""
    from pingan.core.models import WorkingDay

    today = timezone.localdate()
    # The State Council publishes next year's holidays each winter; deadlines cross New Year from
    # November on, and a deadline in a year with no calendar raises an error.
    if today.month >= 11 and not WorkingDay.objects.filter(date__year=today.year + 1).exists():
        return [
            f"警告: {today.year + 1} 年的工作日历尚未导入，跨年期限将无法计算 (pingan import calendar FILE)"
        ]
    return []
