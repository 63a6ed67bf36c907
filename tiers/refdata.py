"""Reference interaction-energy datasets: S22 (from ASE) and the .din sets of refdata.

Every loader returns a list of :class:`DimerEntry`: a name, the two fragments
*in the dimer geometry* (so ``E(AB) - E(A) - E(B)`` is the vertical interaction
energy) and the reference interaction energy in kcal/mol, **negative = bound**
(the .din files of X40, S66 and XB18 store positive binding energies; they are
turned round here).

The .din format (aoterodelaroza/refdata): blocks of "coefficient" / "system name"
line pairs, closed by a line ``0`` and the reference value, with
``value = sum(coefficient x E(system))``. Geometries are ``20_<set>/<system>.xyz``;
a second line ``charge multiplicity`` is read where present.

Caveats:
- The fragments take the dimer's coordinates. Where the monomer files are cut
  from the dimer (X40, S66) their atoms are matched to the dimer's by position
  (the dimer file may interleave them); otherwise (XB18, whose monomer files are
  separately relaxed) the dimer is split by the monomers' atom counts, checking
  the element order. XB18's references therefore include a small
  monomer-deformation term that a vertical interaction energy lacks.
- Bonds are perceived with RDKit (rdDetermineBonds) for each fragment. An entry
  whose fragment cannot be perceived is skipped with a logged warning (or raised
  with ``strict=True``); the skipped names are in ``load_din_dataset.last_skipped``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..chem.errors import MoleculeError
from ..chem.molecule import Molecule, parse_xyz_text
from .harness import KCAL_PER_EV

log = logging.getLogger(__name__)

# dataset name -> (din file, geometry folder, citation of the reference values)
DIN_DATASETS: dict[str, tuple[str, str, str]] = {
    "x40": ("x40.din", "20_x40", "Rezac, Riley, Hobza, JCTC 8, 4285 (2012); CCSD(T)/CBS"),
    "s66": ("s66.din", "20_s66", "Rezac, Riley, Hobza, JCTC 7, 2427 (2011); H-bond values revised by "
                                 "DiLabio et al., PCCP 15, 12821 (2013); CCSD(T)/CBS"),
    "xb18": ("xb18.din", "20_xb18", "Kozuch, Martin, JCTC 9, 1918 (2013); CCSD(T)/CBS"),
}
# The reference data shipped with the package (sources and licences in data/README.md).
PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def refdata_dir() -> Path:
    """The refdata folder: ``$TIERCHEM_REFDATA`` if set, else the copy shipped in ``tiers/data/refdata``."""
    env = os.environ.get("TIERCHEM_REFDATA")
    return Path(env).expanduser() if env else PACKAGE_DATA / "refdata"


def cod_dir() -> Path:
    """The COD crystal structures: ``$TIERCHEM_COD`` if set, else the copy shipped in ``tiers/data/cod``."""
    env = os.environ.get("TIERCHEM_COD")
    return Path(env).expanduser() if env else PACKAGE_DATA / "cod"


S22_SOURCE = "Jurecka, Sponer, Cerny, Hobza, PCCP 8, 1985 (2006); CCSD(T)/CBS, as shipped with ase.data.s22"


@dataclass(frozen=True)
class DimerEntry:
    """One reference dimer: fragments in the dimer geometry, reference E_int (kcal/mol, negative = bound)."""

    name: str
    fragments: tuple[Molecule, Molecule]
    reference_kcal_mol: float
    dataset: str = ""
    source: str = ""

    @property
    def n_atoms(self) -> int:
        return sum(m.n_atoms for m in self.fragments)


@dataclass(frozen=True)
class DinBlock:
    """One reaction of a .din file: ``value = sum(coef * E(system))``."""

    terms: tuple[tuple[float, str], ...]
    value: float
    comment: str = field(default="", compare=False)


# ---------------------------------------------------------------------------- S22
def load_s22() -> list[DimerEntry]:
    """The 22 S22 dimers from ``ase.data.s22`` with ASE's CCSD(T)/CBS interaction energies."""
    from ase.data import s22

    return [s22_dimer(name) for name in s22.s22]


def s22_dimer(name: str) -> DimerEntry:
    """One S22 dimer by ASE's name (e.g. ``"Water_dimer"``): fragments A and B in the dimer geometry."""
    from ase.data import s22

    atoms = s22.create_s22_system(name)
    n_a, n_b = s22.get_number_of_dimer_atoms(name)
    symbols = atoms.get_chemical_symbols()
    xyz = atoms.get_positions()
    frags = []
    for tag, sl in (("A", slice(0, n_a)), ("B", slice(n_a, n_a + n_b))):
        frags.append(Molecule.from_xyz(_xyz_text(symbols[sl], xyz[sl], f"{name}_{tag}"),
                                       charge=0, name=f"{name}_{tag}"))
    ref = float(s22.get_interaction_energy_cc(name)) * KCAL_PER_EV
    return DimerEntry(name, (frags[0], frags[1]), ref, "s22", S22_SOURCE)


