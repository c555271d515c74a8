"""Property-based tests: any combination of valid answers."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gluteutils.triage import Question, assess, load_content

CONTENT = load_content()


def _values(q: Question) -> st.SearchStrategy[Any]:
    if q.type == "boolean":
        return st.sampled_from([True, False, None])
    if q.type == "integer":
        assert q.minimum is not None and q.maximum is not None
        return st.one_of(st.none(), st.integers(q.minimum, q.maximum))
    return st.sampled_from([None, *[v for v, _ in q.choices]])


ANSWERS = st.fixed_dictionaries(
    {}, optional={qid: _values(q) for qid, q in CONTENT.questions.items()})


@settings(max_examples=150, deadline=None)
@given(ANSWERS)
def test_never_crashes_and_result_is_consistent(answers: dict[str, Any]) -> None:
    r = assess(answers)
    assert r.level in ("emergency", "urgent", "routine", "self_care")
    assert len(r.causes) == len(CONTENT.conditions)
    assert abs(sum(c.probability for c in r.causes) - 1) < 1e-9
    assert r.confidence in ("low", "moderate", "high")
    if r.level in ("routine", "self_care"):
        assert not r.fired
    if r.fired:  # a warning sign: no cause-specific self-care plan
        assert r.plan == ()


@settings(max_examples=150, deadline=None)
@given(ANSWERS)
def test_self_care_only_when_no_red_flag_rule_could_still_fire(answers: dict[str, Any]) -> None:
    r = assess(answers)
    if r.unanswered_red_flags:
        assert r.level != "self_care"
        assert not any("No warning signs" in reason for reason in r.level_reasons)
    if r.level == "self_care":
        assert all(r.answers.get(q) is not None for q in CONTENT.red_flag_questions)
        for rule in CONTENT.rules:
            if rule.kind == "red_flag":
                states = [c.holds(r.answers) for c in rule.when_all]
                assert False in states or True not in states, rule.id


SELF_CARE = {**{q: False for q in CONTENT.red_flag_questions}, "age": 30, "nprs": 4,
             "duration": "under_3_days", "onset": "day_after_exercise", "new_exercise_72h": True,
             "location": "whole_muscle", "tender_on_pressing": True}


@settings(max_examples=150, deadline=None)
@given(ANSWERS, st.sampled_from(CONTENT.red_flag_questions), st.booleans())
def test_a_skipped_warning_question_is_never_self_care(answers: dict[str, Any], flag: str,
                                                       from_self_care: bool) -> None:
    assert assess(SELF_CARE).level == "self_care"
    base = SELF_CARE if from_self_care else answers
    r = assess({**base, flag: None})
    assert r.level != "self_care"
    assert flag in r.unanswered_red_flags


@settings(max_examples=150, deadline=None)
@given(ANSWERS, st.sampled_from(CONTENT.red_flag_questions))
def test_a_red_flag_always_wins(answers: dict[str, Any], flag: str) -> None:
    r = assess({**answers, flag: True})
    assert r.red_flag
    assert r.level in ("emergency", "urgent")
    assert r.service.id in ("emergency_department", "doctor")


@settings(max_examples=100, deadline=None)
@given(ANSWERS, st.randoms(use_true_random=False))
def test_ranking_is_stable_under_answer_order(answers: dict[str, Any], rnd: Any) -> None:
    items = list(answers.items())
    rnd.shuffle(items)
    assert assess(dict(items)).to_dict() == assess(answers).to_dict()
