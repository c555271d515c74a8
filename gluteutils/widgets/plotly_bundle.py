"""plotly.js reaches the browser once per page, however many figures (issue 14).

plotly's ``FigureWidget`` is an anywidget whose front-end module (``_esm``) is plotly's whole
5 MB widget bundle, sent over the kernel websocket with every figure and evaluated by the page
once per figure: notebook 04's three charts sent 31 MB. Two ways to send it once:

* :func:`share_over_comm` (JupyterLab, the default once :mod:`gluteutils.widgets` is
  imported): one hidden widget, :class:`PlotlyBundle`, carries the bundle; every
  ``FigureWidget`` gets a few-line module that waits for it. The hidden widget lives as long
  as the kernel, so a reloaded page gets it back with the figures.
* :func:`share_from_url` (Voila dashboards): every ``FigureWidget`` imports the bundle from
  one URL the server serves (``python3 tasks.py dashboard`` does).

The page keeps the loaded module under a key with plotly's version, so two notebooks open
in one JupyterLab share it only when their plotly versions agree.
"""

from __future__ import annotations

import json
from typing import Any

#: How FigureWidgets get plotly's bundle: "comm" (one hidden widget), "url" or "inline".
_STATE: dict[str, Any] = {"mode": "inline", "bundle": None}

_SLOT = ("const key = {key};\n"
         "const slot = globalThis[key] ??= (() => {{ let resolve;\n"
         "  const promise = new Promise((r) => {{ resolve = r; }});\n"
         "  return {{ promise, resolve, started: false }}; }})();\n")


def _key() -> str:
    import plotly

    return json.dumps(f"__glutePlotlyBundle_{plotly.__version__}")


def figure_stub() -> str:
    """The module every FigureWidget gets under :func:`share_over_comm`: wait for the one
    bundle on the page and hand on its default export."""
    return _SLOT.format(key=_key()) + "const mod = await slot.promise;\nexport default mod.default;\n"


def bundle_module() -> str:
    """The hidden widget's module: plotly's bundle as text, imported once per page. Its own
    initialisation returns at once (the import runs in the background), so it never meets
    anywidget's 2 s model-initialisation limit; the figures wait on the slot."""
    source = _bundle_text()
    return (_SLOT.format(key=_key())
            + "if (!slot.started) {\n  slot.started = true;\n"
            + "  const src = " + json.dumps(source) + ";\n"
            + "  const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));\n"
            + "  import(/* webpackIgnore: true */ url).then((m) => slot.resolve(m));\n}\n"
            + "export default {};\n")


def _bundle_text() -> str:
    from pathlib import Path

    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_text(
        encoding="utf-8")


def _ensure_bundle_widget() -> None:
    """Create the one hidden bundle widget of this kernel (first FigureWidget only)."""
    if _STATE["mode"] != "comm" or _STATE["bundle"] is not None:
        return
    import anywidget

    class PlotlyBundle(anywidget.AnyWidget):  # type: ignore[misc]
        """Carries plotly's widget bundle to the page once; never displayed."""

        _esm = bundle_module()

    _STATE["bundle"] = PlotlyBundle()


def _patch_figure_widget() -> Any:
    from plotly.basewidget import BaseFigureWidget

    if not getattr(BaseFigureWidget, "_glute_patched", False):
        original = BaseFigureWidget.__init__

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            _ensure_bundle_widget()
            original(self, *args, **kwargs)

        BaseFigureWidget.__init__ = __init__  # type: ignore[method-assign]
        BaseFigureWidget._glute_patched = True  # type: ignore[attr-defined]
    return BaseFigureWidget


def share_over_comm() -> None:
    """Every FigureWidget created from now on waits for one hidden bundle widget."""
    cls = _patch_figure_widget()
    _STATE["mode"] = "comm"
    cls._esm = figure_stub()


def share_from_url(relative_url: str) -> None:
    """Every FigureWidget imports plotly's bundle from ``relative_url`` (resolved against the
    page's address; the server must serve that file). No hidden widget is created."""
    cls = _patch_figure_widget()
    _STATE["mode"] = "url"
    cls._esm = ("const url = new URL(" + repr(relative_url) + ", window.location.href).href;\n"
                "const mod = await import(/* webpackIgnore: true */ url);\n"
                "export default mod.default;\n")
