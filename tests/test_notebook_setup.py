"""setup() stays cheap (issue 14): it must not import nbformat/jsonschema, and the old import
path ``gluteutils.notebook`` keeps working."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CODE = """
import json, sys, time
import IPython.core.interactiveshell  # a kernel has IPython loaded already
from gluteutils.notebook import setup
import gluteutils.notebook_setup as ns
t = time.perf_counter(); setup(); dt = time.perf_counter() - t
import plotly.io as pio, plotly.graph_objects as go
bundle = go.Figure(go.Bar(y=[1]))._repr_mimebundle_()
import plotly.io._renderers as r
print(json.dumps({"seconds": dt, "renderer": pio.renderers.default, "mimes": sorted(bundle),
                  "loaded": [m for m in ("nbformat", "jsonschema", "rfc3987_syntax")
                             if m in sys.modules],
                  "same": setup is ns.setup, "nbformat_version": r.nbformat.__version__}))
"""


def test_setup_does_not_import_nbformat_and_sets_the_renderer() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert got["loaded"] == []
    assert got["renderer"] == "plotly_mimetype"
    assert got["mimes"] == ["application/vnd.plotly.v1+json"]
    assert got["same"] is True
    assert got["nbformat_version"].split(".")[0] == "5"
    print(f"setup() took {got['seconds']:.3f} s")


@pytest.mark.slow
def test_nbformat_still_imports_after_setup() -> None:
    code = ("from gluteutils.notebook_setup import setup; setup(); import nbformat; "
            "print(nbformat.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().startswith("5.")
