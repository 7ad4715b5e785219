"""Import the event category catalogue (事件分类目录) from Excel (.xlsx) or CSV: all valid, or nothing.

Columns (Chinese headers, the header is row 1; English aliases in HEADERS):

    大类, 小类, 代码, 平台, 默认单位, 立案条件, 期限, 期限单位, 结案条件   (optional: 启用)

- A row with 小类 empty defines a 大类 (its code and, optionally, platform and default unit).
- A row with 小类 defines a 小类 under the 大类 named in 大类, which must be defined by a row
  of the file or exist already. 期限 and 期限单位 (工作日 / 工作时 / 自然日 / 紧急小时) are
  required; days are whole numbers; 紧急小时 marks the category urgent.
- 平台: one of the four platforms (综治工作、监管执法、应急管理、公共服务).
- 默认单位: a unit name or its ending ("综合行政执法局", "派出所"), matched in each case's area.
- 代码 is unique; an existing code is UPDATED in place (a 大类 stays a 大类, a 小类 a 小类).

Every broken rule of every row is reported (RowError with the spreadsheet row number);
nothing is written unless the whole file is valid; one audit entry records the counts.

The default catalogue of this package (data/default_catalogue.csv, about 50 categories
from the digital city-management standards and Quzhou practice) is loaded by
``load_default_catalogue()`` — the demo calls it; an installation may import its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.accounts.choices import Platform
from pingan.cases.choices import DeadlineUnit
from pingan.core.audit import record
from pingan.core.choices import AuditAction
from pingan.core.importing import ImportFailed, RowError, cell_text, is_blank, read_table
from pingan.events.models import CODE_RE, Category

DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "data" / "default_catalogue.csv"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_AMOUNT = Decimal(999)

HEADERS = {
    "大类": "major",
    "major": "major",
    "小类": "minor",
    "minor": "minor",
    "代码": "code",
    "编码": "code",
    "code": "code",
    "平台": "platform",
    "platform": "platform",
    "默认单位": "default_unit",
    "default_unit": "default_unit",
    "立案条件": "register_condition",
    "register_condition": "register_condition",
    "期限": "amount",
    "处置期限": "amount",
    "deadline": "amount",
    "期限单位": "unit",
    "deadline_unit": "unit",
    "结案条件": "close_condition",
    "close_condition": "close_condition",
    "启用": "active",
    "active": "active",
}
REQUIRED = ("major", "minor", "code", "amount", "unit")
COLUMN_LABELS = {
    "major": "大类",
    "minor": "小类",
    "code": "代码",
    "platform": "平台",
    "default_unit": "默认单位",
    "amount": "期限",
    "unit": "期限单位",
    "active": "启用",
}
UNIT_ALIASES = {
    **{u.value: u.value for u in DeadlineUnit},
    **{str(u.label): u.value for u in DeadlineUnit},
    "工作日": DeadlineUnit.WORKING_DAYS,
    "工作时": DeadlineUnit.WORKING_HOURS,
    "工作小时": DeadlineUnit.WORKING_HOURS,
    "自然日": DeadlineUnit.CALENDAR_DAYS,
    "日历日": DeadlineUnit.CALENDAR_DAYS,
    "天": DeadlineUnit.CALENDAR_DAYS,
    "紧急小时": DeadlineUnit.URGENT_HOURS,
    "紧急(小时)": DeadlineUnit.URGENT_HOURS,
    "紧急（小时）": DeadlineUnit.URGENT_HOURS,
    "小时": DeadlineUnit.URGENT_HOURS,
}
PLATFORM_ALIASES = {
    **{p.value: p.value for p in Platform},
    **{str(p.label): p.value for p in Platform},
    **{f"{p.label}平台": p.value for p in Platform},
}
TRUE_WORDS = {"", "1", "是", "true", "yes", "y", "启用"}
FALSE_WORDS = {"0", "否", "false", "no", "n", "停用"}


@dataclass
class Row:
    """One parsed line of the file."""

    number: int
    major: str
    minor: str
    code: str
    platform: str = ""
    default_unit: str = ""
    register_condition: str = ""
    close_condition: str = ""
    amount: Decimal | None = None
    unit: str = ""
    active: bool = True
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_major(self) -> bool:
        return not self.minor


# --- entry points ------------------------------------------------------------------------------


def import_catalogue(path: str | Path, *, actor: Any = None) -> str:
    """Validate and import a catalogue file; returns a one-line summary or raises ImportFailed."""
    path = Path(path)
    return import_catalogue_bytes(path.name, path.read_bytes(), actor=actor)


def load_default_catalogue(*, actor: Any = None) -> str:
    """Load (or refresh, by code) the packaged default catalogue."""
    return import_catalogue(DEFAULT_CATALOGUE, actor=actor)


def import_uploaded(upload: Any, *, actor: Any = None) -> str:
    """An UploadedFile (a page or the API), read with a size limit."""
    if (getattr(upload, "size", 0) or 0) > MAX_FILE_BYTES:
        raise ImportFailed(
            [RowError(0, _("文件过大（上限 %(mb)d MB）") % {"mb": MAX_FILE_BYTES // 2**20}, "file")]
        )
    return import_catalogue_bytes(getattr(upload, "name", "") or "", upload.read(), actor=actor)


def import_catalogue_bytes(filename: str, data: bytes, *, actor: Any = None) -> str:
    rows = read_rows(filename, data)
    with transaction.atomic():
        errors = validate(rows)
        if errors:
            raise ImportFailed(errors)
        try:
            with transaction.atomic():
                created, updated = _write(rows)
        except IntegrityError as exc:  # e.g. two categories swapping names in one file
            raise ImportFailed(
                [RowError(0, _("名称冲突：同一大类下不能有同名小类，请分两次导入"), "file")]
            ) from exc
        record(
            AuditAction.IMPORT,
            actor=actor,
            detail={
                "kind": "event_categories",
                "file": filename[:200],
                "created": created,
                "updated": updated,
            },
        )
    majors = sum(1 for r in rows if r.is_major)
    return _(
        "导入事件类型 %(total)d 条（大类 %(majors)d，小类 %(minors)d）：新增 %(created)d，更新 %(updated)d"
    ) % {
        "total": len(rows),
        "majors": majors,
        "minors": len(rows) - majors,
        "created": created,
        "updated": updated,
    }


# --- reading -----------------------------------------------------------------------------------


def read_rows(filename: str, data: bytes) -> list[Row]:
    suffix = Path(filename).suffix.lower()
    if not data:
        raise ImportFailed([RowError(0, _("文件为空"), "file")])
    header, lines = read_table(data, suffix)
    if not lines:
        raise ImportFailed([RowError(0, _("文件中没有数据行"), "file")])
    columns = [HEADERS.get(cell_text(h).lower(), HEADERS.get(cell_text(h), "")) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFailed(
            [
                RowError(1, _("缺少列「%(col)s」") % {"col": COLUMN_LABELS[c]}, COLUMN_LABELS[c])
                for c in missing
            ]
        )
    rows = []
    for number, values in lines:
        if is_blank(values):
            continue
        rec = {col: values[i] if i < len(values) else None for i, col in enumerate(columns) if col}
        rows.append(_parse(number, rec))
    if not rows:
        raise ImportFailed([RowError(0, _("文件中没有数据行"), "file")])
    return rows


def _parse(number: int, rec: dict[str, Any]) -> Row:
    row = Row(
        number=number,
        major=cell_text(rec.get("major")),
        minor=cell_text(rec.get("minor")),
        code=cell_text(rec.get("code")),
        default_unit=cell_text(rec.get("default_unit")),
        register_condition=cell_text(rec.get("register_condition")),
        close_condition=cell_text(rec.get("close_condition")),
    )

    def error(column: str, message: str) -> None:
        row.errors.append(RowError(number, message, COLUMN_LABELS.get(column, column)))

    if not row.major:
        error("major", _("大类不能为空"))
    elif len(row.major) > 60:
        error("major", _("大类名称不能超过 60 个字"))
    if len(row.minor) > 60:
        error("minor", _("小类名称不能超过 60 个字"))
    if not row.code:
        error("code", _("代码不能为空"))
    elif not CODE_RE.match(row.code):
        error(
            "code", _("代码「%(code)s」只能由字母、数字、下划线和连字符组成，最长 20 位") % {"code": row.code}
        )
    platform = cell_text(rec.get("platform"))
    if platform:
        row.platform = PLATFORM_ALIASES.get(platform, "")
        if not row.platform:
            error(
                "platform",
                _("平台「%(value)s」无效，可选：%(choices)s")
                % {"value": platform, "choices": "、".join(str(p.label) for p in Platform)},
            )
    if len(row.default_unit) > 80:
        error("default_unit", _("默认单位不能超过 80 个字"))
    active = cell_text(rec.get("active")).lower()
    if active in FALSE_WORDS:
        row.active = False
    elif active not in TRUE_WORDS:
        error("active", _("启用须填“是”或“否”"))
    amount_text, unit_text = cell_text(rec.get("amount")), cell_text(rec.get("unit"))
    if row.is_major:
        if amount_text or unit_text:
            error("amount", _("大类不设期限：期限写在小类上"))
        return row
    row.unit = UNIT_ALIASES.get(unit_text, "")
    if not unit_text:
        error("unit", _("期限单位不能为空"))
    elif not row.unit:
        error(
            "unit",
            _("期限单位「%(value)s」无效，可选：工作日、工作时、自然日、紧急小时") % {"value": unit_text},
        )
    try:
        row.amount = Decimal(amount_text)
    except InvalidOperation:
        error(
            "amount",
            _("期限「%(value)s」不是数字") % {"value": amount_text} if amount_text else _("期限不能为空"),
        )
        return row
    if not row.amount.is_finite() or row.amount <= 0 or row.amount > MAX_AMOUNT:
        error("amount", _("期限须大于 0 且不超过 %(max)s") % {"max": MAX_AMOUNT})
    elif (
        row.unit in (DeadlineUnit.WORKING_DAYS, DeadlineUnit.CALENDAR_DAYS)
        and row.amount != row.amount.to_integral()
    ):
        error("amount", _("按日计的期限须为整数天"))
    elif row.amount.as_tuple().exponent < -2:  # type: ignore[operator]
        error("amount", _("期限最多两位小数"))
    return row


# --- validation --------------------------------------------------------------------------------


def validate(rows: list[Row]) -> list[RowError]:
    """Every problem of every row, in row order; an empty list means the file can be written."""
    errors = [e for row in rows for e in row.errors]
    existing = {c.code: c for c in Category.objects.select_related("parent")}
    majors_in_file: dict[str, Row] = {}
    codes_seen: dict[str, int] = {}
    names_seen: dict[tuple[str, str], int] = {}

    for row in rows:
        if row.code:
            if row.code in codes_seen:
                errors.append(
                    RowError(
                        row.number,
                        _("代码「%(code)s」与第 %(n)d 行重复")
                        % {"code": row.code, "n": codes_seen[row.code]},
                        "代码",
                    )
                )
            else:
                codes_seen[row.code] = row.number
        key = (row.major, row.minor)
        if row.major:
            if key in names_seen:
                label = f"{row.major}/{row.minor}" if row.minor else row.major
                errors.append(
                    RowError(
                        row.number,
                        _("「%(name)s」与第 %(n)d 行重复") % {"name": label, "n": names_seen[key]},
                        "小类" if row.minor else "大类",
                    )
                )
            else:
                names_seen[key] = row.number
        if row.is_major and row.major and row.major not in majors_in_file:
            majors_in_file[row.major] = row

    db_majors = {c.name: c for c in existing.values() if c.parent_id is None}
    for row in rows:
        old = existing.get(row.code)
        if old is not None and (old.parent_id is None) != row.is_major:
            kind = _("大类") if old.parent_id is None else _("小类")
            errors.append(
                RowError(
                    row.number,
                    _("代码「%(code)s」已是%(kind)s，不能改变层级") % {"code": row.code, "kind": kind},
                    "代码",
                )
            )
        if row.is_major:
            same_name = db_majors.get(row.major)
            if same_name is not None and same_name.code != row.code and same_name.code not in codes_seen:
                errors.append(
                    RowError(
                        row.number,
                        _("大类「%(name)s」已存在，代码为「%(code)s」")
                        % {"name": row.major, "code": same_name.code},
                        "代码",
                    )
                )
            continue
        if not row.major:
            continue  # reported when the row was read
        if row.major not in majors_in_file and row.major not in db_majors:
            errors.append(
                RowError(
                    row.number,
                    _("大类「%(name)s」未定义：请加一行只填大类和代码") % {"name": row.major},
                    "大类",
                )
            )
            continue
        parent_code = (
            majors_in_file[row.major].code if row.major in majors_in_file else db_majors[row.major].code
        )
        clash = next(
            (
                c
                for c in existing.values()
                if c.parent and c.parent.code == parent_code and c.name == row.minor and c.code != row.code
            ),
            None,
        )
        if clash is not None and clash.code not in codes_seen:
            errors.append(
                RowError(
                    row.number,
                    _("小类「%(name)s」已存在，代码为「%(code)s」") % {"name": row.minor, "code": clash.code},
                    "代码",
                )
            )
    errors.sort(key=lambda e: e.row)
    return errors


# --- writing -----------------------------------------------------------------------------------


def _write(rows: list[Row]) -> tuple[int, int]:
    """Upsert by code, 大类 first; rows keep the file's order as the display order."""
    created = updated = 0
    majors: dict[str, Category] = {c.name: c for c in Category.objects.filter(parent__isnull=True)}
    ordered = [r for r in rows if r.is_major] + [r for r in rows if not r.is_major]
    for row in ordered:
        values: dict[str, Any] = {
            "name": row.minor or row.major,
            "platform": row.platform,
            "default_unit_name": row.default_unit,
            "register_condition": row.register_condition,
            "close_condition": row.close_condition,
            "active": row.active,
            "order": row.number,
        }
        if row.is_major:
            values.update(parent=None, deadline_unit="", deadline_amount=None, urgent=False)
        else:
            values.update(
                parent=majors[row.major],
                deadline_unit=row.unit,
                deadline_amount=row.amount,
                urgent=row.unit == DeadlineUnit.URGENT_HOURS,
            )
        category, was_created = Category.objects.update_or_create(code=row.code, defaults=values)
        if row.is_major:
            majors[row.major] = category
        created += was_created
        updated += not was_created
    return created, updated
