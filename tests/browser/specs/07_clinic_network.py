"""Browser spec: the clinic-network notebook renders its funnel plot (no widgets)."""

NOTEBOOK = "07_clinic_network.ipynb"
MIN_PLOTLY = 1  # funnel plot
MIN_WIDGETS = 0


def interact(lab) -> None:
    """No controls: the notebook runs top to bottom."""
