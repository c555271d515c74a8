"""The calibration table of the synthetic cohort, read from ``data/outcomes/calibration.csv``.

SYNTHETIC DATA: these parameters drive a simulation; they do not describe real patients.
Every row names its source (a key of ``data/references/*.yaml``) or ``assumption`` where no
published number exists. Edit the CSV, not code; :func:`read_calibration` checks it.

Columns: ``name, condition, therapy, value, unit, source, note``; ``*`` in ``condition`` or
``therapy`` means "any". Symptom answer probabilities are the rows named ``symptom_<column>``;
``site_share`` rows name their site in ``note``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from gluteutils._paths import data_path
from gluteutils.errors import DataProblem, DataValidationError
from gluteutils.outcomes import schema as S

ASSUMPTION: str = "assumption"
ALL: str = "*"
CALIBRATION_FILE: Path = data_path("outcomes", "calibration.csv")
COLUMNS: tuple[str, ...] = ("name", "condition", "therapy", "value", "unit", "source", "note")


@dataclass(frozen=True)
class Parameter:
    """One calibration parameter: what it is, its value, and where the value comes from."""

    name: str
    condition: str
    therapy: str
    value: float
    unit: str
    source: str
    note: str


def read_calibration(path: str | Path = CALIBRATION_FILE) -> tuple[Parameter, ...]:
    """Read and check a calibration CSV (header, numeric values, a source on every row,
    known conditions and therapies, no duplicate parameter)."""
    path = Path(path)
    problems: list[DataProblem] = []
    out: list[Parameter] = []
    seen: set[tuple[str, str, str, str]] = set()
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise DataValidationError([DataProblem(
                file=str(path), row=0, column=None, message="unexpected header",
                expected=f"columns {list(COLUMNS)}", value=str(reader.fieldnames))])
        for row_no, row in enumerate(reader, start=1):  # data rows from 1 (header = row 0)
            def bad(column: str, expected: str, row_no: int = row_no,
                    row: dict[str, str] = row) -> None:
                problems.append(DataProblem(
                    file=str(path), row=row_no, column=column,
                    message=f"{column} {row[column]!r} is not valid", expected=expected,
                    value=row[column]))
            try:
                value = float(row["value"])
            except ValueError:
                bad("value", "a number")
                continue
            if not np.isfinite(value):
                bad("value", "a finite number")
            if not row["source"].strip():
                bad("source", f"a reference key or {ASSUMPTION!r}")
            if row["condition"] not in (ALL, *S.CONDITIONS):
                bad("condition", f"{ALL!r} or one of {list(S.CONDITIONS)}")
            site = row["note"] if row["name"] == "site_share" else ""  # the site is in note
            key = (row["name"], row["condition"], row["therapy"], site)
            if key in seen:
                bad("name", "each (name, condition, therapy) once")
            seen.add(key)
            out.append(Parameter(row["name"], row["condition"], row["therapy"], value,
                                 row["unit"], row["source"], row["note"]))
    if problems:
        raise DataValidationError(problems)
    return tuple(out)


@cache
def calibration() -> tuple[Parameter, ...]:
    """The shipped calibration table (read once)."""
    return read_calibration()


def calibration_table() -> pd.DataFrame:
    """The calibration as a tidy DataFrame (one row per parameter)."""
    return pd.DataFrame([p.__dict__ for p in calibration()])


def param(name: str, condition: str = ALL, therapy: str = ALL) -> float:
    """The value of one parameter (``KeyError`` naming it when absent)."""
    for p in calibration():
        if p.name == name and p.condition == condition and p.therapy == therapy:
            return p.value
    raise KeyError((name, condition, therapy))


def by_condition(name: str) -> np.ndarray:
    """``name``'s value for each condition, in :data:`schema.CONDITIONS` order."""
    return np.array([param(name, c) for c in S.CONDITIONS])


def _condition_therapy_matrix(name: str) -> np.ndarray:
    out = np.zeros((len(S.CONDITIONS), len(S.THERAPIES)))
    for p in calibration():
        if p.name == name:
            out[S.CONDITIONS.index(p.condition), S.THERAPIES.index(p.therapy)] = p.value
    return out


def effect_matrix() -> np.ndarray:
    """True therapy effects (condition x therapy; 0 for the reference and unused pairs)."""
    return _condition_therapy_matrix("effect")


def share_matrix() -> np.ndarray:
    """Share of each therapy within each condition before confounding by indication."""
    return _condition_therapy_matrix("therapy_share")


def site_shares() -> list[float]:
    """Share of episodes at each site, in :data:`schema.SITES` order."""
    return [p.value for site in S.SITES for p in calibration()
            if p.name == "site_share" and p.note == site]


def symptom_probabilities() -> dict[str, dict[str, float]]:
    """``{condition: {symptom column: probability}}`` from the ``symptom_*`` rows."""
    out: dict[str, dict[str, float]] = {}
    for p in calibration():
        if p.name.startswith("symptom_"):
            out.setdefault(p.condition, {})[p.name.removeprefix("symptom_")] = p.value
    return out
