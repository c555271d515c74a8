"""Result tables as a reader sees them: human labels, one number format (issue 13).

Estimators and the privacy layer return tidy frames with schema ids (``home_self_care``,
``ci_lower``) and full-precision floats. :func:`readable_table` is the display copy: column
names and id values in words, estimates to ``decimals`` places, p-values as ``0.012`` or
``<0.001``, counts as whole numbers, no scientific notation. :func:`readable_table_one` does
the same for a published Table 1 (its suppression labels stay as they are).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.outcomes.schema import CONDITION_LABELS, THERAPY_LABELS

#: Column names in words; a column not listed is written with spaces, first letter capital.
COLUMN_LABELS: dict[str, str] = {
    "condition": "Condition", "therapy": "Therapy", "treatment": "Therapy",
    "reference": "Compared with", "estimate": "Difference", "se": "Standard error",
    "ci_lower": "95% CI, lower", "ci_upper": "95% CI, upper", "p_value": "p",
    "p_adjusted": "p (Holm-adjusted)", "n": "People", "episodes": "Episodes",
    "method": "Method", "true_effect": "True effect", "covered": "CI covers the true effect",
    "nnt": "NNT", "nnt_ci": "NNT 95% CI", "nnt_lower": "NNT, lower", "nnt_upper": "NNT, upper",
    "max_smd_before": "Largest |SMD| before weighting",
    "max_smd_after": "Largest |SMD| after weighting",
    "over_before": "Covariates |SMD| >= 0.1 before", "over_after": "Covariates |SMD| >= 0.1 after",
    "balanced": "Balanced (every |SMD| < 0.1)",
    "lost_to_follow_up_pct": "Lost to follow-up (%)", "with_review": "With a review visit",
    "responders": "Responders", "rate": "Responder rate", "rate_lower": "Rate 95% CI, lower",
    "rate_upper": "Rate 95% CI, upper", "risk_difference": "Risk difference",
    "rd_lower": "Risk difference 95% CI, lower", "rd_upper": "Risk difference 95% CI, upper",
}

#: Id values in words (conditions, therapies).
VALUE_LABELS: dict[str, str] = {**CONDITION_LABELS, **THERAPY_LABELS}

#: Unit suffixes of column names, written as a unit in brackets (``length_mm`` -> ``Length (mm)``).
UNITS: dict[str, str] = {"_mm": "mm", "_deg": "°", "_pct": "%", "_days": "days"}

_COUNT = re.compile(r"^(n|episodes|responders|with_review|people|.*_count|over_(before|after))$")


def column_label(name: Any, labels: Mapping[str, str] | None = None) -> str:
    """A column or variable name in words (``leg_pain_below_knee`` -> ``Leg pain below knee``)."""
    text = str(name)
    table = {**COLUMN_LABELS, **(labels or {})}
    if text in table:
        return table[text]
    if text in VALUE_LABELS:
        return VALUE_LABELS[text]
    for suffix, unit in UNITS.items():
        if text.endswith(suffix) and len(text) > len(suffix):
            return column_label(text[: -len(suffix)], labels) + f" ({unit})"
    words = text.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _number(value: Any, column: str, decimals: int, ids: bool = True) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):d}"
    if not isinstance(value, (float, np.floating)):
        return VALUE_LABELS.get(str(value), value) if ids and isinstance(value, str) else value
    v = float(value)
    if np.isnan(v):
        return ""
    if np.isinf(v):
        return "infinite" if v > 0 else "-infinite"
    if column.startswith("p_") or column == "p_value":
        return "<0.001" if v < 0.001 else f"{v:.3f}"
    if _COUNT.match(column) and v == round(v):
        return f"{int(round(v)):d}"
    return f"{v:.{decimals}f}"


def readable_table(frame: pd.DataFrame, *, decimals: int = 2,
                   labels: Mapping[str, str] | None = None,
                   ids_in_words: bool = True) -> pd.DataFrame:
    """A display copy of ``frame``: labels in words, numbers as text in one format.

    ``labels`` adds or overrides column labels; ``ids_in_words=False`` leaves cell values
    that are condition or therapy ids as they are (e.g. a trial mapped onto stand-in ids).
    An integer index becomes row numbers 1..n. Nothing is recomputed: a number shown is the
    number in ``frame``, rounded."""
    out = frame.copy()
    for col in out.columns:
        name = str(col)
        out[col] = [_number(v, name, decimals, ids_in_words) for v in out[col].to_numpy()]
    out.columns = [column_label(c, labels) for c in out.columns]
    if pd.api.types.is_integer_dtype(out.index.dtype) and out.index.name is None:
        out.index = pd.RangeIndex(1, len(out) + 1)  # row numbers, not leftover positions
    else:  # a named index of ids (e.g. condition): in words too
        out.index = pd.Index([VALUE_LABELS.get(str(v), v) for v in out.index],
                             name=column_label(out.index.name) if out.index.name else None)
    return out


def readable_table_one(table: pd.DataFrame) -> pd.DataFrame:
    """A published Table 1 with variable names and therapy columns in words (its cells,
    including the ``"<5"`` and ``"n.p."`` labels, unchanged)."""
    out = table.copy()

    def variable(text: Any) -> str:
        name, _, rest = str(text).partition(",")
        if name == "n":
            return "n"  # Table 1's own row: episodes in the group
        return column_label(name) + ("," + rest if rest else "")

    if isinstance(out.index, pd.MultiIndex):
        out.index = pd.MultiIndex.from_tuples(
            [(variable(a), VALUE_LABELS.get(str(b), str(b))) for a, *_, b in out.index])
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples(
            [tuple(VALUE_LABELS.get(str(x), str(x)) for x in c) for c in out.columns])
    else:
        out.columns = [VALUE_LABELS.get(str(c), str(c)) for c in out.columns]
    out.attrs = dict(table.attrs)
    return out
