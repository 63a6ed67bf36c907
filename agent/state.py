"""The investigation's typed state.

Two layers:

- pydantic models (``SeriesMember``, ``Hypothesis``, ``Evidence``, ``Request``,
  ``Conclusion`` ...) that validate each item;
- ``GraphState``, the LangGraph state: a TypedDict of JSON-ready values (lists of
  the models' dumps) with reducers, so LangGraph's SQLite checkpointer stores it
  without custom serialisers and a run directory can be read by any tool.

``view(state)`` turns a graph state into an ``InvestigationView`` of models for
the nodes, planners and report; nodes return partial updates built with
``dump``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["target", "analog", "proposed"]
HypStatus = Literal["open", "supported", "rejected", "mechanism-of", "root-cause"]
Source = Literal["built-in", "llm", "scientist"]
Verdict = Literal["separates", "does_not_separate", "inconclusive", "opposite", "not_computed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeriesMember(_Model):
    name: str
    smiles: str
    role: Role = "analog"
    molecule: dict[str, Any] = Field(description="tierchem.chem.Molecule dump (geometry embedded once)")
    observed: dict[str, Any] = Field(default_factory=dict, description="observed crystal data, if any")

    def mol(self):
        from ..chem.molecule import Molecule

        return Molecule.model_validate(self.molecule)


class Series(_Model):
    source: str
    members: list[SeriesMember]
    skipped: list[str] = Field(default_factory=list, description="rows skipped, each with its reason")

    @property
    def target(self) -> SeriesMember:
        return next(m for m in self.members if m.role == "target")

    @property
    def analogs(self) -> list[SeriesMember]:
        return [m for m in self.members if m.role == "analog"]


class ObservableUse(_Model):
    """How a hypothesis is tested: an observable, its role, and the direction it predicts."""

    observable: str
    role: Literal["decisive", "indicator"] = "decisive"
    direction: Literal["higher", "lower", "differs"] = "differs"


class Hypothesis(_Model):
    id: str
    category: str
    statement: str
    kind: Literal["cause", "mechanism"] = "cause"
    mechanism_of: str | None = Field(None, description="id of the cause this mechanism serves")
    observables: list[ObservableUse] = Field(default_factory=list)
    status: HypStatus = "open"
    confidence: float = 0.0
    priority: int = 5
    source: Source = "built-in"
    reason: str = ""
    tier_reached: int = -1
    pinned: bool = Field(False, description="status set by the scientist: evidence does not override it")
    feature_checked: bool = Field(True, description="False after a reopen: skip the shared-feature rejection")
    history: list[str] = Field(default_factory=list, description="status changes with their reasons")


class ValueRef(_Model):
    molecule: str
    value: float | None
    cache_keys: list[str] = Field(default_factory=list)
    note: str = ""


class Evidence(_Model):
    """One observable compared across the series at one tier."""

    id: str
    observable: str
    tier: int
    unit: str
    direction: Literal["higher", "lower", "differs"]
    target: ValueRef
    analogs: list[ValueRef]
    sigma: float
    adequate: bool
    adequacy_note: str = ""
    effect: float | None = None
    z: float | None = None
    verdict: Verdict = "not_computed"
    summary: str = ""


class Request(_Model):
    """A scientist's request, waiting in the priority queue (lower priority number first)."""

    id: str
    seq: int
    text: str
    priority: int = 5
    status: Literal["pending", "done", "failed"] = "pending"
    response: str = ""
    created: float = Field(default_factory=time.time)


class Action(_Model):
    """A typed planner action. Both planners produce these; nothing else acts."""

    kind: Literal["compute", "add_hypothesis", "reject", "reopen", "priority", "explain",
                  "conclude", "stop", "note", "exclude", "allow", "candidates", "design_budget"]
    observable: str | None = None
    tier: int | None = None
    hypothesis_id: str | None = None
    category: str | None = None
    text: str | None = None
    priority: int | None = None
    elements: list[str] = Field(default_factory=list, description="element symbols, for exclude/allow")
    count: int | None = Field(None, description="how many confirmatory candidates ('candidates'), or seconds "
                                                "('design_budget')")


class PlanStep(_Model):
    """A planner's reply: its reasoning in sentences and the actions it takes."""

    reasoning: str
    actions: list[Action] = Field(default_factory=list)


class PlannedCalc(_Model):
    spec: dict[str, Any]
    observable: str
    tier: int
    molecule: str
    estimate_s: float
    background: bool = False


class MechanismLink(_Model):
    id: str
    category: str
    statement: str
    evidence: list[str] = Field(default_factory=list)


