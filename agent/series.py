"""Read a molecule series: CSV (name,smiles,role), SDF (a ``role`` property), or a folder holding one.

One member must be the ``target``; the others are ``analog`` (or ``proposed``).
Rows whose SMILES cannot be parsed or embedded are skipped with a stated reason;
a file that cannot be read at all, or a series without a target, raises
:class:`SeriesError` with a message that says what to fix.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from ..chem.errors import MoleculeError
from ..chem.molecule import Molecule
from .state import Series, SeriesMember

log = logging.getLogger(__name__)

ROLES = ("target", "analog", "proposed")
_ROLE_ALIASES = {"analogue": "analog", "reference": "analog", "ref": "analog"}


class SeriesError(ValueError):
    """The series file cannot be used as it is."""


def read_series(path: str | Path) -> Series:
    path = Path(path)
    if not path.exists():
        raise SeriesError(f"{path}: no such file or folder")
    if path.is_dir():
        found = sorted(path.glob("*.csv")) + sorted(path.glob("*.sdf"))
        preferred = [p for p in found if p.stem == "series"]
        if not found:
            raise SeriesError(f"{path}: the folder holds no .csv or .sdf series file")
        path = (preferred or found)[0]
    suffix = path.suffix.lower()
    if suffix in (".csv", ".smi", ".txt"):
        members, skipped = _read_csv(path)
    elif suffix in (".sdf", ".mol"):
        members, skipped = _read_sdf(path)
    else:
        raise SeriesError(f"{path}: unsupported series file type {suffix!r} (use .csv with name,smiles,role or .sdf)")
    return _validated(path, members, skipped)


def _role(raw: str | None, where: str, skipped: list[str]) -> str:
    role = (raw or "analog").strip().lower()
    role = _ROLE_ALIASES.get(role, role)
    if role not in ROLES:
        skipped.append(f"{where}: unknown role {raw!r} read as 'analog' (use target, analog or proposed)")
        role = "analog"
    return role


def _read_csv(path: Path) -> tuple[list[SeriesMember], list[str]]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise SeriesError(f"{path}: not a text file (expected CSV with columns name,smiles,role)") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise SeriesError(f"{path}: the file is empty")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(lines, dialect=dialect)
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "smiles" not in fields:
        raise SeriesError(f"{path}: no 'smiles' column in the header {reader.fieldnames!r}; "
                          "expected a header line 'name,smiles,role'")
    members, skipped = [], []
    for k, row in enumerate(reader, start=2):
        row = {(key or "").strip().lower(): (v or "").strip() for key, v in row.items() if key is not None}
        name = row.get("name") or f"mol{k - 1}"
        where = f"line {k} ({name})"
        role = _role(row.get("role"), where, skipped)
        try:
            mol = Molecule.from_smiles(row.get("smiles", ""), name=name)
        except MoleculeError as exc:
            skipped.append(f"{where}: skipped: {exc}")
            continue
        observed = {key: v for key, v in row.items() if key not in ("name", "smiles", "role") and v}
        members.append(SeriesMember(name=name, smiles=row["smiles"], role=role,
                                    molecule=mol.model_dump(mode="json"), observed=observed))
    return members, skipped


def _read_sdf(path: Path) -> tuple[list[SeriesMember], list[str]]:
    from rdkit import Chem

    from ..chem.conformers import embed

    members, skipped = [], []
    supplier = Chem.SDMolSupplier(str(path), removeHs=False)
    n = 0
    for k, rd in enumerate(supplier, start=1):
        n += 1
        if rd is None:
            skipped.append(f"record {k}: skipped: RDKit could not read it")
            continue
        name = rd.GetProp("_Name") if rd.HasProp("_Name") and rd.GetProp("_Name") else f"{path.stem}_{k}"
        role = _role(rd.GetProp("role") if rd.HasProp("role") else None, f"record {k} ({name})", skipped)
        try:
            if rd.GetNumConformers() == 0 or not rd.GetConformer().Is3D():
                rd = embed(Chem.RemoveHs(rd), name=name)
            mol = Molecule.from_rdkit(rd, name=name)
        except (MoleculeError, ValueError) as exc:
            skipped.append(f"record {k} ({name}): skipped: {exc}")
            continue
        members.append(SeriesMember(name=name, smiles=mol.smiles, role=role, molecule=mol.model_dump(mode="json")))
    if n == 0:
        raise SeriesError(f"{path}: no SDF records could be read (is it an SDF file?)")
    return members, skipped


def _validated(path: Path, members: list[SeriesMember], skipped: list[str]) -> Series:
    for s in skipped:
        log.warning("%s: %s", path, s)
    if not members:
        raise SeriesError(f"{path}: no usable molecule" + (f" ({'; '.join(skipped)})" if skipped else ""))
    targets = [m for m in members if m.role == "target"]
    if not targets:
        raise SeriesError(f"{path}: no member has role 'target'; mark the molecule the question is about "
                          "as target (column 'role') and the others as analog")
    if len(targets) > 1:
        raise SeriesError(f"{path}: {len(targets)} members have role 'target' "
                          f"({', '.join(t.name for t in targets)}); exactly one is needed")
    if not any(m.role == "analog" for m in members):
        raise SeriesError(f"{path}: the series needs at least one analog to compare the target with")
    names = [m.name for m in members]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SeriesError(f"{path}: duplicate names {', '.join(dupes)}; names must be unique")
    return Series(source=str(path), members=members, skipped=skipped)
