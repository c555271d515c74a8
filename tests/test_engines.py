"""DuckDB, Spark (local mode) and the pandas/statsmodels reference give the same numbers.

Tolerance 1e-9 (absolute) everywhere; integer statistics must be identical. Spark runs when
Java and pyspark are installed (``.ci/run`` installs Java where it is missing) and shares one
SparkSession over a few small queries, to keep the suite fast.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gluteutils.outcomes import load
from gluteutils.outcomes.engines import (
    DuckDBEngine,
    ancova,
    compute_cubes,
    repeated_measures,
    table_one_counts,
    write_parquet,
)
from gluteutils.outcomes.engines import reference as ref
from gluteutils.outcomes.engines.analysis import (
    TABLE_ONE_CATEGORICAL,
    TABLE_ONE_CONTINUOUS,
    ancova_stats,
)
from gluteutils.outcomes.engines.explorer import explorer_counts
from gluteutils.outcomes.explorer import Explorer, Filters
from gluteutils.outcomes.models import (
    analysis_frame,
    primary_analysis,
    repeated_measures_by_condition,
    visit_frame,
)
from gluteutils.privacy.rounding import mean_step, smallest_count

TOL = 1e-9
KEYS = {"episode": ref.CELL, "km": [*ref.CELL, "duration", "event"],
        "trajectory": [*ref.CELL, "tbin"]}
EFFECT = ["estimate", "se", "ci_lower", "ci_upper", "p_value", "n"]


@pytest.fixture(scope="module")
def data():
    return load()


@pytest.fixture(scope="module")
def parquet(data, tmp_path_factory) -> dict[str, Path]:
    return write_parquet(data.episodes, data.visits, tmp_path_factory.mktemp("pq"))


@pytest.fixture(scope="module")
def duck(parquet):
    return DuckDBEngine.from_parquet(parquet["episodes"], parquet["visits"])


def assert_same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], tol: float = TOL) -> None:
    a = a.sort_values(keys, na_position="last").reset_index(drop=True)
    b = b.sort_values(keys, na_position="last").reset_index(drop=True)
    assert len(a) == len(b)
    for k in keys:
        assert list(a[k].astype(object).where(a[k].notna(), None)) == \
            list(b[k].astype(object).where(b[k].notna(), None)), k
    for c in a.columns:
        if c in keys:
            continue
        x, y = a[c].astype(float).to_numpy(), b[c].astype(float).to_numpy()
        assert np.array_equal(np.isnan(x), np.isnan(y)), c
        assert np.nanmax(np.abs(x - y), initial=0.0) <= tol, c


def assert_effects(mine: pd.DataFrame, theirs: pd.DataFrame, tol: float = TOL) -> None:
    theirs = theirs.assign(condition=theirs["condition"].astype(str))
    m = mine.merge(theirs, on=["condition", "treatment"], suffixes=("", "_ref"))
    assert len(m) == len(mine) == len(theirs) > 0
    for c in EFFECT:
        assert np.max(np.abs(m[c].astype(float) - m[f"{c}_ref"].astype(float))) <= tol, c


def test_cubes_equal_pandas_reference(data, duck):
    mine, theirs = compute_cubes(duck), ref.cubes(data.episodes, data.visits)
    assert_same(mine.episode, theirs.episode, KEYS["episode"], tol=0)
    assert_same(mine.km, theirs.km, KEYS["km"], tol=0)
    for o in mine.trajectory:
        assert_same(mine.trajectory[o], theirs.trajectory[o], KEYS["trajectory"])


def test_explorer_means_equal_in_memory_explorer(data, duck):
    """Trajectory means from the cubes equal the explorer's (its counts are rounded for
    publication, so only the means are compared exactly; counts to within rounding)."""
    cubes = compute_cubes(duck)
    ex = Explorer.from_data(data)
    for f in (Filters("sciatica_disc"), Filters("doms", sexes=("female",),
                                                 age_bands=("18-29", "30-39"))):
        view = ex.update(f)
        mine = explorer_counts(cubes, f.condition, f.therapies, f.age_bands, f.sexes)
        t = view.trajectory.assign(therapy=view.trajectory["therapy"].astype(str)).merge(
            mine["trajectory"], on=["therapy", "time"], suffixes=("", "_engine"))
        assert len(t) == len(view.trajectory) > 0
        # the explorer publishes means rounded to a step that hides their n (issue 10);
        # the engine's cubes are raw (test_cubes_equal_pandas_reference holds them exact)
        step = mean_step(smallest_count(t["n"].to_numpy()), 1.0)
        assert np.all(np.abs(t["mean"] - t["mean_engine"]) <= step / 2 + TOL)
        assert np.max(np.abs(t["n"] - t["n_engine"])) <= 2  # published n rounded to 5


def test_table_one_counts_equal_reference(data, duck):
    frame = analysis_frame(data.episodes, data.visits)
    theirs = ref.table_one_counts(frame, TABLE_ONE_CATEGORICAL, TABLE_ONE_CONTINUOUS)
    assert_same(table_one_counts(duck), theirs, ["condition", "therapy", "variable", "level"])


@pytest.mark.slow
@pytest.mark.parametrize("cov_type", ["HC1", "nonrobust"])
def test_ancova_equals_statsmodels(data, duck, cov_type):
    theirs = primary_analysis(analysis_frame(data.episodes, data.visits),
                              cov_type=cov_type).summary_
    assert_effects(ancova(duck, cov_type=cov_type), theirs)


@pytest.mark.slow
def test_gee_from_cluster_sums_equals_statsmodels_gee(data, duck):
    theirs = repeated_measures_by_condition(visit_frame(data.episodes, data.visits))
    assert_effects(repeated_measures(duck), theirs)


def test_duckdb_on_frames_equals_duckdb_on_parquet(data, duck):
    mem = DuckDBEngine.from_frames(data.episodes, data.visits)
    assert_same(ancova_stats(mem), ancova_stats(duck), ["condition"], tol=0)


# --------------------------------------------------------------------------- Spark


def _spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


_needs_spark = pytest.mark.skipif(not _spark_available(), reason="needs pyspark and Java")


def spark_only(test):  # type: ignore[no-untyped-def]
    """Spark tests start a JVM (tens of seconds): the full run has them, --quick does not."""
    return pytest.mark.slow(_needs_spark(test))


@pytest.fixture(scope="module")
def spark_engine(parquet):
    from gluteutils.outcomes.engines.backends import SparkEngine, local_spark

    session = local_spark("glute-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield SparkEngine(session, parquet["episodes"], parquet["visits"])
    session.stop()


@spark_only
def test_spark_cubes_and_table_one_equal_duckdb(duck, spark_engine):
    from gluteutils.outcomes.engines import sql

    for name, query in (("episode", sql.episode_cube()), ("km", sql.km_cube())):
        assert_same(spark_engine.sql(query), duck.sql(query), KEYS[name], tol=0)
    assert_same(table_one_counts(spark_engine), table_one_counts(duck),
                ["condition", "therapy", "variable", "level"])


@spark_only
def test_spark_ancova_equals_statsmodels(data, spark_engine):
    theirs = primary_analysis(analysis_frame(data.episodes, data.visits)).summary_
    assert_effects(ancova(spark_engine), theirs)


@pytest.mark.parametrize("cov_type", ["HC1", "nonrobust"])
def test_one_pass_ancova_equals_two_pass(duck, cov_type):
    """The cell-moment ANCOVA (one scan) equals the two-scan fit (coefficients, then meat)."""
    from gluteutils.outcomes.engines.analysis import ancova_two_pass

    one = ancova(duck, cov_type=cov_type)
    two = ancova_two_pass(duck, cov_type=cov_type)
    assert list(one["condition"]) == list(two["condition"])
    cols = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
    np.testing.assert_allclose(one[cols].to_numpy(), two[cols].to_numpy(), rtol=1e-9, atol=1e-12)


def test_moment_exponents_cover_the_meat():
    from gluteutils.outcomes.engines.sql import moment_exponents

    exps = moment_exponents(2)
    assert len(exps) == len(set(exps)) == 15 + 10 + 6  # y^0: 15, y^1: 10, y^2: 6 monomials
    assert (2, 2, 0) in exps and (0, 0, 4) in exps and (3, 0, 0) not in exps
