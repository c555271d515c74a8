"""ipywidgets front ends. Each submodule is a thin layer over gluteutils functions.

Submodules: ``anatomy`` (muscle explorer, quiz, hip mechanics), ``triage`` (symptom wizard),
``outcomes`` (outcomes explorer). :mod:`gluteutils.widgets._base` holds the shared pieces.
"""
