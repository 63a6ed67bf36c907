"""Cause or consequence, by calculation.

When two or more causes are supported, each one's decisive observable is computed on the *other's*
counterfactual of the target (chem.counterfactuals: the feature removed, little else changed), at the tier
where its verdict was made, through the task catalogue (agent.observables), never an engine. Then, for a
pair A, B (:func:`pair_verdict`):

- B's separation from the analogs falls to 1 sigma of a difference or less when A's feature is removed,
  while A's survives B's removal (or B has no feature to remove): B is a *consequence* of A, and A is
  the root cause;
- both survive: *independent* contributions;
- neither, or nothing known: the evidence does *not decide*.

A counterfactual that removes the tested cause's feature as well as its own (2-hydroxypyridine's donor
methylated is 2-methoxypyridine, which has no other tautomer either; chem.counterfactuals.removes_also)
cannot tell the two apart: that test is *untestable*, never "vanished".

The template priors (:data:`PRIORS`, and a hypothesis's ``mechanism_of``) choose which pairs to test
first and how a mechanism is worded; the verdict rests on the numbers alone, and says when it overturned
the prior.

When no consequence is shown (independent, or undecided), the two are weighed in energy
(:func:`energy_stake`): what each is worth in the crystal's energy balance, the largest separating effect
among its packing energies (its decisive observables and its mechanisms' contact energies, kcal/mol). The
one worth more by over 2 sigma of the difference of the two effects is ``larger``, and the other is not
named the root cause while it is supported; an undecided pair still caps the root's confidence
(agent.conclusion).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from ..chem.counterfactuals import Counterfactual, NoCounterfactual, counterfactual, removes_also
from .calculations import SKIPPED_FOR_BUDGET, fits, skipped_for_budget
from .evidence import NOT_SEPARATE_Z, SEPARATES_Z, best_evidence, compare
from .observables import (TIER_LEVEL, NotApplicable, estimate_seconds, is_packing_energy, is_structural,
                          observable, specs_for)
from .state import (Action, CausalPair, CausalTest, Evidence, Hypothesis, InvestigationView, PlannedCalc,
                    ResultRef, SeriesMember, ValueRef, result_id)

CF_SEP = "~without:"
# (root, consequence) pairs the library expects: which to test first, and the wording of a mechanism
PRIORS = {
    ("intramolecular_hbond", "dipole_antiparallel"): "the H-bonded conformer sets the molecule's dipole",
    ("intramolecular_hbond", "hbond_motif"): "the locked donor is hidden from intermolecular H-bonds",
    ("tautomerism", "dipole_antiparallel"): "the tautomer sets the dipole",
    ("tautomerism", "hbond_motif"): "the tautomer sets the donor/acceptor pattern",
    ("halogen_bond", "dipole_antiparallel"): "the C-X bonds set the dipole",
    ("halogen_bond", "dispersion_polarisability"): "the heavy halogen carries the polarisability",
    ("halogen_bond", "pi_stacking_quadrupole"): "the halogens reshape the ring's quadrupole",
}
# ensemble observables with a meaning at one fixed geometry (a geometry counterfactual is one conformer)
FIXED_GEOMETRY_TASK = {"dipole": "properties"}


class PairOutcome(NamedTuple):
    verdict: str                # consequence | independent | undecided
    root: str | None
    consequence: str | None
    reason: str


def pair_verdict(a: str, b: str, b_without_a: bool | None, a_without_b: bool | None) -> PairOutcome:
    """The verdict on causes ``a`` and ``b`` from whether each one's separation survives the other's
    removal (True: survives, above 1 sigma; False: gone; None: not known)."""
    if b_without_a is False and a_without_b is not False:
        one_way = "" if a_without_b else (f" (tested one way: {a}'s observable could not be tested on {b}'s "
                                          "counterfactual)")
        return PairOutcome("consequence", a, b, f"{b}'s separation vanishes when {a}'s feature is removed, "
                                                f"while {a}'s survives{one_way}: {b} acts through {a}")
    if a_without_b is False and b_without_a is not False:
        flipped = pair_verdict(b, a, a_without_b, b_without_a)
        return flipped
    if b_without_a and a_without_b:
        return PairOutcome("independent", None, None, f"each separation survives the other's removal: {a} and {b} "
                                                      "are independent contributions")
    if (b_without_a is None) != (a_without_b is None):  # one way tested, and the separation survived
        kept, gone = (b, a) if b_without_a else (a, b)
        return PairOutcome("undecided", None, None, f"{kept}'s separation survives the removal of {gone}'s "
                                                    f"feature, so {kept} is not a consequence of {gone}; the other "
                                                    "way was not tested (no counterfactual, or not yet computed): "
                                                    "the evidence does not decide which explains which")
    if b_without_a is False and a_without_b is False:
        return PairOutcome("undecided", None, None, f"both separations vanish when the other's feature is removed: "
                                                    "the evidence does not decide which explains which")
    return PairOutcome("undecided", None, None, f"not enough counterfactual numbers for {a} and {b} "
                                                "(a counterfactual missing, pending, skipped or failed): the "
                                                "evidence does not decide")


def prior_root(a: Hypothesis, b: Hypothesis) -> str | None:
    """Which of the pair the priors name the root cause, if any."""
    if b.mechanism_of == a.id or (a.category, b.category) in PRIORS:
        return a.id
    if a.mechanism_of == b.id or (b.category, a.category) in PRIORS:
        return b.id
    return None


def supported_causes(hypotheses: list[Hypothesis]) -> list[Hypothesis]:
    return [h for h in hypotheses if h.kind == "cause" and h.status in ("supported", "root-cause")]


def pairs(hypotheses: list[Hypothesis]) -> list[tuple[Hypothesis, Hypothesis]]:
    """Unordered pairs of supported causes, those with a prior first."""
    sup = sorted(supported_causes(hypotheses), key=lambda h: (h.priority, h.id))
    out = [(a, b) for i, a in enumerate(sup) for b in sup[i + 1:]]
    return sorted(out, key=lambda p: prior_root(*p) is None)


def decisive_evidence(h: Hypothesis, evidence: list[Evidence]) -> Evidence | None:
    """The evidence ``h``'s verdict rests on: its first separating decisive energetic observable (else a
    structural one)."""
    evs = [best_evidence(evidence, u.observable) for u in h.observables if u.role == "decisive"]
    evs = [e for e in evs if e is not None and e.verdict == "separates"]
    return next((e for e in evs if not is_structural(e.observable)), evs[0] if evs else None)


def cf_label(target: str, category: str) -> str:
    return f"{target}{CF_SEP}{category}"


def cf_member(cf: Counterfactual, target: str) -> SeriesMember:
    name = cf_label(target, cf.category)
    return SeriesMember(name=name, smiles=cf.molecule.smiles, role="proposed", molecule=cf.molecule.model_dump())


def cf_spec(name: str, cf: Counterfactual, tier: int):
    """The spec of observable ``name`` on a counterfactual: through the catalogue; a geometry counterfactual
    (one conformer) gets the fixed-geometry task of an ensemble observable, or raises NoCounterfactual."""
    obs = observable(name)
    if cf.kind == "geometry" and obs.task == "conformers":
        if name not in FIXED_GEOMETRY_TASK:
            raise NoCounterfactual(f"{name} is a property of the conformer ensemble; one counterfactual conformer "
                                   "does not define it")
        from ..tiers.catalogue import make_spec

        return make_spec(FIXED_GEOMETRY_TASK[name], [cf.molecule], level=TIER_LEVEL[tier])
    return specs_for(name, cf.molecule, tier)[0]


# ------------------------------------------------------------------ the tests, from the state
def _survives(t: CausalTest, value: float | None) -> CausalTest:
    """``t`` with the counterfactual's value compared against the analogs (compare: effect over sc)."""
    values = [a.value for a in t.analogs if a.value is not None]
    if value is None or not values:
        return t.model_copy(update={"counterfactual": value})
    _, z, _ = compare(value, values, t.sigma, t.direction)
    return t.model_copy(update={"counterfactual": value, "z_counterfactual": round(z, 3),
                                "survives": bool(z > NOT_SEPARATE_Z)})


