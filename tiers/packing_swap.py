"""A molecule in another molecule's packing, as energies: the swap experiment.

Would the target pack like its analogs if it could? :func:`swap_energy` puts a molecule at
every molecular site of another member's crystal (:func:`tierchem.chem.crystal.swap_into_packing`:
superposed on each site's common skeleton, the cell scaled by the ratio of van der Waals
volumes), and the same molecule in its own crystal (the same way, cell unscaled), and relaxes
both alike
(:func:`packing_energy`): the atoms in a fixed cell (the ``lattice_energy`` task,
``relax='positions'``) at cells scaled isotropically in steps of :data:`SCALE_STEP` of their
lengths, walking downhill from the start until the energy rises; the lowest cell computed is the
result (every number is a stored calculation; no fitted minimum). The penalty

    ΔE_swap = E_cell/Z (molecule in the other packing) - E_cell/Z (molecule in its own)

is per molecule, kcal/mol, positive when the molecule prefers its own packing. It compares one
molecule with itself under one Hamiltonian, so the gas-phase reference cancels. At the classical
tier the cell energy's Coulomb part is kept too (``coulomb_cell_energy_kcal_mol``), so the penalty
splits into an electrostatic part and the rest (van der Waals and intramolecular strain): a
steric misfit shows in the rest.

At tier 2 (GFN1-xTB, minutes a cell) :func:`swap_energies` takes the cells the classical walk chose.

Only the cell's size relaxes, not its shape (anisotropic relaxation would need stresses the
engines here do not give); a misfit the relaxed positions cannot absorb stays in the penalty,
which is then an upper bound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..chem.crystal import swap_into_packing
from ..chem.molecule import Molecule
from .crystal_energies import CrystalLevel, crystal_level
from .executors import make_executor
from .store import ResultStore

log = logging.getLogger(__name__)

SCALE_STEP = 0.02        # isotropic cell-length step of the volume walk (2 %: ~6 % in volume)
MAX_SCALE_STEPS = 4      # steps downhill each way before giving up (the edge is then said)


@dataclass
class PackingEnergy:
    """One molecule's relaxed energy in one packing at one level (kcal/mol per molecule)."""

    molecule: str
    packing: str                          # the crystal whose packing it is in
    method: str
    tier: int
    scale: float                          # the chosen cell's lengths / the starting cell's
    cell_energy_kcal_mol: float           # E_cell / Z at that cell, atoms relaxed
    lattice_energy_kcal_mol: float        # the lattice_energy task's value there (relaxed gas molecule)
    coulomb_kcal_mol: float | None        # the cell energy's Coulomb part per molecule (classical tier)
    scan: list[tuple[float, float]]       # (scale, E_cell/Z) for every cell computed
    cache_key: str | None                 # the stored result at the chosen cell
    warnings: list[str] = field(default_factory=list)


@dataclass
class SwapEnergy:
    """A molecule in another member's packing against itself in its own."""

    swapped: PackingEnergy
    own: PackingEnergy

    @property
    def penalty_kcal_mol(self) -> float:
        return self.swapped.cell_energy_kcal_mol - self.own.cell_energy_kcal_mol

    @property
    def coulomb_penalty_kcal_mol(self) -> float | None:
        if self.swapped.coulomb_kcal_mol is None or self.own.coulomb_kcal_mol is None:
            return None
        return self.swapped.coulomb_kcal_mol - self.own.coulomb_kcal_mol


def scaled_packing(molecules: list[Molecule], cell: np.ndarray, factor: float) -> tuple[list[Molecule], np.ndarray]:
    """The cell's lengths times ``factor``, each molecule moved rigidly with its centroid (its
    fractional position kept)."""
    cell = np.asarray(cell, float)
    moved = []
    for m in molecules:
        centroid = m.coords.mean(0)
        moved.append(m.with_coords(m.coords + (factor - 1.0) * centroid))  # frac(c) @ (f cell) = f c
    return moved, cell * factor


