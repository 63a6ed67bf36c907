"""Replies a collaborator gives after the numbers come in.

- :func:`report_back`: a calculation the scientist asked for (a compute directive carrying its request's
  id) is reported against that request once its evidence is in, at the steering point after the analyse
  that produced it: the values, what they show, and what that does to the hypotheses resting on them.
- :func:`owned_reversals`: when new evidence overturns a verdict the agent had given (a rejection, a
  support, a root cause), it says so in the first person, with the number it had and the one that
  overturns it. Verdicts the scientist set (pinned) are the scientist's, not the agent's, and are left out.
"""

from __future__ import annotations

from .evidence import best_evidence
from .state import Action, Evidence, Hypothesis, InvestigationView, Request

TIER_NAME = {0: "MMFF (RDKit)", 1: "the force field (GAFF2)", 2: "xTB", 3: "DFT", 4: "MP2"}
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
# which side of a verdict a status is on; open is neither
SIDE = {"rejected": "against", "supported": "for", "root-cause": "for", "mechanism-of": "for"}
HAD = {"rejected": "rejected", "supported": "supported", "root-cause": "named as the root cause",
       "mechanism-of": "named as the mechanism"}
NOW = {"rejected": "ruled out", "supported": "supported", "root-cause": "the root cause",
       "mechanism-of": "the mechanism", "open": "open again"}
VERDICT_WORDS = {"separates": "the target stands apart from its analogs ({z:.1f} sigma of a difference)",
                 "does_not_separate": "the target does not stand apart from its analogs ({z:.1f} sigma)",
                 "opposite": "the target lies on the wrong side of its analogs",
                 "inconclusive": "the difference is only {z:.1f} sigma: inconclusive"}


def method(tier: int) -> str:
    return TIER_NAME.get(tier, f"tier {tier}")


def number(x: float | None) -> str:
    """A value for a sentence: three significant figures, and 0.00 for what is zero to the printed digits."""
    if x is None:
        return "no value"
    return "0.00" if abs(x) < 0.005 else f"{x:.3g}"


def _values(e: Evidence) -> str:
    refs = [r for r in [e.target, *e.analogs] if r.value is not None]
    parts = [f"{number(r.value)} ({r.molecule})" for r in refs]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    count = NUMBER_WORDS.get(len(parts), str(len(parts)))
    return f"the {count} {e.observable} values are {listed}{(' ' + e.unit) if e.unit not in ('', 'count') else ''}"


def _verdict(e: Evidence) -> str:
    if e.verdict not in VERDICT_WORDS:
        return "no comparison could be made"
    text = VERDICT_WORDS[e.verdict].format(z=e.z or 0.0)
    return text if e.adequate else f"{text}, though this tier is not adequate for a verdict ({e.adequacy_note})"


def _consequence(e: Evidence, hyps: list[Hypothesis]) -> str:
    using = [h for h in hyps if any(u.observable == e.observable and u.role == "decisive" for u in h.observables)]
    if not using:
        return "no hypothesis rests on it"
    return "; ".join(f"{h.id} ({h.statement.rstrip('.')}) is {NOW.get(h.status, h.status)}" for h in using)


def _asked_for(a: Action, req: Request | None) -> str:
    quoted = f" (“{req.text}”)" if req is not None else ""
    return f"You asked for {a.observable} at {method(a.tier)}{quoted}"


def report_one(a: Action, v: InvestigationView) -> str | None:
    """The report on one requested calculation, or None while it is still to come."""
    if any(p.observable == a.observable and p.tier == a.tier for p in [*v.plan, *v.pending]):
        return None
    req = next((r for r in v.requests if r.id == a.request_id), None)
    e = next((e for e in v.evidence if e.observable == a.observable and e.tier == a.tier), None)
    if e is None:
        failed = next((r.error for r in v.results if r.observable == a.observable and r.tier == a.tier
                       and not r.success and r.error), None)
        return None if failed is None else f"{_asked_for(a, req)}: it could not be done: {failed}."
    return f"{_asked_for(a, req)}: at {method(e.tier)} {_values(e)}: {_verdict(e)}, so {_consequence(e, v.hypotheses)}."


def report_back(asked: list[Action], v: InvestigationView) -> tuple[list[str], list[Action]]:
    """Reports for the requested calculations whose numbers are in (or that failed), and those still awaited."""
    lines, waiting = [], []
    for a in asked:
        line = report_one(a, v)
        if line is None:
            waiting.append(a)
        else:
            lines.append(line)
    return lines, waiting


def _deciding(h: Hypothesis, old: list[Evidence], new: list[Evidence]) -> tuple[Evidence | None, Evidence | None]:
    """The evidence the old verdict rested on and the new evidence that changed it (for h's observables)."""
    for u in sorted(h.observables, key=lambda u: u.role != "decisive"):
        was, now = best_evidence(old, u.observable), best_evidence(new, u.observable)
        if now is not None and (was is None or (was.id, was.verdict) != (now.id, now.verdict)):
            return was, now
    return None, None


def owned_reversals(before: list[Hypothesis], after: list[Hypothesis], old: list[Evidence],
                    new: list[Evidence]) -> list[str]:
    """First-person lines for the agent's verdicts that the new evidence overturned."""
    was_by_id = {h.id: h for h in before}
    root = next((h.id for h in after if h.status == "root-cause"), None)
    out = []
    for h in after:
        was = was_by_id.get(h.id)
        if was is None or was.pinned or h.pinned or SIDE.get(was.status) is None:
            continue
        dethroned = was.status == "root-cause" and h.status == "supported" and root not in (None, h.id)
        if SIDE.get(was.status) == SIDE.get(h.status) and not dethroned:
            continue
        e_was, e_now = _deciding(h, old, new)
        had = f"I had {HAD[was.status]} {h.id}" + (f" at tier {e_was.tier} (z = {e_was.z:.1f})"
                                                   if e_was is not None and e_was.z is not None else "")
        now = f"{root} is now the root cause" if dethroned else f"{h.id} is now {NOW.get(h.status, h.status)}"
        if e_now is None:
            out.append(f"{had}; that no longer holds: {now} ({h.reason.rstrip('.')}).")
        else:
            out.append(f"{had}; the {method(e_now.tier)} number overturns that: {e_now.summary} {now}.")
    return out
