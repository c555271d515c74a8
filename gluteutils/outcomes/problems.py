"""The problem log of a validation run and its tidy report (file, row, column, value, message)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import DataProblem, DataValidationError

REPORT_COLUMNS: list[str] = ["file", "row", "column", "value", "message", "expected"]


class ProblemLog:
    """The problems of one file, each naming its row, column, value and what was expected."""
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[DataProblem] = []

    def add(self, row: int | None, column: str | None, message: str,
            expected: str | None = None, value: Any = None) -> None:
        self.items.append(DataProblem(self.file, row, column, message, expected,
                                      None if value is None else str(value)))

    def add_rows(self, rows: np.ndarray, column: str, message: str, expected: str,
                 values: Any) -> None:
        vals = list(values)
        for r, v in zip(rows.tolist(), vals, strict=True):
            self.add(int(r), column, message, expected, None if is_missing(v) else v)

    def raise_if_any(self) -> None:
        if self.items:
            raise DataValidationError(sorted(self.items, key=problem_sort_key))


def is_missing(v: Any) -> bool:
    """True for a missing scalar (None, NaN, pd.NA); False for anything pandas cannot test."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def problem_sort_key(p: DataProblem) -> tuple[int, str]:
    """Sort problems by row (whole-file problems first), then column."""
    return (-1 if p.row is None else p.row, p.column or "")


def problem_report(problems: list[DataProblem]) -> pd.DataFrame:
    """Problems as a tidy report (``REPORT_COLUMNS``), sorted by row and column."""
    rows = [{"file": p.file, "row": p.row, "column": p.column, "value": p.value,
             "message": p.message, "expected": p.expected} for p in problems]
    rep = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    return rep.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