def packing_energy(molecules: list[Molecule], cell: np.ndarray, level: CrystalLevel | str = "classical",
                   store: ResultStore | None = None, molecule: str = "", packing: str = "",
                   scales: tuple[float, ...] | None = None) -> PackingEnergy:
    """The lowest E_cell/Z over isotropically scaled cells (atoms relaxed in each), found by walking
    downhill from the cell given in :data:`SCALE_STEP` steps; or over ``scales`` only when given
    (e.g. the scale a cheaper level chose)."""
    lv = level if isinstance(level, CrystalLevel) else crystal_level(level)
    results: dict[float, object] = {}
    with make_executor("local", store) as ex:
        def at(s: float) -> float:
            s = round(s, 4)
            if s not in results:
                mols, c = scaled_packing(molecules, cell, s)
                spec = lv.spec("lattice_energy", mols, cell_angstrom=c.tolist(), relax="positions")
                r = ex.map([spec])[0]
                if not r.success:
                    raise RuntimeError(f"{molecule or spec.label} in {packing or 'its cell'} at scale {s:g}: "
                                       f"{r.error.message}")
                results[s] = r
            r = results[s]
            return r.values["cell_energy_kcal_mol"] / r.values["z"]

        if scales:
            for s in scales:
                at(s)
        else:
            _walk_downhill(at)
    best = min(results, key=lambda s: results[s].values["cell_energy_kcal_mol"] / results[s].values["z"])
    r = results[best]
    z = r.values["z"]
    warnings = list(r.warnings)
    if not scales and best in (min(results), max(results)) and len(results) > 2:
        warnings.append(f"the lowest cell is at the edge of the walk (scale {best:g}): the penalty is an upper bound")
    coulomb = r.values.get("coulomb_cell_energy_kcal_mol")
    return PackingEnergy(molecule, packing, lv.label, lv.tier, best, r.values["cell_energy_kcal_mol"] / z,
                         r.values["lattice_energy_kcal_mol"], None if coulomb is None else coulomb / z,
                         sorted((s, rr.values["cell_energy_kcal_mol"] / z) for s, rr in results.items()),
                         r.cache_key, warnings)


def _walk_downhill(energy_at) -> None:
    """Evaluate ``energy_at`` at 1 and 1 ± step, then keep stepping the way it falls until it rises."""
    e0, up, down = energy_at(1.0), energy_at(1.0 + SCALE_STEP), energy_at(1.0 - SCALE_STEP)
    if min(up, down) >= e0:
        return
    sign = 1.0 if up < down else -1.0
    current, e = 1.0 + sign * SCALE_STEP, min(up, down)
    for _ in range(MAX_SCALE_STEPS - 1):
        nxt = current + sign * SCALE_STEP
        e_next = energy_at(nxt)
        if e_next >= e:
            return
        current, e = nxt, e_next


def swap_energy(molecule: Molecule, own_crystal, other_crystal, level: CrystalLevel | str = "classical",
                store: ResultStore | None = None, own: PackingEnergy | None = None,
                scales: tuple[float, ...] | None = None, own_scales: tuple[float, ...] | None = None) -> SwapEnergy:
    """``molecule`` in ``other_crystal``'s packing (swapped in, relaxed) against itself in
    ``own_crystal`` (pass ``own`` when already computed). Both arms place the same ``molecule`` on
    the sites, its own crystal's cell unscaled, so both have one set of force-field parameters
    (AM1-BCC charges are kept per atom order, and a CIF's order is not the SMILES')."""
    name = molecule.label
    if own is None:
        own_sites, own_cell = swap_into_packing(own_crystal, molecule, scale_cell=False)
        own = packing_energy(own_sites, own_cell, level, store, name, own_crystal.name, own_scales)
    placed, cell = swap_into_packing(other_crystal, molecule)
    log.info("%s in %s's packing: %d sites, cell scaled by %.3f", name, other_crystal.name, len(placed),
             float(np.cbrt(abs(np.linalg.det(cell) / np.linalg.det(other_crystal.cell_matrix)))))
    swapped = packing_energy(placed, cell, level, store, name, other_crystal.name, scales)
    return SwapEnergy(swapped, own)


def swap_energies(molecule: Molecule, own_crystal, other_crystal, levels=("classical",),
                  store: ResultStore | None = None) -> dict[str, SwapEnergy]:
    """:func:`swap_energy` at each level (by name). The classical tier walks the cell's size; a
    costlier level (xTB: minutes a cell) takes the cells the classical walk chose."""
    out: dict[str, SwapEnergy] = {}
    walked = None
    for name in sorted(levels, key=lambda lv: crystal_level(lv).tier):
        lv = crystal_level(name)
        if lv.tier == 1 or walked is None:
            out[name] = swap_energy(molecule, own_crystal, other_crystal, lv, store)
            walked = walked or out[name]
        else:
            out[name] = swap_energy(molecule, own_crystal, other_crystal, lv, store, scales=(walked.swapped.scale,),
                                    own_scales=(walked.own.scale,))
    return out
