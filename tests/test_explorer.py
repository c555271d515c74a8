"""The explorer's fast aggregates equal the slow pandas / lifelines answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from gluteutils.outcomes.explorer import Explorer, ExplorerError, Filters
from gluteutils.outcomes.models import responders
from gluteutils.outcomes.schema import AGE_BANDS, SEXES, THERAPIES


def tiny_cohort(n: int = 600, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small data-model-shaped cohort (independent of gluteutils.cohort)."""
    rng = np.random.default_rng(seed)
    therapies = ["physiotherapy", "myotherapy_massage", "home_self_care",
                 "exercise_physiology"]
    cond = rng.choice(["sciatica_disc", "doms"], n, p=[0.7, 0.3])
    ep = pd.DataFrame({
        "episode_id": [f"E{i:09d}" for i in range(n)],
        "condition": cond,
        "therapy": rng.choice(therapies, n, p=[0.4, 0.3, 0.28, 0.02]),
        "age_band": rng.choice(list(AGE_BANDS), n),
        "sex": rng.choice(list(SEXES), n),
    })
    rows = []
    for i, c in enumerate(cond):
        base = int(rng.integers(3, 10))
        days = [0, 2, 4, 7] if c == "doms" else [0, 14, 28, 56]
        if rng.random() < 0.15:
            days = days[:-1]  # lost before review
        for j, d in enumerate(days):
            pain = base if d == 0 else int(np.clip(base - rng.integers(0, 4) * j, 0, 10))
            vtype = "baseline" if d == 0 else ("review" if d == days[-1] and len(days) == 4
                                               else "treatment")
            lefs = float(rng.integers(20, 80)) if rng.random() > 0.1 else np.nan
            rows.append((f"E{i:09d}", d, vtype, pain, lefs))
    visits = pd.DataFrame(rows, columns=["episode_id", "visit_day", "visit_type",
                                         "pain_nprs", "function_lefs"])
    return ep, visits.sample(frac=1, random_state=1)  # order must not matter


@pytest.fixture(scope="module")
def data():
    return tiny_cohort()


@pytest.fixture(scope="module")
def explorer(data):
    return Explorer(*data, threshold=5)


def test_trajectory_means_match_pandas(data, explorer):
    ep, visits = data
    view = explorer.update(Filters("sciatica_disc", outcome="function_lefs"))
    merged = visits.merge(ep, on="episode_id")
    merged = merged[merged["condition"] == "sciatica_disc"].dropna(subset=["function_lefs"])
    merged["time"] = merged["visit_day"] // 7
    g = merged.groupby(["therapy", "time"])["function_lefs"]
    expect = pd.DataFrame({"mean": g.mean(), "sem": g.sem(), "n": g.size()})
    got = view.trajectory.set_index(["therapy", "time"])
    assert len(got) > 0
    for key, row in got.iterrows():
        assert row["mean"] == pytest.approx(expect.loc[key, "mean"])
        assert row["n"] == expect.loc[key, "n"]
        half = (row["upper"] - row["lower"]) / 2
        from scipy.stats import t
        assert half == pytest.approx(t.ppf(0.975, row["n"] - 1) * expect.loc[key, "sem"])


def test_responders_match_models_rule(data, explorer):
    ep, visits = data
    view = explorer.update(Filters("sciatica_disc"))
    base = visits[visits.visit_type == "baseline"].set_index("episode_id")["pain_nprs"]
    rev = visits[visits.visit_type == "review"].set_index("episode_id")["pain_nprs"]
    e = ep[ep.condition == "sciatica_disc"].set_index("episode_id")
    e = e.assign(base=base, rev=rev).dropna(subset=["rev"])
    e["resp"] = responders(e["base"], e["rev"])
    expect = e.groupby("therapy")["resp"].agg(["size", "sum"])
    got = view.responders.set_index("therapy")
    assert set(got.index) <= set(expect.index)
    for t, row in got.iterrows():
        assert (row["n"], row["responders"]) == tuple(expect.loc[t])
        assert row["lower"] < row["rate"] < row["upper"]


