"""Read a set of molecules: CSV (name,smiles[,...]), SDF, or a folder of XYZ/SDF/MOL2 files.

A bad entry does not stop the rest: each entry comes back as a Molecule or as
the MoleculeError that explains why it could not be read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .embedding import embed
from .errors import MoleculeError
from .molecule import Molecule


@dataclass
class SetEntry:
    name: str
    molecule: Molecule | None
    error: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # other CSV columns (role, cif, ...)


def read_molecule_set(path: str | Path) -> list[SetEntry]:
    path = Path(path)
    if not path.exists():
        raise MoleculeError(f"{path}: no such file or folder")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".xyz", ".sdf", ".mol", ".mol2"))
        if not files:
            raise MoleculeError(f"{path}: no .xyz, .sdf, .mol or .mol2 files in this folder")
        return [_entry(p.stem, lambda p=p: Molecule.from_file(p, name=p.stem)) for p in files]
    suffix = path.suffix.lower()
    if suffix in (".csv", ".smi", ".txt"):
        return _read_csv(path)
    if suffix in (".sdf", ".mol"):
        from rdkit import Chem

        entries = []
        for k, mol in enumerate(Chem.SDMolSupplier(str(path), removeHs=False), start=1):
            name = mol.GetProp("_Name") if mol is not None and mol.HasProp("_Name") and mol.GetProp("_Name") else f"record_{k}"
            if mol is None:
                entries.append(SetEntry(name, None, f"{path}: record {k} could not be read"))
                continue
            entry = _entry(name, lambda mol=mol, name=name: _from_sdf_record(mol, name))
            entry.fields = {k.lower(): str(v) for k, v in mol.GetPropsAsDict().items()}
            entries.append(entry)
        if not entries:
            raise MoleculeError(f"{path}: no SDF records could be read (is it an SDF file?)")
        return entries
    if suffix in (".xyz", ".mol2"):
        return [_entry(path.stem, lambda: Molecule.from_file(path, name=path.stem))]
    raise MoleculeError(f"{path}: unsupported molecule-set format {suffix!r} (use .csv, .sdf or a folder)")


def _entry(name: str, build) -> SetEntry:
    try:
        return SetEntry(name, build())
    except MoleculeError as exc:
        return SetEntry(name, None, str(exc))


def _from_sdf_record(mol, name: str) -> Molecule:
    from rdkit import Chem

    if mol.GetNumConformers() == 0 or not mol.GetConformer().Is3D():
        mol = embed(Chem.RemoveHs(mol), name=name)
    return Molecule.from_rdkit(mol, name=name)


def _read_csv(path: Path) -> list[SetEntry]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise MoleculeError(f"{path}: not a text file (expected CSV with a name,smiles header)") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise MoleculeError(f"{path}: the file is empty")
    try:  # comma, semicolon or tab
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[cell.strip() for cell in row] for row in csv.reader(lines, dialect=dialect)]
    header = [h.strip().lower() for h in rows[0]]
    if "smiles" in header:
        body, smi_col = rows[1:], header.index("smiles")
        name_col = header.index("name") if "name" in header else None
    elif path.suffix.lower() == ".csv":
        raise MoleculeError(f"{path}: no 'smiles' column in the header {rows[0]!r}; "
                            "expected a header line such as 'name,smiles'")
    else:  # headerless: "smiles[,name]" as in .smi files
        body, smi_col, name_col, header = rows, 0, 1 if len(rows[0]) > 1 else None, []
    entries = []
    for k, row in enumerate(body, start=2 if header else 1):
        if smi_col >= len(row):
            entries.append(SetEntry(f"row_{k}", None, f"{path}, line {k}: no SMILES column"))
            continue
        name = row[name_col].strip() if name_col is not None and name_col < len(row) and row[name_col].strip() else f"row_{k}"
        fields = {h: row[i].strip() for i, h in enumerate(header) if i < len(row) and i not in (smi_col, name_col)}
        entry = _entry(name, lambda s=row[smi_col], n=name: Molecule.from_smiles(s, name=n))
        entry.fields = fields
        entries.append(entry)
    if not entries:
        raise MoleculeError(f"{path}: no molecules (a header but no rows)")
    return entries
