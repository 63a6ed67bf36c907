"""The built-in planner: deterministic, offline, and the default.

It climbs the tier ladder. At each step it looks for the lowest tier at which a
live hypothesis still needs an observable computed, and plans those
calculations; when none is needed up to the tier cap it concludes. It does not
climb for an observable whose verdict is *settled* at an adequate tier (the
next tier cannot change it), nor compute an inadequate tier above the cheap
ones (tier 2). It writes its reasoning in sentences.

Steering commands (the built-in planner's language; an LLM planner maps free
text onto the same actions)::

    add hypothesis <text> [category]   a new hypothesis (category from the library
                                       gives it that category's observables)
    reject <id> [reason]               reject a hypothesis (pinned: evidence will not revive it)
    reopen <id>                        reopen a rejected hypothesis (evidence judges it again)
    pushback <id> <reason>             dispute a verdict: reopen it, raise its priority and
                                       recompute its observables one tier higher
    priority <id> <n>                  set a hypothesis's priority (1 = first)
    calc <observable> <tier>           compute an observable at a tier for the whole series
    why <id>                           explain a hypothesis's status and evidence
    exclude <element> [...]            no confirmatory candidate may contain these elements
                                       (symbols or names: 'exclude I', 'no iodine')
    allow <element> [...]              lift an exclusion
    more candidates <n>                propose n confirmatory molecules (also 'candidates <n>')
    design budget <seconds>            estimated seconds one design pass may spend (default 90)
    stop                               conclude with what is known
    help                               list these commands
"""

from __future__ import annotations

import logging
import re
import shlex

from .evidence import best_evidence, settled
from .hypotheses import CATEGORIES
from .observables import OBSERVABLES
from .state import Action, InvestigationView, PlanStep

log = logging.getLogger(__name__)

CHEAP_TIER = 2  # inadequate tiers are still computed up to here: cheap, and they show what a tier misses

COMMANDS_HELP = __doc__.split("Steering commands", 1)[1].split("::", 1)[1].strip("\n")


def live(view: InvestigationView):
    """Hypotheses still worth computing for: not rejected, and whose cause is not rejected."""
    by_id = {h.id: h for h in view.hypotheses}
    for h in sorted(view.hypotheses, key=lambda h: (h.priority, h.id)):
        if h.status == "rejected":
            continue
        if h.kind == "mechanism" and by_id.get(h.mechanism_of) is not None and by_id[h.mechanism_of].status == "rejected":
            continue
        yield h


def attempted(view: InvestigationView) -> set[tuple[str, int]]:
    """(observable, tier) pairs already computed, failed, skipped or running in the background."""
    return {(r.observable, r.tier) for r in [*view.results, *view.pending]}


