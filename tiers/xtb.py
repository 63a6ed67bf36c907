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
gap; no quadrupole, see :meth:`XTBHarness.task_properties`).

Keywords (all optional): ``gradient`` (False), ``accuracy`` (tblite's 1.0; lower
is tighter), ``max_iter`` (250 SCC cycles), ``electronic_temperature_k`` (300 K),
``solvent`` (a named ALPB solvent such as ``"water"``; gas phase by default),
``spin_polarization`` (False: as the xtb program, open shells only fix the
number of unpaired electrons; True adds tblite's spin-polarisation term, spGFN),
and for optimize ``fmax_ev_angstrom`` (alias ``fmax``, 0.01 eV/Å), ``max_steps``
(500) and ``optimizer`` (``"BFGS"`` or ``"LBFGS"``). ``lattice_energy`` takes
``cell_angstrom``, ``relax`` (``"positions"`` or ``"none"``) and
``supercell_min_width_angstrom`` (8.5): tblite samples Gamma only, so cells are
computed as supercells at least that wide (see :meth:`XTBHarness.periodic_energy`).

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
from .errors import CalcError, ConvergenceError, EngineMissingError, InputError
from .harness import KCAL_PER_HARTREE, Harness, Outcome
from .spec import CalcSpec

log = logging.getLogger(__name__)

ANGSTROM_PER_BOHR = 0.529177210903  # CODATA 2018
BOHR_PER_ANGSTROM = 1.0 / ANGSTROM_PER_BOHR
DEBYE_PER_AU = 2.541746473  # e*Bohr in Debye
EV_PER_HARTREE = 27.211386245988
KELVIN_TO_HARTREE = 3.166808578545117e-6  # Boltzmann constant in Eh/K
MIN_DISTANCE_ANGSTROM = 0.5  # closer atoms are an input error, not a calculation

DEFAULT_SUPERCELL_WIDTH = 8.5  # Å, face to face: adamantane converged to 0.03 kcal/mol at 8.9 Å
_METHODS = {"gfn2-xtb": "GFN2-xTB", "gfn1-xtb": "GFN1-xTB"}
_KEYWORDS = {"gradient", "accuracy", "max_iter", "electronic_temperature_k", "solvent", "spin_polarization",
             "fmax", "fmax_ev_angstrom", "max_steps", "optimizer", "cell_angstrom", "relax",
             "supercell_min_width_angstrom"}


# ------------------------------------------------------------------ the system
class _System:
    """One tblite calculator for the fragments of a spec, taken as one system.

    Coordinates can be updated (optimisation) and the previous wavefunction is
    reused as the SCC guess.
    """

    def __init__(self, fragments: Sequence[Molecule], spec: CalcSpec, origin: str = "input",
                 cell: np.ndarray | None = None):
        from tblite.exceptions import TBLiteRuntimeError, TBLiteTypeError, TBLiteValueError
        from tblite.interface import Calculator

        self._runtime_error = TBLiteRuntimeError
        self._input_errors = (TBLiteValueError, TBLiteTypeError)
        self.label = "+".join(f.label for f in fragments)
        self.method = _METHODS[spec.method.lower()]
        self.symbols = [s for f in fragments for s in f.symbols]
        self.numbers = np.array([z for f in fragments for z in f.atomic_numbers], dtype=np.int32)
        self.sizes = [f.n_atoms for f in fragments]
        coords = np.vstack([f.coords for f in fragments])
        self.shift = np.zeros(3)
        if origin == "com":  # the dipole of a charged system depends on the origin
            from ase.data import atomic_masses

            mass = atomic_masses[self.numbers]
            self.shift = (mass[:, None] * coords).sum(0) / mass.sum()
        _check_distances(self.symbols, coords, self.label)
        self.charge = sum(f.charge for f in fragments)
        self.uhf = sum(f.multiplicity - 1 for f in fragments)
        kw = spec.keywords
        self.max_iter = int(kw.get("max_iter", 250))
        try:
            periodic = {} if cell is None else {"lattice": np.asarray(cell, float) * BOHR_PER_ANGSTROM,
                                                "periodic": np.array([True, True, True])}
            self.calc = Calculator(self.method, self.numbers, (coords - self.shift) * BOHR_PER_ANGSTROM,
                                   charge=float(self.charge), uhf=self.uhf, **periodic,
                                   color=False, logger=lambda msg: log.debug("tblite: %s", msg))
            self.calc.set("verbosity", 0)
            self.calc.set("max-iter", self.max_iter)
            self.calc.set("accuracy", float(kw.get("accuracy", 1.0)))
            if "electronic_temperature_k" in kw:
                self.calc.set("temperature", float(kw["electronic_temperature_k"]) * KELVIN_TO_HARTREE)
            if kw.get("solvent"):
                self.calc.add("alpb-solvation", str(kw["solvent"]))
            if kw.get("spin_polarization"):
                self.calc.add("spin-polarization", 1.0)
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
    extra = sorted(set(spec.keywords) - _KEYWORDS)
    return [f"xtb ignored keywords it does not know: {', '.join(extra)}"] if extra else []


_ASE_CALCULATOR = None


def _ase_calculator_class():
    """An ASE calculator on a :class:`_System` (defined on first use: ASE is imported lazily)."""
    global _ASE_CALCULATOR
    if _ASE_CALCULATOR is None:
        from ase.calculators.calculator import Calculator, all_changes
        from ase.units import Bohr, Hartree

        class TBLiteSystemCalculator(Calculator):
            implemented_properties = ["energy", "forces"]

            def __init__(self, system: _System, image_shifts: np.ndarray | None = None, **kwargs):
                super().__init__(**kwargs)
                self.system = system
                # system = one copy of the atoms per lattice translation (Å), image by image
                self.shifts = np.zeros((1, 3)) if image_shifts is None else np.asarray(image_shifts, float)
                self.n_calls = 0

            def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
                super().calculate(atoms, properties, system_changes)
                n = len(self.shifts)  # every image moves with the cell's atoms
                xyz = (self.atoms.get_positions()[None] + self.shifts[:, None]).reshape(-1, 3)
                res = self.system.singlepoint(xyz)
                self.n_calls += 1
                grad = np.asarray(res.get("gradient"), float).reshape(n, -1, 3)
                # E per cell = E(supercell) / n; its gradient is the mean over the images
                self.results["energy"] = float(res.get("energy")) / n * Hartree
                self.results["forces"] = -grad.mean(axis=0) * Hartree / Bohr

        _ASE_CALCULATOR = TBLiteSystemCalculator
    return _ASE_CALCULATOR


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


# ------------------------------------------------------------------ the harness
class XTBHarness(Harness):
    """GFN2-xTB / GFN1-xTB (tblite): energies, gradients, geometries, dipoles and charges."""

    name = "xtb"
    tier = 2
    methods = ("GFN2-xTB", "GFN1-xTB")
    tasks = frozenset({"energy", "interaction_energy", "optimize", "properties", "lattice_energy"})
    max_atoms = 3000  # dense diagonalisation: minutes per SCC beyond this on a few cores
    supports_open_shell = True
    supports_charged = True
    engine_modules = ("tblite.interface",)

    @classmethod
    def versions(cls) -> dict[str, str]:
        try:
            # "recipe" is bumped when a result changes for the same spec (2: periodic cells as supercells)
            return {"tblite": metadata.version("tblite"), "recipe": "2"}
        except metadata.PackageNotFoundError:
            raise EngineMissingError("tblite is not installed (pip install tblite)") from None

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        if spec.task == "optimize" and str(spec.keywords.get("optimizer", "BFGS")).upper() not in ("BFGS", "LBFGS"):
            raise InputError(f"optimizer must be BFGS or LBFGS, got {spec.keywords['optimizer']!r}")

    # ---------------------------------------------------------------- energy
    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        system = _System(fragments, spec)
        res = system.singlepoint()
        e_h = float(res.get("energy"))
        values: dict[str, Any] = {"energy_kcal_mol": e_h * KCAL_PER_HARTREE, "energy_hartree": e_h,
                                  "homo_lumo_gap_ev": _gap_ev(res, system.uhf)}
        if spec.keywords.get("gradient"):
            grad = np.asarray(res.get("gradient"), float) * KCAL_PER_HARTREE * BOHR_PER_ANGSTROM
            values["gradient_kcal_mol_angstrom"] = grad.ravel().tolist()  # flat 3N, as the other tiers
        return Outcome(values=values, converged=True, warnings=_unused_keywords(spec))

    # ---------------------------------------------------------------- optimize
    def task_optimize(self, spec: CalcSpec) -> Outcome:
        """Relax all fragments together (one complex) with ASE's BFGS/LBFGS on tblite forces."""
        from ase import Atoms
        from ase.optimize import BFGS, LBFGS

        frags = list(spec.molecules)
        kw = spec.keywords
        fmax = float(kw.get("fmax_ev_angstrom", kw.get("fmax", 0.01)))
        max_steps = int(kw.get("max_steps", 500))
        optimizer = {"BFGS": BFGS, "LBFGS": LBFGS}[str(kw.get("optimizer", "BFGS")).upper()]
        system = _System(frags, spec)
        calc = _ase_calculator_class()(system)
        atoms = Atoms(symbols=system.symbols, positions=np.vstack([f.coords for f in frags]))
        atoms.calc = calc
        e0 = atoms.get_potential_energy()
        opt = optimizer(atoms, logfile=None)
        opt.run(fmax=fmax, steps=max_steps)
        forces = atoms.get_forces()
        max_force = float(np.linalg.norm(forces, axis=1).max())
        converged = max_force <= fmax
        xyz = atoms.get_positions()
        relaxed, k = [], 0
        for f in frags:
            relaxed.append(f.with_coords(xyz[k : k + f.n_atoms]))
            k += f.n_atoms
        from ase.units import kcal, mol

        e1 = atoms.get_potential_energy()
        warnings = _unused_keywords(spec) + _broken_bonds(frags, relaxed)
        if not converged:
            warnings.append(f"optimisation not converged in {max_steps} steps "
                            f"(max force {max_force:.4f} > fmax {fmax} eV/Å)")
        values = {"energy_kcal_mol": e1 / (kcal / mol), "initial_energy_kcal_mol": e0 / (kcal / mol),
                  "n_steps": int(opt.nsteps), "n_energy_calls": calc.n_calls,
                  "max_force_ev_angstrom": max_force, "fmax_ev_angstrom": fmax}
        return Outcome(values=values, artifacts={"molecules": [m.model_dump(mode="json") for m in relaxed]},
                       converged=converged, warnings=warnings)

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
        from ase import Atoms
        from ase.optimize import BFGS
        from ase.units import kcal, mol

        from .periodic import image_shifts, perpendicular_widths, replicate, supercell_repeats

        frags = list(fragments)
        cell = np.asarray(cell, float)
        min_width = float(spec.keywords.get("supercell_min_width_angstrom", DEFAULT_SUPERCELL_WIDTH))
        repeats = supercell_repeats(cell, min_width)
        system = _System(replicate(frags, cell, repeats), spec, cell=cell * np.array(repeats)[:, None])
        calc = _ase_calculator_class()(system, image_shifts=image_shifts(cell, repeats))
        atoms = Atoms(symbols=[s for f in frags for s in f.symbols], positions=np.vstack([f.coords for f in frags]),
                      cell=cell, pbc=True)
        atoms.calc = calc
        e0 = atoms.get_potential_energy() / (kcal / mol)
        values = {"unrelaxed_cell_energy_kcal_mol": e0, "supercell": list(repeats),
                  "supercell_atoms": len(system.symbols),
                  "supercell_min_width_angstrom": round(float(min(perpendicular_widths(cell) * repeats)), 3)}
        artifacts, converged, warnings = {}, True, []
        if system.method == "GFN2-xTB" and _tblite_version() < (0, 7):
            # fixed upstream in 0.7.0 (tblite#343, issue #285)
            warnings.append("periodic GFN2-xTB: tblite < 0.7 sums the multipole Ewald terms wrongly "
                            "(tblite#285); upgrade tblite")
        elif system.method == "GFN2-xTB" and _tblite_version() <= (0, 8):
            # measured with tblite 0.8.0 (benchmarks/xtb_periodic.py --clusters): ammonia at fixed geometry,
            # periodic GFN2 -4.8 kcal/mol vs -7.9 from the bulk limit of molecular GFN2 clusters, while
            # GFN1 agrees (-7.6 vs -7.6); so the gap is periodic GFN2's, not the recipe's
            warnings.append("periodic GFN2-xTB (tblite 0.8) underbinds molecular crystals: X23 MSE +3.9 kcal/mol "
                            "per molecule on 11 crystals (GFN1-xTB +1.5, the default for lattice energies)")
        if spec.keywords.get("relax", "positions") == "positions":
            fmax = float(spec.keywords.get("fmax_ev_angstrom", 0.05))
            max_steps = int(spec.keywords.get("max_steps", 300))
            opt = BFGS(atoms, logfile=None)
            opt.run(fmax=fmax, steps=max_steps)
            converged = float(np.linalg.norm(atoms.get_forces(), axis=1).max()) <= fmax
            if not converged:
                warnings.append(f"cell relaxation not converged in {max_steps} steps")
            values["n_steps"] = int(opt.nsteps)
            xyz, k, relaxed = atoms.get_positions(), 0, []
            for f in frags:
                relaxed.append(f.with_coords(xyz[k:k + f.n_atoms]))
                k += f.n_atoms
            artifacts["molecules"] = [m.model_dump(mode="json") for m in relaxed]
        values["energy_kcal_mol"] = atoms.get_potential_energy() / (kcal / mol)
        return Outcome(values=values, artifacts=artifacts, converged=converged, warnings=warnings)

    # ---------------------------------------------------------------- properties
    def task_properties(self, spec: CalcSpec) -> Outcome:
        """Dipole (D, about the centre of mass), Mulliken charges of the tight-binding
        basis, HOMO-LUMO gap.

        No quadrupole: tblite 0.8's packed molecular quadrupole does not transform as
        a tensor under rotation with any one off-diagonal convention (its point-charge
        part has off-diagonals 3ab, twice Buckingham's; the whole does not fit a single
        factor to better than ~0.005 e*Bohr^2 on water), so it is not reported.
        """
        system = _System(spec.molecules, spec, origin="com")
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
