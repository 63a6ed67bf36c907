"""Pair energies from the real crystal, the pair-sum lattice energy, and its comparison with
the periodic lattice energy at the same geometry.

The pairs come from :func:`tierchem.chem.crystal_pairs.molecular_pairs`; each pair class's
interaction energy is the ``interaction_energy`` task at a level (E(AB) - E(A) - E(B) with the
monomers at their crystal geometry; counterpoise-corrected at the DFT tier). The pair sum

    E_pairs = (1/N) Σ_homes n_home × 1/2 Σ_pairs multiplicity × E_pair      (per molecule)

is summed out to a centroid radius (20 Å by default: classical and xTB only; DFT runs on the
strongest few pairs). A spherical sum of whole neutral molecules converges to the energy of a
sphere in vacuum; a periodic Ewald/PME sum with conducting ("tin-foil") boundaries lacks that
sphere's surface term 2π|M|²/3V for a cell dipole M (de Leeuw, Perram & Smith, Proc. R. Soc.
Lond. A 373, 27 (1980)), several kcal/mol per molecule for polar crystals such as urea. The pair
sum is reported with that term taken off (M from the level's monomer dipoles: GAFF2's charges,
xTB's dipoles), so that it compares with the periodic value.

The periodic reference is the ``lattice_energy`` task with the atoms held where the CIF puts them
(``relax='none'``), and each monomer's energy at its crystal geometry in place of the task's
relaxed gas molecule: the same monomer reference as the pair energies. Both are reported, with
the monomer deformation energy (crystal-geometry minus relaxed monomer) that links them. For a
pairwise-additive force field the pair sum and the periodic value agree up to cut-off and
convergence errors; at xTB their difference is the many-body (non-additive) part. Both sides of
a comparison use one Hamiltonian: at tier 2 the lattice-energy method (GFN1-xTB, since periodic
GFN2 in tblite 0.8 underbinds; ``tiers.levels.TASK_METHODS``).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..chem.crystal_pairs import PairSet, molecular_pairs
from .catalogue import make_spec, resolve_level
from .executors import make_executor
from .levels import TASK_METHODS
from .spec import CalcResult, CalcSpec
from .store import ResultStore

log = logging.getLogger(__name__)

COULOMB_KCAL_ANGSTROM = 332.0637     # e²/(4πε0 Å) in kcal/mol
E_ANGSTROM_PER_DEBYE = 0.20819434
LONG_RANGE_RADIUS_ANGSTROM = 20.0    # centroid radius of the lattice sums (classical, xTB)
CONVERGENCE_RADII_ANGSTROM = (8.0, 12.0, 16.0, 20.0)
DFT_STRONGEST_PAIRS = 3
CHEAP_TIERS = (1, 2)                 # tiers summed out to the long-range radius


@dataclass(frozen=True)
class CrystalLevel:
    """A level for crystal work: the pair energies and the periodic lattice energy run with one method."""

    name: str                        # as asked: "classical", "xtb", "dft", "2"
    tier: int
    method: str
    basis: str | None

    def spec(self, task: str, molecules, **keywords) -> CalcSpec:
        return make_spec(task, list(molecules), self.tier, method=self.method, basis=self.basis, **keywords)

    @property
    def label(self) -> str:
        return self.method + (f"/{self.basis}" if self.basis else "")


def crystal_level(level: int | str, method: str | None = None, basis: str | None = None) -> CrystalLevel:
    """The level with the lattice-energy task's method unless ``method`` is given (GFN1-xTB at tier 2)."""
    lvl = resolve_level(level, method, basis)
    chosen = method or TASK_METHODS.get(("lattice_energy", lvl.engine, lvl.method), lvl.method)
    return CrystalLevel(str(level), lvl.tier, chosen, lvl.basis)


