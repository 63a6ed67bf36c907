"""Design: confirmatory molecules ranked by how sharply they separate the hypotheses.

After the verdicts, the design step generates analogs of the target
(:func:`tierchem.chem.analogs.generate_analogs`, honouring the scientist's element
exclusions), computes for each the observables of the hypotheses that matter, and
ranks them by how differently those hypotheses predict the candidate will crystallise
(:mod:`.design_scoring` says how). A molecule all hypotheses agree on proves nothing.
The candidates and their calculations are in :mod:`.candidates`, the words (predicted
outcomes, experiments) in :mod:`.design_words`.

Cost
    Cheap observables (tiers 0-2) are computed for a pool of candidates (2 x the
    number asked); the expensive ones (tier 3+, e.g. the DFT sigma hole) only for
    the candidates that rank best on a cheap look (an inadequate cheap indicator of the
    same hypothesis stands in as a proxy: for ordering, and, flagged and half-weighted,
    for the candidates the budget leaves without the adequate number), within
    ``budget.design_s_limit`` estimated seconds per design pass (and the budget left).
    Everything runs through the executor and the result store, so a second pass (more
    candidates, an exclusion) reuses what was computed; cached results still count at
    their estimate, so a pass makes the same choice on a cold or a warm cache.

The best candidate
    If the top-ranked candidate's prediction rests on a proxy (or on nothing) because the
    design budget left its adequate observable out, the agent launches that calculation
    for this one candidate in the background (when background calculations are on and
    the budget left covers its estimate). A later pass (after ``await_background``, or on
    ``tierchem resume``) uses the result from the store whatever its estimate, re-ranks,
    and says what changed; if another candidate then comes first, it gets the same
    treatment, so the top of the ranking ends on adequate numbers.
"""

from __future__ import annotations

import logging
from typing import Callable

from ..tiers.spec import CalcResult, CalcSpec
from .background import stored_result
from .candidates import Candidate, Job, jobs_for, plan_launch, record
from . import design_scoring as scoring
from .design_scoring import (Predictor, choose_hypotheses, coverage, discrimination, predict, predictor_for,
                             rank_score, relative, value_key)
from .design_words import LOOK_FOR, experiment, outcome, pass_text
from .observables import estimate_seconds
from .state import (DesignHypothesis, DesignPass, DesignState, InvestigationView, Proposal, RankedName,
                    RigorousCalc)

log = logging.getLogger(__name__)

DEFAULT_CANDIDATES = 5
POOL_FACTOR = 2

Runner = Callable[[list[CalcSpec]], list[CalcResult]]


