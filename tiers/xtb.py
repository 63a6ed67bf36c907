"""Tier 2: semi-empirical tight binding, GFN2-xTB and GFN1-xTB through tblite.

tblite works in atomic units (Bohr, Hartree, e*Bohr); this harness converts at
its surface to Å, kcal/mol and Debye. Charge and spin go to tblite
as ``charge`` and ``uhf`` (number of unpaired electrons, multiplicity - 1). For
several fragments the system's charge is the sum of theirs and its ``uhf`` the
sum of theirs (high-spin coupling of open-shell fragments).

Tasks: ``energy`` (and gradient with ``gradient=True``), ``interaction_energy``
(supermolecular E(AB) - E(A) - E(B), no counterpoise: minimal basis, none needed),
``optimize`` (ASE BFGS or LBFGS on tblite forces; several fragments are relaxed
together as one complex and returned each at its new coordinates) and
``properties`` (dipole about the centre of mass, Mulliken charges, HOMO-LUMO
gap; no quadrupole, see :meth:`XTBHarness.task_properties`), ``polarizability``
(static dipole polarisability by finite differences of the dipole in a uniform
electric field, tblite's ``electric-field`` interaction; keyword ``field_au``) and
``interaction_energies`` (several dimers in one spec, fragments taken in
consecutive pairs: the stacked vs T-shaped preference in one calculation).

Keywords (all optional; defaults in :attr:`XTBHarness.default_parameters`):
``gradient``, ``accuracy`` (tblite's; lower is tighter), ``max_iter`` (SCC
cycles), ``electronic_temperature_k``, ``solvent`` (a named ALPB solvent such as
``"water"``; gas phase by default), ``spin_polarization`` (False: as the xtb
program, open shells only fix the number of unpaired electrons; True adds
tblite's spin-polarisation term, spGFN), and for optimize ``fmax_ev_angstrom``
(alias ``fmax``), ``max_steps`` and ``optimizer`` (``"BFGS"`` or ``"LBFGS"``).
``conformers`` (one molecule) and ``isomer_energies`` (several species, e.g. tautomers) relax a
small seeded ETKDG ensemble per molecule at GFN2-xTB (see :mod:`.ensembles`; keywords
``n_conformers``, ``max_conformers``, ``rmsd_threshold``, ``energy_window_kcal_mol``, ``seed``,
``relax``, and ``solvent`` for ALPB). ``lattice_energy`` takes ``cell_angstrom``, ``relax`` (``"positions"`` or
``"none"``), ``supercell_min_width_angstrom`` and its own ``fmax_ev_angstrom`` /
``max_steps`` for the cell: tblite samples Gamma only, so cells are computed as
supercells at least that wide (see :meth:`XTBHarness.periodic_energy`).

Threads: tblite parallelises with OpenMP. Nothing is set here; it uses
``OMP_NUM_THREADS`` as the executors set it (thread count does not change the
result, so it stays out of the spec). tblite's own printout is silenced
(verbosity 0, its log lines go to this module's logger at DEBUG level).
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any, Sequence

import numpy as np

from ..chem.molecule import Molecule
from .ase_bridge import OPTIMIZERS, Evaluate, relax
from .ensembles import ENSEMBLE_PARAMETERS, Conformer, conformers_task, isomer_energies_task
from .errors import CalcError, ConvergenceError, EngineMissingError, InputError
from .harness import KCAL_PER_HARTREE, Harness, Outcome, combined_geometry, package_version
from .periodic import DEFAULT_RELAX
from .spec import CalcSpec

log = logging.getLogger(__name__)

ANGSTROM_PER_BOHR = 0.529177210903  # CODATA 2018
BOHR_PER_ANGSTROM = 1.0 / ANGSTROM_PER_BOHR
ANGSTROM3_PER_AU = ANGSTROM_PER_BOHR ** 3  # polarisability volume: a0^3 in Å^3
DEBYE_PER_AU = 2.541746473  # e*Bohr in Debye
EV_PER_HARTREE = 27.211386245988
KELVIN_TO_HARTREE = 3.166808578545117e-6  # Boltzmann constant in Eh/K
MIN_DISTANCE_ANGSTROM = 0.5  # closer atoms are an input error, not a calculation

DEFAULT_SUPERCELL_WIDTH = 8.5  # Å, face to face: adamantane converged to 0.03 kcal/mol at 8.9 Å
_METHODS = {"gfn2-xtb": "GFN2-xTB", "gfn1-xtb": "GFN1-xTB"}


# ------------------------------------------------------------------ the system
class _System:
    """One tblite calculator for the fragments of a spec, taken as one system.

    Coordinates can be updated (optimisation) and the previous wavefunction is
    reused as the SCC guess.
    """

    def __init__(self, fragments: Sequence[Molecule], spec: CalcSpec, settings: dict[str, Any],
                 origin: str = "input", cell: np.ndarray | None = None, field_au: Sequence[float] | None = None):
        from tblite.exceptions import TBLiteRuntimeError, TBLiteTypeError, TBLiteValueError
        from tblite.interface import Calculator

        self._runtime_error = TBLiteRuntimeError
        self._input_errors = (TBLiteValueError, TBLiteTypeError)
        self.label = "+".join(f.label for f in fragments)
        self.method = _METHODS[spec.method.lower()]
        self.symbols = [s for f in fragments for s in f.symbols]
        self.numbers = np.array([z for f in fragments for z in f.atomic_numbers], dtype=np.int32)
        self.sizes = [f.n_atoms for f in fragments]
        _, coords = combined_geometry(fragments)
        self.shift = np.zeros(3)
        if origin == "com":  # the dipole of a charged system depends on the origin
            from ase.data import atomic_masses

            mass = atomic_masses[self.numbers]
            self.shift = (mass[:, None] * coords).sum(0) / mass.sum()
        _check_distances(self.symbols, coords, self.label)
        self.charge = sum(f.charge for f in fragments)
        self.uhf = sum(f.multiplicity - 1 for f in fragments)
        self.max_iter = int(settings["max_iter"])
        try:
            periodic = {} if cell is None else {"lattice": np.asarray(cell, float) * BOHR_PER_ANGSTROM,
                                                "periodic": np.array([True, True, True])}
            self.calc = Calculator(self.method, self.numbers, (coords - self.shift) * BOHR_PER_ANGSTROM,
                                   charge=float(self.charge), uhf=self.uhf, **periodic,
                                   color=False, logger=lambda msg: log.debug("tblite: %s", msg))
            self.calc.set("verbosity", 0)
            self.calc.set("max-iter", self.max_iter)
            self.calc.set("accuracy", float(settings["accuracy"]))
            self.calc.set("temperature", float(settings["electronic_temperature_k"]) * KELVIN_TO_HARTREE)
            if settings["solvent"]:
                self.calc.add("alpb-solvation", str(settings["solvent"]))
            if settings["spin_polarization"]:
                self.calc.add("spin-polarization", 1.0)
            if field_au is not None:  # a uniform field (Eh/(e*Bohr)); tblite's C API wants a double[3]
                from tblite.library import ffi

                self.calc.add("electric-field", ffi.new("double[3]", [float(x) for x in field_au]))
        except self._input_errors as exc:
            raise InputError(f"{self.label}: tblite refused the input: {exc}") from None
        except self._runtime_error as exc:
            raise InputError(f"{self.label}: tblite could not set up {self.method}: {exc}") from None
        self._res = None

    def singlepoint(self, coords_angstrom: np.ndarray | None = None):
        """Run the SCC; tblite's errors become tierchem's by kind."""
        if coords_angstrom is not None:
            self.calc.update((np.asarray(coords_angstrom, float) - self.shift) * BOHR_PER_ANGSTROM)
        try:
            res = self.calc.singlepoint(self._res)
        except self._runtime_error as exc:
            self._res = None  # never restart from a failed wavefunction
            msg = str(exc)
            if "converge" in msg.lower():
                raise ConvergenceError(
                    f"{self.label}: {self.method} SCC not converged in {self.max_iter} cycles ({msg}); "
                    "retry with a higher electronic_temperature_k (e.g. 1000) or max_iter, "
                    "or check the charge and multiplicity") from None
            raise CalcError(f"{self.label}: tblite failed: {msg}") from None
        except self._input_errors as exc:
            raise InputError(f"{self.label}: tblite refused the input: {exc}") from None
        energy = float(res.get("energy"))
        if not np.isfinite(energy):
            self._res = None
            raise ConvergenceError(f"{self.label}: {self.method} returned a non-finite energy")
        self._res = res
        return res


def _tblite_version() -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in metadata.version("tblite").split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return (0, 0)


def _check_distances(symbols: Sequence[str], coords: np.ndarray, label: str) -> None:
    if len(coords) < 2:
        return
    d = np.linalg.norm(coords[:, None, :] - coords[None, :, :], axis=2)
    d[np.diag_indices_from(d)] = np.inf
    i, j = np.unravel_index(np.argmin(d), d.shape)
    if d[i, j] < MIN_DISTANCE_ANGSTROM:
        raise InputError(f"{label}: atoms {i} ({symbols[i]}) and {j} ({symbols[j]}) are only "
                         f"{d[i, j]:.3f} Å apart; check the geometry")


def _gap_ev(res, uhf: int) -> float | None:
    """HOMO-LUMO gap (eV) of a closed-shell result; None for open shells (SOMOs make it ambiguous)."""
    if uhf:
        return None
    try:
        e = np.asarray(res.get("orbital-energies"), float)
        occ = np.asarray(res.get("orbital-occupations"), float)
    except Exception:  # tblite raises when a quantity is unavailable
        return None
    if e.ndim != 1 or not (occ > 1.0).any() or not (occ < 1.0).any():
        return None
    return float((e[occ < 1.0].min() - e[occ > 1.0].max()) * EV_PER_HARTREE)


def _unused_keywords(spec: CalcSpec) -> list[str]:
    known = (set(XTBHarness.default_parameters) | set(XTBHarness.task_parameters.get(spec.task, {}))
             | {"fmax", "cell_angstrom"})
    extra = sorted(set(spec.keywords) - known)
    return [f"xtb ignored keywords it does not know: {', '.join(extra)}"] if extra else []


def _evaluate(system: _System, image_shifts: np.ndarray | None = None) -> Evaluate:
    """Energy (eV) and forces (eV/Å) of the unit cell's atoms for ASE. ``system`` holds one copy
    of the atoms per lattice translation in ``image_shifts`` (Å), image by image; every image
    moves with the cell's atoms, so E per cell = E(supercell) / n and its gradient is the image mean."""
    from ase.units import Bohr, Hartree

    shifts = np.zeros((1, 3)) if image_shifts is None else np.asarray(image_shifts, float)

    def evaluate(positions: np.ndarray) -> tuple[float, np.ndarray]:
        n = len(shifts)
        res = system.singlepoint((positions[None] + shifts[:, None]).reshape(-1, 3))
        grad = np.asarray(res.get("gradient"), float).reshape(n, -1, 3)
        return float(res.get("energy")) / n * Hartree, -grad.mean(axis=0) * Hartree / Bohr

    return evaluate


