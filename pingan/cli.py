"""The `pingan` command: demo, serve, worker, beat, sweep, migrate, createadmin, import, check, rotate-keys,
manage.

Every setting comes from PINGAN_* environment variables (see README); this module only
chooses what to run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence

DEFAULT_BIND = "127.0.0.1:8000"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    import django

    django.setup()


def _call(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def cmd_migrate(ns: argparse.Namespace) -> int:
    _django()
    _call("migrate", "--no-input", f"--verbosity={ns.verbosity}")
    return 0


def cmd_createadmin(ns: argparse.Namespace) -> int:
    _django()
    from pingan.accounts.services import create_admin

    password = ns.password or os.environ.get("PINGAN_ADMIN_PASSWORD")
    if not password:
        import getpass

        password = getpass.getpass("密码 / password: ")
    user = create_admin(ns.username, password)
    print(f"管理员 {user.username} 已创建 / admin created")
    return 0


def cmd_import(ns: argparse.Namespace) -> int:
    _django()
    _call("import", ns.kind, ns.file)
    return 0


def cmd_check(ns: argparse.Namespace) -> int:
    _django()
    from pingan.core.health import run_checks, warnings

    problems = run_checks(deploy=ns.deploy)
    for line in problems or warnings():
        print(line, file=sys.stderr)
    if problems:
        return 1
    print("OK")
    return 0


def cmd_rotate_keys(ns: argparse.Namespace) -> int:
    _django()
    args = ["rotate_keys"] + (["--blind-index"] if ns.blind_index else [])
    _call(*args)
    return 0


def cmd_serve(ns: argparse.Namespace) -> int:
    _django()
    _call("collectstatic", "--no-input", "--verbosity=0")
    if ns.dev:
        from pingan import jobs

        # runserver's autoreloader runs this command again in a child (RUN_MAIN=true): only the
        # outer process starts the sweeper, so there is one.
        if os.environ.get("RUN_MAIN") != "true":
            jobs.start_sweeper()
        try:
            _call("runserver", ns.bind, *(["--noreload"] if ns.noreload else []))
        finally:
            jobs.stop_sweeper()
        return 0
    return _gunicorn(ns.bind, ns.workers)


def gunicorn_args(bind: str, workers: int) -> list[str]:
    """gunicorn's arguments for `pingan serve` and `pingan demo` (bench/bench_locate.py runs the
    same): with --threads, gunicorn uses gthread workers, which keep HTTP connections alive."""
    return [
        "pingan.wsgi:application",
        *("--bind", bind),
        *("--workers", str(workers)),
        *("--threads", "4"),
        *("--access-logfile", "-"),
        *("--timeout", "60"),
        # gunicorn's control socket defaults to one path per user: two servers would share it.
        "--no-control-socket",
    ]


def _bin(name: str) -> str:
    """A console script of this environment (next to the running python), else from PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.access(beside, os.X_OK) else (shutil.which(name) or beside)


def _gunicorn(bind: str, workers: int) -> int:
    gunicorn = shutil.which("gunicorn") or os.path.join(os.path.dirname(sys.executable), "gunicorn")
    # Server hooks: without PINGAN_REDIS_URL the master runs ONE deadline sweeper (pingan/jobs.py).
    hooks = ["--config", "python:pingan.gunicorn_conf"]
    os.execv(gunicorn, [gunicorn, *gunicorn_args(bind, workers), *hooks])
    return 0  # not reached


def _require_redis(command: str) -> None:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not settings.REDIS_URL:
        raise ImproperlyConfigured(
            f"pingan {command} 需要 PINGAN_REDIS_URL (例如 redis://127.0.0.1:6379/0) / "
            f"pingan {command} needs PINGAN_REDIS_URL; without it tasks run in-process and "
            "`pingan serve` runs the periodic sweep itself"
        )


def _celery(*args: str) -> int:
    celery = _bin("celery")
    os.execv(celery, [celery, "--app", "pingan.celery", *args])
    return 0  # not reached


def _beat_schedule_file() -> str:
    from django.conf import settings

    return str(settings.VAR_DIR / "celerybeat-schedule")


def cmd_worker(ns: argparse.Namespace) -> int:
    _django()
    _require_redis("worker")
    args = ["worker", "--loglevel", ns.loglevel]
    if ns.concurrency:
        args += ["--concurrency", str(ns.concurrency)]
    if ns.queues:
        args += ["--queues", ns.queues]
    if ns.beat:  # exactly one process of the whole installation may send the schedule
        args += ["--beat", "--schedule", _beat_schedule_file()]
    return _celery(*args)


