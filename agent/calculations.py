"""The agent's side of calculations: compute actions turned into planned specs with cost estimates,
fitted into the budget, and stored results read back as the values evidence compares.

The agent never calls an engine: specs come from the observables (through the task catalogue), and
results from the executor and the result store.

Absence is data: a molecule that lacks the feature an observable measures (``NotApplicable``) gets the
value that absence means, marked ``absent`` with the reason; ``failed`` (no value) is kept for real
failures and for geometries unfit to be evidence (``UnfitGeometry``: atoms clash).
"""

from __future__ import annotations

from ..tiers.store import ResultStore
from .evidence import make_evidence
from .observables import (OBSERVABLES, NotApplicable, UnfitGeometry, estimate_seconds, observable, read_value,
                          specs_for)
from .state import Action, Evidence, InvestigationView, PlannedCalc, ResultRef, SeriesMember, ValueRef


def plan_calcs(computes: list[Action], members: list[SeriesMember],
               background_tier: int | None) -> tuple[list[PlannedCalc], list[ResultRef]]:
    """The calculations of compute actions for every member (in the actions' order, which the budget
    keeps), and the refs of those that need none (the feature is absent: its value is known by structure)
    or could not be built (a failure with its reason, not a crash). At ``background_tier`` and above (None:
    never), dimer calculations are marked for the background, and so is what is not decisive for a leading
    hypothesis when something in the same step is: the foreground answers the question, the slow numbers
    of lesser ideas run beside it (a step of lesser calculations only stays in the foreground)."""
    planned, no_calc = [], []
    leading_here = any(a.decisive for a in computes)
    for a in computes:
        for m in members:
            try:
                spec = specs_for(a.observable, m.mol(), a.tier)[0]
            except NotApplicable as na:
                absent = observable(a.observable).use(a.tier).computable  # else: the tier cannot compute it
                no_calc.append(ResultRef.without_calc(a.observable, a.tier, m.name, value=na.value, note=str(na),
                                                      error=None if absent else str(na)))
                continue
            except UnfitGeometry as bad:
                no_calc.append(ResultRef.without_calc(a.observable, a.tier, m.name, error=str(bad)))
                continue
            except Exception as exc:  # a builder that cannot place this molecule
                no_calc.append(ResultRef.without_calc(a.observable, a.tier, m.name,
                                                      error=f"could not build the system: {exc}"))
                continue
            bg = (background_tier is not None and a.tier >= background_tier
                  and (spec.task == "interaction_energy" or (leading_here and not a.decisive)))
            planned.append(PlannedCalc(spec=spec.model_dump(mode="json"), observable=a.observable, tier=a.tier,
                                       molecule=m.name, estimate_s=estimate_seconds(spec), background=bg,
                                       decisive=a.decisive))
    return planned, no_calc


# A calculation estimated under a second (RDKit descriptors, a force-field single point) is never refused for
# budget: refusing it saves nothing and can leave a verdict open.
FREE_ESTIMATE_S = 1.0
SKIPPED_FOR_BUDGET = "skipped: over budget"  # how a ref left out for budget begins its error


def skipped_for_budget(error: str | None) -> bool:
    """Whether a ref's error says its calculation was left out for budget (not that it failed)."""
    return (error or "").startswith(SKIPPED_FOR_BUDGET)


def fits(estimate_s: float, left_s: float) -> bool:
    """Whether a calculation (or group) of ``estimate_s`` may run with ``left_s`` of budget left."""
    return estimate_s <= max(left_s, FREE_ESTIMATE_S)


def fit_budget(planned: list[PlannedCalc], left_s: float) -> tuple[list[PlannedCalc], list[tuple[str, int, str]]]:
    """Keep whole (observable, tier) groups in the planned order (the planner's: decisive observables of the
    leading hypotheses first, then by worth per estimated second) while their estimates fit the budget left.
    Once a decisive group does not fit, no lesser (non-decisive) group runs in its place. Returns the kept
    calculations and the dropped groups as (observable, tier, why)."""
    groups: dict[tuple[str, int], list[PlannedCalc]] = {}
    for p in planned:
        groups.setdefault((p.observable, p.tier), []).append(p)
    kept, dropped, left, blocked = [], [], left_s, None
    order = sorted(groups.items(), key=lambda g: not any(p.decisive for p in g[1]))  # stable: decisive first
    for (name, tier), calcs in order:
        cost = sum(p.estimate_s for p in calcs)
        decisive = any(p.decisive for p in calcs)
        if blocked is not None and not decisive:
            dropped.append((name, tier, f"held back: the decisive {blocked} did not fit the budget, and a lesser "
                                        "calculation does not run in its place"))
        elif not fits(cost, left):
            dropped.append((name, tier, f"its estimated {cost:.0f} s exceeds the {left:.0f} s of budget left"
                                        + (" after the calculations ranked before it" if left < left_s else "")))
            if decisive and blocked is None:
                blocked = f"{name} at tier {tier}"
        else:
            kept += calcs
            left -= cost
    return kept, dropped


def value_of(name: str, member: SeriesMember, ref: ResultRef, store: ResultStore) -> ValueRef:
    """The value of observable ``name`` for ``member`` from its ref (and the stored result it points to)."""
    if ref.cache_key is None:
        if ref.error:
            return ValueRef(molecule=member.name, value=None, note=ref.error, status="failed")
        return ValueRef(molecule=member.name, value=ref.value, note=ref.note, status="absent")
    keys = [ref.cache_key]
    if not ref.success:
        return ValueRef(molecule=member.name, value=None, cache_keys=keys, note=ref.error or "", status="failed")
    result = store.get(ref.cache_key)
    if result is None:
        return ValueRef(molecule=member.name, value=None, cache_keys=keys, note="result missing from the store",
                        status="failed")
    try:
        value = read_value(name, member.mol(), [result])
        return ValueRef(molecule=member.name, value=value, cache_keys=keys)
    except NotApplicable as na:
        return ValueRef(molecule=member.name, value=na.value, cache_keys=keys, note=str(na), status="absent")
    except UnfitGeometry as bad:
        return ValueRef(molecule=member.name, value=None, cache_keys=keys, note=str(bad), status="failed")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return ValueRef(molecule=member.name, value=None, cache_keys=keys, note=f"could not read {name}: {exc}",
                        status="failed")


def series_evidence(v: InvestigationView, store: ResultStore) -> list[Evidence]:
    """The target compared with its analogs on every observable and tier the series' results cover (the
    target's value needed), each with its tier's uncertainty and adequacy for these molecules."""
    members = {m.name: m for m in v.series.members}
    target = v.series.target
    groups: dict[tuple[str, int], dict[str, ResultRef]] = {}
    for r in v.results:
        if r.molecule in members:
            groups.setdefault((r.observable, r.tier), {})[r.molecule] = r
    # the direction an observable is judged in comes from the hypotheses that use it
    directions = {u.observable: u.direction for h in v.hypotheses for u in h.observables}
    evidence = []
    for (name, tier), refs in sorted(groups.items()):
        obs = OBSERVABLES.get(name)
        if obs is None or target.name not in refs:
            continue
        vals = {mname: value_of(name, members[mname], ref, store) for mname, ref in refs.items()}
        use = obs.use(tier).for_molecules([members[n].mol() for n in refs],  # per-element trust
                                          [x.value for x in vals.values()])
        arefs = [vals[a.name] for a in v.series.analogs if a.name in vals]
        evidence.append(make_evidence(name, tier, obs.unit, directions.get(name, "differs"), vals[target.name],
                                      arefs, use.sigma, use.adequate, use.note))
    return evidence
