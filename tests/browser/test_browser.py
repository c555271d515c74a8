"""Open every notebook in a real JupyterLab in headless Chromium, run it, and use it.

For each notebook in ``notebooks/`` a spec in ``tests/browser/specs/<stem>.py`` says how many
plotly figures and widget views must render and how to change one control (``interact``).
The test asserts: no error outputs, no widget failure text, the expected widgets and figures
rendered, the control changed its linked figure, and no console errors from the page.
Screenshots go to ``test-artifacts/browser/`` for a person to look at.

Needs Debian's ``chromium`` (``/usr/bin/chromium``). When it is missing the test FAILS with
install instructions; set ``GLUTE_SKIP_BROWSER=1`` to skip knowingly (never in CI).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import ARTIFACTS, ROOT, Lab, LabServer

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _spec(notebook: str) -> Any:
    return importlib.import_module(f"tests.browser.specs.{Path(notebook).stem}")




@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    server = LabServer(tmp_path_factory.mktemp("lab"))
    server.start()
    print(f"\nJupyterLab for browser tests at {server.base_url}; screenshots in {ARTIFACTS}")
    yield server
    server.stop()


def _record_bytes(notebook: str, lab: Lab) -> None:
    """Write what the page received (issue 14: plotly.js should travel once per page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sizes = {"notebook": notebook, "http_bytes": lab.bytes_http,
             "websocket_bytes": lab.bytes_ws, "total_bytes": lab.bytes_received}
    (ARTIFACTS / f"bytes--{Path(notebook).stem}.json").write_text(json.dumps(sizes))
    print(f"{notebook}: received {lab.bytes_received / 1e6:.2f} MB "
          f"({lab.bytes_ws / 1e6:.2f} MB over the kernel websocket)")


def _plotly_bundle_bytes() -> int:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").stat().st_size


def test_every_notebook_has_a_browser_spec() -> None:
    missing = [nb for nb in NOTEBOOKS
               if not (ROOT / "tests" / "browser" / "specs" / f"{Path(nb).stem}.py").exists()]
    assert missing == []


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_in_real_browser(notebook: str, browser: Any, lab_server: LabServer) -> None:
    spec = _spec(notebook)
    assert spec.NOTEBOOK == notebook
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    lab = Lab(page, lab_server, notebook)
    try:
        lab.open()
        lab.run_all()
        widgets = lab.wait_for_count(".jp-OutputArea .jupyter-widgets", spec.MIN_WIDGETS)
        figures = lab.wait_for_count(".js-plotly-plot", spec.MIN_PLOTLY)
        lab.screenshot("after-run-all")
        assert lab.error_outputs() == []
        assert widgets >= spec.MIN_WIDGETS, f"{widgets} widget views rendered"
        assert figures >= spec.MIN_PLOTLY, f"{figures} plotly figures rendered"
        spec.interact(lab)
        lab.screenshot("after-interaction")
        assert lab.error_outputs() == []
        assert lab.console_errors == []
        _record_bytes(notebook, lab)
        # plotly.js reaches the page once, not once per figure (issue 14): the kernel
        # websocket carries less than two copies of plotly's 5 MB widget bundle
        assert lab.bytes_ws < 2 * _plotly_bundle_bytes(), f"{lab.bytes_ws / 1e6:.1f} MB"
    except Exception:
        lab.screenshot("failure")
        print("server log tail:\n" + lab_server.log_tail())
        raise
    finally:
        context.close()
        lab_server.shutdown_kernels()