def cmd_beat(ns: argparse.Namespace) -> int:
    _django()
    _require_redis("beat")
    return _celery("beat", "--loglevel", ns.loglevel, "--schedule", _beat_schedule_file())


def cmd_sweep(ns: argparse.Namespace) -> int:
    _django()
    from pingan.cases.tasks import sweep_deadlines

    if not ns.every:
        print(sweep_deadlines())
        return 0
    import signal
    import threading

    from pingan import jobs

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    jobs.run_every(ns.every, sweep_deadlines, stop=stop, parent=ns.parent or os.getppid())
    return 0


def cmd_demo(ns: argparse.Namespace) -> int:
    _django()
    from pingan.demo.loader import DEMO_PASSWORD, demo_logins, ensure_demo, reset_database

    if ns.reset:
        reset_database()

    _call("migrate", "--no-input", "--verbosity=0")
    ensure_demo(stdout=sys.stdout, events=ns.events, disputes=ns.disputes)
    _call("collectstatic", "--no-input", "--verbosity=0")
    print()
    print(f"演示账号 / demo logins (密码 password: {DEMO_PASSWORD})")
    for username, role, where in demo_logins():
        print(f"  {username:<16} {role:<10} {where}")
    print()
    if ns.no_serve:
        return 0
    print(f"平安建设·社会治理平台: http://{ns.bind}/")
    sys.stdout.flush()
    return _gunicorn(ns.bind, ns.workers)


def cmd_manage(ns: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pingan", *ns.args])
    return 0


def _count(value: str) -> int:
    """A whole number ≥ 0 for argparse (an error names the option's value otherwise)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pingan", description="平安建设·社会治理平台")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="load the Quzhou demo (once) and serve it")
    p.add_argument("--reset", action="store_true", help="start over from an empty database")
    p.add_argument("--no-serve", action="store_true", help="load only, do not start the server")
    p.add_argument(
        "--events",
        type=_count,
        default=200_000,
        help="historical events to generate on a first load (default 200000; fewer for a quick start)",
    )
    p.add_argument(
        "--disputes",
        type=_count,
        default=15_000,
        help="disputes of the last year to generate on a first load, with twice as many 110 dispute "
        "calls (default 15000)",
    )
    p.add_argument("--bind", default=DEFAULT_BIND)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the web server (gunicorn; --dev for Django's runserver)")
    p.add_argument("--dev", action="store_true")
    p.add_argument("--noreload", action="store_true")
    p.add_argument("--bind", default=DEFAULT_BIND)
    p.add_argument("--workers", type=int, default=int(os.environ.get("PINGAN_WEB_WORKERS", "2")))
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background jobs from Redis (needs PINGAN_REDIS_URL)")
    p.add_argument("--concurrency", type=int, default=0, help="worker processes (default: one per CPU)")
    p.add_argument("--queues", default="", help="comma-separated queues to consume (default: all)")
    p.add_argument(
        "--beat",
        action="store_true",
        help="also send the periodic jobs: on exactly one worker, or run `pingan beat` instead",
    )
    p.add_argument("--loglevel", default="INFO")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "beat", help="send the periodic jobs to the workers: run exactly one (needs PINGAN_REDIS_URL)"
    )
    p.add_argument("--loglevel", default="INFO")
    p.set_defaults(func=cmd_beat)

    p = sub.add_parser("sweep", help="run the deadline sweep now (or every N seconds with --every N)")
    p.add_argument("--every", type=int, default=0, metavar="SECONDS")
    p.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)  # exit when this process is gone
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.add_argument("--verbosity", type=int, default=1)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createadmin", help="create an administrator account")
    p.add_argument("username")
    p.add_argument("--password", help="or PINGAN_ADMIN_PASSWORD, or asked for")
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("import", help="import reference data (jurisdictions, calendar)")
    p.add_argument("kind")
    p.add_argument("file")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("check", help="check configuration, database and calendar")
    p.add_argument("--deploy", action="store_true", help="also run Django's deployment checks")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rotate-keys", help="re-encrypt personal data with the newest PINGAN_FIELD_KEYS key")
    p.add_argument("--blind-index", action="store_true", help="also recompute blind indexes")
    p.set_defaults(func=cmd_rotate_keys)

    p = sub.add_parser("manage", help="any Django management command")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return ns.func(ns)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI exits non-zero with a message, not a traceback
        from django.core.management.base import CommandError

        if isinstance(exc, CommandError):
            print(f"错误 / error: {exc}", file=sys.stderr)
            return 2
        if os.environ.get("PINGAN_DEBUG"):
            raise
        from django.core.exceptions import ImproperlyConfigured, ValidationError

        if isinstance(exc, (ImproperlyConfigured, ValidationError, ValueError)):
            print(f"错误 / error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
