"""The investigation graph (LangGraph).

    intake -> hypothesise -> steer -> plan -> compute -> analyse -> steer -> plan ...
                                        \\-> conclude -> design -> report -> (await_background -> analyse ...) | END

- ``steer`` honours the scientist's queued requests before every planning step
  (interactive runs pause just before it).
- ``plan`` asks the planner (built-in or LLM) for typed actions and turns compute
  actions into specs through the task catalogue, with cost estimates and the budget.
- ``design`` proposes confirmatory molecules after the verdicts (:mod:`.design`), within
  the budget's ``design_s_limit``; observed crystal facts (a ``cif`` column in the series)
  are read at intake (:mod:`.crystal_facts`) and checked against every hypothesis.
- ``compute`` runs them through the executor and the result store; expensive
  tier-3+ dimer calculations may go to the background, and the conclusion is then
  provisional until ``await_background`` picks them up (in this process, or from
  the store on resume).
- ``design`` may launch the best candidate's adequate calculations that its budget left
  out in the background too (pending entries marked ``"purpose": "design"``: they do not
  make the conclusion provisional); the next design pass uses them and re-ranks.

Run settings (store, executor, planner, run directory) live in :class:`RunContext`
(LangGraph's context), not in the checkpointed state.
"""

from __future__ import annotations

import json
import logging
import time
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from ..tiers.harness import installed_cache_key
from ..tiers.errors import ErrorKind
from ..tiers.spec import CalcFailure, CalcResult, CalcSpec
from ..tiers.store import ResultStore
from . import conclusion as concl
from .evidence import judge, make_evidence
from .hypotheses import TEMPLATES, screen
from .observables import OBSERVABLES, NotApplicable, estimate_seconds, read_value, specs_for
from .state import (Action, GraphState, Hypothesis, PlannedCalc, Request, ValueRef, dump, merge_by_id, say,
                    view)

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
    futures: dict[str, Future] = field(default_factory=dict)
    _queue: list = field(default_factory=list)
    _worker: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit_background(self, spec: CalcSpec) -> Future:
        """Run ``spec`` in a daemon thread (one at a time, in order): leaving the process does not wait
        for it; a calculation cut short is found missing on resume and run again."""
        fut: Future = Future()
        with self._lock:
            self._queue.append((spec, fut))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._drain, name="tierchem-bg", daemon=True)
                self._worker.start()
        return fut

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                spec, fut = self._queue.pop(0)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(self.executor.submit(spec).result())
            except BaseException as exc:  # reported through the future
                fut.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            for _, fut in self._queue:
                fut.cancel()
            self._queue.clear()


def _ctx(runtime: Runtime) -> RunContext:
    return runtime.context


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
    update = {"step": 1, "tier": -1}
    try:
        from .crystal_facts import read_crystals

        crystal = read_crystals(s)
    except Exception as exc:  # the crystal facts are extra: never a dead run
        log.warning("crystal facts failed: %s", exc)
        crystal = {"warnings": [f"crystal analysis failed: {exc}"], "facts": [], "target_read": False}
    if crystal:
        update["crystal"] = crystal
        lines += [f"Crystal fact to explain: {f}" for f in crystal.get("facts", [])]
        lines += [f"Crystal warning: {w}" for w in crystal.get("warnings", [])]
    update["transcript"] = [say("agent", t) for t in lines]
    return update


