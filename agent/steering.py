"""Steering: the scientist's requests applied to the investigation.

The steer node takes each queued request in priority order, asks the planner to
interpret it as typed :class:`Action` s (the built-in parser or an LLM), and applies
them here: hypotheses added, rejected, reopened, pushed back or reprioritised;
calculations queued as directives for the planner; design settings and budget
changed; explanations written. Nothing here runs a calculation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .evidence import best_evidence
from .hypotheses import TEMPLATES
from .observables import OBSERVABLES
from .state import Action, Budget, DesignState, Hypothesis, InvestigationView, Request, say


@dataclass
class Steering:
    """What the requests changed: the working copies the steer node writes back."""

    hypotheses: dict[str, Hypothesis]
    directives: list[Action]
    design: DesignState
    budget: Budget
    stop: bool
    changed: set[str] = field(default_factory=set)
    transcript: list[dict] = field(default_factory=list)
    asked: list[Action] = field(default_factory=list)  # the requests' computes, to be reported back

    @classmethod
    def of(cls, v: InvestigationView) -> "Steering":
        return cls({h.id: h.model_copy(deep=True) for h in v.hypotheses}, list(v.directives),
                   v.design.model_copy(deep=True), v.budget.model_copy(), v.stop)


def honour(requests: list[Request], planner, v: InvestigationView) -> Steering:
    """Interpret and apply ``requests`` (already in priority order); marks each done or failed."""
    st = Steering.of(v)
    for req in requests:
        try:
            step = planner.interpret(req.text, v)
        except Exception as exc:
            req.status, req.response = "failed", f"could not interpret: {exc}"
            st.transcript.append(say("agent", req.response))
            continue
        n = len(st.directives)
        responses = [step.reasoning] + [apply_action(a, st, v) for a in step.actions]
        st.directives[n:] = [d.model_copy(update={"request_id": req.id}) for d in st.directives[n:]]
        st.asked += [d for d in st.directives[n:] if d.kind == "compute"]
        req.status, req.response = "done", " ".join(r for r in responses if r)
        st.transcript += [say("scientist", req.text), say("agent", req.response)]
    return st


def apply_action(a: Action, st: Steering, v: InvestigationView) -> str:
    """Apply one steering action; returns what was done, in words."""
    if a.kind == "budget":
        if a.seconds is None:
            return "A compute budget needs a number of seconds."
        st.budget = st.budget.model_copy(update={"cpu_s_limit": float(a.seconds)})
        return (f"Compute budget: {a.seconds:g} s ({st.budget.cpu_s_used:.0f} s used so far, "
                f"{st.budget.left_s:.0f} s left).")
    if a.kind == "status":
        return status(v, st)
    if a.kind == "design_budget":
        if a.seconds is None:
            return "A design budget needs a number of seconds."
        st.budget = st.budget.model_copy(update={"design_s_limit": float(a.seconds)})
        return f"Design budget: {a.seconds:g} s (estimated) per pass."
    if a.kind in ("exclude", "allow", "candidates"):
        st.design = apply_design_action(a, st.design)
        return (f"Design settings: exclude {', '.join(st.design.exclude) or 'nothing'}, "
                f"{st.design.n_candidates or 'default number of'} candidates.")
    if a.kind == "stop":
        st.stop = True
        return "Stopping: I will conclude with what is known."
    if a.kind == "compute":
        if a.observable in OBSERVABLES and a.tier is not None:
            st.directives.append(a)
            n = sum(1 for d in st.directives if d.kind == "compute")
            return (f"Queued {a.observable} at tier {a.tier} for the whole series: place {n} of {n} among your "
                    "calculation requests, which run before the planner's own.")
        return f"Cannot compute {a.observable!r} at tier {a.tier}."
    if a.kind == "add_hypothesis":
        return _add_hypothesis(a, st)
    if a.kind in ("reject", "reopen", "pushback", "priority", "explain"):
        h = st.hypotheses.get(a.hypothesis_id or "")
        if h is None:
            return f"No hypothesis {a.hypothesis_id!r}."
        return _on_hypothesis(a, h, st, v)
    return a.text or ""


def _add_hypothesis(a: Action, st: Steering) -> str:
    n = 1 + sum(1 for x in st.hypotheses.values() if x.source == "scientist")
    cat = a.category if a.category in TEMPLATES else "other"
    obs = list(TEMPLATES[cat].observables) if cat in TEMPLATES else []
    new = Hypothesis(id=f"S{n}", category=cat, statement=a.text or "", source="scientist", observables=obs,
                     priority=a.priority or 2,
                     reason="" if obs else "no built-in observable tests this category; it stays open")
    st.hypotheses[new.id] = new
    st.changed.add(new.id)
    return f"Added {new.id} ({cat})" + (f", tested by {', '.join(u.observable for u in obs)}." if obs else
                                         ": no built-in observable tests it, so it stays open.")


def _on_hypothesis(a: Action, h: Hypothesis, st: Steering, v: InvestigationView) -> str:
    if a.kind == "explain":
        return explain(h, v, a.observable)
    st.changed.add(h.id)
    if a.kind == "reject":
        h.status, h.pinned, h.reason = "rejected", True, a.text or "rejected by the scientist"
        h.history.append(f"rejected by the scientist: {h.reason}")
        return f"Rejected {h.id}."
    if a.kind == "priority":
        h.priority = int(a.priority if a.priority is not None else h.priority)
        return f"{h.id} now has priority {h.priority}."
    h.status, h.pinned = "open", False
    h.reason = (f"pushback: {a.text}" if a.kind == "pushback" else a.text) or "reopened by the scientist"
    h.history.append(h.reason)
    if a.kind == "pushback":
        st.directives += _one_tier_higher(h, v)
    return f"Reopened {h.id}."


def _one_tier_higher(h: Hypothesis, v: InvestigationView) -> list[Action]:
    """A disputed verdict's observables, each queued at the next computable tier above its best evidence."""
    out = []
    for u in h.observables:
        obs = OBSERVABLES.get(u.observable)
        if obs is None:
            continue
        e = best_evidence(v.evidence, u.observable)
        nxt = (e.tier + 1) if e else 0
        while nxt <= v.budget.tier_cap and not obs.use(nxt).computable:
            nxt += 1
        if nxt <= v.budget.tier_cap:
            out.append(Action(kind="compute", observable=u.observable, tier=nxt, hypothesis_id=h.id))
    return out


