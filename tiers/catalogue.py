"""The task catalogue: how to ask for a calculation by task and tier, not by engine.

The agent and the CLI build every spec here, e.g.::

    spec = make_spec("interaction_energy", [a, b], level="classical")
    spec = make_spec("energy", [m], level=3, method="PBE0-D3BJ", basis="def2-TZVP")

A *level* is a tier number (0-4) or a name: ``mmff``, ``classical``, ``xtb``,
``dft``, ``mp2``, ``ccsd(t)``.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..chem.molecule import Molecule
from .levels import LEVELS, TASK_METHODS, TIERS, Level
from .spec import CalcSpec

__all__ = ["LEVELS", "Level", "make_spec", "resolve_level"]


def resolve_level(level: int | str, method: str | None = None, basis: str | None = None,
                  engine: str | None = None) -> Level:
    """A Level from a tier number or name, with method/basis/engine overrides."""
    if isinstance(level, str) and level.isdigit():
        level = int(level)
    if isinstance(level, int):
        if level not in TIERS:
            raise ValueError(f"tier must be 0-4, got {level}")
        base = TIERS[level].level
    else:
        try:
            base = LEVELS[level.lower()]
        except KeyError:
            raise ValueError(f"unknown level {level!r}; use 0-4 or one of {', '.join(LEVELS)}") from None
    return Level(base.tier, engine or base.engine, method or base.method, basis if basis is not None else base.basis)


def make_spec(task: str, molecules: Sequence[Molecule] | Molecule, level: int | str = 0,
              method: str | None = None, basis: str | None = None, engine: str | None = None,
              **keywords: Any) -> CalcSpec:
    """A CalcSpec for ``task`` on ``molecules`` (fragments of one system) at ``level``."""
    if isinstance(molecules, Molecule):
        molecules = [molecules]
    lvl = resolve_level(level, method, basis, engine)
    if method is None:
        lvl = Level(lvl.tier, lvl.engine, TASK_METHODS.get((task, lvl.engine, lvl.method), lvl.method), lvl.basis)
    return CalcSpec(task=task, tier=lvl.tier, engine=lvl.engine, method=lvl.method,
                    basis=lvl.basis, molecules=tuple(molecules), keywords=keywords)
