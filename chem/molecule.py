"""The Molecule model: one connected molecule with 3-D coordinates, bonds and charge.

A ``Molecule`` is immutable and serialisable (pydantic), so it can sit inside a
calculation spec and be hashed. Hydrogens are always explicit and coordinates are
always present (Å): every constructor embeds or reads a geometry. Bonds are kept
in Kekulé form (orders 1, 2, 3) together with formal charges, which is enough to
rebuild the RDKit molecule exactly.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .elements import ATOMIC_NUMBER, ELEMENTS
from .embedding import DEFAULT_SEED, embed
from .errors import MoleculeError

if TYPE_CHECKING:  # RDKit is imported lazily by the functions that need it
    from rdkit import Chem

# Coordinates are rounded so that a spec's hash does not depend on float noise.
COORD_DECIMALS = 6
# Two atoms closer than this (Å) are one atom written twice: the shortest bond, H2's, is 0.74 Å.
COINCIDENT_ANGSTROM = 0.1


def coincident_atoms(coords, tol: float = COINCIDENT_ANGSTROM) -> tuple[int, int, float] | None:
    """The first pair of atoms (i, j, distance in Å) closer than ``tol``, or None."""
    xyz = np.asarray(coords, dtype=float).reshape(-1, 3)
    if len(xyz) < 2:
        return None
    if len(xyz) > 400:  # a k-d tree instead of the full distance matrix
        from scipy.spatial import cKDTree

        pairs = sorted(cKDTree(xyz).query_pairs(tol))
        if not pairs:
            return None
        i, j = pairs[0]
        return i, j, float(np.linalg.norm(xyz[i] - xyz[j]))
    d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)
    i, j = np.triu_indices(len(xyz), 1)
    close = np.flatnonzero(d[i, j] < tol)
    if not close.size:
        return None
    k = close[0]
    return int(i[k]), int(j[k]), float(d[i[k], j[k]])


def coincident_message(symbols, pair: tuple[int, int, float]) -> str:
    i, j, dist = pair
    return (f"atoms {i + 1} ({symbols[i]}) and {j + 1} ({symbols[j]}) are {dist:.2f} Å apart: coincident "
            f"atoms (an atom written twice?); no two atoms may be closer than {COINCIDENT_ANGSTROM} Å")


def rdkit_quiet():
    """Silence RDKit's own stderr logging; we raise our own, specific errors."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


