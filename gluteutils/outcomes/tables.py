"""Table 1 (``tableone``) and the suppression of its small counts for display.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import ModelError
from gluteutils.privacy import label as hidden_label
from gluteutils.privacy import labelled, mask_attr, suppress_small_cells


def require_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise :class:`ModelError` naming the columns an analysis needs and the data lack."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ModelError(f"the data lack column(s) {missing}; have {list(df.columns)}")



def table_one(df: pd.DataFrame, columns: Sequence[str], groupby: str,
              categorical: Sequence[str] | None = None) -> pd.DataFrame:
    """Table 1 by ``groupby`` with ``tableone`` (no p-values: descriptive only).

    Returns the TableOne ``tableone`` DataFrame. Small-cell suppression is the caller's job
    (:func:`gluteutils.outcomes.models.suppress_table_one`).
    """
    from tableone import TableOne

    require_columns(df, [*columns, groupby])
    data = df.loc[:, [*columns, groupby]].copy()
    for c in data.columns:
        if pd.api.types.is_bool_dtype(data[c]):
            data[c] = data[c].map({True: "yes", False: "no"})
        elif isinstance(data[c].dtype, pd.CategoricalDtype):
            data[c] = data[c].cat.remove_unused_categories()
    if categorical is None:
        categorical = [c for c in columns if not pd.api.types.is_numeric_dtype(data[c])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = TableOne(data, columns=list(columns), categorical=list(categorical),
                         groupby=groupby, pval=False, missing=True, overall=True)
    return table.tableone


_COUNT_CELL = re.compile(r"^\s*(\d+)\s*(\(|$)")


def cell_count(value: object) -> int | None:
    """The count at the start of a Table 1 cell (``"12 (3.4)"`` or ``"12"``), else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        m = _COUNT_CELL.match(value)
        if m:
            return int(m.group(1))
    return None


def suppress_table_one(table: pd.DataFrame, threshold: int = 5, *,
                       marker: str = "n.p.", rounding: int = 5) -> tuple[pd.DataFrame, int]:
    """Small-cell suppression of a ``tableone`` Table 1 so no hidden count can be derived.

    For every categorical variable the level counts form a table (levels x groups + Overall)
    whose rows add up to the Overall column and whose columns add up to the published ``n``;
    it goes through :func:`gluteutils.privacy.suppress_small_cells` (primary suppression of
    counts 1..threshold-1 and complementary suppression along rows and columns, Overall
    included). The ``n`` row gets the same treatment (a group with a hidden ``n`` is hidden
    entirely); a small ``Missing`` count is hidden, and for a categorical variable its whole
    block with it. Counts 1..threshold-1 show as ``"<threshold"``, complementary cells as
    ``marker``. Every count shown is then rounded to the nearest ``rounding`` (5, the
    explorer's rule: exact sex and age-band counts per therapy here plus the explorer's
    rounded sex x age counts let integer programming pin small cells) and its percentage is
    recomputed from the rounded counts. Returns the suppressed table and how many cells were hidden
    (``result.attrs["suppressed"]`` is the boolean mask as nested tuples, one per row).
    """
    cols = list(table.columns)
    missing_col, overall_col, groups, count_cols = _table_one_columns(cols)
    hide = pd.DataFrame(False, index=table.index, columns=table.columns)
    variables = table.index.get_level_values(0) if isinstance(table.index, pd.MultiIndex) \
        else pd.Index([str(i) for i in table.index])
    one_label = False  # a block published with one label for every hidden cell
    for var in pd.unique(variables):
        rows = np.asarray(variables == var)
        name = str(var)
        categorical = name.endswith("n (%)")
        if name == "n" or categorical:
            one_label |= _suppress_block(table, hide, rows, count_cols,
                                         overall_col is not None, threshold)
        if missing_col is not None:
            first = np.flatnonzero(rows)[0]
            m = cell_count(table.iloc[first][missing_col])
            if m is not None and 0 < m < threshold:
                hide.iloc[first, cols.index(missing_col)] = True
                if categorical:
                    hide.loc[rows, count_cols] = True
        if name == "n":
            for c in groups:
                if hide.loc[rows, c].any():
                    hide[c] = True
    out = table.astype(object).copy()
    if rounding > 1:
        _round_table_one(table, out, hide, variables, count_cols, missing_col, rounding)
    thr = 1 if one_label else threshold  # thr 1: every hidden cell shows ``marker``
    for i in range(len(table)):
        for j in range(len(cols)):
            if hide.iat[i, j]:
                out.iat[i, j] = hidden_label(cell_count(table.iat[i, j]), thr, marker)
    out.attrs["suppressed"] = mask_attr(hide)
    return out, int(hide.to_numpy().sum())


