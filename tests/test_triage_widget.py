"""The questionnaire wizard (driven from Python, no browser)."""

from __future__ import annotations

from pathlib import Path

from gluteutils.triage import load_content
from gluteutils.widgets.triage import TriageWizard

N_STEPS = len(load_content().groups)


def _texts(w: TriageWizard) -> list[str]:
    return [b.description for b in w.nav.children]


def _html(w: TriageWizard) -> str:
    return "".join(c.value for c in w.body.children
                   if hasattr(c, "value") and isinstance(c.value, str))


def test_blank_wizard_walks_to_summary_that_cannot_tell() -> None:
    w = TriageWizard()
    assert w.summary() == f"TriageWizard(Your answers: step 1 of {N_STEPS})"
    assert _texts(w) == ["Back", "Next"] and w.back_button.disabled
    for _ in range(N_STEPS):
        w.next()
    assert w.page == "summary"
    assert "Save summary" in _texts(w) and "Next" not in _texts(w)
    assert "cannot tell" in _html(w) and w.figure is None  # nothing ranked, no chart
    assert w.progress.value == w.progress.max


def test_clear_answers_show_the_clinician_chart() -> None:
    doms = {**{q: False for q in load_content().red_flag_questions}, "age": 24, "nprs": 4,
            "duration": "under_3_days", "onset": "day_after_exercise",
            "new_exercise_72h": True, "location": "whole_muscle", "osteoporosis": False}
    w = TriageWizard(doms, page="summary")
    assert w.result is not None and w.result.level == "self_care"
    assert w.figure is not None and len(w.figure.data[0].x) > 0
    assert "raises the chance" in str(w.figure.layout.xaxis.title.text)
    assert w.figure.layout.xaxis.showticklabels is False  # no log-ratio numbers
    assert "ln(" not in _html(w) and "%" not in _html(w)


def test_continue_anyway_asks_again_and_is_secondary() -> None:
    w = TriageWizard({"rf_fever": True})
    w.next()
    assert w.page == "stop"
    assert w.continue_button.button_style == "" and w.change_button.button_style == "primary"
    w.continue_button.click()
    assert w.page == "stop" and "Are you sure?" in _html(w)
    w.confirm_button.click()
    assert w.page == "step"


def test_emergency_summary_leads_with_emergency_and_ranks_nothing(tmp_path: Path) -> None:
    w = TriageWizard({"rf_bladder_bowel": True}, page="summary")
    w.continue_anyway()
    w.go_to_summary()
    assert w.page == "summary" and w.result is not None and w.result.level == "emergency"
    html = _html(w)
    assert html.index("Call 000 now") < html.index("Service")
    assert "Likely causes" not in html and w.figure is None


def test_saves_are_dated_and_never_overwrite(tmp_path: Path) -> None:
    from datetime import UTC, datetime
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    w = TriageWizard({"rf_bladder_bowel": True}, page="summary", save_dir=tmp_path,
                     clock=lambda: fixed)
    first = w.save_summary()
    second = w.save_summary()
    assert first != second and first.exists() and second.exists()
    assert first.name == "triage_summary_your_answers_20260102-030405.html"
    assert "Saved 2026-01-02 03:04 UTC" in first.read_text(encoding="utf-8")


def test_red_flag_opens_stop_screen_at_once_and_back_returns() -> None:
    w = TriageWizard()
    w.controls["rf_saddle_numbness"].value = "yes"
    w.next()
    assert w.page == "stop"
    assert "Call 000 now, or your local emergency number" in w.body.children[0].value
    w.back()
    assert w.page == "step" and w.step == 0
    w.controls["rf_saddle_numbness"].value = "no"
    w.next()
    assert w.step == 1


def test_continue_anyway_keeps_the_urgent_level() -> None:
    w = TriageWizard({"rf_fever": True}, page="summary")
    assert w.page == "stop"
    w.continue_anyway()
    for _ in range(N_STEPS):
        w.next()
    assert w.page == "summary" and w.result is not None and w.result.level == "urgent"


def test_prefilled_summary_and_figure_updates_in_place(tmp_path: Path) -> None:
    answers = {"location": "side_of_hip", "pain_lying_on_side": True, "age": 60}
    w = TriageWizard(answers, title="Patient A", page="summary", save_dir=tmp_path)
    assert w.result is not None and w.result.top == "gluteal_tendinopathy"
    assert "summary; routine" in w.summary()
    fig = w.figure
    before = list(fig.data[0].x)
    w.back()
    w.restart()
    w.controls["location"].value = "sitting_bone"
    w.go_to_summary()
    assert w.figure is fig  # updated in place, not replaced
    assert list(fig.data[0].x) != before


def test_save_summary_writes_standalone_html(tmp_path: Path) -> None:
    w = TriageWizard({"onset": "day_after_exercise", "age": 30}, title="Patient 1",
                     page="summary", save_dir=tmp_path)
    w.save_button.click()
    path = w.saved_path
    assert path is not None and path.parent == tmp_path and path.suffix == ".html"
    assert "Delayed-onset muscle soreness" in path.read_text(encoding="utf-8")
    assert path.name in w.status.value


def test_skip_logic_hides_bruising_until_injury_onset() -> None:
    w = TriageWizard()
    assert w.rows["bruising"].layout.display == "none"
    w.controls["onset"].value = "fall_or_blow"
    assert w.rows["bruising"].layout.display is None


def test_text_repr_is_the_stable_summary() -> None:
    w = TriageWizard()
    assert w._repr_mimebundle_()["text/plain"] == w.summary()


def test_continue_anyway_does_not_silence_a_new_red_flag() -> None:
    w = TriageWizard()
    w.controls["rf_fever"].value = "yes"  # urgent
    w.next()
    assert w.page == "stop"
    w.continue_anyway()
    assert w.page == "step" and w.step == 1
    w.back()
    assert w.step == 0
    w.controls["rf_saddle_numbness"].value = "yes"  # emergency, never continued past
    w.next()
    assert w.page == "stop"
    assert "Call 000 now, or your local emergency number" in w.body.children[0].value
    w.continue_anyway()  # continuing past both: no more stops for these two
    for _ in range(N_STEPS):
        w.next()
    assert w.page == "summary" and w.result is not None and w.result.level == "emergency"


def test_continue_anyway_stops_again_when_the_level_gets_more_severe() -> None:
    w = TriageWizard({"rf_fever": True}, page="summary")
    w.continue_anyway()
    assert w.continued == {"infection_fever"} and w.continued_level == "urgent"
    w.controls["rf_injecting_drugs"].value = "yes"  # fever + risk: emergency
    w.go_to_summary()
    assert w.page == "stop"
    w.restart()
    assert w.continued == set() and w.continued_level is None


def test_summary_page_lists_unanswered_warning_questions() -> None:
    w = TriageWizard({"onset": "day_after_exercise", "nprs": 4}, page="summary")
    html = "".join(c.value for c in w.body.children if hasattr(c, "value")
                   and isinstance(c.value, str))
    assert "Warning questions not answered" in html and "constant at night" in html
    assert "rf_night_pain" not in html  # words, not ids
    assert "These words compare only" in html
    assert w.result is not None and w.result.level == "routine"