def one_test(v: InvestigationView, removed: Hypothesis, tested: Hypothesis, store) -> CausalTest:
    """``tested``'s decisive observable on the target's counterfactual for ``removed``, as far as the state
    knows it (a calculation not yet run is ``pending``)."""
    from .calculations import value_of

    tid = f"{tested.id}{CF_SEP}{removed.id}"
    e = decisive_evidence(tested, v.evidence)
    if e is None:
        return CausalTest(id=tid, removed=removed.id, tested=tested.id, observable="", tier=-1, status="untestable",
                          note=f"{tested.id} has no separating decisive observable")
    target = v.series.target
    t = CausalTest(id=tid, removed=removed.id, tested=tested.id, observable=e.observable, tier=e.tier, unit=e.unit,
                   direction=e.direction, molecule=cf_label(target.name, removed.category), target=e.target.value,
                   analogs=e.analogs, sigma=e.sigma, z_target=e.z)
    mol = target.mol()
    try:
        cf = counterfactual(removed.category, mol)
        t = t.model_copy(update={"changes": cf.changes, "keeps": cf.keeps})
        both = removes_also(cf, tested.category, mol)  # before its value, which may read "absent"
        if both is None:
            cf_spec(e.observable, cf, e.tier)
    except NotApplicable as na:
        if na.value is None:
            return t.model_copy(update={"status": "untestable", "note": str(na)})
        return _survives(t, na.value).model_copy(update={"status": "absent", "note": str(na)})
    except NoCounterfactual as no:
        return t.model_copy(update={"status": "untestable", "note": str(no)})
    except Exception as exc:  # a builder that cannot handle this molecule
        return t.model_copy(update={"status": "failed", "note": f"could not build the counterfactual: {exc}"})
    if both is not None:  # its observable would vanish with its own feature, not through the removed one
        return t.model_copy(update={"status": "untestable", "note": (
            f"removing {removed.id}'s feature ({cf.changes}) removes {tested.id}'s as well ({both}): this "
            "counterfactual cannot tell them apart")})
    ref = next((r for r in v.results if r.id == result_id(e.observable, e.tier, t.molecule)), None)
    if ref is None:
        return t
    val = value_of(e.observable, cf_member(cf, target.name), ref, store)
    return _survives(t, val.value).model_copy(update={"status": status_of(val, ref), "note": val.note})


