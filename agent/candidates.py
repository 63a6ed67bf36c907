"""Confirmatory candidates and their calculations.

A :class:`Candidate` is a generated analog of the target with the values the design
pass has computed for it (keyed by :func:`.design_scoring.value_key`), the store keys
behind them, and the calculations the design budget left out (``deferred``). A
:class:`Job` is one calculation for one candidate. :func:`plan_launch` decides which
of the best candidate's deferred calculations go to the background.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..chem.molecule import Molecule
from ..tiers.harness import installed_cache_key
from ..tiers.spec import CalcResult, CalcSpec
from .design_scoring import Predictor, value_key
from .observables import NotApplicable, estimate_seconds, read_value, specs_for
from .state import InvestigationView, PlannedCalc, result_id

RUNNING = "over the design budget; running in the background"


@dataclass
class Candidate:
    analog: Any                                                      # chem.analogs.Analog
    mol: Molecule | None = None
    values: dict[str, float | None] = field(default_factory=dict)    # value_key -> value
    notes: dict[str, str] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)        # value_key -> store keys
    error: str = ""
    deferred: list["Job"] = field(default_factory=list)             # jobs the design budget left out
    rigorous: dict[str, str] = field(default_factory=dict)          # value_key -> computed | running | ...

    @classmethod
    def embed(cls, analog) -> "Candidate":
        c = cls(analog)
        try:
            c.mol = analog.to_molecule()
        except Exception as exc:  # a candidate RDKit cannot embed is left out, with its reason
            c.error = f"could not embed: {exc}"
        return c


class Job(NamedTuple):
    candidate: Candidate
    key: str            # value_key(observable, tier)
    observable: str
    spec: CalcSpec


def jobs_for(cands: list[Candidate], observable: str, tier: int, preds: list[Predictor]) -> list[Job]:
    """The calculations of ``observable`` at ``tier`` for candidates that lack it; values known without a
    calculation (feature absent, not applicable, cannot be built) are recorded at once."""
    jobs = []
    k = value_key(observable, tier)
    p = next((p for p in preds if p.observable == observable and p.tier == tier), None)
    for c in cands:
        if k in c.values:
            continue
        if p is not None and p.feature_absent is not None and p.feature_absent(c.mol):
            c.values[k], c.notes[k] = None, "feature absent"
            continue
        try:
            spec = specs_for(observable, c.mol, tier)[0]
        except NotApplicable as na:
            c.values[k], c.notes[k] = na.value, str(na)
            continue
        except Exception as exc:
            c.values[k], c.notes[k] = None, f"could not build: {exc}"
            continue
        jobs.append(Job(c, k, observable, spec))
    return jobs


def record(jobs: list[Job], results: list[CalcResult]) -> float:
    """Read the jobs' values from their results; returns the seconds of new calculation."""
    used = 0.0
    for (c, k, obs, _), r in zip(jobs, results):
        c.keys[k] = [r.cache_key] if r.cache_key else []
        if not r.from_cache:
            used += r.wall_time_s
        if not r.success:
            c.values[k], c.notes[k] = None, f"failed: {r.error.message if r.error else 'unknown'}"
            continue
        try:
            c.values[k] = read_value(obs, c.mol, [r])
        except NotApplicable as na:
            c.values[k], c.notes[k] = na.value, str(na)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            c.values[k], c.notes[k] = None, f"could not read: {exc}"
    return used


def plan_launch(c: Candidate, v: InvestigationView, background: bool, notes: list[str]) -> list[PlannedCalc]:
    """The best candidate's calculations that the design budget left out, to run in the background: none
    already running (pending) or run before, none when background calculations are off or the budget left
    is short. Sets the candidate's ``rigorous`` status and notes; says in ``notes`` why none went."""
    running = {e.id for e in v.pending} | {e.cache_key for e in v.pending if e.cache_key}
    tried = {r.id: r for r in v.results}
    name, new = c.analog.name, []
    for j in c.deferred:
        rid = result_id(j.observable, j.spec.tier, name)  # the id its PendingCalc and ResultRef get
        if rid in running or installed_cache_key(j.spec) in running:
            c.rigorous[j.key], c.notes[j.key] = "running", RUNNING
        elif rid in tried:  # it ran and left nothing in the store (a transient failure): not again, or it loops
            c.rigorous[j.key] = "failed"
            c.notes[j.key] = f"the background calculation failed: {tried[rid].error or 'no result stored'}"
        else:
            new.append(j)
    if not new:
        return []
    cost = sum(estimate_seconds(j.spec) for j in new)
    why = ("background calculations are off" if not background else
           f"their estimate ({cost:.0f} s) exceeds the budget left ({v.budget.left_s:.0f} s)"
           if cost > v.budget.left_s else "")
    if why:
        for j in new:
            c.rigorous[j.key] = f"not launched: {why}"
        notes.append(f"Not launched on the best candidate {name}: "
                     f"{' and '.join(f'{j.observable} at tier {j.spec.tier}' for j in new)} ({why}).")
        return []
    for j in new:
        c.rigorous[j.key], c.notes[j.key] = "running", RUNNING
    return [PlannedCalc(spec=j.spec.model_dump(mode="json"), observable=j.observable, tier=j.spec.tier,
                        molecule=name, estimate_s=estimate_seconds(j.spec), background=True) for j in new]
