"""Evidence: compare the target with its analogs on an observable, with the tier's
uncertainty, and turn comparisons into hypothesis verdicts.

The comparison (``compare``):

- ``sigma`` is the per-molecule uncertainty of the observable at the tier (the
  adequacy table); a difference of two molecules carries ``sc = sqrt(2) sigma``.
- The *effect* is how far the target lies beyond its nearest analog in the
  predicted direction: ``t - max(analogs)`` for "higher", ``min(analogs) - t``
  for "lower", and for "differs" the distance to the nearest analog when the
  target lies outside the analogs' range (negative inside it).
- ``separates`` when effect > 2 sc; ``does_not_separate`` when effect <= sc;
  ``opposite`` when the target lies beyond the analogs on the wrong side by more
  than sc; ``inconclusive`` in between.

A verdict is *settled* when the next tier cannot plausibly change it
(z = effect / sc >= 3, or z <= 0): then the planner does not escalate for it.

Absence is data: a molecule without the feature (``ValueRef.status == "absent"``) enters the comparison
with the value that absence means, and the evidence says so; a ``failed`` value (a real failure, or a
geometry unfit to be evidence) is left out, with its reason.

Calibrated confidence (``calibrate``): the weakest link of the argument sets it. Structural counts and
descriptors, and tiers 0-1, support at most "low"; tier 2, or tier 3 below 3 sigma, "medium"; "high"
needs an adequate tier-3 (or better) margin of at least 3 sigma *and* an independent observable that
agrees (another decisive observable, or the mechanism's contact energy, separating at an adequate
tier). A cause with no adequate energetic support at all is "undetermined", except a category the
library tests by descriptors by design (``DESCRIPTOR_LEVEL``: shape and steric bulk, which no gas-phase
energy measures): its separating descriptors carry it at "low", never more.
"""

from __future__ import annotations

import math
from typing import Iterable, NamedTuple

from .observables import is_structural
from .state import CrystalFacts, Evidence, Hypothesis, ValueRef

SEPARATES_Z = 2.0
NOT_SEPARATE_Z = 1.0
SETTLED_Z = 3.0
HIGH_TIER = 3          # the lowest tier whose margin can carry "high"
LEVELS = ("undetermined", "low", "medium", "high")
DESCRIPTOR_LEVEL = frozenset({"shape_sterics"})  # categories whose library observables are descriptors by design
LEVEL_CAP = {"undetermined": 0.3, "low": 0.45, "medium": 0.7, "high": 0.95}  # a hypothesis's number, per word


def compare(target: float, analogs: list[float], sigma: float, direction: str) -> tuple[float, float, str]:
    """(effect, z, verdict) of the target against its analogs; see the module docstring."""
    if target is None or not analogs:
        return float("nan"), float("nan"), "not_computed"
    sc = max(math.sqrt(2.0) * sigma, 1e-9)
    lo, hi = min(analogs), max(analogs)
    if direction == "higher":
        effect = target - hi
        wrong = lo - target
    elif direction == "lower":
        effect = lo - target
        wrong = target - hi
    else:
        effect = min(abs(target - a) for a in analogs)
        if lo <= target <= hi:
            effect = -effect
        wrong = -1.0
    z = effect / sc
    if effect > SEPARATES_Z * sc:
        verdict = "separates"
    elif wrong > sc:
        verdict = "opposite"
    elif effect <= NOT_SEPARATE_Z * sc:
        verdict = "does_not_separate"
    else:
        verdict = "inconclusive"
    return effect, z, verdict


def settled(ev: Evidence) -> bool:
    """Whether the next tier could not plausibly change this verdict."""
    if ev.z is None or ev.verdict == "not_computed" or not ev.adequate:
        return False
    return ev.z >= SETTLED_Z or ev.z <= 0.0


