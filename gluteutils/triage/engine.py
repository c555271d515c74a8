"""The triage engine: answers in, a :class:`~gluteutils.triage.result.TriageResult` out.

1. Triage rules (``red_flags.yaml``) come first and always win: any red flag gives
   ``emergency`` or ``urgent``; an unanswered warning question (or a rule that could still
   fire on unknown answers) keeps the level at ``routine`` or above. Below the youngest
   supported age the result is a plain "see a doctor" (``urgent``), never an error. A
   ``routine`` rule marks a pattern outside the list (e.g. urinary symptoms with pain between
   the legs): the tool cannot tell, and the rule never lowers the level the causes give.
2. The causes are ranked by a naive-Bayes score ``ln(prior) + sum(ln LR)``.
3. The fit of the best cause (the sum of its answers' ln LR, prior excluded) is compared with
   :data:`FIT_THRESHOLD`: below it no listed cause explains the answers and the result says
   it *cannot tell*, routes to a clinician and shows no cause-specific advice.

:func:`assess` is pure and deterministic. This is an educational tool, not a diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gluteutils.errors import InvalidAnswerError
from gluteutils.triage.content import (
    EXPERT,
    LEVELS,
    YOUNGEST_SUPPORTED_AGE,
    Answer,
    Condition,
    Content,
    CountClause,
    Question,
    SelfCareItem,
    Service,
    load_content,
)
from gluteutils.triage.result import CauseScore, Contribution, FiredRule, TriageResult

ACUTE_DURATIONS = frozenset({"under_3_days", "days_3_to_14"})
CHRONIC_DURATIONS = frozenset({"weeks_6_to_12", "over_3_months"})
SELF_CARE_MAX_NPRS = 6  # expert judgement: stronger pain is worth a clinician's look
SELF_CARE_MIN_PROBABILITY = 0.5  # expert judgement: only when the top cause is clear
#: Below this top-cause probability the answers do not point to one cause: the plan keeps to
#: general advice and the service is a general physiotherapy assessment (expert judgement).
UNCLEAR_BELOW = 0.35
#: "Cannot tell" when the best cause's evidence (sum of ln LR of the answers, prior
#: excluded) is below ln(FIT_MIN_LR): set on the project's vignettes (see
#: ``scripts/triage_accuracy.py --calibrate``) so that every listed-cause vignette is above
#: it and the vignettes of causes outside the list are below it.
FIT_MIN_LR = 3.0
FIT_THRESHOLD = math.log(FIT_MIN_LR)
#: Weight given to a cause when a triage rule pointing to it fires (expert judgement): large
#: enough that a benign cause is never ranked above a serious pattern that fits.
RULE_LR = 1000.0


# --------------------------------------------------------------------------- answers
def asked(question: Question, answers: Mapping[str, Answer]) -> bool:
    """Return whether ``question`` is asked, given the other answers (skip logic)."""
    if question.show_if is None:
        return True
    dep, values = question.show_if
    return answers.get(dep) in values


def validate_answers(answers: Mapping[str, Any], content: Content | None = None
                     ) -> dict[str, Answer]:
    """Check every answer and return the known answers of asked questions, in content order.

    ``None`` means unknown. Answers to questions that skip logic did not ask are dropped.
    Raises :class:`~gluteutils.errors.InvalidAnswerError` naming the first bad question.
    """
    content = content or load_content()
    for qid in sorted(answers):
        value = answers[qid]
        question = content.questions.get(qid)
        if question is None:
            raise InvalidAnswerError(qid, value, "a question id from data/questionnaire/"
                                                 "questions.yaml")
        if not question.is_valid(value):
            raise InvalidAnswerError(qid, value, question.expected())
    clean: dict[str, Answer] = {}
    for qid, question in content.questions.items():
        value = answers.get(qid)
        if value is not None and asked(question, clean):
            clean[qid] = value
    return clean


# --------------------------------------------------------------------------- rules
def fired_rules(answers: Mapping[str, Answer], content: Content | None = None
                ) -> tuple[FiredRule, ...]:
    """Return the triage rules that fire for (validated) ``answers``, most severe first."""
    content = content or load_content()
    out = []
    for rule in content.rules:
        if all(c.holds(answers) for c in rule.when_all):
            shown = tuple(f"{content.questions[c.question].text} -> "
                          f"{content.questions[c.question].label(answers.get(c.question))}"
                          for c in rule.when_all)
            out.append(FiredRule(rule.id, rule.serious_condition, rule.kind, rule.level,
                                 rule.source, shown, rule.outside_list))
    return tuple(sorted(out, key=lambda r: LEVELS.index(r.level)))


def unanswered_warning_questions(answers: Mapping[str, Answer], content: Content | None = None
                                 ) -> tuple[str, ...]:
    """Ids of the questions that could still set a red flag, in content order.

    These are the warning (red-flag group) questions left unanswered, plus the unanswered
    questions of any red-flag rule that has not fired but could: at least one of its clauses
    holds and none is known to fail (e.g. a fall with age and thin bones unknown). A rule none
    of whose questions is answered is not counted on its own.
    """
    content = content or load_content()
    missing = {q for q in content.red_flag_questions if answers.get(q) is None}
    for rule in content.rules:
        if rule.kind != "red_flag":
            continue
        states = [c.holds(answers) for c in rule.when_all]
        if False in states or None not in states or True not in states:
            continue
        missing |= {c.question for c, ok in zip(rule.when_all, states, strict=True)
                    if ok is None and asked(content.questions[c.question], answers)}
    return tuple(q for q in content.questions if q in missing)


# --------------------------------------------------------------------------- scoring
def _contributions(cond: Condition, answers: Mapping[str, Answer], content: Content
                   ) -> tuple[Contribution, ...]:
    contribs = [Contribution(cond.id, "prior", "starting point (how common it is)",
                             cond.prior, cond.prior_source, cond.prior_source)]
    for rule in content.rules:
        if rule.condition == cond.id and all(c.holds(answers) for c in rule.when_all):
            contribs.append(Contribution(cond.id, "rule", f"warning sign: "
                                         f"{rule.serious_condition}", RULE_LR, rule.source,
                                         EXPERT))
            break
    for f in cond.features:
        holds = f.clause.holds(answers)
        if holds is None or (f.unless is not None and f.unless.holds(answers)):
            continue
        lr = f.lr if holds else f.lr_else
        if lr is None:
            continue
        if isinstance(f.clause, CountClause):
            text = f"{f.clause.describe(content.questions)} -> {'yes' if holds else 'no'}"
        else:
            q = content.questions[f.clause.question]
            text = f"{q.text} {q.label(answers[q.id])}"
        contribs.append(Contribution(cond.id, f.clause.question, text, lr, f.basis, f.weight))
    return tuple(contribs)


def score_conditions(answers: Mapping[str, Answer], content: Content | None = None
                     ) -> tuple[CauseScore, ...]:
    """Rank the conditions: score = ln(prior) + sum ln(LR); ties broken by content order."""
    content = content or load_content()
    scored = []
    for order, cond in enumerate(content.conditions):
        contribs = _contributions(cond, answers, content)
        scored.append((sum(k.log_lr for k in contribs), order, cond, contribs))
    top = max(s for s, *_ in scored)
    total = sum(math.exp(s - top) for s, *_ in scored)
    ranked = sorted(scored, key=lambda t: (-round(t[0], 9), t[1]))
    return tuple(CauseScore(c.id, c.name, s, math.exp(s - top) / total, k)
                 for s, _, c, k in ranked)


def fit_of(cause: CauseScore) -> float:
    """Evidence for a cause from the answers alone: sum of ln(LR), prior excluded."""
    return sum(k.log_lr for k in cause.contributions if k.question != "prior")


# --------------------------------------------------------------------------- level
def _blockers(clean: Mapping[str, Answer], top: Condition, p1: float, cannot_tell: bool
              ) -> list[str]:
    nprs = clean.get("nprs")
    blockers = []
    if cannot_tell:
        blockers.append("the answers do not fit any cause this tool covers well")
    elif not top.self_care_ok:
        blockers.append(f"the top cause ({top.name}) is best checked by a clinician")
    if p1 < SELF_CARE_MIN_PROBABILITY:
        blockers.append("the top cause is not clear")
    if isinstance(nprs, int) and nprs > SELF_CARE_MAX_NPRS:
        blockers.append(f"pain is {nprs}/10 (above {SELF_CARE_MAX_NPRS})")
    if clean.get("duration") in CHRONIC_DURATIONS:
        blockers.append("the pain has lasted 6 weeks or more")
    if clean.get("leg_weakness"):
        blockers.append("a leg or foot is weak")
    return blockers


def _level(clean: Mapping[str, Answer], fired: tuple[FiredRule, ...], top: Condition,
           p1: float, missing: tuple[str, ...], flags: tuple[bool, bool, bool]
           ) -> tuple[str, list[str]]:
    below, cannot_tell, poor_fit = flags
    if any(r.level != "routine" for r in fired):
        return fired[0].level, [f"{r.serious_condition} ({r.level}): " + "; ".join(r.answers)
                                for r in fired]
    # Only `routine` rules (patterns outside the list: the tool cannot tell) may have fired:
    # they never lower the level the causes give (e.g. urgent for a stress-fracture pattern).
    outside = [f"Not a cause this tool covers: {r.serious_condition}: " + "; ".join(r.answers)
               for r in fired]
    level, reasons = _level_without_rules(clean, top, p1, missing, (below, cannot_tell, poor_fit))
    return level, [*outside, *reasons]


def _level_without_rules(clean: Mapping[str, Answer], top: Condition, p1: float,
                         missing: tuple[str, ...], flags: tuple[bool, bool, bool]
                         ) -> tuple[str, list[str]]:
    below, cannot_tell, poor_fit = flags
    if below:
        return "urgent", [f"Under {YOUNGEST_SUPPORTED_AGE}: please see a doctor, who can "
                          "examine a child's hip and back."]
    if (top.serious or top.urgent_if_top) and not poor_fit:
        return "urgent", [f"The answers fit best a cause a doctor should check soon "
                          f"({top.name})."]
    blockers = _blockers(clean, top, p1, cannot_tell)
    if missing:
        # Never "no warning signs" when a warning question is unanswered or a red-flag
        # rule could still fire on the unknown answers: at least a routine check.
        return "routine", ["Warning questions not answered (listed below); self-care alone is "
                           "not advised until a clinician has asked them",
                           *[b[0].upper() + b[1:] for b in blockers]]
    if blockers:
        return "routine", ["No warning signs; " + r for r in blockers]
    nprs = clean.get("nprs")
    return "self_care", [f"No warning signs; your answers fit {top.name} best"
                         + (f"; pain {nprs}/10" if nprs is not None else "")]


def _stage(answers: Mapping[str, Answer]) -> str:
    duration = answers.get("duration")
    if duration in ACUTE_DURATIONS:
        return "acute"
    if duration in CHRONIC_DURATIONS:
        return "chronic"
    if duration is None and answers.get("onset") in (
            "sudden_during_activity", "fall_or_blow", "day_after_exercise"):
        return "acute"
    return "subacute"


def _plan(cond: Condition, stage: str, content: Content, *, general_only: bool = False
          ) -> tuple[SelfCareItem, ...]:
    items = [i for i in content.self_care
             if ((cond.id in i.conditions and not general_only) or "all" in i.conditions)
             and (i.stage == "any" or i.stage == stage)]
    return tuple(sorted(items, key=lambda i: i.kind != "do"))


def _service(level: str, cond: Condition, answers: Mapping[str, Answer], content: Content
             ) -> tuple[Service, str]:
    if level == "emergency":
        return content.services["emergency_department"], "A warning sign needs care now."
    if level == "urgent":
        return content.services["doctor"], "A warning sign needs a doctor's check soon."
    sid, why = cond.service, f"Usual first service for {cond.name.lower()}."
    if cond.pelvic_service and (answers.get("pelvic_symptoms") or
                                answers.get("pregnancy_postpartum")):
        sid, why = cond.pelvic_service, "Pelvic symptoms or pregnancy/after birth."
    elif cond.athlete_service and answers.get("regular_sport"):
        sid, why = cond.athlete_service, "You train or play sport regularly."
    elif cond.chronic_service and answers.get("duration") == "over_3_months":
        sid, why = cond.chronic_service, "Long-standing pain: a progressive exercise plan."
    if level == "self_care":
        why = "Only if it is not improving within 1-2 weeks. " + why
    return content.services[sid], why


def _confidence(top: Condition, clean: Mapping[str, Answer], p1: float, low: bool,
                content: Content) -> str:
    """``high`` / ``moderate`` / ``low`` from the top cause's key questions answered.

    A question that skip logic did not ask (e.g. the maximal-effort question of a person who
    does no sport) cannot be answered, so it does not count.
    """
    keys = {q for f in top.features for q in f.clause.questions
            if asked(content.questions[q], clean)}
    fraction = sum(1 for q in keys if q in clean) / len(keys) if keys else 0.0
    if low or fraction < 0.5 or p1 < UNCLEAR_BELOW:
        return "low"
    if fraction >= 0.6 and p1 >= 0.6:
        return "high"
    return "moderate"


def assess(answers: Mapping[str, Any], content: Content | None = None) -> TriageResult:
    """Assess one person's answers (question id -> answer; missing or ``None`` = unknown).

    Pure and deterministic: the same answers (in any order) give the same result.
    """
    content = content or load_content()
    clean = validate_answers(answers, content)
    fired = fired_rules(clean, content)
    causes = score_conditions(clean, content)
    top = content.condition(causes[0].condition)
    p1, fit = causes[0].probability, fit_of(causes[0])
    missing = unanswered_warning_questions(clean, content)
    age = clean.get("age")
    below = isinstance(age, int) and age < YOUNGEST_SUPPORTED_AGE
    # A poor fit, or a warning pattern that is none of the listed causes (e.g. an abscess):
    # the tool cannot tell the cause and ranks none with confidence.
    poor_fit = fit < FIT_THRESHOLD
    cannot_tell = not below and (poor_fit or any(r.outside_list for r in fired))
    level, reasons = _level(clean, fired, top, p1, missing, (below, cannot_tell, poor_fit))
    stage = _stage(clean)
    vague = cannot_tell or below or p1 < UNCLEAR_BELOW
    # Any warning rule that fired (red flag or escalation): no self-care plan at all (no
    # loading exercise for a possible fracture); unclear or poor fit, or a routine pattern
    # outside the list: general advice only.
    warning = any(r.level != "routine" for r in fired)
    plan = () if warning or below else _plan(top, stage, content, general_only=vague)
    service, why = _service(level, top, clean, content)
    if level in ("routine", "self_care") and (cannot_tell or below):
        service, why = content.services["doctor"], ("The answers do not fit one cause this "
                                                     "tool covers: a doctor can examine you.")
    elif level in ("routine", "self_care") and p1 < UNCLEAR_BELOW:
        service = content.services["physiotherapy"]
        why = ("The answers do not point clearly to one cause; a physiotherapist can assess "
               "you and refer on if needed.")
    non_flag = [q for q in content.questions.values() if not q.red_flag and asked(q, clean)]
    return TriageResult(
        level=level, level_reasons=tuple(reasons), fired=fired, causes=causes, stage=stage,
        plan=plan, service=service, service_reason=why,
        answered=sum(1 for q in non_flag if q.id in clean), asked=len(non_flag),
        unanswered_red_flags=missing,
        confidence=_confidence(top, clean, p1, bool(missing) or cannot_tell or below,
                               content),
        answers=clean, unanswered_text=tuple(content.questions[q].text for q in missing),
        cannot_tell=cannot_tell, fit=fit, below_supported_age=below)


# --------------------------------------------------------------------------- tables
def question_table(content: Content | None = None) -> pd.DataFrame:
    """Every question as a tidy table: group, id, type, allowed answers, source."""
    content = content or load_content()
    return pd.DataFrame([{"group": q.group, "red_flag": q.red_flag, "question": q.id,
                          "text": q.text, "type": q.type,
                          "allowed": q.expected().replace(" or null (unknown)", ""),
                          "source": q.source or ""} for q in content.questions.values()])


def weights_table(content: Content | None = None) -> pd.DataFrame:
    """Every prior and feature weight: condition, feature, LR, LR-else, sources, figure."""
    content = content or load_content()
    rows = []
    for c in content.conditions:
        rows.append({"condition": c.id, "feature": "prior", "lr": c.prior, "lr_else": None,
                     "basis": c.prior_source, "weight": c.prior_source,
                     "figure": c.prior_figure, "sourced": c.prior_source != EXPERT})
        for f in c.features:
            feature = f.clause.describe(content.questions)
            if f.unless is not None:
                feature += f" (not counted when {f.unless.describe(content.questions)})"
            rows.append({"condition": c.id, "feature": feature,
                         "lr": f.lr, "lr_else": f.lr_else, "basis": f.basis,
                         "weight": f.weight, "figure": f.figure,
                         "sourced": f.weight != EXPERT})
    return pd.DataFrame(rows)
