"""The `pingan` command: demo, serve, worker, migrate, createadmin, import, check, rotate-keys, manage.

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
    for line in (problems or warnings()):
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
        _call("runserver", ns.bind, *(["--noreload"] if ns.noreload else []))
        return 0
    return _gunicorn(ns.bind, ns.workers)


def _gunicorn(bind: str, workers: int) -> int:
    gunicorn = shutil.which("gunicorn") or os.path.join(os.path.dirname(sys.executable), "gunicorn")
    argv = [
        gunicorn, "pingan.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--threads", "4",
        "--access-logfile", "-",
        "--timeout", "60",
    ]
    os.execv(gunicorn, argv)
    return 0  # not reached


def cmd_demo(ns: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
    if ns.reset:
        from pingan.demo.loader import reset_database

        reset_database()
    _django()
    from pingan.demo.loader import DEMO_PASSWORD, demo_logins, ensure_demo

    _call("migrate", "--no-input", "--verbosity=0")
    ensure_demo(stdout=sys.stdout)
    _call("collectstatic", "--no-input", "--verbosity=0")
    print()
    print("演示账号 / demo logins (密码 password: %s)" % DEMO_PASSWORD)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pingan", description="平安建设·社会治理平台")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="load the Quzhou demo (once) and serve it")
    p.add_argument("--reset", action="store_true", help="start over from an empty database")
    p.add_argument("--no-serve", action="store_true", help="load only, do not start the server")
    p.add_argument("--bind", default=DEFAULT_BIND)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the web server (gunicorn; --dev for Django's runserver)")
    p.add_argument("--dev", action="store_true")
    p.add_argument("--noreload", action="store_true")
    p.add_argument("--bind", default=DEFAULT_BIND)
    p.add_argument("--workers", type=int, default=int(os.environ.get("PINGAN_WEB_WORKERS", "2")))
    p.set_defaults(func=cmd_serve)

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
