"""The harness base class and the registry of engines.

One harness per engine (as in QCEngine): it declares its tier, methods and tasks,
the engine settings it uses unless a spec's keywords say otherwise
(``default_parameters``, as ASE calculators do) and the fixed model choices that
are not keywords (``model_notes``); it says whether its engine is ``found()``
here, reports engine ``versions()``, estimates a spec's cost before running it
(``estimate_seconds``) and runs a :class:`CalcSpec`. The registry maps names to
import paths so that listing harnesses never imports an engine.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from ..chem.molecule import Molecule
from .errors import EngineMissingError, InputError, ResourceError
from .spec import CalcSpec

KCAL_PER_HARTREE = 627.509474
KCAL_PER_KJ = 1.0 / 4.184
KCAL_PER_EV = 23.060548

# Keywords that are inputs of a task rather than engine settings (no default to declare).
TASK_INPUTS: dict[str, frozenset[str]] = {
    "torsion_scan": frozenset({"dihedral"}),
    "lattice_energy": frozenset({"cell_angstrom"}),
}
# Short spellings accepted where the keyword they stand for is (xtb's ``fmax``).
KEYWORD_ALIASES: dict[str, str] = {"fmax": "fmax_ev_angstrom"}


@dataclass
class Outcome:
    """What a harness returns; :func:`compute` wraps it into a CalcResult."""

    values: dict[str, Any]
    artifacts: dict[str, Any] = field(default_factory=dict)
    converged: bool | None = None
    warnings: list[str] = field(default_factory=list)


def combined_geometry(fragments: Sequence[Molecule]) -> tuple[list[str], np.ndarray]:
    """The fragments as one system: all symbols and an (N, 3) array of coordinates (Å)."""
    return [s for f in fragments for s in f.symbols], np.vstack([f.coords for f in fragments])


def split_coords(fragments: Sequence[Molecule], coords_angstrom) -> list[Molecule]:
    """Each fragment at its rows of a whole system's (N, 3) coordinates (Å), in order."""
    coords_angstrom = np.asarray(coords_angstrom, float)
    out, start = [], 0
    for f in fragments:
        out.append(f.with_coords(coords_angstrom[start:start + f.n_atoms]))
        start += f.n_atoms
    return out


@functools.lru_cache(maxsize=None)
def package_version(*distributions: str) -> str | None:
    """The installed version of the first of ``distributions`` present, from its package metadata
    (read once per process, never by importing the package); None when none is installed."""
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def engine_version(module: str, *distributions: str) -> str:
    """An engine's version as ``module.__version__`` spells it (the form cache keys hold), read from
    the metadata of ``distributions`` (default: the module's name); the module is imported only
    where no metadata says. RDKit pads its month ("2026.09.1") where the metadata does not ("2026.9.1")."""
    version = package_version(*(distributions or (module,)))
    if version is None:
        return str(getattr(importlib.import_module(module), "__version__", "unknown"))
    if module == "rdkit":
        m = re.fullmatch(r"(\d{4})\.(\d+)\.(\d+)", version)
        if m is None:  # a form we cannot translate: ask RDKit itself
            return importlib.import_module("rdkit").__version__
        return f"{m[1]}.{int(m[2]):02d}.{m[3]}"
    return version


@functools.lru_cache(maxsize=None)
def module_present(name: str) -> bool:
    """Whether module ``name`` (dotted) can be found here, without importing it or its packages."""
    if name in sys.modules:
        return sys.modules[name] is not None
    from importlib.machinery import PathFinder

    path = None
    for i, part in enumerate(name.split(".")):
        spec = PathFinder.find_spec(".".join(name.split(".")[:i + 1]), path)
        if spec is None:
            return False
        path = spec.submodule_search_locations
        if path is None and i < name.count("."):
            return False  # a plain module where a package was needed
    return True


