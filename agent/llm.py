"""The LLM planner: any LangChain chat model, acting only through typed actions.

``make_planner(spec)``:

- ``None`` / ``"built-in"``: the built-in planner (default, offline);
- ``"openai:gpt-4o"``, ``"anthropic:claude-..."``, ``"ollama:llama3.1"``: the provider's LangChain client
  (``langchain-openai``, ``langchain-anthropic``, ``langchain-ollama``; the ``llm`` extra);
- ``"http://host:port/v1@model"``: any OpenAI-compatible server through ``langchain-openai``;
- a LangChain chat model object (tests use fake models).

Keys come only from the environment (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
``TIERCHEM_LLM_API_KEY`` for OpenAI-compatible URLs); they are never put in the
state, the settings file, the log or the report. ``TIERCHEM_LLM`` names the model
when ``--llm`` is not given.

Each step asks for a pydantic model through ``.with_structured_output``; a reply
that fails, or that validates to nothing usable (unknown observables, tiers
above the cap), is retried, and then the built-in planner takes over for that
step and the run goes on. The reasoning says which planner acted.

Each model reply is recorded in the run directory (``llm_replies.jsonl``: the prompt's digest, the model's
name, the structured reply or the failure; never a key), and so is each steering request the planner
interpreted, with the step it was honoured at. :class:`RecordedReplies` answers from such a record in the
same order, so ``tierchem replay RUN_DIR`` re-runs an LLM-driven investigation offline and reaches the
same conclusion.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, Field

from .hypotheses import CATEGORIES
from .observables import OBSERVABLES
from .planner import BuiltinPlanner, parse_command, parse_design_command
from .state import Action, Hypothesis, InvestigationView, ObservableUse, PlanStep

log = logging.getLogger(__name__)

STEER_VERBS = {"add", "reject", "reopen", "pushback", "priority", "calc", "why", "stop", "help",
               "exclude", "allow", "more", "candidates", "design", "status", "budget"}
ACTION_KINDS = get_args(Action.model_fields["kind"].annotation)
REPLIES = "llm_replies.jsonl"


def prompt_digest(messages) -> str:
    """A short digest of the messages sent to the model (the record keeps this, not the prompt)."""
    return hashlib.sha256(json.dumps([list(m) for m in messages], default=str).encode()).hexdigest()[:16]


class RecordedFailure(RuntimeError):
    """A model failure read back from a record; ``kind`` is the original exception's type name."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class RecordedReplies:
    """A stand-in for a chat model that answers from a run's record, in order: no network, no key.

    ``requests``: the steering requests of the recorded run, each with the step it was honoured at.
    ``mismatched`` counts prompts whose digest differs from the record's (budget figures can).
    """

    def __init__(self, path: str | Path):
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path.parent}: no record of model replies ({path.name}); only runs driven by "
                                    "an LLM are recorded")
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        self.replies = [e for e in entries if e.get("kind") == "reply"]
        self.requests = [e for e in entries if e.get("kind") == "request"]
        self.model = next((e["model"] for e in self.replies), "recorded")
        self.used = self.mismatched = 0

    def with_structured_output(self, schema: type[BaseModel]) -> "_Replay":
        return _Replay(self, schema)

    def answer(self, schema: type[BaseModel], messages) -> BaseModel:
        if self.used >= len(self.replies):
            raise RecordedFailure("RecordExhausted", f"the record holds only {len(self.replies)} replies")
        e = self.replies[self.used]
        self.used += 1
        if e["schema"] != schema.__name__:
            raise RecordedFailure("RecordMismatch", f"reply {self.used} of the record is a {e['schema']}, "
                                                    f"not a {schema.__name__}")
        if e["digest"] != prompt_digest(messages):
            self.mismatched += 1
            log.info("prompt %d differs from the record's (digest %s); the recorded reply is used",
                     self.used, e["digest"])
        if "error" in e:
            raise RecordedFailure(e.get("error_kind", "Exception"), e["error"])
        return schema.model_validate(e["reply"])


