"""Prove a released table protects every hidden cell against margin reasoning.

An attacker who knows the policy sees the published cells and every margin (row totals,
column totals, the grand total; a margin that is itself 1..threshold-1 is only known to be
small), and knows that a cell shown ``"<5"`` is 1-4 and a cell shown ``"n.p."`` is 0 or at
least ``threshold``. For each hidden cell :func:`audit_table` solves two integer programs
(:func:`scipy.optimize.milp`, HiGHS): the smallest and the largest value the cell can take
with every count a non-negative whole number consistent with all of that. A hidden cell is
protected when this range holds at least ``min_values`` values (default 2: the attacker
cannot pin it). This is the exact attack (integer reasoning), not only the LP relaxation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from gluteutils.errors import DisclosureError


@dataclass
class _Program:
    """The attacker's integer program: variables, bounds, equalities."""

    n_vars: int
    lower: list[float]
    upper: list[float]
    rows: list[dict[int, float]]
    rhs: list[float]
    cell_var: dict[tuple[int, int], int]

    def add_var(self, lo: float, hi: float) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.n_vars += 1
        return self.n_vars - 1

    def solve(self, var: int, sense: float) -> float:
        c = np.zeros(self.n_vars)
        c[var] = sense
        if not hasattr(self, "_cons"):  # built once per program
            a = np.zeros((len(self.rows), self.n_vars))
            for r, coeffs in enumerate(self.rows):
                for j, w in coeffs.items():
                    a[r, j] += w
            self._cons = [LinearConstraint(a, self.rhs, self.rhs)] if self.rows else []
            self._bounds = Bounds(self.lower, self.upper)
        res = milp(c, integrality=np.ones(self.n_vars), constraints=self._cons,
                   bounds=self._bounds)
        if res.status != 0 or res.x is None:  # pragma: no cover - the true table is feasible
            raise DisclosureError(f"audit program could not be solved: {res.message}")
        return float(round(res.x[var]))


def _term(prog: _Program, coeffs: dict[int, float], value: int, hidden: bool,
          var: int | None) -> float:
    """Add a cell to an equation: its variable if hidden, else return its constant."""
    if hidden and var is not None:
        coeffs[var] = coeffs.get(var, 0.0) + 1.0
        return 0.0
    return float(value)


def _margin(prog: _Program, total: int, threshold: int, coeffs: dict[int, float],
            const: float) -> None:
    """Close an equation ``sum(coeffs) + const = total``: a small total is a variable."""
    if 0 < total < threshold:
        m = prog.add_var(1, threshold - 1)
        coeffs[m] = coeffs.get(m, 0.0) - 1.0
        prog.rows.append(coeffs)
        prog.rhs.append(-const)
    else:
        prog.rows.append(coeffs)
        prog.rhs.append(float(total) - const)


def _program(values: np.ndarray, hidden: np.ndarray, threshold: int,
             total_column: int | None, two_labels: bool = True) -> _Program:
    r, c = values.shape
    body = [j for j in range(c) if j != total_column]
    grand = int(values[:, body].sum())
    big = float(max(grand, threshold))
    prog = _Program(0, [], [], [], [], {})
    for i in range(r):
        for j in range(c):
            if not hidden[i, j]:
                continue
            v = int(values[i, j])
            if not two_labels:  # one label for every hidden cell: any count
                prog.cell_var[(i, j)] = prog.add_var(0, big)
            elif 0 < v < threshold:
                prog.cell_var[(i, j)] = prog.add_var(1, threshold - 1)
            else:  # "n.p.": 0 or >= threshold, x = 0 unless b = 1
                x = prog.add_var(0, big)
                b = prog.add_var(0, 1)
                prog.rows.append({x: 1.0, b: -threshold, prog.add_var(0, big): -1.0})
                prog.rhs.append(0.0)  # x - t b - s = 0 with s >= 0: x >= t b
                prog.rows.append({x: 1.0, b: -big, prog.add_var(0, big): 1.0})
                prog.rhs.append(0.0)  # x - big b + s = 0 with s >= 0: x <= big b
                prog.cell_var[(i, j)] = x
    # a one-column table's row totals are its cells (and a one-row table's column totals):
    # publishing them would publish the cells, so they are not taken as margins
    for i in range(r if (len(body) > 1 or total_column is not None) else 0):  # rows
        coeffs: dict[int, float] = {}
        const = sum(_term(prog, coeffs, int(values[i, j]), bool(hidden[i, j]),
                          prog.cell_var.get((i, j))) for j in body)
        if total_column is None:
            _margin(prog, int(values[i, body].sum()), threshold, coeffs, const)
        else:
            k = total_column
            if hidden[i, k]:
                coeffs[prog.cell_var[(i, k)]] = coeffs.get(prog.cell_var[(i, k)], 0.0) - 1
                prog.rows.append(coeffs)
                prog.rhs.append(-const)
            else:
                prog.rows.append(coeffs)
                prog.rhs.append(float(values[i, k]) - const)
    for j in range(c if r > 1 else 0):  # columns (totals published with the grand total)
        coeffs = {}
        const = sum(_term(prog, coeffs, int(values[i, j]), bool(hidden[i, j]),
                          prog.cell_var.get((i, j))) for i in range(r))
        _margin(prog, int(values[:, j].sum()), threshold, coeffs, const)
    return prog


