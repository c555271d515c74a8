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
    orig = v[day].to_numpy(dtype="float64")
    vt = v[visit_type].astype(str).to_numpy()
    is_base, is_rev = vt == "baseline", vt == "review"
    lo = np.full(len(v), -np.inf)
    hi = np.full(len(v), np.inf)
    if review_windows and episodes is not None and "condition" in episodes.columns:
        cond = v[episode].map(episodes.set_index(episode)["condition"].astype(str))
        lo = cond.map(lambda c: review_windows.get(c, (-np.inf, np.inf))[0]).to_numpy(float)
        hi = cond.map(lambda c: review_windows.get(c, (-np.inf, np.inf))[1]).to_numpy(float)
    eps = v[episode].to_numpy()
    level = pd.Series(0, index=pd.unique(eps))  # index into widths per episode
    keep_only_ends = pd.Series(False, index=level.index)
    # merge priority: baseline, review, then the later visit
    prio = np.where(is_base, 2, np.where(is_rev, 1, 0)) * 10**6 + orig

    def build() -> pd.DataFrame:
        w = np.asarray(widths)[level.reindex(eps).to_numpy()]
        days = np.empty(len(v), dtype="int64")
        for width in np.unique(w):
            sel = w == width
            days[sel] = _coarse_days(orig[sel], int(width), is_base[sel], is_rev[sel],
                                     (lo[sel], hi[sel]))
        out = v.assign(**{day: days}, __prio__=prio)
        ends = keep_only_ends.reindex(eps).to_numpy()
        out = out[~ends | is_base | is_rev]
        out = out.sort_values([episode, day, "__prio__"], kind="stable")
        out = out.drop_duplicates([episode, day], keep="last")
        # a treatment visit rounded onto day 0 is merged into the baseline; a treatment
        # visit rounded past the review is fine (visit types are kept)
        return out.drop(columns="__prio__")

    cur = build()
    for step in range(1, len(widths)):
        sizes = sequence_classes(cur, episodes, by, episode, day)
        rare = sizes.index[sizes < k]
        if len(rare) == 0:
            break
        level[rare] = step
        actions.append({"step": step, "column": day, "records": int(len(rare)),
                        "action": f"visit days rounded to {widths[step]} day(s)"})
        cur = build()
    sizes = sequence_classes(cur, episodes, by, episode, day)
    rare = sizes.index[sizes < k]
    if len(rare):
        keep_only_ends[rare] = True
        actions.append({"step": len(widths), "column": day, "records": int(len(rare)),
                        "action": "only baseline and review visits kept"})
        cur = build()
        sizes = sequence_classes(cur, episodes, by, episode, day)
        rare = sizes.index[sizes < k]
    if len(rare):
        actions.append({"step": len(widths) + 1, "column": None, "records": int(len(rare)),
                        "action": "record removed (rare visit-day sequence)"})
        cur = cur[~cur[episode].isin(rare)]
    return cur.reset_index(drop=True), pd.DataFrame(actions, columns=cols)