@dataclass
class PairSum:
    """The pair-sum lattice energy per molecule at one level (kcal/mol, negative = bound)."""

    level: str
    method: str
    radius_angstrom: float
    pair_sum_kcal_mol: float                 # the spherical sum, as the pairs give it
    surface_term_kcal_mol: float             # 2π|M|²/3V per molecule, taken off below
    lattice_energy_kcal_mol: float           # pair_sum - surface_term: comparable with Ewald/PME
    cell_dipole_e_angstrom: float
    n_pair_classes: int
    convergence: list[tuple[float, float]]   # (radius Å, lattice_energy_kcal_mol within it)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PeriodicComparison:
    """Pair sum against the periodic lattice energy at the same geometry and monomer reference."""

    level: str
    method: str
    pair_sum_kcal_mol: float                 # surface term taken off
    periodic_kcal_mol: float                 # E(cell, atoms as in the CIF)/Z - mean E(monomer at crystal geometry)
    difference_kcal_mol: float               # periodic - pair sum: many-body part at QM tiers
    monomer_deformation_kcal_mol: float      # mean E(monomer, crystal geometry) - E(relaxed gas molecule)
    periodic_relaxed_monomers_kcal_mol: float  # the lattice_energy task's own value (relaxed gas molecules)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _run(specs: Sequence[CalcSpec], store: ResultStore | None, executor=None) -> list[CalcResult]:
    if not specs:
        return []
    if executor is not None:
        return executor.map(list(specs))
    with make_executor("local", store) as ex:
        return ex.map(list(specs))


def pair_energies(crystal, pairs: PairSet, level: CrystalLevel, store: ResultStore | None = None,
                  classes: Sequence[int] | None = None, executor=None) -> dict[int, CalcResult]:
    """The interaction_energy result of each pair class (all, or ``classes``) at ``level``."""
    reps = pairs.representatives()
    chosen = sorted(reps) if classes is None else [c for c in classes if c in reps]
    specs = [level.spec("interaction_energy", reps[c].molecules(crystal)) for c in chosen]
    return dict(zip(chosen, _run(specs, store, executor)))


def interaction_kcal_mol(result: CalcResult) -> float | None:
    """The interaction energy a result reports (counterpoise-corrected where it was), None if it failed."""
    return result.values.get("interaction_energy_kcal_mol") if result.success else None


def cell_dipole_e_angstrom(crystal, level: CrystalLevel, store: ResultStore | None = None,
                           executor=None) -> np.ndarray:
    """The sum of the cell's molecular dipoles (e·Å) as ``level`` sees each monomer: GAFF2/AM1-BCC
    point charges at tier 1, the ``properties`` task's dipole at the QM tiers."""
    if level.tier == 1:
        from .amber import parameters

        params_dir = store.path.parent / "params" if store is not None else None
        total = np.zeros(3)
        for m in crystal.molecules:
            charges = np.array([a.charge for a in parameters(m, directory=params_dir).structure.atoms])
            total += charges @ m.coords
        return total
    results = _run([level.spec("properties", [m]) for m in crystal.molecules], store, executor)
    failed = [r for r in results if not r.success]
    if failed:
        raise RuntimeError(f"dipoles for the surface term failed: {failed[0].error.message}")
    return sum(np.asarray(r.values["dipole_debye"], float) for r in results) * E_ANGSTROM_PER_DEBYE


def pair_sum(crystal, pairs: PairSet, level: CrystalLevel, energies: dict[int, CalcResult],
             dipole_e_angstrom: np.ndarray | None = None,
             radii: Sequence[float] = CONVERGENCE_RADII_ANGSTROM) -> PairSum:
    """The pair sum out to the pair set's radius, its convergence with radius, and the surface term."""
    values = {c: interaction_kcal_mol(r) for c, r in energies.items()}
    failed = sorted(c for c, v in values.items() if v is None)
    if failed:
        raise RuntimeError(f"{crystal.name}: {len(failed)} pair energies failed at {level.label} "
                           f"(first: {energies[failed[0]].error.message})")
    radius = pairs.radius or max(p.centroid_distance for p in pairs.pairs)
    surface = 0.0
    moment = 0.0
    if dipole_e_angstrom is not None:
        moment = float(np.linalg.norm(dipole_e_angstrom))
        surface = 2 * math.pi * moment ** 2 / (3 * crystal.volume) * COULOMB_KCAL_ANGSTROM / len(crystal.molecules)
    raw = pairs.pair_sum(values, radius)
    steps = [(r, pairs.pair_sum(values, r) - surface) for r in radii if r < radius] + [(radius, raw - surface)]
    return PairSum(level.name, level.label, radius, raw, surface, raw - surface, moment,
                   len(values), steps)


