"""The outcome estimators, one per file (lifelines style): configure in ``__init__``, call
``fit(df)`` (returns ``self``), read ``summary_`` (rows with their confidence intervals) and
``skipped_`` (groups left out, and why). Shared parts live in :mod:`.base`.

Names load on first use (PEP 562), so importing one light module of the package (e.g. the
responder rule for the explorer) does not import statsmodels' model zoo.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "ANCOVA": "ancova", "holm_adjust": "ancova", "ModelError": "base",
    "NotFittedError": "base", "MultipleImputation": "imputation",
    "StableMICEData": "imputation", "PropensityWeighting": "propensity",
    "RepeatedMeasures": "repeated_measures", "ResponderAnalysis": "responders",
    "TimeToRecovery": "survival",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