# ---------------------------------------------------------------------------- .din
def parse_din(path: str | Path) -> list[DinBlock]:
    """The blocks of a .din file (comments ``#`` and blank lines ignored)."""
    path = Path(path)
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    blocks: list[DinBlock] = []
    terms: list[tuple[float, str]] = []
    k = 0
    while k < len(lines):
        try:
            coef = float(lines[k])
        except ValueError:
            raise ValueError(f"{path}: expected a coefficient, got {lines[k]!r}") from None
        if k + 1 >= len(lines):
            raise ValueError(f"{path}: file ends after coefficient {lines[k]!r}")
        if coef == 0.0:
            try:
                value = float(lines[k + 1].split()[0])
            except ValueError:
                raise ValueError(f"{path}: expected a reference value, got {lines[k + 1]!r}") from None
            if not terms:
                raise ValueError(f"{path}: a block with no systems before value {value}")
            blocks.append(DinBlock(tuple(terms), value))
            terms = []
        else:
            terms.append((coef, lines[k + 1].split()[0]))
        k += 2
    if terms:
        raise ValueError(f"{path}: the last block is not closed by '0' and a value")
    return blocks


def load_din_dataset(name: str, data_dir: str | Path, strict: bool = False) -> list[DimerEntry]:
    """Dimers of a refdata set (``x40``, ``s66``, ``xb18``) with reference E_int (kcal/mol, negative = bound).

    ``data_dir`` is the refdata folder (holding ``10_din`` and ``20_<set>``).
    Entries that cannot be built (bond perception, inconsistent files) are skipped
    with a warning unless ``strict``; their names and reasons are kept in
    ``load_din_dataset.last_skipped``.
    """
    key = name.lower()
    if key not in DIN_DATASETS:
        raise ValueError(f"unknown dimer dataset {name!r}; known: {', '.join(sorted(DIN_DATASETS))} "
                         "(and s22 through load_s22())")
    din_name, geom_dir, source = DIN_DATASETS[key]
    root = Path(data_dir)
    din_path, geom = root / "10_din" / din_name, root / geom_dir
    if not din_path.is_file() or not geom.is_dir():
        raise FileNotFoundError(f"{key}: expected {din_path} and {geom}/ under the refdata folder {root}")
    entries: list[DimerEntry] = []
    skipped: list[tuple[str, str]] = []
    for block in parse_din(din_path):
        label = _dimer_name(block) or "+".join(s for _, s in block.terms)
        try:
            entries.append(_din_entry(block, geom, key, source))
        except (MoleculeError, ValueError, FileNotFoundError) as exc:
            if strict:
                raise
            log.warning("%s: skipping %s: %s", key, label, exc)
            skipped.append((label, str(exc)))
    load_din_dataset.last_skipped = skipped  # type: ignore[attr-defined]
    log.info("%s: %d dimers loaded, %d skipped", key, len(entries), len(skipped))
    return entries


load_din_dataset.last_skipped = []  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- helpers
def _match_by_coordinates(d_sym, d_xyz, mono, tol: float = 1e-3) -> list[list[int]] | None:
    """Dimer atom indices of each monomer's atoms when the monomer files are cut from
    the dimer (same element within ``tol`` Å, each dimer atom used once); else None."""
    import numpy as np

    xyz = np.asarray(d_xyz, float)
    used: set[int] = set()
    index = []
    for sym, coords, _, _ in mono:
        rows = []
        for s, c in zip(sym, np.asarray(coords, float)):
            dist = np.linalg.norm(xyz - c, axis=1)
            j = int(np.argmin(dist))
            if dist[j] > tol or d_sym[j] != s or j in used:
                return None
            used.add(j)
            rows.append(j)
        index.append(rows)
    return index


def _xyz_text(symbols: Sequence[str], coords, title: str) -> str:
    rows = [f"{s} {x:.10f} {y:.10f} {z:.10f}" for s, (x, y, z) in zip(symbols, coords)]
    return f"{len(symbols)}\n{title}\n" + "\n".join(rows) + "\n"


def _dimer_name(block: DinBlock) -> str | None:
    """The system whose coefficient has the sign the others do not share."""
    if len(block.terms) != 3:
        return None
    signs = [c > 0 for c, _ in block.terms]
    for (c, s), sign in zip(block.terms, signs):
        if signs.count(sign) == 1:
            return s
    return None


