"""Disclosure control: the bottom of the house (imports only :mod:`gluteutils.errors`).

* :mod:`~gluteutils.privacy.policy` - :data:`POLICY`, the one rule for every published view;
* :mod:`~gluteutils.privacy.suppression` - small-cell suppression, complementary cells
  chosen by the audit;
* :mod:`~gluteutils.privacy.audit` - the margin attack as integer programs: proves each
  released table protects every hidden cell;
* :mod:`~gluteutils.privacy.rounding` - rounding to 5, coarsened Kaplan-Meier counts, means
  rounded so they do not give their denominator back;
* :mod:`~gluteutils.privacy.families` - secondary suppression across a family of rounded
  counts (every filter view of one group), audited by integer programs;
* :mod:`~gluteutils.privacy.kanon` - k-anonymity over declared quasi-identifiers;
* :mod:`~gluteutils.privacy.sequences` - visit-day sequences coarsened until none is rare;
* :mod:`~gluteutils.privacy.labels` - one mask format, one ``"<5"`` / ``"n.p."`` labelling.

The pipeline step that anonymises a clinic export is
:func:`gluteutils.outcomes.anonymise.anonymise` (it needs the outcome data layer);
the synthetic export with planted identifiers is
:func:`gluteutils.synthetic.export.demo_clinic_export`.
"""

from gluteutils.privacy.audit import audit_table, is_protected
from gluteutils.privacy.kanon import (
    DEFAULT_K,
    MISSING_LABEL,
    enforce_k_anonymity,
    equivalence_classes,
    k_anonymity,
)
from gluteutils.privacy.labels import NOT_PUBLISHED, label, labelled, mask_attr, small_label
from gluteutils.privacy.policy import POLICY, Policy
from gluteutils.privacy.rounding import coarsen_km, round_counts
from gluteutils.privacy.suppression import complementary_mask, suppress_small_cells

__all__ = ["DEFAULT_K", "MISSING_LABEL", "NOT_PUBLISHED", "POLICY", "Policy", "audit_table",
           "coarsen_km", "complementary_mask", "enforce_k_anonymity", "equivalence_classes",
           "is_protected", "k_anonymity", "label", "labelled", "mask_attr", "round_counts",
           "small_label", "suppress_small_cells"]
