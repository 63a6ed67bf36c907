"""The built-in planner: deterministic, offline, and the default.

It climbs the tier ladder. At each step it looks for the lowest tier at which a
live hypothesis still needs an observable computed, and plans those
calculations; when none is needed up to the tier cap it concludes. It does not
climb for an observable whose verdict is *settled* at an adequate tier (the
next tier cannot change it) -- except a leading cause's decisive observable,
which climbs while its link caps the confidence below "high" -- nor compute an
inadequate tier above the cheap ones (tier 2), nor take a lesser cause that an
adequate number already contradicts above them. It writes its reasoning in
sentences.

The steering command language and its parser live in :mod:`.commands`; free text is read by
:mod:`.interpret` into the same commands.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from .calculations import fits, skipped_for_budget
from .causality import causal_actions, reasoning as causal_reasoning
from .commands import COMMANDS_HELP, ELEMENT_NAMES, parse_command, parse_design_command  # noqa: F401 (re-exported)
from .evidence import best_evidence, link_level, settled
from .observables import OBSERVABLES
from .state import Action, InvestigationView, ObservableUse, PlanStep

log = logging.getLogger(__name__)

CHEAP_TIER = 2  # inadequate tiers are still computed up to here: cheap, and they show what a tier misses



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


STANDING = {"root-cause": 1.0, "supported": 0.9, "mechanism-of": 0.8, "open": 0.7}  # how much a verdict leads
ROLE_WORTH = {"decisive": 1.0, "indicator": 0.25}
INADEQUATE_WORTH = 0.2  # a cheap look at a tier that cannot carry a verdict


def leading(view: InvestigationView) -> set[str]:
    """The leading hypotheses: the supported causes (else the open causes of the highest priority) and their
    mechanisms. Their decisive observables are never skipped for budget while lesser ones run."""
    causes = [h for h in live(view) if h.kind == "cause"]
    top = [h for h in causes if h.status in ("root-cause", "supported")]
    if not top:
        opened = [h for h in causes if h.status == "open" and h.observables]
        top = [h for h in opened if h.priority == min((o.priority for o in opened), default=0)]
    ids = {h.id for h in top}
    return ids | {h.id for h in live(view) if h.kind == "mechanism" and h.mechanism_of in ids}


def contradicted(h, view: InvestigationView):
    """The adequate evidence (an indicator's or a decisive observable's) that already says the opposite of
    what ``h`` predicts, if any: a lesser cause so contradicted gets no expensive tier."""
    for use in h.observables:
        e = best_evidence(view.evidence, use.observable)
        if e is not None and e.adequate and e.verdict == "opposite":
            return e
    return None


class RankedCalc(NamedTuple):
    observable: str
    hypotheses: list[str]
    decisive: bool         # the decisive observable of a leading hypothesis
    worth: float           # how much it can move the verdicts (hypothesis standing x role x adequacy)
    estimate_s: float      # estimated seconds for the whole series


def rank_calculations(view: InvestigationView, tier: int, wanted: dict[str, list]) -> list[RankedCalc]:
    """``wanted`` observables (name -> [(hypothesis, use)]) at ``tier`` in the order they should run: the
    decisive observables of the leading hypotheses first, then by worth per estimated second."""
    from .calculations import plan_calcs

    lead = leading(view)
    out = []
    for name, uses in wanted.items():
        adequate_w = 1.0 if OBSERVABLES[name].use(tier).adequate else INADEQUATE_WORTH
        worth = sum(STANDING.get(h.status, 0.5) * (2.0 if h.id in lead else 1.0) * ROLE_WORTH[u.role] * adequate_w
                    for h, u in uses)
        decisive = any(h.id in lead and u.role == "decisive" for h, u in uses) and adequate_w == 1.0
        members = view.series.members if view.series is not None else []
        planned, _ = plan_calcs([Action(kind="compute", observable=name, tier=tier)], members, None)
        cost = sum(p.estimate_s for p in planned)
        out.append(RankedCalc(name, list(dict.fromkeys(h.id for h, _ in uses)), decisive, worth, cost))
    return sorted(out, key=lambda r: (not r.decisive, -r.worth / max(r.estimate_s, 0.1), r.observable))


def fits_any(ranked: list[RankedCalc], left_s: float) -> bool:
    """Whether any of ``ranked`` would run within ``left_s`` under calculations.fit_budget's rule: in order,
    and once a decisive one does not fit, no lesser one runs in its place."""
    blocked = False
    for r in ranked:
        if fits(r.estimate_s, left_s) and (r.decisive or not blocked):
            return True
        blocked = blocked or r.decisive
    return False


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
        asked = [d.model_copy(update={"decisive": True}) for d in view.directives
                 if d.kind == "compute" and (d.observable, d.tier) not in done]
        if asked:
            return PlanStep(reasoning=" ".join(f"The scientist asked for {d.observable} at tier {d.tier}; I do that "
                                               "first." for d in asked), actions=asked)
        tied = self._tied(view)
        causal = causal_actions(view)  # which supported cause explains which, at the tiers of their verdicts
        for tier in range(0, view.budget.tier_cap + 1):
            wanted, skipped = self._wanted(view, tier, done, tied)
            if not wanted:
                continue
            if causal and tier > max(a.tier for a in causal):  # before the budget goes on a tier above them
                return PlanStep(reasoning=causal_reasoning(view, causal) + f" I run them before tier {tier}, so "
                                "that the budget cannot run out with the question of cause left open.",
                                actions=causal)
            ranked = rank_calculations(view, tier, wanted)
            if causal and not fits_any(ranked, view.budget.left_s):
                return PlanStep(reasoning=causal_reasoning(view, causal) + f" Tier {tier}'s calculations do not fit "
                                f"the {view.budget.left_s:.0f} s of budget left, so it goes on the question of cause.",
                                actions=causal)
            reasons = []
            for r in ranked:
                u = OBSERVABLES[r.observable].use(tier)
                tag = "" if u.adequate else f"; not adequate for a verdict here: {u.note}; computed as a cheap look"
                kind = "decisive for a leading hypothesis" if r.decisive else "lesser"
                reasons.append(f"{r.observable} for {', '.join(r.hypotheses)} ({kind}, worth {r.worth:.2g} over "
                               f"~{r.estimate_s:.0f} s{tag})")
            lead = (f"Tier {tier} is the lowest rung where live hypotheses still need numbers."
                    if tier > max(view.tier, -1) and view.tier >= 0 else f"I work at tier {tier}.")
            if tier > view.tier >= 0:
                lead = (f"I escalate to tier {tier}: the verdicts below still rest on lower tiers that are "
                        "inadequate or not settled.")
            if tied:
                lead += f" Hypotheses {', '.join(sorted(tied))} remain tied, so I test them one tier higher."
            text = (lead + " I plan, decisive observables of the leading hypotheses first, then by how much each "
                    "can move the verdicts per estimated second: " + "; ".join(reasons) + ".")
            if skipped:
                text += " Not escalated: " + "; ".join(dict.fromkeys(skipped)) + "."
            return PlanStep(reasoning=text, actions=[
                Action(kind="compute", observable=r.observable, tier=tier, hypothesis_id=r.hypotheses[0],
                       decisive=r.decisive) for r in ranked])
        if causal:  # the ladder is done
            return PlanStep(reasoning=causal_reasoning(view, causal), actions=causal)
        return PlanStep(reasoning=self._why_conclude(view), actions=[Action(kind="conclude")])

    def _wanted(self, view: InvestigationView, tier: int, done: set[tuple[str, int]],
                tied: set[str]) -> tuple[dict[str, list[ObservableUse]], list[str]]:
        """The observables live hypotheses still need at ``tier`` (with the uses that need them), and the
        ones not escalated because their verdict is settled."""
        wanted: dict[str, list] = {}
        skipped: list[str] = []
        lead = leading(view)
        for h in live(view):
            against = contradicted(h, view) if tier > CHEAP_TIER and h.id not in lead else None
            if against is not None:  # no expensive tier for a lesser cause its adequate numbers contradict
                if any(OBSERVABLES[u.observable].use(tier).computable for u in h.observables
                       if u.observable in OBSERVABLES and (u.observable, tier) not in done):
                    skipped.append(f"{h.id} above tier {CHEAP_TIER}: {against.observable} at tier {against.tier} "
                                   f"already points the other way (z = {against.z:.1f})")
                continue
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
                # a leading cause's decisive number climbs on while its link caps the confidence below high
                # (a settled tier-1 margin is still "low"): the referee wants it at the adequate tiers above
                climb = h.id in lead and use.role == "decisive" and u.adequate
                if cur is not None and settled(cur) and h.id not in tied and not (climb and link_level(cur) != "high"):
                    skipped.append(f"{use.observable} is settled at tier {cur.tier} ({cur.verdict}, "
                                   f"z = {cur.z:.1f}); tier {tier} cannot change that")
                    continue
                if (not u.adequate or use.role == "indicator") and tier > CHEAP_TIER:
                    continue
                wanted.setdefault(use.observable, []).append((h, use))
        return wanted, skipped

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
        running = {p.observable for p in view.pending}
        waiting = [h.id for h in live(view) if h.status == "open" and any(u.observable in running
                                                                          for u in h.observables)]
        open_ = [h.id for h in live(view) if h.status == "open" and h.id not in waiting]
        text = ("No live hypothesis needs another calculation up to the tier cap "
                f"({view.budget.tier_cap}), so I conclude.")
        if waiting:
            text += f" Waiting on calculations running in the background: {', '.join(waiting)}."
        if open_:
            text += (f" Still open: {', '.join(open_)} (no adequate observable within the cap, "
                     "a failed engine, or nothing the built-in observables can test).")
        skipped = sorted({f"{r.observable} at tier {r.tier}" for r in view.results
                          if r.molecule == "*" and skipped_for_budget(r.error)})
        if skipped:
            text += f" Skipped for budget (see the plan steps for why): {', '.join(skipped)}."
        return text

    # -------------------------------------------------------------- steering
    def interpret(self, text: str, view: InvestigationView) -> PlanStep:
        """A steering command or free text as actions, with the reply (agent/interpret.py)."""
        from .interpret import interpret

        return interpret(text, view)
