"""The investigation graph (LangGraph).

    intake -> hypothesise -> steer -> plan -> compute -> analyse -> steer -> plan ...
                                        \\-> conclude -> design -> report -> (await_background -> analyse ...) | END

- ``steer`` honours the scientist's queued requests before every planning step
  (:mod:`.steering`; interactive runs pause just before it), and picks up background
  results that finished meanwhile.
- ``plan`` asks the planner (built-in or LLM) for typed actions and turns compute
  actions into specs through the task catalogue, with cost estimates and the budget.
- ``compute`` runs them through the executor and the result store; expensive
  tier-3+ dimer calculations may go to the background (:mod:`.background`), and the
  conclusion is then provisional until ``await_background`` picks them up (in this
  process, or from the store on resume).
- ``design`` proposes confirmatory molecules after the verdicts (:mod:`.design`), within
  the budget's ``design_s_limit``; it may launch the best candidate's adequate
  calculations in the background too (``purpose="design"``: they do not make the
  conclusion provisional); the next design pass uses them and re-ranks. Observed
  crystal facts (a ``cif`` column in the series) are read at intake (:mod:`.crystal_facts`).

Run settings (store, executor, planner, run directory) live in :class:`RunContext`
(LangGraph's context), not in the checkpointed state.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from ..tiers.spec import CalcResult, CalcSpec
from ..tiers.store import ResultStore
from . import background as bgq
from . import causality, model_contact
from . import conclusion as concl
from .crystal_facts import apply_checks
from .evidence import judge
from .hypotheses import screen
from .inbox import read_inbox
from .calculations import SKIPPED_FOR_BUDGET, fit_budget, plan_calcs, series_evidence
from .observables import OBSERVABLES
from .state import (Budget, CrystalFacts, Escalation, GraphState, ResultRef, dump, merge_by_id, say,
                    view)
from .replies import owned_reversals, report_back
from .steering import honour

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What a run needs that is not state: where results live and how calculations run."""

    store: ResultStore
    executor: Any
    planner: Any
    run_dir: Path
    background: bool = True          # dimer calculations at background_tier and above go to the background,
                                     # and so do the design's launches for its best candidate
    background_tier: int = 3
    wait_background: bool = True     # wait for them before ending (else: picked up on resume)
    progress: Callable[[CalcResult], None] | None = None
    queue: bgq.BackgroundQueue | None = None

    def __post_init__(self):
        if self.queue is None:
            self.queue = bgq.BackgroundQueue(self.executor)

    @property
    def futures(self) -> dict[str, Future]:
        """This process's background calculations by pending id."""
        return self.queue.futures

    def run(self, specs: list[CalcSpec]) -> list[CalcResult]:
        return bgq.run_specs(self.executor, specs, self.progress)

    def close(self) -> None:
        self.queue.close()


def _used_s(results) -> float:
    """Seconds of new calculation in ``results`` (store hits cost nothing)."""
    return sum(0.0 if r.from_cache else r.wall_time_s for r in results)


def _spend(budget: Budget, seconds: float) -> dict:
    return budget.model_copy(update={"cpu_s_used": budget.cpu_s_used + seconds}).model_dump()


