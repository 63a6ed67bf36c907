"""Draw the conclusion from the judged hypotheses: root cause, mechanism chain,
rejected hypotheses with their reasons, confidence, caveats, testable
predictions, and the cache keys of every result it rests on."""

from __future__ import annotations

from . import model_contact
from .causality import causal_verdicts
from .evidence import HIGH_TIER, Calibration, weaker, best_evidence, calibrate, link_level
from .observables import OBSERVABLES, is_structural
from .planner import live
from .state import (CausalTest, Conclusion, Evidence, Hypothesis, InvestigationView, MechanismStep, OpenHypothesis,
                    RejectedHypothesis, RootCause)

PREDICTIONS = {
    "halogen_bond": [
        "{target}'s crystal should show short C-X···X-C contacts with the type II geometry (angles near 180° and 90°), "
        "which its analogs' crystals lack.",
        "Replacing {target}'s halogen by a lighter one (or by H/CH3) should remove those contacts and bring its "
        "packing back to the analogs'; fluorines ortho to the halogen deepen the sigma hole and should keep or "
        "strengthen them.",
    ],
    "hbond_motif": [
        "{target}'s crystal should be built on its D-H···A motif (dimer or chain).",
        "Blocking the donor (O- or N-methylation) should remove that motif and make {target} pack like its analogs.",
    ],
    "intramolecular_hbond": ["Breaking the intramolecular H-bond (moving the acceptor) should free the donor and "
                             "change the packing."],
    "conformational_flexibility": ["A rigidified analog of {target} (rotor locked) should pack like the analogs."],
    "pi_stacking_quadrupole": ["{target}'s crystal should show offset face-to-face stacks; perfluorinating the ring "
                               "(reversing the quadrupole) should change them."],
    "dipole_antiparallel": ["{target}'s crystal should pair molecules with antiparallel dipoles; a dipole-free "
                            "isomer should pack like the analogs."],
    "shape_sterics": ["An isostere of {target} with the analogs' shape should pack like the analogs."],
    "dispersion_polarisability": ["Any equally polarisable analog should pack like {target}."],
}

CONTACT_CAVEAT = ("Contact energies are for idealised gas-phase dimers built by rule (typical crystal-contact "
                  "distances), not relaxed structures or lattice energies.")
SIGMA_CAVEAT = ("The uncertainty of a target-vs-analog difference is taken as sqrt(2) x half the tier's benchmark MAE, "
                "assuming errors largely cancel across close analogs.")
MECHANISM_CAVEAT = ("A mechanism is chosen comparatively: the candidate contact in which the target gains most over "
                    "its analogs.")
WANT = {"higher": "at least", "lower": "at most", "differs": "close to"}


def _level(c: float) -> str:
    return "high" if c >= 0.75 else "medium" if c >= 0.5 else "low"


def _refs(h: Hypothesis, v: InvestigationView) -> list[str]:
    keys = []
    for u in h.observables:
        e = best_evidence(v.evidence, u.observable)
        if e is not None:
            for ref in [e.target, *e.analogs]:
                keys += ref.cache_keys
    return keys


def _values(e: Evidence) -> str:
    return ", ".join(f"{a.molecule} {a.value:.3g}" for a in e.analogs if a.value is not None)


def _where(name: str, tier: int, v: InvestigationView) -> str:
    """Where a calculation stands: running, failed or skipped (with why), above the cap, or not yet run."""
    if any(p.observable == name and p.tier == tier for p in v.pending):
        return "running in the background"
    bad = next((r.error for r in v.results if r.observable == name and r.tier == tier and not r.success), None)
    if bad:
        return bad
    return f"above the tier cap of {v.budget.tier_cap}" if tier > v.budget.tier_cap else "not yet computed"


def deciding_calculation(h: Hypothesis | None, v: InvestigationView, min_tier: int = 0,
                         skip: frozenset[str] = frozenset()) -> str:
    """The next calculation that would decide ``h`` (or raise its confidence): the lowest adequate tier, at
    ``min_tier`` or above, of its decisive energetic observables and then its mechanisms' contact energies,
    where no adequate comparison separates yet; with where that calculation stands."""
    if h is None:
        return ""
    names = [u.observable for u in h.observables if u.role == "decisive"]
    names += [m.observables[0].observable for m in v.hypotheses if m.kind == "mechanism" and m.mechanism_of == h.id
              and m.status != "rejected" and m.observables]
    names = [n for n in dict.fromkeys(names) if n in OBSERVABLES and not is_structural(n) and n not in skip]
    for name in names:
        done = [e for e in v.evidence if e.observable == name and e.adequate and e.verdict != "not_computed"]
        if any(e.verdict == "separates" and e.tier >= min_tier for e in done):
            continue
        for tier in OBSERVABLES[name].adequate_tiers():
            if tier >= min_tier and not any(e.tier >= tier for e in done):
                return f"{name} at tier {tier} ({OBSERVABLES[name].description}; {_where(name, tier, v)})"
    if not names and skip:  # the decisive numbers are there; what is missing is a second, independent one
        return (f"an independent energetic observable that agrees with {', '.join(sorted(skip))}: the library "
                f"has no second one for {h.category} (its indicators are not energies)")
    if not names:
        return (f"an energy for {h.category}: no built-in observable gives {h.id} a number in kcal/mol at an "
                "adequate tier")
    return ""