def periodic_comparison(crystal, level: CrystalLevel, lattice: PairSum, store: ResultStore | None = None,
                        executor=None, **keywords: Any) -> PeriodicComparison:
    """The periodic lattice energy with the atoms where the CIF puts them and crystal-geometry
    monomers, against ``lattice`` (a :func:`pair_sum` at the same level)."""
    cell = np.asarray(crystal.cell_matrix, float).tolist()
    periodic_spec = level.spec("lattice_energy", crystal.molecules, cell_angstrom=cell, relax="none", **keywords)
    monomer_specs = [level.spec("energy", [m]) for m in crystal.molecules]
    periodic, *monomers = _run([periodic_spec, *monomer_specs], store, executor)
    for r in (periodic, *monomers):
        if not r.success:
            raise RuntimeError(f"{r.spec.label} failed: {r.error.message}")
    z = len(crystal.molecules)
    e_monomers = float(np.mean([r.values["energy_kcal_mol"] for r in monomers]))
    e_cell = periodic.values["cell_energy_kcal_mol"] / z
    e_gas = e_cell - periodic.values["lattice_energy_kcal_mol"]       # mean relaxed gas molecule
    value = e_cell - e_monomers
    return PeriodicComparison(level.name, level.label, lattice.lattice_energy_kcal_mol, value,
                              value - lattice.lattice_energy_kcal_mol, e_monomers - e_gas,
                              periodic.values["lattice_energy_kcal_mol"], list(periodic.warnings))


# ====================================================================== the whole report
@dataclass
class CrystalEnergies:
    """Pairs with their energies per level, the pair sums, the periodic comparisons, and DFT on
    the strongest pairs."""

    crystal: str
    pairs: PairSet
    levels: list[CrystalLevel]
    energies: dict[str, dict[int, float | None]]        # level name -> pair class -> kcal/mol
    sums: dict[str, PairSum] = field(default_factory=dict)
    periodic: dict[str, PeriodicComparison] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    keys: dict[str, dict[int, str]] = field(default_factory=dict)  # level name -> pair class -> store key

    def as_dict(self) -> dict:
        return {"crystal": self.crystal, "pairs": self.pairs.as_dict(),
                "levels": [{"name": lv.name, "tier": lv.tier, "method": lv.label} for lv in self.levels],
                "pair_energies_kcal_mol": {name: {str(k): v for k, v in e.items()} for name, e in self.energies.items()},
                "pair_sums": {k: v.as_dict() for k, v in self.sums.items()},
                "periodic": {k: v.as_dict() for k, v in self.periodic.items()}, "notes": self.notes}


def crystal_energies(crystal, levels: Sequence[int | str] = ("classical",), store: ResultStore | None = None,
                     contact_cutoff: float | None = None, radius: float | None = LONG_RANGE_RADIUS_ANGSTROM,
                     dft_pairs: int = DFT_STRONGEST_PAIRS, compare_periodic: bool = True,
                     executor=None) -> CrystalEnergies:
    """Pair energies at each level (tiers 1-2 out to ``radius``, tiers 3-4 on the ``dft_pairs``
    strongest shell pairs by the cheapest level asked, or by GAFF2 when none is), the pair sums,
    and their comparison with the periodic lattice energy at tiers 1-2. With ``radius`` None only
    the close-contact shell is computed, and no sums (the shell alone is no lattice energy)."""
    kwargs = {} if contact_cutoff is None else {"contact_cutoff": contact_cutoff}
    pairs = molecular_pairs(crystal, radius=radius, **kwargs)
    chosen = [crystal_level(lv) for lv in levels]
    shell = sorted({p.pair_class for p in pairs.shell()})
    out = CrystalEnergies(crystal.name, pairs, chosen, {})
    cheap = [lv for lv in chosen if lv.tier in CHEAP_TIERS]
    for lv in cheap:
        results = pair_energies(crystal, pairs, lv, store, executor=executor)
        out.energies[lv.name] = {c: interaction_kcal_mol(r) for c, r in results.items()}
        out.keys[lv.name] = {c: r.cache_key for c, r in results.items() if r.cache_key}
        if radius is None:
            continue
        dipole = cell_dipole_e_angstrom(crystal, lv, store, executor)
        out.sums[lv.name] = pair_sum(crystal, pairs, lv, results, dipole)
        if compare_periodic:
            out.periodic[lv.name] = periodic_comparison(crystal, lv, out.sums[lv.name], store, executor)
    costly = [lv for lv in chosen if lv.tier not in CHEAP_TIERS]
    if costly:
        ranking = out.energies[cheap[0].name] if cheap else {
            c: interaction_kcal_mol(r) for c, r in
            pair_energies(crystal, pairs, crystal_level("classical"), store, classes=shell, executor=executor).items()}
        strongest = sorted((c for c in shell if ranking.get(c) is not None), key=lambda c: ranking[c])[:dft_pairs]
        for lv in costly:
            results = pair_energies(crystal, pairs, lv, store, classes=strongest, executor=executor)
            out.energies[lv.name] = {c: interaction_kcal_mol(r) for c, r in results.items()}
            out.keys[lv.name] = {c: r.cache_key for c, r in results.items() if r.cache_key}
        out.notes.append(f"tiers 3-4 on the {len(strongest)} strongest shell pairs by "
                         f"{cheap[0].label if cheap else 'GAFF2/AM1-BCC'}")
    return out


