"""The quiz: unambiguous keys, no give-aways, and spaced retrieval across rounds.

Spaced retrieval: Dobson et al. 2017 (``dobson2017``). Facts: the muscle cards
(``data/anatomy/muscles.yaml``, sources per fact).
"""

from __future__ import annotations

import numpy as np
import pytest

from gluteutils import quiz
from gluteutils.anatomy import _fact_text, muscle_cards
from gluteutils.errors import InvalidAnswerError
from gluteutils.references import check_keys


def _all_questions(seed: int = 0) -> list[quiz.Question]:
    rng = np.random.default_rng(seed)
    return [quiz.build_question(c, f, k, rng) for c, f, k in quiz.candidate_items()]


def test_source_of_the_scheduling_claim_resolves() -> None:
    assert check_keys(["dobson2017"]) == []


def test_every_card_fact_kind_is_represented() -> None:
    kinds = {k for _c, _f, k in quiz.candidate_items()}
    assert kinds == {"fact", "muscle"}
    assert len({c for c, _f, _k in quiz.candidate_items()}) == len(muscle_cards())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exactly_one_choice_is_true(seed: int) -> None:
    cards = {c["id"]: c for c in muscle_cards()}
    for q in _all_questions(seed):
        assert len(set(q.choices)) == len(q.choices) == 4
        assert q.answer in q.choices
        field = q.item.split(":")[1]
        if q.kind == "fact":
            # only the keyed muscle's own text is among the choices for that muscle
            true = [ch for ch in q.choices if ch == _fact_text(cards[q.muscle], field)]
            assert true == [q.answer]
        else:
            clue = _fact_text(cards[q.answer], field)
            owners = [cid for cid in q.choices if _fact_text(cards[cid], field) == clue]
            assert owners == [q.answer]  # no other offered muscle shares the keyed text
            sharing = [c for c in cards if _fact_text(cards[c], field) == clue]
            assert sharing == [q.answer]  # nor does any muscle at all


def test_shared_texts_are_never_asked_as_which_muscle() -> None:
    cards = muscle_cards()
    shared = {(c["id"], f) for c in cards for f in quiz.FACT_FIELDS
              if sum(_fact_text(o, f) == _fact_text(c, f) for o in cards) > 1}
    assert shared  # the shipped cards do share some texts (e.g. the superior gluteal nerve)
    asked = {(c, f) for c, f, k in quiz.candidate_items() if k == "muscle"}
    assert not shared & asked


def test_no_question_gives_its_answer_away() -> None:
    for q in _all_questions():
        name = quiz._names()[q.muscle]
        if q.kind == "muscle":
            assert not quiz.gives_away(q.prompt, name), q.prompt
        else:
            assert not quiz.gives_away(q.answer, name), q.answer
    # the reported give-away is gone: piriformis' nerve is never a clue or key for it
    assert ("piriformis", "nerve", "muscle") not in quiz.candidate_items()
    assert ("piriformis", "nerve", "fact") not in quiz.candidate_items()


def test_gives_away_matches_name_words_only() -> None:
    assert quiz.gives_away("Nerve to piriformis (S1, S2)", "Piriformis")
    assert not quiz.gives_away("Superior gluteal nerve (L4, L5, S1)", "Gluteus medius")


def test_check_rejects_non_choices_and_keys_correctly() -> None:
    q = _all_questions()[0]
    assert quiz.check(q, q.answer)
    wrong = next(c for c in q.choices if c != q.answer)
    assert not quiz.check(q, wrong)
    with pytest.raises(InvalidAnswerError):
        quiz.check(q, "not an option")


def test_same_seed_same_round() -> None:
    a, b = quiz.Quiz(n=6, seed=3), quiz.Quiz(n=6, seed=3)
    assert [q.prompt for q in a.questions] == [q.prompt for q in b.questions]
    assert [q.choices for q in a.questions] == [q.choices for q in b.questions]


def test_a_round_never_asks_the_same_fact_twice() -> None:
    qz = quiz.Quiz(n=10, seed=1)
    stems = [q.item.rsplit(":", 1)[0] for q in qz.questions]
    assert len(stems) == len(set(stems)) == 10


def _play(qz: quiz.Quiz, wrong: set[str]) -> None:
    for q in qz.questions:
        value = q.answer if q.item not in wrong else next(c for c in q.choices if c != q.answer)
        qz.answer(q, value)


def test_missed_items_come_back_next_round_and_right_ones_later() -> None:
    qz = quiz.Quiz(n=5, seed=0)
    first = [q.item for q in qz.questions]
    missed = set(first[:2])
    _play(qz, missed)
    assert qz.finished
    summary = qz.summary()
    assert [r["result"] for r in summary].count("missed") == 2
    second = [q.item for q in qz.new_round()]
    assert missed <= set(second)  # missed -> round 2
    assert not (set(first) - missed) & set(second)  # right -> not in round 2
    _play(qz, set())
    third = [q.item for q in qz.new_round()]
    assert (set(first) - missed) <= set(third)  # right in round 1 -> due in round 3
    assert not missed & set(third)  # right in round 2 -> due in round 4


def test_schedule_intervals_double_and_reset() -> None:
    s = quiz.Schedule()
    s.record("x", True, 1)
    assert s.due["x"] == 3
    s.record("x", True, 3)
    assert s.due["x"] == 7
    s.record("x", False, 7)
    assert s.due["x"] == 8 and s.box["x"] == 0


def test_only_the_first_answer_counts() -> None:
    qz = quiz.Quiz(n=3, seed=2)
    q = qz.questions[0]
    wrong = next(c for c in q.choices if c != q.answer)
    assert not qz.answer(q, wrong)
    assert qz.answer(q, q.answer)
    assert qz.summary()[0]["result"] == "missed"


def test_round_size_is_validated() -> None:
    with pytest.raises(ValueError):
        quiz.Quiz(n=0)
