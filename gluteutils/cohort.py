"""The synthetic outcome cohort: seeded, vectorised, calibrated to published results.

SYNTHETIC DATA: nothing here describes a real patient. The generator simulates treatment
episodes for buttock pain by condition and therapy, with the hard parts of real clinic data:

* **confounding by indication** - patients with more baseline pain, longer symptoms or leg
  symptoms are more likely to get physiotherapy (or physio plus massage) and less likely to
  stay on home self-care;
* **within-person correlation** - one person-level random effect drives every follow-up visit;
* **irregular visit days** - treatment visits are jittered around a therapy-specific interval,
  the review falls anywhere in its window (day 49-63; DOMS day 5-9);
* **floor effects** - pain is an integer 0-10 (many zeros for DOMS at review);
* **loss to follow-up that depends on how the patient is doing** - recovering patients stop
  coming (self-discharge), worse ones are referred on. The chance of leaving after a visit
  depends only on that visit's observed pain, the baseline pain and the therapy, so the
  review outcome is missing at random (MAR) given earlier visits and baseline covariates.

How the true effect is defined (``true_effects``)
-------------------------------------------------
Review pain is drawn as ``Binomial(10, p)`` where ``p = q + s * 2 * min(q, 1 - q) * v``:
``10 q`` is the expected review pain (linear in baseline pain, case mix and an additive
therapy effect), ``v`` is a person-level random effect with mean 0 that is independent of
everything else, so ``E[review pain | baseline, case mix, therapy] = 10 q`` *exactly*, floor
included. The therapy effect is therefore exactly additive on the observed 0-10 scale for every
patient whose ``10 q`` stays inside ``[0, 10]`` (the calibration keeps clipping below 0.1% of
episodes; :func:`clipping_rate` measures it), and a correctly specified ANCOVA (review pain ~
therapy + baseline pain + age band + sex + symptom duration + symptom answers) on complete
data estimates it without bias. Symptom duration enters linearly (weeks).

All parameters sit in one calibration table (:data:`CALIBRATION`), each with its source key
(``data/references/outcomes.yaml`` etc.) or ``"assumption"`` where no published number exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gluteutils.outcomes import schema as S
from gluteutils.outcomes.io import OutcomeData, to_typed, write_table

#: Size and seed of the shipped cohort (``data/outcomes``).
SHIPPED_N_EPISODES: int = 6000
SHIPPED_SEED: int = 20260412
ASSUMPTION: str = "assumption"


@dataclass(frozen=True)
class Parameter:
    """One calibration parameter: what it is, its value, and where the value comes from."""

    name: str
    condition: str
    therapy: str
    value: float
    unit: str
    source: str
    note: str


def _p(name: str, condition: str, therapy: str, value: float, unit: str, source: str,
       note: str = "") -> Parameter:
    return Parameter(name, condition, therapy, float(value), unit, source, note)


_ALL = "*"
# --------------------------------------------------------------------------------------------
# THE calibration table. Edit values here only; README.md is generated from it.
# --------------------------------------------------------------------------------------------
CALIBRATION: tuple[Parameter, ...] = (
    # case mix ----------------------------------------------------------------------------
    _p("share", "doms", _ALL, 0.15, "fraction of episodes", ASSUMPTION, "clinic case mix"),
    _p("share", "piriformis_syndrome", _ALL, 0.15, "fraction of episodes", ASSUMPTION),
    _p("share", "sciatica_disc", _ALL, 0.25, "fraction of episodes", ASSUMPTION),
    _p("share", "sciatica_stenosis", _ALL, 0.12, "fraction of episodes", ASSUMPTION),
    _p("share", "gluteal_tendinopathy", _ALL, 0.33, "fraction of episodes", ASSUMPTION),
    _p("female", "doms", _ALL, 0.45, "probability", ASSUMPTION),
    _p("female", "piriformis_syndrome", _ALL, 0.70, "probability", "hopayian2010",
       "female predominance reported; exact ratio weakly sourced"),
    _p("female", "sciatica_disc", _ALL, 0.63, "probability", "konstantinou2015", "ATLAS 62.6%"),
    _p("female", "sciatica_stenosis", _ALL, 0.55, "probability", ASSUMPTION),
    _p("female", "gluteal_tendinopathy", _ALL, 0.82, "probability", "mellor2018",
       "LEAP 81.9% women"),
    _p("age_mean", "doms", _ALL, 30, "years", ASSUMPTION, "active younger adults"),
    _p("age_sd", "doms", _ALL, 10, "years", ASSUMPTION),
    _p("age_mean", "piriformis_syndrome", _ALL, 45, "years", ASSUMPTION),
    _p("age_sd", "piriformis_syndrome", _ALL, 13, "years", ASSUMPTION),
    _p("age_mean", "sciatica_disc", _ALL, 50, "years", "konstantinou2015", "ATLAS 50.2 (13.9)"),
    _p("age_sd", "sciatica_disc", _ALL, 14, "years", "konstantinou2015"),
    _p("age_mean", "sciatica_stenosis", _ALL, 66, "years", ASSUMPTION, "stenosis: older"),
    _p("age_sd", "sciatica_stenosis", _ALL, 9, "years", ASSUMPTION),
    _p("age_mean", "gluteal_tendinopathy", _ALL, 55, "years", "mellor2018", "LEAP 54.8 (8.8)"),
    _p("age_sd", "gluteal_tendinopathy", _ALL, 9, "years", "mellor2018"),
    _p("duration_mean", "doms", _ALL, 0, "weeks", "cheung2003", "presents within days"),
    _p("duration_mean", "piriformis_syndrome", _ALL, 20, "weeks", ASSUMPTION),
    _p("duration_mean", "sciatica_disc", _ALL, 8, "weeks", ASSUMPTION),
    _p("duration_mean", "sciatica_stenosis", _ALL, 40, "weeks", ASSUMPTION),
    _p("duration_mean", "gluteal_tendinopathy", _ALL, 40, "weeks", "mellor2018",
       "LEAP inclusion: lateral hip pain > 3 months"),
    # baseline pain -----------------------------------------------------------------------
    _p("pain_mean", "doms", _ALL, 5.0, "NPRS points", "cheung2003", "peak soreness 24-72 h"),
    _p("pain_sd", "doms", _ALL, 1.5, "NPRS points", ASSUMPTION),
    _p("pain_mean", "piriformis_syndrome", _ALL, 5.5, "NPRS points", ASSUMPTION),
    _p("pain_sd", "piriformis_syndrome", _ALL, 2.0, "NPRS points", ASSUMPTION),
    _p("pain_mean", "sciatica_disc", _ALL, 5.2, "NPRS points", "konstantinou2015",
       "ATLAS leg pain 5.2 (2.4)"),
    _p("pain_sd", "sciatica_disc", _ALL, 2.2, "NPRS points", "konstantinou2015"),
    _p("pain_mean", "sciatica_stenosis", _ALL, 5.5, "NPRS points", ASSUMPTION),
    _p("pain_sd", "sciatica_stenosis", _ALL, 2.0, "NPRS points", ASSUMPTION),
    _p("pain_mean", "gluteal_tendinopathy", _ALL, 5.6, "NPRS points", "mellor2018",
       "LEAP inclusion average pain >= 4"),
    _p("pain_sd", "gluteal_tendinopathy", _ALL, 1.6, "NPRS points", ASSUMPTION),
    # natural history: expected review pain on home self-care at the mean baseline ---------
    _p("review_home_mean", "doms", _ALL, 1.3, "NPRS points", "cheung2003",
       "soreness mostly gone by day 5-7"),
    _p("review_home_mean", "piriformis_syndrome", _ALL, 4.0, "NPRS points", "michel2013",
       "about half 'cured' with conservative care; home care slower (assumed)"),
    _p("review_home_mean", "sciatica_disc", _ALL, 3.0, "NPRS points", "vroomen1999",
       "favourable natural history: 87% improved by 12 weeks"),
    _p("review_home_mean", "sciatica_stenosis", _ALL, 4.2, "NPRS points", ASSUMPTION,
       "slower natural history than disc herniation"),
    _p("review_home_mean", "gluteal_tendinopathy", _ALL, 4.5, "NPRS points", "mellor2018",
       "wait-and-see: only 29% success at 8 weeks"),
    _p("baseline_slope", "doms", _ALL, 0.15, "review points per baseline point", ASSUMPTION),
    _p("baseline_slope", "piriformis_syndrome", _ALL, 0.55, "review points per baseline point",
       ASSUMPTION, "baseline-follow-up r about 0.6-0.75 in chronic pain"),
    _p("baseline_slope", "sciatica_disc", _ALL, 0.45, "review points per baseline point",
       ASSUMPTION),
    _p("baseline_slope", "sciatica_stenosis", _ALL, 0.55, "review points per baseline point",
       ASSUMPTION),
    _p("baseline_slope", "gluteal_tendinopathy", _ALL, 0.55,
       "review points per baseline point", ASSUMPTION),
    # therapy effects (additive on expected review pain vs home self-care) ------------------
    _p("effect", "doms", "sports_physiotherapy", -0.3, "NPRS points", ASSUMPTION),
    _p("effect", "doms", "physiotherapy", -0.3, "NPRS points", ASSUMPTION),
    _p("effect", "doms", "exercise_physiology", -0.2, "NPRS points", "dupuy2018",
       "active recovery: small reduction"),
    _p("effect", "doms", "myotherapy_massage", -0.6, "NPRS points", "guo2017",
       "SMD -0.61 at 24 h; lower end used given small-study bias"),
    _p("effect", "doms", "physio_plus_massage", -0.6, "NPRS points", "guo2017"),
    _p("effect", "piriformis_syndrome", "physiotherapy", -1.0, "NPRS points", "fishman2002",
       "uncontrolled series only: modest effect assumed"),
    _p("effect", "piriformis_syndrome", "sports_physiotherapy", -1.0, "NPRS points",
       "fishman2002"),
    _p("effect", "piriformis_syndrome", "pelvic_floor_physiotherapy", -0.8, "NPRS points",
       ASSUMPTION, "no trial for buttock pain"),
    _p("effect", "piriformis_syndrome", "exercise_physiology", -0.8, "NPRS points", ASSUMPTION),
    _p("effect", "piriformis_syndrome", "myotherapy_massage", -0.5, "NPRS points", ASSUMPTION,
       "no trial found"),
    _p("effect", "piriformis_syndrome", "physio_plus_massage", -1.2, "NPRS points", ASSUMPTION),
    _p("effect", "sciatica_disc", "physiotherapy", -0.3, "NPRS points", "luijsterburg2008",
       "no difference in leg pain"),
    _p("effect", "sciatica_disc", "sports_physiotherapy", -0.3, "NPRS points",
       "luijsterburg2008"),
    _p("effect", "sciatica_disc", "exercise_physiology", -0.5, "NPRS points", ASSUMPTION,
       "short-term benefit of exercise only"),
    _p("effect", "sciatica_disc", "myotherapy_massage", 0.0, "NPRS points", ASSUMPTION),
    _p("effect", "sciatica_disc", "physio_plus_massage", -0.3, "NPRS points",
       "luijsterburg2008"),
    _p("effect", "sciatica_stenosis", "physiotherapy", -0.4, "NPRS points", ASSUMPTION),
    _p("effect", "sciatica_stenosis", "exercise_physiology", -0.6, "NPRS points", ASSUMPTION),
    _p("effect", "sciatica_stenosis", "myotherapy_massage", 0.0, "NPRS points", ASSUMPTION),
    _p("effect", "sciatica_stenosis", "physio_plus_massage", -0.4, "NPRS points", ASSUMPTION),
    _p("effect", "gluteal_tendinopathy", "physiotherapy", -2.5, "NPRS points", "mellor2018",
       "education + exercise: success 77% vs 29% (wait and see); EDX pain 1.5 at 8 weeks"),
    _p("effect", "gluteal_tendinopathy", "sports_physiotherapy", -2.2, "NPRS points",
       "mellor2018"),
    _p("effect", "gluteal_tendinopathy", "exercise_physiology", -2.5, "NPRS points",
       "mellor2018"),
    _p("effect", "gluteal_tendinopathy", "myotherapy_massage", -0.5, "NPRS points", ASSUMPTION,
       "no trial found"),
    _p("effect", "gluteal_tendinopathy", "physio_plus_massage", -2.5, "NPRS points",
       "mellor2018"),
    # therapy mix per condition (before confounding) ---------------------------------------
    *[
        _p("therapy_share", c, t, v, "relative weight", ASSUMPTION, "clinic referral pattern")
        for c, mix in {
            "doms": {"sports_physiotherapy": 3, "physiotherapy": 1, "exercise_physiology": 1,
                     "myotherapy_massage": 3, "physio_plus_massage": 1, "home_self_care": 3},
            "piriformis_syndrome": {"physiotherapy": 3, "sports_physiotherapy": 1,
                                    "pelvic_floor_physiotherapy": 1, "exercise_physiology": 1,
                                    "myotherapy_massage": 2, "physio_plus_massage": 2,
                                    "home_self_care": 2},
            "sciatica_disc": {"physiotherapy": 4, "sports_physiotherapy": 1,
                              "exercise_physiology": 2, "myotherapy_massage": 1,
                              "physio_plus_massage": 2, "home_self_care": 3},
            "sciatica_stenosis": {"physiotherapy": 4, "exercise_physiology": 2,
                                  "myotherapy_massage": 1, "physio_plus_massage": 1,
                                  "home_self_care": 2},
            "gluteal_tendinopathy": {"physiotherapy": 4, "sports_physiotherapy": 1,
                                     "exercise_physiology": 2, "myotherapy_massage": 1,
                                     "physio_plus_massage": 2, "home_self_care": 3},
        }.items()
        for t, v in mix.items()
    ],
    # confounding by indication (log-odds per unit, vs home self-care) ----------------------
    _p("indication_pain", _ALL, "active therapies", 0.30, "log-odds per baseline NPRS point",
       ASSUMPTION, "sicker patients are treated more"),
    _p("indication_pain", _ALL, "physio_plus_massage", 0.45, "log-odds per baseline NPRS point",
       ASSUMPTION),
    _p("indication_leg", _ALL, "physiotherapy", 0.5, "log-odds if pain below knee", ASSUMPTION),
    _p("indication_duration", _ALL, "active therapies", 0.01, "log-odds per week", ASSUMPTION),
    # case-mix effects on expected review pain (all conditions; DOMS scaled by 0.3) -------
    _p("case_age", _ALL, _ALL, 0.10, "NPRS points per age band", ASSUMPTION),
    _p("case_male", _ALL, _ALL, -0.20, "NPRS points", ASSUMPTION),
    _p("case_duration", _ALL, _ALL, 0.006, "NPRS points per week", "konstantinou2018",
       "longer leg-pain duration predicts poorer outcome"),
    _p("case_leg_pain_below_knee", _ALL, _ALL, 0.30, "NPRS points", ASSUMPTION),
    _p("case_numbness_tingling", _ALL, _ALL, 0.20, "NPRS points", ASSUMPTION),
    _p("case_leg_weakness", _ALL, _ALL, 0.30, "NPRS points", ASSUMPTION),
    _p("case_sitting_intolerance", _ALL, _ALL, 0.15, "NPRS points", ASSUMPTION),
    _p("case_pain_lying_on_side", _ALL, _ALL, 0.15, "NPRS points", ASSUMPTION),
    _p("person_spread", _ALL, _ALL, 0.9, "fraction of the feasible range", ASSUMPTION,
       "person-level random effect shared by all follow-up visits"),
    # loss to follow-up (log-odds of leaving after a visit) --------------------------------
    _p("dropout_base", _ALL, _ALL, -4.1, "log-odds per visit", "luijsterburg2008",
       "tuned so about 15-20% miss the review (14% at 1 year in Luijsterburg; 7% in LEAP)"),
    _p("dropout_recovered", _ALL, _ALL, 1.6, "log-odds if visit pain <= 2", ASSUMPTION,
       "recovering patients stop coming"),
    _p("dropout_worse", _ALL, _ALL, 0.5, "log-odds per point above baseline", ASSUMPTION,
       "worse patients are referred on"),
    _p("dropout_home", _ALL, _ALL, 0.8, "log-odds on home self-care", ASSUMPTION),
    # sites, visits and secondary outcomes ------------------------------------------------
    *[_p("site_share", _ALL, _ALL, v, "fraction of episodes", ASSUMPTION, site)
      for site, v in zip(S.SITES, (0.35, 0.30, 0.20, 0.15), strict=True)],
    *[_p("visit_interval", _ALL, t, v, "days between treatment visits", ASSUMPTION,
         "DOMS: see visit_interval_doms")
      for t, v in {"physiotherapy": 7.0, "sports_physiotherapy": 7.0,
                   "pelvic_floor_physiotherapy": 10.0, "exercise_physiology": 6.0,
                   "myotherapy_massage": 10.0, "physio_plus_massage": 7.0,
                   "home_self_care": 21.0}.items()],
    _p("visit_interval_doms", "doms", _ALL, 1.5, "days between treatment visits", "cheung2003",
       "soreness resolves within days"),
    _p("visit_noise_sd", _ALL, _ALL, 0.8, "NPRS points", ASSUMPTION,
       "visit-to-visit noise around the person's recovery curve"),
    _p("baseline_leg_pain", _ALL, _ALL, 0.4, "NPRS points if pain below knee", ASSUMPTION),
    _p("doms_case_scale", "doms", _ALL, 0.3, "multiplier of case-mix effects", ASSUMPTION,
       "self-limiting soreness: case mix matters less"),
    _p("grc_per_point", _ALL, _ALL, 0.9, "GRC points per NPRS point improved", "kamper2009",
       "11-point GRC, -5..+5"),
    _p("lefs_intercept", _ALL, _ALL, 78, "LEFS points", "binkley1999",
       "healthy-population median about 77"),
    _p("lefs_per_pain_point", _ALL, _ALL, -5.0, "LEFS points per NPRS point", ASSUMPTION),
    _p("lefs_missing", _ALL, _ALL, 0.08, "probability per visit", ASSUMPTION,
       "missing completely at random"),
)

#: Symptom answer probabilities by condition (same ids as the questionnaire).
SYMPTOM_PROB: dict[str, dict[str, float]] = {
    "doms": {"leg_pain_below_knee": 0.03, "numbness_tingling": 0.02, "leg_weakness": 0.10,
             "sitting_intolerance": 0.20, "new_exercise_72h": 0.95, "pain_lying_on_side": 0.10},
    "piriformis_syndrome": {"leg_pain_below_knee": 0.35, "numbness_tingling": 0.35,
                            "leg_weakness": 0.10, "sitting_intolerance": 0.80,
                            "new_exercise_72h": 0.05, "pain_lying_on_side": 0.20},
    "sciatica_disc": {"leg_pain_below_knee": 0.675, "numbness_tingling": 0.55,
                      "leg_weakness": 0.25, "sitting_intolerance": 0.50,
                      "new_exercise_72h": 0.03, "pain_lying_on_side": 0.10},
    "sciatica_stenosis": {"leg_pain_below_knee": 0.55, "numbness_tingling": 0.50,
                          "leg_weakness": 0.30, "sitting_intolerance": 0.15,
                          "new_exercise_72h": 0.02, "pain_lying_on_side": 0.10},
    "gluteal_tendinopathy": {"leg_pain_below_knee": 0.05, "numbness_tingling": 0.05,
                             "leg_weakness": 0.10, "sitting_intolerance": 0.40,
                             "new_exercise_72h": 0.05, "pain_lying_on_side": 0.85},
}
_SYMPTOM_SOURCE: dict[tuple[str, str], tuple[str, str]] = {
    ("sciatica_disc", "leg_pain_below_knee"): ("konstantinou2015", "ATLAS 67.5% below knee"),
    ("piriformis_syndrome", "sitting_intolerance"): ("hopayian2010", "sitting aggravates"),
    ("doms", "new_exercise_72h"): ("cheung2003", "DOMS follows unaccustomed exercise"),
    ("gluteal_tendinopathy", "pain_lying_on_side"): ("mellor2018", "lateral hip pain"),
}
CALIBRATION = CALIBRATION + tuple(
    _p(f"symptom_{col}", c, _ALL, prob, "probability",
       *_SYMPTOM_SOURCE.get((c, col), (ASSUMPTION, "")))
    for c, answers in SYMPTOM_PROB.items() for col, prob in answers.items()
)

_MAX_TREATMENT_VISITS = 9


def calibration_table() -> pd.DataFrame:
    """Return :data:`CALIBRATION` as a tidy DataFrame (one row per parameter)."""
    return pd.DataFrame([p.__dict__ for p in CALIBRATION])


def _param(name: str, condition: str = _ALL, therapy: str = _ALL) -> float:
    for p in CALIBRATION:
        if p.name == name and p.condition == condition and p.therapy == therapy:
            return p.value
    raise KeyError((name, condition, therapy))


def _site_shares() -> list[float]:
    return [p.value for site in S.SITES for p in CALIBRATION
            if p.name == "site_share" and p.note == site]


def _by_condition(name: str) -> np.ndarray:
    return np.array([_param(name, c) for c in S.CONDITIONS])


def _effect_matrix() -> np.ndarray:
    eff = np.zeros((len(S.CONDITIONS), len(S.THERAPIES)))
    for p in CALIBRATION:
        if p.name == "effect":
            eff[S.CONDITIONS.index(p.condition), S.THERAPIES.index(p.therapy)] = p.value
    return eff


def _share_matrix() -> np.ndarray:
    share = np.zeros((len(S.CONDITIONS), len(S.THERAPIES)))
    for p in CALIBRATION:
        if p.name == "therapy_share":
            share[S.CONDITIONS.index(p.condition), S.THERAPIES.index(p.therapy)] = p.value
    return share


def true_effects(condition: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Return the true effect of each therapy vs home self-care on review pain.

    Columns: ``condition, therapy, effect, scale, source``. ``effect`` is the difference in
    expected review ``pain_nprs`` (therapy minus home_self_care) for the same patient; it is
    exactly additive on the observed 0-10 scale (see the module docstring), so it is also the
    average treatment effect in any subgroup, and what a correctly specified ANCOVA on
    complete data estimates. Only (condition, therapy) pairs that the generator assigns appear.
    """
    conds: list[str]
    if condition is None:
        conds = list(S.CONDITIONS)
    elif isinstance(condition, str):
        conds = [condition]
    else:
        conds = list(condition)
    unknown = [c for c in conds if c not in S.CONDITIONS]
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; expected some of {S.CONDITIONS}")
    rows = []
    share = _share_matrix()
    for p in CALIBRATION:
        if p.name == "effect" and p.condition in conds:
            ci, ti = S.CONDITIONS.index(p.condition), S.THERAPIES.index(p.therapy)
            if share[ci, ti] > 0:
                rows.append({"condition": p.condition, "therapy": p.therapy, "effect": p.value,
                             "scale": "review pain_nprs, therapy minus home_self_care",
                             "source": p.source})
    out = pd.DataFrame(rows, columns=["condition", "therapy", "effect", "scale", "source"])
    order = {c: i for i, c in enumerate(S.CONDITIONS)}
    torder = {t: i for i, t in enumerate(S.THERAPIES)}
    out = out.sort_values(["condition", "therapy"],
                          key=lambda s: s.map(order if s.name == "condition" else torder))
    return out.reset_index(drop=True)