class Molecule(BaseModel):
    """A single molecule: elements, 3-D coordinates (Å), Kekulé bonds, charge, spin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    symbols: tuple[str, ...]
    coords_angstrom: tuple[tuple[float, float, float], ...]
    bonds: tuple[tuple[int, int, int], ...] = Field(
        default=(), description="(i, j, order) with Kekulé orders 1-3, i < j"
    )
    formal_charges: tuple[int, ...] = ()
    charge: int = 0
    multiplicity: int = 1

    @field_validator("symbols")
    @classmethod
    def _known_elements(cls, symbols: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted({s for s in symbols if s not in ATOMIC_NUMBER})
        if unknown:
            raise ValueError(_unknown_element_message(unknown))
        if not symbols:
            raise ValueError("a molecule needs at least one atom")
        return symbols

    @field_validator("coords_angstrom", mode="before")
    @classmethod
    def _round_coords(cls, coords):
        arr = np.asarray(coords, dtype=float).reshape(-1, 3)
        if not np.all(np.isfinite(arr)):
            raise ValueError("coordinates contain NaN or infinity")
        return tuple(tuple(round(float(x), COORD_DECIMALS) + 0.0 for x in row) for row in arr)

    @model_validator(mode="after")
    def _consistent(self) -> "Molecule":
        n = len(self.symbols)
        if len(self.coords_angstrom) != n:
            raise ValueError(f"{n} atoms but {len(self.coords_angstrom)} coordinate rows")
        if self.formal_charges and len(self.formal_charges) != n:
            raise ValueError("formal_charges must have one entry per atom")
        if self.multiplicity < 1:
            raise ValueError(f"multiplicity {self.multiplicity} is impossible: it is 2S+1, at least 1 (a singlet)")
        n_electrons = sum(ATOMIC_NUMBER[s] for s in self.symbols) - self.charge
        if (n_electrons + self.multiplicity - 1) % 2:
            parity = "an even" if n_electrons % 2 == 0 else "an odd"
            allowed = "1 (singlet), 3 (triplet)" if n_electrons % 2 == 0 else "2 (doublet), 4 (quartet)"
            raise ValueError(
                f"multiplicity {self.multiplicity} is impossible with charge {self.charge}: {n_electrons} electrons "
                f"is {parity} number, so the multiplicity must be {allowed}, ...; check --multiplicity and --charge"
            )
        pair = coincident_atoms(self.coords_angstrom)
        if pair is not None:
            raise ValueError(coincident_message(self.symbols, pair))
        return self

    # ----------------------------------------------------------------- properties
    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    @property
    def coords(self) -> np.ndarray:
        """Coordinates as an (n, 3) array in Å."""
        return np.array(self.coords_angstrom, dtype=float)

    @property
    def atomic_numbers(self) -> list[int]:
        return [ATOMIC_NUMBER[s] for s in self.symbols]

    @property
    def n_electrons(self) -> int:
        return sum(self.atomic_numbers) - self.charge

    @property
    def is_closed_shell(self) -> bool:
        return self.multiplicity == 1

    @property
    def formula(self) -> str:
        from collections import Counter

        counts = Counter(self.symbols)
        order = ["C", "H"] + sorted(s for s in counts if s not in ("C", "H"))
        return "".join(f"{s}{counts[s] if counts[s] > 1 else ''}" for s in order if s in counts)

    @property
    def smiles(self) -> str:
        """Canonical SMILES (no stereo from 3-D, hydrogens implicit)."""
        from rdkit import Chem

        return Chem.MolToSmiles(Chem.RemoveHs(self.to_rdkit()))

    @property
    def inchikey(self) -> str:
        """Identity of the molecule (connectivity, charge), independent of geometry."""
        from rdkit import Chem

        rdkit_quiet()
        key = Chem.MolToInchiKey(self.to_rdkit())
        return key or hashlib.sha1(self.smiles.encode()).hexdigest()[:27]

    @property
    def label(self) -> str:
        return self.name or self.formula

    def has_elements(self, elements: Iterable[str]) -> bool:
        return bool(set(elements) & set(self.symbols))

    # ------------------------------------------------------------------ bond graph
    def neighbours(self) -> list[list[int]]:
        """Bonded neighbours of every atom: ``neighbours()[i]`` lists atom i's partners in
        the order of ``bonds``."""
        nb: list[list[int]] = [[] for _ in self.symbols]
        for i, j, _ in self.bonds:
            nb[i].append(j)
            nb[j].append(i)
        return nb

    def bond_path(self, i: int, j: int) -> list[int]:
        """Atoms on a shortest bond path from i to j, both included (``[i]`` when i == j);
        empty when they are not connected."""
        if i == j:
            return [i]
        nb = self.neighbours()
        previous = {i: i}
        queue = deque([i])
        while queue:
            u = queue.popleft()
            for v in nb[u]:
                if v in previous:
                    continue
                previous[v] = u
                if v == j:
                    path = [j]
                    while path[-1] != i:
                        path.append(previous[path[-1]])
                    return path[::-1]
                queue.append(v)
        return []

    # ---------------------------------------------------------------- conversion
    def to_rdkit(self) -> "Chem.Mol":
        """The RDKit molecule, with explicit hydrogens and one 3-D conformer."""
        from rdkit import Chem
        from rdkit.Geometry import Point3D

        rw = Chem.RWMol()
        charges = self.formal_charges or (0,) * self.n_atoms
        for symbol, q in zip(self.symbols, charges):
            atom = Chem.Atom(symbol)
            atom.SetFormalCharge(q)
            atom.SetNoImplicit(True)
            rw.AddAtom(atom)
        order = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
        for i, j, o in self.bonds:
            rw.AddBond(i, j, order[o])
        mol = rw.GetMol()
        Chem.SanitizeMol(mol)  # also assigns radical electrons to under-valent atoms
        conf = Chem.Conformer(self.n_atoms)
        for k, (x, y, z) in enumerate(self.coords_angstrom):
            conf.SetAtomPosition(k, Point3D(x, y, z))
        conf.Set3D(True)
        mol.AddConformer(conf, assignId=True)
        if self.name:
            mol.SetProp("_Name", self.name)
        return mol

    def with_coords(self, coords_angstrom) -> "Molecule":
        """The same molecule at new coordinates (Å)."""
        return self.model_copy(update={"coords_angstrom": Molecule._round_coords(coords_angstrom)})

    def to_xyz(self, comment: str | None = None) -> str:
        lines = [str(self.n_atoms), comment if comment is not None else self.label]
        lines += [f"{s:2s} {x:14.6f} {y:14.6f} {z:14.6f}" for s, (x, y, z) in zip(self.symbols, self.coords_angstrom)]
        return "\n".join(lines) + "\n"

    def to_molblock(self) -> str:
        from rdkit import Chem

        return Chem.MolToMolBlock(self.to_rdkit())

    def to_ase(self):
        from ase import Atoms

        return Atoms(symbols=list(self.symbols), positions=self.coords)

    # -------------------------------------------------------------- constructors
    @classmethod
    def from_rdkit(cls, mol: "Chem.Mol", name: str = "", multiplicity: int | None = None,
                   conf_id: int = -1) -> "Molecule":
        """From an RDKit molecule with a 3-D conformer (hydrogens are added if missing)."""
        from rdkit import Chem

        if mol.GetNumConformers() == 0:
            raise MoleculeError(f"{name or 'molecule'}: no coordinates; embed it first")
        if any(a.GetNumImplicitHs() for a in mol.GetAtoms()):
            mol = Chem.AddHs(mol, addCoords=True)
        _check_one_fragment(mol, name)
        radicals = sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms())
        if multiplicity is None:
            if radicals:
                raise MoleculeError(
                    f"{name or Chem.MolToSmiles(mol)}: {radicals} unpaired electron(s) but no "
                    "multiplicity given; state it (e.g. multiplicity=2 for a doublet)"
                )
            multiplicity = 1
        kek = Chem.Mol(mol)
        Chem.Kekulize(kek, clearAromaticFlags=True)
        bonds = []
        for b in kek.GetBonds():
            i, j = sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
            o = int(round(b.GetBondTypeAsDouble()))
            if o not in (1, 2, 3):
                raise MoleculeError(f"{name or 'molecule'}: unsupported bond type {b.GetBondType()}")
            bonds.append((i, j, o))
        pos = kek.GetConformer(conf_id).GetPositions()
        try:
            return cls(
                name=name or (mol.GetProp("_Name") if mol.HasProp("_Name") else ""),
                symbols=tuple(a.GetSymbol() for a in kek.GetAtoms()),
                coords_angstrom=pos,
                bonds=tuple(sorted(bonds)),
                formal_charges=tuple(a.GetFormalCharge() for a in kek.GetAtoms()),
                charge=Chem.GetFormalCharge(kek),
                multiplicity=multiplicity,
            )
        except ValueError as exc:
            raise MoleculeError(f"{name or _smiles_label(mol)}: {validation_line(exc)}") from None

    @classmethod
    def from_smiles(cls, smiles: str, name: str = "", multiplicity: int | None = None,
                    seed: int = DEFAULT_SEED) -> "Molecule":
        """Parse, validate and embed (ETKDGv3, seeded, MMFF94-relaxed where possible)."""
        mol = parse_smiles(smiles, name)
        return cls.from_rdkit(embed(mol, seed=seed, name=name or smiles), name=name, multiplicity=multiplicity)

    @classmethod
    def from_xyz(cls, source: str | Path, charge: int = 0, name: str = "",
                 multiplicity: int | None = None) -> "Molecule":
        """From an XYZ file or text; bonds perceived with rdDetermineBonds given the charge."""
        mol, title = _xyz_to_rdkit(source, charge, name)
        return cls.from_rdkit(mol, name=name or title, multiplicity=multiplicity)

    @classmethod
    def from_file(cls, path: str | Path, charge: int = 0, name: str = "",
                  multiplicity: int | None = None) -> "Molecule":
        """From .xyz, .sdf/.mol or .mol2 (the first record of an SDF)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".xyz":
            return cls.from_xyz(path, charge=charge, name=name or path.stem, multiplicity=multiplicity)
        if not path.exists():
            raise MoleculeError(f"{path}: no such file")
        if suffix in (".sdf", ".mol"):
            mols = read_sdf(path)
            if not mols:
                raise MoleculeError(f"{path}: no readable molecule")
            return mols[0] if not name else mols[0].model_copy(update={"name": name})
        if suffix == ".mol2":
            from rdkit import Chem

            rdkit_quiet()
            mol = Chem.MolFromMol2File(str(path), removeHs=False)
            if mol is None:
                raise MoleculeError(f"{path}: RDKit could not read this MOL2 file")
            return cls.from_rdkit(mol, name=name or path.stem, multiplicity=multiplicity)
        raise MoleculeError(f"{path}: unsupported file type {suffix!r} (use .xyz, .sdf, .mol, .mol2)")


