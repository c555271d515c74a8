"""Audit of the questionnaire on the project's vignettes, in the format of published audits.

Vignettes live in ``data/questionnaire/vignettes/*.yaml`` (data, beside the content). :func:`accuracy_summary` reports top-1, top-3, exact triage, under- and
over-triage, red-flag sensitivity and "cannot tell" for causes outside the list, each with a
Wilson 95% confidence interval [wilson1927]; :func:`published_anchors` gives the figures of
published symptom-checker audits to read them against.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gluteutils._paths import data_path
from gluteutils.triage.content import LEVELS, load_content
from gluteutils.triage.engine import assess, weights_table

Z95 = 1.959963984540054


def vignette_dir() -> Path:
    """The project's vignette set (``data/questionnaire/vignettes/``)."""
    return data_path("questionnaire", "vignettes")


def load_vignettes(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """Load every vignette (``*.yaml``); unlisted warning questions are answered "no"."""
    root = Path(folder) if folder is not None else vignette_dir()
    content = load_content()
    out: list[dict[str, Any]] = []
    for path in sorted(root.glob("*.yaml")):
        for v in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            answers = {q: False for q in content.red_flag_questions}
            answers.update(v["answers"])
            out.append({**v, "answers": answers, "file": path.name})
    return out


def evaluate_vignettes(vignettes: Iterable[Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Assess each vignette; one row each with expected vs obtained triage and cause rank."""
    rows = []
    for v in (load_vignettes() if vignettes is None else vignettes):
        result = assess(v["answers"])
        expected_top = v.get("expected_top")
        rows.append({
            "id": v["id"], "ambiguous": bool(v.get("ambiguous", False)),
            "red_flag_expected": v.get("red_flag") is not None,
            "red_flag_fired": result.red_flag,
            "expected_triage": v["expected_triage"], "triage": result.level,
            "expected_top": expected_top, "top": result.top,
            "rank_of_expected": (result.rank_of(expected_top)
                                 if expected_top and result.top is not None else None),
            "expected_cannot_tell": bool(v.get("expected_cannot_tell", False)),
            "cannot_tell": result.cannot_tell, "confidence": result.confidence,
            "fit": round(result.fit, 3),
        })
    return pd.DataFrame(rows)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion [wilson1927]; ``(nan, nan)`` when ``n == 0``."""
    if n == 0:
        return (math.nan, math.nan)
    if successes == n:
        return ((n / (n + z * z)), 1.0)  # closed form at p = 1, free of rounding
    if successes == 0:
        return (0.0, z * z / (n + z * z))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _metric(name: str, hits: pd.Series) -> dict[str, Any]:
    k, n = int(hits.sum()), int(len(hits))
    lo, hi = wilson_interval(k, n)
    return {"metric": name, "value": round(k / n, 3) if n else math.nan, "successes": k,
            "n": n, "ci_low": round(lo, 3), "ci_high": round(hi, 3)}


def accuracy_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Each audit figure with its Wilson 95% CI, from :func:`evaluate_vignettes`."""
    ranked = table[table["expected_top"].notna()]
    rank = ranked["rank_of_expected"]
    flagged = table[table["red_flag_expected"]]
    outside = table[table.get("expected_cannot_tell", pd.Series(False, index=table.index))
                    .astype(bool)]
    wrongly = ranked.get("cannot_tell", pd.Series(False, index=ranked.index)).astype(bool)
    severity = {lvl: i for i, lvl in enumerate(LEVELS)}
    got = table["triage"].map(severity)
    want = table["expected_triage"].map(severity)
    metrics = [
        _metric("top-1 accuracy", rank.eq(1)),
        _metric("top-3 accuracy", rank.le(3)),
        _metric("triage agreement", table["triage"] == table["expected_triage"]),
        _metric("under-triage", got > want),
        _metric("over-triage", got < want),
        _metric("red-flag sensitivity (emergency or urgent)",
                flagged["triage"].isin(["emergency", "urgent"])),
        _metric("cannot tell, outside the list",
                outside.get("cannot_tell", pd.Series(dtype=bool)).astype(bool)),
        _metric("cannot tell, inside the list (wrongly)", wrongly),
    ]
    return pd.DataFrame(metrics).set_index("metric")


def published_anchors() -> pd.DataFrame:
    """Published audit figures of symptom checkers and doctors on clinical vignettes."""
    rows = [
        ("semigran2015", "23 online symptom checkers", "top-1 accuracy", 0.34),
        ("semigran2015", "23 online symptom checkers", "triage agreement", 0.57),
        ("semigran2016", "physicians", "top-1 accuracy", 0.721),
        ("semigran2016", "physicians", "top-3 accuracy", 0.843),
        ("gilbert2020", "Ada app", "top-3 accuracy", 0.705),
        ("gilbert2020", "general practitioners", "top-3 accuracy", 0.821),
        ("hill2020", "36 Australian symptom checkers", "top-1 accuracy", 0.36),
        ("hill2020", "36 Australian symptom checkers", "top-3 accuracy", 0.52),
        ("hill2020", "36 Australian symptom checkers", "triage agreement", 0.49),
        ("schmieding2022", "symptom checker apps", "triage agreement", 0.558),
    ]
    return pd.DataFrame(rows, columns=["source", "who", "metric", "value"])


def sourced_share(content_folder: str | Path | None = None) -> dict[str, float]:
    """How many weights (priors and feature LRs) carry a published figure."""
    table = weights_table(load_content(content_folder))
    n, k = len(table), int(table["sourced"].sum())
    return {"weights": n, "sourced": k, "share": round(k / n, 3) if n else 0.0}
