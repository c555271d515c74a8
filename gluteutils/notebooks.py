"""Execute the collection's notebooks reproducibly (used by ``gluteutils notebooks rebuild``).

Notebooks are executed in a fresh ``python3`` kernel from the ``notebooks/`` folder, without
storing widget state in the file (that state would embed plotly.js, megabytes per figure);
the result is written back in place with its outputs, ready for nbval.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from gluteutils._paths import notebooks_dir


def notebook_paths(names: Sequence[str] = ()) -> list[Path]:
    """Return the notebooks matching ``names`` (file names or fragments); all when empty."""
    every = sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = [p for p in every if any(n in p.name for n in names)]
    if not chosen:
        raise FileNotFoundError(f"no notebook matches {list(names)}; have {[p.name for p in every]}")
    return chosen


def execute_notebook(path: Path, *, timeout: int = 900) -> float:
    """Execute ``path`` top to bottom in a fresh kernel and save it in place; return seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.metadata.pop("widgets", None)
    env_before = os.environ.get("PYDEVD_DISABLE_FILE_VALIDATION")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    start = time.perf_counter()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            store_widget_state=False,
        )
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def rebuild(names: Sequence[str] = (), *, timeout: int = 900) -> Iterator[tuple[Path, float]]:
    """Re-execute the chosen notebooks in place, yielding ``(path, seconds)`` for each."""
    for path in notebook_paths(names):
        yield path, execute_notebook(path, timeout=timeout)
