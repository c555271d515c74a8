"""The synthetic outcome cohort (SYNTHETIC DATA): a short re-export of :mod:`gluteutils.synthetic`.

The generator lives in :mod:`gluteutils.synthetic.cohort`, its calibration in
``data/outcomes/calibration.csv`` (:mod:`gluteutils.synthetic.calibration`) and the shipped
files' writer in :mod:`gluteutils.synthetic.shipped`. ``gluteutils.cohort`` keeps the names
notebooks and scripts already import.
"""

from gluteutils.outcomes.io import OutcomeData
from gluteutils.synthetic.calibration import (
    ASSUMPTION,
    Parameter,
    calibration,
    calibration_table,
    read_calibration,
)
from gluteutils.synthetic.cohort import clipping_rate, generate, simulate, true_effects
from gluteutils.synthetic.shipped import SHIPPED_N_EPISODES, SHIPPED_SEED, sha256, write_cohort

__all__ = [
    "ASSUMPTION", "SHIPPED_N_EPISODES", "SHIPPED_SEED", "OutcomeData", "Parameter", "calibration",
    "calibration_table", "clipping_rate", "generate", "read_calibration", "sha256", "simulate",
    "true_effects", "write_cohort",
]
