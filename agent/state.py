"""The investigation's typed state.

Every record that travels between the agent's modules is a pydantic model here
(``SeriesMember``, ``Hypothesis``, ``Evidence``, ``ResultRef``, ``PendingCalc``,
``Proposal``, ``DesignState``, ``Conclusion`` ...). The state's fields are declared
once, on :class:`InvestigationView`, each with its LangGraph reducer;
:data:`GraphState` (the checkpointed TypedDict of JSON-ready values, so LangGraph's
SQLite saver stores it without custom serialisers and any tool can read a run
directory) is derived from that declaration.

``view(state)`` validates a graph state into an ``InvestigationView``; nodes return
partial updates built with ``dump``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal, TypedDict, get_type_hints

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
    """One molecule's value in a comparison. ``status``: ``computed`` (from a stored result), ``absent`` (the
    molecule lacks the feature: ``value`` is what that absence means, or None when it means nothing to
    compare, with the reason in ``note``), or ``failed`` (no value: a real failure, or a geometry unfit to
    be evidence, with the reason in ``note``)."""

    molecule: str
    value: float | None
    cache_keys: list[str] = Field(default_factory=list)
    note: str = ""
    status: Literal["computed", "absent", "failed"] = "computed"


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
    """A typed planner action. Both planners produce these; nothing else acts.

    ``pushback`` disputes a verdict: the hypothesis is reopened and its observables are queued one
    tier higher. ``candidates`` sets how many confirmatory molecules to propose (``count``);
    ``design_budget`` the estimated seconds one design pass may spend (``seconds``); ``budget`` the whole
    investigation's compute budget (``seconds``, Budget.cpu_s_limit). ``status`` reports where things stand;
    ``explain`` may name one ``observable``.
    """

    kind: Literal["compute", "add_hypothesis", "reject", "reopen", "pushback", "priority", "explain",
                  "conclude", "stop", "note", "exclude", "allow", "candidates", "design_budget", "budget",
                  "status", "causal_test"]
    observable: str | None = None
    tier: int | None = None
    hypothesis_id: str | None = None
    category: str | None = None
    text: str | None = None
    priority: int | None = None
    elements: list[str] = Field(default_factory=list, description="element symbols, for exclude/allow")
    count: int | None = Field(None, description="how many confirmatory candidates ('candidates')")
    seconds: float | None = Field(None, description="estimated seconds per design pass ('design_budget'), or the "
                                                    "whole compute budget ('budget')")
    decisive: bool = Field(False, description="compute: the decisive observable of a leading hypothesis (or the "
                                              "scientist's request); the budget drops lesser ones first")
    request_id: str | None = Field(None, description="compute: the scientist's request it answers (Request.id); "
                                                    "its result is reported back against that request")


class CausalTest(_Model):
    """Hypothesis ``tested``'s decisive observable on the target's counterfactual for ``removed`` (that
    hypothesis's feature taken away), at the tier of ``tested``'s verdict (agent.causality). ``status``:
    ``computed``; ``absent`` (the counterfactual lacks the feature: the value absence means); ``pending``
    (a calculation to plan); ``skipped`` (its calculation did not fit the budget); ``failed``; ``untestable``
    (no counterfactual, or the observable is not defined on it; ``note`` says why)."""

    id: str
    removed: str
    tested: str
    observable: str
    tier: int
    unit: str = ""
    direction: Literal["higher", "lower", "differs"] = "differs"
    molecule: str = Field("", description="the counterfactual's name in the results: '<target>~without:<category>'")
    changes: str = ""
    keeps: str = ""
    target: float | None = None
    counterfactual: float | None = None
    analogs: list[ValueRef] = Field(default_factory=list)
    sigma: float = 0.0
    z_target: float | None = None
    z_counterfactual: float | None = None
    survives: bool | None = Field(None, description="the separation survives the removal (z > 1); None: not known")
    status: Literal["computed", "absent", "pending", "skipped", "failed", "untestable"] = "pending"
    note: str = ""


class CausalPair(_Model):
    """The verdict on two supported causes from their counterfactual tests: ``consequence`` (``consequence``
    acts through ``root``), ``independent`` or ``undecided``; ``prior`` says how the template prior stood."""

    id: str
    pair: list[str]
    verdict: Literal["consequence", "independent", "undecided"]
    root: str | None = None
    consequence: str | None = None
    reason: str = ""
    prior: Literal["agrees", "overturned", "none"] = "none"
    tests: list[str] = Field(default_factory=list, description="CausalTest ids")
    larger: str | None = Field(None, description="when no consequence is shown: the cause worth clearly more in "
                                                 "the crystal's energy (agent.causality.energy_stake), if either")


class PlanStep(_Model):
    """A planner's reply: its reasoning in sentences and the actions it takes."""

    reasoning: str
    actions: list[Action] = Field(default_factory=list)


def result_id(observable: str, tier: int, molecule: str) -> str:
    """The one id of an observable computed at a tier for a molecule ('*': the whole series)."""
    return f"{observable}@t{tier}:{molecule}"


class PlannedCalc(_Model):
    """A calculation the plan (or the design) will run for one observable, tier and molecule."""

    spec: dict[str, Any]
    observable: str
    tier: int
    molecule: str
    estimate_s: float
    background: bool = False
    decisive: bool = Field(False, description="from its action: dropped for budget only after the lesser ones")

    @property
    def ref_id(self) -> str:
        return result_id(self.observable, self.tier, self.molecule)


class PendingCalc(PlannedCalc):
    """A background calculation: where resume looks for its result (``cache_key``), and what it is for
    (``design`` ones, on candidates, leave the conclusion final)."""

    id: str
    cache_key: str | None = None
    purpose: Literal["verdict", "design"] = "verdict"

    @classmethod
    def of(cls, p: PlannedCalc, cache_key: str | None, purpose: str = "verdict") -> "PendingCalc":
        return cls(**p.model_dump(), id=p.ref_id, cache_key=cache_key, purpose=purpose)

    def planned(self) -> PlannedCalc:
        return PlannedCalc(**self.model_dump(include=set(PlannedCalc.model_fields)))


class ResultRef(_Model):
    """What the investigation keeps of one calculation: the store key of its result, or why there is none.
    ``value`` is set only for values known without a calculation (a feature absent, a count)."""

    id: str
    observable: str
    tier: int
    molecule: str
    success: bool
    cache_key: str | None = None
    value: float | None = None
    error: str | None = None
    note: str = ""
    wall_time_s: float = 0.0
    from_cache: bool = False

    @classmethod
    def of(cls, p: PlannedCalc, r) -> "ResultRef":
        """The ref of ``p``'s result ``r`` (a tiers.spec.CalcResult)."""
        return cls(id=p.ref_id, observable=p.observable, tier=p.tier, molecule=p.molecule, success=r.success,
                   cache_key=r.cache_key, error=None if r.success else f"{r.error.kind.value}: {r.error.message}",
                   wall_time_s=round(r.wall_time_s, 3), from_cache=r.from_cache)

    @classmethod
    def without_calc(cls, observable: str, tier: int, molecule: str, *, value: float | None = None,
                     error: str | None = None, note: str = "") -> "ResultRef":
        """A ref with no calculation behind it: a value known by structure, or a reason nothing ran."""
        return cls(id=result_id(observable, tier, molecule), observable=observable, tier=tier, molecule=molecule,
                   success=error is None, value=value, error=error, note=note)


class Escalation(_Model):
    tier: int
    reason: str
    n_calcs: int
    estimate_s: float
    time: float = Field(default_factory=time.time)


class Utterance(_Model):
    """One transcript entry."""

    speaker: str
    text: str
    time: float = Field(default_factory=time.time)


class CrystalCheck(_Model):
    status: Literal["consistent", "inconsistent", "not_applicable"]
    reason: str


class ContactEnergy(_Model):
    """One contact class's part of a crystal's pair-sum lattice energy (agent.crystal_facts): the pairs whose
    most specific contact is of that class, each energy times its multiplicity, halved, per molecule."""

    contact: str = Field(description="contact class: hbond, halogen_bond, type_ii_xx, type_i_xx, halogen_halogen, "
                                     "pi_stack, other, beyond_shell (agent.crystal_views.CONTACT_CLASSES)")
    label: str
    energy_kcal_mol: float = Field(description="per molecule, negative = bound")
    fraction: float = Field(description="of the pair sum (the classes add up to it; a repulsive class is negative)")
    pair_classes: list[int] = Field(default_factory=list, description="chem.crystal_pairs pair classes in it")
    cache_keys: list[str] = Field(default_factory=list, description="store keys of those pairs' energies")
    adequate: bool = True
    adequacy_note: str = ""


class CrystalPairEnergies(_Model):
    """A member's crystal as pair energies at one level: the pair-sum lattice energy and its split by contact
    class, every number traceable to the stored interaction energies (``ContactEnergy.cache_keys``)."""

    member: str
    tier: int
    level: str = Field(description="as asked of tiers.crystal_energies: classical, xtb")
    method: str
    radius_angstrom: float
    lattice_energy_kcal_mol: float = Field(description="pair sum with the tin-foil surface term taken off")
    pair_sum_kcal_mol: float = Field(description="the spherical sum the contact classes add up to")
    surface_term_kcal_mol: float = 0.0
    sigma_kcal_mol: float = Field(description="uncertainty of one contact class's energy per molecule at the tier")
    n_pair_classes: int
    by_contact: list[ContactEnergy] = Field(default_factory=list)
    seconds: float = Field(0.0, description="wall time of this crystal's energies (a warm store makes it short)")
    framework_png: str | None = Field(None, description="energy-framework picture kept beside the store")
    notes: list[str] = Field(default_factory=list)

    def energy(self, contact: str) -> float:
        """kcal/mol per molecule carried by a contact class (0.0 when the crystal has no such pair)."""
        return next((c.energy_kcal_mol for c in self.by_contact if c.contact == contact), 0.0)


class CrystalEnergyCheck(_Model):
    """What the crystals' pair energies (or, for shape, the packing swaps) say about one hypothesis
    (agent.crystal_facts.energy_check)."""

    status: Literal["supports", "shared", "weak", "carries_nothing", "not_adequate", "not_applicable"]
    reason: str
    contacts: list[str] = Field(default_factory=list)
    target_kcal_mol: float | None = None
    analogs_kcal_mol: dict[str, float] = Field(default_factory=dict)
    tier: int | None = None
    sigma_kcal_mol: float | None = None


class PackingSwap(_Model):
    """A member's molecule in another member's packing against itself in its own (tiers.packing_swap):
    both relaxed alike (atoms, and the cell's size in 2 % steps), per molecule, kcal/mol."""

    molecule: str
    packing: str = Field(description="the member whose crystal's packing the molecule was put in")
    tier: int
    method: str
    penalty_kcal_mol: float = Field(description="E_cell/Z in that packing - in its own (positive: own is lower)")
    coulomb_kcal_mol: float | None = Field(None, description="the penalty's Coulomb part (classical tier); the "
                                                             "rest is van der Waals and intramolecular strain")
    scale: float = Field(description="the relaxed cell's lengths over the swapped-in starting cell's")
    own_scale: float
    sigma_kcal_mol: float
    cache_keys: list[str] = Field(default_factory=list, description="the stored results of both arms' chosen cells")
    warnings: list[str] = Field(default_factory=list)

    @property
    def steric_kcal_mol(self) -> float | None:
        """The penalty less its Coulomb part: van der Waals and strain, where a misfit of shape shows."""
        return None if self.coulomb_kcal_mol is None else self.penalty_kcal_mol - self.coulomb_kcal_mol


class CrystalFacts(_Model):
    """Observed crystal facts (agent.crystal_facts.read_crystals): per-member summaries, the facts about the
    target's crystal that the hypotheses must explain, warnings, and each crystal's pair energies."""

    crystals: dict[str, dict[str, Any]] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    target_read: bool = False
    comparison: dict[str, Any] = Field(default_factory=dict)
    target_features: list[str] = Field(default_factory=list)
    target: str = ""
    pair_energies: dict[str, CrystalPairEnergies] = Field(default_factory=dict, description="by member name")
    energy_seconds: float = Field(0.0, description="wall time the pair energies took (for the budget)")
    swaps: list[PackingSwap] = Field(default_factory=list, description="the target in each analog's packing, "
                                     "and each analog in the target's (agent.packing_facts)")
    swap_seconds: float = 0.0
    surface_shares: dict[str, dict[str, float]] = Field(default_factory=dict, description="member -> element pair -> "
                                                        "% of its Hirshfeld surface (agent.surface_facts)")
    fingerprint_png: str | None = Field(None, description="the crystals' Hirshfeld fingerprints side by side")


class DesignHypothesis(_Model):
    """A hypothesis a design pass reads a candidate through: its role and predictor."""

    id: str
    role: str
    observable: str
    tier: int
    evidence: str


class RigorousCalc(_Model):
    """The best candidate's adequate calculation beyond the design budget, and where it stands."""

    observable: str
    tier: int
    status: str   # computed | running | failed | not launched: <why>


class Proposal(_Model):
    """A ranked confirmatory molecule with the experiment and each hypothesis's predicted outcome."""

    id: str
    rank: int = 0
    smiles: str
    name: str
    transformation: str
    description: str
    discrimination: float
    sa_score: float
    heavy_atoms: int
    rank_score: float
    coverage: float
    basis_kind: dict[str, str | None] = Field(default_factory=dict, description="hypothesis -> computed|proxy|None")
    positions: dict[str, float | None] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    experiment: str = ""
    predictions: dict[str, str] = Field(default_factory=dict)
    evidence_refs: list[str] = Field(default_factory=list)
    basis: dict[str, str] = Field(default_factory=dict, description="hypothesis -> evidence id")
    rigorous: dict[str, RigorousCalc] = Field(default_factory=dict)


class RankedName(_Model):
    name: str
    rank_score: float


class DesignState(_Model):
    """The scientist's design settings and the last design pass's record."""

    exclude: list[str] = Field(default_factory=list)
    n_candidates: int | None = None
    hypotheses: list[DesignHypothesis] = Field(default_factory=list)
    limit_s: float | None = None
    notes: list[str] = Field(default_factory=list)
    estimated_s: float | None = None
    used_s: float | None = None
    pool: int | None = None
    ranked: list[RankedName] = Field(default_factory=list)


class DesignPass(_Model):
    """What one design pass returns to the graph."""

    proposals: list[Proposal]
    design: DesignState
    text: list[str] = Field(default_factory=list, description="transcript lines")
    used_s: float = 0.0
    launch: list[PlannedCalc] = Field(default_factory=list, description="background calculations to start")
    changes: list[str] = Field(default_factory=list, description="what changed since the last pass")


class RootCause(_Model):
    category: str
    id: str
    statement: str
    confidence: float
    evidence: str
    tier: int


class MechanismStep(RootCause):
    mechanism_of: str


class RejectedHypothesis(_Model):
    category: str
    id: str
    reason: str


class OpenHypothesis(_Model):
    category: str
    id: str
    status: str
    reason: str


class Conclusion(_Model):
    provisional: bool = True
    root_cause: RootCause | None = None
    mechanism: list[MechanismStep] = Field(default_factory=list)
    cause_and_consequence: list[CausalPair] = Field(default_factory=list, description="counterfactual verdicts on "
                                                    "pairs of supported causes (agent.causality)")
    causal_tests: list[CausalTest] = Field(default_factory=list)
    rejected: list[RejectedHypothesis] = Field(default_factory=list)
    open: list[OpenHypothesis] = Field(default_factory=list)
    confidence: Literal["high", "medium", "low", "undetermined"] = "undetermined"
    confidence_reason: str = Field("", description="the weakest link of the argument, in words")
    deciding_calculation: str = Field("", description="the calculation that would decide (when undetermined) or "
                                                      "raise the confidence, with where it stands")
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


class InvestigationView(BaseModel):
    """The investigation's state, as models: the one declaration of its fields.

    A field annotated ``Annotated[..., reducer]`` is merged by that reducer when a node returns it
    (LangGraph); any other field is replaced.
    """

    model_config = ConfigDict(extra="ignore")

    question: str = ""
    series: Series | None = None
    hypotheses: Annotated[list[Hypothesis], merge_by_id] = Field(default_factory=list)
    evidence: Annotated[list[Evidence], merge_by_id] = Field(default_factory=list)
    requests: Annotated[list[Request], merge_by_id] = Field(default_factory=list)
    transcript: Annotated[list[Utterance], append] = Field(default_factory=list)
    plan: list[PlannedCalc] = Field(default_factory=list, description="waiting for the compute node")
    results: Annotated[list[ResultRef], merge_by_id] = Field(default_factory=list)
    pending: list[PendingCalc] = Field(default_factory=list, description="background calculations")
    budget: Budget = Field(default_factory=Budget)
    tier: int = Field(-1, description="the highest tier planned so far")
    escalations: Annotated[list[Escalation], append] = Field(default_factory=list)
    conclusion: Conclusion | None = None
    directives: list[Action] = Field(default_factory=list, description="scientist-requested actions for the planner")
    asked: list[Action] = Field(default_factory=list, description="requested computes awaiting their report back")
    crystal: CrystalFacts | None = None
    causal_tests: Annotated[list[CausalTest], merge_by_id] = Field(default_factory=list)
    design: DesignState = Field(default_factory=DesignState)
    proposals: list[Proposal] = Field(default_factory=list, description="ranked confirmatory molecules")
    stop: bool = False
    step: int = 0

    def hypothesis(self, hid: str) -> Hypothesis | None:
        return next((h for h in self.hypotheses if h.id == hid), None)

    def pending_requests(self) -> list[Request]:
        return sorted((r for r in self.requests if r.status == "pending"), key=lambda r: (r.priority, r.seq))


def _graph_state_schema() -> type:
    """The LangGraph state: each view field as JSON-ready data, with the field's reducer if it has one."""
    fields = {}
    for name, hint in get_type_hints(InvestigationView, include_extras=True).items():
        if name not in InvestigationView.model_fields:
            continue
        reducers = [m for m in getattr(hint, "__metadata__", ()) if callable(m)]
        fields[name] = Annotated[Any, reducers[0]] if reducers else Any
    return TypedDict("GraphState", fields, total=False)


GraphState = _graph_state_schema()


def view(state: dict) -> InvestigationView:
    """The graph state validated into models."""
    return InvestigationView.model_validate({k: v for k, v in dict(state or {}).items() if v is not None})


def dump(items) -> list[dict]:
    return [i.model_dump(mode="json") for i in items]


def say(speaker: str, text: str) -> dict:
    """A transcript entry, ready for a state update."""
    return Utterance(speaker=speaker, text=text).model_dump(mode="json")
