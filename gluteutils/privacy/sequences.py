"""Visit-day sequences coarsened until none singles out a person.

Days since the first visit are not dates, but the whole sequence of an episode's visit days
(0, 9, 23, 58) is nearly always unique: someone who knows when a neighbour went to the
clinic finds their record. :func:`coarsen_visit_days` therefore treats each episode's
sequence (within ``by`` columns, e.g. its condition) as a quasi-identifier and makes it
k-anonymous by local recoding:

1. episodes whose sequence is shared by fewer than ``k`` episodes get their days rounded to
   a coarser grid, one width of ``widths`` at a time (day 0 stays 0 - the baseline; a
   review visit is kept inside its review window; two visits that land on one day keep the
   one of higher priority: baseline, review, then the later treatment visit);
2. episodes still rare keep only their baseline and review visits (coarsest grid);
3. episodes still rare are removed.

Every step is reported (``step, column, records, action``), like
:func:`gluteutils.privacy.kanon.enforce_k_anonymity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Grid widths (days) tried in turn for episodes whose visit-day sequence is rare.
DEFAULT_WIDTHS: tuple[int, ...] = (1, 7, 14, 28)


def _coarse_days(day: np.ndarray, width: int, is_base: np.ndarray, is_rev: np.ndarray,
                 window: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    if width <= 1:
        out = day.astype("int64")
    else:
        out = (np.floor(day / width + 0.5) * width).astype("int64")
    lo, hi = window
    out = np.where(is_rev, np.clip(out, lo, hi), out)
    out = np.where(is_base, 0, out)
    # a non-baseline visit may never land on day 0 (day 0 is the baseline): it then shares
    # the baseline's day and is merged away below
    return out


def sequence_classes(visits: pd.DataFrame, episodes: pd.DataFrame | None = None,
                     by: Sequence[str] = (), episode: str = "episode_id",
                     day: str = "visit_day") -> pd.Series:
    """The size of each episode's class: episodes with the same visit-day sequence (and the
    same ``by`` values from ``episodes``). Indexed by episode id."""
    key = visits.groupby(episode, sort=False, observed=True)[day].agg(
        lambda s: ",".join(str(v) for v in sorted(int(x) for x in s))).astype(str)
    if by and episodes is not None:
        extra = episodes.set_index(episode).reindex(key.index)[list(by)].astype(str)
        key = key + "|" + extra.agg("|".join, axis=1)
    return key.map(key.value_counts())


class _Grid:
    """The visits of :func:`coarsen_visit_days` with each episode's current coarsening."""

    def __init__(self, visits: pd.DataFrame, widths: Sequence[int], lo: np.ndarray,
                 hi: np.ndarray, episode: str, day: str, visit_type: str) -> None:
        self.v, self.widths, self.lo, self.hi = visits, np.asarray(widths), lo, hi
        self.episode, self.day = episode, day
        self.orig = visits[day].to_numpy(dtype="float64")
        vt = visits[visit_type].astype(str).to_numpy()
        self.is_base, self.is_rev = vt == "baseline", vt == "review"
        self.eps = visits[episode].to_numpy()
        self.level = pd.Series(0, index=pd.unique(self.eps))  # index into widths
        self.ends_only = pd.Series(False, index=self.level.index)
        # merge priority: baseline, review, then the later visit
        self.prio = np.where(self.is_base, 2, np.where(self.is_rev, 1, 0)) * 10**6 + self.orig

    def build(self) -> pd.DataFrame:
        """The visits at the current coarsening (visits merged onto one day: one kept)."""
        w = self.widths[self.level.reindex(self.eps).to_numpy()]
        days = np.empty(len(self.v), dtype="int64")
        for width in np.unique(w):
            sel = w == width
            days[sel] = _coarse_days(self.orig[sel], int(width), self.is_base[sel],
                                     self.is_rev[sel], (self.lo[sel], self.hi[sel]))
        out = self.v.assign(**{self.day: days}, __prio__=self.prio)
        ends = self.ends_only.reindex(self.eps).to_numpy()
        out = out[~ends | self.is_base | self.is_rev]
        out = out.sort_values([self.episode, self.day, "__prio__"], kind="stable")
        # a treatment visit rounded onto day 0 is merged into the baseline; a treatment
        # visit rounded past the review is fine (visit types are kept)
        return out.drop_duplicates([self.episode, self.day], keep="last").drop(
            columns="__prio__")


def _review_bounds(v: pd.DataFrame, episodes: pd.DataFrame | None,
                   review_windows: Mapping[str, tuple[int, int]] | None,
                   episode: str) -> tuple[np.ndarray, np.ndarray]:
    """Per visit, the review window of its episode's condition (unbounded without one)."""
    lo, hi = np.full(len(v), -np.inf), np.full(len(v), np.inf)
    if review_windows and episodes is not None and "condition" in episodes.columns:
        cond = v[episode].map(episodes.set_index(episode)["condition"].astype(str))
        lo = cond.map(lambda c: review_windows.get(c, (-np.inf, np.inf))[0]).to_numpy(float)
        hi = cond.map(lambda c: review_windows.get(c, (-np.inf, np.inf))[1]).to_numpy(float)
    return lo, hi


def coarsen_visit_days(visits: pd.DataFrame, k: int = 5, *,
                       episodes: pd.DataFrame | None = None, by: Sequence[str] = (),
                       review_windows: Mapping[str, tuple[int, int]] | None = None,
                       widths: Sequence[int] = DEFAULT_WIDTHS, episode: str = "episode_id",
                       day: str = "visit_day", visit_type: str = "visit_type"
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Make every episode's visit-day sequence shared by at least ``k`` episodes.

    ``visits``: one row per visit (``episode``, ``day``, ``visit_type``); ``episodes`` with
    ``by`` columns (e.g. ``["condition"]``): sequences count within those; a review visit
    stays inside ``review_windows[condition]`` (needs ``episodes`` with ``condition``).
    Returns the coarsened visits (rows merged away are dropped; removed episodes have no
    visits left) and the actions (``step, column, records, action``); records are episodes.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    cols = ["step", "column", "records", "action"]
    actions: list[dict[str, Any]] = []
    v = visits.reset_index(drop=True).copy()
    if len(v) == 0 or k == 1:
        return v, pd.DataFrame(actions, columns=cols)
    lo, hi = _review_bounds(v, episodes, review_windows, episode)
    grid = _Grid(v, widths, lo, hi, episode, day, visit_type)

    def rare_now(cur: pd.DataFrame) -> pd.Index:
        sizes = sequence_classes(cur, episodes, by, episode, day)
        return sizes.index[sizes < k]

    def note(step: int, column: str | None, records: int, action: str) -> None:
        actions.append({"step": step, "column": column, "records": records, "action": action})

    cur = grid.build()
    for step in range(1, len(widths)):
        rare = rare_now(cur)
        if len(rare) == 0:
            break
        grid.level[rare] = step
        note(step, day, len(rare), f"visit days rounded to {widths[step]} day(s)")
        cur = grid.build()
    rare = rare_now(cur)
    if len(rare):
        grid.ends_only[rare] = True
        note(len(widths), day, len(rare), "only baseline and review visits kept")
        cur = grid.build()
        rare = rare_now(cur)
    if len(rare):
        note(len(widths) + 1, None, len(rare), "record removed (rare visit-day sequence)")
        cur = cur[~cur[episode].isin(rare)]
    return cur.reset_index(drop=True), pd.DataFrame(actions, columns=cols)