class BuiltinPlanner:
    name = "built-in"

    # -------------------------------------------------------------- hypotheses
    def propose_hypotheses(self, view: InvestigationView) -> list:
        """The library already gave its hypotheses in the hypothesise node; nothing to add."""
        return []

    # -------------------------------------------------------------- the ladder
    def plan(self, view: InvestigationView) -> PlanStep:
        if view.stop:
            return PlanStep(reasoning="The scientist asked to stop, so I conclude with what is known.",
                            actions=[Action(kind="conclude")])
        done = attempted(view)
        actions: list[Action] = []
        notes: list[str] = []
        for d in view.directives:
            if d.kind == "compute" and (d.observable, d.tier) not in done:
                actions.append(d)
                notes.append(f"The scientist asked for {d.observable} at tier {d.tier}; I do that first.")
        if actions:
            return PlanStep(reasoning=" ".join(notes), actions=actions)

        cap = view.budget.tier_cap
        tied = self._tied(view)
        for tier in range(0, cap + 1):
            wanted: dict[str, list[str]] = {}
            skipped: list[str] = []
            for h in live(view):
                for use in h.observables:
                    obs = OBSERVABLES.get(use.observable)
                    if obs is None:
                        continue
                    u = obs.use(tier)
                    if not u.computable or (use.observable, tier) in done:
                        continue
                    cur = best_evidence(view.evidence, use.observable)
                    if cur is not None and cur.tier >= tier:
                        continue
                    if cur is not None and settled(cur) and h.id not in tied:
                        skipped.append(f"{use.observable} is settled at tier {cur.tier} ({cur.verdict}, "
                                       f"z = {cur.z:.1f}); tier {tier} cannot change that")
                        continue
                    if not u.adequate and tier > CHEAP_TIER:
                        continue
                    if use.role == "indicator" and tier > CHEAP_TIER:
                        continue
                    wanted.setdefault(use.observable, []).append(h.id)
            if wanted:
                reasons = []
                for name, hids in wanted.items():
                    u = OBSERVABLES[name].use(tier)
                    tag = "" if u.adequate else f" (not adequate for a verdict here: {u.note}; computed as a cheap look)"
                    reasons.append(f"{name} for {', '.join(dict.fromkeys(hids))}{tag}")
                lead = (f"Tier {tier} is the lowest rung where live hypotheses still need numbers."
                        if tier > max(view.tier, -1) and view.tier >= 0 else f"I work at tier {tier}.")
                if tier > view.tier >= 0:
                    lead = (f"I escalate to tier {tier}: the verdicts below still rest on lower tiers that are "
                            "inadequate or not settled.")
                if tied:
                    lead += f" Hypotheses {', '.join(sorted(tied))} remain tied, so I test them one tier higher."
                text = lead + " I plan " + "; ".join(reasons) + "."
                if skipped:
                    text += " Not escalated: " + "; ".join(dict.fromkeys(skipped)) + "."
                return PlanStep(reasoning=text, actions=[
                    Action(kind="compute", observable=n, tier=tier, hypothesis_id=hids[0]) for n, hids in wanted.items()])
        return PlanStep(reasoning=self._why_conclude(view), actions=[Action(kind="conclude")])

    def _tied(self, view: InvestigationView) -> set[str]:
        sup = [h for h in view.hypotheses if h.kind == "cause" and h.status in ("supported", "root-cause")]
        if len(sup) < 2:
            return set()
        top = max(h.confidence for h in sup)
        tied = {h.id for h in sup if top - h.confidence < 0.05}
        if len(tied) < 2 or min(h.tier_reached for h in sup if h.id in tied) >= view.budget.tier_cap:
            return set()
        return tied

    def _why_conclude(self, view: InvestigationView) -> str:
        open_ = [h.id for h in live(view) if h.status == "open"]
        text = ("No live hypothesis needs another calculation up to the tier cap "
                f"({view.budget.tier_cap}), so I conclude.")
        if open_:
            text += (f" Still open: {', '.join(open_)} (no adequate observable within the cap, "
                     "a failed engine, or nothing the built-in observables can test).")
        return text

    # -------------------------------------------------------------- steering
    def interpret(self, text: str, view: InvestigationView) -> PlanStep:
        """Parse a steering command into actions (see the module docstring)."""
        return parse_command(text, view)


ELEMENT_NAMES = {"iodine": "I", "bromine": "Br", "chlorine": "Cl", "fluorine": "F", "nitrogen": "N",
                 "oxygen": "O", "sulfur": "S", "sulphur": "S", "phosphorus": "P", "selenium": "Se",
                 "boron": "B", "silicon": "Si"}


def _element(word: str) -> str | None:
    from ..chem.molecule import ATOMIC_NUMBER

    w = word.strip(",;.").lower()
    if w in ELEMENT_NAMES:
        return ELEMENT_NAMES[w]
    sym = w[:1].upper() + w[1:]
    return sym if sym in ATOMIC_NUMBER else None


def parse_design_command(words: list[str]) -> PlanStep | None:
    """'exclude I Br' / 'no iodine' / 'allow I' / 'more candidates 8' / 'candidates 8'; None if not one.
    Raises ValueError for a design command with a bad argument."""
    if not words:
        return None
    verb, rest = words[0].lower(), [w for w in words[1:] if w.lower() not in ("and", "or")]
    if verb in ("exclude", "no", "allow") and rest:
        elements = [_element(w) for w in rest]
        if None in elements:
            if verb == "no":
                return None  # "no, ..." is not a design command
            bad = [w for w, e in zip(rest, elements) if e is None]
            raise ValueError(f"not an element: {', '.join(bad)} (use symbols or names, e.g. 'exclude I', "
                             "'no iodine')")
        kind = "allow" if verb == "allow" else "exclude"
        what = ", ".join(dict.fromkeys(elements))
        return PlanStep(reasoning=(f"Confirmatory molecules may contain {what} again." if kind == "allow" else
                                   f"No confirmatory molecule will contain {what}."),
                        actions=[Action(kind=kind, elements=list(dict.fromkeys(elements)))])
    if verb == "design" and rest[:1] == ["budget"]:
        if len(rest) != 2 or not re.fullmatch(r"\d+", rest[1]):
            raise ValueError("'design budget' needs seconds, e.g. 'design budget 300'")
        return PlanStep(reasoning=f"The design may spend up to {rest[1]} s (estimated) per pass.",
                        actions=[Action(kind="design_budget", seconds=float(rest[1]))])
    if verb == "more" and rest[:1] == ["candidates"]:
        rest = rest[1:]
        verb = "candidates"
    if verb == "candidates":
        if len(rest) != 1 or not re.fullmatch(r"\d+", rest[0]) or not 1 <= int(rest[0]) <= 50:
            raise ValueError("'more candidates' needs a number from 1 to 50, e.g. 'more candidates 8'")
        return PlanStep(reasoning=f"Propose {rest[0]} confirmatory molecules.",
                        actions=[Action(kind="candidates", count=int(rest[0]))])
    return None