class Harness:
    """Base class: subclasses set the class attributes and implement ``energy``.

    ``energy(fragments, spec)`` treats all fragments as one system and returns at
    least ``energy_kcal_mol``. The base class builds ``interaction_energy`` on it
    (supermolecular, no counterpoise); harnesses that can do better override it.
    """

    name: ClassVar[str]
    tier: ClassVar[int]
    methods: ClassVar[tuple[str, ...]]
    tasks: ClassVar[frozenset[str]]
    max_atoms: ClassVar[int | None] = None
    supports_open_shell: ClassVar[bool] = False
    supports_charged: ClassVar[bool] = True

    engine_modules: ClassVar[tuple[str, ...]] = ()  # what must import for found() to be true
    # Engine settings used unless a spec's keywords say otherwise (JSON values; None: not used
    # unless given). Tasks whose defaults differ list them in task_parameters.
    default_parameters: ClassVar[dict[str, Any]] = {}
    task_parameters: ClassVar[dict[str, dict[str, Any]]] = {}
    model_notes: ClassVar[str] = ""  # fixed model choices that no keyword changes
    # Where the harness may keep engine-side caches (compute() sets it next to the result
    # store); None: the user cache directory.
    cache_dir: Path | None = None

    @classmethod
    def found(cls) -> bool:
        """Whether the engine is installed here: its ``engine_modules`` can be found (looked up once
        per process without importing them, so a warm run asks no engine to load)."""
        return all(module_present(module) for module in cls.engine_modules)

    @classmethod
    def versions(cls) -> dict[str, str]:
        """Engine versions, part of the cache key: read from package metadata
        (:func:`engine_version`), never by importing the engine."""
        raise NotImplementedError

    @property
    def default_method(self) -> str:
        return self.methods[0]

    def settings(self, spec: CalcSpec) -> dict[str, Any]:
        """The settings ``spec`` runs with: the defaults (the task's own first), then its keywords."""
        return {**self.default_parameters, **self.task_parameters.get(spec.task, {}), **spec.keywords}

    def level_label(self, spec: CalcSpec) -> str:
        """The level ``spec`` runs at, in the usual notation ("B3LYP-D3BJ/def2-SVP")."""
        return spec.method + (f"/{spec.basis}" if spec.basis else "")

    def estimate_seconds(self, spec: CalcSpec) -> float:
        """A rough cost of ``spec`` (seconds on 2 cores) before running it; subclasses know better."""
        return 1.0

    # ------------------------------------------------------------------ checks
    def accepted_keywords(self, task: str) -> list[str]:
        """The keywords ``task`` takes here: the declared settings (``default_parameters``, the
        task's ``task_parameters``), the task's inputs (``TASK_INPUTS``) and their aliases."""
        names = set(self.default_parameters) | set(self.task_parameters.get(task, {})) | TASK_INPUTS.get(task, set())
        return sorted(names | {alias for alias, target in KEYWORD_ALIASES.items() if target in names})

    def check_keywords(self, spec: CalcSpec) -> None:
        """An InputError naming any keyword of ``spec`` this harness would ignore, with the accepted ones."""
        accepted = self.accepted_keywords(spec.task)
        unknown = sorted(set(spec.keywords) - set(accepted))
        if unknown:
            raise InputError(f"unknown keyword{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                             f"for {spec.task} with {self.name} (tier {self.tier}); it accepts: "
                             f"{', '.join(accepted) or 'none'}")

    def check(self, spec: CalcSpec) -> None:
        """Refuse what this harness cannot do, before any work (InputError/ResourceError)."""
        if spec.task not in self.tasks:
            raise InputError(f"{self.name} (tier {self.tier}) cannot run task {spec.task!r}; "
                             f"it runs {', '.join(sorted(self.tasks))}")
        self.check_keywords(spec)
        if spec.method.lower() not in {m.lower() for m in self.methods}:
            raise InputError(f"{self.name} does not offer method {spec.method!r}; "
                             f"it offers {', '.join(self.methods)}")
        if spec.task == "interaction_energy" and len(spec.molecules) != 2:
            raise InputError(f"interaction_energy needs exactly two fragments, got {len(spec.molecules)}")
        if self.max_atoms is not None and spec.n_atoms > self.max_atoms:
            raise ResourceError(f"{spec.n_atoms} atoms exceeds {self.name}'s limit of {self.max_atoms} "
                                "on this machine; use a smaller model system or a lower tier")
        for m in spec.molecules:
            if m.multiplicity != 1 and not self.supports_open_shell:
                raise InputError(f"{m.label}: open-shell (multiplicity {m.multiplicity}) molecules "
                                 f"are not supported by {self.name}")
            if m.charge != 0 and not self.supports_charged:
                raise InputError(f"{m.label}: charged molecules (charge {m.charge}) are not "
                                 f"supported by {self.name}")

    # ------------------------------------------------------------------- tasks
    def run(self, spec: CalcSpec) -> Outcome:
        self.check(spec)
        return getattr(self, f"task_{spec.task}")(spec)

    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        raise NotImplementedError

    def task_energy(self, spec: CalcSpec) -> Outcome:
        return self.energy(spec.molecules, spec)

    def task_interaction_energy(self, spec: CalcSpec) -> Outcome:
        a, b = spec.molecules
        e_ab = self.energy([a, b], spec).values["energy_kcal_mol"]
        e_a = self.energy([a], spec).values["energy_kcal_mol"]
        e_b = self.energy([b], spec).values["energy_kcal_mol"]
        return Outcome(values={
            "interaction_energy_kcal_mol": e_ab - e_a - e_b,
            "dimer_energy_kcal_mol": e_ab,
            "monomer_energies_kcal_mol": [e_a, e_b],
            "counterpoise": False,
        })

    def task_interaction_energies(self, spec: CalcSpec) -> Outcome:
        """Several dimers in one spec, fragments in consecutive pairs (a1, b1, a2, b2, ...): each pair's
        ``interaction_energy`` in order, as ``interaction_energies_kcal_mol`` (and the dispersion part
        where the harness reports it). One spec, so one stored result holds a comparison of motifs."""
        mols = spec.molecules
        if len(mols) < 2 or len(mols) % 2:
            raise InputError(f"interaction_energies takes dimers as consecutive fragment pairs; got {len(mols)} "
                             "fragments")
        outs = [self.task_interaction_energy(spec.model_copy(update={"task": "interaction_energy",
                                                                     "molecules": (mols[k], mols[k + 1])}))
                for k in range(0, len(mols), 2)]
        values = {"interaction_energies_kcal_mol": [o.values["interaction_energy_kcal_mol"] for o in outs],
                  "n_dimers": len(outs)}
        if all("dispersion_interaction_kcal_mol" in o.values for o in outs):
            values["dispersion_interactions_kcal_mol"] = [o.values["dispersion_interaction_kcal_mol"] for o in outs]
        if all("counterpoise" in o.values for o in outs):
            values["counterpoise"] = all(bool(o.values["counterpoise"]) for o in outs)
        warnings = list(dict.fromkeys(w for o in outs for w in o.warnings))
        return Outcome(values=values, converged=all(o.converged is not False for o in outs), warnings=warnings)

    def periodic_energy(self, fragments: Sequence[Molecule], cell, spec: CalcSpec) -> Outcome:
        """Energy of one periodic cell (``energy_kcal_mol`` per cell); relaxed fragments in
        ``artifacts['molecules']`` when ``keywords['relax'] == 'positions'``."""
        raise InputError(f"{self.name} (tier {self.tier}) has no periodic model")

    def task_lattice_energy(self, spec: CalcSpec) -> Outcome:
        """E_latt = [E(cell) - sum E_gas(relaxed molecule)] / Z, per molecule (negative = bound)."""
        from .periodic import DEFAULT_RELAX, RELAX_MODES, cell_from_keywords, unique_molecules

        relax = self.settings(spec).get("relax", DEFAULT_RELAX)
        if relax not in RELAX_MODES:
            raise InputError(f"relax must be 'positions' or 'none' (fixed cell), got {relax!r}")
        cell = cell_from_keywords(spec.keywords)
        crystal = self.periodic_energy(spec.molecules, cell, spec)
        warnings = list(crystal.warnings)
        gas_total, gas_energies = 0.0, {}
        for key, (mol, count) in unique_molecules(spec.molecules).items():
            opt = self.task_optimize(spec.model_copy(update={"task": "optimize", "molecules": (mol,), "keywords": {}}))
            if opt.converged is False:
                warnings.append(f"{mol.label}: gas-phase optimisation did not converge")
            gas_energies[mol.label or key] = opt.values["energy_kcal_mol"]
            gas_total += count * opt.values["energy_kcal_mol"]
        z = len(spec.molecules)
        e_cell = crystal.values["energy_kcal_mol"]
        values = {"lattice_energy_kcal_mol": (e_cell - gas_total) / z, "cell_energy_kcal_mol": e_cell,
                  "gas_energies_kcal_mol": gas_energies, "z": z, "relax": relax}
        values.update({k: v for k, v in crystal.values.items() if k != "energy_kcal_mol"})
        return Outcome(values=values, artifacts=crystal.artifacts, converged=crystal.converged, warnings=warnings)