def _round_table_one(table: pd.DataFrame, out: pd.DataFrame, hide: pd.DataFrame,
                     variables: pd.Index, count_cols: list[Any], missing_col: Any,
                     base: int) -> None:
    """Round the shown counts of ``out`` (a Table 1) to ``base``; a categorical level's
    percentage becomes rounded count / rounded block total (no exact count behind it)."""
    from gluteutils.privacy import round_counts

    cols = list(table.columns)
    for var in pd.unique(variables):
        rows = [int(i) for i in np.flatnonzero(np.asarray(variables == var))]
        name = str(var)
        if name == "n" or name.endswith("n (%)"):
            for c in count_cols:
                j = cols.index(c)
                raw = [cell_count(table.iat[i, j]) for i in rows]
                total = int(round_counts(sum(v or 0 for v in raw), base))
                for i, v in zip(rows, raw, strict=True):
                    if v is None:
                        continue
                    r = int(round_counts(v, base))
                    out.iat[i, j] = (str(r) if name == "n" else
                                     f"{r} ({100 * r / total:.1f})" if total else f"{r} (0.0)")
        if missing_col is not None:
            j = cols.index(missing_col)
            for i in rows:
                v = cell_count(table.iat[i, j])
                if v is not None and str(table.iat[i, j]).strip():
                    out.iat[i, j] = str(int(round_counts(v, base)))


def _column_label(c: Any) -> str:
    return str(c[-1]) if isinstance(c, tuple) else str(c)


def _table_one_columns(cols: list[Any]) -> tuple[Any, Any, list[Any], list[Any]]:
    """A Table 1's ``Missing`` and ``Overall`` columns (or None), its group columns, and the
    columns that hold counts (groups, then Overall)."""
    missing_col = next((c for c in cols if _column_label(c) == "Missing"), None)
    overall_col = next((c for c in cols if _column_label(c) == "Overall"), None)
    groups = [c for c in cols if c not in (missing_col, overall_col)]
    count_cols = groups + ([overall_col] if overall_col is not None else [])
    return missing_col, overall_col, groups, count_cols


def _suppress_block(table: pd.DataFrame, hide: pd.DataFrame, rows: np.ndarray,
                    count_cols: list[Any], has_overall: bool, threshold: int) -> bool:
    """Mark in ``hide`` the cells of one variable's block (levels x count columns) that
    :func:`suppress_small_cells` hides; True when the block is published with one label."""
    values = table.loc[rows, count_cols].map(cell_count)
    if values.isna().any().any():
        hide.loc[rows, count_cols] = True  # unreadable counts: hide rather than guess
        return False
    masked = suppress_small_cells(values.astype("int64"), threshold,
                                  total_column=count_cols[-1] if has_overall else None)
    hide.loc[rows, count_cols] = masked.attrs["suppressed"].to_numpy()
    return not masked.attrs["two_labels"]


def suppress_counts(table: pd.DataFrame, count: str, total: str, *,
                    derived: Sequence[str] = (), threshold: int = 5,
                    marker: str = "n.p.") -> pd.DataFrame:
    """A display copy of a table whose rows report ``count`` events out of ``total``.

    The cells ``count``, ``total - count`` (the complement, not shown but derivable) and
    ``total`` of every row go through :func:`gluteutils.privacy.suppress_small_cells`
    (counts 1..threshold-1 hidden, complementary cells along rows and down columns).
    Hidden counts show as ``"<threshold"`` when they are small themselves and as ``marker``
    otherwise; in a row with any hidden cell the ``derived`` columns (rates, their CIs, risk
    differences - each would give the count back) become missing. The input is unchanged;
    ``result.attrs["suppressed"]`` holds, per row, whether (count, total - count, total) are
    hidden.
    """
    x = table[count].astype("int64").to_numpy()
    n = table[total].astype("int64").to_numpy()
    wide = pd.DataFrame({"count": x, "rest": n - x, "total": n}, index=range(len(table)))
    masked = suppress_small_cells(wide, threshold, total_column="total")
    mask = masked.attrs["suppressed"]
    thr = threshold if masked.attrs["two_labels"] else 1
    out = table.copy()
    for col, key, values in ((count, "count", x), (total, "total", n)):
        out[col] = pd.Series(labelled(values, mask[key].to_numpy(), thr, marker),
                             index=out.index, dtype=object)
    any_hidden = mask.any(axis=1).to_numpy()
    for col in derived:
        if col in out.columns:
            out[col] = out[col].where(~any_hidden)
    out.attrs["suppressed"] = mask_attr(mask[["count", "rest", "total"]])
    return out
