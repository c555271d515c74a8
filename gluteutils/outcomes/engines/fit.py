"""Model fits from engine-computed sufficient statistics (no row ever leaves the engine).

* ANCOVA (OLS): the first pass gives X'X, X'y, y'y, n (exact integers); the coefficients are
  ``solve(X'X, X'y)``; a second pass with the coefficients inlined gives e'e and the HC1 meat
  sum(e^2 x x'), so the robust covariance is ``n/(n-k) (X'X)^-1 M (X'X)^-1`` (White 1980,
  MacKinnon & White 1985) - what ``statsmodels.OLS.fit(cov_type="HC1")`` reports.
* Repeated measures: Gaussian GEE with an exchangeable working correlation (Liang & Zeger
  1986). For that model every quantity of the iteration is a function of per-cluster-size
  sums (clusters, sum of s s', s ty, ty^2 with s a cluster's column sums) and the visit-level
  X'X, X'y, y'y, so the iteration runs on a few hundred numbers; the robust (sandwich) meat
  needs one more pass. The iteration mirrors ``statsmodels`` GEE step for step (OLS start,
  the same moment estimates of scale and correlation, the same stopping rule).

Which columns enter: like ``gluteutils.outcomes.models``, each categorical keeps its present
levels but the first (sorted), covariates constant within a condition are dropped, the
therapy reference is ``home_self_care``. Treatment effects do not depend on which level of a
covariate is the reference, so these fits equal the in-memory ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gluteutils.outcomes.engines.sql import REFERENCE, Column, moment_exponents, moment_name

COLUMNS = ["treatment", "reference", "estimate", "se", "ci_lower", "ci_upper", "p_value", "n"]


def sym(row: pd.Series, prefix: str, k: int) -> np.ndarray:
    """The symmetric k x k matrix stored as ``{prefix}_{i}_{j}`` (i <= j) in ``row``."""
    m = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            m[i, j] = m[j, i] = float(row[f"{prefix}_{i}_{j}"])
    return m


def vec(row: pd.Series, prefix: str, k: int) -> np.ndarray:
    return np.array([float(row[f"{prefix}_{i}"]) for i in range(k)])


def _sort_key(level: str, factor: str) -> Any:
    return int(level) if factor == "time_bin" else level


def keep_columns(cols: Sequence[Column], xx: np.ndarray, n: float) -> list[int]:
    """Indices of the design columns the in-memory model would use for these data."""
    keep: list[int] = []
    factors: dict[str, list[int]] = {}
    for i, c in enumerate(cols):
        if c.level is not None:
            factors.setdefault(c.factor, []).append(i)
        elif c.factor == "Intercept" or c.factor.startswith("baseline"):
            keep.append(i)
        elif n * xx[i, i] - xx[0, i] ** 2 > 0:  # numeric covariate that varies
            keep.append(i)
    for factor, idx in factors.items():
        present = [i for i in idx if xx[i, i] > 0]
        if factor == "therapy":
            keep += present  # the reference has no column
            continue
        present.sort(key=lambda i: _sort_key(str(cols[i].level), factor))
        keep += present[1:]  # first present level is the reference; one level: dropped
    return sorted(keep)


def comparable_columns(cols: Sequence[Column], xx: np.ndarray, n: float) -> list[int] | None:
    """The kept design columns, or ``None`` when the condition has no therapy to compare with
    the reference or no one on the reference (such conditions are left out, as in
    ``models.ANCOVA``)."""
    keep = keep_columns(cols, xx, n)
    n_ther = sum(1 for i in keep if cols[i].factor == "therapy")
    n_ref = n - sum(xx[0, i] for i in keep if cols[i].factor == "therapy")
    return None if n_ther == 0 or n_ref <= 0 else keep


def _effects(cols: Sequence[Column], keep: list[int], beta: np.ndarray, cov: np.ndarray,
             n: int, alpha: float, df: float | None) -> pd.DataFrame:
    rows = []
    dist = stats.norm if df is None else stats.t(df)
    q = dist.ppf(1 - alpha / 2)
    for pos, i in enumerate(keep):
        c = cols[i]
        if c.factor != "therapy":
            continue
        se = float(np.sqrt(cov[pos, pos]))
        est = float(beta[pos])
        z = est / se
        rows.append({"treatment": c.level, "reference": REFERENCE, "estimate": est, "se": se,
                     "ci_lower": est - q * se, "ci_upper": est + q * se,
                     "p_value": float(2 * dist.sf(abs(z))), "n": int(n)})
    return pd.DataFrame(rows, columns=COLUMNS)


def ancova_first_pass(cols: Sequence[Column], st: pd.DataFrame
                      ) -> dict[str, dict[str, Any]]:
    """Per condition: kept columns, X'X, X'y and the coefficients (conditions without the
    reference therapy or another therapy are left out, as in ``models.ANCOVA``)."""
    k = len(cols)
    out: dict[str, dict[str, Any]] = {}
    for _, row in st.sort_values("condition").iterrows():
        n = float(row["n"])
        xx_full = sym(row, "xx", k)
        keep = comparable_columns(cols, xx_full, n)
        if keep is None:
            continue
        xx = xx_full[np.ix_(keep, keep)]
        xy = vec(row, "xy", k)[keep]
        beta = np.linalg.solve(xx, xy)
        out[str(row["condition"])] = {"keep": keep, "xx": xx, "xy": xy, "beta": beta,
                                      "n": int(n), "yy": float(row["yy"])}
    return out


def betas_for_sql(first: dict[str, dict[str, Any]]) -> dict[str, dict[int, float]]:
    """``{condition: {column index: coefficient}}`` for the second-pass queries."""
    return {c: {i: float(b) for i, b in zip(f["keep"], f["beta"], strict=True)}
            for c, f in first.items()}


def ancova_finish(cols: Sequence[Column], first: dict[str, dict[str, Any]],
                  meat: pd.DataFrame, *, cov_type: str = "HC1", alpha: float = 0.05
                  ) -> pd.DataFrame:
    """Treatment effects per condition from the two passes (``cov_type`` HC1 or nonrobust)."""
    parts = []
    mrows = {str(r["condition"]): r for _, r in meat.iterrows()}
    for cond, f in first.items():
        keep, n = f["keep"], f["n"]
        kk = len(keep)
        inv = np.linalg.inv(f["xx"])
        row = mrows[cond]
        if cov_type == "HC1":
            full = sym(row, "mm", len(cols))
            m = full[np.ix_(keep, keep)]
            cov = inv @ m @ inv * n / (n - kk)
            df = None
        elif cov_type == "nonrobust":
            cov = inv * float(row["ee"]) / (n - kk)
            df = float(n - kk)
        else:
            raise ValueError(f"cov_type must be 'HC1' or 'nonrobust', not {cov_type!r}")
        table = _effects(cols, keep, f["beta"], cov, n, alpha, df)
        table.insert(0, "condition", cond)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def add_stats(frames: Sequence[pd.DataFrame], keys: Sequence[str]) -> pd.DataFrame:
    """Pool additive statistics across sites: sum every numeric column within ``keys``."""
    both = pd.concat(frames, ignore_index=True)
    return both.groupby(list(keys), as_index=False, sort=True).sum(numeric_only=True)


def _gee_blocks(cols: Sequence[Column], rows: pd.DataFrame) -> dict[str, Any]:
    """Visit-level and per-cluster-size statistics of one condition, restricted to the
    columns the in-memory model uses."""
    k = len(cols)
    first = rows.iloc[0]
    nvis = float(first["nvis"])
    vxx = sym(first, "vxx", k)
    keep = keep_columns(cols, vxx, nvis)
    ix = np.ix_(keep, keep)
    sizes = [(float(r["m"]), float(r["clusters"]), sym(r, "ss", k)[ix], vec(r, "sy", k)[keep],
              float(r["syy"])) for _, r in rows.iterrows()]
    return {"keep": keep, "xx": vxx[ix], "xy": vec(first, "vxy", k)[keep],
            "yy": float(first["vyy"]), "n": nvis, "sizes": sizes,
            "clusters": int(sum(s[1] for s in sizes))}


def _gee_step(b: dict[str, Any], beta: np.ndarray, a: float) -> tuple[np.ndarray, np.ndarray]:
    """Bread B/f and score/f at ``beta`` for correlation ``a`` (f = 1/(1-a) cancels)."""
    bread = b["xx"].copy()
    score = b["xy"] - b["xx"] @ beta
    for m, _, ss, sy, _ in b["sizes"]:
        c = a / (1 + (m - 1) * a)
        bread -= c * ss
        score -= c * (sy - ss @ beta)
    return bread, score


def _gee_alpha(b: dict[str, Any], beta: np.ndarray) -> float:
    """statsmodels' Exchangeable.update: moment estimates of scale and correlation."""
    p = len(beta)
    ssr = b["yy"] - 2 * beta @ b["xy"] + beta @ b["xx"] @ beta
    r2 = sum(syy - 2 * beta @ sy + beta @ ss @ beta for _, _, ss, sy, syy in b["sizes"])
    pairs = sum(cl * m * (m - 1) / 2 for m, cl, *_ in b["sizes"])
    scale = ssr / (b["n"] - p)
    return float(((r2 - ssr) / 2 / scale) / (pairs - p))


