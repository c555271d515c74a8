"""The README's open command starts JupyterLab on 127.0.0.1 with the collection."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _printed_urls(log: Path, port: int) -> list[str]:
    """The http://127.0.0.1:PORT/... URLs JupyterLab printed for the user to open."""
    import re

    for _ in range(40):
        found = re.findall(rf"http://127\.0\.0\.1:{port}/\S+", log.read_text(errors="replace"))
        if found:
            return found
        time.sleep(0.25)
    return []


@pytest.mark.slow
def test_open_command_serves_start_here(tmp_path: Path) -> None:
    port, token = _free_port(), "open-command-test"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tasks.py"), "open", "--no-browser",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdout=(tmp_path / "open.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        status = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                    status = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert status is not None, "JupyterLab did not answer on 127.0.0.1"
        url = f"http://127.0.0.1:{port}/api/contents/notebooks/00_start_here.ipynb?token={token}&content=0"
        with urllib.request.urlopen(url, timeout=10) as r:
            assert json.loads(r.read())["name"] == "00_start_here.ipynb"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
        # the URL printed for --no-browser users opens 00_start_here, not the Launcher
        printed = _printed_urls(tmp_path / "open.log", port)
        assert printed, (tmp_path / "open.log").read_text()
        assert all("/lab/tree/notebooks/00_start_here.ipynb" in u for u in printed), printed
        # (a token passed on the command line is printed masked as "...")
        with urllib.request.urlopen(printed[0].replace("token=...", f"token={token}"),
                                    timeout=10) as r:
            page = r.read().decode()
            assert r.status == 200 and '"treePath": "notebooks/00_start_here.ipynb"' in page
        # and so does the bare address
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}", timeout=10) as r:
            assert r.url.split("?")[0].endswith("/lab/tree/notebooks/00_start_here.ipynb")
        # bound to loopback only: the port is not open on another local address
        probe = socket.socket()
        probe.settimeout(1)
        try:
            other = socket.gethostbyname(socket.gethostname())
            if not other.startswith("127."):
                assert probe.connect_ex((other, port)) != 0
        finally:
            probe.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
