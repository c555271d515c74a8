"""The explorer's display copy: raw aggregates in, published frames out (disclosure policy).

:class:`Aggregates` holds the raw per-filter numbers :meth:`Explorer.aggregate` computes;
:func:`publish_view` turns them into the :class:`ExplorerView` the figures show, through
:class:`gluteutils.privacy.Policy` only:

* counts (episodes, reviews, responders, people per time point) rounded to the nearest 5,
  counts 1-4 hidden, and a therapy group the episode-count table hides stays hidden;
* responder rates and Wilson CIs computed from the rounded counts;
* means and their CIs rounded to a step that hides their denominator (a mean to full
  precision is S/n and gives the exact count back: 116/17 = 6.823529...);
* Kaplan-Meier curves and numbers at risk from coarsened counts (no step of 1-4 people);
* the rounding is stated in the notes shown on the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gluteutils.outcomes.schema import THERAPIES
from gluteutils.privacy import Policy, labelled, round_counts
from gluteutils.privacy.rounding import round_mean, smallest_count


@dataclass(frozen=True)
class Filters:
    """What the clinician chose. Empty tuples mean "all"."""

    condition: str
    therapies: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    outcome: str = "pain_nprs"


@dataclass
class Aggregates:
    """RAW aggregates for one filter choice (never shown as they are)."""

    filters: Filters
    daily: bool
    n_bins: int
    counts: np.ndarray  # episodes per therapy
    bin_n: np.ndarray  # people per therapy x time bin
    bin_sum: np.ndarray
    bin_ss: np.ndarray
    with_review: np.ndarray
    responders: np.ndarray
    events: np.ndarray  # therapy x day
    censored: np.ndarray
    baseline_sum: np.ndarray
    review_sum: np.ndarray
    table_hidden: np.ndarray  # groups hidden beyond the small ones (count table, views)
    grid: float = 1.0  # the grid the outcome's values lie on (1: whole numbers)
    pain_grid: float = 1.0  # the same for pain (baseline and review pain)

    def raw_km(self) -> tuple[np.ndarray, np.ndarray]:
        """RAW product-limit ``(at_risk, survival)`` per therapy x day (for checks)."""
        leaving = np.cumsum(self.events + self.censored, axis=1)
        n_t = len(self.counts)
        risk = self.counts[:, None] - np.concatenate(
            [np.zeros((n_t, 1), int), leaving[:, :-1]], 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            surv = np.cumprod(np.where(risk > 0, 1.0 - self.events / np.maximum(risk, 1),
                                       1.0), axis=1)
        return risk, surv


@dataclass
class ExplorerView:
    """Everything the explorer shows for one set of filters (already published)."""

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
        return len(self.notes) > 1


def _therapy_column(codes: np.ndarray) -> pd.Categorical:
    """Therapy ids for integer codes, as a categorical (cheap to build, no type inference)."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int8),  # type: ignore[arg-type]
                                     categories=pd.Index(THERAPIES))


def _groups(agg: Aggregates, policy: Policy, notes: list[str]) -> np.ndarray:
    """Which therapy groups are shown (enough people, not hidden by the count table)."""
    thr = policy.threshold
    _, hidden = policy.rounded_masked(agg.counts)
    hidden = hidden | (agg.table_hidden & (agg.counts > 0))
    n_hidden = int(hidden.sum())
    if n_hidden:
        notes.append(f"{n_hidden} therapy group(s) with fewer than {thr} episodes, or hidden "
                     "so that no other filter or table can reveal a small count, are not "
                     "shown (small-cell suppression).")
    return (agg.counts >= thr) & ~hidden


