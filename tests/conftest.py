"""Shared pytest set-up.

Hypothesis explores new random examples on every local run (to keep finding bugs), but runs
derandomized in CI (``CI`` set), so a CI result depends only on the code, not on luck.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
