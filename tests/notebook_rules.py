"""The collection's notebook hygiene rules, as a function the tests apply to every notebook.

A committed notebook must: have outputs; number its executions 1..n in order; hold no error
outputs; use the ``python3`` kernelspec; stay under 1 MB; keep no absolute path of this
machine in sources or outputs; and open with a markdown cell saying who it is for, what it
teaches and how long it takes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_BYTES = 1_000_000
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(home|root|tmp|work|Users|opt|var)/[A-Za-z0-9_.-]+/")
INTRO_PHRASES = {
    "who it is for": re.compile(r"who (it|this notebook) is for", re.I),
    "what you will learn": re.compile(r"what you will learn", re.I),
    "how long it takes": re.compile(r"\btime:?\**:?\s*(about|approx\.?|~)?\s*\d+", re.I),
}


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def hygiene_problems(path: Path) -> list[str]:
    """Return every broken rule for the notebook at ``path`` (empty list when clean)."""
    problems: list[str] = []
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        problems.append(f"size {len(raw)} bytes exceeds {MAX_BYTES}")
    nb = json.loads(raw)
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"kernelspec is {kernel!r}, expected 'python3'")
    cells = nb.get("cells", [])
    if not cells or cells[0].get("cell_type") != "markdown":
        problems.append("first cell is not a markdown introduction")
    else:
        intro = _text(cells[0].get("source", ""))
        for name, pattern in INTRO_PHRASES.items():
            if not pattern.search(intro):
                problems.append(f"first markdown cell does not say {name}")
    code = [c for c in cells if c.get("cell_type") == "code" and _text(c.get("source", "")).strip()]
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        problems.append(f"execution counts are {counts}, expected 1..{len(code)} in order")
    if code and not any(c.get("outputs") for c in code):
        problems.append("no code cell has outputs (commit notebooks executed)")
    for i, cell in enumerate(code, start=1):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"code cell {i} holds an error output ({out.get('ename')})")
            if out.get("name") == "stderr" and "Traceback" in _text(out.get("text", "")):
                problems.append(f"code cell {i} printed a traceback to stderr")
    match = ABSOLUTE_PATH.search(raw.decode("utf-8", errors="replace"))
    if match:
        problems.append(f"holds an absolute machine path: {match.group(0)!r}")
    return problems
