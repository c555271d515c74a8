"""Old name of :mod:`gluteutils.notebook_setup`, kept so ``from gluteutils.notebook import
setup`` in the notebooks keeps working. (It was easy to confuse with
:mod:`gluteutils.notebooks`, which re-executes the collection's notebooks.)"""

from __future__ import annotations

from gluteutils.notebook_setup import SEED, setup

__all__ = ["SEED", "setup"]
