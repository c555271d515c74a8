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
* means (trajectories, baseline and review pain) are rounded to a step that hides the
  exact number of people behind them (:func:`gluteutils.privacy.rounding.round_mean`);
* every count is published through :data:`gluteutils.privacy.POLICY`
  (:mod:`gluteutils.outcomes.explorer_publish`): rounded to the nearest 5 with 1-4 hidden,
  Kaplan-Meier counts coarsened so no step of 1-4 people shows, and the cells
  :func:`episode_counts` hides are hidden in the whole-condition views too.

Definitions (fixed before looking at any data):

* responder: NPRS at the review visit at least 2 points AND at least 30% below baseline
  (Farrar 2001; see :mod:`gluteutils.outcomes.models`);
* recovery: first post-baseline visit with NPRS <= ``recovery_pain`` (default 1); episodes
  without such a visit are censored at their last visit. Recovery happened at or before the
  visit day (interval censoring), so these curves run slightly late.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.errors import ExplorerError
from gluteutils.outcomes.estimators.base import MCID_FRACTION, MCID_POINTS, responders
from gluteutils.outcomes.explorer_publish import Aggregates, ExplorerView, Filters, publish_view
from gluteutils.outcomes.schema import (
    AGE_BANDS,
    CONDITIONS,
    SEXES,
    THERAPIES,
)
from gluteutils.outcomes.view_family import (
    count_table,
    count_table_mask,
    view_family_mask,
    view_index,
)
from gluteutils.privacy import POLICY, Policy
from gluteutils.privacy.rounding import value_grid

#: Outcomes a clinician can pick for the trajectory figure.
OUTCOMES: dict[str, str] = {"pain_nprs": "Pain (NPRS 0-10)",
                            "function_lefs": "Function (LEFS 0-80)"}
#: Conditions whose visits are binned by day (all others by week).
DAILY_CONDITIONS: frozenset[str] = frozenset({"doms"})
DEFAULT_THRESHOLD = 5


@dataclass(frozen=True)
class _PersonBins:
    """One row per episode x time bin for one outcome (sorted by episode)."""

    bounds: np.ndarray  # row range of each condition
    local: np.ndarray  # episode index within its condition
    key: np.ndarray  # therapy * nbins[condition] + time bin
    value: np.ndarray  # mean of that person's visits in the bin


#: The level of a quasi-identifier that k-anonymity blanked (an anonymised package): its own
#: level, counted under "all" and selectable, never an error (same word as
#: :data:`gluteutils.outcomes.byod.SUPPRESSED_LEVEL`).
SUPPRESSED_LEVEL = "suppressed"
#: Age bands and sexes a filter can pick: the schema's plus :data:`SUPPRESSED_LEVEL`.
AGE_LEVELS: tuple[str, ...] = (*AGE_BANDS, SUPPRESSED_LEVEL)
SEX_LEVELS: tuple[str, ...] = (*SEXES, SUPPRESSED_LEVEL)