class _Pass:
    """One design pass's working set: the predictors, the candidates and how to format their outcomes."""

    def __init__(self, v: InvestigationView, preds: list[Predictor], usable: list[Candidate]):
        self.v, self.preds, self.usable = v, preds, usable
        self.heavy_target = sum(1 for s in v.series.target.mol().symbols if s != "H")
        self.fmt = {"target": v.series.target.name, "analogs": " and ".join(a.name for a in v.series.analogs)}
        self.by_id = {c.analog.inchikey: c for c in usable}
        self.estimated_s = 0.0                   # the estimate of what the expensive stage ran
        self.over_budget: list[Candidate] = []   # candidates it left with deferred calculations, best first

    def score(self, c: Candidate, with_proxy: bool = True) -> tuple[float, list, list]:
        """(rank score, position per predictor, how each was obtained: 'computed' | 'proxy' | None)."""
        ss, how = zip(*(predict(p, c.values, c.notes, with_proxy) for p in self.preds))
        got = [s for s in ss if s is not None]
        a = c.analog
        return (rank_score(discrimination(got), a.sa_score, a.heavy_atoms, self.heavy_target, coverage(how)),
                list(ss), list(how))

    def proposal(self, c: Candidate) -> Proposal:
        rank, ss, how = self.score(c)
        preds_out, look, refs = {}, [], []
        for p, s, hw in zip(self.preds, ss, how):
            k = value_key(p.observable, p.tier)
            x = c.values.get(k)
            rel = relative(float(x), p.target, p.analogs, p.direction) if isinstance(x, (int, float)) else None
            note = c.notes.get(k, "") if s is None else ""
            if hw == "proxy":
                note = (f"from the cheap proxy {p.proxy.observable} at tier {p.proxy.tier}, not adequate for a "
                        f"verdict; {p.observable} at tier {p.tier}: {c.notes.get(k, 'not computed')}")
                refs += c.keys.get(value_key(p.proxy.observable, p.proxy.tier), [])
            preds_out[p.hypothesis.id] = outcome(p.hypothesis, s, rel, self.fmt, note)
            refs += c.keys.get(k, [])
            if p.hypothesis.category in LOOK_FOR:
                look.append(LOOK_FOR[p.hypothesis.category])
        a = c.analog
        return Proposal(
            id=a.inchikey, smiles=a.smiles, name=a.name, transformation=a.transformation,
            description=a.description, discrimination=round(discrimination([s for s in ss if s is not None]), 3),
            sa_score=round(a.sa_score, 2), heavy_atoms=a.heavy_atoms, rank_score=round(rank, 3),
            coverage=round(coverage(how), 2),
            basis_kind={p.hypothesis.id: h for p, h in zip(self.preds, how)},
            positions={p.hypothesis.id: (None if s is None else round(s, 3)) for p, s in zip(self.preds, ss)},
            values={k: (round(x, 4) if isinstance(x, float) else x) for k, x in c.values.items()},
            experiment=experiment(a.smiles, a.name, c.mol, look, self.fmt), predictions=preds_out,
            evidence_refs=list(dict.fromkeys(refs)), basis={p.hypothesis.id: p.evidence_id for p in self.preds},
            rigorous={p.hypothesis.id: RigorousCalc(observable=p.observable, tier=p.tier,
                                                    status=c.rigorous[value_key(p.observable, p.tier)])
                      for p in self.preds if value_key(p.observable, p.tier) in c.rigorous})

    def ranked(self) -> list[Proposal]:
        out = sorted((self.proposal(c) for c in self.usable),
                     key=lambda d: (-d.rank_score, -d.discrimination, d.sa_score, d.smiles))
        for i, d in enumerate(out, start=1):
            d.rank = i
        return out

    def within_budget(self, limit_s: float, wanted: list[tuple[str, int]] | None = None,
                      defer: bool = True) -> tuple[list[Job], float, list[Candidate]]:
        """The ``wanted`` calculations (default: the expensive ones, tier 3+) for the best candidates of the
        cheap look, within ``limit_s`` estimated seconds: (jobs to run, their estimate, candidates left out,
        whose jobs are kept as deferred when ``defer``)."""
        if wanted is None:
            wanted = [(p.observable, p.tier) for p in self.preds if p.tier > scoring.CHEAP_TIER]
        chosen, spent, skipped = [], 0.0, []
        if not wanted:
            return chosen, spent, skipped
        for c in sorted(self.usable, key=lambda c: -self.score(c)[0]):
            jobs_c = [j for obs, tier in wanted for j in jobs_for([c], obs, tier, self.preds)]
            # cached results count at their estimate too, so a pass chooses the same candidates on a warm cache
            cost = sum(estimate_seconds(j.spec) for j in jobs_c)
            if spent + cost <= limit_s:
                chosen += jobs_c
                spent += cost
            elif jobs_c:
                skipped.append(c)
                c.deferred = jobs_c if defer else c.deferred
                for j in jobs_c:
                    c.notes[j.key] = "over the design budget"
        return chosen, spent, skipped

    def use_stored_for_best(self, store) -> tuple[list[Proposal], float, list[str]]:
        """Re-rank until the top candidate has no deferred calculation whose result the store holds (launched
        in the background by an earlier pass: it costs nothing whatever its estimate). Returns the ranking,
        the seconds of new calculation read, and what changed since the last pass."""
        before = {d.id: d.basis_kind for d in self.v.proposals}
        changes: list[str] = []
        used = 0.0
        scored = self.ranked()
        while scored and store is not None:
            c = self.by_id[scored[0].id]
            found = [(j, r) for j in c.deferred if (r := stored_result(store, j.spec)) is not None]
            if not found:
                break
            c.deferred = [j for j in c.deferred if all(j is not f for f, _ in found)]
            used += record([j for j, _ in found], [r for _, r in found])
            for j, r in found:
                c.rigorous[j.key] = "computed" if r.success else "failed"
                for p in self.preds:
                    was = before.get(c.analog.inchikey, {}).get(p.hypothesis.id, "computed")
                    if r.success and value_key(p.observable, p.tier) == j.key and was != "computed":
                        changes.append(f"{c.analog.name}: {p.hypothesis.id} prediction now from {j.observable} at "
                                       f"tier {j.spec.tier} (was {'a proxy' if was == 'proxy' else 'not computed'}).")
            scored = self.ranked()
        return scored, used, changes


