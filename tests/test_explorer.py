"""The explorer's fast aggregates equal the slow pandas / lifelines answers, and nothing it
publishes (trajectory point, curve step, count) rests on fewer than 5 people."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from gluteutils.outcomes.explorer import (
    Explorer,
    ExplorerError,
    Filters,
    episode_counts,
)
from gluteutils.outcomes.models import responders
from gluteutils.outcomes.schema import AGE_BANDS, SEXES, THERAPIES
from gluteutils.privacy import NOT_PUBLISHED, audit_table, round_counts
from gluteutils.privacy.rounding import mean_step, smallest_count, value_grid


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
        elif c != "doms" and rng.random() < 0.3:
            days = [0, 14, 16, 28, 56]  # two visits in week 2 (one person, one value)
        for j, d in enumerate(days):
            pain = base if d == 0 else int(np.clip(base - rng.integers(0, 4) * j, 0, 10))
            vtype = "baseline" if d == 0 else ("review" if d == days[-1] and len(days) >= 4
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
    # one value per person per week: the mean of that person's visits in the week
    person = merged.groupby(["therapy", "time", "episode_id"])["function_lefs"].mean()
    assert len(person) < len(merged)  # the cohort has people with two visits in one week
    g = person.groupby(["therapy", "time"])
    expect = pd.DataFrame({"mean": g.mean(), "sem": g.sem(), "n": g.size()})
    got = view.trajectory.set_index(["therapy", "time"])
    assert len(got) > 0
    grid = value_grid(visits["function_lefs"].dropna().to_numpy())
    from scipy.stats import t
    for key, row in got.iterrows():
        n = int(expect.loc[key, "n"])
        assert row["n"] == round_counts(n, 5)  # published counts are rounded to 5
        # published means and CI limits are rounded to a step that hides n (issue 10)
        step = float(mean_step(smallest_count(row["n"]), grid))
        assert step >= grid / max(n, 5) - 1e-12
        assert abs(row["mean"] - expect.loc[key, "mean"]) <= step / 2 + 1e-9
        half = (row["upper"] - row["lower"]) / 2
        assert abs(half - t.ppf(0.975, n - 1) * expect.loc[key, "sem"]) <= step + 1e-9


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
        n, x = (int(v) for v in expect.loc[t])
        # published: counts rounded to 5, the rate computed from the rounded counts
        assert (row["n"], row["responders"]) == (round_counts(n, 5), round_counts(x, 5))
        assert row["rate"] == pytest.approx(round_counts(x, 5) / round_counts(n, 5))
        assert row["lower"] < row["rate"] < row["upper"]


def test_kaplan_meier_equals_lifelines(data, explorer):
    """The RAW aggregates give lifelines' product-limit curve; the published one is coarsened."""
    ep, visits = data
    f = Filters("doms", therapies=("physiotherapy",))
    agg = explorer.aggregate(f)
    ids = set(ep[(ep.condition == "doms") & (ep.therapy == "physiotherapy")].episode_id)
    v = visits[visits.episode_id.isin(ids)]
    rec = v[(v.visit_day > 0) & (v.pain_nprs <= 1)].groupby("episode_id")["visit_day"].min()
    last = v.groupby("episode_id")["visit_day"].max()
    dur = rec.reindex(last.index).fillna(last)
    event = rec.reindex(last.index).notna()
    kmf = KaplanMeierFitter().fit(dur, event)
    risk, surv = agg.raw_km()
    i = THERAPIES.index("physiotherapy")
    for t in range(int(dur.max()) + 1):
        assert risk[i, t] == int((dur >= t).sum())
        assert 1 - surv[i, t] == pytest.approx(
            1 - float(kmf.survival_function_at_times(t).iloc[0]))
    view = explorer.update(f)
    km = view.km[view.km.therapy == "physiotherapy"].set_index("time")
    shown = km["at_risk"].dropna().astype(int)
    assert len(shown) and (shown % 5 == 0).all() and (shown >= 5).all()
    drops = -np.diff(shown.to_numpy())
    assert not ((drops > 0) & (drops < 5)).any()  # no step of 1-4 people
    at0 = view.at_risk.set_index(["therapy", "time"]).loc[("physiotherapy", 0), "at_risk"]
    assert at0 == round_counts(len(ids), 5)


def test_small_groups_are_hidden_and_said_so(explorer):
    view = explorer.update(Filters("doms"))
    # exercise_physiology has ~2% of 180 DOMS episodes -> fewer than 5
    assert "exercise_physiology" not in set(view.table.therapy)
    assert "exercise_physiology" not in set(view.trajectory.therapy)
    assert view.suppressed
    assert any("small-cell suppression" in n for n in view.notes)
    assert (view.table["episodes"] >= 5).all()
    shown_ar = view.at_risk["at_risk"].dropna()
    assert not ((shown_ar > 0) & (shown_ar < 5)).any()