def gee_first_pass(cols: Sequence[Column], st: pd.DataFrame, *, maxiter: int = 60,
                   ctol: float = 1e-6) -> dict[str, dict[str, Any]]:
    """Per condition: coefficients and working correlation of the exchangeable GEE, by the
    iteration of ``statsmodels`` GEE.fit (same start, updates and stopping rule)."""
    out: dict[str, dict[str, Any]] = {}
    for cond, rows in st.groupby("condition", sort=True):
        b = _gee_blocks(cols, rows.sort_values("m"))
        beta = np.linalg.solve(b["xx"], b["xy"])
        a, n_assoc, itr = 0.0, 0, 0
        while itr < maxiter:
            itr += 1
            bread, score = _gee_step(b, beta, a)
            f = 1.0 / (1.0 - a)
            beta = beta + np.linalg.solve(bread, score)
            if np.sqrt(np.sum((f * score) ** 2)) < ctol and n_assoc > 0:
                break
            a = _gee_alpha(b, beta)
            n_assoc += 1
        b.update(beta=beta, alpha=a, iterations=itr)
        out[str(cond)] = b
    return out


def gee_finish(cols: Sequence[Column], first: dict[str, dict[str, Any]], meat: pd.DataFrame,
               *, alpha: float = 0.05) -> pd.DataFrame:
    """Treatment effects (averaged over follow-up) with robust sandwich standard errors."""
    parts = []
    mrows = {str(r["condition"]): r for _, r in meat.iterrows()}
    for cond, b in first.items():
        keep = b["keep"]
        bread, _ = _gee_step(b, b["beta"], b["alpha"])
        inv = np.linalg.inv(bread)
        m = sym(mrows[cond], "mm", len(cols))[np.ix_(keep, keep)]
        table = _effects(cols, keep, b["beta"], inv @ m @ inv, b["clusters"], alpha, None)
        table.insert(0, "condition", cond)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


