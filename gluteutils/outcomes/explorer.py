"""The clinician's outcome explorer: precompute once per dataset, then fast filtered updates.

:class:`Explorer` turns the tidy ``episodes`` / ``visits`` tables into numpy arrays once
(categorical codes, rows sorted by condition so a condition is a slice, per-episode baseline /
review pain, responder flag and time to recovery). :meth:`Explorer.update` then applies the
clinician's filters and returns every aggregate the explorer figures need as small tidy
DataFrames, with small-cell suppression applied and a plain note for everything hidden.

Aggregation is done with ``numpy.bincount`` over precomputed integer keys, so an update
touches each selected row a handful of times. The Kaplan-Meier curve is the product-limit
estimate computed from the per-day event and censoring counts (the same numbers lifelines'
event table holds); ``tests/test_explorer.py`` checks it equals
``lifelines.KaplanMeierFitter`` on the same data. Confidence intervals: t-based for means,
Wilson (``statsmodels.stats.proportion.proportion_confint``) for responder rates.

Every published number rests on at least ``threshold`` (default 5) people:

* trajectories count people, not visits: a person with several visits in one time bin
  contributes one value (the mean of those visits), and bins with fewer than ``threshold``
  people are left out; confidence intervals are over people;
* each Kaplan-Meier curve ends (``NaN``) from the first day fewer than ``threshold`` people
  are at risk, and the published ``km`` frame carries no at-risk count below ``threshold``;
* :func:`episode_counts` uses :func:`gluteutils.privacy.suppress_small_cells` (with
  complementary suppression).

Definitions (fixed before looking at any data):

* responder: NPRS at the review visit at least 2 points AND at least 30% below baseline
  (Farrar 2001; see :mod:`gluteutils.outcomes.models`);
* recovery: first post-baseline visit with NPRS <= ``recovery_pain`` (default 1); episodes
  without such a visit are censored at their last visit. Recovery happened at or before the
  visit day (interval censoring), so these curves run slightly late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from gluteutils.errors import GluteError
from gluteutils.outcomes.models import MCID_FRACTION, MCID_POINTS, responders
from gluteutils.outcomes.schema import (
    AGE_BANDS,
    CONDITIONS,
    SEXES,
    THERAPIES,
)
from gluteutils.privacy import suppress_small_cells

#: Outcomes a clinician can pick for the trajectory figure.
OUTCOMES: dict[str, str] = {"pain_nprs": "Pain (NPRS 0-10)",
                            "function_lefs": "Function (LEFS 0-80)"}
#: Conditions whose visits are binned by day (all others by week).
DAILY_CONDITIONS: frozenset[str] = frozenset({"doms"})
DEFAULT_THRESHOLD = 5
#: What a suppressed count shows in a published table.
SUPPRESSED = "n.p."


class ExplorerError(GluteError, ValueError):
    """A filter names a value the explorer does not know."""


@dataclass(frozen=True)
class Filters:
    """What the clinician chose. Empty tuples mean "all"."""

    condition: str
    therapies: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    outcome: str = "pain_nprs"


@dataclass(frozen=True)
class _PersonBins:
    """One row per episode x time bin for one outcome (sorted by episode)."""

    bounds: np.ndarray  # row range of each condition
    local: np.ndarray  # episode index within its condition
    key: np.ndarray  # therapy * nbins[condition] + time bin
    value: np.ndarray  # mean of that person's visits in the bin


@dataclass
class ExplorerView:
    """Everything the explorer shows for one set of filters (already suppressed)."""

    filters: Filters
    time_unit: str
    n_episodes: int
    trajectory: pd.DataFrame  # n_episodes counts only the therapy groups shown
    responders: pd.DataFrame
    km: pd.DataFrame
    at_risk: pd.DataFrame
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def suppressed(self) -> bool:
        """True when anything was hidden by small-cell suppression."""
        return bool(self.notes)


def _codes(values: pd.Series, categories: Sequence[str], column: str) -> np.ndarray:
    cat = pd.Categorical(values.astype(str), categories=list(categories))
    codes = np.asarray(cat.codes, dtype=np.int16)
    if (codes < 0).any():
        bad = sorted(set(values.astype(str)[codes < 0]))[:5]
        raise ExplorerError(f"column {column!r} has unknown values {bad}")
    return codes


def _small(n: np.ndarray, threshold: int) -> np.ndarray:
    """True where a count is 1..threshold-1 (a count that must not be shown or derivable)."""
    return (n > 0) & (n < threshold)


def _therapy_column(codes: np.ndarray) -> pd.Categorical:
    """Therapy ids for integer codes, as a categorical (cheap to build, no type inference)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8),  # type: ignore[arg-type]
                                     categories=pd.Index(THERAPIES))