def make_evidence(observable: str, tier: int, unit: str, direction: str, target: ValueRef,
                  analogs: list[ValueRef], sigma: float, adequate: bool, note: str) -> Evidence:
    values = [a.value for a in analogs if a.value is not None]
    effect, z, verdict = compare(target.value, values, sigma, direction)
    ev = Evidence(id=f"{observable}@t{tier}", observable=observable, tier=tier, unit=unit, direction=direction,
                  target=target, analogs=analogs, sigma=sigma, adequate=adequate, adequacy_note=note,
                  effect=None if math.isnan(effect) else effect, z=None if math.isnan(z) else z, verdict=verdict)
    ev.summary = describe(ev)
    return ev


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3g}" + (f" {unit}" if unit and unit not in ("count", "") else "")


def _show(ref: ValueRef, unit: str) -> str:
    tag = {"absent": " (absent)", "failed": " (failed)"}.get(ref.status, "")
    return f"{ref.molecule} {_fmt(ref.value, unit)}{tag}"


def _provenance(ev: Evidence) -> str:
    """What the absent and failed values mean, in words."""
    refs = [ev.target, *ev.analogs]
    absent = [f"{r.molecule}: {r.note}" for r in refs if r.status == "absent" and r.note]
    failed = [f"{r.molecule}: {r.note or 'no value'}" for r in refs if r.status == "failed"]
    text = f" Absent feature, taken as data: {'; '.join(absent)}." if absent else ""
    return text + (f" Left out (failed): {'; '.join(failed)}." if failed else "")


def describe(ev: Evidence) -> str:
    """One sentence on what this comparison shows (and what its absent and failed values mean)."""
    t = ev.target
    an = ", ".join(_show(a, ev.unit) for a in ev.analogs)
    want = {"higher": "higher than", "lower": "lower (more binding) than", "differs": "different from"}[ev.direction]
    base = f"{ev.observable} at tier {ev.tier}: {_show(t, ev.unit)} vs {an} (±{ev.sigma:.2g} per molecule)"
    if ev.verdict == "not_computed":
        return base + ": not computed." + _provenance(ev)
    sentence = {
        "separates": f"the target is {want} every analog by {ev.effect:.3g} ({ev.z:.1f} sigma of a difference)",
        "does_not_separate": f"the target is not {want} its analogs beyond the uncertainty "
                             f"(effect {ev.effect:.3g}, {ev.z:.1f} sigma)",
        "opposite": f"the target lies on the wrong side of its analogs (expected {want} them)",
        "inconclusive": f"the target is {want} its analogs by {ev.effect:.3g}, only {ev.z:.1f} sigma: inconclusive",
    }[ev.verdict]
    if not ev.adequate:
        sentence += f"; this tier is not adequate for a verdict ({ev.adequacy_note})"
    return f"{base}: {sentence}." + _provenance(ev)


# ------------------------------------------------------------------ hypothesis verdicts
def best_evidence(evidence: Iterable[Evidence], observable: str) -> Evidence | None:
    """The evidence a verdict rests on: the highest adequate tier, else the highest tier computed."""
    evs = [e for e in evidence if e.observable == observable and e.verdict != "not_computed"]
    if not evs:
        return None
    adequate = [e for e in evs if e.adequate]
    return max(adequate or evs, key=lambda e: e.tier)


def _set(h: Hypothesis, status: str, reason: str, confidence: float, tier: int) -> Hypothesis:
    if h.status != status or h.reason != reason:
        h.history.append(f"{h.status} -> {status}: {reason}")
    h.status, h.reason, h.confidence = status, reason, round(confidence, 2)
    h.tier_reached = max(h.tier_reached, tier)
    return h


def _confidence(evs: list[Evidence]) -> float:
    z = min((e.z or 0.0) for e in evs)
    top = max(e.tier for e in evs)
    return min(0.95, 0.4 + 0.08 * min(z, 5.0) + 0.05 * top)


# ------------------------------------------------------------------ calibrated confidence
class Calibration(NamedTuple):
    level: str                      # one of LEVELS
    reason: str                     # the weakest link, in words
    used: list[Evidence]            # the evidence the level rests on
    independent: list[Evidence]     # other observables that agree


def link_level(e: Evidence) -> str:
    """The most one comparison can support on its own (see the module docstring)."""
    if not e.adequate or e.verdict != "separates":
        return "undetermined"
    if is_structural(e.observable) or e.tier <= 1:
        return "low"
    return "high" if e.tier >= HIGH_TIER and (e.z or 0.0) >= SETTLED_Z else "medium"