def test_kaplan_meier_equals_lifelines(data, explorer):
    ep, visits = data
    view = explorer.update(Filters("doms", therapies=("physiotherapy",)))
    ids = set(ep[(ep.condition == "doms") & (ep.therapy == "physiotherapy")].episode_id)
    v = visits[visits.episode_id.isin(ids)]
    rec = v[(v.visit_day > 0) & (v.pain_nprs <= 1)].groupby("episode_id")["visit_day"].min()
    last = v.groupby("episode_id")["visit_day"].max()
    dur = rec.reindex(last.index).fillna(last)
    event = rec.reindex(last.index).notna()
    kmf = KaplanMeierFitter().fit(dur, event)
    curve = view.km[view.km.therapy == "physiotherapy"].set_index("time")["recovered"]
    for t in range(int(dur.max()) + 1):
        assert curve.loc[t] == pytest.approx(1 - float(kmf.survival_function_at_times(t).iloc[0]))
    at0 = view.at_risk.set_index(["therapy", "time"]).loc[("physiotherapy", 0), "at_risk"]
    assert at0 == len(ids)


def test_small_groups_are_hidden_and_said_so(explorer):
    view = explorer.update(Filters("doms"))
    # exercise_physiology has ~2% of 180 DOMS episodes -> fewer than 5
    assert "exercise_physiology" not in set(view.table.therapy)
    assert "exercise_physiology" not in set(view.trajectory.therapy)
    assert view.suppressed
    assert any("small-cell suppression" in n for n in view.notes)
    assert (view.table["episodes"] >= 5).all()
    shown_ar = view.at_risk["at_risk"]
    assert not ((shown_ar > 0) & (shown_ar < 5)).any()


def test_filters_narrow_the_selection(explorer):
    all_ = explorer.update(Filters("sciatica_disc")).n_episodes
    fem = explorer.update(Filters("sciatica_disc", sexes=("female",))).n_episodes
    male = explorer.update(Filters("sciatica_disc", sexes=("male",))).n_episodes
    assert fem + male <= all_ and 0 < fem < all_  # totals count shown groups only


def test_unknown_filter_values_raise(explorer):
    with pytest.raises(ExplorerError):
        explorer.update(Filters("headache"))
    with pytest.raises(ExplorerError):
        explorer.update(Filters("doms", therapies=("acupuncture",)))
    with pytest.raises(ExplorerError):
        explorer.update(Filters("doms", outcome="vas"))


@settings(max_examples=30, deadline=None)
@given(therapies=st.sets(st.sampled_from(THERAPIES)), ages=st.sets(st.sampled_from(AGE_BANDS)),
       sexes=st.sets(st.sampled_from(SEXES)))
def test_no_small_cell_is_ever_shown(explorer, therapies, ages, sexes):
    view = explorer.update(Filters("sciatica_disc", tuple(sorted(therapies)),
                                   tuple(sorted(ages)), tuple(sorted(sexes))))
    assert (view.trajectory["n"] >= 5).all()
    assert (view.table["episodes"] >= 5).all()
    r = view.responders
    assert ((r["responders"] == 0) | (r["responders"] >= 5)).all()
    assert (((r["n"] - r["responders"]) == 0) | ((r["n"] - r["responders"]) >= 5)).all()
    # no hidden count can be derived from the total or from the follow-up column
    assert view.table["episodes"].sum() == view.n_episodes
    lost = view.table["episodes"] - view.table["with_review"]
    assert not ((lost > 0) & (lost < 5)).any()
    shown_rev = view.table["with_review"].dropna()
    assert not ((shown_rev > 0) & (shown_rev < 5)).any()


def test_widget_updates_figures_in_place(data):
    from types import SimpleNamespace

    from gluteutils.widgets.outcomes import outcomes_explorer

    app = outcomes_explorer(SimpleNamespace(episodes=data[0], visits=data[1]),
                            condition="sciatica_disc")
    fig = app.fig_trajectory
    n_traces = len(fig.data)
    before = [list(t.y) for t in fig.data]
    app.condition.value = "doms"  # observer -> refresh()
    assert app.fig_trajectory is fig and len(fig.data) == n_traces
    assert [list(t.y) for t in fig.data] != before
    assert app.summary().startswith("OutcomesExplorerApp(condition=doms, episodes=")
    assert "small-cell suppression" in app.notes.value  # the tiny exercise_physiology group
    shown = {t.meta for t in app.fig_km.data[:len(THERAPIES)] if t.visible}
    assert shown == set(app.view.table["therapy"].astype(str))


def test_plots_update_matches_view(explorer):
    from gluteutils.plots import outcomes as plots

    view = explorer.update(Filters("sciatica_disc"))
    fig = plots.responder_figure(view.responders)
    assert list(fig.data[0].y) == pytest.approx(list(100 * view.responders["rate"]), abs=0.01)
    forest = plots.forest_plot(view.responders.assign(ci_lower=view.responders["lower"],
                                                      ci_upper=view.responders["upper"],
                                                      estimate=view.responders["rate"]),
                               label="therapy")
    assert len(forest.data[0].x) == len(view.responders)
