"""The agent's side of calculations: compute actions turned into planned specs with cost estimates,
fitted into the budget, and stored results read back as the values evidence compares.

The agent never calls an engine: specs come from the observables (through the task catalogue), and
results from the executor and the result store.
"""

from __future__ import annotations

from ..tiers.store import ResultStore
from .observables import NotApplicable, estimate_seconds, read_value, specs_for
from .state import Action, PlannedCalc, ResultRef, SeriesMember, ValueRef


def plan_calcs(computes: list[Action], members: list[SeriesMember],
               background_tier: int | None) -> tuple[list[PlannedCalc], list[ResultRef]]:
    """The calculations of compute actions for every member, and the refs of those that need none (a value
    known by structure) or could not be built (data, not a crash). Dimer calculations at
    ``background_tier`` and above are marked for the background (None: none are)."""
    planned, no_calc = [], []
    for a in computes:
        for m in members:
            try:
                spec = specs_for(a.observable, m.mol(), a.tier)[0]
            except NotApplicable as na:
                no_calc.append(ResultRef.without_calc(a.observable, a.tier, m.name, value=na.value, note=str(na),
                                                      error=None if na.value is not None else str(na)))
                continue
            except Exception as exc:  # a builder that cannot place this molecule
                no_calc.append(ResultRef.without_calc(a.observable, a.tier, m.name,
                                                      error=f"could not build the system: {exc}"))
                continue
            bg = (background_tier is not None and a.tier >= background_tier
                  and spec.task == "interaction_energy")
            planned.append(PlannedCalc(spec=spec.model_dump(mode="json"), observable=a.observable, tier=a.tier,
                                       molecule=m.name, estimate_s=estimate_seconds(spec), background=bg))
    return planned, no_calc


def fit_budget(planned: list[PlannedCalc], left_s: float) -> tuple[list[PlannedCalc], list[tuple[str, int]]]:
    """Drop the most expensive (observable, tier) until the estimates fit the budget left."""
    dropped = []
    while planned and sum(p.estimate_s for p in planned) > left_s:
        worst = max(planned, key=lambda p: p.estimate_s)
        planned = [p for p in planned if not (p.observable == worst.observable and p.tier == worst.tier)]
        dropped.append((worst.observable, worst.tier))
    return planned, list(dict.fromkeys(dropped))


def value_of(name: str, member: SeriesMember, ref: ResultRef, store: ResultStore) -> ValueRef:
    """The value of observable ``name`` for ``member`` from its ref (and the stored result it points to)."""
    if ref.cache_key is None:
        return ValueRef(molecule=member.name, value=ref.value, note=ref.note or ref.error or "")
    if not ref.success:
        return ValueRef(molecule=member.name, value=None, cache_keys=[ref.cache_key], note=ref.error or "")
    result = store.get(ref.cache_key)
    if result is None:
        return ValueRef(molecule=member.name, value=None, cache_keys=[ref.cache_key],
                        note="result missing from the store")
    try:
        value = read_value(name, member.mol(), [result])
        return ValueRef(molecule=member.name, value=value, cache_keys=[result.cache_key])
    except NotApplicable as na:
        return ValueRef(molecule=member.name, value=na.value, cache_keys=[result.cache_key], note=str(na))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return ValueRef(molecule=member.name, value=None, cache_keys=[result.cache_key],
                        note=f"could not read {name}: {exc}")
