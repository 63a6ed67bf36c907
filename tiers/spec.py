"""Calculations as data: the spec of a calculation and its result.

Units live in field and value names: ``*_kcal_mol``, ``*_angstrom``, ``*_debye``,
``wall_time_s``. Energies at this surface are kcal/mol; engines work in their own
units (Hartree, Bohr, kJ/mol) inside their harness.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..chem.molecule import Molecule
from .errors import ErrorKind

# What a task's values mean; the catalogue documents each task in full.
TASKS = {
    "energy": "single-point energy (and gradient with keywords={'gradient': True})",
    "optimize": "geometry optimisation; the relaxed molecule is in artifacts['molecules']",
    "conformers": "conformer ensemble with relative energies (relaxed at the tier; dipoles at xTB/DFT)",
    "isomer_energies": "lowest-conformer energy of each of several isomers (separate species, e.g. tautomers)",
    "descriptors": "molecular descriptors (size, shape, polarity, donors/acceptors)",
    "interaction_energy": "E(AB) - E(A) - E(B) of a dimer at the dimer geometry",
    "md": "Langevin molecular dynamics in vacuum",
    "md_aggregation": "copies of one molecule annealed in a sphere: contact motifs per molecule over seeded replicas",
    "torsion_scan": "energy profile along a dihedral angle",
    "properties": "dipole, quadrupole, charges",
    "polarizability": "static dipole polarisability (isotropic mean and tensor, Å^3), finite field",
    "interaction_energies": "E(AB) - E(A) - E(B) of several dimers, fragments in consecutive pairs",
    "esp": "molecular electrostatic potential on the 0.001 au density isosurface",
    "lattice_energy": "E(cell)/Z - E(relaxed gas molecule), from the Z molecules of a cell and keywords['cell_angstrom']",
}


def _canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


class CalcSpec(BaseModel):
    """Everything that determines a calculation's outcome, and nothing else.

    ``molecules`` are the fragments of one system (one for a monomer, two for a
    dimer, in the dimer geometry). ``keywords`` are engine options that change the
    result (temperature, steps, grid...); run settings that do not (threads,
    device) stay out so the cache is shared.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    tier: int = Field(ge=0, le=4)
    engine: str
    method: str
    basis: str | None = None
    molecules: tuple[Molecule, ...] = Field(min_length=1)
    keywords: dict[str, Any] = Field(default_factory=dict)

    @field_validator("task")
    @classmethod
    def _known_task(cls, task: str) -> str:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
        return task

    @field_validator("keywords")
    @classmethod
    def _json_keywords(cls, keywords: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(keywords)
        except TypeError as exc:
            raise ValueError(f"keywords must be JSON-serialisable: {exc}") from None
        return keywords

    @property
    def charge(self) -> int:
        return sum(m.charge for m in self.molecules)

    @property
    def n_atoms(self) -> int:
        return sum(m.n_atoms for m in self.molecules)

    @property
    def label(self) -> str:
        names = "+".join(m.label for m in self.molecules)
        model = self.method + (f"/{self.basis}" if self.basis else "")
        return f"{self.task} {names} [{model}]"

    def content_hash(self) -> str:
        """A stable hash of the spec's content (sorted JSON, rounded coordinates)."""
        return hashlib.sha256(_canonical_json(self.model_dump(mode="json")).encode()).hexdigest()

    def cache_key(self, engine_versions: dict[str, str]) -> str:
        """The result store's key: the spec's content plus the engine versions."""
        payload = self.content_hash() + _canonical_json(engine_versions)
        return hashlib.sha256(payload.encode()).hexdigest()


class CalcFailure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ErrorKind
    message: str


class CalcResult(BaseModel):
    """The outcome of a :class:`CalcSpec`: values or a failure, with provenance.

    ``values`` hold scalars and short lists with units in their names
    (``energy_kcal_mol``, ``interaction_energy_kcal_mol``, ``dipole_debye``).
    ``artifacts`` hold larger outputs (relaxed molecules, trajectories' summaries).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    spec: CalcSpec
    cache_key: str
    success: bool
    values: dict[str, Any] = Field(default_factory=dict)
    artifacts: dict[str, Any] = Field(default_factory=dict)
    converged: bool | None = None
    warnings: tuple[str, ...] = ()
    error: CalcFailure | None = None
    wall_time_s: float = 0.0
    engine_versions: dict[str, str] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)
    from_cache: bool = False

    def value(self, name: str) -> Any:
        """A value by name, with a clear error when the calculation failed."""
        if not self.success:
            raise KeyError(f"{self.spec.label} failed ({self.error.kind.value}): {self.error.message}")
        return self.values[name]

    def molecules(self) -> list[Molecule]:
        """Molecules an optimisation or conformer search returned."""
        return [Molecule.model_validate(m) for m in self.artifacts.get("molecules", [])]
