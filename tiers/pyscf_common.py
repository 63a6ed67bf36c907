"""Shared PySCF plumbing for the DFT (tier 3) and correlated (tier 4) harnesses.

Building a ``gto.Mole`` from fragments (with ghost atoms for counterpoise and the
ECPs that def2 bases need), the SCF driver with its fallback ladder, the device
choice (CPU / gpu4pyscf) and frozen-core counting. PySCF is imported inside the
functions so that importing this module stays cheap.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..chem.molecule import ATOMIC_NUMBER, Molecule
from .errors import ConvergenceError, InputError

log = logging.getLogger(__name__)

BOHR_PER_ANGSTROM = 1.0 / 0.52917721092
DEBYE_PER_AU = 2.541746473
BUCKINGHAM_PER_AU = 1.344911  # e a0^2 in Buckingham (1 B = 1e-26 esu cm^2)

# The SCF settings of both PySCF harnesses (their default_parameters include these).
SCF_DEFAULTS = {
    "conv_tol": 1e-9,  # Eh
    "max_cycle": 100,  # per rung of the fallback ladder
    "level_shift": 0.3,  # Eh, the ladder's second rung
}

# Basis families whose heavy elements (Z > 36, from Rb on) come with an ECP of
# the same name in PySCF; without naming it PySCF silently runs all-electron.
_ECP_FAMILIES = ("def2-", "dhf-", "lanl2", "sbkjc", "crenb", "stuttgart")


def ecp_for(symbols: Sequence[str], basis: str) -> dict[str, str]:
    """The ECP mapping PySCF needs for ``basis``: ``{'I': 'def2-svp'}`` etc."""
    b = basis.lower()
    heavy = sorted({s for s in symbols if ATOMIC_NUMBER[s] > 36})
    if not heavy:
        return {}
    if b.startswith(_ECP_FAMILIES) or b.endswith("-pp") or "-pp-" in b:
        return {s: basis for s in heavy}
    return {}


def basis_by_atom(basis: str, labels: Sequence[str]) -> str | dict[str, str]:
    """``basis`` as PySCF should get it for atoms ``labels`` (ghosts included, which PySCF would
    otherwise give a dict's default): ``heavy-aug-cc-pVXZ`` puts aug-cc-pVXZ on heavy atoms and
    cc-pVXZ on hydrogen; a ``cc-pVXZ-PP`` name (pseudopotential bases, defined only past Kr) puts
    the all-electron cc-pVXZ on the lighter atoms."""
    b = basis.lower()
    heavy_aug = b.startswith("heavy-aug-")
    pp = b.endswith("-pp") and "cc-p" in b
    if not heavy_aug and not pp:
        return basis
    out = {}
    for label in set(labels):
        symbol = label.split("-")[-1]
        name = basis[len("heavy-"):] if heavy_aug else basis
        if heavy_aug and symbol == "H":
            name = name[len("aug-"):]
        if pp and ATOMIC_NUMBER[symbol] <= 36:
            name = name[: -len("-pp")]
        out[label] = name
    return out


def build_mole(fragments: Sequence[Molecule], basis: str, ghosts: Sequence[bool] | None = None,
               max_memory_mb: int | None = None, verbose: int = 0):
    """A built ``gto.Mole`` for ``fragments``; fragments flagged in ``ghosts`` carry
    only their basis functions (counterpoise), not their nuclei or electrons."""
    from pyscf import gto

    ghosts = list(ghosts) if ghosts is not None else [False] * len(fragments)
    atoms: list[tuple[str, tuple[float, float, float]]] = []
    real_symbols: list[str] = []
    charge = spin = 0
    for frag, ghost in zip(fragments, ghosts):
        for s, xyz in zip(frag.symbols, frag.coords_angstrom):
            atoms.append((f"GHOST-{s}" if ghost else s, xyz))
        if not ghost:
            real_symbols += frag.symbols
            charge += frag.charge
            spin += frag.multiplicity - 1  # high-spin coupling of open-shell fragments
    if not real_symbols:
        raise InputError("every fragment is a ghost: nothing to compute")
    mol = gto.Mole()
    mol.atom = atoms
    mol.unit = "Angstrom"
    mol.basis = basis_by_atom(basis, [label for label, _ in atoms])
    mol.ecp = ecp_for(real_symbols, basis)
    mol.charge = charge
    mol.spin = spin
    mol.verbose = verbose
    mol.symmetry = False
    mol.cart = False
    if max_memory_mb:
        mol.max_memory = int(max_memory_mb)
    try:
        mol.build(parse_arg=False, dump_input=False)
    except (KeyError, RuntimeError, ValueError) as exc:
        raise InputError(f"PySCF could not build the molecule with basis {basis!r}: {exc}") from None
    return mol


def scf_seconds(spec) -> float:
    """A rough cost of one SCF (seconds, 2 cores) from the design's timings: ~20 s for a 12-atom
    aromatic (8 heavy atoms) in def2-SVP, scaling with the basis as (heavy atoms / 8)^2.5."""
    heavy = sum(1 for m in spec.molecules for s in m.symbols if s != "H")
    return 20.0 * (heavy / 8.0) ** 2.5


def available_memory_mb() -> float:
    """Memory free for a calculation here (MB)."""
    try:
        import psutil

        return psutil.virtual_memory().available / 1e6
    except ImportError:
        pages = os.sysconf("SC_AVPHYS_PAGES")
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def default_max_memory_mb() -> int:
    return int(max(1000.0, 0.8 * available_memory_mb()))


# -------------------------------------------------------------------- device
def choose_device() -> str:
    """'gpu' or 'cpu' from ``TIERCHEM_DEVICE`` (auto|cpu|gpu, default auto).

    The device is a run setting, not part of the spec: results agree to ~1e-6 Eh.
    """
    want = os.environ.get("TIERCHEM_DEVICE", "auto").strip().lower()
    if want == "cpu":
        return "cpu"
    ok = gpu_available()
    if want == "gpu" and not ok:
        log.warning("TIERCHEM_DEVICE=gpu but gpu4pyscf or a CUDA device is missing; using the CPU")
    return "gpu" if ok else "cpu"


@functools.lru_cache(maxsize=None)
def gpu_available() -> bool:
    """Whether gpu4pyscf and a CUDA device are here (asked once per process: the answer imports CuPy)."""
    try:
        import cupy
        import gpu4pyscf  # noqa: F401

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, CUDA driver errors
        return False


# ------------------------------------------------------------- SCF restart
class SCFScratch:
    """Where the SCFs of one spec keep their state (PySCF chkfiles) while it runs: a folder named by
    the spec's cache key under ``<store's directory>/scf_scratch``. PySCF writes the orbitals every
    cycle, so a rerun of the same spec after a kill starts each SCF from its last density;
    :meth:`clean` removes the folder once the result is stored."""

    def __init__(self, cache_dir, cache_key: str):
        from pathlib import Path

        self.directory = Path(cache_dir) / "scf_scratch" / cache_key[:40]

    def chkfile(self, mol, label: str) -> str:
        """The chkfile of one SCF of the spec: named by its label, geometry, basis, ghosts and spin."""
        import hashlib

        what = repr((label, mol._atom, mol.basis, mol.charge, mol.spin, mol.cart))
        self.directory.mkdir(parents=True, exist_ok=True)
        return str(self.directory / f"{hashlib.sha256(what.encode()).hexdigest()[:24]}.chk")

    def clean(self) -> None:
        import shutil

        shutil.rmtree(self.directory, ignore_errors=True)


def run_resumable(harness, spec, run):
    """``run(spec)`` with ``harness.scf_scratch`` set to the spec's :class:`SCFScratch` (when the harness
    has a store's directory, ``harness.cache_dir``), cleaned when ``run`` returns or fails in a way that
    is stored (a CalcError); kept when the process is interrupted, for the rerun to resume from."""
    from .errors import CalcError

    scratch = SCFScratch(harness.cache_dir, spec.cache_key(harness.versions())) \
        if harness.cache_dir is not None else None
    harness.scf_scratch = scratch
    try:
        outcome = run(spec)
    except CalcError:
        if scratch is not None:
            scratch.clean()
        raise
    finally:
        harness.scf_scratch = None
    if scratch is not None:
        scratch.clean()
    return outcome


def _restart_dm(mf, chkfile: str | None, label: str):
    """The density saved in ``chkfile`` by an earlier, interrupted run of the same SCF (None: none,
    or unreadable: a kill mid-write, then it starts afresh)."""
    if not chkfile or not os.path.exists(chkfile):
        return None
    try:
        dm = mf.from_chk(chkfile)
    except Exception as exc:  # a truncated HDF5 file: start from the usual guess
        log.info("%s: cannot read SCF checkpoint %s (%s); starting afresh", label, chkfile, exc)
        os.remove(chkfile)
        return None
    log.info("%s: SCF restarts from the density in %s", label, chkfile)
    return dm


# ----------------------------------------------------------------------- SCF
@dataclass
class SCFRun:
    mf: Any  # the converged (CPU) mean-field object
    strategy: str  # "diis", "level_shift" or "newton"
    device: str
    warnings: list[str] = field(default_factory=list)


def run_scf(make_mf, mol, keywords: dict, label: str, device: str = "cpu", dm0=None,
            scratch: SCFScratch | None = None) -> SCFRun:
    """Converge an SCF with a fallback ladder: DIIS, then a level shift (0.3 Eh), then
    second-order (Newton). Raises ConvergenceError when none converges.

    ``make_mf(mol)`` returns a fresh, configured mean-field object (RKS/UKS/RHF...);
    ``keywords`` may set ``conv_tol``, ``max_cycle`` and ``level_shift`` (else :data:`SCF_DEFAULTS`).
    ``scratch``: the spec's :class:`SCFScratch`; the SCF then saves its orbitals there every cycle
    and, without a ``dm0``, starts from the density an interrupted run of it left.
    """
    settings = {**SCF_DEFAULTS, **keywords}
    max_cycle = int(settings["max_cycle"])
    conv_tol = float(settings["conv_tol"])
    level_shift = float(settings["level_shift"])
    warnings: list[str] = []

    chkfile = scratch.chkfile(mol, label) if scratch is not None else None

    def configured(mf):
        mf.max_cycle = max_cycle
        mf.conv_tol = conv_tol
        mf.verbose = 0
        if chkfile:
            mf.chkfile = chkfile
        return mf

    def on_device(mf):
        if device == "gpu":
            return mf.to_gpu()
        return mf

    def to_cpu(mf):
        return mf.to_cpu() if device == "gpu" else mf

    mf = configured(make_mf(mol))
    if dm0 is None:
        dm0 = _restart_dm(mf, chkfile, label)
        if dm0 is not None:  # provenance: the result came from a resumed SCF (the same converged density)
            warnings.append(f"{label}: SCF resumed from the density an interrupted run left")
    mf = on_device(mf)
    mf.kernel(dm0=dm0)
    strategy = "diis"
    if not mf.converged:
        dm = mf.make_rdm1()
        log.info("%s: SCF not converged with DIIS in %d cycles; retrying with level shift %g", label, max_cycle,
                 level_shift)
        mf = configured(make_mf(mol))
        mf.level_shift = level_shift
        mf = on_device(mf)
        mf.kernel(dm0=dm)
        strategy = "level_shift"
        if not mf.converged:
            dm = mf.make_rdm1()
            log.info("%s: still not converged; trying second-order SCF (Newton)", label)
            mf = configured(make_mf(mol)).newton()  # second order on the CPU
            mf.max_cycle = max(max_cycle, 1)
            mf.kernel(dm0=to_cpu_dm(dm))
            device = "cpu" if device == "gpu" else device
            strategy = "newton"
        warnings.append(f"{label}: SCF needed the {strategy.replace('_', ' ')} fallback")
    if not mf.converged:
        raise ConvergenceError(f"{label}: SCF did not converge (DIIS, level shift {level_shift:g} and Newton, "
                               f"{max_cycle} cycles each); try more cycles (max_cycle), a smaller "
                               "level shift or a better starting geometry")
    return SCFRun(mf=to_cpu(mf) if strategy != "newton" else mf, strategy=strategy, device=device,
                  warnings=warnings)


def to_cpu_dm(dm):
    """A density matrix as a NumPy array (from CuPy when it came off a GPU)."""
    if hasattr(dm, "get"):
        return dm.get()
    return np.asarray(dm)


def total_dm(mf) -> np.ndarray:
    dm = to_cpu_dm(mf.make_rdm1())
    return dm[0] + dm[1] if dm.ndim == 3 else dm


def worst_strategy(strategies: Sequence[str]) -> str:
    order = ["diis", "level_shift", "newton"]
    return max(strategies, key=order.index)


def n_frozen_core(mol) -> int:
    """Frozen-core orbitals (noble-gas cores of the real atoms, net of any ECP core)."""
    from pyscf.data import elements

    return int(elements.chemcore(mol))
