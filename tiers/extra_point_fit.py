"""Fitting the sigma-hole extra point of GAFF2-EP to a quantum-mechanical electrostatic potential.

GAFF2-EP (:mod:`tiers.classical`) moves a charge ``q`` from each C-bound Cl, Br, I onto a massless site
at distance ``d`` beyond the halogen on the C-X axis. For one halogen element, given molecules with
their force-field charges and a reference ESP on Merz-Kollman points (``properties`` with
``keep_esp_points``), this finds the ``(d, q)`` that make the force field's potential closest to the
reference on the points that belong to the halogens (nearest to one in units of its vdW radius): for each
``d`` of a grid the model is linear in ``q``, so ``q`` is the least-squares solution in closed form, and
the ``d`` with the smallest residual wins. The other atoms keep their charges (the scheme changes the
halogen only), so what the fit removes is the error the point-charge halogen makes around itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..chem.elements import bondi_vdw_radius
from ..chem.molecule import Molecule
from .classical import halogen_extra_point_sites
from .harness import KCAL_PER_HARTREE
from .pyscf_common import BOHR_PER_ANGSTROM

DISTANCE_GRID_ANGSTROM = tuple(np.round(np.arange(0.80, 2.801, 0.02), 2))


@dataclass(frozen=True)
class EspSample:
    """One molecule: its force-field charges (e) and a reference ESP (Eh/e) at points (Å)."""

    molecule: Molecule
    charges: np.ndarray
    points_angstrom: np.ndarray
    potential_au: np.ndarray


@dataclass(frozen=True)
class ExtraPointFit:
    """The best extra point for one halogen, and how much it mends the potential around it."""

    halogen: str
    distance_angstrom: float
    charge_e: float
    rms_plain_kcal_mol: float  # RMS error of V near the halogens with the plain charges (kcal/mol/e)
    rms_fitted_kcal_mol: float  # ... with the extra point
    n_points: int
    molecules: tuple[str, ...]


def point_charge_potential(charges: np.ndarray, sites_angstrom: np.ndarray, points_angstrom: np.ndarray) -> np.ndarray:
    """V (Eh/e) of point charges (e) at ``sites_angstrom``, at each of ``points_angstrom``."""
    r = np.linalg.norm(points_angstrom[:, None, :] - sites_angstrom[None, :, :], axis=2) * BOHR_PER_ANGSTROM
    return (np.asarray(charges, float)[None, :] / r).sum(axis=1)


def _halogen_terms(sample: EspSample, halogen: str):
    """Per site of ``halogen``: the points that belong to it, and the data the fit needs there."""
    mol, pts = sample.molecule, np.asarray(sample.points_angstrom, float)
    radii = np.array([bondi_vdw_radius(s) for s in mol.symbols])
    owner = np.argmin(np.linalg.norm(pts[:, None, :] - mol.coords[None, :, :], axis=2) / radii[None, :], axis=1)
    # reference minus plain force field
    residual = np.asarray(sample.potential_au, float) - point_charge_potential(sample.charges, mol.coords, pts)
    terms = []
    for c, x, *_ in halogen_extra_point_sites([mol]):
        if mol.symbols[x] != halogen:
            continue
        mine = owner == x
        axis = (mol.coords[x] - mol.coords[c]) / np.linalg.norm(mol.coords[x] - mol.coords[c])
        terms.append((pts[mine], residual[mine], mol.coords[x], axis))
    return terms


def fit_extra_point(samples: Sequence[EspSample], halogen: str,
                    distances: Sequence[float] = DISTANCE_GRID_ANGSTROM) -> ExtraPointFit:
    """The ``(d, q)`` for ``halogen`` that best reproduces the samples' reference ESP around it."""
    per_sample = [(s.molecule.label, _halogen_terms(s, halogen)) for s in samples]
    terms = [t for _, ts in per_sample for t in ts]
    if not terms:
        raise ValueError(f"no C-bound {halogen} in the samples")
    res_all = np.concatenate([r for _, r, _, _ in terms])
    best = None
    for d in distances:
        # V_EP - V_plain = q (1/|p - EP| - 1/|p - X|): linear in q
        basis = np.concatenate([1.0 / (np.linalg.norm(p - (x + d * a), axis=1) * BOHR_PER_ANGSTROM)
                                - 1.0 / (np.linalg.norm(p - x, axis=1) * BOHR_PER_ANGSTROM)
                                for p, _, x, a in terms])
        q = float(basis @ res_all / (basis @ basis))
        sse = float(((res_all - q * basis) ** 2).sum())
        if best is None or sse < best[0]:
            best = (sse, float(d), q)
    sse, d, q = best
    return ExtraPointFit(halogen, d, q, float(np.sqrt(np.mean(res_all ** 2))) * KCAL_PER_HARTREE,
                         float(np.sqrt(sse / len(res_all))) * KCAL_PER_HARTREE, int(len(res_all)),
                         tuple(label for label, ts in per_sample if ts))
