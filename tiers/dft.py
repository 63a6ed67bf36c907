"""Tier 3: Kohn-Sham DFT with PySCF (CPU) or gpu4pyscf (GPU), D3(BJ) dispersion.

Methods are ``<XC>`` or ``<XC>-D3BJ``. The D3(BJ) correction comes from the
``dftd3`` package (simple-dftd3's Python API) and is added to the SCF energy and
gradient here rather than through PySCF's ``mf.disp``: that route needs the
separate ``pyscf-dispersion`` package (not installed), and doing it ourselves
lets counterpoise runs count only the real atoms, reports the dispersion part
separately and keeps the same D3 code the design's benchmarks used.

Settings that do not change the result stay out of the spec: the device (CPU or
GPU) comes from ``TIERCHEM_DEVICE`` (auto|cpu|gpu). The device used is recorded
in ``values['device']`` as provenance only; it is not part of the cache key, and
CPU and GPU energies agree to ~1e-6 Eh (``benchmarks/gpu_dft.py``).

Keywords (all optional; defaults in :attr:`PySCFDFTHarness.default_parameters`):
``density_fit``, ``counterpoise``, ``uncorrected`` (also the monomers in their own
basis), ``gradient``, ``grid_level``, ``max_cycle``, ``conv_tol``, ``level_shift``
(the SCF fallback), ``stability``, ``mk_density``, ``esp_directions`` (rays per
atom), ``isovalue`` (au), and ``fmax_ev_angstrom`` and ``max_steps`` for optimize.

Solvation (``energy``, ``optimize``, ``properties``, ``conformers``, ``isomer_energies``): ``solvent``
(a name in :data:`SOLVENT_DIELECTRIC`, e.g. ``"water"``: eps 78.3553) or ``dielectric`` (a number)
puts the molecule in PySCF's polarisable continuum, ``solvent_model`` ``"C-PCM"`` (default),
``"IEF-PCM"`` or ``"ddCOSMO"``; the energy is then the free energy in the continuum.

``polarizability``: the static dipole polarisability, analytic: one SCF and the coupled-perturbed
Kohn-Sham response to the three dipole perturbations (:func:`cphf_polarizability`, on PySCF's cphf solver).
``interaction_energies``: several counterpoise dimers in one spec, fragments in consecutive pairs.

``conformers`` and ``isomer_energies`` (see :mod:`.ensembles`) take the MMFF94 ensemble and, by
default (``relax=False``), a single point at each MMFF94 geometry: one DFT relaxation costs minutes
per conformer on 2 cores; ``relax=True`` relaxes each at DFT (ASE BFGS).
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ..chem.elements import SIGMA_HOLE_HALOGENS as HALOGENS
from ..chem.elements import bondi_vdw_radius as _vdw
from ..chem.molecule import ATOMIC_NUMBER, Molecule
from .ase_bridge import relax
from .counterpoise import choose_interaction, counterpoise_energies
from .ensembles import ENSEMBLE_PARAMETERS, Conformer, conformers_task, isomer_energies_task
from .errors import ConvergenceError, InputError
from .harness import (
    KCAL_PER_EV, KCAL_PER_HARTREE, Harness, Outcome, combined_geometry, engine_version, split_coords,
)
from .pyscf_common import (
    BOHR_PER_ANGSTROM, BUCKINGHAM_PER_AU, DEBYE_PER_AU, SCF_DEFAULTS, build_mole, choose_device,
    SCFScratch, default_max_memory_mb, run_resumable, run_scf, scf_seconds, total_dm, worst_strategy,
)
from .spec import CalcSpec
from .xtb import polarizability_values

log = logging.getLogger(__name__)

# Functionals offered: tierchem name -> PySCF xc name. "-D3BJ" variants exist for
# those with D3(BJ) parameters; the -V functionals carry VV10 non-local correlation.
FUNCTIONALS = {"B3LYP": "B3LYP", "PBE0": "PBE0", "R2SCAN": "R2SCAN", "WB97X-V": "WB97X-V", "WB97M-V": "WB97M-V"}
D3BJ_FUNCTIONALS = ("B3LYP", "PBE0", "R2SCAN")

# Bondi (1964) van der Waals radii (_vdw: chem.elements.BONDI_1964_VDW_RADII, H 1.20 Å) bound the
# isosurface search; the Merz-Kollman shells use the MK radii for H, C, N, O, F, P, S, Cl and
# Bondi's for the rest.
_MK_RADII = {"H": 1.20, "C": 1.50, "N": 1.50, "O": 1.40, "F": 1.35, "P": 1.80, "S": 1.75, "Cl": 1.70}


# Static dielectric constants at 298 K (the values of the Minnesota solvent descriptor database,
# as PySCF's and xTB's ALPB tables use): the polar continuum standing in for a crystal's field.
SOLVENT_DIELECTRIC = {"water": 78.3553, "dmso": 46.826, "acetonitrile": 35.688, "methanol": 32.613,
                      "ethanol": 24.852, "acetone": 20.493, "dichloromethane": 8.93, "thf": 7.4257,
                      "chloroform": 4.7113, "toluene": 2.3741, "benzene": 2.2706, "hexane": 1.8819}
SOLVENT_MODELS = ("C-PCM", "IEF-PCM", "ddCOSMO")
_SOLVATED_TASKS = ("energy", "optimize", "properties", "conformers", "isomer_energies")


def dielectric_of(settings: dict) -> float | None:
    """The continuum's dielectric constant from ``dielectric`` or a named ``solvent``; None: gas phase."""
    if settings.get("dielectric") is not None:
        return float(settings["dielectric"])
    name = settings.get("solvent")
    if not name:
        return None
    try:
        return SOLVENT_DIELECTRIC[str(name).lower()]
    except KeyError:
        raise InputError(f"unknown solvent {name!r}; known: {', '.join(SOLVENT_DIELECTRIC)} "
                         "(or give dielectric=EPS)") from None


