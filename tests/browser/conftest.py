"""Shared set-up for the real-browser tests: a watchdog so a stuck page fails, not hangs.

Playwright's ``page.evaluate`` has no timeout of its own: if the page's main thread stops
answering (seen once in CI, a software-WebGL page under load), the call waits forever and the
run would only end at CI's time limit. The watchdog dumps every thread's stack and exits the
pytest process after ``GLUTE_BROWSER_TEST_LIMIT`` seconds (default 900) in one test, so the
log shows where it stuck.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS

INSTALL_HELP = (
    f"Chromium is not installed at {CHROMIUM}; the real-browser tests need it.\n"
    "Install it with:  sudo apt-get install chromium   (python3 tasks.py test does this\n"
    "automatically when run as root), or set GLUTE_SKIP_BROWSER=1 to skip these tests."
)
LIMIT_SECONDS = float(os.environ.get("GLUTE_BROWSER_TEST_LIMIT", "900"))


@pytest.fixture(autouse=True)
def browser_watchdog(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the run loudly (stacks on stderr, exit code 1) if one test runs past the limit."""
    print(f"\n[watchdog] {request.node.nodeid}: limit {LIMIT_SECONDS:.0f} s", file=sys.stderr)
    faulthandler.dump_traceback_later(LIMIT_SECONDS, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (its own browser download does not work
    here). Missing Chromium fails with install help; ``GLUTE_SKIP_BROWSER=1`` skips knowingly
    (never in CI)."""
    if not CHROMIUM.exists():
        if os.environ.get("GLUTE_SKIP_BROWSER") == "1" and not os.environ.get("CI"):
            pytest.skip("BROWSER TESTS SKIPPED (GLUTE_SKIP_BROWSER=1): " + INSTALL_HELP)
        pytest.fail(INSTALL_HELP)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
