"""Model systems of a halogen···halogen contact, cut from the contact's own dimer geometry.

A correlated (tier 4) check of a DFT contact energy is only a check when both methods see the same
geometry: so the model is cut from the built dimer itself, atom positions unchanged, and only what is
far from the contact is replaced. Two cuts, largest first:

- ``ring``: each monomer cut to the halogen at the contact with the ring (or carbon) it sits on, other
  substituents capped with H (:func:`chem.model_systems.model_system`): 1,4-diiodobenzene -> iodobenzene;
- ``methyl``: the contact halogen's carbon made a methyl (its other neighbours replaced by three H at
  1.09 Å, tetrahedral about the kept C-X axis): 1,4-diiodobenzene -> iodomethane. The C-X bond keeps
  the parent's length (aryl C-I 2.10 Å rather than CH3I's 2.14), so the contact (X···X distance, both
  C-X···X angles) is exactly the parent's.

Halomethanes and halobenzenes are the standard small models of halogen contacts: X40 (Řezáč, Riley &
Hobza, J. Chem. Theory Comput. 8, 4285 (2012)) computes its CCSD(T)/CBS references on CH3X and C6H5X
complexes for that reason.
"""

from __future__ import annotations

import numpy as np

from .dimers import find_halogen
from .elements import SIGMA_HOLE_HALOGENS
from .errors import MoleculeError
from .model_systems import model_system
from .molecule import Molecule

MODEL_KINDS = ("ring", "methyl")  # largest first
METHYL_CH = 1.09  # Å
TETRAHEDRAL = np.radians(109.4712)


def contact_halogens(a: Molecule, b: Molecule) -> tuple[int, int, float]:
    """(i in a, j in b, distance Å) of the closest pair of C-bound Cl/Br/I across the two monomers."""
    best = None
    for i in _carbon_bound_halogens(a):
        for j in _carbon_bound_halogens(b):
            d = float(np.linalg.norm(a.coords[i] - b.coords[j]))
            if best is None or d < best[2]:
                best = (i, j, d)
    if best is None:
        raise MoleculeError(f"{a.label} + {b.label}: no C-bound Cl, Br or I on both sides: no halogen contact")
    return best


def _carbon_bound_halogens(m: Molecule) -> list[int]:
    nbrs = m.neighbours()
    return [i for i, s in enumerate(m.symbols) if s in SIGMA_HOLE_HALOGENS
            and len(nbrs[i]) == 1 and m.symbols[nbrs[i][0]] == "C"]


def methyl_halide_model(molecule: Molecule, halogen: int | None = None, name: str | None = None) -> Molecule:
    """CH3-X with X and its carbon where they are in ``molecule`` and three H at 1.09 Å, H-C-X 109.47°,
    one of them eclipsing the carbon's first other neighbour (a deterministic choice)."""
    x, c = find_halogen(molecule, halogen)
    xyz = molecule.coords
    u = (xyz[x] - xyz[c]) / np.linalg.norm(xyz[x] - xyz[c])
    others = [n for n in molecule.neighbours()[c] if n != x]
    ref = xyz[others[0]] - xyz[c] if others else np.cross(u, [1.0, 0.0, 0.0])
    w = ref - np.dot(ref, u) * u
    if np.linalg.norm(w) < 1e-6:  # a linear neighbour (an alkyne carbon): any perpendicular will do
        w = np.cross(u, [0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.cross(u, [1.0, 0.0, 0.0])
    w /= np.linalg.norm(w)
    v = np.cross(u, w)
    hs = [xyz[c] + METHYL_CH * (np.cos(TETRAHEDRAL) * u + np.sin(TETRAHEDRAL) * (np.cos(p) * w + np.sin(p) * v))
          for p in np.radians([0.0, 120.0, 240.0])]
    symbol = molecule.symbols[x]
    label = name or f"CH3{symbol} (model of {molecule.label})"
    return Molecule(name=label, symbols=("C", symbol, "H", "H", "H"),
                    coords_angstrom=[xyz[c], xyz[x], *hs], bonds=tuple((0, k, 1) for k in range(1, 5)))


def ring_halide_model(molecule: Molecule, halogen: int | None = None, name: str | None = None) -> Molecule:
    """The halogen with the ring system (or carbon) it sits on, the rest capped with H, atoms in place."""
    x, c = find_halogen(molecule, halogen)
    return model_system(molecule, [x, c], name=name or f"{molecule.label} (model: {molecule.symbols[x]} and its ring)")


def contact_model(a: Molecule, b: Molecule, kind: str = "ring") -> tuple[Molecule, Molecule]:
    """The two monomers of the X···X contact dimer (a, b) cut to the model ``kind`` ("ring" or "methyl"),
    each keeping the halogen at the contact, with every kept atom where it was."""
    if kind not in MODEL_KINDS:
        raise MoleculeError(f"unknown contact model {kind!r}; known: {', '.join(MODEL_KINDS)}")
    i, j, _ = contact_halogens(a, b)
    cut = ring_halide_model if kind == "ring" else methyl_halide_model
    return cut(a, i), cut(b, j)