# -- ANCOVA in one pass: cell moments ------------------------------------------------------
Poly = dict[tuple[int, ...], Any]  # exponents (y, u_1..u_m) -> coefficient (scalar or per cell)


def _poly_mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = _add(ea, eb)
            out[e] = out.get(e, 0) + ca * cb
    return out


def _poly_sum(poly: Poly, moments: dict[tuple[int, ...], np.ndarray],
              shift: tuple[int, ...]) -> np.ndarray:
    """Per cell: the sum over the cell's rows of ``poly * (y, u)^shift``."""
    total: Any = 0.0
    for e, c in poly.items():
        total = total + c * moments[_add(e, shift)]
    return np.asarray(total, dtype=float)


def _unit(m: int, k: int | None) -> tuple[int, ...]:
    """Exponents of u_k (``k=None``: of the constant 1) among (y, u_1..u_m)."""
    return tuple([0] + [1 if k == i else 0 for i in range(m)])


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The exponents of the product of two monomials."""
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _cells(cols: Sequence[Column], g: pd.DataFrame) -> tuple[np.ndarray, list[int], list[int],
                                                             dict[tuple[int, ...], np.ndarray]]:
    """The 0/1 design of each cell (all columns; numeric ones filled later), the indices of
    the indicator and numeric columns and the cell moments as float arrays."""
    ind = [i for i, c in enumerate(cols) if not c.numeric]
    num = [i for i, c in enumerate(cols) if c.numeric]
    z = np.zeros((len(g), len(cols)))
    for i in ind:
        z[:, i] = 1.0 if cols[i].factor == "Intercept" else g[f"x{i}"].to_numpy(float)
    moments = {e: g[moment_name(e)].to_numpy(float) for e in moment_exponents(len(num))}
    return z, ind, num, moments


def _moment_xx(z: np.ndarray, ind: list[int], num: list[int],
               mom: dict[tuple[int, ...], np.ndarray]) -> tuple[np.ndarray, np.ndarray, float]:
    """X'X, X'y and y'y of one condition from its cells."""
    m = len(num)
    k = z.shape[1]
    n = mom[_unit(m, None)]
    xx, xy = np.zeros((k, k)), np.zeros(k)
    zi = z[:, ind]
    xx[np.ix_(ind, ind)] = zi.T @ (n[:, None] * zi)
    y1 = tuple([1] + [0] * m)
    xy[ind] = zi.T @ mom[y1]
    for a, i in enumerate(num):
        ua = mom[_unit(m, a)]
        xx[ind, i] = xx[i, ind] = zi.T @ ua
        xy[i] = float(np.sum(mom[_add(_unit(m, a), y1)]))
        for b, j in enumerate(num):
            xx[i, j] = float(np.sum(mom[_add(_unit(m, a), _unit(m, b))]))
    return xx, xy, float(np.sum(mom[tuple([2] + [0] * m)]))