def hypothesise(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    v = view(state)
    if v.hypotheses:
        return {}
    s = v.series
    target = s.target.mol()
    analogs = [a.mol() for a in s.analogs]
    screening = screen(target, analogs)
    hyps = screening.hypotheses
    extra = []
    try:
        extra = runtime.context.planner.propose_hypotheses(v.model_copy(update={"hypotheses": hyps}))
    except Exception as exc:  # the planner's own fallback failed too: go on with the library
        log.warning("hypothesis proposals failed: %s", exc)
    hyps = hyps + list(extra)
    text = [f"I hold {len(hyps)} hypotheses: " + "; ".join(
        f"{h.id} ({h.kind}{', ' + h.status if h.status != 'open' else ''})" for h in hyps) + "."]
    text += [f"Skipped {n}" for n in screening.not_applicable]
    text += [f"Rejected {h.id} at once: {h.reason}." for h in hyps if h.status == "rejected" and h.kind == "cause"]
    return {"hypotheses": dump(hyps), "transcript": [say("agent", t) for t in text]}


def steer(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    """Take new requests from the inbox into the queue, then honour them in priority order."""
    ctx = _ctx(runtime)
    v = view(state)
    requests = {r.id: r for r in v.requests}
    for r in read_inbox(ctx.run_dir):
        if r.id not in requests:
            requests[r.id] = r
    v.requests = list(requests.values())
    hyps = {h.id: h for h in v.hypotheses}
    directives = list(v.directives)
    transcript, stop = [], v.stop
    changed = set()
    design = dict(v.design)
    budget_update: dict = {}
    for req in v.pending_requests():
        try:
            step = ctx.planner.interpret(req.text, v)
        except Exception as exc:
            req.status, req.response = "failed", f"could not interpret: {exc}"
            transcript.append(say("agent", req.response))
            continue
        responses = [step.reasoning]
        for a in step.actions:
            if a.kind == "design_budget" and a.count is not None:
                budget_update = {"design_s_limit": float(a.count)}
                responses.append(f"Design budget: {a.count} s (estimated) per pass.")
                continue
            if a.kind in ("exclude", "allow", "candidates"):
                design = apply_design_action(a, design)
                responses.append(f"Design settings: exclude {', '.join(design.get('exclude', [])) or 'nothing'}, "
                                 f"{design.get('n_candidates', 'default number of')} candidates.")
                continue
            responses.append(apply_action(a, hyps, directives, v, changed))
            if a.kind == "stop":
                stop = True
        req.status, req.response = "done", " ".join(r for r in responses if r)
        transcript += [say("scientist", req.text), say("agent", req.response)]
    update: dict = {"requests": dump(v.requests), "directives": dump(directives), "stop": stop}
    if design != v.design:
        update["design"] = design
    if budget_update:
        update["budget"] = v.budget.model_copy(update=budget_update).model_dump()
    if changed:
        update["hypotheses"] = dump(hyps[h] for h in changed)
    picked, still = pickup_finished(v.pending, ctx)
    if picked:
        # background results that finished meanwhile (this process or an earlier one): judge again now
        merged = {**state, "results": merge_by_id(state.get("results", []), picked), "pending": still,
                  "hypotheses": merge_by_id(state.get("hypotheses", []), update.get("hypotheses", []))}
        re = analyse(merged, runtime)
        update.update({"results": picked, "pending": still, "evidence": re["evidence"],
                       "hypotheses": re["hypotheses"]})
        transcript.append(say("agent", f"Picked up {len(picked)} finished background result(s)."))
        transcript += re["transcript"]
    if transcript:
        update["transcript"] = transcript
    return update


def pickup_finished(pending: list[dict], ctx: RunContext) -> tuple[list[dict], list[dict]]:
    """Split pending background calculations into finished (refs) and still running."""
    picked, still = [], []
    for entry in pending:
        fut = ctx.futures.get(entry["id"])
        result = None
        if fut is not None and fut.done():
            try:
                result = fut.result()
            except Exception:
                result = None
            ctx.futures.pop(entry["id"], None)
        if result is None and entry.get("cache_key"):
            result = ctx.store.get(entry["cache_key"])
        if result is None:
            still.append(entry)
            continue
        p = PlannedCalc.model_validate({k: entry[k] for k in PlannedCalc.model_fields if k in entry})
        picked.append(result_ref(p, result))
    return picked, still


def apply_design_action(a: Action, design: dict) -> dict:
    """The design settings after an exclude / allow / candidates action."""
    design = dict(design)
    excl = set(design.get("exclude", []))
    if a.kind == "exclude":
        excl |= set(a.elements)
    elif a.kind == "allow":
        excl -= set(a.elements)
    elif a.kind == "candidates" and a.count:
        design["n_candidates"] = int(a.count)
    design["exclude"] = sorted(excl)
    return design


def apply_action(a: Action, hyps: dict[str, Hypothesis], directives: list[Action], v, changed: set) -> str:
    """Apply one steering action to the hypotheses / directives; returns what was done."""
    h = hyps.get(a.hypothesis_id or "")
    if a.kind in ("reject", "reopen", "priority", "explain") and h is None:
        return f"No hypothesis {a.hypothesis_id!r}."
    if a.kind == "add_hypothesis":
        n = 1 + sum(1 for x in hyps.values() if x.source == "scientist")
        cat = a.category if a.category in TEMPLATES else "other"
        obs = list(TEMPLATES[cat].observables) if cat in TEMPLATES else []
        new = Hypothesis(id=f"S{n}", category=cat, statement=a.text or "", source="scientist", observables=obs,
                         priority=a.priority or 2,
                         reason="" if obs else "no built-in observable tests this category; it stays open")
        hyps[new.id] = new
        changed.add(new.id)
        return f"Added {new.id} ({cat})" + (f", tested by {', '.join(u.observable for u in obs)}." if obs else
                                             ": no built-in observable tests it, so it stays open.")
    if a.kind == "reject":
        h.status, h.pinned, h.reason = "rejected", True, a.text or "rejected by the scientist"
        h.history.append(f"rejected by the scientist: {h.reason}")
        changed.add(h.id)
        return f"Rejected {h.id}."
    if a.kind == "reopen":
        h.status, h.pinned, h.reason = "open", False, a.text or "reopened by the scientist"
        h.history.append(h.reason)
        changed.add(h.id)
        if (a.text or "").startswith("pushback"):
            from .evidence import best_evidence

            for u in h.observables:
                e = best_evidence(v.evidence, u.observable)
                nxt = (e.tier + 1) if e else 0
                obs = OBSERVABLES.get(u.observable)
                while obs and nxt <= v.budget.tier_cap and not obs.use(nxt).computable:
                    nxt += 1
                if obs and nxt <= v.budget.tier_cap:
                    directives.append(Action(kind="compute", observable=u.observable, tier=nxt, hypothesis_id=h.id))
        return f"Reopened {h.id}."
    if a.kind == "priority":
        h.priority = int(a.priority if a.priority is not None else h.priority)
        changed.add(h.id)
        return f"{h.id} now has priority {h.priority}."
    if a.kind == "compute":
        if a.observable in OBSERVABLES and a.tier is not None:
            directives.append(a)
            return f"Queued {a.observable} at tier {a.tier}."
        return f"Cannot compute {a.observable!r} at tier {a.tier}."
    if a.kind == "explain":
        return explain(h, v)
    if a.kind == "stop":
        return "Stopping: I will conclude with what is known."
    return a.text or ""


def explain(h: Hypothesis, v) -> str:
    lines = [f"{h.id} [{h.category}, {h.kind}{', mechanism of ' + h.mechanism_of if h.mechanism_of else ''}] "
             f"is {h.status} (confidence {h.confidence:.2f}). {h.statement}"]
    if h.reason:
        lines.append(f"Why: {h.reason}")
    for u in h.observables:
        for e in sorted((e for e in v.evidence if e.observable == u.observable), key=lambda e: e.tier):
            lines.append(f"- {e.summary}")
    if h.history:
        lines.append("History: " + " | ".join(h.history[-4:]))
    return "\n".join(lines)


def plan(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    ctx = _ctx(runtime)
    v = view(state)
    step = ctx.planner.plan(v)
    asked = {(d.observable, d.tier) for d in v.directives}  # the scientist's requests may exceed the tier cap
    computes = [a for a in step.actions if a.kind == "compute" and a.observable in OBSERVABLES and a.tier is not None
                and (a.tier <= v.budget.tier_cap or (a.observable, a.tier) in asked)]
    text = [step.reasoning]
    planned: list[PlannedCalc] = []
    structural: list[dict] = []
    members = v.series.members
    for a in computes:
        for m in members:
            mol = m.mol()
            rid = f"{a.observable}@t{a.tier}:{m.name}"
            try:
                specs = specs_for(a.observable, mol, a.tier)
            except NotApplicable as na:
                structural.append({"id": rid, "observable": a.observable, "tier": a.tier, "molecule": m.name,
                                   "success": na.value is not None, "value": na.value, "cache_key": None,
                                   "error": None if na.value is not None else str(na), "note": str(na),
                                   "wall_time_s": 0.0, "from_cache": False})
                continue
            except Exception as exc:  # a builder that cannot place this molecule: data, not a crash
                structural.append({"id": rid, "observable": a.observable, "tier": a.tier, "molecule": m.name,
                                   "success": False, "value": None, "cache_key": None,
                                   "error": f"could not build the system: {exc}", "note": "", "wall_time_s": 0.0,
                                   "from_cache": False})
                continue
            spec = specs[0]
            bg = ctx.background and a.tier >= ctx.background_tier and spec.task == "interaction_energy"
            planned.append(PlannedCalc(spec=spec.model_dump(mode="json"), observable=a.observable, tier=a.tier,
                                       molecule=m.name, estimate_s=estimate_seconds(spec), background=bg))
    # the budget: cost estimates before running, dropping the most expensive first
    fg_cost = sum(p.estimate_s for p in planned)
    dropped = []
    while planned and fg_cost > v.budget.left_s:
        worst = max(planned, key=lambda p: p.estimate_s)
        planned = [p for p in planned if not (p.observable == worst.observable and p.tier == worst.tier)]
        dropped.append(f"{worst.observable} at tier {worst.tier}")
        fg_cost = sum(p.estimate_s for p in planned)
    for d in dict.fromkeys(dropped):
        structural.append({"id": f"{d}:budget", "observable": d.split(" at tier ")[0], "tier": int(d.split()[-1]),
                           "molecule": "*", "success": False, "value": None, "cache_key": None,
                           "error": "skipped: over budget", "note": "", "wall_time_s": 0.0, "from_cache": False})
        text.append(f"Skipped {d}: its estimated cost exceeds the {v.budget.left_s:.0f} s of budget left.")
    if planned:
        bg = [p for p in planned if p.background]
        text.append(f"Estimated cost: {sum(p.estimate_s for p in planned if not p.background):.0f} s now for "
                    f"{len(planned) - len(bg)} calculation(s)"
                    + (f", plus {sum(p.estimate_s for p in bg):.0f} s in the background for {len(bg)}" if bg else "")
                    + f"; {v.budget.left_s:.0f} s of budget left.")
    remaining = [d for d in v.directives if not any(d.observable == a.observable and d.tier == a.tier for a in computes)]
    update: dict = {"plan": dump(planned), "results": structural, "directives": dump(remaining),
                    "transcript": [say("planner", " ".join(text))], "step": v.step + 1}
    top = max((p.tier for p in planned), default=v.tier)
    if top > v.tier:
        update["tier"] = top
        update["escalations"] = [{"tier": top, "reason": step.reasoning, "n_calcs": len(planned),
                                  "estimate_s": round(sum(p.estimate_s for p in planned), 1), "time": time.time()}]
    return update


def compute(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    ctx = _ctx(runtime)
    v = view(state)
    fg = [p for p in v.plan if not p.background]
    bg = [p for p in v.plan if p.background]
    specs = [CalcSpec.model_validate(p.spec) for p in fg]
    results = run_specs(ctx, specs)
    refs, used = [], 0.0
    for p, r in zip(fg, results):
        refs.append(result_ref(p, r))
        if not r.from_cache:
            used += r.wall_time_s
    pending = list(v.pending)
    for p in bg:
        ref, entry = start_background(ctx, p)
        refs += [ref] if ref else []
        pending += [entry] if entry else []
    failed = [r for r in refs if not r["success"]]
    text = f"Computed {len(fg)} calculation(s) ({sum(1 for r in results if r.from_cache)} from the store)"
    text += f", {used:.1f} s."
    if bg:
        text += f" {len(pending) - len(v.pending)} running in the background."
    for r in failed:
        text += f" {r['observable']} at tier {r['tier']} failed for {r['molecule']}: {r['error']}."
    budget = v.budget.model_copy(update={"cpu_s_used": v.budget.cpu_s_used + used})
    return {"results": refs, "plan": [], "pending": pending, "budget": budget.model_dump(),
            "transcript": [say("agent", text)]}


def start_background(ctx: RunContext, p: PlannedCalc, **extra) -> tuple[dict | None, dict | None]:
    """Send ``p`` to the background: (its result ref if the store already has it, else None; its pending
    entry, with the cache key under which resume looks for it, else None)."""
    spec = CalcSpec.model_validate(p.spec)
    key = installed_cache_key(spec)
    hit = ctx.store.get(key) if key else None
    if hit is not None:
        return result_ref(p, hit), None
    entry = {**p.model_dump(mode="json"), "id": f"{p.observable}@t{p.tier}:{p.molecule}", "cache_key": key, **extra}
    ctx.futures[entry["id"]] = ctx.submit_background(spec)
    return None, entry


def run_specs(ctx: RunContext, specs: list[CalcSpec]) -> list[CalcResult]:
    """Run specs through the executor; an executor-level crash becomes a failed result, not a dead run."""
    if not specs:
        return []
    try:  # the executor runs each distinct spec once (several observables may read one result)
        return ctx.executor.map(specs, progress=ctx.progress)
    except Exception as exc:
        log.warning("executor failed on a batch (%s); running one by one", exc)
    out = []
    for spec in specs:
        try:
            out.append(ctx.executor.submit(spec).result())
        except Exception as exc:
            out.append(CalcResult(spec=spec, cache_key=spec.content_hash(), success=False,
                                  error=CalcFailure(kind=ErrorKind.UNKNOWN, message=f"{type(exc).__name__}: {exc}")))
    return out


def result_ref(p: PlannedCalc, r: CalcResult) -> dict:
    return {"id": f"{p.observable}@t{p.tier}:{p.molecule}", "observable": p.observable, "tier": p.tier,
            "molecule": p.molecule, "success": r.success, "cache_key": r.cache_key, "value": None,
            "error": None if r.success else f"{r.error.kind.value}: {r.error.message}",
            "wall_time_s": round(r.wall_time_s, 3), "from_cache": r.from_cache, "note": ""}


def analyse(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    ctx = _ctx(runtime)
    v = view(state)
    members = {m.name: m for m in v.series.members}
    target = v.series.target
    groups: dict[tuple[str, int], dict[str, dict]] = {}
    for r in v.results:
        if r["molecule"] in members:
            groups.setdefault((r["observable"], r["tier"]), {})[r["molecule"]] = r
    # the direction an observable is judged in comes from the hypotheses that use it
    directions = {u.observable: u.direction for h in v.hypotheses for u in h.observables}
    evidence = []
    for (name, tier), refs in sorted(groups.items()):
        obs = OBSERVABLES.get(name)
        if obs is None:
            continue
        vals = {mname: value_of(name, members[mname], ref, ctx.store) for mname, ref in refs.items()}
        if target.name not in vals:
            continue
        use = obs.use(tier)
        tref = vals[target.name]
        arefs = [vals[a.name] for a in v.series.analogs if a.name in vals]
        evidence.append(make_evidence(name, tier, obs.unit, directions.get(name, "differs"), tref, arefs,
                                      use.sigma, use.adequate, use.note))
    before = {h.id: h.status for h in v.hypotheses}
    hyps = judge(v.hypotheses, evidence, v.crystal)
    changes = [f"{h.id}: {before.get(h.id, 'new')} -> {h.status}" for h in hyps if before.get(h.id) != h.status]
    text = "Evidence: " + (" ".join(e.summary for e in evidence if e.id not in {x.id for x in v.evidence}) or
                           "nothing new.")
    if changes:
        text += " Status changes: " + "; ".join(changes) + "."
    return {"evidence": dump(evidence), "hypotheses": dump(hyps), "transcript": [say("agent", text)]}


def value_of(name: str, member, ref: dict, store: ResultStore) -> ValueRef:
    if ref.get("cache_key") is None:
        return ValueRef(molecule=member.name, value=ref.get("value"), note=ref.get("note") or ref.get("error") or "")
    if not ref["success"]:
        return ValueRef(molecule=member.name, value=None, cache_keys=[ref["cache_key"]], note=ref.get("error") or "")
    result = store.get(ref["cache_key"])
    if result is None:
        return ValueRef(molecule=member.name, value=None, cache_keys=[ref["cache_key"]],
                        note="result missing from the store")
    try:
        value = read_value(name, member.mol(), [result])
        return ValueRef(molecule=member.name, value=value, cache_keys=[result.cache_key])
    except NotApplicable as na:
        return ValueRef(molecule=member.name, value=na.value, cache_keys=[result.cache_key], note=str(na))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return ValueRef(molecule=member.name, value=None, cache_keys=[result.cache_key],
                        note=f"could not read {name}: {exc}")


def conclude(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    v = view(state)
    c = concl.build(v)
    return {"conclusion": c.model_dump(mode="json"),
            "transcript": [say("agent", ("Provisional conclusion: " if c.provisional else "Conclusion: ") + c.summary
                               + (" " + " ".join(c.changes) if c.changes else ""))]}


def design(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    """Confirmatory molecules (agent.design): ranked by how sharply they separate the hypotheses."""
    from . import design as dsn

    ctx = _ctx(runtime)
    v = view(state)
    try:
        out = dsn.run(v, lambda specs: run_specs(ctx, specs), ctx.store, background=ctx.background)
    except Exception as exc:  # design is the last step: report what failed, keep the conclusion
        log.exception("design failed")
        return {"transcript": [say("agent", f"Design of confirmatory molecules failed: {exc}")],
                "proposals": [], "design": {**v.design, "notes": [f"failed: {exc}"]}}
    used = out.pop("_used", 0.0)
    text = out.pop("_text", [])
    launch, changes = out.pop("_launch", []), out.pop("_changes", [])
    budget = v.budget.model_copy(update={"cpu_s_used": v.budget.cpu_s_used + used})
    update = {**out, "budget": budget.model_dump(), "transcript": [say("agent", t) for t in text]}
    if launch:  # the best candidate's adequate numbers (design.run left out what already runs or is stored)
        entries = [start_background(ctx, PlannedCalc.model_validate(p), purpose="design")[1] for p in launch]
        update["pending"] = v.pending + [e for e in entries if e]
    if changes and v.conclusion is not None:  # the report's "What changed" names them too
        update["conclusion"] = {**v.conclusion.model_dump(mode="json"), "changes": v.conclusion.changes + changes}
    return update


def report(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    from .report import write_all

    ctx = _ctx(runtime)
    write_all(view(state), ctx.run_dir, ctx.store)
    return {}


def await_background(state: GraphState, runtime: Runtime[RunContext]) -> dict:
    """Collect background results: from this process's futures, else from the store
    (finished by a previous process), else run them now."""
    ctx = _ctx(runtime)
    v = view(state)
    refs, used, rerun = [], 0.0, []
    for entry in v.pending:
        p = PlannedCalc.model_validate({k: entry[k] for k in PlannedCalc.model_fields if k in entry})
        fut = ctx.futures.pop(entry["id"], None)
        result = None
        if fut is not None:
            try:
                result = fut.result()
            except Exception as exc:
                log.warning("background calculation %s died: %s", entry["id"], exc)
        if result is None and entry.get("cache_key"):
            result = ctx.store.get(entry["cache_key"])
        if result is None:
            rerun.append((p, CalcSpec.model_validate(p.spec)))
            continue
        if not result.from_cache:
            used += result.wall_time_s
        refs.append(result_ref(p, result))
    if rerun:
        for (p, _), r in zip(rerun, run_specs(ctx, [s for _, s in rerun])):
            refs.append(result_ref(p, r))
            used += 0.0 if r.from_cache else r.wall_time_s
    text = f"Background calculations finished: {len(refs)} result(s)" + (
        f" ({len(rerun)} rerun after a restart)" if rerun else "") + "."
    budget = v.budget.model_copy(update={"cpu_s_used": v.budget.cpu_s_used + used})
    return {"results": refs, "pending": [], "budget": budget.model_dump(), "transcript": [say("agent", text)]}


# ------------------------------------------------------------------ routers
def after_steer(state: GraphState) -> Literal["plan", "conclude"]:
    return "conclude" if state.get("stop") else "plan"


def after_plan(state: GraphState) -> Literal["compute", "conclude"]:
    return "compute" if state.get("plan") else "conclude"


def after_report(state: GraphState, runtime: Runtime[RunContext]) -> Literal["await_background", "__end__"]:
    return "await_background" if state.get("pending") and runtime.context.wait_background else END


def build_graph(checkpointer=None):
    g = StateGraph(GraphState, context_schema=RunContext)
    g.add_node("intake", intake)
    g.add_node("hypothesise", hypothesise)
    g.add_node("steer", steer)
    g.add_node("plan", plan)
    g.add_node("compute", compute)
    g.add_node("analyse", analyse)
    g.add_node("conclude", conclude)
    g.add_node("design", design)
    g.add_node("report", report)
    g.add_node("await_background", await_background)
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


# ------------------------------------------------------------------ inbox
INBOX = "inbox.jsonl"


def write_inbox(run_dir: Path, text: str, priority: int = 5) -> Request:
    """Append a request to the run's inbox (durable at once; the steer node queues it)."""
    import uuid

    path = Path(run_dir) / INBOX
    seq = sum(1 for _ in path.open()) + 1 if path.exists() else 1
    req = Request(id=uuid.uuid4().hex[:10], seq=seq, text=text, priority=priority)
    with path.open("a") as fh:
        fh.write(json.dumps(req.model_dump(mode="json")) + "\n")
        fh.flush()
    return req


def read_inbox(run_dir: Path) -> list[Request]:
    path = Path(run_dir) / INBOX
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(Request.model_validate_json(line))
        except ValueError:
            continue  # a torn last line after a kill: the request was not acknowledged
    return out
