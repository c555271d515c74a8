"""plotly.js once per page (issue 14): FigureWidgets share one copy of plotly's bundle.

Each check runs in a fresh interpreter: the sharing patches plotly's class for the process.
The browser tests (tests/browser/test_browser.py) measure what a page receives.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json
import plotly.graph_objects as go
from gluteutils.widgets import _base, plotly_bundle
{extra}
figures = [go.FigureWidget() for _ in range(3)]
bundle = plotly_bundle._STATE["bundle"]
print(json.dumps({{"mode": plotly_bundle._STATE["mode"],
                  "figure_esm": [len(f._esm) for f in figures],
                  "bundle_esm": len(bundle._esm) if bundle is not None else 0,
                  "bundle_models": sum(type(w).__name__ == "PlotlyBundle"
                                       for w in list(_base.widgets.Widget.widgets.values()))}}))
"""


def _run(extra: str = "") -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(extra=extra)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _bundle_size() -> int:
    from pathlib import Path

    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").stat().st_size


def test_figures_carry_a_small_module_and_one_widget_carries_the_bundle() -> None:
    got = _run()
    assert got["mode"] == "comm"
    assert max(got["figure_esm"]) < 1_000  # a few lines, not 5 MB each
    assert got["bundle_esm"] > _bundle_size()  # the whole bundle, once
    assert got["bundle_models"] == 1


def test_dashboards_load_the_bundle_from_a_url_and_make_no_bundle_widget() -> None:
    got = _run("_base.share_plotly_bundle()")
    assert got["mode"] == "url"
    assert max(got["figure_esm"]) < 1_000
    assert got["bundle_esm"] == 0 and got["bundle_models"] == 0
