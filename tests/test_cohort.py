"""The synthetic cohort: byte-for-byte regeneration, Frictionless validity, calibration, and
the hard parts of real clinic data (confounding, correlation, floor, MAR loss to follow-up)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gluteutils import cohort
from gluteutils._paths import data_path
from gluteutils.outcomes import load, schema
from gluteutils.references import check_keys

SHIPPED = data_path("outcomes")


@pytest.fixture(scope="module")
def big() -> cohort.OutcomeData:
    return cohort.generate(30_000, 11)


def _wide(data: cohort.OutcomeData) -> pd.DataFrame:
    v = data.visits
    base = v[v.visit_type == "baseline"].set_index("episode_id")["pain_nprs"].rename("p0")
    rev = v[v.visit_type == "review"].set_index("episode_id")["pain_nprs"].rename("y")
    return data.episodes.set_index("episode_id").join(base).join(rev)


def test_shipped_cohort_regenerates_byte_for_byte(tmp_path):
    written = cohort.write_cohort(tmp_path)
    for key in ("episodes", "visits", "datapackage", "readme"):
        shipped = SHIPPED / written[key].name
        assert cohort.sha256(written[key]) == cohort.sha256(shipped), shipped.name


def test_shipped_cohort_is_small_and_labelled_synthetic():
    assert (SHIPPED / "visits.csv").stat().st_size < 5_000_000
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC DATA" in readme
    desc = json.loads((SHIPPED / "datapackage.json").read_text(encoding="utf-8"))
    assert "SYNTHETIC" in desc["title"]
    assert desc == schema.datapackage_descriptor()


@pytest.mark.slow
def test_shipped_cohort_validates_with_frictionless():
    import frictionless

    report = frictionless.validate(str(SHIPPED / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_frictionless_rejects_a_corrupted_copy(tmp_path):
    import frictionless

    desc = schema.datapackage_descriptor()
    desc["resources"] = [r for r in desc["resources"] if r["name"] == "visits"]
    desc["resources"][0]["schema"].pop("foreignKeys")
    lines = (SHIPPED / "visits.csv").read_text(encoding="utf-8").splitlines()[:50]
    parts = lines[5].split(",")
    parts[3] = "11"  # pain 11
    lines[5] = ",".join(parts)
    (tmp_path / "visits.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid
    errors = report.flatten(["rowNumber", "fieldName"])
    assert [6, "pain_nprs"] in errors


def test_shipped_cohort_loads_and_matches_generator():
    data = load()
    gen = cohort.generate(cohort.SHIPPED_N_EPISODES, cohort.SHIPPED_SEED)
    pd.testing.assert_frame_equal(data.episodes, gen.episodes)
    pd.testing.assert_frame_equal(data.visits, gen.visits)
    assert len(data.episodes) == cohort.SHIPPED_N_EPISODES
    assert data.report.empty


def test_generate_is_seeded_and_typed():
    a = cohort.generate(500, 3)
    b = cohort.generate(500, 3)
    c = cohort.generate(500, 4)
    pd.testing.assert_frame_equal(a.visits, b.visits)
    assert not a.episodes["episode_id"].equals(c.episodes["episode_id"])
    assert list(a.episodes.columns) == list(schema.EPISODE_COLUMNS)
    assert list(a.visits.columns) == list(schema.VISIT_COLUMNS)
    assert list(a.episodes["therapy"].cat.categories) == list(schema.THERAPIES)
    assert a.episodes["age_band"].cat.ordered
    assert a.episodes["episode_id"].str.fullmatch(schema.EPISODE_ID_PATTERN.strip("^$")).all()
    assert a.episodes["episode_id"].is_unique


def test_generate_conditions_filter_and_complete_data():
    d = cohort.generate(400, 1, conditions=["doms"], dropout=False)
    assert set(d.episodes["condition"].astype(str)) == {"doms"}
    assert (d.visits["visit_type"] == "review").sum() == 400
    rev = d.visits[d.visits.visit_type == "review"]["visit_day"]
    assert rev.between(5, 9).all()
    with pytest.raises(ValueError):
        cohort.generate(10, 1, conditions=["flu"])


def test_visit_structure(big):
    v = big.visits
    assert (v.groupby("episode_id").visit_day.min() == 0).all()
    assert v.set_index(["episode_id", "visit_day"]).index.is_unique
    assert (v[v.visit_type == "baseline"].visit_day == 0).all()
    assert v[v.visit_type == "baseline"].grc.isna().all()
    assert v.pain_nprs.between(0, 10).all()
    sessions = v.groupby("episode_id").size()
    ep = big.episodes.set_index("episode_id")
    assert (ep.loc[sessions.index, "sessions_attended"].to_numpy() == sessions.to_numpy()).all()
    # irregular spacing: many distinct gaps between treatment visits
    gaps = v.groupby("episode_id").visit_day.diff().dropna()
    assert gaps.nunique() > 10


def test_true_effects_table():
    te = cohort.true_effects()
    assert list(te.columns[:3]) == ["condition", "therapy", "effect"]
    assert schema.REFERENCE_THERAPY not in set(te.therapy)
    assert set(te.condition) == set(schema.CONDITIONS)
    gt = cohort.true_effects("gluteal_tendinopathy").set_index("therapy")["effect"]
    assert gt["physiotherapy"] < -2  # LEAP: education + exercise far better than wait-and-see
    assert "pelvic_floor_physiotherapy" not in cohort.true_effects("doms").therapy.values
    with pytest.raises(ValueError):
        cohort.true_effects("flu")


def test_calibration_sources_resolve_and_readme_matches():
    table = cohort.calibration_table()
    keys = set(table.source) - {cohort.ASSUMPTION}
    assert keys and not check_keys(keys)
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    for row in table.itertuples():
        assert (f"| {row.name} | {row.condition} | {row.therapy} | {row.value:g} | "
                f"{row.unit} | {row.source} |") in readme
    # every therapy effect sits in the table exactly once
    eff = table[table.name == "effect"]
    assert not eff.duplicated(["condition", "therapy"]).any()


def test_clipping_is_rare():
    # the additive effect is exact for every episode whose expected review pain is in [0, 10]
    assert cohort.clipping_rate(50_000, 2) < 0.002


def test_confounding_by_indication(big):
    w = _wide(big)
    gt = w[w.condition == "gluteal_tendinopathy"]
    home = gt[gt.therapy == "home_self_care"].p0.mean()
    physio = gt[gt.therapy == "physio_plus_massage"].p0.mean()
    assert physio > home + 0.5


def test_within_person_correlation_and_floor(big):
    v = big.visits
    chronic = big.episodes[big.episodes.condition != "doms"].episode_id
    t = v[v.episode_id.isin(chronic) & (v.visit_type == "treatment")]
    last_t = t.groupby("episode_id").pain_nprs.last()
    rev = v[v.visit_type == "review"].set_index("episode_id").pain_nprs
    joined = pd.concat([last_t, rev], axis=1, join="inner")
    assert joined.corr().iloc[0, 1] > 0.5
    doms = big.episodes[big.episodes.condition == "doms"].episode_id
    doms_rev = v[v.episode_id.isin(doms) & (v.visit_type == "review")].pain_nprs
    assert (doms_rev == 0).mean() > 0.2  # floor effect


def test_loss_to_follow_up_depends_on_progress(big):
    w = _wide(big)
    missing = w.y.isna()
    assert 0.1 < missing.mean() < 0.3
    reasons = w.loc[missing, "discharge_reason"].astype(str)
    assert set(reasons) <= {"self_discharged", "lost_to_follow_up", "referred_on"}
    assert set(w.loc[~missing, "discharge_reason"].astype(str)) <= {"goals_met", "ongoing"}
    # complete cases are not a random sample: those who stayed had worse interim pain
    v = big.visits
    first_t = v[v.visit_type == "treatment"].groupby("episode_id").pain_nprs.first()
    w = w.join(first_t.rename("p1"))
    gap = w[~missing].p1.mean() - w[missing].p1.mean()
    assert abs(gap) > 0.2


def test_ancova_on_complete_data_recovers_truth():
    import statsmodels.formula.api as smf

    data = cohort.generate(20_000, 5, conditions=["gluteal_tendinopathy"], dropout=False)
    w = _wide(data).reset_index()
    for c in schema.SYMPTOM_COLUMNS:
        w[c] = w[c].astype(int)
    w["therapy"] = w["therapy"].astype(str)
    w["symptom_duration_weeks"] = w["symptom_duration_weeks"].astype(float)
    formula = ("y ~ C(therapy, Treatment('home_self_care')) + p0 + C(age_band) + sex"
               " + symptom_duration_weeks + " + " + ".join(schema.SYMPTOM_COLUMNS))
    fit = smf.ols(formula, data=w).fit()
    te = cohort.true_effects("gluteal_tendinopathy")
    for row in te.itertuples():
        name = f"C(therapy, Treatment('home_self_care'))[T.{row.therapy}]"
        assert abs(fit.params[name] - row.effect) < 4 * fit.bse[name], row.therapy
    # and the naive unadjusted difference is confounded (sicker patients get physio)
    naive = w.groupby("therapy").y.mean()
    naive_physio = naive["physiotherapy"] - naive["home_self_care"]
    true_physio = te.set_index("therapy").effect["physiotherapy"]
    assert naive_physio - true_physio > 0.1


def test_generator_scales_linearly_in_memory():
    d = cohort.generate(50_000, 9)
    assert len(d.visits) > 5 * 50_000 * 0.8
    assert np.isfinite(d.visits.pain_nprs.to_numpy()).all()
