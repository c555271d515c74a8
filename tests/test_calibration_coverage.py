"""Calibration: the primary analysis' 95% CIs cover the generator's true effects ~95% of the time.

Fixed seeds 0..199, a small cohort each, complete follow-up (``dropout=False``) so that the
estimator (ANCOVA of review pain on therapy + baseline pain + case mix, per condition) matches
the estimand exactly (see ``gluteutils.cohort`` docstring). Every (condition, therapy) effect
of every seed counts as one coverage indicator.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gluteutils import cohort
from gluteutils.outcomes import models

N_SEEDS = 200
N_EPISODES = 2500


def _single_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(1)


def coverage_runs(n_seeds: int = N_SEEDS, n_episodes: int = N_EPISODES,
                  dropout: bool = False) -> pd.DataFrame:
    truth = cohort.true_effects()
    runs = []
    with _single_thread():
        for seed in range(n_seeds):
            data = cohort.generate(n_episodes, seed, dropout=dropout)
            frame = models.analysis_frame(data.episodes, data.visits)
            fit = models.primary_analysis(frame)
            runs.append(models.calibration_check(fit.summary_, truth).assign(seed=seed))
    return pd.concat(runs, ignore_index=True)


@pytest.mark.slow
def test_primary_ci_coverage_200_seeds():
    runs = coverage_runs()
    # every true effect is estimated in (nearly) every run
    assert runs["seed"].nunique() == N_SEEDS
    assert len(runs) >= 0.95 * N_SEEDS * len(cohort.true_effects())
    coverage = runs["covered"].mean()
    by_condition = runs.groupby("condition")["covered"].mean().round(3).to_dict()
    assert 0.93 <= coverage <= 0.97, f"coverage {coverage:.3f}; by condition {by_condition}"
    # no systematic bias: mean error across runs is small relative to the typical SE
    assert abs(runs["bias"].mean()) < 0.25 * runs["se"].mean()