def weaker(a: str, b: str) -> str:
    return min(a, b, key=LEVELS.index)


def _link_words(e: Evidence) -> str:
    z = f", {e.z:.1f} sigma" if e.z is not None else ""
    kind = "a structural count/descriptor" if is_structural(e.observable) else f"tier {e.tier}"
    return f"{e.observable} ({kind}: {e.verdict.replace('_', ' ')}{z})"


def calibrate(cause: Hypothesis, hypotheses: list[Hypothesis], evidence: list[Evidence]) -> Calibration:
    """How far the evidence carries ``cause``: the weakest of its decisive energetic links (or, when its
    decisive observables are all structural, of its mechanism's contact energy), capped at "medium"
    unless an independent observable agrees."""
    decisive = [e for e in (best_evidence(evidence, u.observable) for u in cause.observables
                            if u.role == "decisive") if e is not None]
    mechs = [m for m in hypotheses if m.kind == "mechanism" and m.mechanism_of == cause.id
             and m.status == "mechanism-of" and m.observables]
    mech_evs = [e for e in (best_evidence(evidence, m.observables[0].observable) for m in mechs) if e is not None]
    energetic = [e for e in decisive if not is_structural(e.observable)]
    support = [e for e in energetic or mech_evs if not is_structural(e.observable)]
    if not support and cause.category in DESCRIPTOR_LEVEL and decisive:
        support = decisive  # descriptors by design: link_level caps each at "low"
    if not support or any(link_level(e) == "undetermined" for e in support):
        what = "; ".join(_link_words(e) for e in decisive + mech_evs) or "nothing computed"
        return Calibration("undetermined", f"no adequate energetic support for {cause.id}: it rests on {what}",
                           decisive, [])
    weakest = min(support, key=lambda e: LEVELS.index(link_level(e)))
    level = link_level(weakest)
    agree = [e for e in decisive + mech_evs if e.observable != weakest.observable
             and not is_structural(e.observable) and link_level(e) != "undetermined"]
    reason = f"the weakest link is {_link_words(weakest)}"
    if level == "high" and not agree:
        level = "medium"
        reason += ", and no independent observable agrees yet"
    elif level in ("low", "medium"):
        reason += ((" (a descriptor-level category: no energy measures it, so at most low)"
                    if all(is_structural(e.observable) for e in support) else " (tiers 0-1 support at most low)")
                   if level == "low" else
                   f" (high needs an adequate tier-{HIGH_TIER} margin of {SETTLED_Z:.0f} sigma and an independent "
                   "observable)")
    if agree:
        reason += "; independent support: " + ", ".join(_link_words(e) for e in agree)
    return Calibration(level, reason, support, agree)


def judge(hypotheses: list[Hypothesis], evidence: list[Evidence],
          crystal: CrystalFacts | None = None, consequence_of: dict[str, str] | None = None) -> list[Hypothesis]:
    """New statuses for all hypotheses from the evidence (pinned ones are left alone); with observed
    ``crystal`` facts (agent.crystal_facts), hypotheses inconsistent with them lose confidence;
    ``consequence_of`` (agent.causality: consequence id -> root id, from counterfactual tests) keeps a
    consequence from being named the root cause while its root is supported."""
    out = [h.model_copy(deep=True) for h in hypotheses]
    by_id = {h.id: h for h in out}
    for h in out:
        if h.kind == "cause" and not h.pinned and not (h.status == "rejected" and h.reason.startswith("the feature")):
            _judge_cause(h, evidence)
    for cause in [h for h in out if h.kind == "cause"]:
        mechs = [m for m in out if m.kind == "mechanism" and m.mechanism_of == cause.id and not m.pinned]
        _judge_mechanisms(cause, mechs, evidence)
    for cause in [h for h in out if h.kind == "cause" and h.status in ("supported", "root-cause")]:
        cal = calibrate(cause, out, evidence)   # the weakest link caps the number the root is chosen by
        cause.confidence = min(cause.confidence, LEVEL_CAP[cal.level])
    if crystal is not None:
        from .crystal_facts import apply_checks

        apply_checks(out, crystal)
    # the root cause: the best-supported cause (highest confidence, then higher tier)
    supported = [h for h in out if h.kind == "cause" and h.status in ("supported", "root-cause")]
    for h in supported:
        h.status = "supported"
    roots = {h.id for h in supported}
    eligible = [h for h in supported if (consequence_of or {}).get(h.id) not in roots] or supported
    if supported:
        best = max(eligible, key=lambda h: (h.confidence, h.tier_reached, -h.priority))
        best.status = "root-cause"
    for m in out:
        if m.kind == "mechanism" and m.status == "mechanism-of":
            cause = by_id.get(m.mechanism_of)
            if cause is None or cause.status not in ("root-cause", "supported"):
                m.status = "open"
    return out


