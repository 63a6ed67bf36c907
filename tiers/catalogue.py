"""The task catalogue: how to ask for a calculation by task and tier, not by engine.

The agent and the CLI build every spec here, e.g.::

    spec = make_spec("interaction_energy", [a, b], level="classical")
    spec = make_spec("energy", [m], level=3, method="PBE0-D3BJ", basis="def2-TZVP")

A *level* is a tier number (0-4) or a name: ``mmff``, ``classical``, ``xtb``,
``dft``, ``mp2``, ``ccsd(t)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..chem.molecule import Molecule
from .harness import DEFAULT_ENGINE
from .spec import CalcSpec


@dataclass(frozen=True)
class Level:
    tier: int
    engine: str
    method: str
    basis: str | None = None


LEVELS: dict[str, Level] = {
    "mmff": Level(0, "rdkit", "MMFF94"),
    "classical": Level(1, "openmm", "GAFF2/AM1-BCC"),
    "xtb": Level(2, "xtb", "GFN2-xTB"),
    "dft": Level(3, "pyscf", "B3LYP-D3BJ", "def2-SVP"),
    "mp2": Level(4, "pyscf-cc", "DF-MP2", "def2-SVP"),
    "ccsd(t)": Level(4, "pyscf-cc", "CCSD(T)", "def2-SVP"),
}
# A level's default method replaced for one task: (task, engine, method) -> method.
TASK_METHODS = {
    # periodic GFN2-xTB in tblite 0.8 underbinds X23 (MSE +3.9 kcal/mol on 11 crystals vs +1.5 for
    # GFN1-xTB, MAE 3.9 vs 2.2; GFN1 MAE 2.65 on all 22): GFN1 unless GFN2 is asked for by name
    ("lattice_energy", "xtb", "GFN2-xTB"): "GFN1-xTB",
}
_BY_TIER = {lvl.tier: lvl for lvl in reversed(list(LEVELS.values()))}


def resolve_level(level: int | str, method: str | None = None, basis: str | None = None,
                  engine: str | None = None) -> Level:
    """A Level from a tier number or name, with method/basis/engine overrides."""
    if isinstance(level, str) and level.isdigit():
        level = int(level)
    if isinstance(level, int):
        if level not in _BY_TIER:
            raise ValueError(f"tier must be 0-4, got {level}")
        base = _BY_TIER[level]
    else:
        try:
            base = LEVELS[level.lower()]
        except KeyError:
            raise ValueError(f"unknown level {level!r}; use 0-4 or one of {', '.join(LEVELS)}") from None
    return Level(base.tier, engine or base.engine or DEFAULT_ENGINE[base.tier],
                 method or base.method, basis if basis is not None else base.basis)


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
