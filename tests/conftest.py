"""Shared pytest set-up.

* Hypothesis explores new random examples on every local run (to keep finding bugs), but runs
  derandomized in CI (``CI`` set), so a CI result depends only on the code, not on luck.
* Known-answer tests that read the real trial files in ``../shared/clinical/data`` carry the
  ``needs_shared`` marker. With ``CI=true`` a missing ``../shared`` is a failure (CI always
  has it); elsewhere those tests are skipped and the run's summary says so once, with the
  count, so a contributor knows they ran fewer tests than CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: The real trial files the known-answer tests read (beside the checkout, never shipped).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "clinical" / "data"
SHARED_MISSING = f"../shared not found (looked for {SHARED_DATA.name}/ at ../shared/clinical)"

def shared_available() -> bool:
    """True when ``../shared/clinical/data`` holds the trial files."""
    return (SHARED_DATA / "PROVENANCE.md").exists()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_shared") is None or shared_available():
        return
    if _in_ci():
        pytest.fail(f"{SHARED_MISSING}; CI must run the known-answer tests", pytrace=False)
    pytest.skip(SHARED_MISSING)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if SHARED_MISSING in str(getattr(r, "longrepr", ""))]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} known-answer tests skipped: ../shared not found "
            "(clone the project beside its shared/ folder to run them; CI always does)",
            yellow=True, bold=True)
