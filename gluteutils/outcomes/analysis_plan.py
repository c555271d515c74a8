"""The analysis plan of bring your own data: which outcome, instrument, follow-up visit,
covariates, reference arm and responder rule :func:`gluteutils.outcomes.byod.run` uses, and
the analysis frame it builds from them (baseline and follow-up scores per episode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from gluteutils.outcomes import instruments as INS
from gluteutils.outcomes import models


@dataclass(frozen=True)
class AnalysisPlan:
    """The user's analysis plan: every choice of :func:`run` in one place.

    * ``outcome`` - the visits column analysed (``pain_nprs``: the pain outcome, whatever
      its instrument; ``function_lefs`` for function);
    * ``instrument`` - its instrument key (``data/instruments/instruments.csv``); ``None``:
      the one the mapping declares for ``outcome`` (NPRS 0-10 when it declares none);
    * ``covariates`` - adjustment besides the baseline score. Default ``()``: the usual
      trial ANCOVA, follow-up ~ arm + baseline (Vickers & Altman 2001); add
      ``("age_band", "sex")`` only when the trial's own model has them;
    * ``reference`` - the comparison arm; ``None``: the mapping's declared reference, else
      :data:`DEFAULT_REFERENCE`;
    * ``follow_up`` - the follow-up visit: ``"review"`` (the visit typed review) or a visit
      day (e.g. ``84`` for 12 weeks); ``window=(low, high)`` instead takes each episode's
      last post-baseline visit with ``low <= visit_day <= high``;
    * ``responder_rule``, ``responder_points``, ``responder_percent`` - responder = an
      improvement of at least the instrument's MCID (``points``) and/or ``percent`` of the
      baseline's room to the best score, in the instrument's direction (``higher_is``);
      ``None`` takes the instrument's figures. Default ``"both"`` (Farrar 2001 for NPRS:
      2 points and 30%);
    * ``any_symptom_threshold`` - "any pain" = a follow-up above it; ``None``: the
      instrument's threshold;
    * ``min_group_size`` - smaller therapy groups are not fitted
      (:data:`gluteutils.outcomes.models.MIN_GROUP_SIZE`, ``expert_judgement``);
    * ``cov_type`` - OLS standard errors (``"HC1"`` robust; ``"nonrobust"`` as most trial
      reports).
    """

    outcome: str = "pain_nprs"
    instrument: str | None = None
    covariates: tuple[str, ...] = ()
    reference: str | None = None
    follow_up: str | int = "review"
    window: tuple[float, float] | None = None
    responder_rule: str = "both"
    responder_points: float | None = None
    responder_percent: float | None = None
    any_symptom_threshold: float | None = None
    min_group_size: int = models.MIN_GROUP_SIZE
    cov_type: str = "HC1"

    def describe(self, instrument: INS.Instrument, reference: str) -> str:
        """The plan in words (for the notebook)."""
        covs = " + ".join(["baseline", *self.covariates])
        when = (f"last visit on days {self.window[0]:g}-{self.window[1]:g}" if self.window
                else "the review visit" if self.follow_up == "review"
                else f"the visit on day {self.follow_up}")
        return (f"{self.outcome} on {instrument.name} (higher is {instrument.higher_is}); "
                f"follow-up: {when}; ANCOVA follow-up ~ therapy + {covs} per condition, "
                f"reference {reference!r}; responder rule {self.responder_rule!r}; groups "
                f"under {self.min_group_size} people not fitted")


def _check_plan(plan: AnalysisPlan, visits: pd.DataFrame, frame: pd.DataFrame) -> None:
    if plan.outcome not in visits.columns:
        raise models.ModelError(f"the plan's outcome {plan.outcome!r} is not a visits column; "
                                f"have {list(visits.columns)}")
    missing = [c for c in plan.covariates if c not in frame.columns]
    if missing:
        raise models.ModelError(f"the plan's covariates {missing} are not episode columns; "
                                f"have {list(frame.columns)}")
    if not (plan.follow_up == "review" or isinstance(plan.follow_up, int)):
        raise models.ModelError(f"follow_up must be 'review' or a visit day (int), not "
                                f"{plan.follow_up!r}")
    if plan.window is not None and not plan.window[0] <= plan.window[1]:
        raise models.ModelError(f"the follow-up window {plan.window} must be (low, high) "
                                f"with low <= high")
    if plan.min_group_size < 1:
        raise models.ModelError("min_group_size must be at least 1")


def plan_instrument(plan: AnalysisPlan, data: Any) -> INS.Instrument:
    """The instrument of the plan's outcome: the plan's key, else the one the package
    declares (``data.instruments``), else the default of the column."""
    if plan.instrument is not None:
        try:
            return INS.get_instrument(plan.instrument)
        except KeyError as exc:
            raise models.ModelError(str(exc.args[0])) from None
    declared = getattr(data, "instruments", None) or {}
    if plan.outcome in declared:
        found = declared[plan.outcome]
        return found if isinstance(found, INS.Instrument) else INS.get_instrument(str(found))
    defaults = INS.default_instruments()
    if plan.outcome in defaults:
        return defaults[plan.outcome]
    raise models.ModelError(f"no instrument is declared for {plan.outcome!r}: set "
                            f"instrument=... in the plan")


def follow_up_frame(episodes: pd.DataFrame, visits: pd.DataFrame,
                    plan: AnalysisPlan) -> pd.DataFrame:
    """:func:`gluteutils.outcomes.models.analysis_frame` plus the plan's scores:
    ``baseline_score`` (the baseline visit's ``plan.outcome``), ``follow_up_score`` and
    ``follow_up_day`` (the plan's follow-up visit; missing when the episode has none)."""
    frame = models.analysis_frame(episodes, visits)
    _check_plan(plan, visits, frame)
    vtype = visits["visit_type"].astype(str)
    day = visits["visit_day"].astype(float)
    base = visits.loc[vtype == "baseline"].drop_duplicates("episode_id")
    if plan.window is not None:
        lo, hi = plan.window
        chosen = visits.loc[(vtype != "baseline") & (day >= lo) & (day <= hi)]
    elif plan.follow_up == "review":
        chosen = visits.loc[vtype == "review"]
    else:
        chosen = visits.loc[(vtype != "baseline") & (day == float(plan.follow_up))]
    chosen = chosen.sort_values(["episode_id", "visit_day"]).drop_duplicates(
        "episode_id", keep="last").set_index("episode_id")
    ids = frame["episode_id"]
    frame["baseline_score"] = ids.map(base.set_index("episode_id")[plan.outcome]
                                      .astype(float)).astype(float)
    frame["follow_up_score"] = ids.map(chosen[plan.outcome].astype(float)).astype(float)
    frame["follow_up_day"] = ids.map(chosen["visit_day"].astype(float)).astype(float)
    return frame


def any_symptom_threshold(plan: AnalysisPlan, instrument: INS.Instrument) -> float:
    """The "any pain" cut-off: the plan's, else the instrument's (an error if it has none)."""
    if plan.any_symptom_threshold is not None:
        return float(plan.any_symptom_threshold)
    if instrument.any_symptom_threshold is None:
        raise models.ModelError(f"{instrument.name} has no 'any symptom' threshold (not a "
                                f"pain scale): set any_symptom_threshold in the plan")
    return float(instrument.any_symptom_threshold)
