"""Column mappings: two real trial files from ../shared/clinical/data load through their
mapping files (read from there, not copied), and mapping problems name row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from gluteutils._paths import PROJECT_ROOT, data_path
from gluteutils.errors import ContentError, DataValidationError
from gluteutils.outcomes.mapping import load_export, read_mapping

SHARED = PROJECT_ROOT.parent / "shared" / "clinical" / "data"
NECK = SHARED / "neck_pain_chow2006_lllt.csv"
KNEE = SHARED / "knee_sports_injury_tutz_catdata.csv"
needs_shared = pytest.mark.needs_shared


@needs_shared
def test_neck_pain_trial_loads_through_mapping():
    data = load_export(NECK, data_path("mappings", "neck_pain_chow2006.yaml"), seed=3)
    raw = pd.read_csv(NECK)
    assert len(data.episodes) == raw["id"].nunique() == 90
    assert len(data.visits) == len(raw) == 264
    # VAS kept on its native 0-1 scale (instrument vas_0_1): no rescaling, no rounding
    assert data.instruments["pain_nprs"].key == "vas_0_1"
    assert data.visits["pain_nprs"].sum() == pytest.approx(raw["vas"].sum(), abs=1e-9)
    counts = data.episodes["therapy"].value_counts()
    assert counts["physiotherapy"] == 45 and counts["home_self_care"] == 45
    assert set(data.visits["visit_day"]) == {0, 49, 84}
    assert (data.visits.groupby("episode_id").size().reindex(data.episodes.episode_id).to_numpy()
            == data.episodes["sessions_attended"].to_numpy()).all()
    # ids are fresh random ids, not the trial's numbers
    assert not data.episodes["episode_id"].astype(str).isin(raw["id"].astype(str)).any()


@needs_shared
def test_reference_result_reproduced_through_mapping():
    # PROVENANCE.md: at 12 weeks active 3.24 vs placebo 4.29 cm (means of the raw VAS x10)
    data = load_export(NECK, data_path("mappings", "neck_pain_chow2006.yaml"), seed=3)
    v = data.visits.merge(data.episodes[["episode_id", "therapy"]], on="episode_id")
    wk12 = v[v.visit_day == 84].groupby("therapy", observed=True)["pain_nprs"].mean() * 10
    assert round(wk12["physiotherapy"], 2) == 3.24
    assert round(wk12["home_self_care"], 2) == 4.29


@needs_shared
def test_knee_trial_wide_layout_loads_through_mapping():
    data = load_export(KNEE, data_path("mappings", "knee_sports_injury_tutz.yaml"), seed=3)
    raw = pd.read_csv(KNEE)
    assert len(data.episodes) == len(raw) == 127
    assert len(data.visits) == 4 * 127
    assert (data.episodes["sex"] == "female").sum() == (raw["Sex"] == 1).sum()
    baseline = data.visits[data.visits.visit_type == "baseline"]["pain_nprs"]
    assert data.instruments["pain_nprs"].key == "likert_1_5"
    assert sorted(baseline) == sorted(raw["R1"])  # native 1-5 scale
    days = data.visits.groupby("episode_id")["visit_day"].apply(tuple)
    assert set(days) == {(0, 3, 7, 10)}


@needs_shared
def test_unmapped_label_names_export_row_and_column(tmp_path):
    raw = NECK.read_text(encoding="utf-8").splitlines()
    parts = raw[5].split(",")
    parts[2] = "3"  # laser = 3: not in the mapping
    raw[5] = ",".join(parts)
    bad = tmp_path / "neck.csv"
    bad.write_text("\n".join(raw) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_export(bad, data_path("mappings", "neck_pain_chow2006.yaml"))
    p = info.value.problems[0]
    assert (p.row, p.column, p.value) == (5, "laser", "3")
    lenient = load_export(bad, data_path("mappings", "neck_pain_chow2006.yaml"), lenient=True)
    assert list(lenient.report["row"]) == [5]
    assert len(lenient.visits) == 263


@needs_shared
def test_wide_problem_names_the_wide_column(tmp_path):
    raw = pd.read_csv(KNEE, dtype=str)
    raw.loc[9, "R3"] = "9"
    path = tmp_path / "knee.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as info:
        load_export(path, data_path("mappings", "knee_sports_injury_tutz.yaml"))
    assert [(p.row, p.column) for p in info.value.problems] == [(10, "R3")]


def test_age_under_18_must_be_declared(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("pid,age,pain,day\n1,16,5,0\n1,16,3,50\n", encoding="utf-8")
    spec = {"name": "t", "episode": ["pid"],
            "constants": {"condition": "doms", "therapy": "home_self_care"},
            "columns": {"age_band": {"column": "age", "age": True},
                        "pain_nprs": {"column": "pain"}, "visit_day": {"column": "day"},
                        "visit_type": {"derive": True}}}
    with pytest.raises(DataValidationError) as info:
        load_export(path, spec)
    # both rows fail: AllRowsRejectedError says so first, then names each row and column
    assert "every row was rejected" in info.value.problems[0].message
    assert (1, "age") in {(p.row, p.column) for p in info.value.problems}
    spec["columns"]["age_band"]["under_18"] = "18-29"
    data = load_export(path, spec)
    assert list(data.episodes["age_band"].astype(str)) == ["18-29"]


def test_bad_mapping_files_are_content_errors(tmp_path):
    with pytest.raises(ContentError):
        read_mapping({"name": "x", "episode": ["id"], "columns": {"pain": {"column": "p"}}})
    with pytest.raises(ContentError):
        read_mapping({"name": "x", "episode": ["id"],
                      "columns": {"pain_nprs": {"column": "p", "scale": 2}}})
    with pytest.raises(ContentError):
        read_mapping({"episode": ["id"]})
    bad = tmp_path / "m.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ContentError):
        read_mapping(bad)


def test_shipped_mapping_files_parse():
    for path in sorted(data_path("mappings").glob("*.yaml")):
        m = read_mapping(path)
        assert m.name and m.episode


@needs_shared
def test_wide_empty_cells_mean_no_visit(tmp_path):
    raw = pd.read_csv(KNEE, dtype=str)
    raw.loc[0, "R3"] = ""
    path = tmp_path / "knee.csv"
    raw.to_csv(path, index=False)
    data = load_export(path, data_path("mappings", "knee_sports_injury_tutz.yaml"), seed=1)
    assert len(data.visits) == 4 * 127 - 1
    first = data.visits[data.visits.episode_id == data.episodes.episode_id.iloc[0]]
    assert list(first.visit_day) == [0, 3, 10]
    assert data.episodes["sessions_attended"].iloc[0] == 3


def _small_spec(**columns):
    return {"name": "t", "episode": ["pid"],
            "constants": {"therapy": "home_self_care"},
            "columns": {"condition": {"column": "cond"}, "pain_nprs": {"column": "pain"},
                        "visit_day": {"column": "day"}, "visit_type": {"derive": True},
                        **columns}}


def test_missing_episode_key_is_reported_not_merged(tmp_path):
    # two key-less rows must not become one episode "None"
    path = tmp_path / "e.csv"
    path.write_text("pid,cond,pain,day\n1,doms,5,0\n,doms,4,0\n1,doms,3,50\n,doms,2,0\n",
                    encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_export(path, _small_spec())
    assert [(p.row, p.column, p.message) for p in info.value.problems] == [
        (2, "pid", "episode key missing"), (4, "pid", "episode key missing")]
    data = load_export(path, _small_spec(), lenient=True)
    assert len(data.episodes) == 1 and len(data.visits) == 2
    assert list(data.report["row"]) == [2, 4]
    assert set(data.report["message"]) == {"episode key missing"}


def test_visits_of_a_rejected_episode_are_each_reported(tmp_path):
    # episode 1 has an invalid condition: its 3 visit rows all leave, each with a report line
    path = tmp_path / "e.csv"
    path.write_text("pid,cond,pain,day\n1,bogus,5,0\n2,doms,4,0\n1,bogus,3,3\n1,bogus,2,7\n"
                    "2,doms,1,3\n", encoding="utf-8")
    data = load_export(path, _small_spec(), lenient=True)
    assert len(data.episodes) == 1 and len(data.visits) == 2
    assert list(data.report["row"]) == [1, 3, 4]
    later = data.report[data.report["row"] > 1]
    assert later["message"].str.startswith("episode rejected: ").all()
    assert (later["column"] == "cond").all()  # the export's own column
    # every export row is either kept or reported
    assert len(data.visits) + data.report["row"].nunique() == 5


def _dob_spec():
    return _small_spec(
        visit_day={"column": "seen", "date_format": "%Y-%m-%d"},
        age_band={"column": "dob", "date_of_birth": True, "date_format": "%d/%m/%Y",
                  "visit_date": "seen"})


def test_age_from_date_of_birth_uses_the_visit_dates_format(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("pid,cond,pain,seen,dob\n1,doms,5,2025-03-01,02/03/1980\n"
                    "1,doms,3,2025-03-08,02/03/1980\n2,doms,4,2025-03-01,01/03/1955\n",
                    encoding="utf-8")
    spec = _dob_spec()
    del spec["columns"]["visit_day"]  # put the visit_day rule after the age_band rule
    spec["columns"]["visit_day"] = {"column": "seen", "date_format": "%Y-%m-%d"}
    data = load_export(path, spec)
    assert list(data.episodes["age_band"].astype(str)) == ["40-49", "70+"]


def test_bad_visit_dates_and_negative_ages_are_reported(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("pid,cond,pain,seen,dob\n1,doms,5,2025-03-01,02/03/1980\n"
                    "1,doms,3,2025-13-08,02/03/1980\n2,doms,4,2025-03-01,01/03/2026\n",
                    encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        load_export(path, _dob_spec())
    assert [(p.row, p.column, p.message) for p in info.value.problems] == [
        (2, "seen", "not a date in the declared format"),  # once, though two rules read it
        (3, "dob", "date of birth after the episode's first visit")]
    # a visit-date format the rules disagree on cannot silently empty every age band
    spec = _dob_spec()
    spec["columns"]["visit_day"] = {"column": "seen", "date_format": "%d/%m/%Y"}
    with pytest.raises(DataValidationError) as info:
        load_export(path, spec)
    assert {p.column for p in info.value.problems} == {"seen"}
