"""The category catalogue: imported from CSV or Excel, every bad row reported, all or nothing."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from pingan.accounts.choices import Platform
from pingan.cases.choices import DeadlineUnit
from pingan.core.choices import AuditAction
from pingan.core.importing import ImportFailed
from pingan.core.models import AuditEntry
from pingan.events.catalogue import import_catalogue, import_catalogue_bytes, load_default_catalogue
from pingan.events.models import Category, validate_fields
from tests.events.conftest import CATALOGUE_CSV

HEADER = "大类,小类,代码,平台,默认单位,立案条件,期限,期限单位,结案条件\n"


def _csv(body: str) -> bytes:
    return (HEADER + body).encode("utf-8")


def test_catalogue_import_builds_two_levels_with_deadlines(db, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CATALOGUE_CSV, encoding="utf-8")
    summary = import_catalogue(path)
    assert "大类 3" in summary and "小类 4" in summary and "新增 7" in summary
    rubbish = Category.objects.get(code="0101")
    assert rubbish.parent.name == "市容环境" and rubbish.parent.platform == Platform.JIANGUAN
    assert (rubbish.deadline_unit, rubbish.deadline_amount) == (DeadlineUnit.WORKING_DAYS, Decimal(1))
    assert rubbish.register_condition == "公共区域有可见垃圾" and rubbish.close_condition == "垃圾清运完毕"
    gas = Category.objects.get(code="0603")
    assert gas.urgent is True and gas.deadline_unit == DeadlineUnit.URGENT_HOURS and gas.deadline_amount == 2
    assert Category.objects.get(code="0106").deadline_unit == DeadlineUnit.WORKING_HOURS
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.detail == {"kind": "event_categories", "file": "c.csv", "created": 7, "updated": 0}


def test_catalogue_import_reports_every_bad_row_and_writes_nothing(db):
    body = (
        "市容环境,,01,监管执法,,,,,\n"  # row 2: fine
        "市容环境,暴露垃圾,0101,,,,1,工作日,\n"  # row 3: fine
        "市容环境,占道经营,0101,,,,2,工作时,\n"  # row 4: duplicate code
        "市容环境,噪声,0501,,,,abc,工作日,\n"  # row 5: amount not a number
        "市容环境,违建,0401,,,,15,月,\n"  # row 6: unknown unit
        "园林绿化,树木倒伏,1101,,,,1,工作日,\n"  # row 7: 大类 not defined
        "市容环境,乱张贴,0104,城管,,,1.5,工作日,\n"  # row 8: bad platform, half a day
        ",无大类,0199,,,,1,工作日,\n"  # row 9: 大类 missing
    )
    with pytest.raises(ImportFailed) as caught:
        import_catalogue_bytes("bad.csv", _csv(body))
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {
        (4, "代码"),
        (5, "期限"),
        (6, "期限单位"),
        (7, "大类"),
        (8, "平台"),
        (8, "期限"),
        (9, "大类"),
    }
    messages = "\n".join(str(e) for e in caught.value.errors)
    assert "第 4 行: [代码] 代码「0101」与第 3 行重复" in messages
    assert "第 7 行: [大类] 大类「园林绿化」未定义" in messages
    assert Category.objects.count() == 0
    assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_catalogue_import_names_missing_columns(db):
    with pytest.raises(ImportFailed) as caught:
        import_catalogue_bytes("c.csv", "大类,小类,代码\n市容环境,,01\n".encode())
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "期限"), (1, "期限单位")]


def test_catalogue_import_refuses_unknown_file_types_and_empty_files(db):
    with pytest.raises(ImportFailed, match=r"不支持的文件类型 \.txt"):
        import_catalogue_bytes("c.txt", b"x")
    with pytest.raises(ImportFailed, match="文件为空"):
        import_catalogue_bytes("c.csv", b"")
    with pytest.raises(ImportFailed, match="不是有效的 Excel"):
        import_catalogue_bytes("c.xlsx", b"not a zip")


def test_catalogue_import_reads_excel_and_updates_by_code(db):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["违法建设", None, "04", "监管执法", None, None, None, None, None])
    sheet.append(["违法建设", "违法建设", "0401", None, "综合行政执法局", "未批先建", 15, "工作日", "拆除"])
    data = BytesIO()
    book.save(data)
    assert "新增 2" in import_catalogue_bytes("c.xlsx", data.getvalue())
    # The same code again with a new deadline: updated in place, not duplicated.
    import_catalogue_bytes(
        "c.csv", _csv("违法建设,,04,监管执法,,,,,\n违法建设,违法建设,0401,,,,20,自然日,\n")
    )
    building = Category.objects.get(code="0401")
    assert (building.deadline_amount, building.deadline_unit) == (20, DeadlineUnit.CALENDAR_DAYS)
    assert Category.objects.count() == 2


def test_catalogue_import_keeps_a_major_a_major(db):
    import_catalogue_bytes("c.csv", _csv("市容环境,,01,,,,,,\n市容环境,暴露垃圾,0101,,,,1,工作日,\n"))
    with pytest.raises(ImportFailed) as caught:
        import_catalogue_bytes("c.csv", _csv("市容环境,,0101,,,,,,\n"))
    assert "已是小类" in str(caught.value)


def test_default_catalogue_loads_realistic_categories(db):
    summary = load_default_catalogue()
    assert "大类 10" in summary
    leaves = Category.objects.filter(parent__isnull=False)
    assert leaves.count() == 48
    expected = {
        "暴露垃圾": (DeadlineUnit.WORKING_DAYS, 1),
        "违法建设": (DeadlineUnit.WORKING_DAYS, 15),
        "道路清扫不及时": (DeadlineUnit.WORKING_HOURS, 4),
        "燃气泄漏": (DeadlineUnit.URGENT_HOURS, 2),
        "井盖缺失": (DeadlineUnit.URGENT_HOURS, 2),
    }
    for name, (unit, amount) in expected.items():
        category = leaves.get(name=name)
        assert (category.deadline_unit, category.deadline_amount) == (unit, amount), name
    assert leaves.get(name="燃气泄漏").urgent is True
    for name in (
        "占道经营",
        "噪声扰民",
        "消防通道堵塞",
        "安全隐患",
        "治安隐患",
        "道路破损",
        "路灯不亮",
        "邻里纠纷",
    ):
        assert leaves.filter(name=name).exists(), name
    # Loading it again refreshes by code: nothing is duplicated.
    assert "新增 0，更新 58" in load_default_catalogue()


def test_import_command_imports_events(db, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(_csv("市容环境,,01,,,,,,\n市容环境,暴露垃圾,0101,,,,0,工作日,\n"))
    with pytest.raises(CommandError, match="1 error"):
        call_command("import", "events", str(path))
    path.write_bytes(_csv("市容环境,,01,,,,,,\n市容环境,暴露垃圾,0101,,,,1,工作日,\n"))
    call_command("import", "events", str(path))
    assert Category.objects.filter(code="0101").exists()


def test_category_fields_follow_open311_attribute_shape():
    validate_fields(
        [
            {"code": "size", "datatype": "number", "required": True, "description": "面积(平方米)"},
            {"code": "kind", "datatype": "singlevaluelist", "values": [{"key": "1", "name": "生活垃圾"}]},
        ]
    )
    with pytest.raises(ValidationError, match="datatype"):
        validate_fields([{"code": "size", "datatype": "float"}])
    with pytest.raises(ValidationError, match="values"):
        validate_fields([{"code": "kind", "datatype": "multivaluelist"}])
    with pytest.raises(ValidationError, match="code"):
        validate_fields([{"code": "a", "datatype": "string"}, {"code": "a", "datatype": "text"}])
