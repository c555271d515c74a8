"""The symptom questionnaire: red flags first, then a transparent ranking of likely causes.

Content lives as data in ``data/questionnaire/`` (questions, conditions with their feature
weights and published figures, triage rules, self-care advice, services, vignettes).

Modules: :mod:`~gluteutils.triage.content` (data model, validated loader),
:mod:`~gluteutils.triage.engine` (:func:`assess`: rules, ranking, "cannot tell"),
:mod:`~gluteutils.triage.result` (:class:`TriageResult` and its renderings),
:mod:`~gluteutils.triage.audit` (vignette audit with Wilson CIs, published anchors).
Everything public is re-exported here, so ``from gluteutils.triage import assess`` works.

This is an educational tool, not a diagnosis.
"""

from gluteutils.triage.audit import (
    accuracy_summary,
    evaluate_vignettes,
    load_vignettes,
    published_anchors,
    sourced_share,
    vignette_dir,
    wilson_interval,
)
from gluteutils.triage.content import (
    CONTENT_FILES,
    EXPERT,
    LEVELS,
    YOUNGEST_SUPPORTED_AGE,
    Answer,
    Clause,
    Condition,
    Content,
    CountClause,
    Feature,
    Group,
    Question,
    Rule,
    SelfCareItem,
    Service,
    load_content,
)
from gluteutils.triage.engine import (
    ACUTE_DURATIONS,
    CHRONIC_DURATIONS,
    FIT_MIN_LR,
    FIT_THRESHOLD,
    RULE_LR,
    SELF_CARE_MAX_NPRS,
    SELF_CARE_MIN_PROBABILITY,
    UNCLEAR_BELOW,
    asked,
    assess,
    fired_rules,
    fit_of,
    question_table,
    score_conditions,
    unanswered_warning_questions,
    validate_answers,
    weights_table,
)
from gluteutils.triage.result import (
    CANNOT_TELL_TEXT,
    CAUSES_CAVEAT,
    DISCLAIMER,
    EMERGENCY_NOW,
    LEVEL_TEXT,
    CauseScore,
    Contribution,
    FiredRule,
    Section,
    TriageResult,
    likelihood_word,
)

__all__ = [
    "ACUTE_DURATIONS", "CANNOT_TELL_TEXT", "CAUSES_CAVEAT", "CHRONIC_DURATIONS",
    "CONTENT_FILES", "DISCLAIMER", "EMERGENCY_NOW", "EXPERT", "FIT_MIN_LR", "FIT_THRESHOLD", "RULE_LR",
    "LEVELS", "LEVEL_TEXT", "SELF_CARE_MAX_NPRS", "SELF_CARE_MIN_PROBABILITY", "UNCLEAR_BELOW",
    "YOUNGEST_SUPPORTED_AGE", "Answer", "CauseScore", "Clause", "Condition", "Content",
    "Contribution", "CountClause", "Feature", "FiredRule", "Group", "Question", "Rule",
    "Section", "SelfCareItem", "Service", "TriageResult", "accuracy_summary", "asked",
    "assess", "evaluate_vignettes", "fired_rules", "fit_of", "likelihood_word",
    "load_content", "load_vignettes", "published_anchors", "question_table",
    "score_conditions", "sourced_share", "unanswered_warning_questions", "validate_answers",
    "vignette_dir", "weights_table", "wilson_interval",
]