# ------------------------------------------------------------------ nodes
def intake(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    v = view(state)
    if v.step > 0:  # a re-entry after the end (new requests): nothing to redo
        return {"step": v.step + 1}
    s = v.series
    lines = [f"Question: {v.question}",
             f"Series from {s.source}: target {s.target.name}; analogs {', '.join(a.name for a in s.analogs)}."]
    if s.skipped:
        lines.append("Skipped while reading the series: " + "; ".join(s.skipped) + ".")
    lines.append(f"Budget: {v.budget.cpu_s_limit:.0f} s of calculation, tiers up to {v.budget.tier_cap}.")
    update: dict = {"step": 1, "tier": -1}
    try:
        from .crystal_facts import read_crystals

        crystal = read_crystals(s, store=runtime.context.store, budget_s=min(300.0, v.budget.left_s))
    except Exception as exc:  # the crystal facts are extra: never a dead run
        log.warning("crystal facts failed: %s", exc)
        crystal = CrystalFacts(warnings=[f"crystal analysis failed: {exc}"])
    if crystal is not None:
        update["crystal"] = crystal.model_dump(mode="json")
        update["budget"] = _spend(v.budget, crystal.energy_seconds + crystal.swap_seconds)  # pair energies, swaps
        lines += [f"Crystal fact to explain: {f}" for f in crystal.facts]
        lines += [f"Crystal warning: {w}" for w in crystal.warnings]
    update["transcript"] = [say("agent", t) for t in lines]
    return update


def hypothesise(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    v = view(state)
    if v.hypotheses:
        return {}
    s = v.series
    screening = screen(s.target.mol(), [a.mol() for a in s.analogs])
    hyps = screening.hypotheses
    extra = []
    try:
        extra = runtime.context.planner.propose_hypotheses(v.model_copy(update={"hypotheses": hyps}))
    except Exception as exc:  # the planner's own fallback failed too: go on with the library
        log.warning("hypothesis proposals failed: %s", exc)
    hyps = hyps + list(extra)
    apply_checks(hyps, v.crystal)  # the crystal's pair energies are in hand from intake, whatever the budget
    text = [f"I hold {len(hyps)} hypotheses: " + "; ".join(
        f"{h.id} ({h.kind}{', ' + h.status if h.status != 'open' else ''})" for h in hyps) + "."]
    text += [f"Skipped {n}" for n in screening.not_applicable]
    text += [f"Rejected {h.id} at once: {h.reason}." for h in hyps if h.status == "rejected" and h.kind == "cause"]
    return {"hypotheses": dump(hyps), "transcript": [say("agent", t) for t in text]}


def steer(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    """Take new requests from the inbox into the queue, honour them in priority order, and judge again
    with any background results that finished meanwhile."""
    ctx = runtime.context
    v = view(state)
    known = {r.id for r in v.requests}
    v.requests += [r for r in read_inbox(ctx.run_dir) if r.id not in known]
    st = honour(v.pending_requests(), ctx.planner, v)
    update: dict = {"requests": dump(v.requests), "directives": dump(st.directives), "stop": st.stop}
    if st.design != v.design:
        update["design"] = st.design.model_dump(mode="json")
    if st.budget != v.budget:
        update["budget"] = st.budget.model_dump()
    if st.changed:
        update["hypotheses"] = dump(st.hypotheses[h] for h in st.changed)
    transcript = st.transcript
    after = v.model_copy(update={"hypotheses": list(st.hypotheses.values())})
    done, still = bgq.pickup(v.pending, ctx.queue, ctx.store, wait=False)
    if done:
        picked = [ResultRef.of(p, r).model_dump(mode="json") for p, r in done]
        merged = {**state, "results": merge_by_id(state.get("results", []), picked), "pending": dump(still),
                  "hypotheses": merge_by_id(state.get("hypotheses", []), update.get("hypotheses", []))}
        re = analyse(merged, runtime)
        update.update({"results": picked, "pending": dump(still),
                       **{k: re[k] for k in ("evidence", "hypotheses", "causal_tests")}})
        transcript.append(say("agent", f"Picked up {len(picked)} finished background result(s)."))
        transcript += re["transcript"]
        after = view({**merged, **{k: re[k] for k in ("evidence", "hypotheses")}, "requests": update["requests"]})
    reports, waiting = report_back([*v.asked, *st.asked], after)  # the requests' numbers, once they are in
    update["asked"], transcript = dump(waiting), transcript + [say("agent", t) for t in reports]
    if transcript:
        update["transcript"] = transcript
    return update


def plan(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    ctx = runtime.context
    v = view(state)
    step = ctx.planner.plan(v)
    asked = {(d.observable, d.tier) for d in v.directives}  # the scientist's requests may exceed the tier cap
    computes = [a for a in step.actions if a.kind == "compute" and a.observable in OBSERVABLES and a.tier is not None
                and (a.tier <= v.budget.tier_cap or (a.observable, a.tier) in asked)]
    planned, no_calc = plan_calcs(computes, v.series.members,
                                  ctx.background_tier if ctx.background else None)
    planned, dropped = fit_budget(planned, v.budget.left_s)
    cf_planned, cf_refs = causality.plan_causal_calcs([a for a in step.actions if a.kind == "causal_test"], v)
    planned, no_calc = planned + cf_planned, no_calc + cf_refs
    text = [step.reasoning]
    for obs, tier, why in dropped:
        no_calc.append(ResultRef.without_calc(obs, tier, "*", error=f"{SKIPPED_FOR_BUDGET} ({why})"))
        text.append(f"Skipped {obs} at tier {tier}: {why}.")
    if planned:
        bg = [p for p in planned if p.background]
        text.append(f"Estimated cost: {sum(p.estimate_s for p in planned if not p.background):.0f} s now for "
                    f"{len(planned) - len(bg)} calculation(s)"
                    + (f", plus {sum(p.estimate_s for p in bg):.0f} s in the background for {len(bg)}" if bg else "")
                    + f"; {v.budget.left_s:.0f} s of budget left.")
    remaining = [d for d in v.directives if not any(d.observable == a.observable and d.tier == a.tier for a in computes)]
    update: dict = {"plan": dump(planned), "results": dump(no_calc), "directives": dump(remaining),
                    "transcript": [say("planner", " ".join(text))], "step": v.step + 1}
    top = max((p.tier for p in planned), default=v.tier)
    if top > v.tier:
        update["tier"] = top
        update["escalations"] = dump([Escalation(tier=top, reason=step.reasoning, n_calcs=len(planned),
                                                 estimate_s=round(sum(p.estimate_s for p in planned), 1))])
    return update


def compute(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    ctx = runtime.context
    v = view(state)
    fg = [p for p in v.plan if not p.background]
    results = ctx.run([CalcSpec.model_validate(p.spec) for p in fg])
    refs = [ResultRef.of(p, r) for p, r in zip(fg, results)]
    used = _used_s(results)
    pending = list(v.pending)
    for p in (p for p in v.plan if p.background):
        ref, entry = bgq.start(ctx.queue, ctx.store, p)
        refs += [ref] if ref else []
        pending += [entry] if entry else []
    text = f"Computed {len(fg)} calculation(s) ({sum(1 for r in results if r.from_cache)} from the store), {used:.1f} s."
    if len(fg) < len(v.plan):
        text += f" {len(pending) - len(v.pending)} running in the background."
    for r in refs:
        if not r.success:
            text += f" {r.observable} at tier {r.tier} failed for {r.molecule}: {r.error}."
    return {"results": dump(refs), "plan": [], "pending": dump(pending), "budget": _spend(v.budget, used),
            "transcript": [say("agent", text)]}


def analyse(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    ctx = runtime.context
    v = view(state)
    evidence = series_evidence(v, ctx.store)
    before = {h.id: h.status for h in v.hypotheses}
    hyps = judge(v.hypotheses, evidence, v.crystal)
    tests = causality.causal_tests(v.model_copy(update={"hypotheses": hyps, "evidence": evidence}), ctx.store)
    if tests:  # two or more causes supported: a consequence is not named the root cause
        hyps = judge(v.hypotheses, evidence, v.crystal,
                     causality.consequences(causality.causal_verdicts(tests, hyps, evidence)))
    changes = [f"{h.id}: {before.get(h.id, 'new')} -> {h.status}" for h in hyps if before.get(h.id) != h.status]
    text = "Evidence: " + (" ".join(e.summary for e in evidence if e.id not in {x.id for x in v.evidence}) or
                           "nothing new.")
    if changes:
        text += " Status changes: " + "; ".join(changes) + "."
    out = [text, *owned_reversals(v.hypotheses, hyps, v.evidence, evidence)]  # my verdicts it overturned
    return {"evidence": dump(evidence), "hypotheses": dump(hyps), "causal_tests": dump(tests),
            "transcript": [say("agent", t) for t in out]}


def conclude(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    # the counterfactual tests as the results now stand (a test skipped for budget went straight here)
    tests = dump(causality.causal_tests(view(state), runtime.context.store))
    state = {**state, "causal_tests": merge_by_id(state.get("causal_tests", []), tests)}
    extra = model_contact.launch(view(state), runtime.context)  # the decisive contact's tier-4 check
    c = concl.build(view(model_contact.merged(state, extra)))
    return {**extra, "causal_tests": tests, "conclusion": c.model_dump(mode="json"), "transcript": extra.get("transcript", []) + [say(
        "agent", ("Provisional conclusion: " if c.provisional else "Conclusion: ") + c.summary
        + (" " + " ".join(c.changes) if c.changes else ""))]}


def design(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    """Confirmatory molecules (agent.design): ranked by how sharply they separate the hypotheses."""
    from .design import run_design

    ctx = runtime.context
    v = view(state)
    try:
        out = run_design(v, ctx.run, ctx.store, background=ctx.background)
    except Exception as exc:  # design is the last step: report what failed, keep the conclusion
        log.exception("design failed")
        return {"transcript": [say("agent", f"Design of confirmatory molecules failed: {exc}")], "proposals": [],
                "design": v.design.model_copy(update={"notes": [f"failed: {exc}"]}).model_dump(mode="json")}
    update = {"proposals": dump(out.proposals), "design": out.design.model_dump(mode="json"),
              "budget": _spend(v.budget, out.used_s), "transcript": [say("agent", t) for t in out.text]}
    if out.launch:  # the best candidate's adequate numbers (the design left out what already runs or is stored)
        entries = [bgq.start(ctx.queue, ctx.store, p, purpose="design")[1] for p in out.launch]
        update["pending"] = dump(v.pending + [e for e in entries if e])
    if out.changes and v.conclusion is not None:  # the report's "What changed" names them too
        update["conclusion"] = v.conclusion.model_copy(
            update={"changes": v.conclusion.changes + out.changes}).model_dump(mode="json")
    return update


def report(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    from .report import write_all

    write_all(view(state), runtime.context.run_dir, runtime.context.store)
    return {}


def await_background(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    """Collect background results: from this process's futures, else from the store (finished by a
    previous process), else run them now: side by side in the background pool (a resumed run's missing
    calculations use both cores as the first run's did), and what the pool cannot give, here."""
    ctx = runtime.context
    v = view(state)
    done, missing = bgq.pickup(v.pending, ctx.queue, ctx.store, wait=True)
    for e in missing:
        ctx.queue.submit(e.id, CalcSpec.model_validate(e.spec))
    pooled, lost = bgq.pickup(missing, ctx.queue, ctx.store, wait=True)
    if ctx.progress is not None:  # the pool's reruns reported as the foreground reports its own
        for _, r in pooled:
            ctx.progress(r)
    reruns = ctx.run([CalcSpec.model_validate(e.spec) for e in lost])
    refs = [ResultRef.of(e, r) for e, r in [*done, *pooled, *zip(lost, reruns)]]
    used = _used_s([r for _, r in done + pooled]) + _used_s(reruns)
    text = f"Background calculations finished: {len(refs)} result(s)" + (
        f" ({len(missing)} rerun after a restart)" if missing else "") + "."
    return {"results": dump(refs), "pending": [], "budget": _spend(v.budget, used),
            "transcript": [say("agent", text)]}


# ------------------------------------------------------------------ routers
def after_steer(state: GraphState) -> Literal["plan", "conclude"]:
    return "conclude" if state.get("stop") else "plan"


def after_plan(state: GraphState) -> Literal["compute", "conclude"]:
    return "compute" if state.get("plan") else "conclude"


def after_report(state: GraphState, runtime: Runtime[RunContext]) -> Literal["await_background", "__end__"]:
    return "await_background" if state.get("pending") and runtime.context.wait_background else END


def build_graph(checkpointer=None):
    g = StateGraph(GraphState, context_schema=RunContext)
    for node in (intake, hypothesise, steer, plan, compute, analyse, conclude, design, report, await_background):
        g.add_node(node.__name__, node)
    g.add_edge(START, "intake")
    g.add_edge("intake", "hypothesise")
    g.add_edge("hypothesise", "steer")
    g.add_conditional_edges("steer", after_steer)
    g.add_conditional_edges("plan", after_plan)
    g.add_edge("compute", "analyse")
    g.add_edge("analyse", "steer")
    g.add_edge("conclude", "design")
    g.add_edge("design", "report")
    g.add_conditional_edges("report", after_report)
    g.add_edge("await_background", "analyse")
    return g.compile(checkpointer=checkpointer)