class _Replay:
    def __init__(self, record: RecordedReplies, schema: type[BaseModel]):
        self.record, self.schema = record, schema

    def invoke(self, messages):
        return self.record.answer(self.schema, messages)


class ProposedHypothesis(BaseModel):
    statement: str
    category: str = Field(description=f"one of: {', '.join(CATEGORIES)}")
    observables: list[str] = Field(default_factory=list, description="observable names from the catalogue")
    direction: str = Field("differs", description="higher | lower | differs: how the target must differ")


class HypothesisProposals(BaseModel):
    reasoning: str
    hypotheses: list[ProposedHypothesis] = Field(default_factory=list)


SYSTEM = (
    "You are the planner of tierchem, a computational-chemistry investigation of why a target molecule packs "
    "differently from its analogs. You act only through typed actions on a task catalogue; you never run code. "
    "Escalate tiers cheaply first (0 RDKit, 1 classical force field, 2 GFN2-xTB, 3 DFT, 4 correlated). "
    "Observables and the tiers where each can be computed (adequate tiers marked *):\n"
)


def _catalogue() -> str:
    lines = []
    for o in OBSERVABLES.values():
        tiers = ", ".join(f"{t}{'*' if u.adequate else ''}" for t, u in sorted(o.tiers.items()) if u.computable)
        lines.append(f"- {o.name} [{o.unit}] tiers {tiers}: {o.description}")
    return "\n".join(lines)


def _summary(v: InvestigationView) -> str:
    s = v.series
    hyps = "\n".join(f"- {h.id} ({h.category}, {h.kind}, {h.status}): {h.statement} {h.reason[:200]}"
                     for h in v.hypotheses)
    ev = "\n".join(f"- {e.summary}" for e in v.evidence)
    done = sorted({f"{r.observable}@{r.tier}" for r in v.results})
    return (f"Question: {v.question}\nTarget: {s.target.name} ({s.target.smiles}); analogs: "
            + ", ".join(f"{a.name} ({a.smiles})" for a in s.analogs)
            + f"\nTier cap {v.budget.tier_cap}; budget left {v.budget.left_s:.0f} s.\nHypotheses:\n{hyps}\n"
            f"Evidence:\n{ev or '(none yet)'}\nAlready computed: {', '.join(done) or 'nothing'}\n")


