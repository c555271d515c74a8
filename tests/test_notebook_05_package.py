"""Notebook 05 takes an anonymised package as its input (issue 11, item 6).

The demo clinic export is anonymised by the CLI exactly as a clinic would, and notebook 05 is
executed on it with papermill: every cell runs, no error, and the calibration check says it
does not apply (real data has no known true effects) instead of showing coverage.
"""

from __future__ import annotations

import pytest

from gluteutils._paths import data_path
from gluteutils.cli import main
from gluteutils.notebooks import notebooks_dir
from gluteutils.outcomes import models
from gluteutils.outcomes.io import load


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("pkg") / "anon"
    rc = main(["anonymise", str(data_path("mappings", "demo_clinic_export.csv")), str(out),
               "--mapping", str(data_path("mappings", "demo_clinic.yaml")), "--seed", "1"])
    assert rc == 0
    return out


def test_primary_analysis_leaves_out_case_mix_the_package_does_not_record(package):
    data = load(package)
    frame = models.analysis_frame(data.episodes, data.visits)
    unrecorded = [c for c in models.CASE_MIX if frame[c].isna().all()]
    assert unrecorded  # the demo export has no baseline symptom answers
    assert set(models.recorded_covariates(frame)) == set(models.CASE_MIX) - set(unrecorded)
    fit = models.primary_analysis(frame)
    assert len(fit.summary_) and set(fit.summary_["reference"]) == {"home_self_care"}


def test_calibration_check_without_truth_is_empty_and_says_so():
    summary = models.primary_analysis(
        models.analysis_frame(*_cohort_tables())).summary_
    check = models.calibration_check(summary, None)
    assert check.empty and {"true_effect", "covered"} <= set(check.columns)
    assert "does not apply" in models.coverage_sentence(check)
    assert "of" in models.coverage_sentence(
        models.calibration_check(summary, _truth()))


def test_notebook_05_runs_to_the_end_on_an_anonymised_package(package, tmp_path):
    papermill = pytest.importorskip("papermill")
    nb = notebooks_dir() / "05_outcomes_analysis.ipynb"
    out = papermill.execute_notebook(
        str(nb), str(tmp_path / "05_package.ipynb"), cwd=str(nb.parent), progress_bar=False,
        parameters={"PACKAGE": str(package), "CONDITION": "sciatica_disc",
                    "N_IMPUTATIONS": 3})
    code = [c for c in out["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code)
    assert not [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
    text = "".join("".join(o.get("text", "")) for c in code for o in c.get("outputs", []))
    assert "calibration check does not apply" in text


def _cohort_tables():
    data = load()
    return data.episodes, data.visits


def _truth():
    from gluteutils import cohort

    return cohort.true_effects()