# ------------------------------------------------------------------ helpers
def _unknown_element_message(symbols: list[str]) -> str:
    """What is wrong with symbols outside H-Rn: a real element beyond radon, or no element at all."""
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    for symbol in symbols:
        try:
            z = table.GetAtomicNumber(symbol)
        except RuntimeError:
            z = 0
        if z > len(ELEMENTS):
            return (f"{table.GetElementName(z).lower()} ({symbol}, Z = {z}) is beyond radon: tierchem's element "
                    f"data, basis sets and force fields cover H to Rn (Z 1-{len(ELEMENTS)})")
    return f"unknown element symbol(s): {', '.join(symbols)}"


def validation_line(exc: Exception) -> str:
    """The first problem a pydantic ValidationError reports, in one line without its URL."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
        except (IndexError, TypeError):
            first = None
        if first:
            msg = str(first.get("msg", "")).removeprefix("Value error, ")
            loc = ".".join(str(p) for p in first.get("loc", ()))
            return msg if not loc or first.get("type") == "value_error" else f"{loc}: {msg}"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _smiles_label(mol) -> str:
    """A molecule's SMILES for an error message ('molecule' when RDKit cannot write one)."""
    from rdkit import Chem

    try:
        return Chem.MolToSmiles(Chem.RemoveHs(mol, sanitize=False))
    except Exception:  # RDKit raises several types; a message must not fail
        return "molecule"