def status_of(val: ValueRef, ref: ResultRef) -> str:
    """A causal test's status from its counterfactual's value and ref: a calculation left out for budget is
    ``skipped`` (a larger budget would run it), not ``failed``."""
    if val.status in ("computed", "absent"):
        return val.status
    return "skipped" if ref.cache_key is None and skipped_for_budget(ref.error) else "failed"


def causal_tests(v: InvestigationView, store) -> list[CausalTest]:
    """Every test the supported causes call for (both directions of each pair), as the state knows them."""
    if v.series is None:
        return []
    return [one_test(v, x, y, store) for a, b in pairs(v.hypotheses) for x, y in ((a, b), (b, a))]


def energy_stake(h: Hypothesis, hypotheses: list[Hypothesis], evidence: list[Evidence]) -> Evidence | None:
    """What ``h`` is worth in the crystal's energy: of its decisive observables and its mechanisms' contact
    energies, the adequate, separating packing energy (observables.is_packing_energy) with the largest
    effect over the analogs."""
    names = [u.observable for u in h.observables if u.role == "decisive"]
    names += [u.observable for m in hypotheses if m.kind == "mechanism" and m.mechanism_of == h.id
              and m.status != "rejected" for u in m.observables]
    evs = [best_evidence(evidence, n) for n in dict.fromkeys(names) if is_packing_energy(n)]
    evs = [as_stake(e) for e in evs if e is not None and e.adequate and e.verdict == "separates" and e.z]
    return max((e for e in evs if e.z > 0), key=lambda e: e.effect, default=None)


def as_stake(e: Evidence) -> Evidence:
    """``e`` with its effect over the analogs in the crystal's energy: an analog without the feature gains
    nothing from it, so its value is 0 there, whatever convention ranked it (a missing tautomer reads as the
    -25 kcal/mol cap, which is no energy of any crystal)."""
    analogs = [0.0 if a.status == "absent" else a.value for a in e.analogs if a.value is not None]
    effect, z, _ = compare(e.target.value, analogs, e.sigma, e.direction)
    return e.model_copy(update={"effect": effect, "z": z})


def weigh(a: Hypothesis, b: Hypothesis, hypotheses: list[Hypothesis],
          evidence: list[Evidence]) -> tuple[str | None, str]:
    """(the cause worth clearly more in energy, or None; the words) for a pair no consequence links."""
    ea, eb = energy_stake(a, hypotheses, evidence), energy_stake(b, hypotheses, evidence)
    if ea is None or eb is None:
        lacking = ", ".join(h.id for h, e in ((a, ea), (b, eb)) if e is None)
        return None, f"they cannot be weighed in energy ({lacking}: no separating packing energy at an adequate tier)"
    sc = math.hypot(ea.effect / ea.z, eb.effect / eb.z)  # each effect's own sigma of a difference
    z = (ea.effect - eb.effect) / sc
    words = (f"weighed in energy: {a.id} {ea.effect:.3g} kcal/mol over the analogs ({ea.observable}, tier "
             f"{ea.tier}) against {b.id} {eb.effect:.3g} ({eb.observable}, tier {eb.tier}), {abs(z):.1f} sigma apart")
    if abs(z) <= SEPARATES_Z:
        return None, words + ": too close to rank"
    return (a.id if z > 0 else b.id), words


