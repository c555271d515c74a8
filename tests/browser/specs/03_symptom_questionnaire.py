"""Browser spec for the symptom questionnaire: click through the blank wizard to its summary."""

from __future__ import annotations

from typing import Any

NOTEBOOK = "03_symptom_questionnaire.ipynb"
MIN_PLOTLY = 3  # patient 1 and patient 2 wizard charts + the vignette accuracy chart
MIN_WIDGETS = 4  # four wizards (each is a tree of widget views)
N_STEPS = 5  # question groups in data/questionnaire/questions.yaml


def interact(lab: Any) -> None:
    """Walk the blank wizard (the last one) with Next until its summary page shows a chart."""
    page = lab.page
    figures_before = page.locator(".js-plotly-plot").count()
    lab.wait_for_text(f"Step 1 of {N_STEPS}")
    for step in range(2, N_STEPS + 1):
        lab.click_button("Next")  # only the blank wizard shows a Next button
        lab.wait_for_text(f"Step {step} of {N_STEPS}")
    lab.click_button("Next")
    lab.wait_for_text("Summary: Your answers")
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot').length > n",
        arg=figures_before, timeout=20_000)
    state = lab.plotly_state(figures_before)  # the new chart comes after every other one
    assert state and state not in ("null", "[]"), state
    saves = lab.count(".jp-OutputArea button:has-text('Save summary')")
    lab.click_button("Save summary", nth=saves - 1)  # the blank wizard's (the last one)
    lab.wait_for_text("Saved summary to")
    lab.screenshot("03_symptom_questionnaire_summary")
