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

All parameters sit in one calibration table, ``data/outcomes/calibration.csv``
(:mod:`gluteutils.synthetic.calibration`), each with its source key
(``data/references/outcomes.yaml`` etc.) or ``"assumption"`` where no published number exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gluteutils.outcomes import schema as S
from gluteutils.outcomes.io import OutcomeData, to_typed
from gluteutils.synthetic.calibration import (
    ALL,
    by_condition,
    calibration,
    effect_matrix,
    param,
    share_matrix,
    site_shares,
)

#: Treatment visit slots between baseline and review.
MAX_TREATMENT_VISITS = 9
#: Symptom answers that shift expected review pain (case mix).
CASE_SYMPTOMS = ("leg_pain_below_knee", "numbness_tingling", "leg_weakness",
                 "sitting_intolerance", "pain_lying_on_side")


def _conditions(condition: str | Sequence[str] | None, *, allow_empty: bool = False
                ) -> list[str]:
    conds = (list(S.CONDITIONS) if condition is None
             else [condition] if isinstance(condition, str) else list(condition))
    unknown = [c for c in conds if c not in S.CONDITIONS]
    if unknown or not (conds or allow_empty):
        raise ValueError(f"unknown condition(s) {unknown}; expected some of {S.CONDITIONS}")
    return conds


