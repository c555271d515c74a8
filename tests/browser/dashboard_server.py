"""Serve the no-code dashboards with ``python3 tasks.py dashboard`` for the browser tests.

:class:`DashboardServer` runs the real command (so the test drives what a user runs) on a
free 127.0.0.1 port without opening a browser. :class:`Dashboard` is a :class:`Lab` for one
Voila page: it opens the page and waits until every output has rendered; the spec helpers
(plotly state, sliders, dropdowns, buttons) work unchanged because Voila's ``lab`` template
uses JupyterLab's output-area classes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser.lab import ROOT, Lab, _free_port

#: Console messages Voila 0.5.13 prints on a healthy page (see /work/shared/NOTEBOOKS.md):
#: its bundled JupyterLab core warns about extension versions, its ``lab`` template asks a
#: CDN for a font (refused offline), and plotly's renderer logs ``setData`` after drawing.
VOILA_BENIGN = [
    re.compile(r"Unsatisfied version", re.I),
    re.compile(r"Failed to load resource: net::ERR_(NAME_NOT_RESOLVED|CONNECTION_REFUSED|"
               r"INTERNET_DISCONNECTED|ADDRESS_UNREACHABLE|NETWORK_ACCESS_DENIED)", re.I),
    re.compile(r"setData is not a function"),
    re.compile(r"Failed to load resource: the server responded with a status of 404.*favicon",
               re.I),
]


@dataclass
class DashboardServer:
    """``python3 tasks.py dashboard --no-browser --port N`` as a child process."""

    workdir: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0
    token: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, notebook: str) -> str:
        return f"{self.base_url}/voila/render/{notebook}"

    def start(self, timeout: float = 120) -> None:
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime")}
        log = open(self.workdir / "dashboard.log", "wb")  # noqa: SIM115 - closed with the process
        start = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tasks.py"), "dashboard", "--no-browser",
             "--port", str(self.port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError("tasks.py dashboard exited early:\n" + self.log_tail())
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        self.started_in = time.monotonic() - start
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("the dashboards did not answer in time:\n" + self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "dashboard.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)  # tasks.py and its voila child: our own group
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)


class Dashboard(Lab):
    """One Voila dashboard page in a browser tab."""

    def __init__(self, page: Any, server: DashboardServer, notebook: str) -> None:
        super().__init__(page, server, notebook)  # type: ignore[arg-type]
        self.benign += VOILA_BENIGN
        self.dashboard = server
        self.shutdown_403 = 0
        #: requests that tried to leave 127.0.0.1 (refused at once, so nothing waits on them)
        self.outside: list[str] = []
        page.on("response", self._on_response)
        page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/]).*"), self._refuse)

    def _refuse(self, route: Any) -> None:
        self.outside.append(route.request.url)
        route.abort()

    def unexpected_outside_requests(self) -> list[str]:
        """Requests off this machine other than the Voila template's font CSS on a CDN."""
        return [u for u in self.outside if "@fortawesome/fontawesome-free" not in u]

    def _on_response(self, response: Any) -> None:
        if response.status == 403 and "/voila/api/shutdown/" in response.url:
            self.shutdown_403 += 1

    def unexplained_console_errors(self) -> list[str]:
        """Console errors, less one "403" per refused kernel-shutdown beacon.

        Voila 0.5.13 posts ``/voila/api/shutdown/<kernel>`` on page unload without the XSRF
        token, which jupyter_server refuses (voila-dashboards/voila issue 1458); the kernel
        is then culled when idle (``tasks.py dashboard`` sets the culling options).
        """
        left, allowed = [], self.shutdown_403
        refused = len(self.outside) - len(self.unexpected_outside_requests())
        for text in self.console_errors:
            if allowed and "status of 403" in text:
                allowed -= 1
                continue
            if refused and "net::ERR_FAILED" in text:  # the refused CDN font CSS
                refused -= 1
                continue
            left.append(text)
        return left

    def open(self, timeout: float = 120) -> None:
        self.page.goto(self.dashboard.url(self.notebook), wait_until="domcontentloaded",
                       timeout=timeout * 1000)

    def wait_rendered(self, min_plotly: int, min_widgets: int, timeout: float = 180) -> None:
        """Wait until Voila has executed the notebook and drawn its widgets and figures."""
        self.page.wait_for_function(
            """([p, w]) => document.querySelectorAll('.js-plotly-plot').length >= p
                && document.querySelectorAll('.jupyter-widgets').length >= w
                && !document.querySelector('#loading, .voila-spinner')""",
            arg=[min_plotly, min_widgets], timeout=timeout * 1000, polling=500)
        self.page.wait_for_timeout(1500)

    def code_cells_shown(self) -> int:
        """Code shown on the page: visible editors/inputs with text, or a line of the
        notebook's own source in the page text. Must be 0 in a dashboard."""
        import nbformat

        editors = int(self.page.evaluate(
            """() => [...document.querySelectorAll(
                    '.jp-CodeCell .jp-InputArea, .jp-CodeMirrorEditor, .cm-editor, pre.input')]
                .filter(e => e.offsetParent !== null && e.innerText.trim().length > 0)
                .length"""))
        nb = nbformat.read(ROOT / "dashboards" / self.notebook, as_version=4)
        lines = {line.strip() for c in nb.cells if c.cell_type == "code"
                 for line in c.source.splitlines() if len(line.strip()) > 8}
        text = self.page.locator("body").inner_text()
        return editors + sum(1 for line in lines if line in text)

    def error_outputs(self) -> list[str]:
        body = self.page.locator("body").inner_text()
        found = [p for p in ("Traceback", "Error displaying widget", "Model not found",
                             "Failed to load model class", "Please install anywidget",
                             "There was an error when executing cell") if p in body]
        return found
