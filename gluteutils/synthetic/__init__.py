"""Synthetic data (SYNTHETIC: no real patient): the seeded cohort generator, its calibration
(``data/outcomes/calibration.csv``), the shipped cohort's writer and the demo clinic export."""

from gluteutils.synthetic.calibration import calibration_table, read_calibration
from gluteutils.synthetic.cohort import clipping_rate, generate, true_effects
from gluteutils.synthetic.export import (
    CLINIC_DIAGNOSIS,
    CLINIC_SERVICE,
    CLINIC_SITE,
    demo_clinic_export,
)
from gluteutils.synthetic.shipped import SHIPPED_N_EPISODES, SHIPPED_SEED, write_cohort

__all__ = ["CLINIC_DIAGNOSIS", "CLINIC_SERVICE", "CLINIC_SITE", "SHIPPED_N_EPISODES",
           "SHIPPED_SEED", "calibration_table", "clipping_rate", "demo_clinic_export",
           "generate", "read_calibration", "true_effects", "write_cohort"]