def _with_solvent(mf, settings: dict):
    eps = dielectric_of(settings)
    if eps is None:
        return mf
    model = str(settings["solvent_model"])
    if model.lower() == "ddcosmo":
        mf = mf.DDCOSMO()
    else:
        mf = mf.PCM()
        mf.with_solvent.method = model.upper()
    mf.with_solvent.eps = eps
    return mf


def parse_method(method: str) -> tuple[str, str | None]:
    """('B3LYP', 'd3bj') from 'B3LYP-D3BJ'; ('WB97X-V', None) from 'wB97X-V'."""
    m = method.upper()
    disp = None
    if m.endswith("-D3BJ"):
        m, disp = m[: -len("-D3BJ")], "d3bj"
        if m not in D3BJ_FUNCTIONALS:
            raise InputError(f"no D3(BJ) parameters for {m}; D3(BJ) is offered for {', '.join(D3BJ_FUNCTIONALS)}")
    if m not in FUNCTIONALS:
        raise InputError(f"unknown functional {method!r}; offered: {', '.join(PySCFDFTHarness.methods)}")
    return FUNCTIONALS[m], disp


def fibonacci_sphere(n: int) -> np.ndarray:
    """``n`` nearly uniform unit vectors (golden-spiral points), deterministic."""
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    phi = np.pi * (1.0 + 5.0 ** 0.5) * k
    r = np.sqrt(1.0 - z * z)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


def d3bj(symbols: Sequence[str], coords_angstrom: np.ndarray, xc: str, gradient: bool = False):
    """D3(BJ) dispersion energy (Eh) and gradient (Eh/bohr, or None) from simple-dftd3."""
    from dftd3.interface import DispersionModel, RationalDampingParam

    numbers = np.array([ATOMIC_NUMBER[s] for s in symbols])
    model = DispersionModel(numbers, np.asarray(coords_angstrom, float) * BOHR_PER_ANGSTROM)
    res = model.get_dispersion(RationalDampingParam(method=xc.lower()), grad=gradient)
    return float(res["energy"]), (np.asarray(res["gradient"]) if gradient else None)


