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

import pytest

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
