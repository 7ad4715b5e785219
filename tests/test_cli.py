"""The `pingan` command: exit codes and messages, never a traceback."""

from __future__ import annotations

import pytest

from pingan.accounts.models import User
from pingan.cli import build_parser, main
from pingan.geo.models import Jurisdiction


def test_every_promised_command_exists():
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"demo", "serve", "migrate", "createadmin", "import", "check"} <= set(commands)


def test_import_of_a_bad_file_exits_non_zero_naming_the_row(db, tmp_path, capsys):
    bad = tmp_path / "j.csv"
    bad.write_text("code,name,level,parent_code\n330899,某县,county,999999\n", encoding="utf-8")
    assert main(["import", "jurisdictions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "第 2 行" in err or "2" in err
    assert "nothing was imported" in err
    assert not Jurisdiction.objects.filter(code="330899").exists()


def test_import_of_a_missing_file_exits_non_zero(db, capsys):
    assert main(["import", "jurisdictions", "/nonexistent/file.geojson"]) == 2
    assert "file.geojson" in capsys.readouterr().err


def test_createadmin_creates_a_superuser_and_refuses_a_weak_password(db, capsys):
    assert main(["createadmin", "chief", "--password", "Quzhou-2026-safe"]) == 0
    assert User.objects.get(username="chief").is_superuser
    assert main(["createadmin", "weak", "--password", "123"]) == 2
    assert not User.objects.filter(username="weak").exists()


def test_check_passes_on_a_migrated_database(db, capsys):
    assert main(["check"]) == 0


@pytest.mark.parametrize("argv", [["import"], ["nonsense"]])
def test_usage_errors_exit_non_zero(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