def _check_one_fragment(mol, name: str) -> None:
    from rdkit import Chem

    frags = Chem.GetMolFrags(mol)
    if len(frags) > 1:
        raise MoleculeError(
            f"{name or Chem.MolToSmiles(mol)}: {len(frags)} disconnected fragments where one "
            "molecule was expected (give salts, solvates and dimers as separate molecules)"
        )


def parse_smiles(smiles: str, name: str = "") -> "Chem.Mol":
    """Parse and sanitise a SMILES string, with a specific error for each failure."""
    from rdkit import Chem

    rdkit_quiet()
    label = f"{name}: " if name else ""
    smiles = (smiles or "").strip()
    if not smiles:
        raise MoleculeError(f"{label}empty SMILES")
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        bad = re.findall(r"\[([A-Z][a-z]?)", smiles)
        unknown = [b for b in bad if b not in ATOMIC_NUMBER]
        if unknown:
            raise MoleculeError(f"{label}invalid SMILES {smiles!r}: unknown element {unknown[0]!r}")
        raise MoleculeError(f"{label}invalid SMILES {smiles!r}: {_smiles_syntax_hint(smiles)}")
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several sanitisation exception types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "valence" in reason.lower():
            raise MoleculeError(f"{label}valence error in {smiles!r}: {reason}") from None
        raise MoleculeError(f"{label}invalid SMILES {smiles!r}: {reason}") from None
    _check_one_fragment(mol, name or smiles)
    if any(a.GetAtomicNum() == 0 for a in mol.GetAtoms()):
        raise MoleculeError(f"{label}SMILES {smiles!r} contains a dummy atom '*'")
    return mol


def _smiles_syntax_hint(smiles: str) -> str:
    """A best guess at what is wrong with a SMILES RDKit could not parse."""
    if smiles.count("(") != smiles.count(")"):
        return "unbalanced parentheses"
    if smiles.count("[") != smiles.count("]"):
        return "unbalanced square brackets"
    outside = re.sub(r"\[[^\]]*\]", "", smiles)
    labels = re.findall(r"%\d\d|\d", outside)
    if any(labels.count(x) % 2 for x in set(labels)):
        return "unclosed ring"
    return "syntax error"


