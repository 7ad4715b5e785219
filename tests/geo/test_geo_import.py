"""Importing jurisdictions: every error with its row, nothing written on error, three formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from pingan.core.choices import AuditAction
from pingan.core.importing import ImportFailed
from pingan.core.models import AuditEntry
from pingan.geo import locate
from pingan.geo.importer import import_jurisdictions, read_rows, rows_from_dicts, validate_rows
from pingan.geo.models import Jurisdiction
from tests.conftest import box

HEADER = ["code", "name", "level", "parent_code", "geometry"]


def wkt_box(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    return f"POLYGON(({lon0} {lat0}, {lon1} {lat0}, {lon1} {lat1}, {lon0} {lat1}, {lon0} {lat0}))"


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def errors_of(path: Path) -> list:
    with pytest.raises(ImportFailed) as info:
        import_jurisdictions(path)
    return info.value.errors


# 江山 (330881) is box(118.50, 28.60, 118.60, 28.70) in the shared tree.
VALID_ROWS = [
    ["330881002", "双塔街道", "township", "330881", wkt_box(118.55, 28.60, 118.60, 28.65)],
    ["330881002001", "城南社区", "village", "330881002", json.dumps(box(118.55, 28.60, 118.60, 28.65))],
    ["330881002001001", "城南社区第1网格", "grid", "330881002001", wkt_box(118.55, 28.60, 118.575, 28.65)],
    ["330881002001002", "城南社区第2网格", "grid", "330881002001", wkt_box(118.575, 28.60, 118.60, 28.65)],
]


def test_valid_csv_is_imported_with_points_and_audit(tree, tmp_path):
    before = Jurisdiction.objects.count()
    summary = import_jurisdictions(write_csv(tmp_path / "j.csv", VALID_ROWS))
    assert "新增 4" in summary and "更新 0" in summary
    assert Jurisdiction.objects.count() == before + 4
    grid = Jurisdiction.objects.get(code="330881002001002")
    assert grid.parent.code == "330881002001"
    assert grid.geometry["type"] == "Polygon"
    assert 118.575 < grid.lon < 118.60 and 28.60 < grid.lat < 28.65
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.detail["created"] == 4 and entry.detail["by_level"]["grid"] == 2
    # The locate index sees the new grids at once (2 from the shared tree + 2 new).
    assert grid.code in locate.current_index().codes and len(locate.current_index().codes) == 4


def test_valid_excel_with_chinese_headers_and_labels(tree, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["代码", "名称", "层级", "上级代码", "边界"])
    sheet.append([330881003, "清湖街道", "乡镇(街道)", 330881, None])
    sheet.append([330881003001, "清湖村", "村(社区)", 330881003, ""])
    sheet.append(
        ["330881003001001", "清湖村第1网格", "网格", "330881003001", wkt_box(118.50, 28.60, 118.52, 28.62)]
    )
    sheet.append([None, None, None, None, None])  # trailing blank row is ignored
    path = tmp_path / "j.xlsx"
    book.save(path)
    summary = import_jurisdictions(path)
    assert "新增 3" in summary
    assert Jurisdiction.objects.get(code="330881003001").level == "village"
    assert Jurisdiction.objects.get(code="330881003").geometry is None


def test_valid_geojson(tree, tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
            "geometry": json.loads(json.dumps(box(118.55, 28.60, 118.60, 28.65))),
        }
        for code, name, level, parent in [
            ("330881002", "双塔街道", "township", "330881"),
            ("330881002001", "城南社区", "village", "330881002"),
            ("330881002001001", "城南社区第1网格", "grid", "330881002001"),
        ]
    ]
    path = tmp_path / "j.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8"
    )
    assert "新增 3" in import_jurisdictions(path)
    assert Jurisdiction.objects.get(code="330881002001001").parent.code == "330881002001"


def test_existing_code_is_updated_in_place(tree, tmp_path):
    path = write_csv(tmp_path / "u.csv", [["330881001", "虎山街道（新）", "township", "330881", ""]])
    assert "更新 1" in import_jurisdictions(path)
    node = Jurisdiction.objects.get(code="330881001")
    assert node.pk == tree.jiangshan_township.pk and node.name == "虎山街道（新）"


def test_every_error_is_reported_with_its_row_and_nothing_is_written(tree, tmp_path):
    bowtie = "POLYGON((118.5 28.6, 118.6 28.7, 118.6 28.6, 118.5 28.7, 118.5 28.6))"
    rows = [
        ["330881003", "清湖街道", "township", "330881", ""],  # 2 valid
        ["33088100A", "坏代码", "township", "330881", ""],  # 3 code
        ["330881004", "", "township", "330881", ""],  # 4 name
        ["330881005", "某某", "省会", "330881", ""],  # 5 level
        ["330899001", "某镇", "township", "330899", ""],  # 6 parent unknown
        ["330881003", "清湖街道", "township", "330881", ""],  # 7 duplicate
        ["330881001", "虎山街道", "village", "330881", ""],  # 8 existing level
        ["330802009", "错位镇", "township", "330881", ""],  # 9 not under parent
        [
            "330802001009",
            "跳级网格",
            "grid",
            "330802001",
            wkt_box(118.80, 28.90, 118.81, 28.91),
        ],  # 10 level skip
        ["330881001001009", "自相交", "grid", "330881001001", bowtie],  # 11 invalid
        [
            "330881001001008",
            "越界",
            "grid",
            "330881001001",
            wkt_box(118.80, 28.90, 118.81, 28.91),
        ],  # 12 outside
        ["330881001001007", "无边界", "grid", "330881001001", ""],  # 13 no geometry
        ["330881001001006", "坏边界", "grid", "330881001001", "POLYGON((oops"],  # 14 unparsable
        ["330881006", "无上级", "township", "", ""],  # 15 parent missing
    ]
    before = Jurisdiction.objects.count()
    errors = errors_of(write_csv(tmp_path / "bad.csv", rows))
    where = {(e.row, e.field) for e in errors}
    assert where == {
        (3, "code"),
        (4, "name"),
        (5, "level"),
        (6, "parent_code"),
        (7, "code"),
        (8, "level"),
        (9, "code"),
        (10, "level"),
        (11, "geometry"),
        (12, "geometry"),
        (13, "geometry"),
        (14, "geometry"),
        (15, "parent_code"),
    }
    by_row = {e.row: e for e in errors}
    assert "第 2 行" in by_row[7].message  # the duplicate names the first occurrence
    assert "自相交" in by_row[11].message or "Self-intersection" in by_row[11].message
    assert "超出" in by_row[12].message
    assert "第 3 行" in str(by_row[3])
    assert Jurisdiction.objects.count() == before
    assert Jurisdiction.objects.get(code="330881001").level == "township"
    assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_existing_code_with_another_parent_is_an_error(tree, tmp_path):
    rows = [["330881001001", "鹿溪社区", "village", "330802001", ""]]
    errors = errors_of(write_csv(tmp_path / "p.csv", rows))
    assert (2, "parent_code") in {(e.row, e.field) for e in errors}


def test_child_inside_parent_within_tolerance_passes(tree, tmp_path):
    # 0.2 % of the child's area sticks out of 江山's box: a float sliver, accepted.
    rows = [["330881007", "边缘镇", "township", "330881", wkt_box(118.50, 28.60, 118.6002, 28.70)]]
    assert "新增 1" in import_jurisdictions(write_csv(tmp_path / "t.csv", rows))


def test_geojson_errors_name_the_feature_number(tree, tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": "330881002",
                    "name": "双塔街道",
                    "level": "township",
                    "parent_code": "330881",
                },
                "geometry": None,
            },
            {
                "type": "Feature",
                "properties": {
                    "code": "330881002001",
                    "name": "x",
                    "level": "grid",
                    "parent_code": "330881002",
                },
                "geometry": {"type": "Point", "coordinates": [118.5, 28.6]},
            },
        ],
    }
    path = tmp_path / "e.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert {(e.row, e.field) for e in errors_of(path)} == {(2, "level"), (2, "geometry")}


@pytest.mark.parametrize(
    ("name", "content", "field"),
    [
        ("j.txt", b"code,name\n", "file"),
        ("j.csv", b"", "file"),
        ("j.geojson", b"{not json", "file"),
        ("j.geojson", b'{"type": "Feature"}', "file"),
        ("j.xlsx", b"PK\x03\x04 not really a workbook", "file"),
        ("j.csv", b"code,name\n1,x\n", "level"),
    ],
)
def test_unreadable_files_are_reported_not_crashed(tree, name, content, field):
    with pytest.raises(ImportFailed) as info:
        read_rows(name, content)
    assert field in {e.field for e in info.value.errors}


def test_gbk_csv_from_excel_is_read(tree):
    data = "代码,名称,层级,上级代码\n330881008,大陈乡,乡镇,330881\n".encode("gb18030")
    rows = read_rows("j.csv", data)
    assert rows[0].name == "大陈乡" and rows[0].level == "township" and rows[0].number == 2


def test_management_command_imports_and_reports_errors(tree, tmp_path, capsys):
    call_command("import", "jurisdictions", str(write_csv(tmp_path / "ok.csv", VALID_ROWS[:1])))
    assert "新增 1" in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", [["330881009", "", "township", "330881", ""]])
    with pytest.raises(CommandError, match="1 error"):
        call_command("import", "jurisdictions", str(bad))
    assert "第 2 行" in capsys.readouterr().err


def test_rows_from_dicts_validate_like_files(tree):
    rows = rows_from_dicts(
        [
            {
                "code": "330881002",
                "name": "双塔街道",
                "level": "township",
                "parent_code": "330881",
                "geometry": box(118.55, 28.60, 118.60, 28.65),
            }
        ],
        first_number=2,
    )
    assert validate_rows(rows) == []
    assert rows[0].shape is not None
