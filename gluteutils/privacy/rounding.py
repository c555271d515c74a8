"""Rounding of counts, and Kaplan-Meier tables coarsened so no step of 1-4 people shows.

Counts that a user can difference (the explorer's counts under any filter, numbers at risk)
are published rounded to the nearest ``base`` (5, as OpenSAFELY does; halves round up), and
counts 1..threshold-1 are hidden. Differences of rounded counts are only known to within
``base - 1`` either way, so "all 9, male 7" becomes "all 10, male 5": female is 1-7.

A Kaplan-Meier curve is coarsened the OpenSAFELY way: the cumulative numbers of events and
of censorings are rounded UP to a multiple of ``base`` (so every step is 0 or at least
``base`` people), the number at risk is the rounded starting number minus both, and the
curve is the product-limit estimate of those coarsened counts; the curve ends where fewer
than ``threshold`` would be at risk.
"""

from __future__ import annotations

import numpy as np


def round_counts(values: np.ndarray | int, base: int = 5) -> np.ndarray:
    """Counts rounded to the nearest multiple of ``base`` (halves up); ``base=1`` keeps them."""
    v = np.asarray(values, dtype="int64")
    if base <= 1:
        return v
    return ((v + base // 2) // base) * base


def ceil_counts(values: np.ndarray, base: int = 5) -> np.ndarray:
    """Counts rounded up to a multiple of ``base``."""
    v = np.asarray(values, dtype="int64")
    if base <= 1:
        return v
    return -(-v // base) * base


def coarsen_km(start: np.ndarray, events: np.ndarray, censored: np.ndarray, *,
               threshold: int = 5, base: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coarsen per-day Kaplan-Meier counts (groups x days) for publication.

    ``start``: people per group at day 0; ``events`` / ``censored``: per group and day.
    Returns ``(at_risk, events, survival)`` computed from the coarsened counts: at risk is a
    multiple of ``base`` (or 0) and drops by 0 or at least ``base``; survival is NaN from
    the first day fewer than ``threshold`` are at risk.
    """
    ev = np.asarray(events, dtype="int64")
    cz = np.asarray(censored, dtype="int64")
    n0 = round_counts(np.asarray(start, dtype="int64"), base)[:, None]
    cum_e = np.minimum(ceil_counts(np.cumsum(ev, axis=1), base), n0)
    cum_c = np.minimum(ceil_counts(np.cumsum(cz, axis=1), base), n0 - cum_e)
    d = np.diff(cum_e, axis=1, prepend=0)
    left = cum_e + cum_c
    risk = n0 - np.concatenate([np.zeros((ev.shape[0], 1), "int64"), left[:, :-1]], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        surv = np.cumprod(np.where(risk > 0, 1.0 - d / np.maximum(risk, 1), 1.0), axis=1)
    surv = np.where(risk < threshold, np.nan, surv)
    return risk, d, surv


#: Steps a published mean may be rounded to (the smallest that hides its denominator).
MEAN_STEPS: tuple[float, ...] = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0,
                                 2.0, 5.0, 10.0)


def value_grid(values: np.ndarray) -> float:
    """The grid every value lies on (1 for whole numbers, 0.5 for halves, 0.01 for a 0-1
    VAS with two decimals): a sum of ``n`` of them lies on that grid too, so a mean lies on
    ``grid / n``."""
    from fractions import Fraction
    from math import gcd, lcm

    v = np.unique(np.asarray(values, dtype="float64"))
    v = v[np.isfinite(v) & (v != 0)]
    if v.size == 0:
        return 1.0
    fr = [Fraction(float(x)).limit_denominator(1000) for x in np.abs(v)]
    den = lcm(*(f.denominator for f in fr))
    num = gcd(*(int(f * den) for f in fr))
    return float(Fraction(num, den))


def mean_step(n_min: np.ndarray | int, grid: float = 1.0) -> np.ndarray:
    """The rounding step of a published mean over at least ``n_min`` people whose values lie
    on ``grid``: the smallest of :data:`MEAN_STEPS` not below ``grid / n_min`` and 0.1 x grid
    (so every denominator the published count allows gives a mean that rounds to the shown
    value, and the mean does not give the exact count back)."""
    n = np.maximum(np.asarray(n_min, dtype="float64"), 1.0)
    need = np.maximum(grid / n, grid / 10) * (1 - 1e-9)
    steps = np.asarray(MEAN_STEPS)
    idx = np.searchsorted(steps, need, side="left")
    return steps[np.minimum(idx, len(steps) - 1)]


def round_mean(values: np.ndarray, n_min: np.ndarray | int, grid: float = 1.0) -> np.ndarray:
    """Means (and their CI limits) rounded to :func:`mean_step` for publication."""
    step = mean_step(n_min, grid)
    v = np.asarray(values, dtype="float64")
    return np.round(np.floor(v / step + 0.5) * step, 6)


def smallest_count(published: np.ndarray | int, base: int = 5, threshold: int = 5
                   ) -> np.ndarray:
    """The smallest true count a shown count rounded to ``base`` can stand for."""
    p = np.asarray(published, dtype="int64")
    return np.maximum(p - base // 2, threshold)