def _lut(selected: Sequence[str], allowed: Sequence[str], what: str) -> np.ndarray | None:
    """Boolean lookup table over category codes, or None for "all"."""
    if not selected:
        return None
    unknown = [s for s in selected if s not in allowed]
    if unknown:
        raise ExplorerError(f"unknown {what} {unknown}; choose from {list(allowed)}")
    lut = np.zeros(len(allowed), dtype=bool)
    lut[[allowed.index(s) for s in selected]] = True
    return lut


class Explorer:
    """Precomputed arrays for one dataset; :meth:`update` answers one filter choice."""

    def __init__(self, episodes: pd.DataFrame, visits: pd.DataFrame, *,
                 threshold: int = DEFAULT_THRESHOLD, recovery_pain: float = 1.0) -> None:
        self.threshold = int(threshold)
        self.recovery_pain = float(recovery_pain)
        ep = episodes.reset_index(drop=True)
        cond = _codes(ep["condition"], CONDITIONS, "condition")
        order = np.argsort(cond, kind="stable")
        ep = ep.iloc[order].reset_index(drop=True)
        self._cond = cond[order]
        self._therapy = _codes(ep["therapy"], THERAPIES, "therapy")
        self._age = _codes(ep["age_band"], AGE_BANDS, "age_band")
        self._sex = _codes(ep["sex"], SEXES, "sex")
        self._ep_bounds = np.searchsorted(self._cond, np.arange(len(CONDITIONS) + 1))
        n_ep = len(ep)

        v_ep = pd.Index(ep["episode_id"]).get_indexer(visits["episode_id"])
        if (v_ep < 0).any():
            raise ExplorerError("visits reference episode_id values missing from episodes")
        vorder = np.argsort(v_ep, kind="stable")
        self._v_ep = v_ep[vorder].astype(np.int32)
        day = visits["visit_day"].to_numpy()[vorder].astype(np.int32)
        daily = np.isin(self._cond[self._v_ep],
                        [CONDITIONS.index(c) for c in DAILY_CONDITIONS])
        self._v_bin = np.where(daily, day, day // 7).astype(np.int32)
        self._v_values = {
            name: pd.to_numeric(visits[name], errors="coerce").to_numpy(dtype=float)[vorder]
            for name in OUTCOMES if name in visits.columns}
        v_bounds = np.searchsorted(self._v_ep, self._ep_bounds)
        self._nbins = np.array([
            int(self._v_bin[a:b].max()) + 1 if b > a else 1
            for a, b in zip(v_bounds[:-1], v_bounds[1:], strict=True)])

        # per-episode baseline / review pain, responder flag, time to recovery
        pain = self._v_values["pain_nprs"]
        vtype = visits["visit_type"].astype(str).to_numpy()[vorder]
        base = np.full(n_ep, np.nan)
        review = np.full(n_ep, np.nan)
        is_base, is_rev = vtype == "baseline", vtype == "review"
        base[self._v_ep[is_base]] = pain[is_base]
        review[self._v_ep[is_rev]] = pain[is_rev]
        self._baseline, self._review = base, review
        self._has_review = ~np.isnan(review)
        self._responder = responders(base, review, MCID_POINTS, MCID_FRACTION)
        after = day > 0
        recovered = after & (pain <= self.recovery_pain)
        first_rec = np.full(n_ep, np.iinfo(np.int32).max, dtype=np.int64)
        np.minimum.at(first_rec, self._v_ep[recovered], day[recovered])
        last = np.zeros(n_ep, dtype=np.int64)
        np.maximum.at(last, self._v_ep, day)
        self._event = first_rec < np.iinfo(np.int32).max
        self._duration = np.where(self._event, first_rec, last).astype(np.int32)
        self._max_day = np.array([
            int(self._duration[a:b].max()) + 1 if b > a else 1
            for a, b in zip(self._ep_bounds[:-1], self._ep_bounds[1:], strict=True)])

        # one value per person per time bin (mean of that person's visits in the bin), so the
        # trajectories count people, not visits; integer keys for the per-update bincounts
        # (therapy x time bin / therapy x day)
        self._person_bins = {name: self._per_person_bin(values)
                             for name, values in self._v_values.items()}
        self._km_key = (self._therapy.astype(np.int32) * self._max_day[self._cond]
                        + self._duration).astype(np.int32)

    def _per_person_bin(self, values: np.ndarray) -> _PersonBins:
        """Collapse the non-missing visits of one outcome to one row per episode x time bin."""
        valid = ~np.isnan(values)
        width = int(self._v_bin.max()) + 1 if len(self._v_bin) else 1
        pk = self._v_ep[valid].astype(np.int64) * width + self._v_bin[valid]
        uk, inv = np.unique(pk, return_inverse=True)
        inv = inv.ravel()
        mean = np.bincount(inv, weights=values[valid]) / np.bincount(inv)
        ep = (uk // width).astype(np.int32)
        tbin = (uk % width).astype(np.int32)
        cond = self._cond[ep]
        return _PersonBins(
            bounds=np.searchsorted(ep, self._ep_bounds),  # rows are sorted by episode
            local=(ep - self._ep_bounds[cond]).astype(np.int32),
            key=(self._therapy[ep].astype(np.int32) * self._nbins[cond] + tbin).astype(np.int32),
            value=mean)

    @classmethod
    def from_data(cls, data: Any, *, threshold: int = DEFAULT_THRESHOLD,
                  recovery_pain: float = 1.0) -> Explorer:
        """Build from an ``OutcomeData`` (anything with ``.episodes`` and ``.visits``)."""
        return cls(data.episodes, data.visits, threshold=threshold, recovery_pain=recovery_pain)

    # ------------------------------------------------------------------ filtering

    def _episode_mask(self, f: Filters) -> tuple[int, int, np.ndarray]:
        if f.condition not in CONDITIONS:
            raise ExplorerError(f"unknown condition {f.condition!r}; choose from {CONDITIONS}")
        c = CONDITIONS.index(f.condition)
        a, b = int(self._ep_bounds[c]), int(self._ep_bounds[c + 1])
        mask = np.ones(b - a, dtype=bool)
        for sel, allowed, codes, what in (
                (f.therapies, THERAPIES, self._therapy, "therapy"),
                (f.age_bands, AGE_BANDS, self._age, "age band"),
                (f.sexes, SEXES, self._sex, "sex")):
            lut = _lut(sel, allowed, what)
            if lut is not None:
                mask &= lut[codes[a:b]]
        return a, b, mask

    # ------------------------------------------------------------------ update

    def update(self, f: Filters) -> ExplorerView:
        """Filter, aggregate and suppress: everything the explorer figures show."""
        if f.outcome not in self._v_values:
            raise ExplorerError(f"unknown outcome {f.outcome!r}; choose from {list(OUTCOMES)}")
        a, b, emask = self._episode_mask(f)
        c = CONDITIONS.index(f.condition)
        therapy = self._therapy[a:b]
        n_t = len(THERAPIES)
        notes: list[str] = []
        thr = self.threshold
        counts = np.bincount(therapy[emask], minlength=n_t)
        shown = counts >= thr
        small = [THERAPIES[i] for i in range(n_t) if 0 < counts[i] < thr]
        if small:
            notes.append(f"{len(small)} therapy group(s) with fewer than {thr} episodes are "
                         "hidden (small-cell suppression).")

        # trajectories: mean and 95% CI over people per therapy x time bin (one value per
        # person per bin, precomputed), so n is a count of people
        pb = self._person_bins[f.outcome]
        va, vb = int(pb.bounds[c]), int(pb.bounds[c + 1])
        vmask = emask[pb.local[va:vb]]
        nb = int(self._nbins[c])
        key = pb.key[va:vb][vmask]
        x = pb.value[va:vb][vmask]
        n = np.bincount(key, minlength=n_t * nb).astype(float)
        s = np.bincount(key, weights=x, minlength=n_t * nb)
        ss = np.bincount(key, weights=x * x, minlength=n_t * nb)
        keep = n >= thr
        hidden_cells = int(((n > 0) & ~keep & np.repeat(shown, nb)).sum())
        idx = np.flatnonzero(keep & np.repeat(shown, nb))
        nn = n[idx]
        mean = s[idx] / nn
        var = np.maximum(ss[idx] - nn * mean * mean, 0.0) / np.maximum(nn - 1, 1)
        half = stats.t.ppf(0.975, np.maximum(nn - 1, 1)) * np.sqrt(var / nn)
        trajectory = pd.DataFrame({
            "therapy": _therapy_column(idx // nb),
            "time": idx % nb, "n": nn.astype(int), "mean": mean,
            "lower": mean - half, "upper": mean + half})
        if hidden_cells:
            notes.append(f"{hidden_cells} visit time point(s) with fewer than {thr} "
                         "people measured are left out of the trajectories.")

        # responders vs MCID with Wilson CIs
        has_rev = emask & self._has_review[a:b]
        n_r = np.bincount(therapy[has_rev], minlength=n_t)
        x_r = np.bincount(therapy[has_rev & self._responder[a:b]], minlength=n_t)
        ok = shown & (n_r >= thr) & ~((x_r > 0) & (x_r < thr)) & ~(
            (n_r - x_r > 0) & (n_r - x_r < thr))
        hid = int((shown & (n_r > 0) & ~ok).sum())
        if hid:
            notes.append(f"{hid} responder rate(s) are hidden because a count of responders "
                         f"or non-responders is below {thr}.")
        ri = np.flatnonzero(ok)
        lo, hi = proportion_confint(x_r[ri], n_r[ri], alpha=0.05, method="wilson")
        resp = pd.DataFrame({
            "therapy": _therapy_column(ri), "n": n_r[ri],
            "responders": x_r[ri], "rate": x_r[ri] / np.maximum(n_r[ri], 1),
            "lower": np.asarray(lo, dtype=float), "upper": np.asarray(hi, dtype=float)})

        # Kaplan-Meier (product-limit) from per-day event / censoring counts
        md = int(self._max_day[c])
        ev = self._event[a:b][emask]
        tk = self._km_key[a:b][emask]
        d = np.bincount(tk[ev], minlength=n_t * md).reshape(n_t, md)
        cz = np.bincount(tk[~ev], minlength=n_t * md).reshape(n_t, md)
        leaving = np.cumsum(d + cz, axis=1)
        risk = counts[:, None] - np.concatenate([np.zeros((n_t, 1), int), leaving[:, :-1]], 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            surv = np.cumprod(np.where(risk > 0, 1.0 - d / np.maximum(risk, 1), 1.0), axis=1)
        # a curve ends from the first day fewer than thr are at risk (risk never increases,
        # so this is a suffix of each row): no step is based on fewer than thr people
        ended = risk < thr
        surv = np.where(ended, np.nan, surv)
        ki = np.flatnonzero(shown)
        km = pd.DataFrame({
            "therapy": _therapy_column(np.repeat(ki, md)),
            "time": np.tile(np.arange(md), len(ki)),
            "recovered": (1.0 - surv[ki]).ravel(),
            "at_risk": pd.arrays.IntegerArray(risk[ki].ravel().astype(np.int64),
                                              ended[ki].ravel())})
        if ended[ki].any():
            notes.append(f"Recovery curves stop where fewer than {thr} people are still "
                         "followed.")
        step = 2 if f.condition in DAILY_CONDITIONS else 14
        times = np.arange(0, md, step)
        ar = risk[ki][:, times] if len(ki) else np.zeros((0, len(times)), int)
        ar_hidden = (ar > 0) & (ar < thr)
        at_risk = pd.DataFrame({
            "therapy": _therapy_column(np.repeat(ki, len(times))),
            "time": np.tile(times, len(ki)),
            "at_risk": np.where(ar_hidden, -1, ar).ravel()})
        if ar_hidden.any():
            notes.append(f"Numbers at risk below {thr} are shown as '<{thr}'.")

        # summary table
        sel_t = therapy[emask]
        base_sum = np.bincount(sel_t, weights=self._baseline[a:b][emask], minlength=n_t)
        rev_sel = has_rev
        rev_sum = np.bincount(therapy[rev_sel], weights=self._review[a:b][rev_sel],
                              minlength=n_t)
        median = np.full(n_t, np.nan)
        for i in ki:
            reached = np.flatnonzero(surv[i] <= 0.5)  # NaN (curve ended) never counts
            if reached.size:
                median[i] = reached[0]
        rate = pd.Series(resp["rate"].to_numpy(), index=resp["therapy"])
        table = pd.DataFrame({
            "therapy": _therapy_column(ki),
            "episodes": counts[ki],
            "with_review": np.where(_small(n_r[ki], thr) | _small(counts[ki] - n_r[ki], thr),
                                    np.nan, n_r[ki]),
            "baseline_pain": base_sum[ki] / np.maximum(counts[ki], 1),
            "review_pain": np.where(n_r[ki] >= thr, rev_sum[ki] / np.maximum(n_r[ki], 1),
                                    np.nan),
            "responder_pct": [100 * rate.get(THERAPIES[i], np.nan) for i in ki],
            "median_days_to_recovery": median[ki]})
        return ExplorerView(filters=f, time_unit="day" if f.condition in DAILY_CONDITIONS
                            else "week", n_episodes=int(counts[shown].sum()), trajectory=trajectory,
                            responders=resp, km=km, at_risk=at_risk, table=table, notes=notes)


def episode_counts(episodes: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Episodes per condition and therapy (conditions as rows).

    Counts from 1 to ``threshold - 1`` are suppressed with
    :func:`gluteutils.privacy.suppress_small_cells`, including complementary cells so no
    hidden count can be derived from a row or column total; every suppressed cell shows
    ``"n.p."`` (not published). Therapies never used for a condition show ``"-"``.
    """
    table = pd.crosstab(episodes["condition"].astype(str), episodes["therapy"].astype(str))
    table = table.reindex(index=[c for c in CONDITIONS if c in table.index],
                          columns=[t for t in THERAPIES if t in table.columns])
    out = suppress_small_cells(table, threshold, marker=SUPPRESSED)
    hidden = out.attrs["suppressed"].to_numpy()
    out = out.astype(object).mask((table.to_numpy() == 0) & ~hidden, "-")
    out.attrs = {}  # a DataFrame in attrs breaks pandas' truncated repr
    out.index.name, out.columns.name = "condition", "therapy"
    return out