# ====================================================================== occ: CE-1p model energies, Hirshfeld surfaces
CE_MODEL = "ce-1p"
# CE-1p: B3LYP/def2-SVP monomer densities, XDM dispersion, one scale factor (0.7785) on repulsion and
# polarisation (occ's CEParameterizedModel CE1_XDM_B3LYP); occ sums the pairs out to a nearest-atom
# radius grown by 3.8 Å until the sum changes by less than 1 kJ/mol, as done here.
CE_WAVEFUNCTION = ("b3lyp", "def2-svp")
CE_RADIUS_STEP_ANGSTROM = 3.8
CE_MAX_RADIUS_ANGSTROM = 19.0
CE_TOLERANCE_KJ_MOL = 1.0
KJ_PER_KCAL = 4.184


@dataclass
class CEModelResult:
    """CrystalExplorer's model energies (occ) for a crystal: pair energies and their lattice sum."""

    model: str
    wavefunction: str
    lattice_energy_kj_mol: float                 # 1/2 Σ E_pair per molecule, negative = bound
    radius_angstrom: float                       # nearest-atom radius the sum stopped at
    converged: bool
    convergence: list[tuple[float, float]]       # (radius Å, lattice energy kJ/mol)
    pairs: list[dict]                            # nearest/centroid distance Å, symmetry, components kJ/mol
    occpy_version: str
    seconds: float

    @property
    def lattice_energy_kcal_mol(self) -> float:
        return self.lattice_energy_kj_mol / KJ_PER_KCAL

    def as_dict(self) -> dict:
        return {**self.__dict__, "lattice_energy_kcal_mol": self.lattice_energy_kcal_mol}


def _occpy():
    from .errors import EngineMissingError
    from .harness import package_version

    try:
        import occpy
    except ImportError:
        raise EngineMissingError("occpy is not installed (pip install occpy==0.9.5)") from None
    occpy.set_log_level(occpy.LogLevel.WARN)
    return occpy, package_version("occpy") or "unknown"


def _occ_crystal(crystal, normalise_hydrogens: bool = True):
    """The crystal in occ, from its asymmetric unit (so a P1-expanded cell is handled by symmetry),
    X-H bonds at neutron lengths as CrystalExplorer sets them before model energies and surfaces.
    The lengths are set here: occpy 0.9.5's ``normalize_hydrogen_bondlengths`` moves an H whose N
    lies across a cell face towards the wrong image (urea: an N-H pair 1.8 Å apart afterwards)."""
    from ..chem.crystal_pairs import asymmetric_unit_cif

    occpy, _ = _occpy()
    return occpy.Crystal.from_cif_string(asymmetric_unit_cif(crystal, normalise_hydrogens=normalise_hydrogens))


