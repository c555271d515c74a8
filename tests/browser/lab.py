"""Drive a real JupyterLab in headless Chromium (Debian's ``chromium``) with Playwright.

:class:`LabServer` starts JupyterLab on 127.0.0.1 over a scratch copy of ``notebooks/`` (so
autosave never touches the committed files) with a fresh settings/workspace folder.
:class:`Lab` wraps one browser page on one notebook and offers the small vocabulary the
per-notebook specs in ``tests/browser/specs/`` use: run all cells, read a plotly figure's
state, move a slider, click a button, pick a dropdown option, wait for text, screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"

#: JupyterLab user settings for a quiet, deterministic page: no news or update checks
#: (they would try the network), and every cell kept in the DOM (no virtual scrolling).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}

#: Console messages seen on a healthy page that are not the collection's errors.
BENIGN_CONSOLE = [
    re.compile(r"Failed to load resource: the server responded with a status of 404.*(lsp|translations|favicon)", re.I),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    """A JupyterLab server on 127.0.0.1 serving a scratch copy of the notebooks."""

    workdir: Path
    port: int = field(default_factory=_free_port)
    token: str = "glute-browser-test"
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        notebooks = self.workdir / "notebooks"
        shutil.copytree(ROOT / "notebooks", notebooks,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = self.workdir / "settings"
        for rel, value in USER_SETTINGS.items():
            target = settings / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(value))
        env = {**os.environ,
               "JUPYTER_CONFIG_DIR": str(self.workdir / "config"),
               "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={notebooks}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.workdir / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI and these machines run as root
        log = open(self.workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("JupyterLab exited early:\n" + self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/status?token={self.token}",
                                            timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError("JupyterLab did not answer in time:\n" + self.log_tail())

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "server.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (keeps memory flat across notebooks)."""
        url = f"{self.base_url}/api/kernels?token={self.token}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            kernels = json.loads(resp.read())
        for kernel in kernels:
            req = urllib.request.Request(
                f"{self.base_url}/api/kernels/{kernel['id']}?token={self.token}", method="DELETE")
            urllib.request.urlopen(req, timeout=10).close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Lab:
    """One notebook open in a browser page, with helpers for the specs."""

    def __init__(self, page: Any, server: LabServer, notebook: str) -> None:
        self.page = page
        self.server = server
        self.notebook = notebook
        self.console_errors: list[str] = []
        self.benign: list[re.Pattern[str]] = list(BENIGN_CONSOLE)
        #: bytes the page received: HTTP response bodies and websocket frames (kernel messages,
        #: where widget state such as plotly.js travels)
        self.bytes_http = 0
        self.bytes_ws = 0
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        page.on("requestfinished", self._on_request)
        page.on("websocket", self._on_websocket)

    def _on_request(self, request: Any) -> None:
        try:
            sizes = request.sizes()
            self.bytes_http += int(sizes.get("responseBodySize", 0)) + int(
                sizes.get("responseHeadersSize", 0))
        except Exception:  # noqa: BLE001 - a request torn down with its page has no sizes
            pass

    def _on_websocket(self, ws: Any) -> None:
        def count(payload: Any) -> None:
            self.bytes_ws += len(payload)
        ws.on("framereceived", count)

    @property
    def bytes_received(self) -> int:
        """Bytes received so far over HTTP and websockets."""
        return self.bytes_http + self.bytes_ws

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            text = msg.text
            if not any(p.search(text) for p in self.benign):
                self.console_errors.append(text)

    # -- opening and running ------------------------------------------------------------
    def open(self, timeout: float = 120) -> None:
        # a workspace of its own, reset, so no tab (and kernel) from an earlier notebook returns
        stem = Path(self.notebook).stem
        url = (f"{self.server.base_url}/lab/workspaces/{stem}/tree/{self.notebook}"
               f"?reset&token={self.server.token}")
        self.page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout * 1000)
        self.page.wait_for_function(
            "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return !!(w && w.sessionContext && w.sessionContext.session &&"
            " w.sessionContext.session.kernel &&"
            " w.sessionContext.session.kernel.connectionStatus === 'connected' &&"
            " w.sessionContext.kernelDisplayStatus === 'idle'); }",
            timeout=timeout * 1000, polling=500)

    def run_all(self, timeout: float = 600) -> None:
        """Run every cell and wait until each code cell has an execution number."""
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                if (!w || w.sessionContext.kernelDisplayStatus !== 'idle') return false;
                const cells = w.content.widgets.filter(c => c.model.type === 'code'
                    && c.model.sharedModel.getSource().trim().length > 0);
                return cells.every(c => typeof c.model.executionCount === 'number'
                    && c.model.executionCount > 0);
            }""",
            timeout=timeout * 1000, polling=1000)
        self.page.wait_for_timeout(1500)  # let widget views and plotly finish drawing

    # -- reading the page -----------------------------------------------------------------
    def count(self, selector: str) -> int:
        return int(self.page.locator(selector).count())

    def wait_for_count(self, selector: str, minimum: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while True:
            found = self.count(selector)
            if found >= minimum or time.monotonic() > deadline:
                return found
            self.page.wait_for_timeout(500)

    def output_text(self) -> str:
        return str(self.page.locator(".jp-OutputArea").all_inner_texts())

    def error_outputs(self) -> list[str]:
        """Texts of error/stderr outputs and widget failure messages on the page."""
        found: list[str] = []
        stderr = self.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        for text in stderr.all_inner_texts():
            if "Traceback" in text or "Error" in text:
                found.append(text[:500])
        body = self.page.locator(".jp-Notebook").inner_text()
        for phrase in ("Error displaying widget", "Model not found", "model not found",
                       "Failed to load model class", "Please install anywidget"):
            if phrase in body:
                found.append(phrase)
        return found

    def plotly_state(self, index: int) -> str:
        """JSON of the ``index``-th plotly figure's data and key layout on the page."""
        state = self.page.evaluate(
            """(i) => {
                const el = document.querySelectorAll('.js-plotly-plot')[i];
                if (!el || !el.data) return null;
                const l = el.layout || {};
                return JSON.stringify({data: el.data, title: l.title, shapes: l.shapes,
                                       annotations: l.annotations, scene: l.scene && l.scene.camera});
            }""", index)
        if state is None:
            raise AssertionError(f"no plotly figure #{index} on the page "
                                 f"({self.count('.js-plotly-plot')} found)")
        return str(state)

    def wait_for_plotly_change(self, index: int, before: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.plotly_state(index)
            if now != before:
                return now
            self.page.wait_for_timeout(250)
        self.screenshot(f"no-change-figure-{index}")
        raise AssertionError(f"plotly figure #{index} did not change within {timeout} s")

    # -- acting ---------------------------------------------------------------------------
    def move_slider(self, index: int, presses: int = 5, key: str = "ArrowRight") -> None:
        handle = self.page.locator(".noUi-handle").nth(index)
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(presses):
            handle.press(key)
            self.page.wait_for_timeout(50)

    def click_button(self, text: str, nth: int = 0) -> None:
        pattern = re.compile(rf"^\s*{re.escape(text)}\s*$")
        button = self.page.locator(".jp-OutputArea button").filter(has_text=pattern).nth(nth)
        button.scroll_into_view_if_needed()
        button.click()

    def select_dropdown(self, index: int, label: str) -> None:
        select = self.page.locator(".jp-OutputArea .widget-dropdown select").nth(index)
        select.scroll_into_view_if_needed()
        select.select_option(label=label)

    def click_checkbox(self, label: str) -> None:
        box = self.page.locator(".jp-OutputArea .widget-checkbox").filter(has_text=label)
        box.first.locator("input").click()

    def wait_for_text(self, text: str, timeout: float = 20) -> None:
        self.page.get_by_text(text).first.wait_for(timeout=timeout * 1000)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = Path(self.notebook).stem
        path = ARTIFACTS / f"{stem}--{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
