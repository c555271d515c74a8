"""plotly figure builders: tidy DataFrame and column names in, ``go.Figure`` out.

Submodules: ``anatomy``, ``triage``, ``outcomes``. :func:`use_notebook_renderer` sets the
renderer the notebooks use (plotly's mimetype, so each figure is stored as JSON rather than
with a copy of plotly.js).
"""

from __future__ import annotations

import plotly.io as pio


def use_notebook_renderer() -> None:
    """Render figures as ``application/vnd.plotly.v1+json`` (JupyterLab draws them)."""
    pio.renderers.default = "plotly_mimetype"
