"""Synthetic data: the seeded cohort generator and the demo clinic export (SYNTHETIC)."""

from gluteutils.synthetic.export import (
    CLINIC_DIAGNOSIS,
    CLINIC_SERVICE,
    CLINIC_SITE,
    demo_clinic_export,
)

__all__ = ["CLINIC_DIAGNOSIS", "CLINIC_SERVICE", "CLINIC_SITE", "demo_clinic_export"]