def _expected_review(cond: np.ndarray, therapy: np.ndarray, pain0: np.ndarray,
                     age_idx: np.ndarray, male: np.ndarray, duration: np.ndarray,
                     symptoms: dict[str, np.ndarray], *, with_effect: bool = True) -> np.ndarray:
    """Expected review pain (0-10 scale, before clipping) for each episode."""
    home = _by_condition("review_home_mean")[cond]
    slope = _by_condition("baseline_slope")[cond]
    mean0 = _by_condition("pain_mean")[cond]
    case = (_param("case_age") * age_idx + _param("case_male") * male
            + _param("case_duration") * duration)
    for col in ("leg_pain_below_knee", "numbness_tingling", "leg_weakness",
                "sitting_intolerance", "pain_lying_on_side"):
        case = case + _param(f"case_{col}") * symptoms[col]
    scale = np.where(cond == S.CONDITIONS.index("doms"), _param("doms_case_scale", "doms"), 1.0)
    lin = home + slope * (pain0 - mean0) + scale * case
    if with_effect:
        lin = lin + _effect_matrix()[cond, therapy]
    return np.asarray(lin, dtype=float)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _simulate(n: int, seed: int, conditions: Sequence[str] | None, dropout: bool
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    shares = _by_condition("share")
    if conditions is not None:
        unknown = [c for c in conditions if c not in S.CONDITIONS]
        if unknown or not conditions:
            raise ValueError(f"unknown condition(s) {unknown}; expected some of {S.CONDITIONS}")
        mask = np.isin(np.array(S.CONDITIONS), np.array(list(conditions)))
        shares = np.where(mask, shares, 0.0)
    shares = shares / shares.sum()
    cond = rng.choice(len(S.CONDITIONS), size=n, p=shares)
    female = rng.random(n) < _by_condition("female")[cond]
    age = rng.normal(_by_condition("age_mean")[cond], _by_condition("age_sd")[cond])
    age = np.clip(age, 18, 95)
    age_idx = np.searchsorted(np.array(S.AGE_BAND_LOWER), age, side="right") - 1
    site = rng.choice(len(S.SITES), size=n, p=_site_shares())
    dmean = _by_condition("duration_mean")[cond]
    duration = np.where(dmean > 0, np.floor(rng.gamma(1.5, np.maximum(dmean, 1) / 1.5)), 0)
    duration = np.minimum(duration, 260).astype(np.int32)
    sym_p = np.array([[_param(f"symptom_{s}", c) for s in S.SYMPTOM_COLUMNS] for c in S.CONDITIONS])
    sym_draw = rng.random((n, len(S.SYMPTOM_COLUMNS))) < sym_p[cond]
    symptoms = {s: sym_draw[:, i] for i, s in enumerate(S.SYMPTOM_COLUMNS)}
    # baseline pain (integer; clinic patients have pain >= 1, DOMS presenters >= 2)
    latent0 = (_by_condition("pain_mean")[cond] + rng.normal(0, 1, n) * _by_condition("pain_sd")[cond]
               + _param("baseline_leg_pain") * (symptoms["leg_pain_below_knee"] - sym_p[cond, 0]))
    floor0 = np.where(cond == S.CONDITIONS.index("doms"), 2, 1)
    pain0 = np.clip(np.rint(latent0), floor0, 10).astype(np.int16)
    # therapy: multinomial logit with confounding by indication (Gumbel-max sampling)
    share = _share_matrix()
    with np.errstate(divide="ignore"):
        logits = np.log(share[cond])
    active = np.array([t != S.REFERENCE_THERAPY for t in S.THERAPIES])
    z = (pain0 - _by_condition("pain_mean")[cond])[:, None]
    ind_pain = np.where(active, _param("indication_pain", _ALL, "active therapies"), 0.0)
    ind_pain[S.THERAPIES.index("physio_plus_massage")] = _param(
        "indication_pain", _ALL, "physio_plus_massage")
    logits = logits + z * ind_pain[None, :]
    logits = logits + (duration[:, None] * active[None, :]
                       * _param("indication_duration", _ALL, "active therapies"))
    leg = np.zeros(len(S.THERAPIES))
    leg[S.THERAPIES.index("physiotherapy")] = _param("indication_leg", _ALL, "physiotherapy")
    logits = logits + symptoms["leg_pain_below_knee"][:, None] * leg[None, :]
    therapy = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    # review outcome: exactly mean-linear Binomial(10, p) (see module docstring)
    lin = _expected_review(cond, therapy, pain0, age_idx, ~female, duration, symptoms)
    q = np.clip(lin, 0.0, 10.0) / 10.0
    v = rng.beta(2.0, 2.0, n) - 0.5
    p = q + _param("person_spread") * 2.0 * np.minimum(q, 1.0 - q) * v
    p = np.clip(p, 0.0, 1.0)
    review_pain = rng.binomial(10, p).astype(np.int16)
    dev = 10.0 * (p - q)
    # visit schedule: K treatment slots + baseline + review
    is_doms = cond == S.CONDITIONS.index("doms")
    lo = np.where(is_doms, S.REVIEW_WINDOW["doms"][0], 49)
    hi = np.where(is_doms, S.REVIEW_WINDOW["doms"][1], 63)
    review_day = rng.integers(lo, hi + 1).astype(np.int32)
    interval = np.array([_param("visit_interval", _ALL, t) for t in S.THERAPIES])[therapy]
    interval = np.where(is_doms, _param("visit_interval_doms", "doms"), interval)
    k = _MAX_TREATMENT_VISITS
    gaps = np.maximum(1, np.rint(interval[:, None] * rng.uniform(0.6, 1.4, (n, k))))
    tdays = np.cumsum(gaps, axis=1).astype(np.int32)
    margin = np.where(is_doms, 2, 3)
    tvalid = tdays <= (review_day - margin)[:, None]
    home_doms = is_doms & (therapy == S.THERAPIES.index(S.REFERENCE_THERAPY))
    tvalid &= ~home_doms[:, None]
    # pain at treatment visits: recovery curve towards the person's own review level
    frac = tdays / review_day[:, None]
    curve = np.where(is_doms, 1.5, 2.5)[:, None]
    g = (1 - np.exp(-curve * frac)) / (1 - np.exp(-curve))
    target = lin[:, None] + dev[:, None]
    tpain_latent = pain0[:, None] + (target - pain0[:, None]) * g + rng.normal(0, _param("visit_noise_sd"), (n, k))
    tpain = np.clip(np.rint(tpain_latent), 0, 10).astype(np.int16)
    days = np.concatenate([np.zeros((n, 1), np.int32), tdays, review_day[:, None]], axis=1)
    pain = np.concatenate([pain0[:, None], tpain, review_pain[:, None]], axis=1)
    valid = np.concatenate([np.ones((n, 1), bool), tvalid, np.ones((n, 1), bool)], axis=1)
    vtype = np.concatenate([np.zeros((n, 1), np.int8), np.ones((n, k), np.int8),
                            np.full((n, 1), 2, np.int8)], axis=1)
    # loss to follow-up after each observed visit (depends only on observed data: MAR)
    is_home = therapy == S.THERAPIES.index(S.REFERENCE_THERAPY)
    eta = (_param("dropout_base") + _param("dropout_home") * is_home[:, None]
           + _param("dropout_recovered") * (pain[:, :-1] <= 2)
           + _param("dropout_worse") * np.maximum(pain[:, :-1] - pain0[:, None], 0))
    leave = (rng.random((n, k + 1)) < _sigmoid(eta)) & valid[:, :-1]
    if not dropout:
        leave[:] = False
    any_leave = leave.any(axis=1)
    stop = np.where(any_leave, np.argmax(leave, axis=1), k + 1)
    cols = np.arange(k + 2)[None, :]
    keep = valid & (cols <= stop[:, None])
    ids = S.random_episode_ids(rng, n)
    # long visits table
    rows_per = keep.sum(axis=1)
    flat = keep.ravel()
    v_pain = pain.ravel()[flat]
    v_type = vtype.ravel()[flat]
    v_day = days.ravel()[flat]
    ep_index = np.repeat(np.arange(n), rows_per)
    m = v_pain.size
    base_pain = pain0[ep_index].astype(float)
    grc = np.clip(np.rint(_param("grc_per_point") * (base_pain - v_pain) + rng.normal(0, 1.0, m)), -5, 5)
    grc_missing = v_type == 0
    lefs = np.clip(np.rint(_param("lefs_intercept") + _param("lefs_per_pain_point") * v_pain - 1.5 * age_idx[ep_index] + rng.normal(0, 6, m)),
                   0, 80)
    lefs_missing = rng.random(m) < _param("lefs_missing")
    # discharge reason and sessions
    last_col = np.where(any_leave, stop, k + 1)
    last_pain = pain[np.arange(n), last_col]
    completed = ~any_leave
    reason = np.full(n, S.DISCHARGE_REASONS.index("lost_to_follow_up"))
    reason[any_leave & (last_pain <= 2)] = S.DISCHARGE_REASONS.index("self_discharged")
    reason[any_leave & (last_pain >= pain0 + 1)] = S.DISCHARGE_REASONS.index("referred_on")
    reason[completed & (review_pain <= 2)] = S.DISCHARGE_REASONS.index("goals_met")
    reason[completed & (review_pain > 2)] = S.DISCHARGE_REASONS.index("ongoing")
    episodes: dict[str, np.ndarray] = {
        "episode_id": ids,
        "condition": cond,
        "therapy": therapy,
        "age_band": age_idx,
        "sex": np.where(female, 0, 1),
        "site": site,
        "symptom_duration_weeks": duration,
        **symptoms,
        "sessions_attended": rows_per.astype(np.int16),
        "discharge_reason": reason,
    }
    visits: dict[str, np.ndarray] = {
        "episode_id": ep_index,
        "visit_day": v_day,
        "visit_type": v_type,
        "pain_nprs": v_pain,
        "function_lefs": np.where(lefs_missing, -1, lefs).astype(np.int16),
        "grc": np.where(grc_missing, -99, grc).astype(np.int16),
    }
    return episodes, visits, lin


def _categorical(codes: np.ndarray, values: Sequence[str], ordered: bool = False) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(values),  # type: ignore[arg-type]
                                     ordered=ordered)