class Conclusion(_Model):
    provisional: bool = True
    root_cause: dict[str, Any] | None = None
    mechanism: list[dict[str, Any]] = Field(default_factory=list)
    rejected: list[dict[str, Any]] = Field(default_factory=list)
    open: list[dict[str, Any]] = Field(default_factory=list)
    confidence: str = "low"
    caveats: list[str] = Field(default_factory=list)
    predictions: list[str] = Field(default_factory=list)
    evidence_refs: list[str] = Field(default_factory=list)
    summary: str = ""
    changes: list[str] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list)


class Budget(_Model):
    cpu_s_limit: float = 1800.0
    cpu_s_used: float = 0.0
    tier_cap: int = 3
    design_s_limit: float = Field(90.0, description="estimated seconds one design pass may spend on new calculations")

    @property
    def left_s(self) -> float:
        return max(0.0, self.cpu_s_limit - self.cpu_s_used)


# --------------------------------------------------------------- reducers
def merge_by_id(old: list[dict] | None, new: list[dict] | None) -> list[dict]:
    """Upsert items by their ``id`` (order of first appearance kept)."""
    out = {item["id"]: item for item in (old or [])}
    for item in new or []:
        out[item["id"]] = item
    return list(out.values())


def append(old: list | None, new: list | None) -> list:
    return (old or []) + (new or [])


class GraphState(TypedDict, total=False):
    question: str
    series: dict
    hypotheses: Annotated[list[dict], merge_by_id]
    evidence: Annotated[list[dict], merge_by_id]
    requests: Annotated[list[dict], merge_by_id]
    transcript: Annotated[list[dict], append]
    plan: list[dict]            # PlannedCalc dumps waiting for the compute node
    results: Annotated[list[dict], merge_by_id]  # {id: cache_key, observable, tier, molecule, success, wall_time_s, from_cache, error}
    pending: list[dict]         # background PlannedCalc dumps with their cache_key
    budget: dict
    tier: int                   # the highest tier planned so far
    escalations: Annotated[list[dict], append]  # {tier, reason, estimate_s, n_calcs}
    conclusion: dict
    directives: list[dict]      # scientist-requested Action dumps waiting for the planner
    crystal: dict               # observed crystal facts (agent.crystal_facts.read_crystals)
    design: dict                # design settings: {"exclude": [...], "n_candidates": N} and the last pass's notes
    proposals: list[dict]       # ranked confirmatory molecules (agent.design)
    stop: bool
    step: int


class InvestigationView(BaseModel):
    """The graph state as models, for reading."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str = ""
    series: Series | None = None
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    requests: list[Request] = Field(default_factory=list)
    transcript: list[dict] = Field(default_factory=list)
    plan: list[PlannedCalc] = Field(default_factory=list)
    results: list[dict] = Field(default_factory=list)
    pending: list[dict] = Field(default_factory=list)
    budget: Budget = Field(default_factory=Budget)
    tier: int = -1
    escalations: list[dict] = Field(default_factory=list)
    conclusion: Conclusion | None = None
    directives: list[Action] = Field(default_factory=list)
    crystal: dict = Field(default_factory=dict)
    design: dict = Field(default_factory=dict)
    proposals: list[dict] = Field(default_factory=list)
    stop: bool = False
    step: int = 0

    def hypothesis(self, hid: str) -> Hypothesis | None:
        return next((h for h in self.hypotheses if h.id == hid), None)

    def pending_requests(self) -> list[Request]:
        return sorted((r for r in self.requests if r.status == "pending"), key=lambda r: (r.priority, r.seq))


def view(state: dict) -> InvestigationView:
    s = dict(state or {})
    return InvestigationView(
        question=s.get("question", ""),
        series=Series.model_validate(s["series"]) if s.get("series") else None,
        hypotheses=[Hypothesis.model_validate(h) for h in s.get("hypotheses", [])],
        evidence=[Evidence.model_validate(e) for e in s.get("evidence", [])],
        requests=[Request.model_validate(r) for r in s.get("requests", [])],
        transcript=list(s.get("transcript", [])),
        plan=[PlannedCalc.model_validate(p) for p in s.get("plan", [])],
        results=list(s.get("results", [])),
        pending=list(s.get("pending", [])),
        budget=Budget.model_validate(s.get("budget", {})),
        tier=s.get("tier", -1),
        escalations=list(s.get("escalations", [])),
        conclusion=Conclusion.model_validate(s["conclusion"]) if s.get("conclusion") else None,
        directives=[Action.model_validate(a) for a in s.get("directives", [])],
        crystal=dict(s.get("crystal") or {}),
        design=dict(s.get("design") or {}),
        proposals=list(s.get("proposals") or []),
        stop=bool(s.get("stop", False)),
        step=int(s.get("step", 0)),
    )


def dump(items) -> list[dict]:
    return [i.model_dump(mode="json") for i in items]


def say(speaker: str, text: str) -> dict:
    """A transcript entry."""
    return {"speaker": speaker, "text": text, "time": time.time()}