def audit_table(values: np.ndarray | pd.DataFrame, hidden: np.ndarray | pd.DataFrame, *,
                threshold: int = 5, total_column: int | None = None,
                min_values: int = 2, two_labels: bool = True) -> pd.DataFrame:
    """The attacker's feasible range of every hidden cell of a released count table.

    ``values``: the true counts (rows x columns); ``hidden``: which cells are not shown.
    Row and column totals and the grand total are taken as published (a small one only as
    "1 to threshold-1"; a one-row table has no column totals apart from its cells); with
    ``total_column`` that column is the row total and is itself a cell. ``two_labels``: hidden cells show ``"<5"`` (1-4) or ``"n.p."`` (0 or >= 5); False:
    every hidden cell shows one label (the attacker knows only that it is a count). Returns
    one row per hidden cell: ``row``, ``col``, ``value``, ``kind`` (``small`` /
    ``complementary``), ``lower``, ``upper``, ``values`` (how many values are possible) and
    ``protected`` (at least ``min_values``; for a small cell at most ``threshold - 1``, all
    its label allows; a hidden zero needs none, zeros being publishable).
    """
    v = np.asarray(values, dtype="int64")
    h = np.asarray(hidden, dtype=bool)
    if v.shape != h.shape or v.ndim != 2:
        raise ValueError("values and hidden must be two tables of the same shape")
    prog = _program(v, h, threshold, total_column, two_labels)
    out = []
    for (i, j), var in sorted(prog.cell_var.items()):
        lo, hi = prog.solve(var, 1.0), prog.solve(var, -1.0)
        val = int(v[i, j])
        small = 0 < val < threshold
        # a "<2" cell is 1 by its label: a small cell needs at most threshold - 1 values;
        # a hidden zero may be pinned to 0 (zeros are published under the policy anyway)
        need = min(min_values, threshold - 1) if small else (min_values if val else 1)
        out.append({"row": i, "col": j, "value": val,
                    "kind": "small" if small else "complementary",
                    "lower": int(lo), "upper": int(hi), "values": int(hi - lo + 1),
                    "protected": bool(hi - lo + 1 >= need)})
    return pd.DataFrame(out, columns=["row", "col", "value", "kind", "lower", "upper",
                                      "values", "protected"])


def cell_range(values: np.ndarray, hidden: np.ndarray, cell: tuple[int, int], *,
               threshold: int = 5, total_column: int | None = None,
               two_labels: bool = True) -> tuple[int, int]:
    """The attacker's ``(lowest, highest)`` value of one hidden ``cell``."""
    v = np.asarray(values, dtype="int64")
    prog = _program(v, np.asarray(hidden, dtype=bool), threshold, total_column, two_labels)
    var = prog.cell_var[cell]
    return int(prog.solve(var, 1.0)), int(prog.solve(var, -1.0))


def first_unprotected(values: np.ndarray, hidden: np.ndarray, *, threshold: int = 5,
                      total_column: int | None = None, min_values: int = 2,
                      two_labels: bool = True, only_small: bool = False
                      ) -> tuple[int, int] | None:
    """The first hidden cell (row order) the attacker can pin, or None: :func:`audit_table`
    that stops early (``only_small``: check the small cells only)."""
    v = np.asarray(values, dtype="int64")
    prog = _program(v, np.asarray(hidden, dtype=bool), threshold, total_column, two_labels)
    for (i, j), var in sorted(prog.cell_var.items()):
        val = int(v[i, j])
        small = 0 < val < threshold
        if only_small and not small:
            continue
        need = min(min_values, threshold - 1) if small else (min_values if val else 1)
        if prog.solve(var, -1.0) - prog.solve(var, 1.0) + 1 < need:
            return i, j
    return None


def is_protected(values: np.ndarray | pd.DataFrame, hidden: np.ndarray | pd.DataFrame, *,
                 threshold: int = 5, total_column: int | None = None,
                 min_values: int = 2, two_labels: bool = True) -> bool:
    """True when :func:`audit_table` finds every hidden cell protected."""
    report = audit_table(values, hidden, threshold=threshold, total_column=total_column,
                         min_values=min_values, two_labels=two_labels)
    return bool(report["protected"].all())