def _read_xyz(path: Path) -> tuple[list[str], list[tuple[float, float, float]], int | None, int | None]:
    """Symbols, coordinates (Å), and charge/multiplicity when line 2 is ``charge multiplicity``."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    symbols, coords, title = parse_xyz_text(path.read_text(), str(path))
    m = re.fullmatch(r"\s*([+-]?\d+)\s+(\d+)\s*", title)
    charge, mult = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return symbols, coords, charge, mult


def _din_entry(block: DinBlock, geom: Path, dataset: str, source: str) -> DimerEntry:
    dimer = _dimer_name(block)
    if dimer is None:
        raise ValueError(f"not a dimer - monomer - monomer block: {block.terms}")
    coefs = {s: c for c, s in block.terms}
    monomers = [s for _, s in block.terms if s != dimer]
    if abs(abs(coefs[dimer]) - 1.0) > 1e-9 or any(abs(coefs[m] + coefs[dimer]) > 1e-9 for m in monomers):
        raise ValueError(f"unexpected coefficients {block.terms} (want +-1 for the dimer, the opposite for monomers)")
    # value = c_d * (E_d - E_A - E_B) = c_d * E_int  ->  E_int = value / c_d
    reference = block.value / coefs[dimer]

    d_sym, d_xyz, d_charge, d_mult = _read_xyz(geom / f"{dimer}.xyz")
    mono = [_read_xyz(geom / f"{m}.xyz") for m in monomers]
    n_a, n_b = len(mono[0][0]), len(mono[1][0])
    if n_a + n_b != len(d_sym):
        raise ValueError(f"monomers have {n_a} + {n_b} atoms but the dimer {len(d_sym)}")
    index = _match_by_coordinates(d_sym, d_xyz, mono)
    if index is None:  # monomers not cut from the dimer (XB18): split the dimer in file order
        if d_sym[:n_a] == mono[0][0] and d_sym[n_a:] == mono[1][0]:
            index = [list(range(n_a)), list(range(n_a, n_a + n_b))]
        elif d_sym[:n_b] == mono[1][0] and d_sym[n_b:] == mono[0][0]:
            index = [list(range(n_b, n_b + n_a)), list(range(n_b))]
        else:
            raise ValueError("the monomers' atoms match neither the dimer's coordinates nor its element order")
    frags = []
    for k, (sym, _, charge, mult) in enumerate(mono):
        rows = index[k]
        frags.append(Molecule.from_xyz(_xyz_text(sym, [d_xyz[i] for i in rows], monomers[k]),
                                       charge=charge or 0, name=monomers[k],
                                       multiplicity=mult if mult and mult > 1 else None))
    if d_charge is not None and d_charge != sum(f.charge for f in frags):
        raise ValueError(f"dimer charge {d_charge} differs from the monomers' {[f.charge for f in frags]}")
    return DimerEntry(dimer, (frags[0], frags[1]), reference, dataset, source)


# ------------------------------------------------------------------ X23 crystals
@dataclass(frozen=True)
class CrystalEntry:
    """One X23 crystal: the Z molecules of its cell, the cell (Å), and the reference
    lattice energy per molecule (kcal/mol, negative = bound)."""

    name: str
    molecules: tuple[Molecule, ...]
    cell_angstrom: tuple[tuple[float, float, float], ...]
    reference_kcal_mol: float
    dataset: str = "x23"
    source: str = ""


def load_x23(data_dir: str | Path) -> list[CrystalEntry]:
    """X23 from ``data_dir`` (refdata root): experimental CIFs (25_x23/expt) and the X23b
    lattice energies of 10_din/x23.din (Dolgonos et al. 2019; din value = E_mol - E_cell/Z).

    Crystals whose CIF lacks hydrogens (hexamine) are skipped and listed in
    ``load_x23.last_skipped``: repairing them would invent hydrogen positions.
    """
    from ..chem.crystal import read_cif

    data_dir = Path(data_dir)
    din = data_dir / "10_din" / "x23.din"
    if not din.exists():
        raise FileNotFoundError(f"{din}: not found (is {data_dir} the refdata folder?)")
    entries, skipped = [], []
    for block in parse_din(din):
        (coef_cell, cell_name), = [t for t in block.terms if not t[1].startswith("mol_")]
        cif = data_dir / "25_x23" / "expt" / f"{cell_name}.cif"
        try:
            crystal = read_cif(cif, name=cell_name)
        except (ValueError, FileNotFoundError) as exc:
            skipped.append((cell_name, str(exc)))
            continue
        if "missing_hydrogens" in crystal.flags:
            skipped.append((cell_name, "the CIF lacks hydrogen atoms"))
            continue
        z = round(-1.0 / coef_cell)
        if z != crystal.z:
            skipped.append((cell_name, f"din file says Z={z}, the CIF gives Z={crystal.z}"))
            continue
        entries.append(CrystalEntry(cell_name, tuple(crystal.molecules),
                                    tuple(tuple(row) for row in crystal.cell_matrix.tolist()),
                                    -block.value, source=str(cif)))
    for name, why in skipped:
        log.warning("x23: skipped %s: %s", name, why)
    load_x23.last_skipped = skipped
    return entries


load_x23.last_skipped = []
