"""A molecule in another molecule's packing, as energies: the swap experiment.

Would the target pack like its analogs if it could? :func:`swap_energy` puts a molecule at
every molecular site of another member's crystal (:func:`tierchem.chem.crystal.swap_into_packing`:
superposed on each site's common skeleton, the cell scaled by the ratio of van der Waals
volumes), and the same molecule in its own crystal (the same way, cell unscaled), and relaxes
both alike (:func:`packing_energy`): the atoms in a fixed cell (the ``lattice_energy`` task,
``relax='positions'``) at cells scaled isotropically in steps of :data:`SCALE_STEP` of their
lengths, walking downhill from the start until the energy rises; at each cell the lowest of
:data:`N_STARTS` relaxations (the start and seeded rigid-body jitters of it); the lowest cell computed
is the result (every number is a stored calculation; no fitted minimum). The penalty

    ΔE_swap = E_cell/Z (molecule in the other packing) - E_cell/Z (molecule in its own)

is per molecule, kcal/mol, positive when the molecule prefers its own packing. It compares one
molecule with itself under one Hamiltonian, so the gas-phase reference cancels. At the classical
tier the cell energy's Coulomb part is kept too (``coulomb_cell_energy_kcal_mol``), so the penalty
splits into an electrostatic part and the rest (van der Waals and intramolecular strain): a
steric misfit shows in the rest.

At tier 2 (GFN1-xTB, minutes a cell) :func:`swap_energies` relaxes once, from the cells and geometries
the classical walk chose.

Measured here (X23 CIFs; `tierchem crystal naphthalene.cif --swap benzene.cif -t classical -t xtb`
does the same): naphthalene in benzene's packing +1.47 kcal/mol per molecule at GAFF2/AM1-BCC and +1.28
at GFN1-xTB from the same cell (190 s for both on a loaded core); benzene in naphthalene's +3.0 at GAFF2.

Only the cell's size relaxes, not its shape (anisotropic relaxation would need stresses the
engines here do not give); a misfit the relaxed positions cannot absorb stays in the penalty,
which is then an upper bound.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from ..chem.crystal import swap_into_packing
from ..chem.geometry import axis_rotation
from ..chem.molecule import Molecule
from .crystal_energies import CrystalLevel, crystal_level
from .executors import make_executor
from .periodic import standard_orientation
from .store import ResultStore

log = logging.getLogger(__name__)

SCALE_STEP = 0.02        # isotropic cell-length step of the volume walk (2 %: ~6 % in volume)
MAX_SCALE_STEPS = 4      # steps downhill each way before giving up (the edge is then said)
# A swapped-in packing starts crowded (naphthalene in benzene's: +80 kcal/mol per molecule before
# relaxing), and one local minimisation from there lands in a basin that the last bits decide: the same
# spec relaxed to -12.30 and to -10.44 kcal/mol per molecule in two runs here. The lowest of a few
# seeded rigid-body jitters of the start is a steadier estimate of the packing's relaxed energy.
N_STARTS = 3
JITTER_DEGREES = 10.0
JITTER_ANGSTROM = 0.2


@dataclass
class PackingEnergy:
    """One molecule's relaxed energy in one packing at one level (kcal/mol per molecule)."""

    molecule: str
    packing: str                          # the crystal whose packing it is in
    method: str
    tier: int
    scale: float                          # the chosen cell's lengths / the starting cell's
    cell_energy_kcal_mol: float           # E_cell / Z at that cell, atoms relaxed
    coulomb_kcal_mol: float | None        # the cell energy's Coulomb part per molecule (classical tier)
    scan: list[tuple[float, float]]       # (scale, E_cell/Z) for every cell computed
    cache_key: str | None                 # the stored result at the chosen cell
    warnings: list[str] = field(default_factory=list)
    relaxed: list[Molecule] = field(default_factory=list)   # the chosen cell's relaxed molecules...
    relaxed_cell: np.ndarray | None = None                   # ...in its (standard-orientation) cell


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
                   scales: tuple[float, ...] | None = None, n_starts: int = N_STARTS) -> PackingEnergy:
    """The lowest E_cell/Z over isotropically scaled cells (atoms relaxed in each from ``n_starts`` starts:
    the molecules as given and seeded rigid-body jitters of them), found by walking downhill from the cell
    given in :data:`SCALE_STEP` steps; or over ``scales`` only when given (e.g. the scale a cheaper level
    chose)."""
    lv = level if isinstance(level, CrystalLevel) else crystal_level(level)
    results: dict[float, object] = {}
    starts = [molecules] + [jittered(molecules, seed) for seed in range(1, n_starts)]
    with make_executor("local", store) as ex:
        def at(s: float) -> float:
            s = round(s, 4)
            if s not in results:
                specs = [lv.spec("lattice_energy", mols, cell_angstrom=c.tolist(), relax="positions")
                         for mols, c in (scaled_packing(m, cell, s) for m in starts)]
                got = ex.map(specs)
                done = [r for r in got if r.success]
                if not done:
                    raise RuntimeError(f"{molecule or specs[0].label} in {packing or 'its cell'} at scale {s:g}: "
                                       f"{got[0].error.message}")
                results[s] = min(done, key=lambda r: r.values["cell_energy_kcal_mol"])
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
    relaxed = [Molecule.model_validate(m) for m in r.artifacts.get("molecules", [])]
    # the classical harness relaxes in the standard orientation (tiers.periodic); its cell, for the relaxed atoms
    oriented = standard_orientation(np.asarray(r.spec.keywords["cell_angstrom"], float), list(r.spec.molecules))[0]
    return PackingEnergy(molecule, packing, lv.label, lv.tier, best, r.values["cell_energy_kcal_mol"] / z,
                         None if coulomb is None else coulomb / z,
                         sorted((s, rr.values["cell_energy_kcal_mol"] / z) for s, rr in results.items()),
                         r.cache_key, warnings, relaxed, oriented if lv.tier == 1 else None)


def jittered(molecules: list[Molecule], seed: int, max_degrees: float = JITTER_DEGREES,
             max_angstrom: float = JITTER_ANGSTROM) -> list[Molecule]:
    """Each molecule turned about its centroid (a random axis, up to ``max_degrees``) and moved (each
    Cartesian component up to ``max_angstrom``), rigidly; seeded, so the same seed gives the same start."""
    rng = np.random.default_rng(seed)
    out = []
    for m in molecules:
        rotation = axis_rotation(rng.normal(size=3), np.radians(rng.uniform(-max_degrees, max_degrees)))
        centroid = m.coords.mean(0)
        shift = rng.uniform(-max_angstrom, max_angstrom, size=3)
        out.append(m.with_coords((m.coords - centroid) @ rotation.T + centroid + shift))
    return out


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
    costlier level (xTB: minutes a cell) relaxes once, from the cells and geometries the classical
    walk chose."""
    out: dict[str, SwapEnergy] = {}
    walked = None
    for name in sorted(levels, key=lambda lv: crystal_level(lv).tier):
        lv = crystal_level(name)
        if walked is None or walked.swapped.relaxed_cell is None:
            out[name] = swap_energy(molecule, own_crystal, other_crystal, lv, store)
            walked = walked or out[name]
            continue

        def refine(pe: PackingEnergy) -> PackingEnergy:
            r = packing_energy(pe.relaxed, pe.relaxed_cell, lv, store, pe.molecule, pe.packing, (1.0,), n_starts=1)
            return replace(r, scale=pe.scale, scan=[(pe.scale, e) for _, e in r.scan])

        out[name] = SwapEnergy(refine(walked.swapped), refine(walked.own))
    return out
