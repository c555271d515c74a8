"""Build the static site of the collection into ``_site/`` (``python3 tasks.py site``).

Sphinx with MyST-NB (the engine of Jupyter Book 1) reads the committed, executed notebooks
without re-running them. Before that, this script stages ``docs/`` and the notebooks in
``_build/site-src/`` and rewrites outputs a browser cannot draw without a kernel:

* plotly JSON outputs become a ``<div>`` and one ``Plotly.newPlot`` call; plotly.js itself is
  ONE file, ``_static/plotly.min.js``, loaded once per page (not per figure);
* widget outputs (they need a running kernel) become a short note that says so and links the
  dashboard and, where honest, the precomputed interactive figure page;
* the reference list page is written from ``data/references/*.yaml``;
* the precomputed figures (:mod:`site_figures`) are written into ``interactive/*.md``.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
STAGE = ROOT / "_build" / "site-src"
OUT = ROOT / "_site"
DASHBOARD = "http://127.0.0.1:8866/voila/render/"
sys.path.insert(0, str(DOCS))

#: What to say where a notebook shows a widget (notebook stem -> HTML note).
WIDGET_NOTES: dict[str, str] = {
    "00_start_here": "This live check needs a running Python kernel: open the notebook with "
                     "<code>python3 tasks.py open</code>.",
    "01_glute_anatomy": "This 3D explorer needs a running Python kernel. Without one, use the "
                        "<a href='../interactive/hip_mechanics.html'>precomputed 3D view</a>; "
                        "with one, the <a href='{d}anatomy.ipynb'>anatomy dashboard</a> "
                        "(<code>python3 tasks.py dashboard</code>).",
    "02_hip_mechanics": "These sliders need a running Python kernel. The "
                        "<a href='../interactive/hip_mechanics.html'>precomputed hip-flexion "
                        "sweep</a> shows the same pose and moment arms as plotly slider frames; "
                        "the <a href='{d}anatomy.ipynb'>anatomy dashboard</a> runs the live "
                        "version (<code>python3 tasks.py dashboard</code>).",
    "03_symptom_questionnaire": "The questionnaire needs a running Python kernel (it computes "
                                "your answers' ranking live). Open the "
                                "<a href='{d}questionnaire.ipynb'>questionnaire dashboard</a> "
                                "with <code>python3 tasks.py dashboard</code>.",
    "04_outcomes_explorer": "The live explorer needs a running Python kernel. The "
                            "<a href='../interactive/outcomes_explorer.html'>precomputed "
                            "explorer views</a> show its three charts for every condition (a "
                            "dropdown); the <a href='{d}outcomes_explorer.ipynb'>explorer "
                            "dashboard</a> has every filter.",
}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def plotly_html(fig: dict[str, Any], div_id: str) -> str:
    """A div and one ``Plotly.newPlot`` call (plotly.js is loaded once by the page)."""
    payload = json.dumps({"data": fig.get("data", []), "layout": fig.get("layout", {}),
                          "frames": fig.get("frames", [])}, default=str)
    payload = payload.replace("</", "<\\/")
    # the theme loads plotly.min.js at the end of <body>: draw once the page has loaded
    return (f"<div id='{div_id}' class='glute-plotly'></div>\n<script>window.addEventListener("
            f"'load', function() {{ var f = {payload}; Plotly.newPlot('{div_id}', f.data,"
            " f.layout, {responsive: true, displaylogo: false}).then(function(gd) {"
            " if (f.frames.length) Plotly.addFrames(gd, f.frames); }); });</script>")


def _note(stem: str) -> str:
    text = WIDGET_NOTES.get(stem, "This interactive part needs a running Python kernel.")
    return f"<div class='admonition note glute-needs-kernel'><p>{text.format(d=DASHBOARD)}</p></div>"


def stage_notebook(path: Path, target: Path) -> dict[str, int]:
    """Copy one executed notebook, rewriting plotly and widget outputs; return counts."""
    nb = json.loads(path.read_text())
    counts = {"plotly": 0, "widgets": 0}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME in data:
                counts["plotly"] += 1
                div = f"{path.stem}-fig-{counts['plotly']}"
                out["data"] = {"text/html": plotly_html(data[PLOTLY_MIME], div),
                               "text/plain": data.get("text/plain", "")}
            elif WIDGET_MIME in data:
                counts["widgets"] += 1
                out["data"] = {"text/html": _note(path.stem)}
    nb.setdefault("metadata", {}).pop("widgets", None)
    target.write_text(json.dumps(nb))
    return counts


def references_page() -> str:
    from gluteutils.references import reference_table

    keys = sorted(reference_table().index.unique())
    from gluteutils.references import format_reference

    lines = ["# References", "", "Every source the collection cites (from "
             "`data/references/*.yaml`).", ""]
    for key in keys:
        lines.append(f"- <span id='ref-{key}'></span>**[{key}]** "
                     f"{html.escape(format_reference(key))}")
    return "\n".join(lines) + "\n"


def _raw(fig: dict[str, Any], div_id: str) -> str:
    return "```{raw} html\n" + plotly_html(fig, div_id) + "\n```\n"


def interactive_pages(folder: Path) -> None:
    from site_figures import explorer_figures, hip_pose_figures

    folder.mkdir(parents=True, exist_ok=True)
    scene, bars = hip_pose_figures()
    (folder / "hip_mechanics.md").write_text(
        "# Hip mechanics without a kernel\n\n"
        "The hip-mechanics app of notebook 02, moved through hip flexion 0 to 90 degrees in "
        "10-degree steps (adduction and rotation 0) and captured at each step: drag the "
        "slider under each figure. Every frame was computed by the same code as the live app "
        "(MuJoCo on MyoSuite's MyoLeg model, Caggiano et al. 2022, from Rajagopal et al. "
        "2016). Watch the piriformis rotation bar change sign as the hip flexes (Delp et al. "
        "1999). For any pose, run the [live app](../notebooks/02_hip_mechanics.ipynb) or the "
        f"[anatomy dashboard]({DASHBOARD}anatomy.ipynb).\n\n"
        "## The pose in 3D\n\n" + _raw(scene, "hip-scene")
        + "\n## Moment arms at that pose\n\n" + _raw(bars, "hip-bars"))
    figs = explorer_figures()
    notes = figs.pop("_notes")
    note_lines = "\n".join(f"- **{label}**: {html.escape(_strip(n))}"
                           for label, n in zip(notes["labels"], notes["notes"], strict=True))
    (folder / "outcomes_explorer.md").write_text(
        "# Outcomes explorer without a kernel\n\n"
        "**SYNTHETIC data** (a generated cohort; it describes no real person). The explorer's "
        "three charts for every condition, with all therapies, ages and sexes: choose the "
        "condition in each chart's menu. The numbers come from the explorer's own published, "
        "small-cell-suppressed aggregates, as in the [live explorer]"
        "(../notebooks/04_outcomes_explorer.ipynb); filtering by therapy, age or sex needs "
        f"the [explorer dashboard]({DASHBOARD}outcomes_explorer.ipynb).\n\n"
        "## Mean score by visit\n\n" + _raw(figs["trajectory"], "ex-trajectory")
        + "\n## Responders at review\n\n" + _raw(figs["responders"], "ex-responders")
        + "\n## Time to recovery\n\n" + _raw(figs["km"], "ex-km")
        + "\n## What was suppressed\n\n" + note_lines + "\n")


def _strip(markup: str) -> str:
    import re

    return re.sub(r"<[^>]+>", " ", html.unescape(markup)).replace("  ", " ").strip()


def stage() -> dict[str, dict[str, int]]:
    """Write the Sphinx source tree into ``_build/site-src``; return per-notebook counts."""
    shutil.rmtree(STAGE, ignore_errors=True)
    shutil.copytree(DOCS, STAGE, ignore=shutil.ignore_patterns(
        "site_build.py", "site_figures.py", "__pycache__"))
    static = STAGE / "_static"
    static.mkdir(exist_ok=True)
    import plotly

    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                static / "plotly.min.js")
    counts = {}
    (STAGE / "notebooks").mkdir()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        counts[path.stem] = stage_notebook(path, STAGE / "notebooks" / path.name)
    (STAGE / "references.md").write_text(references_page())
    interactive_pages(STAGE / "interactive")
    return counts


def main(argv: list[str]) -> int:
    """``site_build.py [--out FOLDER]``: stage and build (default ``_site/``)."""
    out = Path(argv[argv.index("--out") + 1]).resolve() if "--out" in argv else OUT
    start = time.perf_counter()
    counts = stage()
    staged = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", str(STAGE), str(out)]
    status = subprocess.call(cmd, cwd=ROOT)
    print(f"[site] staged {sum(c['plotly'] for c in counts.values())} plotly figures and "
          f"{sum(c['widgets'] for c in counts.values())} widget notes in "
          f"{staged - start:.1f} s; sphinx {time.perf_counter() - staged:.1f} s; "
          f"open {out / 'index.html'}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