def electrostatic_potential(mol, dm: np.ndarray, points_bohr: np.ndarray) -> np.ndarray:
    """V(r) in Eh/e at points (bohr): nuclei (ECP-effective charges) minus electrons."""
    points_bohr = np.asarray(points_bohr, float).reshape(-1, 3)
    charges = mol.atom_charges()
    coords = mol.atom_coords()
    d = np.linalg.norm(points_bohr[:, None, :] - coords[None, :, :], axis=2)
    v_nuc = (charges[None, :] / d).sum(axis=1)
    nao = mol.nao
    batch = max(1, int(2e8 // (8 * nao * nao)))  # ~200 MB of integrals at a time
    v_el = np.empty(len(points_bohr))
    for i in range(0, len(points_bohr), batch):
        ints = mol.intor("int1e_grids", grids=points_bohr[i : i + batch])
        v_el[i : i + batch] = np.einsum("gij,ij->g", ints, dm)
    return v_nuc - v_el


def electron_density(mol, dm: np.ndarray, points_bohr: np.ndarray) -> np.ndarray:
    from pyscf.dft import numint

    out = np.empty(len(points_bohr))
    batch = max(1000, int(1e8 // (8 * mol.nao)))
    for i in range(0, len(points_bohr), batch):
        ao = numint.eval_ao(mol, points_bohr[i : i + batch])
        out[i : i + batch] = numint.eval_rho(mol, ao, dm)
    return out


def isosurface_along_rays(mol, dm, origins_bohr: np.ndarray, directions: np.ndarray, r_max_bohr: np.ndarray,
                          isovalue: float = 1e-3, step_bohr: float = 0.2, iterations: int = 30):
    """Outermost point where rho = isovalue along each ray ``origin + r * direction``.

    Rho is scanned outward on a radial grid, the last crossing is bracketed and
    refined by bisection (all rays at once). Returns (points_bohr, r_bohr, ok).
    """
    n_rays = len(origins_bohr)
    r_grid = np.arange(0.3, float(np.max(r_max_bohr)) + step_bohr, step_bohr)
    pts = origins_bohr[:, None, :] + r_grid[None, :, None] * directions[:, None, :]
    rho = electron_density(mol, dm, pts.reshape(-1, 3)).reshape(n_rays, len(r_grid))
    above = rho >= isovalue
    beyond = r_grid[None, :] > r_max_bohr[:, None]
    above &= ~beyond
    has = above.any(axis=1)
    last = np.where(has, len(r_grid) - 1 - np.argmax(above[:, ::-1], axis=1), 0)
    ok = has & (last < len(r_grid) - 1)
    lo = r_grid[np.clip(last, 0, len(r_grid) - 1)]
    hi = r_grid[np.clip(last + 1, 0, len(r_grid) - 1)]
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        rho_mid = electron_density(mol, dm, origins_bohr + mid[:, None] * directions)
        inside = rho_mid >= isovalue
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    r = 0.5 * (lo + hi)
    return origins_bohr + r[:, None] * directions, r, ok


def _halogen_partners(fragments: Sequence[Molecule]) -> dict[int, int]:
    """Global index of each Cl/Br/I -> the atom it is bonded to (its sigma-hole axis)."""
    out: dict[int, int] = {}
    offset = 0
    for frag in fragments:
        xyz = frag.coords
        for i, s in enumerate(frag.symbols):
            if s not in HALOGENS:
                continue
            partners = frag.neighbours()[i]
            if not partners and frag.n_atoms > 1:  # no bond table: nearest atom
                d = np.linalg.norm(xyz - xyz[i], axis=1)
                d[i] = np.inf
                partners = [int(np.argmin(d))]
            if partners:
                # several bonds (hypervalent): the axis opposite the nearest partner
                d = [np.linalg.norm(xyz[p] - xyz[i]) for p in partners]
                out[offset + i] = offset + partners[int(np.argmin(d))]
        offset += frag.n_atoms
    return out


def _esp_rays(fragments: Sequence[Molecule], symbols: Sequence[str], xyz_bohr: np.ndarray, n_dir: int):
    """(origins, directions, r_max, halogens) of the ESP scan: ``n_dir`` rays from every atom, atom
    by atom, then one from each Cl/Br/I along its bond axis (the sigma hole); rays end at 2.5 x vdW."""
    n_atoms = len(symbols)
    r_max = np.array([2.5 * _vdw(s) * BOHR_PER_ANGSTROM for s in symbols])
    origins = np.repeat(xyz_bohr, n_dir, axis=0)
    directions = np.tile(fibonacci_sphere(n_dir), (n_atoms, 1))
    r_max_all = np.repeat(r_max, n_dir)
    partners = _halogen_partners(fragments)
    hal = sorted(partners)
    if hal:  # the sigma-hole rays ride along in the same scan
        axis = np.array([xyz_bohr[i] - xyz_bohr[partners[i]] for i in hal])
        axis /= np.linalg.norm(axis, axis=1)[:, None]
        origins = np.vstack([origins, xyz_bohr[hal]])
        directions = np.vstack([directions, axis])
        r_max_all = np.concatenate([r_max_all, r_max[hal]])
    return origins, directions, r_max_all, hal


def _surface_potential(mol, dm, xyz_bohr: np.ndarray, pts: np.ndarray, ok: np.ndarray, n_dir: int):
    """(V on the kept surface points, their atoms, V at the sigma-hole points), kcal/mol/e.

    A surface point is kept only where its own atom is the nearest: the outer surface, once.
    """
    n_surf = len(xyz_bohr) * n_dir
    surf, owner = pts[:n_surf], np.repeat(np.arange(len(xyz_bohr)), n_dir)
    nearest = np.argmin(np.linalg.norm(surf[:, None, :] - xyz_bohr[None, :, :], axis=2), axis=1)
    keep = ok[:n_surf] & (nearest == owner)
    if not keep.any():
        raise ConvergenceError("no point of the 0.001 au isosurface was found")
    v_all = electrostatic_potential(mol, dm, np.vstack([surf[keep], pts[n_surf:]])) * KCAL_PER_HARTREE
    return v_all[: keep.sum()], owner[keep], v_all[keep.sum():]


class PySCFDFTHarness(Harness):
    name = "pyscf"
    tier = 3
    methods = ("B3LYP-D3BJ", "PBE0-D3BJ", "R2SCAN-D3BJ", "B3LYP", "PBE0", "R2SCAN", "WB97X-V", "WB97M-V")
    tasks = frozenset({"energy", "interaction_energy", "optimize", "properties", "esp", "conformers",
                       "isomer_energies", "polarizability", "interaction_energies"})
    max_atoms = 60  # ~min per SCF at def2-SVP on 2 cores; beyond that use xTB or a model system
    supports_open_shell = True
    engine_modules = ("pyscf", "dftd3.interface")
    default_parameters = {
        **SCF_DEFAULTS,  # conv_tol 1e-9 Eh, max_cycle 100, level shift 0.3 Eh on failure
        "grid_level": 3,  # PySCF's own default, set explicitly
        "density_fit": True,
        "stability": False,
        "gradient": False,
        "counterpoise": True,  # interaction_energy: Boys-Bernardi
        "uncorrected": True,  # ... and the monomers in their own basis too
        "mk_density": 1.0,  # properties: Merz-Kollman points per Å^2
        "keep_esp_points": False,  # properties: the MK points and V there in the artifacts
        "isovalue": 1e-3,  # esp: the density isosurface (au)
        "esp_directions": 200,  # esp: rays per atom
        "fmax_ev_angstrom": 0.02,  # optimize (ASE BFGS)
        "max_steps": 100,
        "solvent": None,  # gas phase; a name in SOLVENT_DIELECTRIC puts the molecule in a continuum
        "dielectric": None,  # or the continuum's dielectric constant directly
        "solvent_model": "C-PCM",  # PySCF: C-PCM, IEF-PCM or ddCOSMO
    }
    # ensembles: single points at the MMFF94 geometries of at most 4 conformers unless relax=True
    _ensemble = {**ENSEMBLE_PARAMETERS, "relax": False, "max_conformers": 4}
    # polarizability: a tight SCF (1e-10 Eh) under the CPKS response; the response's residual to 1e-5 (the
    # polarisability is quadratic in it: pyridine's is the same to 1e-5 Å^3 from 1e-3 to 1e-9)
    task_parameters = {"conformers": _ensemble, "isomer_energies": _ensemble,
                       "polarizability": {"conv_tol": 1e-10, "cphf_tol": 1e-5}}
    model_notes = ("D3(BJ) from simple-dftd3 (real atoms only in counterpoise runs); def2 ECP on elements "
                   "beyond Kr; Merz-Kollman charges on shells at 1.4-2.0 x vdW radii; ESP on the density "
                   "isosurface along rays from each atom and along each halogen's bond axis")

    def estimate_seconds(self, spec: CalcSpec) -> float:
        """A counterpoise dimer costs 3 SCFs in the dimer basis plus 2 monomers, an ESP scan ~2.5 SCFs;
        an ensemble ~2 conformers per molecule (x20 SCF+gradient steps when relaxed)."""
        if spec.task in ("conformers", "isomer_energies"):
            n = len(spec.molecules)
            one = scf_seconds(spec) / n ** 2.5  # scf_seconds counts all molecules' heavy atoms
            return 2 * n * one * (20 if self.settings(spec)["relax"] else 1)
        if spec.task == "interaction_energies":  # 3.5 SCFs of a dimer per dimer
            return 3.5 * len(spec.molecules) / 2 * scf_seconds(spec) / (len(spec.molecules) / 2) ** 2.5
        return scf_seconds(spec) * {"interaction_energy": 3.5, "esp": 2.5, "polarizability": 2.5}.get(spec.task, 1.0)

    @classmethod
    def versions(cls) -> dict[str, str]:
        out = {"pyscf": engine_version("pyscf"), "dftd3": engine_version("dftd3")}
        if choose_device() == "gpu":
            out["gpu4pyscf"] = engine_version("gpu4pyscf", "gpu4pyscf-cuda12x", "gpu4pyscf-cuda11x", "gpu4pyscf")
        return out

    scf_scratch: SCFScratch | None = None  # set while run() runs with a store (SCF restart)

    def run(self, spec: CalcSpec) -> Outcome:
        """As the base class, with each SCF resumable after an interruption (:func:`run_resumable`)."""
        return run_resumable(self, spec, super().run)

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        parse_method(spec.method)
        settings = self.settings(spec)
        if dielectric_of(settings) is not None:
            if spec.task not in _SOLVATED_TASKS:
                raise InputError(f"a continuum solvent is offered for {', '.join(_SOLVATED_TASKS)}, not {spec.task}")
            if str(settings["solvent_model"]).lower() not in {m.lower() for m in SOLVENT_MODELS}:
                raise InputError(f"solvent_model must be one of {', '.join(SOLVENT_MODELS)}, "
                                 f"got {settings['solvent_model']!r}")

    # ------------------------------------------------------------ internals
    def _scf(self, fragments: Sequence[Molecule], spec: CalcSpec, ghosts: Sequence[bool] | None = None,
             label: str | None = None):
        """Converged SCF of ``fragments`` (ghost fragments: basis functions only)."""
        from pyscf import dft

        xc, _ = parse_method(spec.method)
        kw = self.settings(spec)
        mol = build_mole(fragments, spec.basis or "def2-SVP", ghosts, max_memory_mb=default_max_memory_mb())

        def make_mf(m):
            mf = dft.RKS(m) if m.spin == 0 else dft.UKS(m)
            mf.xc = xc
            mf.grids.level = int(kw["grid_level"])
            if kw["density_fit"]:
                mf = mf.density_fit()
            return _with_solvent(mf, kw)

        label = label or "+".join(f.label for f in fragments)
        run = run_scf(make_mf, mol, kw, label, device=choose_device(), scratch=self.scf_scratch)
        if kw["stability"]:
            mo = run.mf.stability()[0]
            if run.mf.mo_coeff is not None and not np.allclose(np.asarray(mo), np.asarray(run.mf.mo_coeff)):
                run.warnings.append(f"{label}: SCF solution was unstable; re-converged from the stable direction")
                dm = run.mf.make_rdm1(mo, run.mf.mo_occ)
                run = run_scf(make_mf, mol, kw, label, device=run.device, dm0=dm, scratch=self.scf_scratch)
        return mol, run

    def _dispersion(self, fragments: Sequence[Molecule], spec: CalcSpec, gradient: bool = False):
        xc, disp = parse_method(spec.method)
        if disp is None:
            return 0.0, None
        symbols, xyz = combined_geometry(fragments)
        return d3bj(symbols, xyz, xc, gradient)

    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        mol, run = self._scf(fragments, spec)
        want_grad = bool(self.settings(spec)["gradient"])
        e_disp, g_disp = self._dispersion(fragments, spec, gradient=want_grad)
        e_scf = float(run.mf.e_tot)
        values = {
            "energy_kcal_mol": (e_scf + e_disp) * KCAL_PER_HARTREE,
            "energy_hartree": e_scf + e_disp,
            "scf_energy_kcal_mol": e_scf * KCAL_PER_HARTREE,
            "dispersion_energy_kcal_mol": e_disp * KCAL_PER_HARTREE,
            "homo_lumo_gap_ev": _gap_ev(run.mf),
            "scf_strategy": run.strategy,
            "device": run.device,
        }
        if want_grad:
            g = np.asarray(run.mf.nuc_grad_method().kernel())
            if g_disp is not None:
                g = g + g_disp
            values["gradient_kcal_mol_angstrom"] = (g * KCAL_PER_HARTREE * BOHR_PER_ANGSTROM).ravel().tolist()
        return Outcome(values=values, converged=True, warnings=run.warnings)

    # ---------------------------------------------------------------- tasks
    def task_interaction_energy(self, spec: CalcSpec) -> Outcome:
        """E(AB) - E(A) - E(B); with counterpoise (default) each monomer is computed
        in the dimer basis (the partner as ghost atoms, Boys-Bernardi)."""
        a, b = spec.molecules
        settings = self.settings(spec)
        cp = bool(settings["counterpoise"])
        warnings: list[str] = []
        strategies: list[str] = []
        devices: list[str] = []

        def e_of(frags, ghosts, label):
            _, run = self._scf(frags, spec, ghosts, label)
            warnings.extend(run.warnings)
            strategies.append(run.strategy)
            devices.append(run.device)
            return float(run.mf.e_tot)

        parts = counterpoise_energies(e_of, a, b, cp, bool(settings["uncorrected"]))
        e_ab = parts.dimer
        ed_ab = self._dispersion([a, b], spec)[0]
        ed_a = self._dispersion([a], spec)[0]
        ed_b = self._dispersion([b], spec)[0]
        e_disp_int = ed_ab - ed_a - ed_b
        values: dict = {"counterpoise": cp}
        if parts.monomers_dimer_basis:
            e_a_cp, e_b_cp = parts.monomers_dimer_basis
            values["interaction_energy_cp_kcal_mol"] = (e_ab - e_a_cp - e_b_cp + e_disp_int) * KCAL_PER_HARTREE
            values["monomer_energies_dimer_basis_kcal_mol"] = [(e_a_cp + ed_a) * KCAL_PER_HARTREE,
                                                               (e_b_cp + ed_b) * KCAL_PER_HARTREE]
        if parts.monomers:
            e_a, e_b = parts.monomers
            values["interaction_energy_uncorrected_kcal_mol"] = (e_ab - e_a - e_b + e_disp_int) * KCAL_PER_HARTREE
            values["monomer_energies_kcal_mol"] = [(e_a + ed_a) * KCAL_PER_HARTREE, (e_b + ed_b) * KCAL_PER_HARTREE]
        if parts.monomers_dimer_basis and parts.monomers:
            values["counterpoise_correction_kcal_mol"] = (values["interaction_energy_cp_kcal_mol"]
                                                          - values["interaction_energy_uncorrected_kcal_mol"])
        choose_interaction(values, cp)
        values["dimer_energy_kcal_mol"] = (e_ab + ed_ab) * KCAL_PER_HARTREE
        values["dispersion_interaction_kcal_mol"] = e_disp_int * KCAL_PER_HARTREE
        values["scf_strategy"] = worst_strategy(strategies)
        values["device"] = devices[0]
        return Outcome(values=values, converged=True, warnings=warnings)

    def task_properties(self, spec: CalcSpec) -> Outcome:
        """Dipole (D), traceless quadrupole (Buckingham, about the centre of mass),
        Mulliken charges and Merz-Kollman ESP-fitted charges."""
        frags = spec.molecules
        mol, run = self._scf(frags, spec)
        mf = run.mf
        dm = total_dm(mf)
        e_disp = self._dispersion(frags, spec)[0]
        dip = np.asarray(mf.dip_moment(unit="Debye", verbose=0), float)
        quad = _traceless_quadrupole(mol, dm)
        mulliken = np.asarray(mf.mulliken_pop(verbose=0)[1], float)
        symbols = [s for f in frags for s in f.symbols]
        points = merz_kollman_points(mol, symbols, float(self.settings(spec)["mk_density"]))
        esp_q, rrms, v = merz_kollman_charges(mol, dm, points)
        values = {
            "energy_kcal_mol": (float(mf.e_tot) + e_disp) * KCAL_PER_HARTREE,
            "dipole_debye": dip.tolist(),
            "dipole_magnitude_debye": float(np.linalg.norm(dip)),
            "quadrupole_buckingham": quad.tolist(),
            "quadrupole_origin": "centre of mass",
            "mulliken_charges": mulliken.tolist(),
            "esp_charges": esp_q.tolist(),
            "esp_charges_scheme": "Merz-Kollman (shells 1.4-2.0 x vdW, 1 pt/A^2, total-charge constraint)",
            "esp_fit_rrms": rrms,
            "scf_strategy": run.strategy,
            "device": run.device,
        }
        artifacts = {}
        if self.settings(spec)["keep_esp_points"]:  # for fitting a force field's charges to this ESP
            artifacts = {"esp_points_angstrom": (points / BOHR_PER_ANGSTROM).tolist(), "esp_potential_au": v.tolist()}
        return Outcome(values=values, converged=True, warnings=run.warnings, artifacts=artifacts)

    def task_polarizability(self, spec: CalcSpec) -> Outcome:
        """Static dipole polarisability (Å^3), analytic: one SCF, then the coupled-perturbed (CPHF/CPKS)
        response to the three dipole perturbations (origin at the nuclear charge centre; the continuum's
        response included when there is one). Agrees with six-SCF finite field (F = 0.002 au) to 1e-4 Å^3
        (water, CH3Cl at B3LYP/def2-SVP). Cost: the response is 2-4 SCFs, the XC kernel on the grid
        dominating (pyridine on one loaded core: SCF 37 s, response 82 s at cphf_tol 1e-4, 104 s at 1e-9,
        the same polarisability to 1e-5 Å^3); the finite field cost six SCFs. def2-SVP has no diffuse
        functions and underestimates it (benchmarks/polarisabilities.py)."""
        frags = spec.molecules
        _, run = self._scf(frags, spec)
        mf = run.mf.to_cpu() if run.device == "gpu" else run.mf
        alpha = cphf_polarizability(mf, float(self.settings(spec)["cphf_tol"]))
        values = polarizability_values(alpha, None, "analytic (coupled-perturbed Kohn-Sham)")
        values.update({"scf_strategy": run.strategy, "device": run.device})
        return Outcome(values=values, converged=True, warnings=run.warnings)

    def task_esp(self, spec: CalcSpec) -> Outcome:
        """The electrostatic potential on the rho = 0.001 au isosurface: V_s,max and
        V_s,min, per-atom extrema (each surface point belongs to its nearest atom),
        and for each C/X-bonded Cl, Br, I the V at the surface point on the
        Y-X axis extension (the sigma hole)."""
        frags = spec.molecules
        settings = self.settings(spec)
        mol, run = self._scf(frags, spec)
        dm = total_dm(run.mf)
        symbols, xyz_a = combined_geometry(frags)
        xyz = xyz_a * BOHR_PER_ANGSTROM
        iso = float(settings["isovalue"])
        n_dir = int(settings["esp_directions"])
        origins, directions, r_max, hal = _esp_rays(frags, symbols, xyz, n_dir)
        pts, r, ok = isosurface_along_rays(mol, dm, origins, directions, r_max, iso)
        n_surf = len(symbols) * n_dir
        v, owner, v_sigma = _surface_potential(mol, dm, xyz, pts, ok, n_dir)
        warnings = list(run.warnings)
        sigma, sigma_r = {}, {}
        for k, i in enumerate(hal):
            if ok[n_surf + k]:
                sigma[str(i)] = float(v_sigma[k])
                sigma_r[str(i)] = float(r[n_surf + k] / BOHR_PER_ANGSTROM)
            else:
                warnings.append(f"atom {i} ({symbols[i]}): no isosurface point on the bond axis")
        e_disp = self._dispersion(frags, spec)[0]
        values = {
            "energy_kcal_mol": (float(run.mf.e_tot) + e_disp) * KCAL_PER_HARTREE,
            "isovalue_au": iso,
            "n_surface_points": int(len(v)),
            "vs_max_kcal_mol": float(v.max()),
            "vs_min_kcal_mol": float(v.min()),
            "vs_mean_kcal_mol": float(v.mean()),
            "atom_vs_max_kcal_mol": [float(v[owner == k].max()) if (owner == k).any() else None
                                     for k in range(len(symbols))],
            "atom_vs_min_kcal_mol": [float(v[owner == k].min()) if (owner == k).any() else None
                                     for k in range(len(symbols))],
            "sigma_hole_kcal_mol": sigma,
            "sigma_hole_distance_angstrom": sigma_r,
            "scf_strategy": run.strategy,
            "device": run.device,
        }
        return Outcome(values=values, converged=True, warnings=warnings)

    def _relax_one(self, molecule: Molecule, spec: CalcSpec) -> Conformer:
        """One conformer: relaxed at DFT (relax=True) or at its MMFF94 geometry; energy and dipole there."""
        converged, warnings = True, []
        if self.settings(spec)["relax"]:
            opt = self.task_optimize(spec.model_copy(update={"task": "optimize", "molecules": (molecule,)}))
            molecule = Molecule.model_validate(opt.artifacts["molecules"][0])
            converged, warnings = bool(opt.converged), list(opt.warnings)
        _, run = self._scf([molecule], spec)
        e = (float(run.mf.e_tot) + self._dispersion([molecule], spec)[0]) * KCAL_PER_HARTREE
        dipole = float(np.linalg.norm(run.mf.dip_moment(unit="Debye", verbose=0)))
        return Conformer(e, molecule, dipole, converged, warnings + run.warnings)

    def task_conformers(self, spec: CalcSpec) -> Outcome:
        return conformers_task(spec, self.settings(spec), self._relax_one)

    def task_isomer_energies(self, spec: CalcSpec) -> Outcome:
        return isomer_energies_task(spec, self.settings(spec), self._relax_one)

    def task_optimize(self, spec: CalcSpec) -> Outcome:
        """Geometry optimisation with ASE's BFGS on PySCF + D3(BJ) gradients
        (geomeTRIC and PyBerny are not installed here)."""
        frags = list(spec.molecules)
        settings = self.settings(spec)
        fmax, max_steps = float(settings["fmax_ev_angstrom"]), int(settings["max_steps"])
        calc_warnings: list[str] = []
        grad_spec = spec.model_copy(update={"keywords": {**spec.keywords, "gradient": True}})
        ev_per_kcal = 1.0 / KCAL_PER_EV

        def evaluate(positions: np.ndarray) -> tuple[float, np.ndarray]:
            out = self.energy(split_coords(frags, positions), grad_spec)
            calc_warnings.extend(out.warnings)
            g = np.asarray(out.values["gradient_kcal_mol_angstrom"]).reshape(-1, 3)
            return out.values["energy_kcal_mol"] * ev_per_kcal, -g * ev_per_kcal

        r = relax(frags, evaluate, fmax, max_steps)
        energy = self.energy(r.molecules, spec.model_copy(update={"keywords": {**spec.keywords, "gradient": False}}))
        warnings = list(dict.fromkeys(calc_warnings + energy.warnings))
        if not r.converged:
            warnings.append(f"optimisation not converged in {max_steps} steps (fmax {fmax} eV/A)")
        values = {"energy_kcal_mol": energy.values["energy_kcal_mol"], "n_steps": r.n_steps,
                  "max_force_ev_angstrom": float(np.abs(r.forces_ev_angstrom).max()),
                  "scf_strategy": energy.values["scf_strategy"], "device": energy.values["device"]}
        return Outcome(values=values, artifacts={"molecules": [m.model_dump(mode="json") for m in r.molecules]},
                       converged=r.converged, warnings=warnings)


def _gap_ev(mf) -> float | None:
    try:
        e = np.asarray(mf.mo_energy)
        occ = np.asarray(mf.mo_occ)
        if e.ndim == 2:
            homo = max(e[s][occ[s] > 0].max() for s in range(2))
            lumo = min(e[s][occ[s] == 0].min() for s in range(2) if (occ[s] == 0).any())
        else:
            homo, lumo = e[occ > 0].max(), e[occ == 0].min()
        return float((lumo - homo) * 27.211386)
    except ValueError:  # no virtual orbitals
        return None


def cphf_polarizability(mf, tol: float = 1e-5) -> np.ndarray:
    """The static polarisability tensor (a0^3) of a converged closed-shell SCF: solve the coupled-perturbed
    equations for the first-order orbitals under each dipole perturbation r_x (PySCF's cphf solver and the
    SCF's own response kernel, J, K and XC), then alpha_xy = -d2E/dF_x dF_y = -4 sum_ai h_x,ai U_y,ai,
    symmetrised."""
    from pyscf import lib
    from pyscf.scf import cphf

    mol, occ = mf.mol, np.asarray(mf.mo_occ)
    if getattr(mol, "spin", 0) != 0 or np.asarray(mf.mo_coeff).ndim != 2:
        raise InputError("the analytic polarisability is for closed shells")
    mocc, orbv = mf.mo_coeff[:, occ > 0], mf.mo_coeff[:, occ == 0]
    nvir, nocc = orbv.shape[1], mocc.shape[1]
    charges = mol.atom_charges()
    with mol.with_common_orig(charges @ mol.atom_coords() / charges.sum()):
        r = mol.intor_symmetric("int1e_r", comp=3)
    h1 = lib.einsum("xpq,pa,qi->xai", r, orbv, mocc)
    response = mf.gen_response(hermi=1)

    def fvind(x):
        x = x.reshape(-1, nvir, nocc)
        dm = lib.einsum("pa,xai,qi->xpq", orbv, 2 * x, mocc)
        dm = dm + dm.transpose(0, 2, 1)
        return lib.einsum("xpq,pa,qi->xai", response(dm), orbv, mocc).reshape(len(x), -1)

    u = cphf.solve(fvind, mf.mo_energy, occ, h1, None, max_cycle=50, tol=tol)[0]
    e2 = np.einsum("xai,yai->xy", h1, u)
    return -2.0 * (e2 + e2.T)


def _traceless_quadrupole(mol, dm) -> np.ndarray:
    """Theta_ab = 1/2 sum q (3 r_a r_b - r^2 delta_ab) about the centre of mass, in Buckingham."""
    mass = mol.atom_mass_list(isotope_avg=True)
    coords = mol.atom_coords()
    real = mol.atom_charges() > 0
    origin = (mass[real, None] * coords[real]).sum(0) / mass[real].sum()
    with mol.with_common_orig(origin):
        rr = mol.intor("int1e_rr").reshape(3, 3, mol.nao, mol.nao)
    second = -np.einsum("xyij,ji->xy", rr, dm)
    rel = coords - origin
    second += np.einsum("a,ax,ay->xy", mol.atom_charges(), rel, rel)
    theta = 1.5 * second - 0.5 * np.trace(second) * np.eye(3)
    return theta * BUCKINGHAM_PER_AU


def merz_kollman_points(mol, symbols: Sequence[str], density_per_a2: float = 1.0,
                        scales=(1.4, 1.6, 1.8, 2.0)) -> np.ndarray:
    """The Merz-Kollman fitting points (bohr): shells at 1.4-2.0 x the MK radii, each point
    outside every atom's shell of the same scale."""
    xyz = mol.atom_coords()  # bohr
    radii = np.array([_MK_RADII.get(s, _vdw(s)) for s in symbols]) * BOHR_PER_ANGSTROM
    pts = []
    for scale in scales:
        for k in range(len(symbols)):
            rad = scale * radii[k]
            n = max(8, int(round(4 * np.pi * (rad / BOHR_PER_ANGSTROM) ** 2 * density_per_a2)))
            shell = xyz[k] + rad * fibonacci_sphere(n)
            d = np.linalg.norm(shell[:, None, :] - xyz[None, :, :], axis=2)
            pts.append(shell[(d >= scale * radii[None, :] - 1e-9).all(axis=1)])
    return np.vstack(pts)


def merz_kollman_charges(mol, dm, pts: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Merz-Kollman ESP charges: least-squares fit of atom-centred charges to V on the points (bohr,
    :func:`merz_kollman_points`), the total charge fixed. Returns (charges, RRMS, V in Eh/e)."""
    xyz = mol.atom_coords()
    v = electrostatic_potential(mol, dm, pts)
    inv = 1.0 / np.linalg.norm(pts[:, None, :] - xyz[None, :, :], axis=2)
    n = len(xyz)
    total = float(mol.charge)
    a = np.zeros((n + 1, n + 1))
    a[:n, :n] = inv.T @ inv
    a[:n, n] = a[n, :n] = 1.0
    rhs = np.concatenate([inv.T @ v, [total]])
    q = np.linalg.solve(a, rhs)[:n]
    rrms = float(np.sqrt(np.mean((inv @ q - v) ** 2) / np.mean(v ** 2)))
    return q, rrms, v
