"""The attacker: margin reasoning (integer programs) over published tables, differencing over
the explorer's filters. Shared by tests/test_disclosure_attacks.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from gluteutils.outcomes import models
from gluteutils.outcomes.explorer import Explorer, Filters
from gluteutils.outcomes.schema import AGE_BANDS, CONDITIONS, SEXES
from gluteutils.outcomes.tables import cell_count
from gluteutils.privacy import audit_table

T = 5
#: Every view the explorer widget offers for one condition: all, each sex, each age band, both.
VIEWS = ([((), ())] + [((s,), ()) for s in SEXES] + [((), (a,)) for a in AGE_BANDS]
         + [((s,), (a,)) for s in SEXES for a in AGE_BANDS])


def pinned_small_counts(targets: np.ndarray, truth: np.ndarray,
                        constraints: LinearConstraint) -> tuple[int, int]:
    """Of the targets (0/1 selections of the 12 cells) whose true count is 1-4: how many,
    and how many the published constraints pin to one value (two integer programs each)."""
    small = recovered = 0
    for sel in targets:
        true = int(sel @ truth)
        if not 0 < true < T:
            continue
        small += 1
        kw = {"integrality": np.ones(12), "constraints": constraints, "bounds": Bounds(0, np.inf)}
        r1, r2 = milp(sel, **kw), milp(-sel, **kw)
        if r1.status == 0 and r2.status == 0 and round(r1.fun) == round(-r2.fun):
            recovered += 1
    return small, recovered


def pinned(report: pd.DataFrame) -> tuple[int, int]:
    """(hidden cells pinned to one value, of them small counts)."""
    bad = report[report["values"] == 1]
    return int(len(bad)), int((bad["kind"] == "small").sum())


def table_one_attack(frame: pd.DataFrame, condition: str) -> tuple[int, int]:
    """Margin attack on the published Table 1 of one condition (every count block)."""
    table, _ = models.table_one_by_therapy(frame, condition=condition)
    mask = np.array(table.attrs["suppressed"], dtype=bool)
    d = frame[frame["condition"].astype(str) == condition]
    cols = [c for c in models.TABLE_ONE_COLUMNS if c in d.columns]
    raw = models.table_one(d.assign(therapy=d["therapy"].astype(str)), cols, "therapy")
    labels = [str(c[-1]) if isinstance(c, tuple) else str(c) for c in raw.columns]
    count_cols = [j for j, lab in enumerate(labels) if lab != "Missing"]
    overall = [labels[j] for j in count_cols].index("Overall")
    var = raw.index.get_level_values(0)
    out = [0, 0]
    for v in pd.unique(var):
        if not (str(v) == "n" or str(v).endswith("n (%)")):
            continue
        rows = np.flatnonzero(var == v)
        vals = raw.iloc[rows, count_cols].map(cell_count)
        hidden = mask[np.ix_(rows, count_cols)]
        if vals.isna().any().any() or not hidden.any():
            continue
        a, b = pinned(audit_table(vals.to_numpy().astype(int), hidden, threshold=T,
                                  total_column=overall))
        out[0] += a
        out[1] += b
    return out[0], out[1]


def count_rest_total_attack(published: pd.DataFrame, count: pd.Series,
                            total: pd.Series) -> tuple[int, int]:
    """Margin attack on a (count, total - count, total) table with its published mask."""
    mask = np.array(published.attrs["suppressed"], dtype=bool)
    if not mask.any():
        return 0, 0
    vals = np.c_[count, total - count, total].astype(int)
    return pinned(audit_table(vals, mask, threshold=T, total_column=2))


def _view_bounds(view, therapy: str, whole_range: tuple[int, int] | None) -> tuple[int, int]:
    """What a published view says about one therapy's count."""
    t = view.table.set_index(view.table["therapy"].astype(str))
    if therapy in t.index:
        n = int(t.loc[therapy, "episodes"])
        rounded = any("rounded to the nearest 5" in note for note in view.notes)
        return (max(T, n - 2), n + 2) if rounded else (n, n)
    if whole_range is not None:
        return whole_range
    return 0, T - 1


def differencing_attack(explorer: Explorer, episodes: pd.DataFrame, condition: str,
                        therapy: str, whole_range: tuple[int, int] | None = None
                        ) -> tuple[int, int]:
    """Combine every explorer view of one condition x therapy (integer program over the
    2 x 6 sex x age cells). Returns (small counts among the views, of them recovered)."""
    e = episodes[(episodes["condition"].astype(str) == condition)
                 & (episodes["therapy"].astype(str) == therapy)]
    truth = np.array([[int(((e["sex"].astype(str) == s) & (e["age_band"].astype(str) == a))
                           .sum()) for a in AGE_BANDS] for s in SEXES]).ravel()
    rows, lo, hi = [], [], []
    for sx, ag in VIEWS:
        sel = np.array([[float((not sx or s in sx) and (not ag or a in ag)) for a in AGE_BANDS]
                        for s in SEXES]).ravel()
        view = explorer.update(Filters(condition, (), ag, sx))
        lower, upper = _view_bounds(view, therapy, whole_range if not sx and not ag else None)
        rows.append(sel)
        lo.append(lower)
        hi.append(upper)
    a = np.array(rows)
    return pinned_small_counts(a, truth, LinearConstraint(a, lo, hi))


