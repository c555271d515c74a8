"""Small-cell suppression whose complementary cells are chosen by the margin audit.

Primary suppression hides counts 1..threshold-1 (zeros are shown, AIHW style). Complementary
cells are then added one at a time until :func:`gluteutils.privacy.audit.audit_table` proves
that every hidden cell has more than one value consistent with all published margins: for
the first unprotected cell, the smallest shown non-zero count at least ``threshold`` in its
row or column is hidden (then any shown non-zero count, then a zero). The old rule "two
hidden cells per line" is not enough: a row total of 6 over a "<5" and an "n.p." forces 1+5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gluteutils.errors import DisclosureError
from gluteutils.privacy.audit import cell_range, first_unprotected
from gluteutils.privacy.labels import is_small


def _protects(values: np.ndarray, hidden: np.ndarray, extra: list[tuple[int, int]],
              cell: tuple[int, int], threshold: int, total_column: int | None,
              min_values: int, two_labels: bool) -> bool:
    trial = hidden.copy()
    for p in extra:
        trial[p] = True
    lo, hi = cell_range(values, trial, cell, threshold=threshold, total_column=total_column,
                        two_labels=two_labels)
    if 0 < values[cell] < threshold:
        min_values = min(min_values, threshold - 1)
    elif values[cell] == 0:
        min_values = 1
    return hi - lo + 1 >= min_values


def _patterns(values: np.ndarray, hidden: np.ndarray, i: int, j: int
              ) -> list[list[tuple[int, int]]]:
    """Cells to add for (i, j), cheapest first: one cell in its row or column, then the
    other three corners of a rectangle through it."""
    r, c = values.shape
    singles = [[(i, jj)] for jj in range(c) if jj != j] + [[(ii, j)] for ii in range(r)
                                                            if ii != i]
    rects = [[p for p in ((i, jj), (ii, j), (ii, jj)) if not hidden[p]]
             for ii in range(r) for jj in range(c) if ii != i and jj != j]
    out = [[p for p in pat if not hidden[p]] for pat in singles + rects]
    out = [p for p in out if p]
    return sorted(out, key=lambda pat: (int(sum(values[p] for p in pat)), len(pat), pat))


def _candidate(values: np.ndarray, hidden: np.ndarray, i: int, j: int, threshold: int,
               total_column: int | None, min_values: int, two_labels: bool
               ) -> list[tuple[int, int]] | None:
    """The cheapest cells to hide (fewest people hidden) that protect cell (i, j); if no
    single cell or rectangle does, the cheapest rectangle (progress); else any shown cell."""
    pats = _patterns(values, hidden, i, j)
    for pat in pats:
        if _protects(values, hidden, pat, (i, j), threshold, total_column, min_values,
                     two_labels):
            return pat
    rects = [p for p in pats if len(p) > 1]
    if rects:
        return rects[0]
    if pats:
        return pats[0]
    rest = [(ii, jj) for ii in range(values.shape[0]) for jj in range(values.shape[1])
            if not hidden[ii, jj]]
    return [min(rest, key=lambda p: (int(values[p]), p))] if rest else None


def _line_rule(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Cheap start: hide the smallest other non-zero cell of any line with one hidden cell
    (the audit then adds what margin reasoning still needs)."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for view_m, view_v in ((mask, values), (mask.T, values.T)):
            for i in range(view_m.shape[0]):
                line = view_m[i]
                if line.sum() != 1 or line.size < 2:
                    continue
                cand = np.flatnonzero(~line & (view_v[i] > 0))
                if cand.size:
                    line[cand[np.argmin(view_v[i][cand])]] = True
                    changed = True
    return mask


def _feasible(v: np.ndarray, hidden: np.ndarray, threshold: int, total_column: int | None,
              min_values: int, two_labels: bool) -> bool:
    """Can any pattern protect the small cells? (hiding everything is the best case)"""
    everything = np.ones_like(hidden, dtype=bool)
    return first_unprotected(v, everything, threshold=threshold, total_column=total_column,
                             min_values=min_values, two_labels=two_labels,
                             only_small=True) is None


def _search(v: np.ndarray, hidden: np.ndarray, threshold: int, total_column: int | None,
            min_values: int, two_labels: bool) -> np.ndarray | None:
    if not _feasible(v, hidden, threshold, total_column, min_values, two_labels):
        return None
    # small tables: the audit alone (fewest cells hidden); larger: the line rule first (fast)
    mask = hidden.copy() if v.size <= 16 else _line_rule(v, hidden)
    while mask.any():
        bad = first_unprotected(v, mask, threshold=threshold, total_column=total_column,
                                min_values=min_values, two_labels=two_labels)
        if bad is None:
            return mask
        i, j = bad
        nxt = _candidate(v, mask, i, j, threshold, total_column, min_values, two_labels)
        if nxt is None:
            return None
        for p in nxt:
            mask[p] = True
    return mask


def complementary_mask(values: np.ndarray, hidden: np.ndarray, *, threshold: int = 5,
                       total_column: int | None = None, min_values: int = 2,
                       two_labels: bool = True) -> np.ndarray:
    """Add complementary cells to ``hidden`` until the audit protects every hidden cell.

    Raises :class:`DisclosureError` when no pattern does (with ``two_labels`` a derivable
    small line total can pin its one small cell: publish that table with one label).
    """
    v = np.asarray(values, dtype="int64")
    mask = _search(v, np.asarray(hidden, dtype=bool), threshold, total_column, min_values,
                   two_labels)
    if mask is None:
        raise DisclosureError(
            f"no suppression pattern protects the small counts of a {v.shape[0]}x"
            f"{v.shape[1]} table{' with two labels' if two_labels else ''}: its margins "
            "pin one; publish it with one label for every hidden cell, or coarser")
    return mask


def total_column_of(values: np.ndarray) -> int | None:
    """The column that is the row total of the others in every row (an attacker uses such a
    relation whatever the column is called), if exactly one is."""
    v = np.asarray(values, dtype="int64")
    if v.ndim != 2 or v.shape[1] < 3 or not v.any():
        return None
    rest = v.sum(axis=1, keepdims=True) - v
    hits = [j for j in range(v.shape[1]) if (v[:, j] == rest[:, j]).all()]
    return hits[0] if len(hits) == 1 else None


def _check_counts(values: np.ndarray) -> None:
    if np.isnan(values).any() or (values < 0).any() or (values != np.floor(values)).any():
        raise ValueError("count cells must be non-negative whole numbers without missing values")


def _tidy(table: pd.DataFrame, threshold: int, count: str, rows: str | list[str],
          cols: str, complementary: bool, marker: str | None) -> pd.DataFrame:
    row_keys = [rows] if isinstance(rows, str) else list(rows)
    keys = [*row_keys, cols]
    dup = table.duplicated(keys, keep=False)
    if dup.any():
        shown = table.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
        raise ValueError(f"a tidy table needs one row per ({', '.join(keys)}); "
                         f"{int(dup.sum())} rows share a key, e.g. {shown} "
                         "(aggregate them first)")
    has_missing = bool(table[keys].isna().any().any())
    wide = table.pivot_table(index=row_keys, columns=cols, values=count, aggfunc="sum",
                             fill_value=0, observed=True, dropna=not has_missing)
    masked = suppress_small_cells(wide, threshold, complementary=complementary)
    flags = masked.attrs["suppressed"].stack().rename("__suppressed__")
    keyed = table.join(flags, on=keys)
    out = table.copy()
    # a cell the cross-table did not decide on is hidden, never shown unflagged
    hide = keyed["__suppressed__"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    out[count] = out[count].astype("Int64")
    out.loc[hide, count] = pd.NA
    if marker is not None:
        out[count] = out[count].astype(object).where(~hide, marker)
    out.attrs["suppressed"] = pd.Series(hide, index=out.index)
    return out


def suppress_small_cells(table: pd.DataFrame, threshold: int = 5, *,
                         columns: list[str] | None = None, count: str | None = None,
                         rows: str | list[str] | None = None, cols: str | None = None,
                         complementary: bool = True, marker: str | None = None,
                         total_column: str | None = None) -> pd.DataFrame:
    """Hide counts 1..threshold-1 and, with ``complementary=True``, the audited
    complementary cells (:func:`complementary_mask`).

    Wide tables: the count cells are ``columns`` (default: every numeric column); hidden
    cells become ``<NA>`` (nullable integers) or ``marker``. ``total_column`` names a column
    that is the row total of the others (then it is a cell too, not an implied margin); by
    default such a column is found from the values (:func:`total_column_of`).
    Tidy tables: give ``count``, ``rows`` and ``cols``; suppression runs on the cross-table.
    ``result.attrs["suppressed"]`` is the boolean mask.
    """
    if threshold < 1:
        raise ValueError("threshold must be >= 1")
    if count is not None:
        if rows is None or cols is None:
            raise ValueError("a tidy table needs count=, rows= and cols=")
        return _tidy(table, threshold, count, rows, cols, complementary, marker)
    two_labels = True
    cells = columns if columns is not None else [
        c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    values = table[cells].to_numpy(dtype="float64", na_value=np.nan)
    _check_counts(values)
    mask = is_small(values, threshold)
    if complementary and mask.any():
        k = cells.index(total_column) if total_column is not None else total_column_of(values)
        try:
            mask = complementary_mask(values.astype("int64"), mask, threshold=threshold,
                                      total_column=k)
        except DisclosureError:
            two_labels = False  # every hidden cell of this table shows one label
            mask = complementary_mask(values.astype("int64"), mask, threshold=threshold,
                                      total_column=k, two_labels=False)
    out = table.copy()
    for j, c in enumerate(cells):
        col = out[c].astype("Int64")
        col[mask[:, j]] = pd.NA  # type: ignore[call-overload]
        out[c] = col if marker is None else col.astype(object).where(~mask[:, j], marker)
    out.attrs["suppressed"] = pd.DataFrame(mask, index=table.index, columns=cells)
    out.attrs["two_labels"] = two_labels  # False: show every hidden cell as "n.p."
    return out