def ce_model_energies(crystal, model: str = CE_MODEL, max_radius: float = CE_MAX_RADIUS_ANGSTROM,
                      tolerance_kj_mol: float = CE_TOLERANCE_KJ_MOL, threads: int = 1,
                      store: ResultStore | None = None) -> CEModelResult:
    """CE model pair energies (occ's ``CEEnergyModel``) of the symmetry-unique dimers, summed per
    molecule out to a nearest-atom radius grown by 3.8 Å until the sum changes by less than
    ``tolerance_kj_mol`` (or ``max_radius``). With ``store`` the result is kept beside it (``ce/``,
    keyed by the asymmetric unit, the model, the settings and occpy's version): minutes to compute."""
    import hashlib
    import json
    import time

    from ..chem.crystal_pairs import asymmetric_unit_cif

    occpy, version = _occpy()
    key = hashlib.sha256(json.dumps([asymmetric_unit_cif(crystal, normalise_hydrogens=True), model, max_radius,
                                     tolerance_kj_mol, CE_WAVEFUNCTION, version]).encode()).hexdigest()[:24]
    kept = store.path.parent / "ce" / f"{key}.json" if store is not None else None
    if kept is not None and kept.exists():
        data = json.loads(kept.read_text())
        data.pop("lattice_energy_kcal_mol", None)
        data["convergence"] = [tuple(step) for step in data["convergence"]]
        return CEModelResult(**data)
    t0 = time.perf_counter()
    occpy.set_num_threads(threads)
    oc = _occ_crystal(crystal)
    method, basis = CE_WAVEFUNCTION
    wavefunctions = []
    for mol in oc.symmetry_unique_molecules():
        ks = occpy.DFT(method, occpy.AOBasis.load(mol.atoms(), basis)).scf()
        ks.set_charge_multiplicity(0, 1)
        ks.run()
        wavefunctions.append(ks.wavefunction())
    energy_model = occpy.CEEnergyModel(oc, wavefunctions)
    energy_model.set_model_name(model)
    dimers = oc.symmetry_unique_dimers(max_radius)
    neighbours = dimers.molecule_neighbors
    computed: dict[int, Any] = {}
    steps: list[tuple[float, float]] = []
    radius, previous, converged = CE_RADIUS_STEP_ANGSTROM, None, False
    while radius <= max_radius + 1e-9:
        for k, dimer in enumerate(dimers.unique_dimers):
            if k not in computed and dimer.nearest_distance <= radius:
                computed[k] = energy_model.compute_energy(dimer)
        total = sum(computed[n.unique_index].total_kjmol() for shell in neighbours for n in shell
                    if n.unique_index in computed)
        steps.append((radius, 0.5 * total / len(neighbours)))
        log.info("CE %s %s: radius %.1f Å, %d dimers, %.2f kJ/mol", model, crystal.name, radius, len(computed),
                 steps[-1][1])
        if previous is not None and abs(steps[-1][1] - previous) < tolerance_kj_mol:
            converged = True
            break
        previous, radius = steps[-1][1], radius + CE_RADIUS_STEP_ANGSTROM
    counts = Counter(n.unique_index for n in neighbours[0]) if neighbours else Counter()
    pairs = []
    for k, comp in sorted(computed.items(), key=lambda kv: dimers.unique_dimers[kv[0]].nearest_distance):
        d = dimers.unique_dimers[k]
        pairs.append({"nearest_distance_angstrom": round(d.nearest_distance, 3),
                      "centroid_distance_angstrom": round(d.centroid_distance, 3),
                      "symmetry": oc.dimer_symmetry_string(d), "multiplicity": counts.get(k, 0),
                      "coulomb_kj_mol": comp.coulomb_kjmol(), "repulsion_kj_mol": comp.repulsion_kjmol(),
                      "exchange_kj_mol": comp.exchange_kjmol(), "polarization_kj_mol": comp.polarization_kjmol(),
                      "dispersion_kj_mol": comp.dispersion_kjmol(), "total_kj_mol": comp.total_kjmol()})
    result = CEModelResult(model, f"{method.upper()}/{basis}", steps[-1][1], steps[-1][0], converged, steps, pairs,
                           version, time.perf_counter() - t0)
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(json.dumps(result.as_dict()))
    return result


CE_MATCH_TOLERANCE_ANGSTROM = 0.05    # occ's centroids move by its H placement: match within this


def ce_pair_energies(pairs: PairSet, ce: CEModelResult,
                     tolerance: float = CE_MATCH_TOLERANCE_ANGSTROM) -> dict[int, float]:
    """CE total pair energies (kcal/mol) by our pair class: each pair of the home molecule matched
    to the one occ dimer with the same multiplicity whose centroid and nearest-atom distances agree
    within ``tolerance`` Å (X-H at neutron lengths on both sides). Pairs with no such dimer, or
    more than one of different energy, are left out; so is every pair when the crystal has more
    than one symmetry-distinct molecule (occ's molecule order is not ours)."""
    if len(pairs.homes) != 1:
        return {}
    out: dict[int, float] = {}
    for p in pairs.pairs:
        hits = {round(d["total_kj_mol"], 3) for d in ce.pairs if d["multiplicity"] == p.multiplicity
                and abs(d["centroid_distance_angstrom"] - p.centroid_distance) < tolerance
                and abs(d["nearest_distance_angstrom"] - p.closest_distance) < tolerance}
        if len(hits) == 1:
            out[p.pair_class] = hits.pop() / KJ_PER_KCAL
    return out


HIRSHFELD_ENVIRONMENT_ANGSTROM = 8.0   # neighbour atoms this close to the molecule shape its surface


