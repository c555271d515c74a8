"""The static site (``python3 tasks.py site``) opened offline from a local folder in Chromium.

The site is built into a scratch folder with the real command, then every page is opened as a
``file://`` URL with all network access refused. Each page must: make no request outside the
folder, log no console error, draw every plotly figure it holds (plotly.js loaded exactly
once, from the one shared file), and every internal link must point at a file that exists.
Search must find a word from a notebook. The build time is printed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from tests.browser.lab import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "_site"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "site", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    print(f"\ntasks.py site took {time.monotonic() - start:.1f} s\n{proc.stdout[-600:]}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out




def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_site_has_every_notebook_and_user_page(site: Path) -> None:
    names = {p.relative_to(site).as_posix() for p in _pages(site)}
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{nb.stem}.html" in names
    for page in ("index.html", "for-students.html", "for-people-with-pain.html",
                 "for-clinicians.html", "references.html", "api.html", "search.html",
                 "interactive/hip_mechanics.html", "interactive/outcomes_explorer.html"):
        assert page in names
    api = (site / "api.html").read_text()
    assert "HipMechanicsApp" in api and "reference_list_markdown" in api  # from docstrings
    assert "needs a running Python kernel" in (
        site / "notebooks" / "03_symptom_questionnaire.html").read_text()


def _open_offline(browser: Any, url: str) -> tuple[Any, Any, list[str], list[str]]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    outside: list[str] = []

    def refuse(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()
    context.route("http*://**/*", refuse)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(url, wait_until="load", timeout=60_000)
    return context, page, outside, errors


def test_every_page_offline(site: Path, browser: Any) -> None:
    problems: list[str] = []
    for path in _pages(site):
        rel = path.relative_to(site).as_posix()
        context, page, outside, errors = _open_offline(browser, path.as_uri())
        try:
            n_figs = page.locator(".glute-plotly").count()
            if n_figs:
                page.wait_for_function(
                    "n => document.querySelectorAll('.glute-plotly .main-svg').length >= n",
                    arg=n_figs, timeout=60_000)
                page.screenshot(path=str(ARTIFACTS / f"site--{rel.replace('/', '--')}.png"))
            scripts = page.eval_on_selector_all(
                "script[src]", "els => els.map(e => e.getAttribute('src'))")
            plotly_js = [s for s in scripts if "plotly" in s]
            if n_figs and len(plotly_js) != 1:
                problems.append(f"{rel}: plotly.js loaded {len(plotly_js)} times")
            for href in page.eval_on_selector_all("a[href]",
                                                  "els => els.map(e => e.href)"):
                parsed = urlparse(href)
                if parsed.scheme != "file":
                    continue
                target = Path(unquote(parsed.path))
                if not target.exists():
                    problems.append(f"{rel}: broken link {href}")
            if outside:
                problems.append(f"{rel}: asked the network for {outside[:3]}")
            if errors:
                problems.append(f"{rel}: console errors {errors[:3]}")
        finally:
            context.close()
    assert problems == []


def test_precomputed_figures_respond(site: Path, browser: Any) -> None:
    """The hip sweep's slider frames and the explorer's condition dropdown change figures."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = (site / "interactive" / "hip_mechanics.html").as_uri()
    context, page, _, errors = _open_offline(browser, url)
    try:
        page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 2",
                               timeout=60_000)
        before = page.evaluate("() => JSON.stringify(document.getElementById('hip-bars')"
                               ".data.map(t => t.x))")
        page.evaluate("() => Plotly.animate('hip-bars', ['90 deg'], {mode: 'immediate',"
                      " frame: {duration: 0, redraw: true}, transition: {duration: 0}})")
        page.wait_for_function(
            "b => JSON.stringify(document.getElementById('hip-bars').data.map(t => t.x)) !== b",
            arg=before, timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "site--hip-after-frame.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
    url = (site / "interactive" / "outcomes_explorer.html").as_uri()
    context, page, _, errors = _open_offline(browser, url)
    try:
        page.wait_for_function("() => document.querySelectorAll('.main-svg').length >= 3",
                               timeout=60_000)
        before = page.evaluate("() => JSON.stringify(document.getElementById('ex-trajectory')"
                               ".data.map(t => t.visible))")
        # the dropdown is drawn, and its second entry (what a click on it runs: plotly's
        # "update" with the button's own args) shows another condition's traces
        assert page.locator("#ex-trajectory .updatemenu-header-group").count() == 1
        page.evaluate("""() => { const gd = document.getElementById('ex-trajectory');
            const b = gd.layout.updatemenus[0].buttons[1];
            return Plotly.update(gd, b.args[0], b.args[1]); }""")
        page.wait_for_function(
            "b => JSON.stringify(document.getElementById('ex-trajectory').data"
            ".map(t => t.visible)) !== b", arg=before, timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "site--explorer-after-dropdown.png"),
                        full_page=True)
        assert errors == []
    finally:
        context.close()


def test_search_works_offline(site: Path, browser: Any) -> None:
    url = (site / "search.html").as_uri() + "?q=piriformis"
    context, page, outside, errors = _open_offline(browser, url)
    try:
        page.wait_for_selector("#search-results li, ul.search li", timeout=60_000)
        assert page.locator("#search-results li, ul.search li").count() >= 2
        assert outside == [] and errors == []
    finally:
        context.close()
