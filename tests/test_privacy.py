"""Anonymisation (planted identifiers of every kind must not survive), k-anonymity, and
small-cell suppression including complementary suppression."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gluteutils import privacy
from gluteutils._paths import data_path
from gluteutils.errors import DataValidationError, DisclosureError, PrivacyError
from gluteutils.outcomes import anonymise as anon
from gluteutils.outcomes.io import OutcomeData
from gluteutils.outcomes.mapping import read_mapping
from gluteutils.synthetic import demo_clinic_export

MAPPING = data_path("mappings", "demo_clinic.yaml")
IDENTIFIER_COLUMNS = ["patient_number", "full_name", "email", "phone", "street_address",
                      "postcode", "medicare_number", "ihi", "date_of_birth", "appointment_date",
                      "clinician", "notes"]


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return demo_clinic_export(150, 3)


@pytest.fixture(scope="module")
def result(export) -> anon.AnonymisedData:
    return anon.anonymise(export, MAPPING, seed=5)


def _all_text(result: anon.AnonymisedData) -> str:
    parts = []
    for frame in (result.data.episodes, result.data.visits):
        parts.append(",".join(frame.columns))
        parts.append(frame.astype(str).to_csv(index=False))
    return "\n".join(parts)


def test_export_plants_every_identifier_kind(export):
    for col in IDENTIFIER_COLUMNS:
        assert export[col].str.len().min() > 0, col
    assert export["email"].str.contains("@").all()
    assert export["date_of_birth"].str.fullmatch(r"\d\d/\d\d/\d{4}").all()


def test_no_planted_identifier_survives(export, result):
    text = _all_text(result)
    for col in IDENTIFIER_COLUMNS:
        for value in export[col].unique():
            assert value not in text, (col, value)
    # nor anything that looks like one
    assert "@" not in text
    assert not re.search(r"\d\d/\d\d/\d{4}", text)  # calendar dates
    assert not re.search(r"\b04\d\d \d{3} \d{3}\b", text)  # phone numbers
    assert not re.search(r"\d{4} \d{5} \d", text)  # Medicare-like
    assert not re.search(r"MRN\d+", text)
    for name in ("Citizen", "Nguyen", "Okafor", "Example St", "Dr "):
        assert name not in text
    from gluteutils.outcomes import schema
    assert list(result.data.episodes.columns) == list(schema.EPISODE_COLUMNS)
    assert list(result.data.visits.columns) == list(schema.VISIT_COLUMNS)


def test_ids_are_random_not_derived(export):
    a = anon.anonymise(export, MAPPING, seed=1).data.episodes["episode_id"]
    b = anon.anonymise(export, MAPPING, seed=2).data.episodes["episode_id"]
    assert not set(a) & set(b)
    c = anon.anonymise(export, MAPPING).data.episodes["episode_id"]  # fresh entropy
    assert not set(a) & set(c)
    assert a.str.fullmatch(r"E[0-9A-HJ-NP-Z]{9}").all()


def test_dates_become_days_since_first_visit(export):
    full = anon.anonymise(export, MAPPING, seed=5, k=1)  # k=1: nothing suppressed
    dates = pd.to_datetime(export["appointment_date"], format="%d/%m/%Y")
    spans = dates.groupby(export["patient_number"]).agg(lambda s: (s.max() - s.min()).days)
    v = full.data.visits
    assert (v.groupby("episode_id")["visit_day"].min() == 0).all()
    assert sorted(v.groupby("episode_id")["visit_day"].max()) == sorted(spans)


def test_age_is_banded_and_top_coded(result):
    bands = set(result.data.episodes["age_band"].dropna().astype(str))
    assert bands <= {"18-29", "30-39", "40-49", "50-59", "60-69", "70+"}


def test_k_anonymity_holds_after_anonymise(result):
    assert result.k_after >= 5
    assert privacy.k_anonymity(result.data.episodes, ["age_band", "sex", "site"]) >= 5
    assert result.k_before < 5  # the small demo clinic needed suppression
    assert len(result.actions) >= 1
    assert "k over" in result.summary()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz"), st.sampled_from("pq")),
                min_size=1, max_size=60), st.integers(2, 6))
def test_enforce_k_anonymity_property(records, k):
    frame = pd.DataFrame(records, columns=["q1", "q2", "q3"], dtype=object)
    out, actions = privacy.enforce_k_anonymity(frame, ["q1", "q2", "q3"], k)
    assert len(out) == 0 or privacy.k_anonymity(out, ["q1", "q2", "q3"]) >= k
    removed = actions.loc[actions["action"] == "record removed", "records"].sum()
    assert len(out) + removed == len(frame)  # every removal is reported


def test_k_anonymity_counts_classes():
    frame = pd.DataFrame({"a": ["x", "x", "y", None], "b": [1, 1, 2, 2]})
    assert privacy.k_anonymity(frame, ["a", "b"]) == 1
    classes = privacy.equivalence_classes(frame, ["a", "b"])
    assert classes["records"].tolist() == [1, 1, 2]


def test_mapping_that_copies_an_identifier_is_refused(export):
    spec = read_mapping(MAPPING)
    spec.columns["site"] = {"column": "clinician", "values": {}}
    with pytest.raises(PrivacyError):
        anon.anonymise(export, spec)


def test_unmapped_clinic_label_is_a_data_error(export):
    bad = export.copy()
    bad.loc[4, "service"] = "Chiro"
    with pytest.raises(DataValidationError) as info:
        anon.anonymise(bad, MAPPING)
    p = info.value.problems[0]
    assert (p.row, p.column, p.value) == (5, "service", "Chiro")



def test_problem_rows_keep_the_callers_export_row_numbers(export):
    # as after byod drops invalid rows: export rows 1-based with gaps
    bad = export.copy()
    bad.index = pd.RangeIndex(1, len(bad) + 1)
    bad = bad.drop(index=[2, 4, 6])
    bad.loc[10, "service"] = "Chiro"
    with pytest.raises(DataValidationError) as info:
        anon.anonymise(bad, MAPPING)
    p = info.value.problems[0]
    assert (p.row, p.column, p.value) == (10, "service", "Chiro")


def test_output_order_does_not_follow_the_export(export, result):
    # ids are drawn in export order: the tables must be ordered by the random id instead
    ep_ids = result.data.episodes["episode_id"].astype(str).tolist()
    assert ep_ids == sorted(ep_ids)
    visits = result.data.visits
    keys = list(zip(visits["episode_id"].astype(str), visits["visit_day"], strict=True))
    assert keys == sorted(keys)
    reversed_export = anon.anonymise(export.iloc[::-1], MAPPING, seed=5).data.episodes
    assert reversed_export["episode_id"].astype(str).tolist() == sorted(
        reversed_export["episode_id"].astype(str))

def test_find_identifiers_detects_a_leak(export, result):
    leaky = result.data.episodes.copy()
    leaky["episode_id"] = leaky["episode_id"].astype(object)
    leaky.loc[0, "episode_id"] = export.loc[0, "email"]
    data = OutcomeData(episodes=leaky, visits=result.data.visits)
    assert anon.find_identifiers(data, export, ["email"])


# --- small-cell suppression ---------------------------------------------------------------
def test_primary_and_complementary_suppression():
    table = pd.DataFrame({"A": [3, 20, 30], "B": [25, 40, 50], "C": [12, 0, 33]},
                         index=["r1", "r2", "r3"])
    out = privacy.suppress_small_cells(table, 5)
    mask = out.attrs["suppressed"]
    assert mask.loc["r1", "A"]  # primary: 3 < 5
    # complementary cells in its row and column, then what the margin audit still needs
    assert mask.loc["r1"].sum() >= 2 and mask["A"].sum() >= 2
    assert int(mask.to_numpy().sum()) <= 6
    assert privacy.audit_table(table.to_numpy(), mask.to_numpy())["protected"].all()
    assert pd.isna(out.loc["r1", "A"]) and out.loc["r3", "B"] == 50
    assert out.loc["r2", "C"] == 0  # zeros may be shown


def test_no_complementary_when_disabled_and_marker():
    table = pd.DataFrame({"A": [3, 20], "B": [25, 40]})
    out = privacy.suppress_small_cells(table, 5, complementary=False, marker="n.p.")
    assert out.loc[0, "A"] == "n.p." and out.loc[1, "A"] == 20
    assert int(out.attrs["suppressed"].to_numpy().sum()) == 1


def test_tidy_table_suppression():
    tidy = pd.DataFrame({"condition": ["a", "a", "b", "b"], "therapy": ["x", "y", "x", "y"],
                         "n": [2, 30, 40, 50]})
    out = privacy.suppress_small_cells(tidy, 5, count="n", rows="condition", cols="therapy")
    # 2 is primary; 30 (row) and 40 (column) complementary; then 50 so row b is not derivable
    assert out["n"].isna().tolist() == [True, True, True, True]
    untouched = privacy.suppress_small_cells(tidy.assign(n=[20, 30, 40, 50]), 5, count="n",
                                             rows="condition", cols="therapy")
    assert untouched["n"].tolist() == [20, 30, 40, 50]



def test_tidy_table_rejects_duplicate_keys():
    # (a, x) twice: summing would decide on 6 and show both 3s
    tidy = pd.DataFrame({"condition": ["a", "a", "b", "b", "a"],
                         "therapy": ["x", "x", "x", "y", "y"], "n": [3, 3, 40, 50, 30]})
    with pytest.raises(ValueError, match="share a key"):
        privacy.suppress_small_cells(tidy, 5, count="n", rows="condition", cols="therapy")


def test_tidy_table_missing_key_is_its_own_level():
    tidy = pd.DataFrame({"condition": ["a", "a", None, None, "b", "b"],
                         "therapy": ["x", "y", "x", "y", "x", "y"],
                         "n": [20, 30, 2, 9, 40, 50]})
    out = privacy.suppress_small_cells(tidy, 5, count="n", rows="condition", cols="therapy")
    # the small count with a missing condition is masked, and so is its row complement
    assert out["n"].isna().tolist()[2:4] == [True, True]
    assert out.attrs["suppressed"].sum() >= 4  # column x needs a complement too
    cat = tidy.assign(condition=pd.Categorical(tidy["condition"], categories=["b", "a"]))
    out = privacy.suppress_small_cells(cat, 5, count="n", rows="condition", cols="therapy",
                                       marker="n.p.")
    assert out["n"].tolist()[2] == "n.p."


def test_rejects_non_counts():
    with pytest.raises(ValueError):
        privacy.suppress_small_cells(pd.DataFrame({"a": [1.5, 2]}))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), min_size=2, max_size=4), min_size=2, max_size=4)
       .filter(lambda rows: len({len(r) for r in rows}) == 1), st.integers(2, 8))
def test_suppressed_cells_cannot_be_recovered_from_totals(rows, threshold):
    """The margin attack (integer programs over every published total) pins no hidden cell.

    A table whose margins pin a small count even with every cell hidden under one label
    (e.g. [[0, 0], [1, 1]] at threshold 3) has no safe pattern: then suppression refuses
    with a named DisclosureError and the table is withheld, never published unprotected.
    """
    values = np.array(rows)
    small = (values > 0) & (values < threshold)
    try:
        out = privacy.suppress_small_cells(pd.DataFrame(values), threshold)
    except DisclosureError:
        everything = np.ones_like(values, dtype=bool)
        hopeless = privacy.audit_table(values, everything, threshold=threshold,
                                       two_labels=False)
        assert not hopeless["protected"].all(), values  # refused only when nothing works
        return
    mask = out.attrs["suppressed"].to_numpy()
    assert (mask | ~small).all()  # every small count is masked
    report = privacy.audit_table(values, mask, threshold=threshold,
                                 two_labels=out.attrs["two_labels"])
    assert report["protected"].all(), (values, mask, report)


def test_shipped_demo_export_regenerates():
    shipped = pd.read_csv(data_path("mappings", "demo_clinic_export.csv"), dtype=str,
                          keep_default_na=False)
    pd.testing.assert_frame_equal(shipped, demo_clinic_export(200, 7),
                                  check_dtype=False)


def test_anonymised_facts_match_the_source_cohort(export):
    from gluteutils import cohort

    truth = cohort.generate(150, 3).episodes
    full = anon.anonymise(export, MAPPING, seed=5, k=1).data
    for col in ("age_band", "sex", "site", "condition", "therapy"):
        assert sorted(full.episodes[col].astype(str)) == sorted(truth[col].astype(str)), col
    assert sorted(full.episodes["sessions_attended"]) == sorted(truth["sessions_attended"])


@pytest.mark.parametrize("case", ["bad mapping", "k 0", "missing export"])
def test_anonymise_cli_fails_cleanly_on_bad_arguments(tmp_path, capsys, case):
    from gluteutils.cli import main

    export = data_path("mappings", "demo_clinic_export.csv")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("- not\n- a mapping\n", encoding="utf-8")
    args = {"bad mapping": [str(export), "--mapping", str(mapping)],
            "k 0": [str(export), "--mapping", str(MAPPING), "--k", "0"],
            "missing export": [str(tmp_path / "nope.csv"), "--mapping", str(MAPPING)]}[case]
    out = tmp_path / "o"
    rc = main(["anonymise", args[0], str(out), *args[1:]])
    assert rc != 0
    captured = capsys.readouterr()
    said = captured.out + captured.err  # data problems go to stdout, argument errors to stderr
    assert "FAILED:" in said and "Traceback" not in said
    assert not out.exists()
