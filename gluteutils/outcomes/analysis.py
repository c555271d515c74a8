"""The cohort's analysis recipes: the frames the estimators read, the primary analysis, the
calibration check and the method comparison (each a few lines over the estimators).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gluteutils.outcomes.estimators.ancova import ANCOVA
from gluteutils.outcomes.estimators.base import (
    ModelError,
    fit_groups_only,
    skip_record,
    stack_or_error,
)
from gluteutils.outcomes.estimators.imputation import MultipleImputation
from gluteutils.outcomes.estimators.propensity import PropensityWeighting
from gluteutils.outcomes.estimators.repeated_measures import RepeatedMeasures
from gluteutils.outcomes.schema import AGE_BANDS, SEXES, THERAPIES
from gluteutils.outcomes.tables import (
    require_columns,
    suppress_counts,
    suppress_table_one,
    table_one,
)
from gluteutils.outcomes.view_family import episode_family_mask
from gluteutils.privacy import POLICY, mask_attr
from gluteutils.privacy.labels import mask_frame

#: Case-mix covariates of the primary estimand (shared data model).
CASE_MIX: tuple[str, ...] = (
    "age_band", "sex", "symptom_duration_weeks", "leg_pain_below_knee", "numbness_tingling",
    "leg_weakness", "sitting_intolerance", "new_exercise_72h", "pain_lying_on_side",
)


def analysis_frame(episodes: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    """One row per episode: the episode columns plus baseline and review pain/function.

    Adds ``baseline_pain``, ``review_pain`` (missing when the episode has no ``review`` row:
    lost to follow-up for the primary outcome), ``review_day``, ``baseline_lefs``,
    ``review_lefs``. Categorical columns keep their categories.
    """
    require_columns(visits, ["episode_id", "visit_type", "visit_day", "pain_nprs"])
    require_columns(episodes, ["episode_id", "condition", "therapy"])
    vtype = visits["visit_type"].astype(str)
    base = visits.loc[vtype == "baseline"].drop_duplicates("episode_id").set_index("episode_id")
    rev = (visits.loc[vtype == "review"].sort_values("visit_day")
           .drop_duplicates("episode_id", keep="last").set_index("episode_id"))
    out = episodes.set_index("episode_id", drop=False).copy()
    out["baseline_pain"] = base["pain_nprs"].astype(float).reindex(out.index)
    out["review_pain"] = rev["pain_nprs"].astype(float).reindex(out.index)
    out["review_day"] = rev["visit_day"].astype(float).reindex(out.index)
    if "function_lefs" in visits.columns:
        out["baseline_lefs"] = base["function_lefs"].astype(float).reindex(out.index)
        out["review_lefs"] = rev["function_lefs"].astype(float).reindex(out.index)
    return out.reset_index(drop=True)


def coverage_sentence(check: pd.DataFrame, what: str = "Primary analysis, all conditions"
                      ) -> str:
    """One line on a :func:`calibration_check`: how many true effects the 95% CIs cover."""
    if check.empty:
        return (f"{what}: no true effects are known for these data (not the synthetic "
                "cohort), so the calibration check does not apply")
    return (f"{what}: {int(check['covered'].sum())} of {len(check)} true effects inside "
            "their 95% CI")


def recorded_covariates(frame: pd.DataFrame,
                        covariates: Sequence[str] = CASE_MIX) -> list[str]:
    """The ``covariates`` that ``frame`` has and records for at least one person.

    An anonymised clinic package usually lacks some of the cohort's case mix (the demo export
    has no baseline symptom answers): a column missing for everyone would make every row an
    incomplete case, so it is left out of the model rather than emptying it.
    """
    return [c for c in covariates if c in frame.columns and frame[c].notna().any()]


def primary_analysis(frame: pd.DataFrame, *, reference: str = "home_self_care",
                     covariates: Sequence[str] = CASE_MIX, alpha: float = 0.05,
                     cov_type: str = "HC1") -> ANCOVA:
    """The pre-specified primary comparison: ANCOVA of review pain per condition.

    ``review_pain ~ therapy + baseline_pain + case mix``, one model per condition, complete
    cases (episodes with a review visit), heteroscedasticity-robust (HC1) standard errors:
    0-10 pain scores have a variance that depends on their mean, so groups with lower pain have
    smaller spread. Returns the fitted :class:`ANCOVA`.
    """
    covs = recorded_covariates(frame, covariates)
    return ANCOVA("review_pain", "baseline_pain", "therapy", reference, covariates=covs,
                  by="condition", alpha=alpha, cov_type=cov_type).fit(frame)


def calibration_check(summary: pd.DataFrame, truth: pd.DataFrame | None,
                      estimate: str = "estimate") -> pd.DataFrame:
    """Join estimated effects to the generator's true effects and flag CI coverage.

    ``summary``: rows ``condition, treatment, estimate, ci_lower, ci_upper`` (e.g.
    ``primary_analysis(...).summary_``); ``truth``: ``condition, therapy, effect``
    (``cohort.true_effects()``). Returns one row per estimated effect with ``true_effect``,
    ``bias`` and ``covered``. ``truth=None`` (real data: no true effect is known) gives the
    same columns with no rows.
    """
    if truth is None:
        return summary.iloc[0:0].assign(true_effect=pd.Series(dtype=float),
                                        bias=pd.Series(dtype=float),
                                        covered=pd.Series(dtype=bool))
    t = truth.rename(columns={"therapy": "treatment", "effect": "true_effect"})
    t = t.assign(condition=t["condition"].astype(str), treatment=t["treatment"].astype(str))
    s = summary.assign(condition=summary["condition"].astype(str))
    out = s.merge(t[["condition", "treatment", "true_effect"]], on=["condition", "treatment"],
                  how="inner")
    out["bias"] = out[estimate] - out["true_effect"]
    out["covered"] = (out["ci_lower"] <= out["true_effect"]) & (
        out["true_effect"] <= out["ci_upper"])
    return out


TABLE_ONE_COLUMNS: tuple[str, ...] = (
    "age_band", "sex", "symptom_duration_weeks", "baseline_pain", "leg_pain_below_knee",
    "numbness_tingling", "leg_weakness", "sitting_intolerance", "new_exercise_72h",
    "pain_lying_on_side",
)


def table_one_by_therapy(frame: pd.DataFrame, condition: str | None = None,
                         threshold: int = 5) -> tuple[pd.DataFrame, int]:
    """Suppressed Table 1 by therapy (optionally for one condition): ``(table, n_hidden)``."""
    data = frame if condition is None else frame[frame["condition"].astype(str) == condition]
    cols = [c for c in TABLE_ONE_COLUMNS if c in data.columns]
    data = data.assign(therapy=data["therapy"].astype(str))
    table, n_hidden = suppress_table_one(table_one(data, cols, "therapy"), threshold=threshold)
    if condition is not None and {"sex", "age_band"} <= set(frame.columns):
        n_hidden += hide_view_family(table, frame, condition, threshold)
    return table, n_hidden


def hide_view_family(table: pd.DataFrame, frame: pd.DataFrame, condition: str,
                     threshold: int = 5) -> int:
    """Hide, in one condition's published Table 1, the ``n``, sex and age-band counts the
    explorer hides across its filter views (:mod:`gluteutils.outcomes.view_family`), so the
    two on one screen never undo each other. Changes ``table`` in place (cells and its
    ``attrs["suppressed"]`` mask); returns how many more cells were hidden."""
    policy = POLICY.with_threshold(threshold)
    mask = episode_family_mask(frame, condition, policy)
    hide = mask_frame(table.attrs["suppressed"], table.index, list(table.columns))
    var = pd.Series(table.index.get_level_values(0)).astype(str).str.split(",").str[0]
    level = pd.Series(table.index.get_level_values(-1)).astype(str)
    targets = ([var == "n"] + [(var == "sex") & (level == s) for s in SEXES]
               + [(var == "age_band") & (level == a) for a in AGE_BANDS])
    labels = [str(c[-1]) if isinstance(c, tuple) else str(c) for c in table.columns]
    added = 0
    for t, therapy in enumerate(THERAPIES):
        if therapy not in labels:
            continue
        j = labels.index(therapy)
        for v, rows in enumerate(targets):
            for i in (int(k) for k in np.flatnonzero(rows.to_numpy() & mask[v, t])):
                if not hide.iat[i, j]:
                    table.iat[i, j], hide.iat[i, j] = policy.marker, True
                    added += 1
    table.attrs["suppressed"] = mask_attr(hide)
    return added


def visit_frame(episodes: pd.DataFrame, visits: pd.DataFrame, *, time_bins: str = "cohort",
                covariates: Sequence[str] = CASE_MIX) -> pd.DataFrame:
    """Post-baseline visits joined to episode case mix and baseline pain, with ``time_bin``.

    ``time_bins="cohort"`` (the glute cohort's schedule): the visit day for DOMS and the
    fortnight (``visit_day // 14``) otherwise, capped at the review window, so GEE's time
    effects stay few and well populated. ``time_bins="visit_day"``: every distinct visit day
    is its own time point (a trial's own schedule, nothing merged: 3- and 12-month visits stay
    apart). ``covariates`` are the episode columns carried along.
    """
    if time_bins not in ("cohort", "visit_day"):
        raise ModelError(f"time_bins must be 'cohort' or 'visit_day', not {time_bins!r}")
    frame = analysis_frame(episodes, visits)
    keep = list(dict.fromkeys(["episode_id", "condition", "therapy", "baseline_pain",
                               *[c for c in covariates if c in frame.columns]]))
    v = visits.loc[visits["visit_type"].astype(str) != "baseline",
                   ["episode_id", "visit_day", "pain_nprs"]]
    out = v.merge(frame[keep], on="episode_id", how="inner")
    if time_bins == "visit_day":
        out["time_bin"] = out["visit_day"].astype(int)
    else:
        doms = out["condition"].astype(str) == "doms"
        out["time_bin"] = np.where(doms, np.minimum(out["visit_day"], 9),
                                   np.minimum(out["visit_day"] // 14, 4)).astype(int)
    out["pain_nprs"] = out["pain_nprs"].astype(float)
    return out


def repeated_measures_by_condition(long: pd.DataFrame, reference: str = "home_self_care",
                                   covariates: Sequence[str] = CASE_MIX, *,
                                   outcome: str = "pain_nprs", baseline: str = "baseline_pain",
                                   min_group_size: int = 1,
                                   skipped: list[dict[str, Any]] | None = None
                                   ) -> pd.DataFrame:
    """GEE (exchangeable) of pain over all post-baseline visits, per condition.

    ``pain ~ therapy + C(time_bin) + baseline pain + case mix``; the therapy coefficient is the
    adjusted difference averaged over follow-up visits (robust SEs; Liang & Zeger 1986).
    Covariates absent from ``long`` or missing for everyone are not used. Therapy groups with
    fewer than ``min_group_size`` people and conditions that cannot be fitted are left out;
    why is appended to ``skipped`` (rows of :data:`SKIPPED_COLUMNS`) when a list is given.
    Raises :class:`ModelError` when no condition can be fitted.
    """
    require_columns(long, ["condition", "therapy", "time_bin", "episode_id", outcome, baseline])
    notes: list[dict[str, Any]] = []
    parts = []
    for cond, g in long.groupby("condition", observed=True, sort=True):
        g = g.assign(therapy=g["therapy"].astype(str))
        covs = recorded_covariates(g, covariates)
        complete = g.dropna(subset=[outcome, baseline, *covs])
        data, why = fit_groups_only(complete, "therapy", reference, by="condition", key=cond,
                                    min_size=min_group_size, subject="episode_id")
        notes += why
        if data is None:
            continue
        try:
            fit = RepeatedMeasures(outcome, "therapy", reference, "time_bin", "episode_id",
                                   baseline=baseline, covariates=covs,
                                   interaction=False).fit(data)
        except ModelError as exc:
            notes.append(skip_record("condition", cond, "", len(data), min_group_size,
                               f"condition {cond!s}: {exc}"))
            continue
        parts.append(fit.summary_.drop(columns="time").assign(condition=str(cond)))
    if skipped is not None:
        skipped.extend(notes)
    out = stack_or_error(parts, notes, "repeated measures (GEE)")
    return out[["condition", *[c for c in out.columns if c != "condition"]]]


def compare_methods(frame: pd.DataFrame, *, reference: str = "home_self_care",
                    n_imputations: int = 20, seed: int = 0,
                    covariates: Sequence[str] = CASE_MIX, outcome: str = "review_pain",
                    baseline: str = "baseline_pain", cov_type: str = "HC1",
                    min_group_size: int = 1,
                    skipped: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """The primary estimate next to its sensitivity analyses, one tidy table with ``method``.

    * ``ANCOVA (complete case)`` - :class:`ANCOVA` per condition (``cov_type`` errors);
    * ``ANCOVA + MICE`` - the follow-up imputed by therapy (:class:`MultipleImputation`);
    * ``IPT-weighted`` - multinomial propensity weights on the covariates + baseline, the
      weighted outcome model adjusted for the same covariates (doubly robust,
      :class:`PropensityWeighting` with ``doubly_robust=True``), complete cases.

    ``covariates`` absent from ``frame`` or missing for everyone are not used (a bring-your-own
    package usually has none of the cohort's case mix: pass ``covariates=()`` for the trial
    ANCOVA, baseline only). Groups too small to fit (``min_group_size``) are left out of every
    method and listed in ``skipped`` when a list is given.
    """
    covs = recorded_covariates(frame, covariates)
    notes: list[dict[str, Any]] = []
    common = dict(by="condition", min_group_size=min_group_size)
    anc = ANCOVA(outcome, baseline, "therapy", reference, covariates=covs, cov_type=cov_type,
                 **common).fit(frame)  # type: ignore[arg-type]
    notes += [dict(r, method="ANCOVA (complete case)") for r in anc._skipped or []]
    cc = anc.summary_.assign(method="ANCOVA (complete case)")
    mi_fit = MultipleImputation(outcome, baseline, "therapy", reference, covariates=covs,
                                n_imputations=n_imputations, seed=seed,
                                **common).fit(frame)  # type: ignore[arg-type]
    notes += [dict(r, method="ANCOVA + MICE") for r in mi_fit._skipped or []]
    mi = mi_fit.summary_.assign(method="ANCOVA + MICE")
    pw = PropensityWeighting(outcome, "therapy", reference, covariates=covs,
                             baseline=baseline, doubly_robust=True,
                             **common).fit(frame)  # type: ignore[arg-type]
    notes += [dict(r, method="IPT-weighted") for r in pw._skipped or []]
    ipw = pw.summary_.assign(method="IPT-weighted")
    if skipped is not None:
        skipped.extend(notes)
    cols = ["condition", "treatment", "method", "estimate", "ci_lower", "ci_upper", "p_value",
            "n"]
    out = pd.concat([cc[cols], mi[cols], ipw[cols]], ignore_index=True)
    order = {m: i for i, m in enumerate(["ANCOVA (complete case)", "ANCOVA + MICE",
                                         "IPT-weighted"])}
    return out.sort_values(["condition", "treatment", "method"],
                           key=lambda s: s.map(order) if s.name == "method" else s,
                           kind="stable").reset_index(drop=True)


def balance_summary(balance: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """Per condition and therapy: largest |standardised difference| before and after weighting,
    and how many covariates exceed ``threshold`` (|SMD| < 0.1 is the usual balance target);
    ``balanced`` is True only when none does after weighting."""
    b = balance.assign(abs_before=balance["smd_before"].abs(),
                       abs_after=balance["smd_after"].abs())
    keys = [c for c in ("condition", "treatment") if c in b.columns]
    out = b.groupby(keys, sort=False).agg(
        max_smd_before=("abs_before", "max"), max_smd_after=("abs_after", "max"),
        over_before=("abs_before", lambda s: int((s > threshold).sum())),
        over_after=("abs_after", lambda s: int((s > threshold).sum()))).reset_index()
    out["balanced"] = out["over_after"] == 0
    return out


def followup_summary(frame: pd.DataFrame, *, threshold: int | None = None) -> pd.DataFrame:
    """Episodes, episodes with a review visit and % lost to follow-up, per condition.

    With ``threshold`` (e.g. 5) the counts are small-cell suppressed for publication
    (:func:`suppress_counts`: with and without a review, complementary cells included); the
    default returns the exact numbers.
    """
    g = frame.groupby(frame["condition"].astype(str), sort=False)
    out = pd.DataFrame({"episodes": g.size(), "with_review": g["review_pain"].count()})
    out["lost_to_follow_up_pct"] = (100 * (1 - out["with_review"] / out["episodes"])).round(1)
    if threshold is not None:
        out = suppress_counts(out, "with_review", "episodes",
                              derived=["lost_to_follow_up_pct"], threshold=threshold)
    return out
