"""Shared shape of import errors: every bad row is reported, nothing is written unless all is valid."""

from __future__ import annotations

from dataclasses import dataclass, field


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
