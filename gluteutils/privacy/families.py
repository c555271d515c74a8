"""Secondary suppression across a family of rounded counts (issue 10: differencing).

A page such as the outcomes explorer publishes, for one group (one therapy of one
condition), counts over overlapping selections of the same cells: every filter the page
offers, e.g. all, each sex, each age band and each sex x age band (a table with its margins).
Each count is rounded to the policy's base and counts below the threshold are hidden. Integer
reasoning over all of them can still pin a hidden count: a shown 10 (8-12 people) over two
hidden parts of at most 4 each forces 4 + 4. :func:`family_hidden` finds the extra views to
hide (publish nothing for) until no view and no cell whose true count is small (1 to
threshold - 1) has a single value left under every published view. It proves this with two
integer programs per small count (scipy's ``milp``), as :mod:`gluteutils.privacy.audit`
does for tables.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from gluteutils.privacy.rounding import round_counts


def published_interval(value: int, threshold: int = 5, base: int = 5) -> tuple[int, int]:
    """What a reader can know of a count from its published forms: ``[lo, hi]``.

    A count of at least ``threshold`` is shown rounded to ``base`` (``r`` stands for
    ``r - base // 2 .. r + base // 2``, never below ``threshold``). A smaller one is not
    shown, but a table beside it may say "<5" where it would say 0, and a page's notes count
    the hidden groups, so the audit grants the reader that: 1 to ``threshold - 1``, and 0
    exactly for 0 (the strongest reader, so a weaker one learns no more)."""
    if value == 0:
        return 0, 0
    if value < threshold:
        return 1, threshold - 1
    r = int(round_counts(int(value), base))
    return max(threshold, r - base // 2), r + base // 2


def _is_pinned(target: np.ndarray, true: int, rows: np.ndarray, lo: np.ndarray,
               hi: np.ndarray) -> bool:
    """Whether ``target @ cells`` has one value only under the published rows. The true
    cells always satisfy them, so it is pinned exactly when its smallest and its largest
    value both equal ``true``: a first integer program that finds another value settles it."""
    n = rows.shape[1]
    cons = [LinearConstraint(rows, lo, hi)] if len(rows) else []
    ints, bounds = np.ones(n), Bounds(0, np.inf)
    for sign in (-1.0, 1.0):  # the largest first: a small count's room is above it
        res = milp(sign * target, integrality=ints, constraints=cons, bounds=bounds)
        if res.status != 0 or int(round(sign * res.fun)) != true:
            return False
    return True


def pinned_small(selectors: np.ndarray, cells: np.ndarray, hidden: np.ndarray, *,
                 threshold: int = 5, base: int = 5) -> list[int]:
    """Indices of the small counts an attacker pins to one value.

    ``selectors`` (views x cells, 0/1) says which cells each view sums; ``cells`` are the true
    cell counts; ``hidden`` marks views published as nothing (no constraint). Targets are the
    views and the single cells whose true count is 1 to ``threshold - 1``; a target index
    ``>= len(selectors)`` is cell ``index - len(selectors)``."""
    sel = np.asarray(selectors, dtype=float)
    truth = np.asarray(cells, dtype=np.int64)
    values = (sel @ truth).astype(np.int64)
    keep = ~np.asarray(hidden, dtype=bool)
    intervals = np.array([published_interval(int(v), threshold, base) for v in values[keep]],
                         dtype=float).reshape(-1, 2)
    rows = sel[keep]
    targets = np.vstack([sel, np.eye(sel.shape[1])])
    true_values = targets @ truth
    pinned = []
    for i, (target, true) in enumerate(zip(targets, true_values, strict=True)):
        if not 0 < true < threshold:
            continue
        if _is_pinned(target, int(true), rows, intervals[:, 0], intervals[:, 1]):
            pinned.append(i)
    return pinned


def family_hidden(selectors: np.ndarray, cells: np.ndarray, *, threshold: int = 5,
                  base: int = 5, already_hidden: np.ndarray | None = None) -> np.ndarray:
    """Views to hide in addition to the small ones so that no small count can be pinned.

    Greedy: while a small count is pinned, hide the smallest shown view that overlaps it
    (the least information lost), and audit again. Returns a boolean mask over the views
    (``True``: publish nothing for that view), ``already_hidden`` (views another table already
    hides, e.g. the episode-count table's complementary cells) included. Views whose true
    count is below the threshold are hidden by the policy anyway and never need the mask."""
    sel = np.asarray(selectors, dtype=float)
    truth = np.asarray(cells, dtype=np.int64)
    values = (sel @ truth).astype(np.int64)
    extra = (np.zeros(len(sel), dtype=bool) if already_hidden is None
             else np.asarray(already_hidden, dtype=bool).copy())
    if not ((truth > 0) & (truth < threshold)).any() and not (
            (values > 0) & (values < threshold)).any():
        return extra  # nothing small to protect
    targets = np.vstack([sel, np.eye(sel.shape[1])])
    while True:
        pins = pinned_small(sel, truth, extra, threshold=threshold, base=base)
        if not pins:
            return extra
        touched = (sel @ targets[pins].T > 0).any(axis=1)
        shown = (values >= threshold) & ~extra
        candidates = np.flatnonzero(shown & touched)
        if candidates.size == 0:
            candidates = np.flatnonzero(shown)
        if candidates.size == 0:
            return extra
        extra[candidates[np.argmin(values[candidates])]] = True