def generate(n_episodes: int, seed: int, *, conditions: Sequence[str] | None = None,
             dropout: bool = True) -> OutcomeData:
    """Simulate ``n_episodes`` treatment episodes (in memory, vectorised, seeded).

    ``conditions`` restricts the cohort to some conditions (faster small runs);
    ``dropout=False`` returns the complete data (every episode reaches its review), e.g. to
    check an estimator on complete data. Same arguments give the same data.
    """
    if n_episodes < 1:
        raise ValueError("n_episodes must be >= 1")
    ep, vi, _ = _simulate(int(n_episodes), int(seed), conditions, dropout)
    episodes = pd.DataFrame({
        "episode_id": ep["episode_id"],
        "condition": _categorical(ep["condition"], S.CONDITIONS),
        "therapy": _categorical(ep["therapy"], S.THERAPIES),
        "age_band": _categorical(ep["age_band"], S.AGE_BANDS, ordered=True),
        "sex": _categorical(ep["sex"], S.SEXES),
        "site": _categorical(ep["site"], S.SITES),
        "symptom_duration_weeks": ep["symptom_duration_weeks"],
        **{s: ep[s] for s in S.SYMPTOM_COLUMNS},
        "sessions_attended": ep["sessions_attended"],
        "discharge_reason": _categorical(ep["discharge_reason"], S.DISCHARGE_REASONS),
    })
    lefs = pd.array(vi["function_lefs"], dtype="Int16")
    lefs[vi["function_lefs"] < 0] = pd.NA
    grc = pd.array(vi["grc"], dtype="Int16")
    grc[vi["grc"] == -99] = pd.NA
    visits = pd.DataFrame({
        "episode_id": ep["episode_id"][vi["episode_id"]],
        "visit_day": vi["visit_day"],
        "visit_type": _categorical(vi["visit_type"], S.VISIT_TYPES),
        "pain_nprs": vi["pain_nprs"],
        "function_lefs": lefs,
        "grc": grc,
    })
    return OutcomeData(episodes=to_typed(episodes, "episodes"), visits=to_typed(visits, "visits"))