def test_filters_narrow_the_selection(explorer):
    all_ = explorer.update(Filters("sciatica_disc")).n_episodes
    fem = explorer.update(Filters("sciatica_disc", sexes=("female",))).n_episodes
    male = explorer.update(Filters("sciatica_disc", sexes=("male",))).n_episodes
    assert 0 < fem < all_ and 0 < male < all_
    assert all_ % 5 == 0 and fem % 5 == 0  # published counts are rounded to 5


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
    # every count is rounded to 5, so no difference of two views is a small count
    assert (view.table["episodes"] % 5 == 0).all() and view.n_episodes % 5 == 0
    assert (view.trajectory["n"] % 5 == 0).all() and (r["n"] % 5 == 0).all()
    lost = view.table["episodes"] - view.table["with_review"]
    assert not ((lost > 0) & (lost < 5)).any()
    shown_rev = view.table["with_review"].dropna()
    assert not ((shown_rev > 0) & (shown_rev < 5)).any()
    km_at_risk = view.km["at_risk"].dropna()
    assert (km_at_risk >= 5).all()
    assert view.km.loc[view.km["at_risk"].isna(), "recovered"].isna().all()


def _km_steps_at_risk(ep: pd.DataFrame, visits: pd.DataFrame, view) -> list[tuple[str, int, int]]:
    """(therapy, day, people at risk) of every day the published curves cover, recomputed from
    the raw tables (recovery = first post-baseline visit with pain <= 1, else censored)."""
    out = []
    for therapy, km in view.km.groupby("therapy", observed=True):
        drawn = km.dropna(subset=["recovered"])
        ids = set(ep.loc[ep.therapy == therapy, "episode_id"])
        v = visits[visits.episode_id.isin(ids)]
        rec = v[(v.visit_day > 0) & (v.pain_nprs <= 1)].groupby("episode_id")["visit_day"].min()
        last = v.groupby("episode_id")["visit_day"].max()
        dur = rec.reindex(last.index).fillna(last)
        out += [(str(therapy), int(t), int((dur >= t).sum())) for t in drawn["time"]]
    return out


def test_km_curves_end_where_fewer_than_5_are_at_risk():
    """Reviewer case on the shipped data: sciatica_stenosis, 70+, female, home self-care had a
    step at day 62 with 3 people at risk."""
    from gluteutils import outcomes

    data = outcomes.load()
    ex = Explorer.from_data(data)
    f = Filters("sciatica_stenosis", therapies=("home_self_care",), age_bands=("70+",),
                sexes=("female",))
    view = ex.update(f)
    ep = data.episodes
    ep = ep[(ep.condition == f.condition) & (ep.age_band == "70+") & (ep.sex == "female")]
    steps = _km_steps_at_risk(ep.astype({"therapy": str}), data.visits, view)
    assert steps and min(n for _, _, n in steps) >= 5
    assert max(t for _, t, _ in steps) < 62
    assert (view.km["at_risk"].dropna() >= 5).all()
    assert any("fewer than 5 people are still followed" in n for n in view.notes)
    # the figure draws nothing where the curve ended
    from gluteutils.plots import outcomes as plots

    fig = plots.km_figure(view.km, view.at_risk, levels=THERAPIES)
    curve = next(t for t in fig.data if t.meta == "home_self_care" and t.mode == "lines")
    assert len(curve.x) and max(curve.x) < 62 and np.isfinite(curve.y).all()