@dataclass
class HirshfeldFingerprint:
    """A Hirshfeld surface (promolecule, occ) of one molecule in its crystal, as per-vertex arrays:
    d_i and d_e (Å, nearest atom inside and outside), the area each vertex stands for (Å²), and the
    elements of those two atoms."""

    crystal: str
    d_i: np.ndarray
    d_e: np.ndarray
    area: np.ndarray
    inside: list[str]
    outside: list[str]

    @property
    def surface_area(self) -> float:
        return float(self.area.sum())

    def shares(self) -> dict[str, float]:
        """Share of the surface by contact (element inside···element outside, both ways together:
        "H···O" counts H inside with O outside and O inside with H outside), largest first."""
        totals: dict[str, float] = {}
        for a, b, w in zip(self.inside, self.outside, self.area):
            key = "···".join(sorted((a, b)))
            totals[key] = totals.get(key, 0.0) + float(w)
        return {k: v / self.surface_area for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def hirshfeld_fingerprint(crystal, separation_angstrom: float = 0.2) -> HirshfeldFingerprint:
    """The Hirshfeld surface of the crystal's first symmetry-unique molecule (promolecule weights,
    occ's ``IsosurfaceCalculator``), with d_i, d_e and the contact elements at each vertex."""
    from scipy.spatial import cKDTree

    from ..chem.elements import ATOMIC_NUMBER

    occpy, _ = _occpy()
    oc = _occ_crystal(crystal)
    mol = oc.symmetry_unique_molecules()[0]
    symbol = {z: s for s, z in ATOMIC_NUMBER.items()}
    inner_xyz = np.asarray(mol.positions, float).T
    inner_el = [symbol[int(z)] for z in mol.atomic_numbers()]
    outer_xyz, outer_el = _environment(oc, inner_xyz, symbol, HIRSHFELD_ENVIRONMENT_ANGSTROM)
    environment = occpy.Molecule.from_xyz_string(
        f"{len(outer_el)}\n\n" + "\n".join(f"{e} {x:.6f} {y:.6f} {z:.6f}" for e, (x, y, z) in zip(outer_el, outer_xyz)))
    params = occpy.IsosurfaceGenerationParameters()
    params.isovalue = 0.5                       # Hirshfeld weight w(r) = 1/2
    params.surface_kind = occpy.SurfaceKind.Hirshfeld
    params.separation = separation_angstrom
    params.properties = [occpy.PropertyKind.Dint, occpy.PropertyKind.Dext]
    calc = occpy.IsosurfaceCalculator()
    calc.set_parameters(params)
    calc.set_molecule(mol)
    calc.set_environment(environment)
    calc.compute()
    surface = calc.isosurface()
    verts = np.asarray(surface.vertices, float).T
    faces = np.asarray(surface.faces, int).T
    d_i = np.asarray(surface.properties.get_float("di"), float)
    d_e = np.asarray(surface.properties.get_float("de"), float)
    tri = verts[faces]
    face_area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    area = np.zeros(len(verts))
    for corner in range(3):
        np.add.at(area, faces[:, corner], face_area / 3.0)
    _, k_in = cKDTree(inner_xyz).query(verts)
    _, k_out = cKDTree(outer_xyz).query(verts)
    return HirshfeldFingerprint(crystal.name, d_i, d_e, area, [inner_el[k] for k in k_in],
                                [outer_el[k] for k in k_out])


def _environment(oc, inner_xyz: np.ndarray, symbol: dict, reach: float) -> tuple[np.ndarray, list[str]]:
    """Atoms of the other molecules (occ's cell molecules and their neighbouring images) within
    ``reach`` Å of the molecule at ``inner_xyz``."""
    from scipy.spatial import cKDTree

    lattice = np.asarray(oc.unit_cell().direct, float).T      # rows a, b, c
    tree = cKDTree(inner_xyz)
    xyz_out, el_out = [], []
    for m in oc.unit_cell_molecules():
        xyz = np.asarray(m.positions, float).T
        elements = [symbol[int(z)] for z in m.atomic_numbers()]
        for t in itertools.product((-2, -1, 0, 1, 2), repeat=3):
            moved = xyz + np.asarray(t, float) @ lattice
            if len(moved) == len(inner_xyz) and np.allclose(moved, inner_xyz, atol=1e-3):
                continue                       # the molecule itself
            near = tree.query(moved)[0] < reach
            xyz_out += list(moved[near])
            el_out += [e for e, keep in zip(elements, near) if keep]
    return np.array(xyz_out), el_out
