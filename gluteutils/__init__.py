"""gluteutils: the helper package behind the Glute Notebooks collection.

Modules follow the collection's three audiences:

* anatomy, mechanics - the glute muscles on real bone geometry and their moment arms
  (students);
* triage - the symptom questionnaire: red flags first, ranked causes, self-care, service
  (people working through symptoms with a clinician);
* cohort, outcomes, privacy - synthetic and clinic outcome data: validate, anonymise,
  analyse (clinicians and researchers);
* plots, widgets - plotly figure builders and ipywidgets front ends over the above;
* references - the reference list every fact shown to a user points into;
* cli - ``gluteutils ...`` on the command line.

Submodules are imported lazily so ``import gluteutils`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