def causal_verdicts(tests: list[CausalTest], hypotheses: list[Hypothesis],
                    evidence: list[Evidence] = ()) -> list[CausalPair]:
    """The pair verdicts of the supported causes from their tests; a pair without a consequence is weighed
    in energy on ``evidence``."""
    by_id = {t.id: t for t in tests}
    out = []
    for a, b in pairs(hypotheses):
        ab, ba = by_id.get(f"{b.id}{CF_SEP}{a.id}"), by_id.get(f"{a.id}{CF_SEP}{b.id}")
        o = pair_verdict(a.id, b.id, ab.survives if ab else None, ba.survives if ba else None)
        other = by_id.get(f"{o.root}{CF_SEP}{o.consequence}")  # the root's own test, when it could not run
        if o.verdict == "consequence" and (other is None or other.status in ("pending", "skipped", "failed")):
            why = other.status if other is not None else "missing"
            o = PairOutcome("undecided", None, None, f"{o.consequence}'s separation vanishes without {o.root}'s "
                                                     f"feature, but {o.root}'s own test is {why}: not decided yet")
        notes = [t.note for t in (ab, ba) if t is not None and t.status == "untestable" and t.note]
        notes += [f"{t.tested}'s test without {t.removed} was not run ({t.note})" for t in (ab, ba)
                  if t is not None and t.status == "skipped"]
        if notes and o.verdict != "consequence":
            o = o._replace(reason=o.reason + "; " + "; ".join(notes))
        prior = prior_root(a, b)
        stand = "none" if prior is None or o.root is None else ("agrees" if prior == o.root else "overturned")
        larger, weighed = (None, "") if o.verdict == "consequence" else weigh(a, b, hypotheses, list(evidence))
        out.append(CausalPair(id=f"{a.id}|{b.id}", pair=[a.id, b.id], verdict=o.verdict, root=o.root,
                              consequence=o.consequence, reason=o.reason + (f"; {weighed}" if weighed else ""),
                              prior=stand, tests=[t.id for t in (ab, ba) if t is not None], larger=larger))
    return out


def consequences(verdicts: list[CausalPair]) -> dict[str, str]:
    """Which supported cause may not be named the root while another is supported: consequence id -> root
    id, and for a pair without a consequence, the cause worth less in energy -> the larger."""
    out = {p.consequence: p.root for p in verdicts if p.verdict == "consequence" and p.consequence}
    for p in verdicts:
        if p.larger and p.verdict != "consequence":
            out.setdefault(next(x for x in p.pair if x != p.larger), p.larger)
    return out


# ------------------------------------------------------------------ planning
def causal_actions(v: InvestigationView) -> list[Action]:
    """The counterfactual calculations still to run: pending tests not yet attempted."""
    done = {r.id for r in v.results}
    return [Action(kind="causal_test", observable=t.observable, tier=t.tier, hypothesis_id=t.removed, text=t.tested,
                   decisive=True)
            for t in v.causal_tests if t.status == "pending" and result_id(t.observable, t.tier, t.molecule) not in done]


def plan_causal_calcs(actions: list[Action], v: InvestigationView) -> tuple[list[PlannedCalc], list[ResultRef]]:
    """The calculations of causal_test actions on the target's counterfactuals; a failure to build, or a
    budget too small, is a ref with its reason (so the test is not planned again)."""
    target = v.series.target
    planned, no_calc, left = [], [], v.budget.left_s
    for a in actions:
        removed = v.hypothesis(a.hypothesis_id or "")
        name = cf_label(target.name, removed.category if removed else str(a.hypothesis_id))
        try:
            cf = counterfactual(removed.category, target.mol())
            spec = cf_spec(a.observable, cf, a.tier)
        except Exception as exc:
            no_calc.append(ResultRef.without_calc(a.observable, a.tier, name, error=f"counterfactual: {exc}"))
            continue
        est = estimate_seconds(spec)
        if not fits(est, left):
            no_calc.append(ResultRef.without_calc(a.observable, a.tier, name, error=f"{SKIPPED_FOR_BUDGET} (its "
                                                  f"estimated {est:.0f} s exceeds the {left:.0f} s left)"))
            continue
        left -= est
        planned.append(PlannedCalc(spec=spec.model_dump(mode="json"), observable=a.observable, tier=a.tier,
                                   molecule=name, estimate_s=est, decisive=True))
    return planned, no_calc


def reasoning(v: InvestigationView, actions: list[Action]) -> str:
    """The planner's words for a causal step."""
    sup = ", ".join(h.id for h in supported_causes(v.hypotheses))
    tests = "; ".join(f"{a.observable} (for {a.text}) at tier {a.tier} on {v.series.target.name} without "
                      f"{a.hypothesis_id}'s feature" for a in actions)
    return (f"{sup} all separate the target, so I test which explains which: each one's decisive observable on "
            f"the other's counterfactual, at the tier of its verdict: {tests}.")
