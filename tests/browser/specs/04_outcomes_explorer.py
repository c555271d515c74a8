"""Browser spec: the outcomes explorer's controls update its FigureWidgets in place."""

NOTEBOOK = "04_outcomes_explorer.ipynb"
MIN_PLOTLY = 3  # trajectories, responders, Kaplan-Meier (FigureWidgets)
MIN_WIDGETS = 3


def interact(lab) -> None:
    """Switch condition: the trajectory figure must change; untick a therapy: the bars change."""
    before = lab.plotly_state(0)
    lab.select_dropdown(0, "Delayed-onset muscle soreness (DOMS)")
    lab.wait_for_plotly_change(0, before)
    before_bars = lab.plotly_state(1)
    lab.click_checkbox("Home self-care only")
    lab.wait_for_plotly_change(1, before_bars)