class LLMPlanner:
    """Plans with a chat model; falls back to the built-in planner step by step."""

    def __init__(self, model, name: str = "llm", retries: int = 2, record: Path | None = None):
        self.model = model
        self.name = name
        self.retries = retries
        self.record = record  # the run's llm_replies.jsonl (set by the session); None: not recorded
        self.fallback = BuiltinPlanner()
        self.fallbacks = 0

    def _write(self, entry: dict) -> None:
        if self.record is not None:
            with Path(self.record).open("a") as fh:
                fh.write(json.dumps(entry) + "\n")

    def _invoke(self, schema: type[BaseModel], messages) -> BaseModel:
        """One model call as a ``schema`` instance; the reply (or the failure) is recorded."""
        entry = {"kind": "reply", "schema": schema.__name__, "digest": prompt_digest(messages), "model": self.name}
        try:
            reply = self.model.with_structured_output(schema).invoke(messages)
            if isinstance(reply, dict):
                reply = schema.model_validate(reply)
            if not isinstance(reply, schema):
                raise ValueError(f"expected {schema.__name__}, got {type(reply).__name__}")
        except Exception as exc:
            first = (str(exc).splitlines() or [""])[0][:300]
            self._write({**entry, "error_kind": getattr(exc, "kind", type(exc).__name__), "error": first})
            raise
        self._write({**entry, "reply": reply.model_dump(mode="json")})
        return reply

    def _ask(self, schema: type[BaseModel], prompt: str, validate) -> Any:
        last = None
        for attempt in range(1 + self.retries):
            try:
                return validate(self._invoke(schema, [("system", SYSTEM + _catalogue()), ("human", prompt)]))
            except Exception as exc:  # malformed, invalid or failed: retry, then fall back
                last = exc
                log.warning("%s reply %d/%d unusable: %s", self.name, attempt + 1, 1 + self.retries,
                            (str(exc).splitlines() or [""])[0][:200])
        self.fallbacks += 1
        raise RuntimeError(f"no usable reply after {1 + self.retries} tries "
                           f"({getattr(last, 'kind', type(last).__name__)})")

    # ------------------------------------------------------------------ steps
    def propose_hypotheses(self, v: InvestigationView) -> list[Hypothesis]:
        prompt = (_summary(v) + "\nPropose up to three further hypotheses not already held, each with a "
                  "category and the observables (catalogue names) that would test it.")

        def validate(reply: HypothesisProposals) -> list[Hypothesis]:
            out = []
            for k, p in enumerate(reply.hypotheses, start=1):
                obs = [o for o in p.observables if o in OBSERVABLES]
                if p.category not in CATEGORIES:
                    p.category = "other"
                direction = p.direction if p.direction in ("higher", "lower", "differs") else "differs"
                out.append(Hypothesis(id=f"L{k}", category=p.category, statement=p.statement, source="llm",
                                      observables=[ObservableUse(observable=o, direction=direction) for o in obs],
                                      reason="" if obs else "proposed without a computable observable; stays open"))
            return out

        try:
            return self._ask(HypothesisProposals, prompt, validate)
        except RuntimeError as exc:
            log.warning("built-in planner takes over the hypothesis step: %s", exc)
            return self.fallback.propose_hypotheses(v)

    def plan(self, v: InvestigationView) -> PlanStep:
        prompt = (_summary(v) + "\nChoose the next calculations (kind='compute' with observable and tier) for "
                  "live hypotheses, or kind='conclude' if no calculation could change a verdict. Explain why.")
        done = {(r.observable, r.tier) for r in [*v.results, *v.pending]}

        def validate(step: PlanStep) -> PlanStep:
            good, dropped = [], []
            for a in step.actions:
                if a.kind == "conclude":
                    good.append(a)
                elif a.kind == "compute":
                    obs = OBSERVABLES.get(a.observable or "")
                    if obs is None or a.tier is None or not obs.use(a.tier).computable or a.tier > v.budget.tier_cap:
                        dropped.append(f"{a.observable}@{a.tier}")
                    elif (a.observable, a.tier) not in done:
                        good.append(a)
            if not good:
                raise ValueError("no valid action" + (f" (dropped {', '.join(dropped)})" if dropped else ""))
            note = f" (dropped invalid actions: {', '.join(dropped)})" if dropped else ""
            return PlanStep(reasoning=f"[{self.name}] {step.reasoning}{note}", actions=good)

        if v.stop or v.directives:
            return self.fallback.plan(v)  # the scientist's stop and calc requests are honoured as they are
        try:
            return self._ask(PlanStep, prompt, validate)
        except RuntimeError as exc:
            step = self.fallback.plan(v)
            return PlanStep(reasoning=f"[built-in planner, after the LLM failed: {exc}] {step.reasoning}",
                            actions=step.actions)

    def interpret(self, text: str, v: InvestigationView) -> PlanStep:
        """Commands go to the built-in parser; free text is mapped to the same actions by the model."""
        self._write({"kind": "request", "step": v.step, "text": text,
                     **next(({"priority": r.priority, "seq": r.seq} for r in v.requests if r.text == text
                             and r.status == "pending"), {})})
        if text.strip().split()[:1] and text.strip().split()[0].lower() in STEER_VERBS:
            return parse_command(text, v)
        try:  # 'no iodine' is a design command; 'no, ...' is free text for the model
            if parse_design_command(text.split()) is not None:
                return parse_command(text, v)
        except ValueError:
            pass
        ids = [h.id for h in v.hypotheses]
        prompt = (_summary(v) + f"\nThe scientist says: {text!r}\nMap this to actions, of the kinds "
                  f"{', '.join(ACTION_KINDS)}: add_hypothesis with text and category; reject/reopen/pushback/"
                  f"priority/explain with hypothesis_id from {ids} (pushback: the scientist disputes a verdict, "
                  "with the reason as text; explain may name one observable); compute with observable and tier; "
                  "exclude/allow with elements; candidates with count; design_budget (one design pass) and budget "
                  "(the whole investigation's compute) with seconds; status (where things stand); stop.")

        def validate(step: PlanStep) -> PlanStep:
            for a in step.actions:
                if a.hypothesis_id is not None and a.hypothesis_id not in ids and a.kind != "add_hypothesis":
                    raise ValueError(f"unknown hypothesis id {a.hypothesis_id!r}")
                if a.kind == "compute" and (a.observable not in OBSERVABLES or a.tier is None):
                    raise ValueError(f"unknown observable {a.observable!r}")
            return PlanStep(reasoning=f"[{self.name}] {step.reasoning}", actions=step.actions)

        try:
            return self._ask(PlanStep, prompt, validate)
        except RuntimeError as exc:
            step = parse_command(text, v)
            return PlanStep(reasoning=f"[built-in parser, after the LLM failed: {exc}] {step.reasoning}",
                            actions=step.actions)


