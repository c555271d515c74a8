"""Browser spec for 01_glute_anatomy: what a student sees in the explorer and the quiz.

Checks: the wheel does not zoom the 3D view; landmark labels are in the scene; the deep
preset shows piriformis (and hides gluteus maximus); the nerve variant switch redraws the
nerve; a quiz answer lights the muscle up. Screenshots of the deep view, a landmark, the nerve and a quiz highlight are saved
in ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json

from tests.browser.lab import ARTIFACTS

NOTEBOOK = "01_glute_anatomy.ipynb"
MIN_PLOTLY = 3  # explorer 3D view, sciatic prevalence bars, quiz 3D view
MIN_WIDGETS = 2  # AnatomyExplorer and QuizApp (their child views count too)

N_SCENE_TRACES = 23  # 3 bones, 11 muscle volumes, 5 deep rotators, 2 nerve, attachments, labels
PIRIFORMIS = 3 + 9
GLMAX_UPPER = 3
HIGHLIGHT = "#00A6FF"


def wait_until_drawn(lab, index: int, n_traces: int, timeout: float = 180) -> None:
    """Wait until the index-th plotly figure holds its traces and has drawn a 3D scene."""
    lab.page.wait_for_function(
        """([i, n]) => { const el = document.querySelectorAll('.js-plotly-plot')[i];
            return !!(el && el.data && el.data.length >= n && el._fullLayout
                      && el._fullLayout.scene && el.querySelector('canvas')); }""",
        arg=[index, n_traces], timeout=timeout * 1000, polling=250)
    lab.page.wait_for_timeout(800)


def figure_shot(lab, index: int, name: str) -> None:
    """Screenshot of one figure (and nothing else) into the artifacts folder."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fig = lab.page.locator(".js-plotly-plot").nth(index)
    fig.scroll_into_view_if_needed()
    fig.screenshot(path=str(ARTIFACTS / f"01_glute_anatomy--{name}.png"))


def figures_report(lab) -> list[dict]:
    """Each plotly figure on the page: traces held, drawn scene, inside the quiz box."""
    return lab.page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map((el, i) => ({
            i, traces: el.data ? el.data.length : null, scene: !!(el._fullLayout
            && el._fullLayout.scene), canvas: !!el.querySelector('canvas'),
            quiz: !!el.closest('.widget-hbox') && !!el.closest('.widget-hbox')
                  .querySelector('.widget-radio-box'),
            height: el.getBoundingClientRect().height}))""")


QUIZ_FIGURE_JS = """(n) => { const all = [...document.querySelectorAll('.js-plotly-plot')];
    const i = all.findIndex(el => { const box = el.closest('.widget-hbox');
        return !!(box && box.querySelector('.widget-radio-box')); });
    return (i >= 0 && all[i].data && all[i].data.length >= n) ? i + 1 : 0; }"""


def quiz_figure_index(lab, n_traces: int = 20, timeout: float = 180) -> int:
    """Index (among the page's plotly figures) of the 3D view inside the quiz, once it holds
    its traces. Found by its container, not by position, so other figures cannot shift it."""
    try:
        handle = lab.page.wait_for_function(QUIZ_FIGURE_JS, arg=n_traces,
                                            timeout=timeout * 1000, polling=500)
    except Exception:
        print("figures on the page:", figures_report(lab))
        lab.screenshot("quiz-figure-missing")
        raise
    return int(handle.json_value()) - 1


def trace_visible(lab, index: int, trace: int):
    return lab.page.evaluate(
        "([i, t]) => document.querySelectorAll('.js-plotly-plot')[i].data[t].visible",
        [index, trace])


def hover_find(lab, index: int, text: str, step: int = 22) -> tuple[float, float] | None:
    """Move the mouse over the middle of the figure until a hover label contains ``text``.

    WebGL picking in software GL is slow, so each position waits for a redraw.
    """
    box = lab.page.locator(".js-plotly-plot").nth(index).bounding_box()
    ys = range(int(box["y"] + 0.30 * box["height"]), int(box["y"] + 0.75 * box["height"]), step)
    xs = range(int(box["x"] + 0.25 * box["width"]), int(box["x"] + 0.80 * box["width"]), step)
    for y in ys:
        for x in xs:
            lab.page.mouse.move(x, y)
            lab.page.wait_for_timeout(120)
            label = lab.page.evaluate(
                """(i) => { const el = document.querySelectorAll('.js-plotly-plot')[i];
                    const h = el.querySelector('.hoverlayer .hovertext');
                    return h ? h.textContent : ''; }""", index)
            if text in label:
                return x, y
    return None


def interact(lab) -> None:
    wait_until_drawn(lab, 0, N_SCENE_TRACES)
    # the page scrolls over the figure: the wheel does not zoom it
    assert lab.page.evaluate(
        "() => document.querySelectorAll('.js-plotly-plot')[0]._context.scrollZoom") is False
    # landmarks are labelled in the scene
    state = json.loads(lab.plotly_state(0))
    labels = state["data"][-1]
    assert labels["name"] == "Landmarks"
    assert "greater trochanter" in labels["text"] and "ischial tuberosity" in labels["text"]
    figure_shot(lab, 0, "landmarks")

    # deep preset: piriformis visible, gluteus maximus peeled away
    before = lab.plotly_state(0)
    lab.click_button("Deep")
    lab.wait_for_plotly_change(0, before, timeout=60)
    lab.page.wait_for_function(
        """([p, g]) => { const d = document.querySelectorAll('.js-plotly-plot')[0].data;
            return d[p].visible === true && d[g].visible === 'legendonly'; }""",
        arg=[PIRIFORMIS, GLMAX_UPPER], timeout=30_000)
    lab.page.wait_for_timeout(1500)
    figure_shot(lab, 0, "deep-view")

    # A click selecting piriformis is checked in tests/test_anatomy.py (widget callback with
    # a bone click near piriformis). In headless software GL here neither a mouse scan for
    # its hover label nor a synthetic plotly_click reached the widget, so it is not
    # asserted in the browser (issue 12 item 6: partly done).
    assert hover_find is not None

    # the nerve: switch to Beaton type B (two divisions) and photograph it
    before = lab.plotly_state(0)
    select = lab.page.locator(".jp-OutputArea .widget-dropdown select").first
    select.select_option(value=select.locator("option").nth(1).get_attribute("value"))
    lab.wait_for_plotly_change(0, before, timeout=60)
    lab.page.wait_for_timeout(1500)
    figure_shot(lab, 0, "sciatic-nerve")

    # quiz: answer the first question; the muscle lights up in the quiz's 3D view. Under
    # CI load software WebGL can take minutes to paint this second 3D scene, so the check
    # waits for the figure's data in the page (the highlight is asserted on it below), not
    # for the painted canvas; the screenshot shows whatever was painted by then.
    lab.page.locator(".jp-OutputArea .widget-radio-box").first.scroll_into_view_if_needed()
    quiz_fig = quiz_figure_index(lab)
    before = lab.plotly_state(quiz_fig)
    radio = lab.page.locator(".jp-OutputArea .widget-radio-box input").first
    radio.scroll_into_view_if_needed()
    radio.check()
    lab.click_button("Check answer")
    lab.wait_for_text("is highlighted in blue")
    lab.wait_for_plotly_change(quiz_fig, before, timeout=60)
    assert HIGHLIGHT in lab.plotly_state(quiz_fig)
    lab.page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    quiz = lab.page.locator(".jp-OutputArea .widget-hbox").filter(
        has=lab.page.locator(".widget-radio-box")).first
    quiz.screenshot(path=str(ARTIFACTS / "01_glute_anatomy--quiz-highlight.png"))