def true_effects(condition: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Return the true effect of each therapy vs home self-care on review pain.

    Columns: ``condition, therapy, effect, scale, source``. ``effect`` is the difference in
    expected review ``pain_nprs`` (therapy minus home_self_care) for the same patient; it is
    exactly additive on the observed 0-10 scale (see the module docstring), so it is also the
    average treatment effect in any subgroup, and what a correctly specified ANCOVA on
    complete data estimates. Only (condition, therapy) pairs that the generator assigns appear.
    """
    conds = _conditions(condition, allow_empty=True)
    share = share_matrix()
    rows = [{"condition": p.condition, "therapy": p.therapy, "effect": p.value,
             "scale": "review pain_nprs, therapy minus home_self_care", "source": p.source}
            for p in calibration() if p.name == "effect" and p.condition in conds
            and share[S.CONDITIONS.index(p.condition), S.THERAPIES.index(p.therapy)] > 0]
    out = pd.DataFrame(rows, columns=["condition", "therapy", "effect", "scale", "source"])
    order = {c: i for i, c in enumerate(S.CONDITIONS)}
    torder = {t: i for i, t in enumerate(S.THERAPIES)}
    out = out.sort_values(["condition", "therapy"],
                          key=lambda s: s.map(order if s.name == "condition" else torder))
    return out.reset_index(drop=True)


@dataclass
class _CaseMix:
    """Who the episodes are: condition, sex, age band, site, symptom weeks and answers."""

    cond: np.ndarray
    female: np.ndarray
    age_idx: np.ndarray
    site: np.ndarray
    duration: np.ndarray
    symptoms: dict[str, np.ndarray]
    sym_p: np.ndarray  # condition x symptom probabilities

    @property
    def is_doms(self) -> np.ndarray:
        return np.asarray(self.cond == S.CONDITIONS.index("doms"))


def expected_review(cm: _CaseMix, therapy: np.ndarray, pain0: np.ndarray, *,
                    with_effect: bool = True) -> np.ndarray:
    """Expected review pain (0-10 scale, before clipping) for each episode."""
    cond = cm.cond
    home = by_condition("review_home_mean")[cond]
    slope = by_condition("baseline_slope")[cond]
    mean0 = by_condition("pain_mean")[cond]
    case = (param("case_age") * cm.age_idx + param("case_male") * ~cm.female
            + param("case_duration") * cm.duration)
    for col in CASE_SYMPTOMS:
        case = case + param(f"case_{col}") * cm.symptoms[col]
    scale = np.where(cm.is_doms, param("doms_case_scale", "doms"), 1.0)
    lin = home + slope * (pain0 - mean0) + scale * case
    if with_effect:
        lin = lin + effect_matrix()[cond, therapy]
    return np.asarray(lin, dtype=float)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _case_mix(rng: np.random.Generator, n: int, conditions: Sequence[str] | None) -> _CaseMix:
    shares = by_condition("share")
    if conditions is not None:
        wanted = _conditions(list(conditions))
        shares = np.where(np.isin(np.array(S.CONDITIONS), np.array(wanted)), shares, 0.0)
    cond = rng.choice(len(S.CONDITIONS), size=n, p=shares / shares.sum())
    female = rng.random(n) < by_condition("female")[cond]
    age = np.clip(rng.normal(by_condition("age_mean")[cond], by_condition("age_sd")[cond]), 18, 95)
    age_idx = np.searchsorted(np.array(S.AGE_BAND_LOWER), age, side="right") - 1
    site = rng.choice(len(S.SITES), size=n, p=site_shares())
    dmean = by_condition("duration_mean")[cond]
    duration = np.where(dmean > 0, np.floor(rng.gamma(1.5, np.maximum(dmean, 1) / 1.5)), 0)
    duration = np.minimum(duration, 260).astype(np.int32)
    sym_p = np.array([[param(f"symptom_{s}", c) for s in S.SYMPTOM_COLUMNS]
                      for c in S.CONDITIONS])
    sym_draw = rng.random((n, len(S.SYMPTOM_COLUMNS))) < sym_p[cond]
    symptoms = {s: sym_draw[:, i] for i, s in enumerate(S.SYMPTOM_COLUMNS)}
    return _CaseMix(cond, female, age_idx, site, duration, symptoms, sym_p)


def _baseline_pain(rng: np.random.Generator, cm: _CaseMix) -> np.ndarray:
    """Integer baseline pain; clinic patients have pain >= 1, DOMS presenters >= 2."""
    n = cm.cond.size
    latent0 = (by_condition("pain_mean")[cm.cond]
               + rng.normal(0, 1, n) * by_condition("pain_sd")[cm.cond]
               + param("baseline_leg_pain")
               * (cm.symptoms["leg_pain_below_knee"] - cm.sym_p[cm.cond, 0]))
    floor0 = np.where(cm.is_doms, 2, 1)
    return np.clip(np.rint(latent0), floor0, 10).astype(np.int16)


def _assign_therapy(rng: np.random.Generator, cm: _CaseMix, pain0: np.ndarray) -> np.ndarray:
    """Multinomial logit with confounding by indication (Gumbel-max sampling)."""
    with np.errstate(divide="ignore"):
        logits = np.log(share_matrix()[cm.cond])
    active = np.array([t != S.REFERENCE_THERAPY for t in S.THERAPIES])
    z = (pain0 - by_condition("pain_mean")[cm.cond])[:, None]
    ind_pain = np.where(active, param("indication_pain", ALL, "active therapies"), 0.0)
    ind_pain[S.THERAPIES.index("physio_plus_massage")] = param(
        "indication_pain", ALL, "physio_plus_massage")
    logits = logits + z * ind_pain[None, :]
    logits = logits + (cm.duration[:, None] * active[None, :]
                       * param("indication_duration", ALL, "active therapies"))
    leg = np.zeros(len(S.THERAPIES))
    leg[S.THERAPIES.index("physiotherapy")] = param("indication_leg", ALL, "physiotherapy")
    logits = logits + cm.symptoms["leg_pain_below_knee"][:, None] * leg[None, :]
    return np.asarray(np.argmax(logits + rng.gumbel(size=logits.shape), axis=1))


def _review(rng: np.random.Generator, lin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Review pain, exactly mean-linear Binomial(10, p), and the person's deviation."""
    q = np.clip(lin, 0.0, 10.0) / 10.0
    v = rng.beta(2.0, 2.0, lin.size) - 0.5
    p = np.clip(q + param("person_spread") * 2.0 * np.minimum(q, 1.0 - q) * v, 0.0, 1.0)
    return rng.binomial(10, p).astype(np.int16), 10.0 * (p - q)


@dataclass
class _Schedule:
    """Every visit slot: day, pain, whether it exists, type (0 baseline, 1 treatment, 2 review)."""

    days: np.ndarray
    pain: np.ndarray
    valid: np.ndarray
    vtype: np.ndarray


def _schedule(rng: np.random.Generator, cm: _CaseMix, therapy: np.ndarray, pain0: np.ndarray,
              lin: np.ndarray, dev: np.ndarray, review_pain: np.ndarray) -> _Schedule:
    """K treatment slots + baseline + review; treatment pain follows a recovery curve."""
    n, k, is_doms = cm.cond.size, MAX_TREATMENT_VISITS, cm.is_doms
    lo = np.where(is_doms, S.REVIEW_WINDOW["doms"][0], 49)
    hi = np.where(is_doms, S.REVIEW_WINDOW["doms"][1], 63)
    review_day = rng.integers(lo, hi + 1).astype(np.int32)
    interval = np.array([param("visit_interval", ALL, t) for t in S.THERAPIES])[therapy]
    interval = np.where(is_doms, param("visit_interval_doms", "doms"), interval)
    gaps = np.maximum(1, np.rint(interval[:, None] * rng.uniform(0.6, 1.4, (n, k))))
    tdays = np.cumsum(gaps, axis=1).astype(np.int32)
    tvalid = tdays <= (review_day - np.where(is_doms, 2, 3))[:, None]
    tvalid &= ~(is_doms & (therapy == S.THERAPIES.index(S.REFERENCE_THERAPY)))[:, None]
    curve = np.where(is_doms, 1.5, 2.5)[:, None]
    g = (1 - np.exp(-curve * (tdays / review_day[:, None]))) / (1 - np.exp(-curve))
    target = lin[:, None] + dev[:, None]
    tpain_latent = (pain0[:, None] + (target - pain0[:, None]) * g
                    + rng.normal(0, param("visit_noise_sd"), (n, k)))
    tpain = np.clip(np.rint(tpain_latent), 0, 10).astype(np.int16)
    return _Schedule(
        days=np.concatenate([np.zeros((n, 1), np.int32), tdays, review_day[:, None]], axis=1),
        pain=np.concatenate([pain0[:, None], tpain, review_pain[:, None]], axis=1),
        valid=np.concatenate([np.ones((n, 1), bool), tvalid, np.ones((n, 1), bool)], axis=1),
        vtype=np.concatenate([np.zeros((n, 1), np.int8), np.ones((n, k), np.int8),
                              np.full((n, 1), 2, np.int8)], axis=1))


def _follow_up(rng: np.random.Generator, therapy: np.ndarray, pain0: np.ndarray,
               sch: _Schedule, dropout: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss to follow-up after each observed visit, depending only on observed data (MAR).
    Returns the kept slots, who left and the slot after which they left."""
    n, k = pain0.size, MAX_TREATMENT_VISITS
    is_home = therapy == S.THERAPIES.index(S.REFERENCE_THERAPY)
    eta = (param("dropout_base") + param("dropout_home") * is_home[:, None]
           + param("dropout_recovered") * (sch.pain[:, :-1] <= 2)
           + param("dropout_worse") * np.maximum(sch.pain[:, :-1] - pain0[:, None], 0))
    leave = (rng.random((n, k + 1)) < _sigmoid(eta)) & sch.valid[:, :-1]
    if not dropout:
        leave[:] = False
    any_leave = leave.any(axis=1)
    stop = np.where(any_leave, np.argmax(leave, axis=1), k + 1)
    keep = sch.valid & (np.arange(k + 2)[None, :] <= stop[:, None])
    return keep, any_leave, stop


def _visit_rows(rng: np.random.Generator, sch: _Schedule, keep: np.ndarray, pain0: np.ndarray,
                age_idx: np.ndarray) -> dict[str, np.ndarray]:
    """The long visits table (codes), with GRC and LEFS drawn around each visit's pain."""
    flat = keep.ravel()
    v_pain, v_type = sch.pain.ravel()[flat], sch.vtype.ravel()[flat]
    ep_index = np.repeat(np.arange(pain0.size), keep.sum(axis=1))
    m = v_pain.size
    base_pain = pain0[ep_index].astype(float)
    grc = np.clip(np.rint(param("grc_per_point") * (base_pain - v_pain)
                          + rng.normal(0, 1.0, m)), -5, 5)
    lefs = np.clip(np.rint(param("lefs_intercept") + param("lefs_per_pain_point") * v_pain
                           - 1.5 * age_idx[ep_index] + rng.normal(0, 6, m)), 0, 80)
    lefs_missing = rng.random(m) < param("lefs_missing")
    return {"episode_id": ep_index, "visit_day": sch.days.ravel()[flat], "visit_type": v_type,
            "pain_nprs": v_pain,
            "function_lefs": np.where(lefs_missing, -1, lefs).astype(np.int16),
            "grc": np.where(v_type == 0, -99, grc).astype(np.int16)}


def _discharge(sch: _Schedule, any_leave: np.ndarray, stop: np.ndarray, pain0: np.ndarray,
               review_pain: np.ndarray) -> np.ndarray:
    """Discharge reason codes from how and when each episode ended."""
    n, k = pain0.size, MAX_TREATMENT_VISITS
    last_pain = sch.pain[np.arange(n), np.where(any_leave, stop, k + 1)]
    completed = ~any_leave
    reason = np.full(n, S.DISCHARGE_REASONS.index("lost_to_follow_up"))
    reason[any_leave & (last_pain <= 2)] = S.DISCHARGE_REASONS.index("self_discharged")
    reason[any_leave & (last_pain >= pain0 + 1)] = S.DISCHARGE_REASONS.index("referred_on")
    reason[completed & (review_pain <= 2)] = S.DISCHARGE_REASONS.index("goals_met")
    reason[completed & (review_pain > 2)] = S.DISCHARGE_REASONS.index("ongoing")
    return reason


def simulate(n: int, seed: int, conditions: Sequence[str] | None = None, dropout: bool = True
             ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Episode and visit columns as integer codes, and each episode's expected review pain.
    The random draws happen in a fixed order, so a seed gives the same cohort."""
    rng = np.random.default_rng(seed)
    cm = _case_mix(rng, n, conditions)
    pain0 = _baseline_pain(rng, cm)
    therapy = _assign_therapy(rng, cm, pain0)
    lin = expected_review(cm, therapy, pain0)
    review_pain, dev = _review(rng, lin)
    sch = _schedule(rng, cm, therapy, pain0, lin, dev, review_pain)
    keep, any_leave, stop = _follow_up(rng, therapy, pain0, sch, dropout)
    ids = S.random_episode_ids(rng, n)
    visits = _visit_rows(rng, sch, keep, pain0, cm.age_idx)
    episodes: dict[str, np.ndarray] = {
        "episode_id": ids, "condition": cm.cond, "therapy": therapy, "age_band": cm.age_idx,
        "sex": np.where(cm.female, 0, 1), "site": cm.site,
        "symptom_duration_weeks": cm.duration, **cm.symptoms,
        "sessions_attended": keep.sum(axis=1).astype(np.int16),
        "discharge_reason": _discharge(sch, any_leave, stop, pain0, review_pain),
    }
    return episodes, visits, lin


def _categorical(codes: np.ndarray, values: Sequence[str], ordered: bool = False
                 ) -> pd.Categorical:
    return pd.Categorical.from_codes(
        codes.astype(np.int8), categories=list(values), ordered=ordered,  # type: ignore[arg-type]
    )


def generate(n_episodes: int, seed: int, *, conditions: Sequence[str] | None = None,
             dropout: bool = True) -> OutcomeData:
    """Simulate ``n_episodes`` treatment episodes (in memory, vectorised, seeded).

    ``conditions`` restricts the cohort to some conditions (faster small runs);
    ``dropout=False`` returns the complete data (every episode reaches its review), e.g. to
    check an estimator on complete data. Same arguments give the same data.
    """
    if n_episodes < 1:
        raise ValueError("n_episodes must be >= 1")
    ep, vi, _ = simulate(int(n_episodes), int(seed), conditions, dropout)
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
    ep, _, lin = simulate(n_episodes, seed, None, True)
    home = lin - effect_matrix()[ep["condition"], ep["therapy"]]
    bad = (lin < 0) | (lin > 10) | (home < 0) | (home > 10)
    return float(bad.mean())