def _periodic_gfn2_warnings(method: str) -> list[str]:
    """What is known to be wrong with periodic GFN2-xTB in the installed tblite."""
    if method == "GFN2-xTB" and _tblite_version() < (0, 7):
        # fixed upstream in 0.7.0 (tblite#343, issue #285)
        return ["periodic GFN2-xTB: tblite < 0.7 sums the multipole Ewald terms wrongly (tblite#285); upgrade tblite"]
    if method == "GFN2-xTB" and _tblite_version() <= (0, 8):
        # measured with tblite 0.8.0 (benchmarks/xtb_periodic.py --clusters): ammonia at fixed geometry,
        # periodic GFN2 -4.8 kcal/mol vs -7.9 from the bulk limit of molecular GFN2 clusters, while
        # GFN1 agrees (-7.6 vs -7.6); so the gap is periodic GFN2's, not the recipe's
        return ["periodic GFN2-xTB (tblite 0.8) underbinds molecular crystals: X23 MSE +3.9 kcal/mol "
                "per molecule on 11 crystals (GFN1-xTB +1.5, the default for lattice energies)"]
    return []


def _broken_bonds(before: Sequence[Molecule], after: Sequence[Molecule], factor: float = 1.5) -> list[str]:
    """Input bonds stretched beyond ``factor`` x their input length after optimisation."""
    out = []
    for m0, m1 in zip(before, after):
        x0, x1 = m0.coords, m1.coords
        for i, j, _ in m0.bonds:
            r0, r1 = np.linalg.norm(x0[i] - x0[j]), np.linalg.norm(x1[i] - x1[j])
            if r1 > factor * r0:
                out.append(f"{m0.label}: bond {m0.symbols[i]}{i}-{m0.symbols[j]}{j} "
                           f"stretched from {r0:.2f} to {r1:.2f} Å")
    return out