def test_trajectory_counts_people_not_visits():
    """Four people with two visits each in week 1 are 8 visits but 4 people: hidden."""
    n = 6
    ep = pd.DataFrame({"episode_id": [f"P{i}" for i in range(n)], "condition": "sciatica_disc",
                       "therapy": "physiotherapy", "age_band": "40-49", "sex": "female"})
    rows = []
    for i in range(n):
        days = [0, 7, 9, 56] if i < 4 else [0, 56]
        for d in days:
            vtype = {0: "baseline", 56: "review"}.get(d, "treatment")
            rows.append((f"P{i}", d, vtype, float(8 - d // 7 + i % 2), 40.0 + i + d / 7))
    visits = pd.DataFrame(rows, columns=["episode_id", "visit_day", "visit_type", "pain_nprs",
                                         "function_lefs"])
    view = Explorer(ep, visits, threshold=5).update(Filters("sciatica_disc"))
    traj = view.trajectory.set_index("time")
    assert 1 not in traj.index  # 8 visits in week 1, but only 4 people
    assert traj.loc[0, "n"] == round_counts(n, 5) and traj.loc[8, "n"] == round_counts(n, 5)
    assert any("fewer than 5 people" in note for note in view.notes)
    # a person with several visits in a bin counts once, with the mean of those visits
    visits2 = pd.concat([visits, visits[visits.visit_day == 56].assign(visit_day=57,
                                                                         pain_nprs=0.0,
                                                                         visit_type="treatment")])
    traj2 = Explorer(ep, visits2).update(Filters("sciatica_disc")).trajectory.set_index("time")
    week8 = visits2[visits2.visit_day >= 56].groupby("episode_id")["pain_nprs"].mean()
    assert traj2.loc[8, "n"] == round_counts(n, 5)  # 6 people, not 12 visits
    # the published mean and CI are rounded to a step that hides n (issue 10)
    step = float(mean_step(smallest_count(traj2.loc[8, "n"]), 1.0))
    assert abs(traj2.loc[8, "mean"] - week8.mean()) <= step / 2 + 1e-9
    half = (traj2.loc[8, "upper"] - traj2.loc[8, "lower"]) / 2
    from scipy.stats import t

    assert abs(half - t.ppf(0.975, n - 1) * week8.sem()) <= step + 1e-9


def test_episode_counts_uses_complementary_suppression():
    rows = {("doms", "physiotherapy"): 3, ("doms", "home_self_care"): 20,
            ("doms", "myotherapy_massage"): 30, ("sciatica_disc", "physiotherapy"): 40,
            ("sciatica_disc", "home_self_care"): 25, ("sciatica_disc", "myotherapy_massage"): 0,
            ("piriformis_syndrome", "physiotherapy"): 12,
            ("piriformis_syndrome", "home_self_care"): 11,
            ("piriformis_syndrome", "myotherapy_massage"): 9}
    ep = pd.DataFrame([(c, t) for (c, t), k in rows.items() for _ in range(k)],
                      columns=["condition", "therapy"])
    out = episode_counts(ep)
    shown = out.map(lambda v: isinstance(v, (int, np.integer)))
    hidden = out.isin([NOT_PUBLISHED, "<5"])
    assert out.loc["doms", "physiotherapy"] == "<5"
    assert audit_table(ep.groupby(["condition", "therapy"]).size().unstack(fill_value=0)
                       .reindex(index=out.index, columns=out.columns).fillna(0).to_numpy(),
                       hidden.to_numpy())["protected"].all()
    # the 3 cannot be derived from its row or column: a second cell is hidden in each
    assert hidden.loc["doms"].sum() >= 2 and hidden["physiotherapy"].sum() >= 2
    for line in [*(hidden.loc[r] for r in hidden.index), *(hidden[c] for c in hidden.columns)]:
        assert line.sum() != 1
    values = out.where(shown)
    assert not ((values > 0) & (values < 5)).fillna(False).to_numpy().any()
    assert out.loc["sciatica_disc", "myotherapy_massage"] == "-"  # never used: not a small cell
    assert out.loc["sciatica_disc", "physiotherapy"] == 40


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


# --- an anonymised package (issue 11): suppressed quasi-identifiers are their own level ----


def test_explorer_accepts_an_anonymised_package_with_suppressed_values():
    from gluteutils.outcomes import byod
    from gluteutils.outcomes.explorer import SUPPRESSED_LEVEL

    r = byod.run("mappings/demo_clinic_export.csv", "mappings/demo_clinic.yaml", k=5, seed=1)
    ep = r.anonymised.data.episodes
    assert ep["age_band"].isna().any() and ep["sex"].isna().any()  # k-anonymity blanked some
    ex = Explorer.from_data(r.anonymised.data)
    for cond in sorted(set(ep["condition"].astype(str))):
        in_cond = ep[ep["condition"].astype(str) == cond]
        everyone = ex.aggregate(Filters(condition=cond)).counts.sum()
        assert everyone == len(in_cond)  # nobody dropped for a blank age band or sex
        blank_age = ex.aggregate(Filters(condition=cond, age_bands=(SUPPRESSED_LEVEL,)))
        assert blank_age.counts.sum() == in_cond["age_band"].isna().sum()
        blank_sex = ex.aggregate(Filters(condition=cond, sexes=(SUPPRESSED_LEVEL,)))
        assert blank_sex.counts.sum() == in_cond["sex"].isna().sum()
        ex.update(Filters(condition=cond))  # publishes without error


def test_explorer_still_rejects_a_value_that_is_not_missing(data):
    episodes, visits = data
    ep = episodes.copy()
    ep["age_band"] = ep["age_band"].astype(object)
    ep.loc[ep.index[0], "age_band"] = "90-99"
    with pytest.raises(ExplorerError, match=r"age_band.*'90-99'"):
        Explorer(ep, visits)


def test_explorer_reads_an_anonymised_package_from_disk(tmp_path):
    """The package `gluteutils anonymise` writes, loaded back as notebook 04 does."""
    import json

    from gluteutils import outcomes
    from gluteutils.outcomes.anonymise import anonymise
    from gluteutils.outcomes.byod import resolve
    from gluteutils.outcomes.io import write_table
    from gluteutils.outcomes.schema import datapackage_descriptor

    anon = anonymise(resolve("mappings/demo_clinic_export.csv"),
                     resolve("mappings/demo_clinic.yaml"), k=5, seed=1)
    write_table(anon.data.episodes, tmp_path / "episodes.csv")
    write_table(anon.data.visits, tmp_path / "visits.csv")
    desc = datapackage_descriptor(name="anon", title="anon", description="test")
    (tmp_path / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    data = outcomes.load(tmp_path)
    assert data.episodes["age_band"].isna().sum() == anon.data.episodes["age_band"].isna().sum()
    ex = Explorer.from_data(data)
    cond = str(data.episodes["condition"].iloc[0])
    assert ex.aggregate(Filters(condition=cond)).counts.sum() == int(
        (data.episodes["condition"].astype(str) == cond).sum())
