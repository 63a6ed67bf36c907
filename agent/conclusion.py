"""Draw the conclusion from the judged hypotheses: root cause, mechanism chain,
rejected hypotheses with their reasons, confidence, caveats, testable
predictions, and the cache keys of every result it rests on."""

from __future__ import annotations

from .evidence import best_evidence
from .state import (Conclusion, Hypothesis, InvestigationView, MechanismStep, OpenHypothesis, RejectedHypothesis,
                    RootCause)

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

CAVEATS = [
    "Contact energies are for idealised gas-phase dimers built by rule (typical crystal-contact distances), "
    "not relaxed structures or lattice energies.",
    "The uncertainty of a target-vs-analog difference is taken as sqrt(2) x half the tier's benchmark MAE, "
    "assuming errors largely cancel across close analogs.",
    "A mechanism is chosen comparatively: the candidate contact in which the target gains most over its analogs.",
]


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


def build(v: InvestigationView) -> Conclusion:
    target = v.series.target.name
    hyps = v.hypotheses
    root = next((h for h in hyps if h.status == "root-cause"), None)
    # the design's background calculations (on candidates, not the series) leave the verdicts as they are
    pending = [p for p in v.pending if p.purpose != "design"]
    members = {m.name for m in v.series.members} | {"*"}
    c = Conclusion(provisional=bool(pending), caveats=list(CAVEATS))
    refs: list[str] = []
    if root is not None:
        c.root_cause = RootCause(category=root.category, id=root.id, statement=root.statement,
                                 confidence=root.confidence, evidence=root.reason, tier=root.tier_reached)
        refs += _refs(root, v)
        for m in sorted((h for h in hyps if h.status == "mechanism-of" and h.mechanism_of == root.id),
                        key=lambda h: -h.confidence):
            c.mechanism.append(MechanismStep(category=m.category, id=m.id, statement=m.statement,
                                             mechanism_of=root.id, confidence=m.confidence, evidence=m.reason,
                                             tier=m.tier_reached))
            refs += _refs(m, v)
        c.confidence = _level(root.confidence)
        for m in c.mechanism:
            e = best_evidence(v.evidence, next(h for h in hyps if h.id == m.id).observables[0].observable)
            if e is not None and (e.z or 0) < 2.0:
                c.caveats.append(f"The mechanism {m.id} is the best candidate, not a proven one: its margin at "
                                 f"tier {e.tier} is {e.z:.1f} sigma of a difference.")
        c.predictions = [p.format(target=target) for p in PREDICTIONS.get(root.category, [])]
    for h in hyps:
        if h.status == "rejected":
            c.rejected.append(RejectedHypothesis(category=h.category, id=h.id, reason=h.reason))
            refs += _refs(h, v)
        elif h.status in ("open", "supported") or (h.status == "mechanism-of" and root and h.mechanism_of != root.id):
            c.open.append(OpenHypothesis(category=h.category, id=h.id, status=h.status, reason=h.reason))
    c.evidence_refs = list(dict.fromkeys(refs))
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
    if root is None:
        c.summary = (f"No hypothesis is supported by the evidence so far for why {target} differs; "
                     f"{len(c.rejected)} rejected, {len(c.open)} open.")
        c.confidence = "low"
    else:
        mech = (" acting " + c.mechanism[0].statement.split(" acts ", 1)[-1].rstrip(".")) if c.mechanism else ""
        c.summary = (f"Root cause ({root.category}): {root.statement}{mech and ' Mechanism:' + mech + '.'} "
                     f"Confidence {c.confidence}.")
    c.changes = _changes(v.conclusion, c)
    return c


def _changes(old: Conclusion | None, new: Conclusion) -> list[str]:
    if old is None:
        return []
    out = []
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
