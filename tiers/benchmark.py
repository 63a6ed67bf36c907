"""Accuracy benchmarks against reference data.

Dimer sets (interaction energies against CCSD(T)/CBS): S22 ships with ASE; X40,
S66 and XB18 ship with the project in ``tiers/data/refdata`` (``--data`` or
``$TIERCHEM_REFDATA`` for another copy). Crystals: X23 lattice energies (X23b
references) from the same folder. Datasets are read by
:mod:`tierchem.tiers.refdata`. XB18's halogen donors are dihalogens and hydrogen
halides, so it has no C-X entry (``by_halogen("C")`` is empty) and GAFF2-EP, whose
extra points sit on C-bound Cl/Br/I, gives the same numbers as GAFF2 there. Every
calculation goes through the normal executor and store, so a repeated benchmark is
served from the cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from ..chem.elements import HALOGENS
from .catalogue import make_spec
from .executors import Executor
from .harness import get_harness
from .spec import CalcResult


@dataclass
class BenchmarkRow:
    name: str
    reference_kcal_mol: float
    computed_kcal_mol: float | None
    wall_time_s: float
    error: str | None = None
    halogen: str | None = None  # the entry's heaviest halogen (I > Br > Cl > F), None without one
    halogen_partner: str | None = None  # what that halogen is bonded to: "C" (C-X), "H" (H-X)...

    @property
    def deviation(self) -> float | None:
        if self.computed_kcal_mol is None:
            return None
        return self.computed_kcal_mol - self.reference_kcal_mol


@dataclass
class BenchmarkReport:
    dataset: str
    level: str
    rows: list[BenchmarkRow] = field(default_factory=list)
    wall_time_s: float = 0.0

    @property
    def deviations(self) -> list[float]:
        return [r.deviation for r in self.rows if r.deviation is not None]

    @property
    def mae(self) -> float:
        d = self.deviations
        return sum(abs(x) for x in d) / len(d) if d else float("nan")

    @property
    def mse(self) -> float:
        d = self.deviations
        return sum(d) / len(d) if d else float("nan")

    @property
    def max_abs(self) -> float:
        d = self.deviations
        return max(abs(x) for x in d) if d else float("nan")

    @property
    def n_failed(self) -> int:
        return sum(r.computed_kcal_mol is None for r in self.rows)

    def by_halogen(self, partner: str | None = None) -> dict[str, dict]:
        """MAE and MSE (kcal/mol) per heaviest halogen of the entries (X40: which element's contacts
        a model gets right), over the rows that succeeded; ``partner="C"``: only C-X entries."""
        out = {}
        for el in HALOGENS:
            d = [r.deviation for r in self.rows if r.halogen == el and r.deviation is not None
                 and (partner is None or r.halogen_partner == partner)]
            if d:
                out[el] = {"n": len(d), "mae_kcal_mol": sum(abs(x) for x in d) / len(d),
                           "mse_kcal_mol": sum(d) / len(d)}
        return out

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset, "level": self.level, "wall_time_s": self.wall_time_s,
            "mae_kcal_mol": self.mae, "mse_kcal_mol": self.mse, "max_abs_kcal_mol": self.max_abs,
            "n": len(self.rows), "n_failed": self.n_failed, "by_halogen": self.by_halogen(),
            "by_halogen_c_bound": self.by_halogen("C"),
            "rows": [{"name": r.name, "reference_kcal_mol": r.reference_kcal_mol,
                      "computed_kcal_mol": r.computed_kcal_mol, "deviation_kcal_mol": r.deviation,
                      "wall_time_s": r.wall_time_s, "error": r.error, "halogen": r.halogen,
                      "halogen_partner": r.halogen_partner} for r in self.rows],
        }


def load_dataset(name: str, data_dir: str | None = None, subset: str | None = None):
    """Entries of a dataset by name: s22 (ASE), x40, s66, xb18, x23 (from ``data_dir``, default
    the shipped copy or ``$TIERCHEM_REFDATA``: :func:`refdata.refdata_dir`); ``subset`` is
    'small', 'heavy-halogens' or comma-separated system names."""
    from . import refdata

    name = name.lower()
    data_dir = data_dir or str(refdata.refdata_dir())

    if name == "s22":
        entries = refdata.load_s22()
    elif name == "x23":
        entries = refdata.load_x23(data_dir)
    else:
        entries = refdata.load_din_dataset(name, data_dir)
    if subset == "heavy-halogens":  # the entries with Br or I: where ECPs and sigma holes matter
        entries = [e for e in entries if any(s in ("Br", "I") for m in _molecules(e) for s in m.symbols)]
    elif subset == "small":
        # The smallest third by atom count: what the costly tiers can afford.
        entries = sorted(entries, key=lambda e: sum(m.n_atoms for m in _molecules(e)))
        entries = entries[: max(1, len(entries) // 3)]
    elif subset:  # system names, comma-separated
        wanted = [w.strip() for w in subset.split(",") if w.strip()]
        known = {e.name: e for e in entries}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValueError(f"{name} has no system named {', '.join(unknown)}; "
                             f"subsets: small, heavy-halogens or names from: {', '.join(known)}")
        entries = [known[w] for w in wanted]
    return entries


def _molecules(entry):
    return entry.molecules if hasattr(entry, "cell_angstrom") else entry.fragments


def heaviest_halogen(entry) -> tuple[str | None, str | None]:
    """The heaviest halogen in any molecule of ``entry`` (I, Br, Cl, F) and the element it is bonded
    to (C for C-X, H for a hydrogen halide); (None, None) without one."""
    for el in HALOGENS:
        for m in _molecules(entry):
            if el in m.symbols:
                x = m.symbols.index(el)
                nb = m.neighbours()[x]
                return el, (m.symbols[nb[0]] if nb else None)
    return None, None


def _spec(entry, level, method, basis, keywords):
    """A lattice-energy spec for a crystal entry, an interaction-energy spec for a dimer."""
    if hasattr(entry, "cell_angstrom"):
        return make_spec("lattice_energy", list(entry.molecules), level, method=method, basis=basis,
                         cell_angstrom=[list(r) for r in entry.cell_angstrom], **keywords)
    return make_spec("interaction_energy", list(entry.fragments), level, method=method, basis=basis, **keywords)


def run_benchmark(dataset: str, entries, executor: Executor, level: int | str, method: str | None = None,
                  basis: str | None = None, progress: Callable[[CalcResult], None] | None = None,
                  **keywords) -> BenchmarkReport:
    """Interaction energies (dimers) or lattice energies (crystals) of ``entries`` at ``level``,
    compared with their references."""
    specs = [_spec(e, level, method, basis, keywords) for e in entries]
    label = get_harness(specs[0].engine).level_label(specs[0]) if specs else str(level)
    t0 = time.perf_counter()
    results = executor.map(specs, progress=progress)
    report = BenchmarkReport(dataset=dataset, level=label, wall_time_s=time.perf_counter() - t0)
    for entry, res in zip(entries, results):
        if res.success:
            value = res.values[f"{res.spec.task}_kcal_mol"]
            report.rows.append(BenchmarkRow(entry.name, entry.reference_kcal_mol, value, res.wall_time_s,
                                            None, *heaviest_halogen(entry)))
        else:
            report.rows.append(BenchmarkRow(entry.name, entry.reference_kcal_mol, None, res.wall_time_s,
                                            f"{res.error.kind.value}: {res.error.message}",
                                            *heaviest_halogen(entry)))
    return report
