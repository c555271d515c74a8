"""k-anonymity over user-declared quasi-identifiers, by generalisation then suppression.

For records in equivalence classes smaller than ``k`` the optional quasi-identifiers are
generalised to "any" one at a time (blanked: site, then sex, then age band by default), and
records still in small classes are removed (record suppression). A column the data schema
requires (``condition``, ``therapy``) may be declared a quasi-identifier - it then counts in
k - but it is never blanked: asking for that is a :class:`RequiredColumnError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import RequiredColumnError

DEFAULT_K: int = 5
#: How a missing (generalised) quasi-identifier counts in an equivalence class.
MISSING_LABEL: str = "*"


def _qi_frame(frame: pd.DataFrame, qis: list[str]) -> pd.DataFrame:
    return pd.DataFrame({q: frame[q].astype(object).where(frame[q].notna(), MISSING_LABEL)
                         .astype(str) for q in qis}, index=frame.index)


def equivalence_classes(frame: pd.DataFrame, quasi_identifiers: list[str]) -> pd.DataFrame:
    """Each combination of quasi-identifier values with its number of records (missing
    values count as their own value ``"*"``), smallest first."""
    if not quasi_identifiers:
        return pd.DataFrame({"records": [len(frame)]})
    qi = _qi_frame(frame, quasi_identifiers)
    sizes = qi.value_counts().rename("records").reset_index()
    return sizes.sort_values(["records", *quasi_identifiers], kind="stable").reset_index(drop=True)


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str]) -> int:
    """k: the size of the smallest equivalence class (0 for an empty frame)."""
    if len(frame) == 0:
        return 0
    return int(equivalence_classes(frame, quasi_identifiers)["records"].min())


def class_sizes(frame: pd.DataFrame, qis: list[str]) -> pd.Series:
    """The size of each record's equivalence class."""
    qi = _qi_frame(frame, qis)
    return qi.groupby(qis, sort=False)[qis[0]].transform("size")


def enforce_k_anonymity(frame: pd.DataFrame, quasi_identifiers: list[str],
                        k: int = DEFAULT_K, *, suppress_order: list[str] | None = None,
                        required: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make ``frame`` k-anonymous over ``quasi_identifiers``.

    Optional quasi-identifiers of records in classes smaller than ``k`` are blanked one at
    a time (``suppress_order``; default: the declared optional ones from last to first),
    then records still in small classes are removed. ``required`` columns count in k but
    are never blanked (naming one in ``suppress_order`` raises
    :class:`RequiredColumnError`). Returns the new frame and the actions
    (``step, column, records, action``).
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    qis = list(quasi_identifiers)
    req = set(required)
    order = list(suppress_order) if suppress_order is not None else [
        q for q in reversed(qis) if q not in req]
    blocked = [c for c in order if c in req]
    if blocked:
        raise RequiredColumnError(
            f"k-anonymity would blank the required column(s) {blocked}; they stay as they "
            "are (rare combinations are removed instead): leave them out of suppress_order")
    out = frame.copy()
    actions: list[dict[str, Any]] = []
    cols = ["step", "column", "records", "action"]
    if not qis or len(out) == 0:
        return out, pd.DataFrame(actions, columns=cols)
    for step, col in enumerate(order, start=1):
        small = (class_sizes(out, qis) < k) & out[col].notna()
        if not small.any():
            continue
        out.loc[small, col] = None if not isinstance(out[col].dtype, pd.CategoricalDtype) \
            else np.nan
        actions.append({"step": step, "column": col, "records": int(small.sum()),
                        "action": "value generalised to any"})
    small = class_sizes(out, qis) < k
    if small.any():
        actions.append({"step": len(order) + 1, "column": None, "records": int(small.sum()),
                        "action": "record removed"})
        out = out.loc[~small]
    return out, pd.DataFrame(actions, columns=cols)