def _xyz_to_rdkit(source: str | Path, charge: int, name: str):
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    rdkit_quiet()
    text = source
    where = name or "XYZ input"
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        if not path.exists():
            raise MoleculeError(f"{path}: no such file")
        text, where = path.read_text(), str(path)
    symbols, coords, title = parse_xyz_text(text, where)
    block = f"{len(symbols)}\n{title}\n" + "\n".join(
        f"{s} {x:.8f} {y:.8f} {z:.8f}" for s, (x, y, z) in zip(symbols, coords)
    )
    mol = Chem.MolFromXYZBlock(block)
    if mol is None:
        raise MoleculeError(f"{where}: RDKit could not read the XYZ block")
    try:
        rdDetermineBonds.DetermineBonds(mol, charge=charge)
    except Exception as exc:
        raise MoleculeError(_bond_perception_message(block, charge, where, exc)) from None
    return mol, title


def _bond_perception_message(block: str, charge: int, where: str, exc: Exception) -> str:
    """Why bonds could not be drawn: a charge the geometry does not have, or the geometry itself."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds, rdMolDescriptors

    if charge:
        neutral = Chem.MolFromXYZBlock(block)
        try:
            rdDetermineBonds.DetermineBonds(neutral, charge=0)
        except Exception:  # RDKit raises several types; not neutral either
            neutral = None
        if neutral is not None:
            formula = rdMolDescriptors.CalcMolFormula(neutral)
            return (f"{where}: this geometry is a neutral molecule ({formula}); its bonds cannot carry a charge of "
                    f"{charge:+d}; drop --charge, or give the ion's own geometry (e.g. with the proton it gained "
                    f"or lost) with its charge")
    return (f"{where}: could not perceive bonds with total charge {charge} "
            f"({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}); "
            "check the charge and the geometry")


def parse_xyz_text(text: str, where: str = "XYZ input"):
    """Symbols, coordinates (Å) and title line of one XYZ frame, with clear errors."""
    lines = text.strip("\n").splitlines()
    try:
        n = int(lines[0].split()[0])
    except (IndexError, ValueError):
        raise MoleculeError(f"{where}: the first line must be the number of atoms") from None
    if len(lines) < n + 2:
        raise MoleculeError(f"{where}: header says {n} atoms but only {max(len(lines) - 2, 0)} lines follow")
    symbols, coords = [], []
    for k, line in enumerate(lines[2 : n + 2], start=3):
        parts = line.split()
        if len(parts) < 4:
            raise MoleculeError(f"{where}, line {k}: expected 'symbol x y z'")
        sym = parts[0].capitalize() if not parts[0].isdigit() else ELEMENTS[int(parts[0]) - 1]
        if sym not in ATOMIC_NUMBER:
            raise MoleculeError(f"{where}, line {k}: unknown element {parts[0]!r}")
        try:
            coords.append(tuple(float(v) for v in parts[1:4]))
        except ValueError:
            raise MoleculeError(f"{where}, line {k}: coordinates are not numbers") from None
        symbols.append(sym)
    pair = coincident_atoms(coords)
    if pair is not None:  # RDKit's bond perception aborts on them
        raise MoleculeError(f"{where}: {coincident_message(symbols, pair)}")
    return symbols, coords, lines[1].strip()


def read_sdf(path: str | Path) -> list[Molecule]:
    """All molecules of an SDF file; records without 3-D coordinates are embedded."""
    from rdkit import Chem

    rdkit_quiet()
    out = []
    for k, mol in enumerate(Chem.SDMolSupplier(str(path), removeHs=False)):
        if mol is None:
            raise MoleculeError(f"{path}: record {k + 1} could not be read")
        name = mol.GetProp("_Name") if mol.HasProp("_Name") and mol.GetProp("_Name") else f"{Path(path).stem}_{k + 1}"
        if mol.GetNumConformers() == 0 or not mol.GetConformer().Is3D():
            mol = embed(Chem.RemoveHs(mol), name=name)
        out.append(Molecule.from_rdkit(mol, name=name))
    return out