# ------------------------------------------------------------------ response and several dimers
# Shared with the DFT harness (tiers/dft.py): the same finite-field recipe and the same pairing.
def finite_field_polarizability(dipole_of, field_au: float) -> np.ndarray:
    """The static polarisability tensor (a0^3) by central differences of the dipole (e*a0):
    alpha[:, i] = [mu(+F e_i) - mu(-F e_i)] / 2F, symmetrised. ``dipole_of(field)`` returns the dipole
    (3,) in the uniform field (3,) in atomic units. The error is O(F^2) (the second hyperpolarisability):
    below 0.1% at F = 0.001-0.002 au for small organics (benzene at GFN2-xTB: 6.302 Å^3 at 0.0005-0.005)."""
    alpha = np.zeros((3, 3))
    for i in range(3):
        field = np.zeros(3)
        field[i] = field_au
        alpha[:, i] = (np.asarray(dipole_of(field), float) - np.asarray(dipole_of(-field), float)) / (2 * field_au)
    return 0.5 * (alpha + alpha.T)


def polarizability_values(alpha_au: np.ndarray, field_au: float | None,
                          method: str = "finite field, central differences of the dipole") -> dict[str, Any]:
    """The polarizability task's values: isotropic mean, tensor and anisotropy (Å^3; the mean also in a0^3).
    The anisotropy is Delta alpha = sqrt(((a1-a2)^2 + (a2-a3)^2 + (a3-a1)^2) / 2) of the principal values;
    ``field_au``: the finite-field step (None for an analytic response)."""
    iso = float(np.trace(alpha_au) / 3)
    a1, a2, a3 = np.linalg.eigvalsh(alpha_au)
    aniso = float(np.sqrt(((a1 - a2) ** 2 + (a2 - a3) ** 2 + (a3 - a1) ** 2) / 2))
    return {"polarizability_angstrom3": iso * ANGSTROM3_PER_AU, "polarizability_au": iso,
            "polarizability_tensor_angstrom3": (alpha_au * ANGSTROM3_PER_AU).tolist(),
            "polarizability_anisotropy_angstrom3": aniso * ANGSTROM3_PER_AU,
            **({"field_au": field_au} if field_au is not None else {}), "polarizability_method": method}


