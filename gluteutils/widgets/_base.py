"""Shared pieces for the collection's widget apps.

A :class:`WidgetApp` owns a root ipywidget and displays as that widget in JupyterLab, but its
plain-text representation is a short, stable summary instead of ipywidgets' default repr
(which carries random model ids and, for plotly FigureWidgets, the whole figure). That keeps
committed notebooks small and lets nbval check a meaningful text output.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from gluteutils.widgets import plotly_bundle


class WidgetApp:
    """Base class: subclasses build ``self.root`` and implement :meth:`summary`."""

    root: widgets.Widget

    def summary(self) -> str:
        """One stable line describing the app's state (shown as text/plain)."""
        return type(self).__name__

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.root._repr_mimebundle_(**kwargs)
        data: dict[str, Any] = dict(bundle) if isinstance(bundle, dict) else {}
        data["text/plain"] = self.summary()
        return data


def demo_slider_app() -> DemoApp:
    """Return the tiny live widget used on the start-here page to prove widgets work."""
    return DemoApp()


class DemoApp(WidgetApp):
    """A slider linked to a plotly FigureWidget: move the slider and the bar follows.

    If this renders as a slider and a chart (not as text such as ``IntSlider(value=5)``),
    ipywidgets, anywidget and plotly's JupyterLab extension are all working.
    """

    def __init__(self, value: int = 5) -> None:
        self.slider = widgets.IntSlider(value=value, min=0, max=10, description="Pain (0-10)")
        self.figure = go.FigureWidget(
            data=[go.Bar(x=["your pain score"], y=[value], marker_color="#b5485d")],
            layout=go.Layout(width=420, height=300, yaxis={"range": [0, 10], "title": "NPRS"},
                             margin={"l": 50, "r": 20, "t": 30, "b": 40},
                             title="Move the slider: this bar follows"),
        )
        self.label = widgets.HTML()
        self.slider.observe(self._update, names="value")
        self._update()
        self.root = widgets.VBox([self.slider, self.figure, self.label])

    def _update(self, change: Any = None) -> None:
        value = int(self.slider.value)
        with self.figure.batch_update():
            self.figure.data[0].y = [value]
        self.label.value = f"<b>You chose {value} out of 10.</b> Widgets are working."

    def summary(self) -> str:
        return f"DemoApp(pain slider at {self.slider.value}, bar at {self.figure.data[0].y[0]})"


#: Where ``tasks.py dashboard`` serves plotly's widget bundle, relative to a Voila page
#: (``/voila/render/NAME.ipynb`` -> ``/voila/files/_static/...``).
VOILA_PLOTLY_BUNDLE = "../files/_static/plotly-widgetbundle.js"


def share_plotly_bundle(relative_url: str = VOILA_PLOTLY_BUNDLE) -> None:
    """Make every plotly ``FigureWidget`` load plotly.js once per page, from one URL (the
    Voila dashboards; :func:`gluteutils.widgets.plotly_bundle.share_from_url`). In
    JupyterLab the widgets already share one copy over the kernel's websocket
    (:func:`gluteutils.widgets.plotly_bundle.share_over_comm`, set when this module loads)."""
    plotly_bundle.share_from_url(relative_url)


# plotly.js once per page in JupyterLab too: every widget app imports this module first
plotly_bundle.share_over_comm()
