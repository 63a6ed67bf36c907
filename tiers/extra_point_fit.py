"""Fitting the sigma-hole extra point of GAFF2-EP to a quantum-mechanical electrostatic potential.

GAFF2-EP (:mod:`tiers.classical`) moves a charge ``q`` from each C-bound Cl, Br, I onto a massless site
at distance ``d`` beyond the halogen on the C-X axis. For one halogen element, given molecules with
their force-field charges and a reference ESP on Merz-Kollman points (``properties`` with
``keep_esp_points``), this finds the ``(d, q)`` that make the force field's potential closest to the
reference on the points that belong to the halogens (nearest to one in units of its vdW radius): for each
``d`` of a grid the model is linear in ``q``, so ``q`` is the least-squares solution in closed form, and
the ``d`` with the smallest residual wins. The other atoms keep their charges (the scheme changes the
halogen only), so what the fit removes is the error the point-charge halogen makes around itself.

Or to reference interaction energies of rigid dimers (:func:`fit_extra_point_to_energies`): the monomers
keep their geometry in the dimer, so the extra point changes only the intermolecular Coulomb energy
(it has no Lennard-Jones term), and the GAFF2-EP interaction energy is the plain GAFF2 one plus that
change, in closed form (:func:`extra_point_shift`). The ``(d, q)`` of a grid with the smallest squared
error wins; leave-one-out refits say how well it predicts a dimer it was not fitted to.
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
CHARGE_GRID_E = tuple(np.round(np.arange(0.0, 0.3001, 0.0025), 4))


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


@dataclass(frozen=True)
class EnergySample:
    """One rigid dimer: its fragments with their force-field charges (e), the reference interaction
    energy and the plain force field's (kcal/mol, negative = bound)."""

    name: str
    fragments: tuple[Molecule, ...]
    charges: tuple[np.ndarray, ...]
    reference_kcal_mol: float
    plain_kcal_mol: float


@dataclass(frozen=True)
class EnergyFit:
    """The extra point for one halogen fitted to interaction energies, and how well it does."""

    halogen: str
    distance_angstrom: float
    charge_e: float
    mae_plain_kcal_mol: float
    mae_fitted_kcal_mol: float
    mae_leave_one_out_kcal_mol: float  # each dimer predicted by a fit to the others
    names: tuple[str, ...]


def _charged_sites(sample: EnergySample, params: dict[str, tuple[float, float]]):
    """Per fragment: (sites Å, charges e) with the extra points of ``params`` placed and their charge
    taken from the halogen."""
    out = []
    for mol, q in zip(sample.fragments, sample.charges):
        sites, charges = [mol.coords], np.array(q, float)
        for c, x, *_ in halogen_extra_point_sites([mol]):
            if mol.symbols[x] in params:
                d, q_ep = params[mol.symbols[x]]
                axis = (mol.coords[x] - mol.coords[c]) / np.linalg.norm(mol.coords[x] - mol.coords[c])
                sites.append((mol.coords[x] + d * axis)[None, :])
                charges[x] -= q_ep
                charges = np.append(charges, q_ep)
        out.append((np.vstack(sites), charges))
    return out


def _intermolecular_coulomb_kcal(parts) -> float:
    e = 0.0
    for i, (s_i, q_i) in enumerate(parts):
        for s_j, q_j in parts[i + 1:]:
            e += float(q_i @ point_charge_potential(q_j, s_j, s_i))
    return e * KCAL_PER_HARTREE


def extra_point_shift(sample: EnergySample, params: dict[str, tuple[float, float]]) -> float:
    """GAFF2-EP minus GAFF2 interaction energy (kcal/mol) of a rigid dimer with extra points ``params``
    (element -> (d Å, q e)): the change of the intermolecular Coulomb energy."""
    return _intermolecular_coulomb_kcal(_charged_sites(sample, params)) - \
        _intermolecular_coulomb_kcal(_charged_sites(sample, {}))


def _has_site(sample: EnergySample, halogen: str) -> bool:
    return any(m.symbols[x] == halogen for m in sample.fragments for _, x, *_ in halogen_extra_point_sites([m]))


def _grid_errors(samples: Sequence[EnergySample], halogen: str, distances, charges) -> np.ndarray:
    """errors[k, i, j]: sample k's GAFF2-EP minus reference at distances[i], charges[j]."""
    out = np.empty((len(samples), len(distances), len(charges)))
    for k, s in enumerate(samples):
        base = s.plain_kcal_mol - s.reference_kcal_mol
        for i, d in enumerate(distances):
            # quadratic in q (an extra point on each fragment meets the other's): three points fix it
            e = [extra_point_shift(s, {halogen: (d, q)}) for q in (0.0, 0.1, 0.2)]
            a, b = (e[2] - 2 * e[1] + e[0]) / 0.02, (4 * e[1] - e[2] - 3 * e[0]) / 0.2
            out[k, i] = base + b * np.asarray(charges) + a * np.asarray(charges) ** 2
    return out


def fit_extra_point_to_energies(samples: Sequence[EnergySample], halogen: str,
                                distances: Sequence[float] = DISTANCE_GRID_ANGSTROM,
                                charges: Sequence[float] = CHARGE_GRID_E) -> EnergyFit:
    """The ``(d, q)`` for ``halogen`` with the least squared error against the samples' references."""
    mine = [s for s in samples if _has_site(s, halogen)]
    if not mine:
        raise ValueError(f"no dimer with a C-bound {halogen} in the samples")
    err = _grid_errors(mine, halogen, distances, charges)

    def best(rows) -> tuple[int, int]:
        sse = (err[rows] ** 2).sum(axis=0)
        i, j = np.unravel_index(int(np.argmin(sse)), sse.shape)
        return int(i), int(j)

    n = len(mine)
    i, j = best(list(range(n)))
    loo = [abs(err[(k, *best([r for r in range(n) if r != k]))]) for k in range(n)] if n > 1 else []
    return EnergyFit(halogen, float(distances[i]), float(charges[j]),
                     float(np.mean([abs(s.plain_kcal_mol - s.reference_kcal_mol) for s in mine])),
                     float(np.mean(np.abs(err[:, i, j]))), float(np.mean(loo)) if loo else float("nan"),
                     tuple(s.name for s in mine))
