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

Keywords (all optional): ``density_fit`` (True), ``counterpoise`` (True),
``uncorrected`` (True: also the monomers in their own basis), ``gradient``
(False), ``grid_level`` (PySCF's 3), ``max_cycle`` (100), ``conv_tol`` (1e-9),
``stability`` (False), ``esp_directions`` (200 rays per atom), ``isovalue``
(0.001 au), ``fmax_ev_angstrom`` (0.02) and ``max_steps`` (100) for optimize.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from ..chem.molecule import ATOMIC_NUMBER, Molecule
from .errors import ConvergenceError, InputError
from .harness import KCAL_PER_HARTREE, Harness, Outcome
from .pyscf_common import (
    BOHR_PER_ANGSTROM, BUCKINGHAM_PER_AU, DEBYE_PER_AU, build_mole, choose_device, default_max_memory_mb,
    run_scf, total_dm, worst_strategy,
)
from .spec import CalcSpec

log = logging.getLogger(__name__)

# Functionals offered: tierchem name -> PySCF xc name. "-D3BJ" variants exist for
# those with D3(BJ) parameters; the -V functionals carry VV10 non-local correlation.
FUNCTIONALS = {"B3LYP": "B3LYP", "PBE0": "PBE0", "R2SCAN": "R2SCAN", "WB97X-V": "WB97X-V", "WB97M-V": "WB97M-V"}
D3BJ_FUNCTIONALS = ("B3LYP", "PBE0", "R2SCAN")
HALOGENS = ("Cl", "Br", "I")

# Bondi van der Waals radii (Å), used to bound the isosurface search and for the
# Merz-Kollman shells (with the MK radii for H, C, N, O, F, P, S, Cl).
_BONDI = {"H": 1.20, "He": 1.40, "Li": 1.82, "B": 1.92, "C": 1.70, "N": 1.55, "O": 1.52, "F": 1.47,
          "Ne": 1.54, "Na": 2.27, "Mg": 1.73, "Si": 2.10, "P": 1.80, "S": 1.80, "Cl": 1.75, "Ar": 1.88,
          "K": 2.75, "Se": 1.90, "Br": 1.85, "Kr": 2.02, "Te": 2.06, "I": 1.98, "Xe": 2.16}
_MK_RADII = {"H": 1.20, "C": 1.50, "N": 1.50, "O": 1.40, "F": 1.35, "P": 1.80, "S": 1.75, "Cl": 1.70}


def _vdw(symbol: str) -> float:
    return _BONDI.get(symbol, 2.0)


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
            partners = [j if a == i else a for a, j, _ in frag.bonds if i in (a, j)]
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


def _combined_geometry(fragments: Sequence[Molecule]) -> tuple[list[str], np.ndarray]:
    symbols = [s for f in fragments for s in f.symbols]
    return symbols, np.vstack([f.coords for f in fragments])


class PySCFDFTHarness(Harness):
    name = "pyscf"
    tier = 3
    methods = ("B3LYP-D3BJ", "PBE0-D3BJ", "R2SCAN-D3BJ", "B3LYP", "PBE0", "R2SCAN", "WB97X-V", "WB97M-V")
    tasks = frozenset({"energy", "interaction_energy", "optimize", "properties", "esp"})
    max_atoms = 60  # ~min per SCF at def2-SVP on 2 cores; beyond that use xTB or a model system
    supports_open_shell = True
    engine_modules = ("pyscf", "dftd3.interface")

    @classmethod
    def versions(cls) -> dict[str, str]:
        import dftd3
        import pyscf

        out = {"pyscf": pyscf.__version__, "dftd3": getattr(dftd3, "__version__", "unknown")}
        if choose_device() == "gpu":
            import gpu4pyscf

            out["gpu4pyscf"] = gpu4pyscf.__version__
        return out

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        parse_method(spec.method)

    # ------------------------------------------------------------ internals
    def _scf(self, fragments: Sequence[Molecule], spec: CalcSpec, ghosts: Sequence[bool] | None = None,
             label: str | None = None):
        """Converged SCF of ``fragments`` (ghost fragments: basis functions only)."""
        from pyscf import dft

        xc, _ = parse_method(spec.method)
        kw = spec.keywords
        mol = build_mole(fragments, spec.basis or "def2-SVP", ghosts, max_memory_mb=default_max_memory_mb())
        grid_level = kw.get("grid_level")

        def make_mf(m):
            mf = dft.RKS(m) if m.spin == 0 else dft.UKS(m)
            mf.xc = xc
            if grid_level is not None:
                mf.grids.level = int(grid_level)
            if kw.get("density_fit", True):
                mf = mf.density_fit()
            return mf

        label = label or "+".join(f.label for f in fragments)
        run = run_scf(make_mf, mol, kw, label, device=choose_device())
        if kw.get("stability"):
            mo = run.mf.stability()[0]
            if run.mf.mo_coeff is not None and not np.allclose(np.asarray(mo), np.asarray(run.mf.mo_coeff)):
                run.warnings.append(f"{label}: SCF solution was unstable; re-converged from the stable direction")
                dm = run.mf.make_rdm1(mo, run.mf.mo_occ)
                run = run_scf(make_mf, mol, kw, label, device=run.device, dm0=dm)
        return mol, run

    def _dispersion(self, fragments: Sequence[Molecule], spec: CalcSpec, gradient: bool = False):
        xc, disp = parse_method(spec.method)
        if disp is None:
            return 0.0, None
        symbols, xyz = _combined_geometry(fragments)
        return d3bj(symbols, xyz, xc, gradient)

    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        mol, run = self._scf(fragments, spec)
        want_grad = bool(spec.keywords.get("gradient"))
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
        kw = spec.keywords
        cp = bool(kw.get("counterpoise", True))
        want_unc = bool(kw.get("uncorrected", True)) or not cp
        warnings: list[str] = []
        strategies: list[str] = []

        def e_of(frags, ghosts, label):
            _, run = self._scf(frags, spec, ghosts, label)
            warnings.extend(run.warnings)
            strategies.append(run.strategy)
            return float(run.mf.e_tot), run.device

        e_ab, device = e_of([a, b], None, f"{a.label}+{b.label}")
        ed_ab = self._dispersion([a, b], spec)[0]
        ed_a = self._dispersion([a], spec)[0]
        ed_b = self._dispersion([b], spec)[0]
        e_disp_int = ed_ab - ed_a - ed_b
        values: dict = {"counterpoise": cp}
        if cp:
            e_a_cp, _ = e_of([a, b], [False, True], f"{a.label} in dimer basis")
            e_b_cp, _ = e_of([a, b], [True, False], f"{b.label} in dimer basis")
            values["interaction_energy_cp_kcal_mol"] = (e_ab - e_a_cp - e_b_cp + e_disp_int) * KCAL_PER_HARTREE
            values["monomer_energies_dimer_basis_kcal_mol"] = [(e_a_cp + ed_a) * KCAL_PER_HARTREE,
                                                               (e_b_cp + ed_b) * KCAL_PER_HARTREE]
        if want_unc:
            e_a, _ = e_of([a], None, a.label)
            e_b, _ = e_of([b], None, b.label)
            values["interaction_energy_uncorrected_kcal_mol"] = (e_ab - e_a - e_b + e_disp_int) * KCAL_PER_HARTREE
            values["monomer_energies_kcal_mol"] = [(e_a + ed_a) * KCAL_PER_HARTREE, (e_b + ed_b) * KCAL_PER_HARTREE]
        if cp and want_unc:
            values["counterpoise_correction_kcal_mol"] = (values["interaction_energy_cp_kcal_mol"]
                                                          - values["interaction_energy_uncorrected_kcal_mol"])
        values["interaction_energy_kcal_mol"] = values["interaction_energy_cp_kcal_mol" if cp
                                                       else "interaction_energy_uncorrected_kcal_mol"]
        values["dimer_energy_kcal_mol"] = (e_ab + ed_ab) * KCAL_PER_HARTREE
        values["dispersion_interaction_kcal_mol"] = e_disp_int * KCAL_PER_HARTREE
        values["scf_strategy"] = worst_strategy(strategies)
        values["device"] = device
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
        esp_q, rrms = merz_kollman_charges(mol, dm, [s for f in frags for s in f.symbols],
                                          density_per_a2=float(spec.keywords.get("mk_density", 1.0)))
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
        return Outcome(values=values, converged=True, warnings=run.warnings)

    def task_esp(self, spec: CalcSpec) -> Outcome:
        """The electrostatic potential on the rho = 0.001 au isosurface: V_s,max and
        V_s,min, per-atom extrema (each surface point belongs to its nearest atom),
        and for each C/X-bonded Cl, Br, I the V at the surface point on the
        Y-X axis extension (the sigma hole)."""
        frags = spec.molecules
        kw = spec.keywords
        mol, run = self._scf(frags, spec)
        dm = total_dm(run.mf)
        symbols, xyz_a = _combined_geometry(frags)
        xyz = xyz_a * BOHR_PER_ANGSTROM
        iso = float(kw.get("isovalue", 1e-3))
        n_dir = int(kw.get("esp_directions", 200))
        dirs = fibonacci_sphere(n_dir)
        n_atoms = len(symbols)
        r_max = np.array([2.5 * _vdw(s) * BOHR_PER_ANGSTROM for s in symbols])
        origins = np.repeat(xyz, n_dir, axis=0)
        directions = np.tile(dirs, (n_atoms, 1))
        owner = np.repeat(np.arange(n_atoms), n_dir)
        partners = _halogen_partners(frags)
        hal = sorted(partners)
        if hal:  # the sigma-hole rays ride along in the same scan
            axis = np.array([xyz[i] - xyz[partners[i]] for i in hal])
            axis /= np.linalg.norm(axis, axis=1)[:, None]
            origins = np.vstack([origins, xyz[hal]])
            directions = np.vstack([directions, axis])
        rmax_all = np.concatenate([np.repeat(r_max, n_dir), r_max[hal]]) if hal else np.repeat(r_max, n_dir)
        pts, r, ok = isosurface_along_rays(mol, dm, origins, directions, rmax_all, iso)
        n_surf = n_atoms * n_dir
        surf, surf_ok, surf_owner = pts[:n_surf], ok[:n_surf], owner
        # keep a point only where its own atom is the nearest: the outer surface, once
        nearest = np.argmin(np.linalg.norm(surf[:, None, :] - xyz[None, :, :], axis=2), axis=1)
        keep = surf_ok & (nearest == surf_owner)
        if not keep.any():
            raise ConvergenceError("no point of the 0.001 au isosurface was found")
        v_all = electrostatic_potential(mol, dm, np.vstack([surf[keep], pts[n_surf:]]))
        v = v_all[: keep.sum()] * KCAL_PER_HARTREE
        v_sigma = v_all[keep.sum():] * KCAL_PER_HARTREE
        kept_owner = surf_owner[keep]
        atom_max = [float(v[kept_owner == k].max()) if (kept_owner == k).any() else None for k in range(n_atoms)]
        atom_min = [float(v[kept_owner == k].min()) if (kept_owner == k).any() else None for k in range(n_atoms)]
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
            "n_surface_points": int(keep.sum()),
            "vs_max_kcal_mol": float(v.max()),
            "vs_min_kcal_mol": float(v.min()),
            "vs_mean_kcal_mol": float(v.mean()),
            "atom_vs_max_kcal_mol": atom_max,
            "atom_vs_min_kcal_mol": atom_min,
            "sigma_hole_kcal_mol": sigma,
            "sigma_hole_distance_angstrom": sigma_r,
            "scf_strategy": run.strategy,
            "device": run.device,
        }
        return Outcome(values=values, converged=True, warnings=warnings)

    def task_optimize(self, spec: CalcSpec) -> Outcome:
        """Geometry optimisation with ASE's BFGS on PySCF + D3(BJ) gradients
        (geomeTRIC and PyBerny are not installed here)."""
        from ase.optimize import BFGS

        frags = list(spec.molecules)
        kw = spec.keywords
        fmax = float(kw.get("fmax_ev_angstrom", 0.02))
        max_steps = int(kw.get("max_steps", 100))
        sizes = [f.n_atoms for f in frags]
        atoms = _combined_ase(frags)
        calc_warnings: list[str] = []
        atoms.calc = _ase_calculator(self, frags, spec, calc_warnings)
        opt = BFGS(atoms, logfile=None)
        converged = bool(opt.run(fmax=fmax, steps=max_steps))
        xyz = atoms.get_positions()
        relaxed, k = [], 0
        for f, n in zip(frags, sizes):
            relaxed.append(f.with_coords(xyz[k : k + n]))
            k += n
        energy = self.energy(relaxed, spec.model_copy(update={"keywords": {**kw, "gradient": False}}))
        warnings = list(dict.fromkeys(calc_warnings + energy.warnings))
        if not converged:
            warnings.append(f"optimisation not converged in {max_steps} steps (fmax {fmax} eV/A)")
        values = {"energy_kcal_mol": energy.values["energy_kcal_mol"], "n_steps": int(opt.nsteps),
                  "max_force_ev_angstrom": float(np.abs(atoms.get_forces()).max()),
                  "scf_strategy": energy.values["scf_strategy"], "device": energy.values["device"]}
        return Outcome(values=values, artifacts={"molecules": [m.model_dump(mode="json") for m in relaxed]},
                       converged=converged, warnings=warnings)


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