# The environment variable each hosted provider's client reads its key from.
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def require_key(spec: str) -> None:
    """A ValueError naming the environment variable a hosted provider's key is missing from."""
    provider = spec.partition(":")[0].lower() if not spec.startswith(("http://", "https://")) else ""
    variable = KEY_VARIABLES.get(provider)
    if variable and not os.environ.get(variable, "").strip():
        raise ValueError(f"--llm {spec} needs an API key: set {variable} in the environment "
                         "(keys are read from the environment only), or leave out --llm for the built-in planner")


def chat_model(spec: str):
    """A LangChain chat model from a provider string; keys are read from the environment by the clients."""
    require_key(spec)
    if spec.startswith(("http://", "https://")):
        from langchain_openai import ChatOpenAI

        url, _, model = spec.partition("@")
        key = os.environ.get("TIERCHEM_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY") or "not-needed"
        return ChatOpenAI(base_url=url, model=model or "default", api_key=key, max_retries=0, timeout=60)
    provider, _, model = spec.partition(":")
    provider = provider.lower()
    try:
        if provider == "openai":
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(model=model, max_retries=1, timeout=120)
        if provider == "anthropic":
            from langchain_anthropic import ChatAnthropic

            return ChatAnthropic(model=model, max_retries=1, timeout=120)
        if provider == "ollama":
            from langchain_ollama import ChatOllama

            return ChatOllama(model=model)
    except ImportError as exc:
        raise ImportError(f"the {provider} LLM client is not installed ({exc.name}); "
                          "pip install 'tierchem[llm]'") from None
    raise ValueError(f"unknown LLM {spec!r}; use openai:MODEL, anthropic:MODEL, ollama:MODEL or http(s)://HOST/v1@MODEL")


def make_planner(llm=None):
    """The built-in planner, or an LLM planner for a provider string / chat model (TIERCHEM_LLM as default)."""
    if llm is None:
        llm = os.environ.get("TIERCHEM_LLM") or None
    if llm is None or llm == "built-in":
        return BuiltinPlanner()
    if isinstance(llm, str):
        name = llm.split("@")[-1] if llm.startswith("http") else llm
        return LLMPlanner(chat_model(llm), name=name)
    if isinstance(llm, RecordedReplies):
        return LLMPlanner(llm, name=llm.model)
    return LLMPlanner(llm, name=type(llm).__name__)


__all__ = ["LLMPlanner", "make_planner", "chat_model", "require_key", "HypothesisProposals", "ProposedHypothesis",
           "RecordedReplies", "prompt_digest", "REPLIES"]
