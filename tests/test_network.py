"""Federated pooling: three clinics' aggregate files give the pooled-rows results.

The shipped cohort is split into three clinics (site_a, site_b, site_c + site_d); each runs
``gluteutils network summarise`` on its own data package; ``network pool`` must give the
ANCOVA fitted on the pooled rows (statsmodels, HC1) to 1e-9, with and without site effects,
and pooled counts equal to the pooled rows' wherever no site had to suppress a cell.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gluteutils.cli import main
from gluteutils.errors import DisclosureError
from gluteutils.outcomes import load
from gluteutils.outcomes.engines import federated as fed
from gluteutils.outcomes.io import write_table
from gluteutils.outcomes.models import ANCOVA, CASE_MIX, analysis_frame
from gluteutils.outcomes.schema import datapackage_descriptor

#: Slow (federated round trips through the CLI on the whole cohort): in the full run, not in `tasks.py test --quick`.
pytestmark = pytest.mark.slow

CLINICS = {"site_a": "clinic_1", "site_b": "clinic_2", "site_c": "clinic_3",
           "site_d": "clinic_3"}


def clinic_of(episodes: pd.DataFrame) -> pd.Series:
    return episodes["site"].astype(str).map(CLINICS)


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> dict[str, object]:
    data = load()
    root = tmp_path_factory.mktemp("network")
    clinic = clinic_of(data.episodes)
    files = []
    for name in sorted(set(clinic)):
        ep = data.episodes.loc[clinic == name]
        folder = root / name
        folder.mkdir()
        write_table(ep, folder / "episodes.csv")
        write_table(data.visits.loc[data.visits["episode_id"].isin(ep["episode_id"])],
                    folder / "visits.csv")
        (folder / "datapackage.json").write_text(json.dumps(datapackage_descriptor()))
        out = root / f"{name}.json"
        assert main(["network", "summarise", str(folder), "--site", name, "-o", str(out)]) == 0
        files.append(out)
    pooled1 = root / "pooled1.json"
    assert main(["network", "pool", *map(str, files), "-o", str(pooled1)]) == 0
    fe1 = root / "pooled1_fe.json"
    assert main(["network", "pool", *map(str, files), "--site-effects", "-o", str(fe1)]) == 0
    fe_files = []
    for f in files:
        site = f.stem
        fe_files.append(root / f"{site}.fe.json")
        fe_files[-1].write_text(f.read_text())
        assert main(["network", "summarise", str(root / site), "--site", site, "--betas",
                     str(pooled1), "-o", str(f)]) == 0
        assert main(["network", "summarise", str(root / site), "--site", site, "--betas",
                     str(fe1), "-o", str(fe_files[-1])]) == 0
    return {"data": data, "files": files, "fe_files": fe_files, "root": root,
            "pooled1": pooled1}


def _effects_equal(mine: list[dict], theirs: pd.DataFrame, tol: float = 1e-9) -> None:
    m = pd.DataFrame(mine).merge(theirs.assign(condition=theirs["condition"].astype(str)),
                                 on=["condition", "treatment"], suffixes=("", "_rows"))
    assert len(m) == len(mine) == len(theirs) > 0
    for c in ("estimate", "se", "ci_lower", "ci_upper", "p_value", "n"):
        assert np.max(np.abs(m[c].astype(float) - m[f"{c}_rows"].astype(float))) <= tol, c


def _rows_fit(data, covariates, cov_type: str) -> pd.DataFrame:
    frame = analysis_frame(data.episodes, data.visits)
    frame["clinic"] = clinic_of(frame).to_numpy()
    return ANCOVA("review_pain", "baseline_pain", "therapy", "home_self_care",
                  covariates=covariates, by="condition", cov_type=cov_type).fit(frame).summary_


@pytest.mark.parametrize("site_effects", [False, True])
def test_pooled_ancova_equals_pooled_rows(network, site_effects):
    out = network["root"] / f"pooled_{site_effects}.json"
    files = network["fe_files" if site_effects else "files"]
    args = ["network", "pool", *map(str, files), "-o", str(out)]
    assert main([*args, "--site-effects"] if site_effects else args) == 0
    result = json.loads(out.read_text())
    assert result["ancova_cov_type"] == "HC1"
    covs = [*CASE_MIX, "clinic"] if site_effects else list(CASE_MIX)
    _effects_equal(result["ancova"], _rows_fit(network["data"], covs, "HC1"))


def test_round_one_gives_classical_errors(network):
    result = json.loads(network["pooled1"].read_text())
    assert result["ancova_cov_type"] == "nonrobust"
    _effects_equal(result["ancova"], _rows_fit(network["data"], list(CASE_MIX), "nonrobust"))


def test_pooled_counts_equal_pooled_rows_where_published(network):
    result = json.loads(network["pooled1"].read_text())
    counts = pd.DataFrame(result["counts"])
    frame = analysis_frame(network["data"].episodes, network["data"].visits)
    frame = frame.assign(condition=frame["condition"].astype(str),
                         therapy=frame["therapy"].astype(str))
    rows = frame.groupby(["condition", "therapy"]).agg(
        no_review=("review_pain", lambda s: int(s.isna().sum())))
    m = counts.merge(rows.reset_index(), on=["condition", "therapy"], suffixes=("", "_rows"))
    shown = m["no_review"].notna()
    assert shown.sum() >= 10  # a good share of cells is publishable at every clinic
    assert (m.loc[shown, "no_review"].astype(int) == m.loc[shown, "no_review_rows"]).all()


def test_site_files_pass_disclosure_and_hold_no_rows(network):
    for f in network["files"]:
        text = f.read_text()
        assert "episode_id" not in text and '"E' not in text
        fed.check_disclosure(json.loads(text))


def test_disclosure_check_refuses_a_small_cell(network):
    summary = json.loads(network["files"][0].read_text())
    summary["counts"][0]["responders"] = 3
    with pytest.raises(DisclosureError, match="counts row 0.*responders.*below 5"):
        fed.check_disclosure(summary)


def test_funnel_from_round_two(network):
    result = json.loads((network["root"] / "pooled_False.json").read_text())
    funnel = pd.DataFrame(result["funnel"])
    assert set(funnel["site"]) == {"clinic_1", "clinic_2", "clinic_3"}
    # residuals of the pooled model sum to zero over all sites (intercept in the model)
    weighted = (funnel["adjusted_difference"] * funnel["n"]).groupby(funnel["condition"]).sum()
    assert np.allclose(weighted, 0.0, atol=1e-8)


def test_pool_refuses_round_two_for_other_coefficients(network, tmp_path):
    out = tmp_path / "o.json"
    assert main(["network", "pool", *map(str, network["fe_files"]), "-o", str(out)]) == 1


def test_pool_rejects_bad_file(tmp_path: Path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": fed.FORMAT, "site": "x", "threshold": 5,
                               "counts": [{"condition": "doms", "episode_id": "E1"}]}))
    assert main(["network", "pool", str(bad), "-o", str(tmp_path / "o.json")]) == 1
    assert "row-level field" in capsys.readouterr().err
