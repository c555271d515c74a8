"""Where the collection's files live.

The project is installed in editable mode (``pip install -e .``), so run-time data is read
from the top-level ``data/`` folder of the checkout. ``GLUTE_DATA_DIR`` overrides it (tests use
this to point at deliberately broken copies).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Return the folder holding the collection's data (``data/`` at the project root)."""
    override = os.environ.get("GLUTE_DATA_DIR")
    return Path(override) if override else PROJECT_ROOT / "data"


def data_path(*parts: str) -> Path:
    """Return a path inside :func:`data_dir`, e.g. ``data_path("anatomy", "muscles.yaml")``."""
    return data_dir().joinpath(*parts)


def notebooks_dir() -> Path:
    """Return the folder holding the numbered notebooks."""
    return PROJECT_ROOT / "notebooks"