def merz_kollman_charges(mol, dm, symbols: Sequence[str], density_per_a2: float = 1.0,
                         scales=(1.4, 1.6, 1.8, 2.0)) -> tuple[np.ndarray, float]:
    """Merz-Kollman ESP charges: V on shells at 1.4-2.0 x the MK radii, least-squares
    fit of atom-centred charges with the total charge fixed. Returns (charges, RRMS)."""
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
    pts = np.vstack(pts)
    v = electrostatic_potential(mol, dm, pts)
    inv = 1.0 / np.linalg.norm(pts[:, None, :] - xyz[None, :, :], axis=2)
    n = len(symbols)
    total = float(mol.charge)
    a = np.zeros((n + 1, n + 1))
    a[:n, :n] = inv.T @ inv
    a[:n, n] = a[n, :n] = 1.0
    rhs = np.concatenate([inv.T @ v, [total]])
    q = np.linalg.solve(a, rhs)[:n]
    rrms = float(np.sqrt(np.mean((inv @ q - v) ** 2) / np.mean(v ** 2)))
    return q, rrms


def _combined_ase(frags):
    from ase import Atoms

    symbols, xyz = _combined_geometry(frags)
    return Atoms(symbols=symbols, positions=xyz)


def _ase_calculator(harness: PySCFDFTHarness, frags, spec: CalcSpec, warnings: list[str]):
    """An ASE calculator giving the harness's energy and forces (eV, eV/Å)."""
    from ase.calculators.calculator import Calculator, all_changes

    ev_per_kcal = 1.0 / 23.060548
    grad_spec = spec.model_copy(update={"keywords": {**spec.keywords, "gradient": True}})

    class TierchemCalculator(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            xyz = self.atoms.get_positions()
            moved, k = [], 0
            for f in frags:
                moved.append(f.with_coords(xyz[k : k + f.n_atoms]))
                k += f.n_atoms
            out = harness.energy(moved, grad_spec)
            warnings.extend(out.warnings)
            self.results["energy"] = out.values["energy_kcal_mol"] * ev_per_kcal
            g = np.asarray(out.values["gradient_kcal_mol_angstrom"]).reshape(-1, 3)
            self.results["forces"] = -g * ev_per_kcal

    return TierchemCalculator()