# name -> "module:Class" (relative to tierchem.tiers); imported on first use.
_REGISTRY: dict[str, str] = {
    "rdkit": "cheminformatics:RDKitHarness",
    "xtb": "xtb:XTBHarness",
    "pyscf": "dft:PySCFDFTHarness",
    "pyscf-cc": "correlated:PySCFCorrelatedHarness",
    "openmm": "classical:OpenMMHarness",
}


def register(name: str, target: str) -> None:
    """Register a harness by import path, e.g. ``register("mine", "mypkg.mod:MyHarness")``."""
    _REGISTRY[name] = target


def harness_names() -> list[str]:
    return sorted(_REGISTRY)


def get_harness(name: str) -> Harness:
    """An instance of the named harness (imports its module, not yet its engine)."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise EngineMissingError(f"no harness named {name!r}; known: {', '.join(harness_names())}") from None
    module, _, cls = target.partition(":")
    if not module.startswith(("tierchem", ".")) and "." not in module:
        module = f"tierchem.tiers.{module}"
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:  # a harness whose own imports are missing here
        raise EngineMissingError(f"harness {name!r} could not be imported: {exc}") from None
    return getattr(mod, cls)()


def estimate_seconds(spec: CalcSpec) -> float:
    """The cost of ``spec`` by its harness's model (imports the harness module, not its engine);
    the base class's guess where the harness cannot be imported here."""
    try:
        harness = get_harness(spec.engine)
    except EngineMissingError:
        harness = Harness()
    return float(harness.estimate_seconds(spec))


def installed_cache_key(spec: CalcSpec) -> str | None:
    """The store key of ``spec`` with the engine versions installed here; None when its engine is not."""
    try:
        harness = get_harness(spec.engine)
        return spec.cache_key(harness.versions()) if harness.found() else None
    except Exception:  # a harness that cannot even be imported or asked its versions has no key here
        return None