def parse_command(text: str, view: InvestigationView | None = None) -> PlanStep:
    try:
        words = shlex.split(text.strip())
    except ValueError:
        words = text.strip().split()
    if not words:
        return PlanStep(reasoning="Empty request.", actions=[])
    verb = words[0].lower()
    rest = words[1:]
    ids = {h.id for h in view.hypotheses} if view else set()

    def need_id() -> str:
        if not rest:
            raise ValueError(f"'{verb}' needs a hypothesis id")
        hid = rest[0]
        if ids and hid not in ids:
            raise ValueError(f"no hypothesis {hid!r}; ids: {', '.join(sorted(ids))}")
        return hid

    try:
        if verb == "add" and rest[:1] == ["hypothesis"]:
            body = rest[1:]
            category = "other"
            if body and body[-1] in CATEGORIES:
                category = body.pop()
            if not body:
                raise ValueError("'add hypothesis' needs a statement")
            return PlanStep(reasoning=f"Add the scientist's hypothesis ({category}).",
                            actions=[Action(kind="add_hypothesis", text=" ".join(body), category=category)])
        if verb == "reject":
            hid = need_id()
            return PlanStep(reasoning=f"Reject {hid} as asked.", actions=[Action(
                kind="reject", hypothesis_id=hid, text=" ".join(rest[1:]) or "rejected by the scientist")])
        if verb == "reopen":
            hid = need_id()
            return PlanStep(reasoning=f"Reopen {hid} as asked.", actions=[Action(kind="reopen", hypothesis_id=hid,
                                                                                 text="reopened by the scientist")])
        if verb == "pushback":
            hid = need_id()
            reason = " ".join(rest[1:]) or "the scientist disputes this verdict"
            return PlanStep(reasoning=f"The scientist pushes back on {hid}: {reason}. I reopen it, raise its "
                                      "priority and recompute its observables one tier higher.",
                            actions=[Action(kind="pushback", hypothesis_id=hid, text=reason),
                                     Action(kind="priority", hypothesis_id=hid, priority=1)])
        if verb == "priority":
            hid = need_id()
            if len(rest) < 2 or not re.fullmatch(r"-?\d+", rest[1]):
                raise ValueError("'priority' needs an id and an integer, e.g. 'priority halogen_bond 1'")
            return PlanStep(reasoning=f"Set {hid}'s priority to {rest[1]}.",
                            actions=[Action(kind="priority", hypothesis_id=hid, priority=int(rest[1]))])
        if verb == "calc":
            if len(rest) < 2:
                raise ValueError("'calc' needs an observable and a tier, e.g. 'calc sigma_hole 3'")
            name, tier = rest[0], rest[1]
            if name not in OBSERVABLES:
                raise ValueError(f"unknown observable {name!r}; known: {', '.join(OBSERVABLES)}")
            levels = {"mmff": 0, "classical": 1, "xtb": 2, "dft": 3, "mp2": 4}
            t = levels.get(tier.lower(), int(tier) if tier.isdigit() else -1)
            if not OBSERVABLES[name].use(t).computable:
                raise ValueError(f"{name} cannot be computed at tier {tier}: {OBSERVABLES[name].use(t).note}")
            return PlanStep(reasoning=f"Compute {name} at tier {t} as asked.",
                            actions=[Action(kind="compute", observable=name, tier=t)])
        design = parse_design_command(words)
        if design is not None:
            return design
        if verb == "why":
            hid = need_id()
            return PlanStep(reasoning=f"Explain {hid}.", actions=[Action(kind="explain", hypothesis_id=hid)])
        if verb == "stop":
            return PlanStep(reasoning="Stop and conclude.", actions=[Action(kind="stop")])
        if verb == "help":
            return PlanStep(reasoning="Commands:\n" + COMMANDS_HELP, actions=[Action(kind="note", text=COMMANDS_HELP)])
    except ValueError as exc:
        return PlanStep(reasoning=f"Could not act on {text!r}: {exc}.", actions=[])
    return PlanStep(reasoning=f"Not a command: {text!r}. Type 'help' for the commands.", actions=[])