# ------------------------------------------------------------------ the harness
class XTBHarness(Harness):
    """GFN2-xTB / GFN1-xTB (tblite): energies, gradients, geometries, dipoles and charges."""

    name = "xtb"
    tier = 2
    methods = ("GFN2-xTB", "GFN1-xTB")
    tasks = frozenset({"energy", "interaction_energy", "optimize", "properties", "lattice_energy",
                       "conformers", "isomer_energies", "polarizability", "interaction_energies"})
    max_atoms = 3000  # dense diagonalisation: minutes per SCC beyond this on a few cores
    supports_open_shell = True
    supports_charged = True
    engine_modules = ("tblite.interface",)
    default_parameters = {
        "gradient": False,
        "accuracy": 1.0,  # tblite's; lower is tighter
        "max_iter": 250,  # SCC cycles
        "electronic_temperature_k": 300.0,  # tblite's own default, set explicitly
        "solvent": None,  # gas phase; a named ALPB solvent such as "water"
        "spin_polarization": False,
        "fmax_ev_angstrom": 0.01,  # optimize (alias fmax)
        "max_steps": 500,
        "optimizer": "BFGS",
        "relax": DEFAULT_RELAX,  # lattice_energy: atoms relax in the fixed cell
        "supercell_min_width_angstrom": DEFAULT_SUPERCELL_WIDTH,
    }
    # the cell's relaxation is looser than a molecule's (its gas-phase molecules use optimize's)
    # ensembles: each conformer relaxed to 0.02 eV/Å (0.01 changes salicylaldehyde's conformer
    # gaps by < 0.01 kcal/mol and takes 1.5x the steps)
    _ensemble = {**ENSEMBLE_PARAMETERS, "relax": True, "fmax_ev_angstrom": 0.02}
    # polarizability: a tighter SCC (accuracy 0.01) keeps the tensor symmetric to 1e-3 a0^3 at F = 0.001 au
    task_parameters = {"lattice_energy": {"fmax_ev_angstrom": 0.05, "max_steps": 300},
                       "conformers": _ensemble, "isomer_energies": _ensemble,
                       "polarizability": {"field_au": 0.001, "accuracy": 0.01}}
    model_notes = ("tblite; supermolecular interaction energies without counterpoise (minimal basis); "
                   "dipoles about the centre of mass, Mulliken charges; periodic cells at the Gamma point "
                   "as supercells, gas-phase molecules relaxed with the optimize defaults")

    @classmethod
    def versions(cls) -> dict[str, str]:
        version = package_version("tblite")  # metadata, read once per process
        if version is None:
            raise EngineMissingError("tblite is not installed (pip install tblite)")
        # "recipe" is bumped when a result changes for the same spec (2: periodic cells as supercells)
        return {"tblite": version, "recipe": "2"}

    def settings(self, spec: CalcSpec) -> dict[str, Any]:
        out = super().settings(spec)
        if spec.task == "optimize" and "fmax" in spec.keywords and "fmax_ev_angstrom" not in spec.keywords:
            out["fmax_ev_angstrom"] = spec.keywords["fmax"]
        return out

    def estimate_seconds(self, spec: CalcSpec) -> float:
        """Dense diagonalisation, but small systems: overhead plus ~N^2 (30 ms per 1000 atom pairs); an
        ensemble ~60 optimisation steps per conformer (about 4 conformers per molecule). Measured on one
        core (tblite 0.8): an energy of pyrene (26 atoms) 0.09 s, of a 40-atom acid 0.19 s; the 40-atom
        acid's conformer ensemble 24 s (this model: 24 s), salicylic acid's 3.2 s (model: 14 s)."""
        def step(n_atoms: float) -> float:  # one energy and gradient
            return 0.05 + 3e-5 * n_atoms ** 2

        one = step(spec.n_atoms)
        if spec.task == "polarizability":
            return 6 * one
        if spec.task == "interaction_energies":
            return 3 * one  # every dimer and its monomers: about 3 systems of the spec's size
        if spec.task in ("conformers", "isomer_energies"):
            per_molecule = step(spec.n_atoms / len(spec.molecules))
            n_conformers = 1 if spec.keywords.get("embed") is False else 4  # embed=False: the given geometry
            return n_conformers * 60 * per_molecule * len(spec.molecules)
        return one

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        if spec.task == "optimize" and str(self.settings(spec)["optimizer"]).upper() not in OPTIMIZERS:
            raise InputError(f"optimizer must be BFGS or LBFGS, got {spec.keywords['optimizer']!r}")

    # ---------------------------------------------------------------- energy
    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        settings = self.settings(spec)
        system = _System(fragments, spec, settings)
        res = system.singlepoint()
        e_h = float(res.get("energy"))
        values: dict[str, Any] = {"energy_kcal_mol": e_h * KCAL_PER_HARTREE, "energy_hartree": e_h,
                                  "homo_lumo_gap_ev": _gap_ev(res, system.uhf)}
        if settings["gradient"]:
            grad = np.asarray(res.get("gradient"), float) * KCAL_PER_HARTREE * BOHR_PER_ANGSTROM
            values["gradient_kcal_mol_angstrom"] = grad.ravel().tolist()  # flat 3N, as the other tiers
        return Outcome(values=values, converged=True, warnings=_unused_keywords(spec))

    # ---------------------------------------------------------------- optimize
    def task_optimize(self, spec: CalcSpec) -> Outcome:
        """Relax all fragments together (one complex) with ASE's BFGS/LBFGS on tblite forces."""
        from ase.units import kcal, mol

        frags = list(spec.molecules)
        settings = self.settings(spec)
        fmax, max_steps = float(settings["fmax_ev_angstrom"]), int(settings["max_steps"])
        r = relax(frags, _evaluate(_System(frags, spec, settings)), fmax, max_steps, str(settings["optimizer"]))
        warnings = _unused_keywords(spec) + _broken_bonds(frags, r.molecules)
        if not r.converged:
            warnings.append(f"optimisation not converged in {max_steps} steps "
                            f"(max force {r.max_force_ev_angstrom:.4f} > fmax {fmax} eV/Å)")
        values = {"energy_kcal_mol": r.energy_ev / (kcal / mol),
                  "initial_energy_kcal_mol": r.initial_energy_ev / (kcal / mol), "n_steps": r.n_steps, "n_energy_calls": r.n_calls,
                  "max_force_ev_angstrom": r.max_force_ev_angstrom, "fmax_ev_angstrom": fmax}
        return Outcome(values=values, artifacts={"molecules": [m.model_dump(mode="json") for m in r.molecules]},
                       converged=r.converged, warnings=warnings)

    # ---------------------------------------------------------------- ensembles
    def _relax_one(self, molecule: Molecule, spec: CalcSpec) -> Conformer:
        """One conformer at GFN2-xTB: relaxed (or at its MMFF94 geometry), with its dipole there."""
        settings = self.settings(spec)
        system = _System([molecule], spec, settings, origin="com")
        warnings: list[str] = []
        converged = True
        if settings["relax"]:
            r = relax([molecule], _evaluate(system), float(settings["fmax_ev_angstrom"]),
                      int(settings["max_steps"]), str(settings["optimizer"]))
            warnings = _broken_bonds([molecule], r.molecules)
            molecule, converged = r.molecules[0], r.converged
        res = system.singlepoint(molecule.coords)
        dipole = float(np.linalg.norm(np.asarray(res.get("dipole"), float)) * DEBYE_PER_AU)
        return Conformer(float(res.get("energy")) * KCAL_PER_HARTREE, molecule, dipole, converged, warnings)

    def task_conformers(self, spec: CalcSpec) -> Outcome:
        out = conformers_task(spec, self.settings(spec), self._relax_one)
        out.warnings = _unused_keywords(spec) + out.warnings
        return out

    def task_isomer_energies(self, spec: CalcSpec) -> Outcome:
        out = isomer_energies_task(spec, self.settings(spec), self._relax_one)
        out.warnings = _unused_keywords(spec) + out.warnings
        return out

    # ---------------------------------------------------------------- crystals
    def periodic_energy(self, fragments: Sequence[Molecule], cell, spec: CalcSpec) -> Outcome:
        """Energy of one periodic cell; with relax='positions' the atoms relax (BFGS) in the
        fixed cell.

        tblite samples the Brillouin zone at Gamma only, so a narrow cell couples each
        molecule to its own periodic image: adamantane's 6.6 Å cell is 6 kcal/mol per
        molecule off with GFN2 (4.7 with GFN1). The cell is therefore computed as the
        smallest supercell whose face-to-face widths reach ``supercell_min_width_angstrom``
        (default 8.5 Å; see benchmarks/xtb_periodic.py), and relaxed with every image
        moving alike: the forces on the unit cell's atoms are the image average.
        """
        from ase.units import kcal, mol

        from .periodic import image_shifts, perpendicular_widths, replicate, supercell_repeats

        frags = list(fragments)
        cell = np.asarray(cell, float)
        settings = self.settings(spec)
        repeats = supercell_repeats(cell, float(settings["supercell_min_width_angstrom"]))
        system = _System(replicate(frags, cell, repeats), spec, settings, cell=cell * np.array(repeats)[:, None])
        relaxing = settings["relax"] == "positions"
        r = relax(frags, _evaluate(system, image_shifts(cell, repeats)), float(settings["fmax_ev_angstrom"]),
                  int(settings["max_steps"]) if relaxing else 0, cell=cell)
        values = {"unrelaxed_cell_energy_kcal_mol": r.initial_energy_ev / (kcal / mol), "supercell": list(repeats),
                  "supercell_atoms": len(system.symbols),
                  "supercell_min_width_angstrom": round(float(min(perpendicular_widths(cell) * repeats)), 3)}
        artifacts, converged, warnings = {}, True, _periodic_gfn2_warnings(system.method)
        if relaxing:
            converged = r.converged
            if not converged:
                warnings.append(f"cell relaxation not converged in {int(settings['max_steps'])} steps")
            values["n_steps"] = r.n_steps
            artifacts["molecules"] = [m.model_dump(mode="json") for m in r.molecules]
        values["energy_kcal_mol"] = r.energy_ev / (kcal / mol)
        return Outcome(values=values, artifacts=artifacts, converged=converged, warnings=warnings)

    # ---------------------------------------------------------------- response
    def task_polarizability(self, spec: CalcSpec) -> Outcome:
        """Static dipole polarisability (Å^3): six SCCs in a uniform field +-F along x, y, z.

        GFN2-xTB's minimal valence basis has no polarisation functions on H and few elsewhere, so its
        field response is far from the real one (benchmarks/polarisabilities.py: water 0.37 Å^3 against
        1.45 measured, CCl4 22 against 11): a number for the record, not a tier to trust.
        """
        settings = self.settings(spec)
        field = float(settings["field_au"])

        def dipole(f: np.ndarray) -> np.ndarray:
            system = _System(spec.molecules, spec, settings, origin="com", field_au=f)
            return np.asarray(system.singlepoint().get("dipole"), float)

        values = polarizability_values(finite_field_polarizability(dipole, field), field)
        return Outcome(values=values, converged=True, warnings=_unused_keywords(spec))


    # ---------------------------------------------------------------- properties
    def task_properties(self, spec: CalcSpec) -> Outcome:
        """Dipole (D, about the centre of mass), Mulliken charges of the tight-binding
        basis, HOMO-LUMO gap.

        No quadrupole: tblite 0.8's packed molecular quadrupole does not transform as
        a tensor under rotation with any one off-diagonal convention (its point-charge
        part has off-diagonals 3ab, twice Buckingham's; the whole does not fit a single
        factor to better than ~0.005 e*Bohr^2 on water), so it is not reported.
        """
        system = _System(spec.molecules, spec, self.settings(spec), origin="com")
        res = system.singlepoint()
        e_h = float(res.get("energy"))
        dip = np.asarray(res.get("dipole"), float) * DEBYE_PER_AU
        charges = np.asarray(res.get("charges"), float)
        values = {
            "energy_kcal_mol": e_h * KCAL_PER_HARTREE,
            "dipole_debye": dip.tolist(),
            "dipole_magnitude_debye": float(np.linalg.norm(dip)),
            "dipole_origin": "centre of mass",
            "mulliken_charges": charges.tolist(),
            "charges_scheme": f"Mulliken ({system.method} minimal valence basis)",
            "homo_lumo_gap_ev": _gap_ev(res, system.uhf),
        }
        return Outcome(values=values, converged=True, warnings=_unused_keywords(spec))