def _moment_meat(z: np.ndarray, ind: list[int], num: list[int],
                 mom: dict[tuple[int, ...], np.ndarray], beta: np.ndarray) -> np.ndarray:
    """sum(e^2 x x') with e = y - x'beta, expanded over the cell moments (exact algebra)."""
    m = len(num)
    k = z.shape[1]
    c = z[:, ind] @ beta[ind]  # each cell's constant part of x'beta
    e: Poly = {tuple([1] + [0] * m): 1.0, _unit(m, None): -c}
    for a, i in enumerate(num):
        e[_unit(m, a)] = e.get(_unit(m, a), 0) - beta[i]
    e2 = _poly_mul(e, e)
    zero = _unit(m, None)
    s0 = _poly_sum(e2, mom, zero)
    meat = np.zeros((k, k))
    zi = z[:, ind]
    meat[np.ix_(ind, ind)] = zi.T @ (s0[:, None] * zi)
    for a, i in enumerate(num):
        s1 = _poly_sum(e2, mom, _unit(m, a))
        meat[ind, i] = meat[i, ind] = zi.T @ s1
        for b, j in enumerate(num):
            meat[i, j] = float(np.sum(_poly_sum(e2, mom, _add(_unit(m, a), _unit(m, b)))))
    return meat


def ancova_from_moments(cols: Sequence[Column], moments: pd.DataFrame, *,
                        cov_type: str = "HC1", alpha: float = 0.05) -> pd.DataFrame:
    """Treatment effects per condition from the one-pass cell moments
    (``sql.ancova_moments``): the same numbers as the two-pass fit, with one scan."""
    if cov_type not in ("HC1", "nonrobust"):
        raise ValueError(f"cov_type must be 'HC1' or 'nonrobust', not {cov_type!r}")
    parts = []
    for cond, g in moments.groupby("condition", sort=True):
        z, ind, num, mom = _cells(cols, g)
        xx_full, xy_full, yy = _moment_xx(z, ind, num, mom)
        n = float(np.sum(mom[_unit(len(num), None)]))
        keep = comparable_columns(cols, xx_full, n)
        if keep is None:
            continue
        xx = xx_full[np.ix_(keep, keep)]
        beta_kept = np.linalg.solve(xx, xy_full[keep])
        inv = np.linalg.inv(xx)
        kk = len(keep)
        if cov_type == "HC1":
            beta = np.zeros(len(cols))
            beta[keep] = beta_kept
            meat = _moment_meat(z, ind, num, mom, beta)[np.ix_(keep, keep)]
            cov, df = inv @ meat @ inv * n / (n - kk), None
        else:
            ee = yy - 2 * beta_kept @ xy_full[keep] + beta_kept @ xx @ beta_kept
            cov, df = inv * ee / (n - kk), float(n - kk)
        table = _effects(cols, keep, beta_kept, cov, int(n), alpha, df)
        table.insert(0, "condition", str(cond))
        parts.append(table)
    return pd.concat(parts, ignore_index=True)
