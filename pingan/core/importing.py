"""Shared shape of import errors: every bad row is reported, nothing is written unless all is valid."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

Lines = list[tuple[int, list[Any]]]


@dataclass(frozen=True)
class RowError:
    """One problem in an import file: row (or feature) number, field and message."""

    row: int
    message: str
    field: str = ""

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        column = f"[{self.field}] " if self.field else ""
        return f"{where}: {column}{self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportFailed(Exception):
    """Raised with every error found; the caller reports them all."""

    errors: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def read_table(data: bytes, suffix: str) -> tuple[list[str], Lines]:
    """Header and numbered rows (the header is row 1) of an uploaded .csv or .xlsx file.

    Unreadable files raise ImportFailed (row 0); an empty file gives ([], []).
    """
    if suffix == ".csv":
        lines = _csv_lines(data)
    elif suffix == ".xlsx":
        lines = _xlsx_lines(data)
    else:
        raise ImportFailed(
            [RowError(0, _("不支持的文件类型 %(ext)s：请用 .xlsx 或 .csv") % {"ext": suffix or "?"}, "file")]
        )
    if not lines:
        return [], []
    header = [cell_text(h) for h in lines[0]]
    return header, list(enumerate(lines[1:], start=2))


def cell_text(value: Any) -> str:
    """A cell as trimmed text; Excel's 330802.0 (a code typed as a number) becomes "330802"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def is_blank(values: list[Any]) -> bool:
    """Blank lines at the end of a sheet are not rows."""
    return all(cell_text(v) == "" for v in values)


def _csv_lines(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError as exc:
            raise ImportFailed([RowError(0, _("无法识别文件编码，请保存为 UTF-8"), "file")]) from exc
    try:
        return [list(line) for line in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ImportFailed([RowError(0, _("CSV 格式错误：%(err)s") % {"err": exc}, "file")]) from exc


def _xlsx_lines(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return [list(values) for values in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    # openpyxl raises many kinds of errors on a damaged workbook (zip, XML, KeyError…); any of
    # them means "not a readable .xlsx", which the user must hear instead of a server error.
    except Exception as exc:
        raise ImportFailed([RowError(0, _("不是有效的 Excel (.xlsx) 文件"), "file")]) from exc