def _judge_cause(h: Hypothesis, evidence: list[Evidence]) -> None:
    decisive = [u for u in h.observables if u.role == "decisive"]
    if not decisive:
        if h.status == "open":
            h.reason = h.reason or "no built-in observable tests it; left open (untested)"
        return
    evs = [best_evidence(evidence, u.observable) for u in decisive]
    have = [e for e in evs if e is not None]
    if not have:
        return
    against = [e for e in have if e.adequate and e.verdict in ("does_not_separate", "opposite")]
    if against:
        e = max(against, key=lambda e: e.tier)
        _set(h, "rejected", e.summary, _confidence([e]) if e.z is not None and e.z <= 0 else 0.6, e.tier)
        return
    if len(have) == len(evs) and all(e.adequate and e.verdict == "separates" for e in have):
        _set(h, "supported", " ".join(e.summary for e in have), _confidence(have), max(e.tier for e in have))
        return
    lean = "; ".join(e.summary for e in have)
    missing = [u.observable for u, e in zip(decisive, evs) if e is None]
    more = f" Still to compute: {', '.join(missing)}." if missing else ""
    _set(h, "open", f"not yet decided: {lean}{more}", 0.3, max(e.tier for e in have))


def _judge_mechanisms(cause: Hypothesis, mechs: list[Hypothesis], evidence: list[Evidence]) -> None:
    """A mechanism is the contact through which its cause acts: among the cause's candidate
    motifs, the one in which the target gains most over its analogs (effect > 0, target
    attractive). The question is which channel, not whether, so the choice is comparative;
    its margin and uncertainty are reported."""
    if cause.status == "rejected":
        for m in mechs:
            _set(m, "rejected", f"its cause ({cause.id}) was rejected", m.confidence, m.tier_reached)
        return
    scored = []
    for m in mechs:
        e = best_evidence(evidence, m.observables[0].observable)
        if e is None or e.effect is None:
            continue
        if e.effect <= 0 or (e.target.value is not None and e.target.value >= 0):
            why = (f"{e.target.molecule} gains nothing in this contact over its analogs: {e.summary}"
                   if e.effect <= 0 else f"the contact is not attractive for {e.target.molecule}: {e.summary}")
            if e.adequate:
                _set(m, "rejected", why, 0.6, e.tier)
            else:
                _set(m, "open", why + " (tier not adequate; awaiting a higher tier)", 0.2, e.tier)
            continue
        scored.append((e, m))
    if not scored:
        return
    scored.sort(key=lambda em: (em[0].adequate, em[0].tier, em[0].effect), reverse=True)
    top_e, top = scored[0]
    lead = (f"of the candidate contacts, {top_e.target.molecule} gains most over its analogs here: "
            f"{top_e.summary}")
    if cause.status in ("supported", "root-cause") and top_e.adequate:
        conf = _confidence([top_e]) if top_e.z and top_e.z > 0 else 0.4
        cap = LEVEL_CAP[link_level(top_e)] if link_level(top_e) != "undetermined" else LEVEL_CAP["low"]
        _set(top, "mechanism-of", lead, min(conf, cap), top_e.tier)
    else:
        _set(top, "open", lead + " (provisional: " + ("its cause is not yet supported)" if top_e.adequate
                                                        else "tier not adequate)"), 0.3, top_e.tier)
    for e, m in scored[1:]:
        _set(m, "open", f"secondary: a smaller gain than {top.id}. {e.summary}", 0.2, e.tier)
