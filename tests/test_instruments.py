"""The instrument registry: every row well formed, sources named, direction-aware helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gluteutils.outcomes import instruments as I

REQUIRED = ["nprs_0_10", "vas_0_100", "vas_0_10", "vas_0_1", "likert_1_5", "likert_1_7",
            "odi_0_100", "rmdq_0_24", "lefs_0_80", "visa_g_0_100", "psfs_0_10", "pseq_0_60",
            "groc_m7_p7", "eq5d5l_england", "eq5d5l_uk_crosswalk"]


def test_registry_has_every_required_instrument() -> None:
    reg = I.registry()
    assert set(REQUIRED) <= set(reg)


@pytest.mark.parametrize("key", REQUIRED)
def test_each_instrument_is_well_formed(key: str) -> None:
    inst = I.get_instrument(key)
    assert inst.low < inst.high
    assert inst.higher_is in ("worse", "better")
    assert inst.range_source
    if inst.mcid is not None:
        assert inst.mcid_source and inst.mcid_source != ""
        assert 0 < inst.mcid < inst.high - inst.low
    if inst.resolution is not None:
        span = (inst.high - inst.low) / inst.resolution
        assert abs(span - round(span)) < 1e-6


def test_published_figures() -> None:
    assert I.get_instrument("nprs_0_10").mcid == 2
    assert I.get_instrument("nprs_0_10").mcid_percent == 30
    assert "Farrar" in I.get_instrument("nprs_0_10").mcid_source
    assert I.get_instrument("rmdq_0_24").mcid == 5
    assert I.get_instrument("lefs_0_80").mcid == 9
    assert "Binkley" in I.get_instrument("lefs_0_80").mcid_source
    assert I.get_instrument("pseq_0_60").mcid == 5.5
    assert I.get_instrument("odi_0_100").mcid == 10
    assert I.get_instrument("visa_g_0_100").mcid is None  # none established
    assert I.get_instrument("lefs_0_80").higher_is == "better"
    assert I.get_instrument("eq5d5l_uk_crosswalk").low == -0.594


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="nprs_0_10"):
        I.get_instrument("nprs")


def test_table() -> None:
    t = I.instruments_table()
    assert isinstance(t, pd.DataFrame)
    assert {"low", "high", "resolution", "higher_is", "mcid", "mcid_source"} <= set(t.columns)
    assert len(t) == len(I.registry())


def test_valid_follows_range_and_resolution() -> None:
    vas01 = I.get_instrument("vas_0_1")
    assert vas01.valid([0.0, 0.62, 1.0]).all()
    assert not vas01.valid([0.625]).any()  # finer than the 0.01 resolution
    assert not vas01.valid([1.01, -0.01, np.inf, np.nan]).any()
    nprs = I.get_instrument("nprs_0_10")
    assert nprs.valid([0, 10, 7.0]).all() and not nprs.valid([7.5, 11]).any()
    assert I.get_instrument("vas_0_100").valid([45.55, 0.001]).all()  # continuous


def test_direction_aware_improvement_and_responders() -> None:
    assert I.is_improvement([6], [4], "nprs_0_10").all()
    assert not I.is_improvement([40], [30], "lefs_0_80").any()
    # NPRS: 2 points or 30 %
    np.testing.assert_array_equal(I.responder([8, 5, 2], [6, 4, 1], "nprs_0_10"),
                                  [True, False, True])
    np.testing.assert_array_equal(
        I.responder([8, 5, 2], [6, 4, 1], "nprs_0_10", rule="points"), [True, False, False])
    # LEFS: higher is better, 9 points
    np.testing.assert_array_equal(I.responder([40, 40], [49, 48], "lefs_0_80", rule="points"),
                                  [True, False])
    # missing follow-up is not a responder
    assert not I.responder([8], [np.nan], "nprs_0_10").any()


def test_no_mcid_needs_a_declared_rule() -> None:
    with pytest.raises(ValueError, match="declare"):
        I.responder([4], [2], "likert_1_5")
    assert I.responder([4], [2], "likert_1_5", points=1, rule="points").all()


def test_any_symptom() -> None:
    np.testing.assert_array_equal(I.any_symptom([0, 0.01, 3], "vas_0_1"), [False, True, True])
    np.testing.assert_array_equal(I.any_symptom([1, 2], "likert_1_5"), [False, True])
    with pytest.raises(ValueError, match="not a pain scale"):
        I.any_symptom([10], "lefs_0_80")


def test_defaults_are_the_synthetic_cohorts() -> None:
    d = I.default_instruments()
    assert d["pain_nprs"].key == "nprs_0_10" and d["function_lefs"].key == "lefs_0_80"
