"""The shipped synthetic cohort (``data/outcomes``): written, hashed and documented.

SYNTHETIC DATA. :func:`write_cohort` regenerates the shipped files byte for byte from
:data:`SHIPPED_N_EPISODES` and :data:`SHIPPED_SEED`; the README it writes carries the data
dictionary and the calibration table with every source.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gluteutils.outcomes import schema as S
from gluteutils.outcomes.io import write_table
from gluteutils.synthetic.calibration import ASSUMPTION, calibration_table
from gluteutils.synthetic.cohort import generate

#: Size and seed of the shipped cohort (``data/outcomes``).
SHIPPED_N_EPISODES: int = 6000
SHIPPED_SEED: int = 20260412


def _readme(n_episodes: int, seed: int, hashes: dict[str, str]) -> str:
    from gluteutils.references import check_keys

    table = calibration_table()
    lines = [
        "# Synthetic outcome cohort",
        "",
        "**SYNTHETIC DATA.** Every row here was simulated by `gluteutils.synthetic`; no real "
        "patient is described. Behaviour is calibrated to published results (table below).",
        "",
        f"Regenerate byte for byte: `gluteutils data make` (n_episodes={n_episodes}, "
        f"seed={seed}). This file is generated; edit `data/outcomes/calibration.csv` (the "
        "calibration) or `gluteutils/synthetic/cohort.py` (the model) instead.",
        "",
        "Files: `episodes.csv` (one row per treatment episode), `visits.csv` (one row per "
        "visit), `datapackage.json` (Frictionless descriptor). UTF-8, comma-delimited, header "
        "row; missing value = empty field.",
        "",
        "SHA-256: " + ", ".join(f"`{k}` {v}" for k, v in sorted(hashes.items())),
        "",
        "## How the data behave",
        "",
        "Confounding by indication (more pain, longer symptoms and leg symptoms make active "
        "therapy more likely), a person-level random effect shared by all follow-up visits, "
        "irregular visit days, integer pain with floor effects (DOMS), and loss to follow-up "
        "that depends on the last observed pain (recovering patients self-discharge, worse "
        "ones are referred on): missing at random given earlier visits and baseline data.",
        "",
        "True effects (`gluteutils.synthetic.true_effects()`): the difference in expected review "
        "pain between each therapy and home self-care for the same patient. Review pain is "
        "Binomial(10, p) with a mean that is linear in baseline pain, case mix and an additive "
        "therapy effect, so the effect is exact on the observed 0-10 scale and a correctly "
        "specified ANCOVA on complete data estimates it without bias.",
        "",
        "## Data dictionary",
        "",
        S.data_dictionary_markdown(),
        "## Calibration table",
        "",
        "Source `assumption` = no published number was found; the value is a modelling choice.",
        "",
        "| parameter | condition | therapy | value | unit | source | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(f"| {row.name} | {row.condition} | {row.therapy} | {row.value:g} | "
                     f"{row.unit} | {row.source} | {row.note} |")
    lines.append("")
    keys = sorted({s for s in table["source"] if s != ASSUMPTION})
    missing = check_keys(keys)
    lines.append("Source keys resolve in `data/references/*.yaml`: " + ", ".join(keys) + "."
                 + (f" UNRESOLVED: {missing}" if missing else ""))
    lines.append("")
    return "\n".join(lines)


def sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_cohort(folder: str | Path, n_episodes: int = SHIPPED_N_EPISODES,
                 seed: int = SHIPPED_SEED, *, readme: bool = True,
                 fmt: str = "csv") -> dict[str, Path]:
    """Generate the cohort and write ``episodes``, ``visits`` (CSV or Parquet),
    ``datapackage.json`` and ``README.md`` into ``folder``; return the written paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = generate(n_episodes, seed)
    out: dict[str, Path] = {}
    for name, frame in (("episodes", data.episodes), ("visits", data.visits)):
        path = folder / f"{name}.{fmt}"
        write_table(frame, path)
        out[name] = path
    if fmt == "csv":
        desc = S.datapackage_descriptor()
        dp = folder / "datapackage.json"
        dp.write_text(json.dumps(desc, indent=2) + "\n", encoding="utf-8")
        out["datapackage"] = dp
        if readme:
            hashes = {p.name: sha256(p) for k, p in out.items() if k != "datapackage"}
            rd = folder / "README.md"
            rd.write_text(_readme(n_episodes, seed, hashes), encoding="utf-8")
            out["readme"] = rd
    return out
