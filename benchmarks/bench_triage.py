"""Speed of the triage engine: ``assess`` vs a baseline (answer validation alone), same run.

Usage: ``.venv/bin/python benchmarks/bench_triage.py`` - prints timings and the ratio.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gluteutils.triage import assess, load_content, load_vignettes, validate_answers


def _best_of(func: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    content = load_content()
    answers = [v["answers"] for v in load_vignettes()]

    def baseline() -> None:
        for a in answers:
            validate_answers(a, content)

    def full() -> None:
        for a in answers:
            assess(a, content)

    base = _best_of(baseline)
    engine = _best_of(full)
    per = engine / len(answers) * 1e3
    print(f"{len(answers)} vignettes: validation {base * 1e3:.2f} ms, assess {engine * 1e3:.2f} ms "
          f"({per:.3f} ms per person); assess / validation = {engine / base:.1f}x")


if __name__ == "__main__":
    main()
