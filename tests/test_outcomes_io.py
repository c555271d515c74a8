"""Loader: typed output, round trips, and property-based corruption tests (no crash, no
silent acceptance)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gluteutils import cohort
from gluteutils.errors import DataValidationError
from gluteutils.outcomes import OutcomeData, load, load_table, schema
from gluteutils.outcomes.io import to_typed, write_table

DATA = cohort.generate(25, 21)
_SETTINGS = settings(max_examples=int(__import__("os").environ.get("HYP_EXAMPLES", "60")), deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _lines(resource: str, tmp: Path) -> list[str]:
    path = tmp / f"_{resource}.csv"
    write_table(getattr(DATA, resource), path)
    return path.read_text(encoding="utf-8").splitlines()


def test_load_default_returns_typed_categorical_data():
    data = load()
    assert isinstance(data, OutcomeData)
    ep, vi = data.episodes, data.visits
    for col in ("condition", "therapy", "age_band", "sex", "site", "discharge_reason"):
        assert isinstance(ep[col].dtype, pd.CategoricalDtype)
    assert list(ep["age_band"].cat.categories) == list(schema.AGE_BANDS)
    assert ep["age_band"].cat.ordered
    assert list(vi["visit_type"].cat.categories) == list(schema.VISIT_TYPES)
    assert str(vi["pain_nprs"].dtype) == "int16"
    assert str(vi["grc"].dtype) == "Int16"
    assert str(ep["leg_pain_below_knee"].dtype) == "boolean"


def test_csv_and_parquet_round_trip(tmp_path):
    for resource in ("episodes", "visits"):
        frame = getattr(DATA, resource)
        for suffix in ("csv", "parquet"):
            path = tmp_path / f"{resource}.{suffix}"
            write_table(frame, path)
            pd.testing.assert_frame_equal(load_table(path, resource), frame)


def test_to_typed_sets_schema_category_order():
    frame = DATA.episodes.copy()
    frame["therapy"] = frame["therapy"].astype(str).astype("category")
    typed = to_typed(frame, "episodes")
    assert list(typed["therapy"].cat.categories) == list(schema.THERAPIES)
    assert (typed["therapy"].astype(str) == DATA.episodes["therapy"].astype(str)).all()


def test_missing_values_stay_missing(tmp_path):
    path = tmp_path / "visits.csv"
    write_table(DATA.visits, path)
    loaded = load_table(path, "visits")
    assert loaded["grc"].isna().sum() == (DATA.visits["visit_type"] == "baseline").sum()


# --- oracle for single-cell corruptions ---------------------------------------------------
_INT = re.compile(r"-?[0-9]+")
ORACLE_COLUMNS = {"visits": ["pain_nprs", "function_lefs"],
                  "episodes": ["therapy", "condition", "sex", "leg_weakness",
                               "sessions_attended", "symptom_duration_weeks"]}


def _valid(field: schema.Field, text: str) -> bool:
    if text == "":
        return not field.required
    if field.kind == "integer":
        if not _INT.fullmatch(text):
            return False
        value = int(text)
        return (field.minimum is None or value >= field.minimum) and (
            field.maximum is None or value <= field.maximum)
    if field.kind == "boolean":
        return text in ("true", "false")
    assert field.values is not None
    return text in field.values


cell_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"],
                                   blacklist_characters=",\"\r\n"), max_size=6),
    st.integers(-20, 120).map(str),
    st.sampled_from(["true", "false", "TRUE", "1", "0x5", "05", " 3", "3.0", "NA", "nan",
                     "doms", "physiotherapy", "female", "Male", "", "-0", "1e1", "½", "٣"]),
)


@_SETTINGS
@given(resource=st.sampled_from(["visits", "episodes"]), data=st.data(), text=cell_text)
def test_single_cell_corruption_is_caught_or_faithful(tmp_path, resource, data, text):
    lines = _lines(resource, tmp_path)
    header = lines[0].split(",")
    column = data.draw(st.sampled_from(ORACLE_COLUMNS[resource]))
    row = data.draw(st.integers(1, len(lines) - 1))
    parts = lines[row].split(",")
    parts[header.index(column)] = text
    lines[row] = ",".join(parts)
    path = tmp_path / f"{resource}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    field = schema.field_map(resource)[column]
    if _valid(field, text):
        frame = load_table(path, resource)
        got = frame[column].iloc[row - 1]
        if text == "":
            assert pd.isna(got)
        elif field.kind == "integer":
            assert int(got) == int(text)
        elif field.kind == "boolean":
            assert bool(got) == (text == "true")
        else:
            assert str(got) == text
    else:
        with pytest.raises(DataValidationError) as info:
            load_table(path, resource)
        assert any(p.row == row and p.column == column for p in info.value.problems), [
            str(p) for p in info.value.problems]


@_SETTINGS
@given(resource=st.sampled_from(["visits", "episodes"]), data=st.data(),
       junk=st.binary(min_size=1, max_size=8))
def test_random_byte_corruption_never_crashes(tmp_path, resource, data, junk):
    raw = "\n".join(_lines(resource, tmp_path)).encode() + b"\n"
    pos = data.draw(st.integers(0, len(raw)))
    mode = data.draw(st.sampled_from(["insert", "replace", "truncate"]))
    if mode == "insert":
        raw = raw[:pos] + junk + raw[pos:]
    elif mode == "replace":
        raw = raw[:pos] + junk + raw[pos + len(junk):]
    else:
        raw = raw[:pos]
    path = tmp_path / f"{resource}.csv"
    path.write_bytes(raw)
    try:
        frame = load_table(path, resource)
    except DataValidationError as exc:
        assert exc.problems and all(p.file == str(path) for p in exc.problems)
    else:
        # accepted: it must still satisfy the schema
        assert list(frame.columns) == [f.name for f in schema.fields(resource)]
        for f in schema.fields(resource):
            if f.kind == "integer":
                vals = frame[f.name].dropna().astype(int)
                assert vals.between(f.minimum, f.maximum).all()
            if f.required:
                assert frame[f.name].notna().all()


@_SETTINGS
@given(data=st.data())
def test_lenient_never_silently_drops(tmp_path, data):
    lines = _lines("visits", tmp_path)
    rows = data.draw(st.sets(st.integers(1, len(lines) - 1), max_size=5))
    for r in rows:
        parts = lines[r].split(",")
        parts[3] = data.draw(st.sampled_from(["11", "-2", "x", ""]))
        lines[r] = ",".join(parts)
    path = tmp_path / "visits.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load_table(path, "visits", lenient=True)
    report = frame.attrs["report"]
    assert set(report["row"]) == rows
    assert len(frame) == len(lines) - 1 - len(rows)


@pytest.mark.parametrize("resource", ["visits", "episodes"])
@pytest.mark.parametrize("where", ["header", "data"])
def test_stray_carriage_return_is_a_named_problem(tmp_path, resource, where):
    """Found by the byte-corruption property test: a lone CR used to crash the csv module."""
    lines = _lines(resource, tmp_path)
    target = 0 if where == "header" else 1
    lines[target] = lines[target][:5] + "\r" + lines[target][5:]
    path = tmp_path / f"{resource}.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    with pytest.raises(DataValidationError) as info:
        load_table(path, resource)
    assert any(p.row == target and ("cannot be read as CSV" in p.message
                                    or "carriage return (\\r) on its own" in p.message)
               for p in info.value.problems), [str(p) for p in info.value.problems]
