"""The no-code dashboards (``python3 tasks.py dashboard``) in a real browser.

One Voila server (started through ``tasks.py dashboard``, so the command a user runs is the one
tested) serves ``dashboards/``. For each dashboard the test asserts: it loads with no code cell
shown, no error text, no console error (only the benign Voila messages listed in
``dashboard_server.VOILA_BENIGN`` are filtered), and its main control changes its figure. The
index page must link every dashboard. Bytes received per page are written to
``test-artifacts/browser/dashboard-bytes.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.dashboard_server import Dashboard, DashboardServer
from tests.browser.lab import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser

DASHBOARDS = ["questionnaire.ipynb", "outcomes_explorer.ipynb", "anatomy.ipynb"]
BYTES: dict[str, int] = {}




@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardServer]:
    srv = DashboardServer(tmp_path_factory.mktemp("dash"))
    srv.start()
    print(f"\ntasks.py dashboard answered after {srv.started_in:.1f} s at {srv.base_url}")
    yield srv
    srv.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "dashboard-bytes.json").write_text(json.dumps(BYTES, indent=1))


def _questionnaire(d: Dashboard) -> None:
    """Go to the blank summary, then answer a DOMS pattern: its ranking chart appears.

    The answering is notebook 03's own browser spec (the same wizard, first code cell)."""
    import importlib

    spec = importlib.import_module("tests.browser.specs.03_symptom_questionnaire")

    for step in range(2, 6):
        d.click_button("Next")
        d.wait_for_text(f"Step {step} of 5")
    d.click_button("Next")
    d.wait_for_text("Summary: Your answers")
    assert d.count(".js-plotly-plot") == 0  # nothing answered: no ranking chart
    spec._doms_self_care(d)  # asserts the chart is there and names the cause
    assert d.plotly_state(0) not in ("null", "[]")


def _outcomes(d: Dashboard) -> None:
    before = d.plotly_state(0)
    d.select_dropdown(0, "Delayed-onset muscle soreness (DOMS)")
    d.wait_for_plotly_change(0, before, timeout=60)


def _anatomy(d: Dashboard) -> None:
    bars = d.count(".js-plotly-plot") - 1  # the hip app's bars are the last figure
    before = d.plotly_state(bars)
    d.move_slider(0, presses=3)
    d.wait_for_text("At 3 deg flexion", timeout=60)
    d.wait_for_plotly_change(bars, before, timeout=60)


#: dashboard -> (plotly figures, widget views on load, how to use its main control)
SPECS: dict[str, tuple[int, int, Callable[[Dashboard], None]]] = {
    "questionnaire.ipynb": (0, 3, _questionnaire),
    "outcomes_explorer.ipynb": (3, 5, _outcomes),
    "anatomy.ipynb": (3, 5, _anatomy),
}


def test_every_dashboard_has_a_spec() -> None:
    found = sorted(p.name for p in (ROOT / "dashboards").glob("*.ipynb") if p.stem != "index")
    assert found == sorted(DASHBOARDS) == sorted(SPECS)


def _page(browser: Any, server: DashboardServer, notebook: str) -> tuple[Any, Dashboard]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, Dashboard(page, server, notebook)


def test_index_lists_every_dashboard(browser: Any, server: DashboardServer) -> None:
    context, d = _page(browser, server, "index.ipynb")
    try:
        d.open()
        d.wait_for_text("Glute Notebooks: dashboards", timeout=120)
        hrefs = d.page.eval_on_selector_all("a[href$='.ipynb']",
                                            "els => els.map(e => e.getAttribute('href'))")
        assert sorted(set(hrefs) - {"index.ipynb"}) == sorted(DASHBOARDS)
        d.page.locator("a[href='anatomy.ipynb']").first.click()
        d.page.wait_for_url("**/voila/render/anatomy.ipynb", wait_until="commit",
                            timeout=120_000)
        d.wait_for_text("Anatomy and hip mechanics", timeout=120)
        assert d.code_cells_shown() == 0
        assert d.unexplained_console_errors() == []
        assert d.unexpected_outside_requests() == []
    finally:
        d.screenshot("index")
        context.close()


@pytest.mark.parametrize("notebook", DASHBOARDS)
def test_dashboard_in_real_browser(notebook: str, browser: Any,
                                   server: DashboardServer) -> None:
    min_plotly, min_widgets, interact = SPECS[notebook]
    context, d = _page(browser, server, notebook)
    try:
        d.open()
        d.wait_rendered(min_plotly, min_widgets)
        d.screenshot("dashboard-loaded")
        assert d.code_cells_shown() == 0, "a code cell is visible in the dashboard"
        assert d.error_outputs() == []
        interact(d)
        d.screenshot("dashboard-after-interaction")
        assert d.error_outputs() == []
        assert d.unexplained_console_errors() == []
        assert d.unexpected_outside_requests() == []
        BYTES[notebook] = d.bytes_received
        print(f"{notebook}: {d.bytes_received / 1e6:.2f} MB received "
              f"({d.bytes_ws / 1e6:.2f} MB over the kernel websocket)")
    except Exception:
        d.screenshot("dashboard-failure")
        print("dashboard log tail:\n" + server.log_tail())
        raise
    finally:
        context.close()