def clipping_rate(n_episodes: int = 200_000, seed: int = 1) -> float:
    """Fraction of episodes whose expected review pain (under any assigned therapy or home
    self-care) leaves ``[0, 10]``, i.e. where the additive effect is not exact."""
    ep, _, lin = _simulate(n_episodes, seed, None, True)
    home = lin - _effect_matrix()[ep["condition"], ep["therapy"]]
    bad = (lin < 0) | (lin > 10) | (home < 0) | (home > 10)
    return float(bad.mean())


def _readme(n_episodes: int, seed: int, hashes: dict[str, str]) -> str:
    from gluteutils.references import check_keys

    table = calibration_table()
    lines = [
        "# Synthetic outcome cohort",
        "",
        "**SYNTHETIC DATA.** Every row here was simulated by `gluteutils.cohort`; no real "
        "patient is described. Behaviour is calibrated to published results (table below).",
        "",
        f"Regenerate byte for byte: `gluteutils data make` (n_episodes={n_episodes}, "
        f"seed={seed}). This file is generated; edit `gluteutils/cohort.py` instead.",
        "",
        "Files: `episodes.csv` (one row per treatment episode), `visits.csv` (one row per "
        "visit), `datapackage.json` (Frictionless descriptor). UTF-8, comma-delimited, header "
        "row; missing value = empty field.",
        "",
        "SHA-256: " + ", ".join(f"`{k}` {v}" for k, v in sorted(hashes.items())),
        "",
        "## How the data behave",
        "",
        "Confounding by indication (more pain, longer symptoms and leg symptoms make active "
        "therapy more likely), a person-level random effect shared by all follow-up visits, "
        "irregular visit days, integer pain with floor effects (DOMS), and loss to follow-up "
        "that depends on the last observed pain (recovering patients self-discharge, worse "
        "ones are referred on): missing at random given earlier visits and baseline data.",
        "",
        "True effects (`gluteutils.cohort.true_effects()`): the difference in expected review "
        "pain between each therapy and home self-care for the same patient. Review pain is "
        "Binomial(10, p) with a mean that is linear in baseline pain, case mix and an additive "
        "therapy effect, so the effect is exact on the observed 0-10 scale and a correctly "
        "specified ANCOVA on complete data estimates it without bias.",
        "",
        "## Data dictionary",
        "",
        S.data_dictionary_markdown(),
        "## Calibration table",
        "",
        "Source `assumption` = no published number was found; the value is a modelling choice.",
        "",
        "| parameter | condition | therapy | value | unit | source | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(f"| {row.name} | {row.condition} | {row.therapy} | {row.value:g} | "
                     f"{row.unit} | {row.source} | {row.note} |")
    lines.append("")
    keys = sorted({s for s in table["source"] if s != ASSUMPTION})
    missing = check_keys(keys)
    lines.append("Source keys resolve in `data/references/*.yaml`: " + ", ".join(keys) + "."
                 + (f" UNRESOLVED: {missing}" if missing else ""))
    lines.append("")
    return "\n".join(lines)


def sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_cohort(folder: str | Path, n_episodes: int = SHIPPED_N_EPISODES,
                 seed: int = SHIPPED_SEED, *, readme: bool = True,
                 fmt: str = "csv") -> dict[str, Path]:
    """Generate the cohort and write ``episodes``, ``visits`` (CSV or Parquet),
    ``datapackage.json`` and ``README.md`` into ``folder``; return the written paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = generate(n_episodes, seed)
    out: dict[str, Path] = {}
    for name, frame in (("episodes", data.episodes), ("visits", data.visits)):
        path = folder / f"{name}.{fmt}"
        write_table(frame, path)
        out[name] = path
    if fmt == "csv":
        desc = S.datapackage_descriptor()
        dp = folder / "datapackage.json"
        dp.write_text(json.dumps(desc, indent=2) + "\n", encoding="utf-8")
        out["datapackage"] = dp
        if readme:
            hashes = {p.name: sha256(p) for k, p in out.items() if k != "datapackage"}
            rd = folder / "README.md"
            rd.write_text(_readme(n_episodes, seed, hashes), encoding="utf-8")
            out["readme"] = rd
    return out
