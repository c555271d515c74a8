"""Browser spec for 01_glute_anatomy: 3D explorer, prevalence chart, quiz."""

NOTEBOOK = "01_glute_anatomy.ipynb"
MIN_PLOTLY = 3  # explorer 3D view, sciatic prevalence bars, quiz 3D view ("click" question first)
MIN_WIDGETS = 2  # AnatomyExplorer and QuizApp (their child views count too)

N_SCENE_TRACES = 14  # 3 bones + 11 modelled muscle paths


def wait_until_drawn(lab, index: int, n_traces: int, timeout: float = 60) -> None:
    """Wait until the index-th plotly figure holds its traces and has drawn a 3D scene."""
    lab.page.wait_for_function(
        """([i, n]) => { const el = document.querySelectorAll('.js-plotly-plot')[i];
            return !!(el && el.data && el.data.length >= n && el._fullLayout
                      && el._fullLayout.scene && el.querySelector('canvas')); }""",
        arg=[index, n_traces], timeout=timeout * 1000, polling=250)
    lab.page.wait_for_timeout(500)


def interact(lab) -> None:
    """Switch off the deep layer: the explorer's 3D figure changes; answer a quiz question."""
    wait_until_drawn(lab, 0, N_SCENE_TRACES)
    before = lab.plotly_state(0)
    lab.click_checkbox("Deep layer")
    lab.wait_for_plotly_change(0, before)
    assert '"visible":"legendonly"' in lab.plotly_state(0)
    # QuizApp(n=8, seed=5) opens with "click the muscle ... superior gluteal line" ->
    # gluteus medius; answer with its name button (the 3D click handler does the same).
    lab.click_button("Gluteus medius")
    lab.wait_for_text("Correct!")
    lab.wait_for_text("Score: 1 / 1")
