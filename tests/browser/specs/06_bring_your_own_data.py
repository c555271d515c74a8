"""Browser spec: the bring-your-own-data notebook renders its two figures (no widgets)."""

NOTEBOOK = "06_bring_your_own_data.ipynb"
MIN_PLOTLY = 2  # incidence bars, forest plot
MIN_WIDGETS = 0


def interact(lab) -> None:
    """No controls: parameters are set in the papermill-style parameters cell."""