def _trajectory(agg: Aggregates, shown: np.ndarray, policy: Policy,
                notes: list[str]) -> pd.DataFrame:
    thr, nb = policy.threshold, agg.n_bins
    n = agg.bin_n
    keep = n >= thr
    hidden_cells = int(((n > 0) & ~keep & np.repeat(shown, nb)).sum())
    idx = np.flatnonzero(keep & np.repeat(shown, nb))
    nn = n[idx]
    mean = agg.bin_sum[idx] / nn
    var = np.maximum(agg.bin_ss[idx] - nn * mean * mean, 0.0) / np.maximum(nn - 1, 1)
    from scipy import stats  # imported when first used (the widget module imports fast)

    half = stats.t.ppf(0.975, np.maximum(nn - 1, 1)) * np.sqrt(var / nn)
    if hidden_cells:
        notes.append(f"{hidden_cells} visit time point(s) with fewer than {thr} "
                     "people measured are left out of the trajectories.")
    n_pub = round_counts(nn.astype(int), policy.rounding)
    n_min = smallest_count(n_pub, policy.rounding, thr)
    return pd.DataFrame({"therapy": _therapy_column(idx // nb), "time": idx % nb,
                         "n": n_pub, "mean": round_mean(mean, n_min, agg.grid),
                         "lower": round_mean(mean - half, n_min, agg.grid),
                         "upper": round_mean(mean + half, n_min, agg.grid)})


def _responders(agg: Aggregates, shown: np.ndarray, policy: Policy,
                notes: list[str]) -> pd.DataFrame:
    thr = policy.threshold
    n_r, x_r = agg.with_review, agg.responders
    small = policy.rounded_masked
    ok = shown & (n_r >= thr) & ~small(x_r)[1] & ~small(n_r - x_r)[1]
    hid = int((shown & (n_r > 0) & ~ok).sum())
    if hid:
        notes.append(f"{hid} responder rate(s) are hidden because a count of responders "
                     f"or non-responders is below {thr}.")
    ri = np.flatnonzero(ok)
    n_p = round_counts(n_r[ri], policy.rounding)
    x_p = round_counts(x_r[ri], policy.rounding)
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(x_p, n_p, alpha=0.05, method="wilson")
    return pd.DataFrame({
        "therapy": _therapy_column(ri), "n": n_p, "responders": x_p,
        "rate": x_p / np.maximum(n_p, 1),
        "lower": np.asarray(lo, dtype=float), "upper": np.asarray(hi, dtype=float)})


def _km(agg: Aggregates, ki: np.ndarray, policy: Policy, notes: list[str]
        ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    thr = policy.threshold
    md = agg.events.shape[1]
    risk, _, surv = policy.km(agg.counts[ki], agg.events[ki], agg.censored[ki])
    # a curve ends where fewer than thr are at risk, coarsened or true
    ended = (risk < thr) | (agg.raw_km()[0][ki] < thr)
    surv = np.where(ended, np.nan, surv)
    risk = np.where(ended, 0, risk)
    km = pd.DataFrame({
        "therapy": _therapy_column(np.repeat(ki, md)),
        "time": np.tile(np.arange(md), len(ki)),
        "recovered": (1.0 - surv).ravel(),
        "at_risk": pd.arrays.IntegerArray(risk.ravel().astype(np.int64), ended.ravel())})
    if ended.any():
        notes.append(f"Recovery curves stop where fewer than {thr} people are still "
                     "followed.")
    step = 2 if agg.daily else 14
    times = np.arange(0, md, step)
    ar = risk[:, times] if len(ki) else np.zeros((0, len(times)), int)
    hidden = ar < thr
    at_risk = pd.DataFrame({
        "therapy": _therapy_column(np.repeat(ki, len(times))),
        "time": np.tile(times, len(ki)),
        "at_risk": pd.arrays.IntegerArray(ar.ravel().astype(np.int64), hidden.ravel()),
        "label": [str(v) for v in labelled(np.where(hidden, 1, ar).ravel(), hidden.ravel(),
                                           thr)]})
    return km, at_risk, surv


def publish_view(agg: Aggregates, policy: Policy) -> ExplorerView:
    """The published :class:`ExplorerView` of raw :class:`Aggregates` under ``policy``."""
    notes = [policy.rounding_note]
    thr = policy.threshold
    shown = _groups(agg, policy, notes)
    trajectory = _trajectory(agg, shown, policy, notes)
    resp = _responders(agg, shown, policy, notes)
    ki = np.flatnonzero(shown)
    km, at_risk, surv = _km(agg, ki, policy, notes)
    median = np.full(len(ki), np.nan)
    for row in range(len(ki)):
        reached = np.flatnonzero(surv[row] <= 0.5)  # NaN (curve ended) never counts
        if reached.size:
            median[row] = reached[0]
    n_r, counts = agg.with_review[ki], agg.counts[ki]
    rate = pd.Series(resp["rate"].to_numpy(), index=resp["therapy"])
    review_hidden = policy.rounded_masked(n_r)[1] | policy.rounded_masked(counts - n_r)[1]
    n_pub, r_pub = round_counts(counts, policy.rounding), round_counts(n_r, policy.rounding)
    # means over RAW counts, rounded so they do not give those counts back
    r_min = np.where(review_hidden, thr, smallest_count(r_pub, policy.rounding, thr))
    baseline = round_mean(agg.baseline_sum[ki] / np.maximum(counts, 1),
                          smallest_count(n_pub, policy.rounding, thr), agg.pain_grid)
    review = round_mean(agg.review_sum[ki] / np.maximum(n_r, 1), r_min, agg.pain_grid)
    table = pd.DataFrame({
        "therapy": _therapy_column(ki),
        "episodes": n_pub,
        "with_review": np.where(review_hidden, np.nan, r_pub),
        "baseline_pain": baseline,
        "review_pain": np.where(n_r >= thr, review, np.nan),
        "responder_pct": [100 * rate.get(THERAPIES[i], np.nan) for i in ki],
        "median_days_to_recovery": median})
    return ExplorerView(filters=agg.filters, time_unit="day" if agg.daily else "week",
                        n_episodes=int(round_counts(int(counts.sum()), policy.rounding)),
                        trajectory=trajectory, responders=resp, km=km, at_risk=at_risk,
                        table=table, notes=notes)


def _meta_lines(view: ExplorerView, *, rule: str, generated: str, data_label: str
                ) -> list[str]:
    """What an export is: data label, date, filters, episode count, rule and notes."""
    f = view.filters
    return [
        f"data: {data_label}",
        f"generated: {generated}",
        f"condition: {f.condition}; outcome: {f.outcome}",
        f"therapies: {', '.join(f.therapies) or 'all'}; age bands: "
        f"{', '.join(f.age_bands) or 'all'}; sexes: {', '.join(f.sexes) or 'all'}",
        f"episodes in the groups shown: {view.n_episodes}",
        f"disclosure rule: {rule}",
        *(f"note: {n}" for n in view.notes),
    ]


def view_csv(view: ExplorerView, *, rule: str, generated: str,
             data_label: str = "SYNTHETIC data") -> str:
    """The published table on screen as CSV text, headed by comment lines that say what it
    is: the data label (e.g. SYNTHETIC data), the filters, the suppression rule and when it
    was made. The numbers are exactly those of ``view.table`` (already suppressed)."""
    meta = ["# Glute Notebooks outcomes explorer export",
            *(f"# {line}" for line in _meta_lines(view, rule=rule, generated=generated,
                                                   data_label=data_label))]
    return "\n".join(meta) + "\n" + view.table.to_csv(index=False)


def view_report_html(view: ExplorerView, *, rule: str, generated: str, data_label: str,
                     labels: dict[str, str], table_html: str) -> str:
    """A one-page, self-contained HTML report of what the explorer shows.

    Header: data label, date, filters, disclosure rule and notes; then the summary table
    (``table_html``, as on screen) and the published numbers behind each figure: mean score
    by visit, responders at review and the numbers at risk. Every number is one of
    ``view``'s (already suppressed); nothing is recomputed here."""
    import html

    def table(df: pd.DataFrame, caption: str) -> str:
        if df.empty:
            return f"<h2>{html.escape(caption)}</h2><p>Nothing to show for these filters.</p>"
        shown = df.assign(therapy=[labels.get(str(t), str(t)) for t in df["therapy"]])
        return (f"<h2>{html.escape(caption)}</h2>"
                + shown.to_html(index=False, na_rep="n.p.", float_format=lambda x: f"{x:.2f}",
                                border=1))

    unit = view.time_unit
    at_risk = view.at_risk.drop(columns=["at_risk"], errors="ignore")
    meta = "".join(f"<li>{html.escape(line)}</li>" for line in _meta_lines(
        view, rule=rule, generated=generated, data_label=data_label))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Outcomes explorer report: {html.escape(view.filters.condition)}</title>"
        "<style>body{font-family:sans-serif;font-size:12px;max-width:60em;margin:1em auto}"
        "table{border-collapse:collapse}td,th{padding:2px 6px}h1{font-size:18px}"
        "h2{font-size:14px;margin-top:1.2em}</style></head><body>"
        f"<h1>Glute Notebooks outcomes explorer: {html.escape(data_label)}</h1>"
        f"<ul>{meta}</ul><h2>Summary</h2>{table_html}"
        + table(view.trajectory, f"Mean score by visit {unit} (95% CI)")
        + table(view.responders, "Responders at review (95% CI)")
        + table(at_risk, "Numbers at risk by day since first visit (Kaplan-Meier)")
        + "<p>Observational clinic data, not a trial: differences between therapies can "
          "reflect who chose them.</p></body></html>")