def _codes(values: pd.Series, categories: Sequence[str], column: str,
           missing: str | None = None) -> np.ndarray:
    """Category codes of ``values``; a missing value is the level ``missing`` when given
    (suppressed quasi-identifiers), else an unknown value like any other."""
    if missing is not None:
        values = values.astype(object).where(values.notna(), missing)
    cat = pd.Categorical(values.astype(str), categories=list(categories))
    codes = np.asarray(cat.codes, dtype=np.int16)
    if (codes < 0).any():
        bad = sorted(set(values.astype(str)[codes < 0]))[:5]
        raise ExplorerError(f"column {column!r} has unknown values {bad}")
    return codes


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
        self.policy: Policy = POLICY.with_threshold(self.threshold)
        self.recovery_pain = float(recovery_pain)
        ep = episodes.reset_index(drop=True)
        cond = _codes(ep["condition"], CONDITIONS, "condition")
        order = np.argsort(cond, kind="stable")
        ep = ep.iloc[order].reset_index(drop=True)
        self._cond = cond[order]
        self._therapy = _codes(ep["therapy"], THERAPIES, "therapy")
        self._age = _codes(ep["age_band"], AGE_LEVELS, "age_band", missing=SUPPRESSED_LEVEL)
        self._sex = _codes(ep["sex"], SEX_LEVELS, "sex", missing=SUPPRESSED_LEVEL)
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
        self._episode_outcomes(visits["visit_type"].astype(str).to_numpy()[vorder], day, n_ep)
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
        self._table_hidden = self._count_table_mask(ep)
        self._family: dict[int, np.ndarray] = {}  # per condition, on first use
        # the grid of each outcome's values: published means are rounded to hide their n
        self._grid = {name: value_grid(v) for name, v in self._v_values.items()}

    def _episode_outcomes(self, vtype: np.ndarray, day: np.ndarray, n_ep: int) -> None:
        """Per-episode baseline and review pain, responder flag, time to recovery."""
        pain = self._v_values["pain_nprs"]
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

    def _count_table_mask(self, ep: pd.DataFrame) -> np.ndarray:
        """Which condition x therapy counts :func:`episode_counts` hides (conditions x
        THERAPIES): the explorer hides them too, so the two views never undo each other."""
        return count_table_mask(ep, self.policy)

    def _family_mask(self, c: int) -> np.ndarray:
        """Episode counts hidden across the filter views of condition ``c`` (views x
        THERAPIES; :func:`gluteutils.outcomes.view_family.view_family_mask`), computed on
        first use of the condition and kept."""
        if c not in self._family:
            a, b = int(self._ep_bounds[c]), int(self._ep_bounds[c + 1])
            in_condition = np.zeros(len(self._cond), dtype=bool)
            in_condition[a:b] = True
            self._family[c] = view_family_mask(
                self._sex, self._age, self._therapy, in_condition,
                table_hidden=self._table_hidden[c], policy=self.policy)
        return self._family[c]

    def _hidden_groups(self, f: Filters, c: int) -> np.ndarray:
        """Therapy groups hidden beyond the small ones under filter ``f``: a choice outside
        the widget's views (several levels) hides every group hidden in any view."""
        fam = self._family_mask(c)
        view = view_index(f.sexes, f.age_bands)
        return np.asarray(fam[view] if view is not None else fam.any(axis=0), dtype=bool)

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
                (f.age_bands, AGE_LEVELS, self._age, "age band"),
                (f.sexes, SEX_LEVELS, self._sex, "sex")):
            lut = _lut(sel, allowed, what)
            if lut is not None:
                mask &= lut[codes[a:b]]
        return a, b, mask

    # ------------------------------------------------------------------ update

    def aggregate(self, f: Filters) -> Aggregates:
        """Filter and aggregate: the RAW numbers behind every explorer figure (never shown;
        :meth:`update` publishes them through the disclosure policy)."""
        if f.outcome not in self._v_values:
            raise ExplorerError(f"unknown outcome {f.outcome!r}; choose from {list(OUTCOMES)}")
        a, b, emask = self._episode_mask(f)
        c = CONDITIONS.index(f.condition)
        therapy = self._therapy[a:b]
        n_t = len(THERAPIES)
        pb = self._person_bins[f.outcome]
        va, vb = int(pb.bounds[c]), int(pb.bounds[c + 1])
        vmask = emask[pb.local[va:vb]]
        nb = int(self._nbins[c])
        key = pb.key[va:vb][vmask]
        x = pb.value[va:vb][vmask]
        has_rev = emask & self._has_review[a:b]
        md = int(self._max_day[c])
        ev = self._event[a:b][emask]
        tk = self._km_key[a:b][emask]
        return Aggregates(
            filters=f, daily=f.condition in DAILY_CONDITIONS, n_bins=nb,
            counts=np.bincount(therapy[emask], minlength=n_t),
            bin_n=np.bincount(key, minlength=n_t * nb).astype(float),
            bin_sum=np.bincount(key, weights=x, minlength=n_t * nb),
            bin_ss=np.bincount(key, weights=x * x, minlength=n_t * nb),
            with_review=np.bincount(therapy[has_rev], minlength=n_t),
            responders=np.bincount(therapy[has_rev & self._responder[a:b]], minlength=n_t),
            events=np.bincount(tk[ev], minlength=n_t * md).reshape(n_t, md),
            censored=np.bincount(tk[~ev], minlength=n_t * md).reshape(n_t, md),
            baseline_sum=np.bincount(therapy[emask], weights=self._baseline[a:b][emask],
                                     minlength=n_t),
            review_sum=np.bincount(therapy[has_rev], weights=self._review[a:b][has_rev],
                                   minlength=n_t),
            table_hidden=self._hidden_groups(f, c),
            grid=self._grid[f.outcome], pain_grid=self._grid["pain_nprs"])

    def update(self, f: Filters) -> ExplorerView:
        """Filter, aggregate and publish (:func:`publish_view`): what the figures show."""
        return publish_view(self.aggregate(f), self.policy)


def episode_counts(episodes: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Episodes per condition and therapy (conditions as rows), published.

    Goes through :data:`gluteutils.privacy.POLICY` (``Policy.table``): counts 1-4 show
    ``"<5"``, complementary cells ``"n.p."`` chosen by the margin audit so no hidden count
    can be derived from any row, column or grand total. The explorer hides the same cells
    in its whole-condition views. Therapies never used for a condition show ``"-"``.
    """
    table = count_table(episodes)
    out = POLICY.with_threshold(threshold).table(table)
    hidden = out.attrs["suppressed"].to_numpy()
    out = out.astype(object).mask((table.to_numpy() == 0) & ~hidden, "-")
    out.attrs = {}  # a DataFrame in attrs breaks pandas' truncated repr
    out.index.name, out.columns.name = "condition", "therapy"
    return out