def _predictions(root: Hypothesis, cal: Calibration, mech: list[Evidence], target: str) -> list[str]:
    """Testable predictions from the evidence the conclusion uses, then the category's own."""
    out = []
    for e in cal.used:
        if e in mech:
            continue
        obs = OBSERVABLES[e.observable]
        out.append(f"An analog whose {obs.description} is {WANT[e.direction]} {target}'s {e.target.value:.3g} "
                   f"{obs.unit} (tier {e.tier}; the analogs here: {_values(e)}) should pack like {target}; one "
                   "within the analogs' range should pack like them.")
    for e in mech:
        obs = OBSERVABLES[e.observable]
        out.append(f"{target}'s crystal should contain the contact that {e.observable} models "
                   f"({obs.description}), worth {e.target.value:.3g} {obs.unit} to {target} at tier {e.tier} "
                   f"against {_values(e)} for its analogs.")
    return out + [p.format(target=target) for p in PREDICTIONS.get(root.category, [])]


def _evidence_caveats(used: list[Evidence], v: InvestigationView) -> list[str]:
    """Caveats that the evidence actually used calls for."""
    out = [SIGMA_CAVEAT] if used else []
    if any(OBSERVABLES[e.observable].task == "interaction_energy" for e in used if e.observable in OBSERVABLES):
        out.insert(0, CONTACT_CAVEAT)
    for e in used:
        for r in (r for r in [e.target, *e.analogs] if r.status == "absent"):
            out.append(f"{e.observable} at tier {e.tier}: {r.molecule} lacks the feature and enters the comparison "
                       f"as {_show_value(r.value, e.unit)} ({r.note}).")
    unfit = sorted({f"{e.observable} at tier {e.tier} for {r.molecule}" for e in v.evidence
                    for r in [e.target, *e.analogs] if r.status == "failed" and "failed build" in r.note})
    if unfit:
        out.append("Geometries unfit to be evidence (atoms clash), so their numbers were not used: "
                   + "; ".join(unfit) + ".")
    return out


def _show_value(value: float | None, unit: str) -> str:
    return "no value" if value is None else f"{value:.3g} {unit}".strip()


def cap_for_causal_link(c: Conclusion, root: Hypothesis) -> str:
    """The causal link is a link of the argument too: while the counterfactuals leave undecided whether
    another supported cause explains the root, the root is at most "medium" when it is clearly worth more in
    the crystal's energy (``larger``), and at most "low" when nothing but the separate verdicts chose it.
    Returns the rivals when that lowered it to "low" (else "")."""
    undecided = [p for p in c.cause_and_consequence if root.id in p.pair and p.verdict == "undecided"]
    rivals = {next(x for x in p.pair if x != root.id): p.larger == root.id for p in undecided}
    unweighed = ", ".join(r for r, weighed in rivals.items() if not weighed)
    if unweighed and c.confidence in ("high", "medium"):
        c.confidence = "low"
        c.confidence_reason += (f"; capped at low: neither the counterfactuals nor the energies decide whether "
                                f"{unweighed} explains {root.id} or follows from it")
        return unweighed
    if rivals and c.confidence == "high":
        c.confidence = "medium"
        c.confidence_reason += (f"; capped at medium: the counterfactuals leave undecided whether "
                                f"{', '.join(rivals)} explains {root.id} or follows from it (it is worth more in "
                                "energy)")
    return ""


def deciding_the_causal_link(root: str, rivals: str, tests: list[CausalTest]) -> str:
    """What would decide an undecided causal link: a counterfactual test left out for budget if there is
    one (a rerun with more budget runs it), else a molecule with one feature and not the other."""
    skipped = [t for t in tests if t.status == "skipped" and root in (t.tested, t.removed)]
    if skipped:
        return ("the test of cause left out for budget: " + "; ".join(
            f"{t.tested}'s {t.observable} at tier {t.tier} on {t.molecule}" for t in skipped) +
            " (a rerun with a larger --budget-s runs it; the store keeps what is done)")
    return (f"a molecule with {root}'s feature but not {rivals}'s, or the reverse (the counterfactuals on the "
            "target cannot separate them; the proposals are ranked by how well they tell the hypotheses apart)")


