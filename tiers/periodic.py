"""Periodic cells for the lattice-energy task: orientation, supercells, and the recipe.

A lattice-energy spec carries the Z molecules of one cell (whole, as read from a
CIF) and ``keywords['cell_angstrom']`` (rows a, b, c in Å). The lattice energy
per molecule is

    E_latt = [E(cell) - sum_i E_gas(molecule_i, relaxed)] / Z

negative when the crystal is bound (X23's references are -E_latt).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..chem.molecule import Molecule
from .errors import InputError

DEFAULT_RELAX = "positions"  # lattice_energy: atoms relax in the fixed cell ("none": as given)
RELAX_MODES = ("positions", "none")


def cell_from_keywords(keywords: dict) -> np.ndarray:
    cell = keywords.get("cell_angstrom")
    if cell is None:
        raise InputError("lattice_energy needs keywords={'cell_angstrom': [[ax, ay, az], [bx, by, bz], [cx, cy, cz]]}")
    cell = np.asarray(cell, dtype=float)
    if cell.shape != (3, 3) or abs(np.linalg.det(cell)) < 1.0:
        raise InputError(f"cell_angstrom must be three non-coplanar lattice vectors (3x3), got shape {cell.shape}")
    return cell


def standard_orientation(cell: np.ndarray, fragments: Sequence[Molecule]) -> tuple[np.ndarray, list[Molecule]]:
    """Rotate cell and molecules so a lies along x and b in the xy plane (lower-triangular
    cell, the orientation OpenMM and parmed expect). Fractional coordinates are kept."""
    a, b, c = (float(np.linalg.norm(v)) for v in cell)
    alpha = math.acos(np.dot(cell[1], cell[2]) / (b * c))
    beta = math.acos(np.dot(cell[0], cell[2]) / (a * c))
    gamma = math.acos(np.dot(cell[0], cell[1]) / (a * b))
    cx = c * math.cos(beta)
    cy = c * (math.cos(alpha) - math.cos(beta) * math.cos(gamma)) / math.sin(gamma)
    std = np.array([[a, 0.0, 0.0],
                    [b * math.cos(gamma), b * math.sin(gamma), 0.0],
                    [cx, cy, math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))]])
    to_frac = np.linalg.inv(cell)
    moved = [m.with_coords(m.coords @ to_frac @ std) for m in fragments]
    return std, moved


def perpendicular_widths(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell (Å)."""
    volume = abs(np.linalg.det(cell))
    a, b, c = cell
    return np.array([volume / np.linalg.norm(np.cross(b, c)),
                     volume / np.linalg.norm(np.cross(c, a)),
                     volume / np.linalg.norm(np.cross(a, b))])


def supercell_repeats(cell: np.ndarray, min_width: float) -> tuple[int, int, int]:
    """The smallest n_a x n_b x n_c supercell whose face-to-face widths all reach ``min_width``."""
    return tuple(max(1, int(math.ceil(min_width / w - 1e-9))) for w in perpendicular_widths(cell))


def image_shifts(cell: np.ndarray, repeats: tuple[int, int, int]) -> np.ndarray:
    """The lattice translations (Å) of the cell's images in the supercell, in ``replicate``'s order."""
    grid = np.array([(i, j, k) for i in range(repeats[0]) for j in range(repeats[1]) for k in range(repeats[2])],
                    float)
    return grid @ np.asarray(cell, float)


def replicate(fragments: Sequence[Molecule], cell: np.ndarray, repeats: tuple[int, int, int]) -> list[Molecule]:
    """The fragments of every image of the cell in the supercell, image by image."""
    return [m.with_coords(m.coords + shift) for shift in image_shifts(cell, repeats) for m in fragments]


def unique_molecules(fragments: Sequence[Molecule]) -> dict[str, tuple[Molecule, int]]:
    """Each distinct molecule (by InChIKey) of the cell, with its count."""
    out: dict[str, tuple[Molecule, int]] = {}
    for m in fragments:
        key = m.inchikey
        out[key] = (out[key][0], out[key][1] + 1) if key in out else (m, 1)
    return out
