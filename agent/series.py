"""Read a molecule series: CSV (name,smiles,role), SDF (a ``role`` property), or a folder holding one.

One member must be the ``target``; the others are ``analog`` (or ``proposed``).
Rows whose SMILES cannot be parsed or embedded are skipped with a stated reason;
a file that cannot be read at all, or a series without a target, raises
:class:`SeriesError` with a message that says what to fix.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Series, SeriesMember

log = logging.getLogger(__name__)

ROLES = ("target", "analog", "proposed")
_ROLE_ALIASES = {"analogue": "analog", "reference": "analog", "ref": "analog"}


class SeriesError(ValueError):
    """The series file cannot be used as it is."""


def series_file(path: str | Path) -> Path:
    """The series file ``path`` names: itself, or in a folder its ``series.csv`` (else its first .csv, then
    .sdf). Reads no molecule (agent.replay keys a run by this file without importing RDKit)."""
    path = Path(path)
    if not path.exists():
        raise SeriesError(f"{path}: no such file or folder")
    if path.is_dir():
        found = sorted(path.glob("*.csv")) + sorted(path.glob("*.sdf"))
        preferred = [p for p in found if p.stem == "series"]
        if not found:
            raise SeriesError(f"{path}: the folder holds no .csv or .sdf series file")
        path = (preferred or found)[0]
    if path.suffix.lower() not in (".csv", ".smi", ".txt", ".sdf", ".mol"):
        raise SeriesError(f"{path}: unsupported series file type {path.suffix!r} "
                          "(use .csv with name,smiles,role or .sdf)")
    return path


def read_series(path: str | Path) -> Series:
    from ..chem.errors import MoleculeError
    from ..chem.molecule_set import read_molecule_set
    from .state import SeriesMember

    path = series_file(path)
    try:
        entries = read_molecule_set(path)
    except MoleculeError as exc:
        raise SeriesError(str(exc)) from None
    if path.suffix.lower() in (".csv", ".smi", ".txt") and not any("role" in e.fields for e in entries):
        log.info("%s: no role column; every member is read as an analog", path)
    members, skipped = [], []
    for k, entry in enumerate(entries, start=1):
        where = f"entry {k} ({entry.name})"
        role = _role(entry.fields.get("role"), where, skipped)
        if entry.molecule is None:
            skipped.append(f"{where}: skipped: {entry.error}")
            continue
        observed = {key: v for key, v in entry.fields.items() if key != "role" and v}
        members.append(SeriesMember(name=entry.name, smiles=entry.molecule.smiles, role=role,
                                    molecule=entry.molecule.model_dump(mode="json"), observed=observed))
    return _validated(path, members, skipped)


def _role(raw: str | None, where: str, skipped: list[str]) -> str:
    role = (raw or "analog").strip().lower()
    role = _ROLE_ALIASES.get(role, role)
    if role not in ROLES:
        skipped.append(f"{where}: unknown role {raw!r} read as 'analog' (use target, analog or proposed)")
        role = "analog"
    return role


def _validated(path: Path, members: list[SeriesMember], skipped: list[str]) -> Series:
    from .state import Series

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