def _root_part(c: Conclusion, root: Hypothesis, v: InvestigationView) -> list[Evidence]:
    """Fill the root cause, its mechanism, calibrated confidence and predictions; returns the evidence used."""
    hyps, target = v.hypotheses, v.series.target.name
    c.root_cause = RootCause(category=root.category, id=root.id, statement=root.statement,
                             confidence=root.confidence, evidence=root.reason, tier=root.tier_reached)
    mech_evs = []
    for m in sorted((h for h in hyps if h.status == "mechanism-of" and h.mechanism_of == root.id),
                    key=lambda h: -h.confidence):
        c.mechanism.append(MechanismStep(category=m.category, id=m.id, statement=m.statement, mechanism_of=root.id,
                                         confidence=m.confidence, evidence=m.reason, tier=m.tier_reached))
        e = best_evidence(v.evidence, m.observables[0].observable)
        if e is not None:
            mech_evs.append(e)
            if (e.z or 0) < 2.0:
                c.caveats.append(f"The mechanism {m.id} is the best candidate, not a proven one: its margin at "
                                 f"tier {e.tier} is {e.z:.1f} sigma of a difference.")
    cal = calibrate(root, hyps, v.evidence)
    c.confidence = weaker(cal.level, _level(root.confidence))  # observed-crystal checks lower the number too
    c.confidence_reason = cal.reason + ("" if c.confidence == cal.level else
                                        "; lowered further by the observed crystal facts")
    unranked = cap_for_causal_link(c, root)
    reopened = model_contact.doubt(v)
    if reopened and c.confidence == "high":  # the gold-standard check reopens a verdict it contradicts
        c.confidence, c.confidence_reason = "medium", c.confidence_reason + f"; reopened: {reopened}"
    if unranked:  # the weakest link is the causal one: a test of cause or a molecule decides it, not a higher tier
        c.deciding_calculation = deciding_the_causal_link(root.id, unranked, v.causal_tests)
    elif c.confidence != "high":
        c.deciding_calculation = (deciding_calculation(root, v, HIGH_TIER if c.confidence != "undetermined" else 0,
                                                       frozenset(e.observable for e in cal.used
                                                                 if link_level(e) == "high"))
                                  or deciding_calculation(root, v))
    c.predictions = _predictions(root, cal, mech_evs, target)
    return list({e.id: e for e in [*cal.used, *cal.independent, *mech_evs]}.values())


def build(v: InvestigationView) -> Conclusion:
    target = v.series.target.name
    hyps = v.hypotheses
    root = next((h for h in hyps if h.status == "root-cause"), None)
    # the design's background calculations (on candidates, not the series) leave the verdicts as they are
    pending = [p for p in v.pending if p.purpose != "design"]
    members = {m.name for m in v.series.members} | {"*"}
    c = Conclusion(provisional=bool(pending))
    c.causal_tests, c.cause_and_consequence = list(v.causal_tests), causal_verdicts(v.causal_tests, hyps, v.evidence)
    refs: list[str] = []
    used: list[Evidence] = []
    if root is not None:
        used = _root_part(c, root, v)
        refs += _refs(root, v) + [k for m in c.mechanism for k in _refs(v.hypothesis(m.id), v)]
    else:
        lead = next((h for h in live(v) if h.kind == "cause"), None)
        c.deciding_calculation = deciding_calculation(lead, v)
        c.confidence_reason = "no hypothesis is supported by the evidence"
    c.caveats = _evidence_caveats(used, v) + ([MECHANISM_CAVEAT] if c.mechanism else []) + c.caveats
    c.caveats += [f"Cause and consequence ({', '.join(p.pair)}): {p.reason}." for p in c.cause_and_consequence]
    if c.confidence != "high" and c.confidence_reason:
        c.caveats.insert(0, f"Confidence {c.confidence}: {c.confidence_reason}."
                         + (f" What would {'decide' if c.confidence == 'undetermined' else 'raise'} it: "
                            f"{c.deciding_calculation}." if c.deciding_calculation else ""))
    for h in hyps:
        if h.status == "rejected":
            c.rejected.append(RejectedHypothesis(category=h.category, id=h.id, reason=h.reason))
            refs += _refs(h, v)
        elif h.status in ("open", "supported") or (h.status == "mechanism-of" and root and h.mechanism_of != root.id):
            c.open.append(OpenHypothesis(category=h.category, id=h.id, status=h.status, reason=h.reason))
    c.evidence_refs = list(dict.fromkeys(refs))
    _run_caveats(c, v, members, pending)
    c.summary = _summary(c, root, target) + model_contact.sentence(v)  # the tier-4 check, once it is in
    c.changes = _changes(v.conclusion, c, v.hypotheses) + model_contact.news(v)
    return c