def km_small_steps(explorer: Explorer, condition: str) -> int:
    """Drops of 1-4 people at risk between consecutive shown days, over every view."""
    steps = 0
    for sx, ag in VIEWS:
        view = explorer.update(Filters(condition, (), ag, sx))
        for _, g in view.km.groupby("therapy", observed=True):
            drops = -np.diff(g["at_risk"].dropna().astype(int).to_numpy())
            steps += int(((drops > 0) & (drops < T)).sum())
    return steps


__all__ = ["CONDITIONS", "count_rest_total_attack", "differencing_attack", "km_small_steps",
           "mean_denominators", "table_one_explorer_attack",
           "pinned", "table_one_attack"]


def table_one_explorer_attack(explorer: Explorer, frame: pd.DataFrame, episodes: pd.DataFrame,
                              condition: str) -> tuple[int, int]:
    """Two views on one screen: Table 1 of one condition (sex and age-band counts per
    therapy) combined with the explorer's counts for every sex x age filter, as one integer
    program over the 2 x 6 cells of each therapy. A shown count ``c`` is taken as exact
    unless the page says counts are rounded (then ``c`` stands for ``c - 2 .. c + 2``).
    Returns (small counts among the views and cells, of them recovered)."""
    from gluteutils.outcomes.schema import THERAPIES

    table, _ = models.table_one_by_therapy(frame, condition=condition)
    shown = [cell_count(v) for v in table.to_numpy().ravel()]
    # counts taken as rounded only when every one is a multiple of 5 (the policy's rounding)
    t1_rounded = all(c % 5 == 0 for c in shown if c is not None)
    views = {}
    for sx, ag in VIEWS:
        v = explorer.update(Filters(condition, (), ag, sx))
        views[(sx, ag)] = v.table.set_index(v.table["therapy"].astype(str))
    cols = {(c[-1] if isinstance(c, tuple) else c): c for c in table.columns}
    small = recovered = 0
    for therapy in THERAPIES:
        e = episodes[(episodes["condition"].astype(str) == condition)
                     & (episodes["therapy"].astype(str) == therapy)]
        truth = np.array([[int(((e["sex"].astype(str) == s) & (e["age_band"].astype(str) == a))
                               .sum()) for a in AGE_BANDS] for s in SEXES]).ravel()
        rows, lo, hi = [], [], []

        def cells(sx: tuple[str, ...], ag: tuple[str, ...]) -> np.ndarray:
            return np.array([[float((not sx or s in sx) and (not ag or a in ag))
                              for a in AGE_BANDS] for s in SEXES]).ravel()

        for sx, ag in VIEWS:
            t = views[(sx, ag)]
            if therapy in t.index:
                n = int(t.loc[therapy, "episodes"])
                rows.append(cells(sx, ag)), lo.append(max(T, n - 2)), hi.append(n + 2)
            elif sx or ag:
                rows.append(cells(sx, ag)), lo.append(0), hi.append(T - 1)
        if therapy not in cols:
            continue
        for (var, level), value in table[cols[therapy]].items():
            sel = (cells((str(level),), ()) if str(level) in SEXES and str(var).startswith("sex")
                   else cells((), (str(level),)) if str(level) in AGE_BANDS else
                   np.ones(12) if str(var) == "n" else None)
            if sel is None:
                continue
            c = cell_count(value)
            if c is not None:
                exact = not t1_rounded or c == 0
                rows.append(sel), lo.append(c if exact else max(T, c - 2))
                hi.append(c if exact else c + 2)
            elif str(value).startswith("<"):
                rows.append(sel), lo.append(1), hi.append(T - 1)
        a = np.array(rows)
        s, r = pinned_small_counts(np.vstack([a, np.eye(12)]), truth,
                                   LinearConstraint(a, lo, hi))
        small += s
        recovered += r
    return small, recovered


def mean_denominators(mean: float, shown_n: int, grid: float = 1.0) -> list[int]:
    """Every count ``n`` the shown (rounded) count allows for which some sum of values on
    ``grid`` gives a mean that is shown as ``mean`` (full precision: exactly; else rounded
    to its own last decimal, or to 0.2 for one decimal)."""
    import math

    text = repr(float(mean))
    decimals = len(text.split(".")[1]) if "." in text else 0
    out = []
    for n in range(max(T, shown_n - 2), shown_n + 3):
        if decimals >= 6:
            ok = abs(mean * n / grid - round(mean * n / grid)) < 1e-6
        else:
            step = max(10.0 ** -decimals, 0.2 if decimals == 1 else 0.0)
            ok = math.floor((mean + step / 2) * n / grid) >= math.ceil(
                (mean - step / 2) * n / grid - 1e-9)
        if ok:
            out.append(n)
    return out
