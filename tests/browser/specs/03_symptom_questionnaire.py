"""Browser spec for the symptom questionnaire: drive each path a person can take.

The blank wizard is the notebook's first output (the questionnaire comes first), so every
locator below is scoped to the first code cell. Paths: an emergency stop ("Call 000 now"),
continuing anyway (asks again, the level stays emergency, no ranking), a DOMS self-care
answer set with its clinician chart, and an uncovered pattern that reaches "cannot tell".
"""

from __future__ import annotations

import re
from typing import Any

NOTEBOOK = "03_symptom_questionnaire.ipynb"
MIN_PLOTLY = 3  # patient 1 and patient 2 wizard charts + the audit chart
MIN_WIDGETS = 4  # four wizards (each is a tree of widget views)
N_STEPS = 5  # question groups in data/questionnaire/questions.yaml


def _cell(lab: Any) -> Any:
    return lab.page.locator(".jp-CodeCell").first


def _click(lab: Any, text: str, nth: int = 0) -> None:
    pattern = re.compile(rf"^\s*{re.escape(text)}\s*$")
    lab.page.wait_for_timeout(200)
    _cell(lab).locator("button").filter(has_text=pattern).nth(nth).click()


def _see(lab: Any, text: str, timeout: float = 20_000) -> None:
    _cell(lab).get_by_text(text).first.wait_for(timeout=timeout)


def _answer_all(lab: Any, label: str) -> None:
    """Click ``label`` ("No", "Yes") on every yes/no question of the current step."""
    lab.page.wait_for_timeout(300)
    buttons = _cell(lab).locator("button").filter(has_text=re.compile(rf"^\s*{label}\s*$"))
    for i in range(buttons.count()):
        if buttons.nth(i).is_visible():  # skip-logic rows are hidden
            buttons.nth(i).click()


def _select(lab: Any, index: int, label: str) -> None:
    lab.page.wait_for_timeout(300)  # let the step's widgets settle after a re-render
    _cell(lab).locator(".widget-dropdown select").nth(index).select_option(label=label)


def _emergency_stop_and_continue(lab: Any) -> None:
    _see(lab, f"Step 1 of {N_STEPS}")
    _click(lab, "Yes")  # the first question: new bladder or bowel trouble
    _click(lab, "Next")
    _see(lab, "Call 000 now, or your local emergency number")
    _see(lab, "Compression of the bundle of nerves")  # the term is explained
    lab.screenshot("03_stop_screen")
    _click(lab, "Continue anyway")
    _see(lab, "Are you sure?")  # it asks again
    _click(lab, "Yes, I understand: continue anyway")
    _see(lab, f"Step 2 of {N_STEPS}")
    for _ in range(N_STEPS - 1):
        _click(lab, "Next")
    _see(lab, "Summary: Your answers")
    _see(lab, "Service: Emergency department")
    text = _cell(lab).inner_text()
    assert text.index("Call 000 now") < text.index("Service"), "emergency must lead"
    assert "Likely causes" not in text, "an emergency summary shows no ranking"
    _click(lab, "Save summary")
    _see(lab, "Saved summary to")
    lab.screenshot("03_emergency_summary")


def _doms_self_care(lab: Any) -> None:
    _click(lab, "Start again")
    _see(lab, f"Step 1 of {N_STEPS}")
    for step in (2, 3):
        _answer_all(lab, "No")
        _click(lab, "Next")
        _see(lab, f"Step {step} of {N_STEPS}")
    lab.page.wait_for_timeout(300)
    age = _cell(lab).locator(".widget-text input").first
    age.fill("30")
    age.press("Tab")
    _select(lab, 0, "4")  # pain score
    _select(lab, 1, "Less than 3 days")
    _select(lab, 2, "It came on the day after exercise and built up")
    _click(lab, "Yes")  # new or harder exercise in the 3 days before
    _click(lab, "Next")
    _see(lab, f"Step 4 of {N_STEPS}")
    _select(lab, 0, "All over the buttock muscles")
    _click(lab, "Next")
    _click(lab, "Next")
    _see(lab, "Summary: Your answers")
    _see(lab, "Self-care: no warning signs")
    _see(lab, "For your clinician:")
    _see(lab, "Service:")
    assert _cell(lab).locator(".js-plotly-plot").count() == 1
    text = _cell(lab).inner_text()
    assert "Delayed-onset muscle soreness" in text and "%" not in text.split("Service")[0]
    _click(lab, "Save summary")
    lab.screenshot("03_doms_self_care")


def _cannot_tell(lab: Any) -> None:
    _click(lab, "Start again")
    _see(lab, f"Step 1 of {N_STEPS}")
    for _ in range(3):
        _answer_all(lab, "No")
        _click(lab, "Next")
    _see(lab, f"Step 4 of {N_STEPS}")
    _select(lab, 0, "Somewhere else / none of these")
    _click(lab, "Next")
    _click(lab, "Next")
    _see(lab, "Summary: Your answers")
    _see(lab, "Likely cause: cannot tell")
    _see(lab, "Service: Doctor")
    text = _cell(lab).inner_text()
    assert "Doctor" in text and "Piriformis stretch" not in text
    lab.screenshot("03_cannot_tell")


def interact(lab: Any) -> None:
    """Drive the blank wizard through the emergency, self-care and cannot-tell paths."""
    _emergency_stop_and_continue(lab)
    _doms_self_care(lab)
    _cannot_tell(lab)