def _run_caveats(c: Conclusion, v: InvestigationView, members: set[str], pending: list) -> None:
    failed = sorted({f"{r.observable} at tier {r.tier} ({r.error})" for r in v.results
                     if not r.success and r.error and r.molecule in members})
    if failed:
        c.caveats.append("Skipped or failed, so not used: " + "; ".join(failed[:8])
                         + (f"; and {len(failed) - 8} more" if len(failed) > 8 else "") + ".")
    inadequate = sorted({f"{e.observable} at tier {e.tier}" for e in v.evidence if not e.adequate})
    if inadequate:
        c.caveats.append("Looked at but not used for verdicts (tier not adequate): " + ", ".join(inadequate) + ".")
    if v.budget.left_s <= 0:
        c.caveats.append("The calculation budget was spent; higher tiers were not tried.")
    if v.stop:
        c.caveats.append("The scientist stopped the investigation before the planner had finished.")
    c.pending = [p.id for p in pending]
    if c.pending:
        c.caveats.append("Provisional: higher-tier calculations are still running: " + ", ".join(c.pending) + ".")


def _summary(c: Conclusion, root: Hypothesis | None, target: str) -> str:
    decide = f" The calculation that would decide it: {c.deciding_calculation}." if c.deciding_calculation else ""
    if root is None:
        return (f"Undetermined: no hypothesis is supported by the evidence so far for why {target} differs; "
                f"{len(c.rejected)} rejected, {len(c.open)} open.{decide}")
    if c.confidence == "undetermined":
        return (f"Undetermined: the leading candidate is {root.category} ({root.statement}), but no adequate "
                f"energetic calculation supports it yet.{decide}")
    mech = (" acting " + c.mechanism[0].statement.split(" acts ", 1)[-1].rstrip(".")) if c.mechanism else ""
    raise_ = f" To raise it: {c.deciding_calculation}." if c.deciding_calculation else ""
    return (f"Root cause ({root.category}): {root.statement}{mech and ' Mechanism:' + mech + '.'} "
            f"Confidence {c.confidence}.{raise_}")


def _clip(text: str, n: int = 240) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " ..."


def _overturned(old: Conclusion, new: Conclusion, hyps: list[Hypothesis]) -> list[str]:
    """First-person lines for the agent's earlier verdicts (not the scientist's) that the new conclusion overturns."""
    pinned = {h.id for h in hyps if h.pinned or any("by the scientist" in x or x.startswith("pushback")
                                                     for x in h.history)}
    now = {o.id: (f"{o.status}", o.reason) for o in new.open}
    now.update({m.id: (f"the mechanism of {m.mechanism_of}", m.evidence) for m in new.mechanism})
    if new.root_cause:
        now[new.root_cause.id] = ("the root cause", new.root_cause.evidence)
    rejected = {r.id: r.reason for r in new.rejected}
    held = [(m.id, f"named {m.id} as the mechanism of {m.mechanism_of}") for m in old.mechanism]
    held = ([(old.root_cause.id, f"named {old.root_cause.id} as the root cause")] if old.root_cause else []) + held
    out = [f"I had rejected {r.id} ({_clip(r.reason)}); later evidence overturns that: it is now {now[r.id][0]} "
           f"({_clip(now[r.id][1])})." for r in old.rejected if r.id in now and r.id not in pinned]
    return out + [f"I had {what}; later evidence overturns that: it is now rejected ({_clip(rejected[hid])})."
                  for hid, what in held if hid in rejected and hid not in pinned]


def _changes(old: Conclusion | None, new: Conclusion, hyps: list[Hypothesis] = ()) -> list[str]:
    if old is None:
        return []
    out = _overturned(old, new, list(hyps))
    o_root = old.root_cause.id if old.root_cause else None
    n_root = new.root_cause.id if new.root_cause else None
    if o_root != n_root:
        out.append(f"The root cause changed from {o_root or 'none'} to {n_root or 'none'}.")
    o_mech = [m.id for m in old.mechanism]
    n_mech = [m.id for m in new.mechanism]
    if o_mech != n_mech:
        out.append(f"The mechanism changed from {', '.join(o_mech) or 'none'} to {', '.join(n_mech) or 'none'}.")
    elif n_mech and new.mechanism[0].tier > old.mechanism[0].tier:
        out.append(f"The mechanism {n_mech[0]} is now confirmed at tier {new.mechanism[0].tier} "
                   f"(was tier {old.mechanism[0].tier}).")
    if old.confidence != new.confidence:
        out.append(f"Confidence changed from {old.confidence} to {new.confidence}.")
    if old.provisional and not new.provisional:
        out.append("The background calculations have finished; the conclusion is no longer provisional.")
    return out
