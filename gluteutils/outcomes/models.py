"""Outcome models: a short re-export of the estimators, tables and analysis recipes.

The estimators live one per file in :mod:`gluteutils.outcomes.estimators` (lifelines style:
configure in ``__init__``, ``fit(df)`` returns ``self``, read ``summary_`` with its CIs and
``skipped_``); Table 1 and its suppression in :mod:`gluteutils.outcomes.tables`; the cohort's
recipes (analysis frames, primary analysis, method comparison) in
:mod:`gluteutils.outcomes.analysis`. ``gluteutils.outcomes.models`` keeps the names that
notebooks, tests and scripts import.
"""

from __future__ import annotations

from gluteutils.outcomes.analysis import (  # noqa: F401
    CASE_MIX,
    TABLE_ONE_COLUMNS,
    analysis_frame,
    balance_summary,
    calibration_check,
    compare_methods,
    coverage_sentence,
    followup_summary,
    primary_analysis,
    recorded_covariates,
    repeated_measures_by_condition,
    table_one_by_therapy,
    visit_frame,
)
from gluteutils.outcomes.estimators.ancova import (  # noqa: F401
    ANCOVA,
    holm_adjust,
)
from gluteutils.outcomes.estimators.base import (  # noqa: F401
    MCID_FRACTION,
    MCID_POINTS,
    METHOD_REFERENCES,
    MIN_GROUP_SIZE,
    SKIPPED_COLUMNS,
    SUMMARY_COLUMNS,
    AdjustedEstimator,
    Estimator,
    ModelError,
    NotFittedError,
    aliased_columns,
    design_matrix,
    dummy_columns,
    effects_from_fit,
    fit_groups_only,
    formula_term,
    group_label,
    prepare_frame,
    skip_record,
    split_groups,
    stack_or_error,
    treatment_term,
    usable_covariates,
)
from gluteutils.outcomes.estimators.imputation import (  # noqa: F401
    PMM_DECIMALS,
    MultipleImputation,
    StableMICEData,
    group_seed,
)
from gluteutils.outcomes.estimators.propensity import (  # noqa: F401
    PropensityWeighting,
    standardised_difference,
)
from gluteutils.outcomes.estimators.repeated_measures import (  # noqa: F401
    RepeatedMeasures,
)
from gluteutils.outcomes.estimators.responders import (  # noqa: F401
    ResponderAnalysis,
    nnt_interval,
    nnt_text,
    published_responders,
    responders,
)
from gluteutils.outcomes.estimators.survival import (  # noqa: F401
    TimeToRecovery,
)
from gluteutils.outcomes.tables import (  # noqa: F401 (test oracle)  # noqa: F401
    require_columns,
    suppress_counts,
    suppress_table_one,
    table_one,
)

__all__ = [
    "ANCOVA",
    "AdjustedEstimator",
    "CASE_MIX",
    "Estimator",
    "MCID_FRACTION",
    "MCID_POINTS",
    "METHOD_REFERENCES",
    "MIN_GROUP_SIZE",
    "ModelError",
    "MultipleImputation",
    "NotFittedError",
    "PMM_DECIMALS",
    "PropensityWeighting",
    "RepeatedMeasures",
    "ResponderAnalysis",
    "SKIPPED_COLUMNS",
    "SUMMARY_COLUMNS",
    "StableMICEData",
    "TABLE_ONE_COLUMNS",
    "TimeToRecovery",
    "aliased_columns",
    "analysis_frame",
    "balance_summary",
    "calibration_check",
    "compare_methods",
    "design_matrix",
    "dummy_columns",
    "effects_from_fit",
    "fit_groups_only",
    "followup_summary",
    "formula_term",
    "group_label",
    "group_seed",
    "holm_adjust",
    "nnt_interval",
    "nnt_text",
    "prepare_frame",
    "primary_analysis",
    "published_responders",
    "repeated_measures_by_condition",
    "require_columns",
    "responders",
    "skip_record",
    "split_groups",
    "stack_or_error",
    "standardised_difference",
    "suppress_counts",
    "suppress_table_one",
    "table_one",
    "table_one_by_therapy",
    "treatment_term",
    "usable_covariates",
    "visit_frame",
]
