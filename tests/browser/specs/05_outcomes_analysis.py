"""Browser spec: the analysis notebook renders its two forest plots (no widgets to drive)."""

NOTEBOOK = "05_outcomes_analysis.ipynb"
MIN_PLOTLY = 2  # primary forest plot, sensitivity forest plot
MIN_WIDGETS = 0


def interact(lab) -> None:
    """No controls: the notebook is a rerunnable report."""