def run_design(v: InvestigationView, runner: Runner, store=None, background: bool = False) -> DesignPass:
    """One design pass: the ranked proposals, the design record, the transcript lines, the background
    calculations to launch for the best candidate and what changed since the last pass."""
    n_want = int(v.design.n_candidates or DEFAULT_CANDIDATES)
    exclude = sorted(set(v.design.exclude))
    preds = [p for p in (predictor_for(h, role, v) for h, role in choose_hypotheses(v)) if p is not None]
    design = v.design.model_copy(update={
        "n_candidates": n_want, "exclude": exclude, "limit_s": v.budget.design_s_limit, "notes": [],
        "hypotheses": [DesignHypothesis(id=p.hypothesis.id, role=p.role, observable=p.observable, tier=p.tier,
                                        evidence=p.evidence_id) for p in preds]})
    if len(preds) < 2:
        msg = ("Design: fewer than two hypotheses with computed evidence, so no candidate can separate them; "
               "no confirmatory molecules proposed.")
        design.notes.append(msg)
        return DesignPass(proposals=[], design=design, text=[msg])
    from ..chem.analogs import generate_analogs

    pool = generate_analogs(v.series.target.smiles, [m.smiles for m in v.series.members], exclude,
                            max_candidates=min(50, POOL_FACTOR * n_want),
                            cache_dir=getattr(store, "content_dir", None))
    dp = _Pass(v, preds, [c for c in map(Candidate.embed, pool) if c.mol is not None])
    used = _stage(runner, dp)
    scored, used_stored, changes = dp.use_stored_for_best(store)
    used += used_stored
    if changes and v.proposals and scored[0].name != v.proposals[0].name:
        changes.append(f"The best candidate is now {scored[0].name} (was {v.proposals[0].name}).")
    deferred = [c.analog.name for c in dp.over_budget if c.deferred]  # less those the store has answered
    if deferred:
        expensive = ", ".join(p.observable for p in preds if p.tier > scoring.CHEAP_TIER)
        design.notes.append(f"Design budget ({min(v.budget.design_s_limit, v.budget.left_s):.0f} s estimated): "
                            f"{expensive} not computed for {', '.join(deferred)}.")
    launch = []
    if scored and dp.by_id[scored[0].id].deferred:
        launch = plan_launch(dp.by_id[scored[0].id], v, background, design.notes)
        scored = dp.ranked()  # its notes changed
    design.estimated_s = dp.estimated_s
    design.used_s = round(used, 1)
    design.notes += changes
    design.pool = len(pool)
    design.ranked = [RankedName(name=d.name, rank_score=d.rank_score) for d in scored]
    proposals = scored[:n_want]
    text = pass_text(v.series.target.name, len(pool), exclude, preds, used, design.notes, proposals, launch)
    return DesignPass(proposals=proposals, design=design, text=text, used_s=used, launch=launch, changes=changes)


def _stage(runner: Runner, dp: _Pass) -> float:
    """Compute what the pass can afford: the cheap observables (and the cheap proxies of the expensive
    ones) for the whole pool, then the expensive ones for the best candidates within the design budget.
    Returns the seconds of new calculation."""
    cheap = {(p.observable, p.tier) for p in dp.preds if p.tier <= scoring.CHEAP_TIER}
    cheap |= {(p.proxy.observable, p.proxy.tier) for p in dp.preds if p.proxy is not None}
    limit = min(dp.v.budget.design_s_limit, dp.v.budget.left_s)
    used = _run(runner, [j for obs, tier in sorted(cheap) if tier <= scoring.FREE_TIER
                         for j in jobs_for(dp.usable, obs, tier, dp.preds)])
    # the tier-2 look shares the design budget (a GFN2-xTB conformer search takes minutes for some
    # candidates), best candidates of the tier 0-1 look first
    used += _run(runner, dp.within_budget(limit, sorted(k for k in cheap if k[1] > scoring.FREE_TIER), defer=False)[0])
    chosen, spent, dp.over_budget = dp.within_budget(limit)
    dp.estimated_s = round(spent, 1)
    return used + _run(runner, chosen)


def _run(runner: Runner, jobs: list[Job]) -> float:
    return record(jobs, runner([j.spec for j in jobs])) if jobs else 0.0