def apply_design_action(a: Action, design: DesignState) -> DesignState:
    """The design settings after an exclude / allow / candidates action."""
    excl = set(design.exclude)
    update: dict = {}
    if a.kind == "exclude":
        excl |= set(a.elements)
    elif a.kind == "allow":
        excl -= set(a.elements)
    elif a.kind == "candidates" and a.count:
        update["n_candidates"] = int(a.count)
    return design.model_copy(update={**update, "exclude": sorted(excl)})


def explain(h: Hypothesis, v: InvestigationView, observable: str | None = None) -> str:
    """A hypothesis's status, why, and each evidence line once (only ``observable``'s when one is named)."""
    lines = [f"{h.id} [{h.category}, {h.kind}{', mechanism of ' + h.mechanism_of if h.mechanism_of else ''}] "
             f"is {h.status} (confidence {h.confidence:.2f}). {h.statement}"]
    if h.reason:
        lines.append(f"Why: {h.reason}")
    names = [observable] if observable else list(dict.fromkeys(u.observable for u in h.observables))
    for name in names:
        for e in sorted((e for e in v.evidence if e.observable == name), key=lambda e: e.tier):
            if e.summary and e.summary not in h.reason and f"- {e.summary}" not in lines:
                lines.append(f"- {e.summary}")
    if len(lines) == 2 and h.reason and not v.evidence:
        lines.append("Nothing is computed for it yet.")
    history = [x for x in dict.fromkeys(h.history[-4:]) if x != h.reason and h.reason not in x]
    if history:
        lines.append("History: " + " | ".join(history))
    return "\n".join(lines)


def status(v: InvestigationView, st: Steering | None = None) -> str:
    """What the investigation is doing, what comes next and how long it will take, in words."""
    last = next((u.text for u in reversed(v.transcript) if u.speaker == "planner"), None)
    asked = [d for d in (st.directives if st else v.directives) if d.kind == "compute"]
    plan_s = sum(p.estimate_s for p in v.plan)
    bg_s = sum(p.estimate_s for p in v.pending)
    live = [h.id for h in v.hypotheses if h.status in ("supported", "root-cause")]
    out = [f"Step {v.step}, tier {max(v.tier, 0)} of a cap of {v.budget.tier_cap}; {v.budget.cpu_s_used:.0f} s of "
           f"{v.budget.cpu_s_limit:.0f} s of compute used."]
    if last:
        out.append("Last planned: " + last[:300])
    if v.plan:
        out.append(f"Next: {len(v.plan)} calculation(s), about {plan_s:.0f} s.")
    if asked:
        out.append("Your requests queued: " + ", ".join(f"{d.observable} at tier {d.tier}" for d in asked) + ".")
    if v.pending:
        out.append(f"In the background: {len(v.pending)} calculation(s), about {bg_s:.0f} s.")
    if not (v.plan or asked or v.pending):
        out.append("Next: the planner picks the cheapest calculation that can still move a verdict.")
    out.append(("Leading: " + ", ".join(live) + ".") if live else "No hypothesis is supported yet.")
    if v.conclusion is not None:
        out.append(("Provisional conclusion: " if v.conclusion.provisional else "Conclusion: ") + v.conclusion.summary)
    return " ".join(out)


def answer_now(commands: list[str], v: InvestigationView) -> str:
    """The answers to read-only commands (why, status, help), from the state as it is."""
    from .commands import COMMANDS_HELP, parse_command

    st, out = Steering.of(v), []
    for c in commands:
        if c.split()[0] == "help":
            out.append(COMMANDS_HELP)
            continue
        step = parse_command(c, v)
        out += [apply_action(a, st, v) for a in step.actions] or [step.reasoning]
    return "\n".join(out)
