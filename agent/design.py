"""Design: confirmatory molecules ranked by how sharply they separate the hypotheses.

After the verdicts, the design step generates analogs of the target
(:func:`tierchem.chem.analogs.generate_analogs`, honouring the scientist's element
exclusions), computes for each the observables of the hypotheses that matter, and
ranks them by how differently those hypotheses predict the candidate will crystallise.
A molecule all hypotheses agree on proves nothing.

Which hypotheses
    The surviving ones (root cause, other supported causes, their mechanisms) and the
    strongest rejected alternative: the rejected cause whose best adequate observable
    comes closest to separating the target (largest z). With no surviving hypothesis,
    the open ones that have evidence.

What each hypothesis predicts
    Each hypothesis is read through one *predictor*: among its observables with
    adequate evidence, the one along which the target stands out most (largest z), at
    the cheapest adequate tier that has evidence (so the candidate's value is
    comparable with the series' values from the same level). A hypothesis says "the
    target packs differently because of property P", so it predicts that a candidate
    packs like the target if its P is target-like, like the analogs if analog-like.
    The *position* of a candidate value x is

        s = d_A' / (d_T' + d_A'),  d' = sqrt(d^2 + sigma^2)

    with d_T its distance to the target's value and d_A to the nearest analog's (on a
    one-sided axis when the target lies beyond its analogs in the predicted
    direction: a value beyond the target counts as target-like), padded by the tier's
    per-molecule uncertainty sigma. s = 1: packs like the target, 0: like the analogs,
    0.5: no prediction (also what a hypothesis whose own numbers do not separate the
    target yields). A candidate lacking the structural feature a hypothesis rests on
    (no Cl/Br/I for halogen bonding) gets s = 0 without a calculation.

Discrimination
    D = max(s) - min(s) over the hypotheses with a prediction: 0 when they all agree,
    up to ~1 when one says "like the target" and another "like the analogs".

Rank
    rank = D x A x S x C with accessibility A = 1 - (SA - 1)/18 (RDKit SA score 1 -> 1.0,
    10 -> 0.5), size S = 1 / (1 + max(0, heavy atoms - target's)/10) (ten extra heavy
    atoms halve it: a bigger change tests more than one thing and costs more to
    compute), coverage C = (predictions from the adequate observable + 0.5 x those
    from a cheap proxy) / hypotheses considered (a candidate left partly uncomputed by
    the design budget counts for less; its proxy-based prediction is flagged).

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
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..chem.molecule import Molecule
from ..tiers.harness import installed_cache_key
from ..tiers.spec import CalcResult, CalcSpec
from .evidence import best_evidence
from .hypotheses import TEMPLATES
from .observables import OBSERVABLES, NotApplicable, estimate_seconds, read_value, specs_for
from .state import Evidence, Hypothesis, InvestigationView, PlannedCalc

log = logging.getLogger(__name__)

DEFAULT_CANDIDATES = 5
POOL_FACTOR = 2
CHEAP_TIER = 2
LIKE_TARGET, LIKE_ANALOGS = 0.6, 0.4   # s thresholds for the outcome sentences
PROXY_WEIGHT = 0.5                      # a prediction from an inadequate cheap proxy counts half in C
STRONGER = 1.25                         # beyond the target by 25% of the target-analog gap: "strengthened"

Runner = Callable[[list[CalcSpec]], list[CalcResult]]


# ------------------------------------------------------------------ predictors
@dataclass
class Predictor:
    hypothesis: Hypothesis
    role: str                 # root-cause | supported | mechanism | alternative | open
    observable: str
    tier: int
    direction: str
    sigma: float
    unit: str
    target: float
    analogs: list[float]
    evidence_id: str
    proxy: Evidence | None = None   # a cheap (possibly inadequate) observable of the same hypothesis
    feature_absent: Callable[[Molecule], bool] | None = None


def _evidence_at(v: InvestigationView, observable: str, tier: int) -> Evidence | None:
    return next((e for e in v.evidence if e.observable == observable and e.tier == tier), None)


def _usable(e: Evidence | None) -> bool:
    return (e is not None and e.verdict != "not_computed" and e.target.value is not None
            and any(a.value is not None for a in e.analogs))


def predictor_for(h: Hypothesis, role: str, v: InvestigationView) -> Predictor | None:
    """The observable (and tier) through which ``h`` predicts a candidate; None if it has no usable evidence."""
    best: tuple[float, Evidence] | None = None
    for use in h.observables:
        obs = OBSERVABLES.get(use.observable)
        if obs is None:
            continue
        for tier in obs.adequate_tiers():  # cheapest adequate tier with evidence
            e = _evidence_at(v, use.observable, tier)
            if _usable(e):
                z = e.z if e.z is not None else -math.inf
                if best is None or z > best[0]:
                    best = (z, e)
                break
    if best is None:
        return None
    e = best[1]
    proxy = None
    if e.tier > CHEAP_TIER:
        cheap = [x for u in h.observables for x in v.evidence
                 if x.observable == u.observable and x.tier <= CHEAP_TIER and _usable(x)]
        proxy = max(cheap, key=lambda x: (x.z or -math.inf), default=None)
    template = TEMPLATES.get(h.category)
    absent = None
    if template is not None and template.feature is not None and template.feature(v.series.target.mol()):
        absent = lambda m, f=template.feature: not f(m)  # noqa: E731
    return Predictor(h, role, e.observable, e.tier, e.direction, e.sigma, e.unit, e.target.value,
                     [a.value for a in e.analogs if a.value is not None], e.id, proxy, absent)


def choose_hypotheses(v: InvestigationView) -> list[tuple[Hypothesis, str]]:
    """The hypotheses whose predictions a candidate must separate, with their roles."""
    by_id = {h.id: h for h in v.hypotheses}
    out: list[tuple[Hypothesis, str]] = []
    for h in v.hypotheses:
        if h.status == "root-cause":
            out.append((h, "root-cause"))
        elif h.status == "supported":
            out.append((h, "supported"))
        elif h.status == "mechanism-of" and by_id.get(h.mechanism_of or "") is not None:
            out.append((h, "mechanism"))
    if not out:
        out = [(h, "open") for h in v.hypotheses if h.status == "open" and predictor_for(h, "open", v)]
    rejected = []
    for h in v.hypotheses:
        if h.kind != "cause" or h.status != "rejected":
            continue
        p = predictor_for(h, "alternative", v)
        if p is not None:
            e = _evidence_at(v, p.observable, p.tier)
            rejected.append(((e.z if e and e.z is not None else -math.inf), h))
    if rejected:
        out.append((max(rejected, key=lambda zh: (zh[0], -zh[1].priority))[1], "alternative"))
    return out


# ------------------------------------------------------------------ arithmetic
def position(x: float, target: float, analogs: Sequence[float], sigma: float, direction: str) -> float:
    """Where a candidate's value lies between the analogs (0) and the target (1); see the module docstring."""
    sign = -1.0 if direction == "lower" else 1.0
    sigma = max(float(sigma), 1e-6)
    if direction != "differs" and analogs:
        xs, ts, a_edge = sign * x, sign * target, max(sign * a for a in analogs)
        if ts > a_edge:
            d_t, d_a = max(0.0, ts - xs), max(0.0, xs - a_edge)
        else:
            d_t, d_a = abs(xs - ts), min(abs(xs - sign * a) for a in analogs)
    else:
        d_t, d_a = abs(x - target), min((abs(x - a) for a in analogs), default=0.0)
    d_t, d_a = math.hypot(d_t, sigma), math.hypot(d_a, sigma)
    return d_a / (d_t + d_a)


def relative(x: float, target: float, analogs: Sequence[float], direction: str) -> float | None:
    """x as a fraction of the way from the nearest analog to the target (1 = at the target), or None."""
    if direction == "differs" or not analogs:
        return None
    sign = -1.0 if direction == "lower" else 1.0
    a_edge = max(sign * a for a in analogs)
    gap = sign * target - a_edge
    return None if gap <= 0 else (sign * x - a_edge) / gap


def discrimination(positions: Sequence[float]) -> float:
    """Spread of the hypotheses' predictions: 0 when they all agree."""
    return 0.0 if len(positions) < 2 else float(max(positions) - min(positions))


def rank_score(disc: float, sa: float, heavy: int, heavy_target: int, coverage: float = 1.0) -> float:
    accessibility = 1.0 - (min(max(sa, 1.0), 10.0) - 1.0) / 18.0
    size = 1.0 / (1.0 + max(0, heavy - heavy_target) / 10.0)
    return disc * accessibility * size * coverage


# ------------------------------------------------------------------ words
OUTCOMES: dict[str, tuple[str, str]] = {
    # key: hypothesis id or category -> (like the target, like the analogs)
    "halogen_bond": ("short C-X···X-C / C-X···A halogen contacts as in {target}'s crystal",
                     "no sigma-hole-driven halogen contacts; packs like {analogs}"),
    "halogen_bond.type_ii_contact": ("type II C-X···X-C contacts (C-X···X near 180° and 90°) as in {target}",
                                     "no type II X···X contacts; isostructural with {analogs} or another packing"),
    "halogen_bond.type_i_contact": ("type I (symmetric) C-X···X-C contacts as in {target}",
                                    "no type I X···X contacts"),
    "halogen_bond.xb_acceptor": ("linear C-X···A halogen bonds as in {target}", "no C-X···A halogen bonds"),
    "hbond_motif": ("the D-H···A motif of {target} (same dimer or chain)", "no such H-bond motif; packs like {analogs}"),
    "hbond_motif.hbond_dimer": ("the H-bonded dimer/chain of {target}", "no H-bonded dimer or chain"),
    "pi_stacking_quadrupole": ("offset face-to-face stacks as in {target}", "no stacks; packs like {analogs}"),
    "dispersion_polarisability": ("packs like {target} (similar polarisability): isostructural with {target}",
                                  "packs like {analogs} (polarisability like theirs)"),
    "dipole_antiparallel": ("antiparallel dipole pairs as in {target}", "no antiparallel dipole pairing"),
    "shape_sterics": ("packs like {target} (target-like shape)", "packs like {analogs} (analog-like shape)"),
    "conformational_flexibility": ("packs like {target} (comparable flexibility)", "packs like {analogs}"),
}
LOOK_FOR: dict[str, str] = {
    "halogen_bond": "C-X···X-C and C-X···A contacts shorter than the vdW sum and their C-X···X angles "
                    "(type II: ~180°/~90°; type I: equal)",
    "hbond_motif": "the D-H···A graph-set motif (R2,2(8) dimer vs C(n) chain)",
    "intramolecular_hbond": "whether the donor's H-bond is intra- or intermolecular",
    "pi_stacking_quadrupole": "face-to-face stacks (centroid distance, offset, interplanar angle)",
    "dispersion_polarisability": "density and packing coefficient, and whether the cell is isostructural with "
                                 "{target}'s or with the analogs' ({analogs})",
    "shape_sterics": "whether the cell is isostructural with {target}'s or with the analogs' ({analogs})",
    "dipole_antiparallel": "antiparallel dipole pairs",
    "conformational_flexibility": "the conformer adopted in the crystal",
}


def outcome(h: Hypothesis, s: float | None, rel: float | None, fmt: dict, note: str = "") -> str:
    if s is None:
        return "no prediction (not computed" + (f": {note}" if note else "") + ")"
    like, unlike = OUTCOMES.get(h.id) or OUTCOMES.get(h.category) or (
        "packs like {target}", "packs like {analogs}")
    if s >= LIKE_TARGET:
        text = like.format(**fmt)
        if rel is not None and rel >= STRONGER:
            text += ", strengthened (shorter, more linear contacts)" if h.category == "halogen_bond" \
                else ", more pronounced than in {target}".format(**fmt)
    elif s <= LIKE_ANALOGS:
        text = unlike.format(**fmt)
    else:
        text = "intermediate: no clear prediction (the value lies between the target's and the analogs')"
    return f"{text} (s = {s:.2f}{'; ' + note if note else ''})"


def experiment(smiles: str, name: str, mol: Molecule | None, look_for: list[str], fmt: dict) -> str:
    donors = bool(mol and any(s == "H" and any(mol.symbols[j] in ("N", "O") for a, b, _ in mol.bonds
                                                 for j in ((b,) if a == i else (a,) if b == i else ()))
                              for i, s in enumerate(mol.symbols)))
    heavy = sum(1 for s in (mol.symbols if mol else []) if s != "H")
    if donors:
        grow = "by slow evaporation from ethanol or ethyl acetate"
    else:
        grow = "by sublimation or slow evaporation from hexane/dichloromethane"
    if mol is not None and heavy <= 9 and not donors:
        grow += " (if it is liquid at room temperature: in situ cryo-crystallisation on the diffractometer)"
    what = "; ".join(dict.fromkeys(x.format(**fmt) for x in look_for)) or "the contacts and packing"
    return (f"Make or buy {name} ({smiles}); grow single crystals {grow}; solve the structure by single-crystal "
            f"X-ray diffraction (low temperature); look for: {what}; compare the cell with {fmt['target']}'s.")


# ------------------------------------------------------------------ the design pass
@dataclass
class _Cand:
    analog: object
    mol: Molecule | None = None
    values: dict[str, float | None] = field(default_factory=dict)    # observable@tier -> value
    notes: dict[str, str] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""
    deferred: list = field(default_factory=list)                     # jobs the design budget left out
    rigorous: dict[str, str] = field(default_factory=dict)           # observable@tier -> computed | running | ...


def _key(p_obs: str, tier: int) -> str:
    return f"{p_obs}@t{tier}"


def run(v: InvestigationView, runner: Runner, store=None, background: bool = False) -> dict:
    """One design pass: returns a state update {"proposals", "design", "transcript lines" (under "_text")},
    plus the background calculations to launch for the best candidate ("_launch", PlannedCalc dumps) and
    what changed since the last pass ("_changes")."""
    from ..chem.analogs import generate_analogs

    settings = dict(v.design or {})
    n_want = int(settings.get("n_candidates") or DEFAULT_CANDIDATES)
    exclude = sorted(set(settings.get("exclude") or []))
    hyps = choose_hypotheses(v)
    preds = [p for p in (predictor_for(h, role, v) for h, role in hyps) if p is not None]
    info = {"n_candidates": n_want, "exclude": exclude,
            "hypotheses": [{"id": p.hypothesis.id, "role": p.role, "observable": p.observable, "tier": p.tier,
                            "evidence": p.evidence_id} for p in preds],
            "limit_s": v.budget.design_s_limit, "notes": []}
    if len(preds) < 2:
        msg = ("Design: fewer than two hypotheses with computed evidence, so no candidate can separate them; "
               "no confirmatory molecules proposed.")
        info["notes"].append(msg)
        return {"proposals": [], "design": {**settings, **info}, "_text": [msg]}
    target = v.series.target
    pool = generate_analogs(target.smiles, [m.smiles for m in v.series.members], exclude,
                            max_candidates=min(50, POOL_FACTOR * n_want))
    cands = []
    for a in pool:
        c = _Cand(a)
        try:
            c.mol = a.to_molecule()
        except Exception as exc:
            c.error = f"could not embed: {exc}"
        cands.append(c)
    usable = [c for c in cands if c.mol is not None]

    def specs_for_cands(cs, obs, tier):
        jobs = []
        for c in cs:
            k = _key(obs, tier)
            if k in c.values:
                continue
            p = next((p for p in preds if p.observable == obs and p.tier == tier), None)
            if p is not None and p.feature_absent is not None and p.feature_absent(c.mol):
                c.values[k], c.notes[k] = None, "feature absent"
                continue
            try:
                spec = specs_for(obs, c.mol, tier)[0]
            except NotApplicable as na:
                c.values[k], c.notes[k] = na.value, str(na)
                continue
            except Exception as exc:
                c.values[k], c.notes[k] = None, f"could not build: {exc}"
                continue
            jobs.append((c, k, obs, spec))
        return jobs

    def run_jobs(jobs):
        return record(jobs, runner([j[3] for j in jobs])) if jobs else 0.0

    def record(jobs, results):
        """Read the jobs' values from their results; returns the seconds of new calculation."""
        used = 0.0
        for (c, k, obs, _), r in zip(jobs, results):
            c.keys[k] = [r.cache_key] if r.cache_key else []
            if not r.from_cache:
                used += r.wall_time_s
            if not r.success:
                c.values[k], c.notes[k] = None, f"failed: {r.error.message if r.error else 'unknown'}"
                continue
            try:
                c.values[k] = read_value(obs, c.mol, [r])
            except NotApplicable as na:
                c.values[k], c.notes[k] = na.value, str(na)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                c.values[k], c.notes[k] = None, f"could not read: {exc}"
        return used

    # stage 1: cheap observables (and cheap proxies of the expensive ones) for the whole pool
    cheap = {(p.observable, p.tier) for p in preds if p.tier <= CHEAP_TIER}
    cheap |= {(p.proxy.observable, p.proxy.tier) for p in preds if p.proxy is not None}
    jobs = [j for obs, tier in sorted(cheap) for j in specs_for_cands(usable, obs, tier)]
    used = run_jobs(jobs)

    def score(c: _Cand, with_proxy: bool) -> tuple[float, list[float | None], list[str | None]]:
        """(rank score, position per predictor, how each was obtained: 'computed' | 'proxy' | None)."""
        ss, how = [], []
        for p in preds:
            k = _key(p.observable, p.tier)
            x = c.values.get(k, "missing")
            if x is None and c.notes.get(k) == "feature absent":
                ss.append(0.0), how.append("computed")
            elif isinstance(x, (int, float)):
                ss.append(position(float(x), p.target, p.analogs, p.sigma, p.direction)), how.append("computed")
            elif with_proxy and p.proxy is not None and isinstance(
                    c.values.get(_key(p.proxy.observable, p.proxy.tier)), (int, float)):
                e = p.proxy
                ss.append(position(float(c.values[_key(e.observable, e.tier)]), e.target.value,
                                   [a.value for a in e.analogs if a.value is not None], e.sigma, e.direction))
                how.append("proxy")
            else:
                ss.append(None), how.append(None)
        got = [s for s in ss if s is not None]
        cov = (sum(h == "computed" for h in how) + PROXY_WEIGHT * sum(h == "proxy" for h in how)) / len(preds)
        a = c.analog
        return rank_score(discrimination(got), a.sa_score, a.heavy_atoms, _heavy(target.mol()), cov), ss, how

    # stage 2: expensive observables for the best candidates of the cheap look, within the design budget
    limit = min(v.budget.design_s_limit, v.budget.left_s)
    expensive = [(p.observable, p.tier) for p in preds if p.tier > CHEAP_TIER]
    spent_est, skipped = 0.0, []
    if expensive:
        order = sorted(usable, key=lambda c: -score(c, True)[0])
        chosen = []
        for c in order:
            jobs_c = [j for obs, tier in expensive for j in specs_for_cands([c], obs, tier)]
            # cached results count at their estimate too, so a pass chooses the same candidates on a warm cache
            cost = sum(estimate_seconds(j[3]) for j in jobs_c)
            if spent_est + cost <= limit:
                chosen += jobs_c
                spent_est += cost
            elif jobs_c:
                skipped.append(c)
                c.deferred = jobs_c
                for j in jobs_c:
                    c.notes[j[1]] = "over the design budget"
        used += run_jobs(chosen)
    info["estimated_s"] = round(spent_est, 1)

    fmt = {"target": target.name, "analogs": " and ".join(a.name for a in v.series.analogs)}

    def proposal(c: _Cand) -> dict:
        rank, ss, how = score(c, True)
        got = [s for s in ss if s is not None]
        preds_out, look, refs = {}, [], []
        for p, s, hw in zip(preds, ss, how):
            k = _key(p.observable, p.tier)
            x = c.values.get(k)
            rel = relative(float(x), p.target, p.analogs, p.direction) if isinstance(x, (int, float)) else None
            note = c.notes.get(k, "") if s is None else ""
            if hw == "proxy":
                note = (f"from the cheap proxy {p.proxy.observable} at tier {p.proxy.tier}, not adequate for a "
                        f"verdict; {p.observable} at tier {p.tier}: {c.notes.get(k, 'not computed')}")
                k2 = _key(p.proxy.observable, p.proxy.tier)
                refs += c.keys.get(k2, [])
            preds_out[p.hypothesis.id] = outcome(p.hypothesis, s, rel, fmt, note)
            refs += c.keys.get(k, [])
            if p.hypothesis.category in LOOK_FOR:
                look.append(LOOK_FOR[p.hypothesis.category])
        values = {k: (round(x, 4) if isinstance(x, float) else x) for k, x in c.values.items()}
        a = c.analog
        return {
            "id": a.inchikey, "smiles": a.smiles, "name": a.name, "transformation": a.transformation,
            "description": a.description, "discrimination": round(discrimination(got), 3),
            "sa_score": round(a.sa_score, 2), "heavy_atoms": a.heavy_atoms, "rank_score": round(rank, 3),
            "coverage": round(sum(1.0 if h == "computed" else PROXY_WEIGHT if h == "proxy" else 0.0
                                  for h in how) / len(preds), 2),
            "basis_kind": {p.hypothesis.id: h for p, h in zip(preds, how)},
            "positions": {p.hypothesis.id: (None if s is None else round(s, 3)) for p, s in zip(preds, ss)},
            "values": values, "experiment": experiment(a.smiles, a.name, c.mol, look, fmt),
            "predictions": preds_out, "evidence_refs": list(dict.fromkeys(refs)),
            "basis": {p.hypothesis.id: p.evidence_id for p in preds},
            "rigorous": {p.hypothesis.id: {"observable": p.observable, "tier": p.tier,
                                           "status": c.rigorous[_key(p.observable, p.tier)]}
                         for p in preds if _key(p.observable, p.tier) in c.rigorous},
        }

    def ranked() -> list[dict]:
        out = sorted((proposal(c) for c in usable),
                     key=lambda d: (-d["rank_score"], -d["discrimination"], d["sa_score"], d["smiles"]))
        for i, d in enumerate(out, start=1):
            d["rank"] = i
        return out

    # the best candidate: its adequate numbers, once in the store (launched in the background by an earlier
    # pass), cost nothing whatever their estimate; until the top candidate has none left there, re-rank
    by_id = {c.analog.inchikey: c for c in usable}
    before = {d["id"]: d.get("basis_kind", {}) for d in v.proposals}
    changes: list[str] = []
    scored = ranked()
    while scored and store is not None:
        c = by_id[scored[0]["id"]]
        found = [(j, r) for j in c.deferred if (r := _stored(j[3], store)) is not None]
        if not found:
            break
        c.deferred = [j for j in c.deferred if all(j is not f for f, _ in found)]
        used += record([j for j, _ in found], [r for _, r in found])
        for (_, k, obs, spec), r in found:
            c.rigorous[k] = "computed" if r.success else "failed"
            for p in preds:
                was = before.get(c.analog.inchikey, {}).get(p.hypothesis.id, "computed")
                if r.success and _key(p.observable, p.tier) == k and was != "computed":
                    changes.append(f"{c.analog.name}: {p.hypothesis.id} prediction now from {obs} at tier "
                                   f"{spec.tier} (was {'a proxy' if was == 'proxy' else 'not computed'}).")
        scored = ranked()
    if changes and v.proposals and scored[0]["name"] != v.proposals[0]["name"]:
        changes.append(f"The best candidate is now {scored[0]['name']} (was {v.proposals[0]['name']}).")
    skipped = [c.analog.name for c in skipped if c.deferred]  # less those the store has answered
    if skipped:
        info["notes"].append(f"Design budget ({limit:.0f} s estimated): {', '.join(o for o, _ in expensive)} "
                             f"not computed for {', '.join(skipped)}.")
    launch: list[dict] = []
    if scored and by_id[scored[0]["id"]].deferred:
        launch = _launch(by_id[scored[0]["id"]], v, background, info["notes"])
        scored = ranked()  # its notes changed
    info["used_s"] = round(used, 1)
    info["notes"] += changes
    proposals = scored[:n_want]
    info["pool"] = len(pool)
    info["ranked"] = [{"name": d["name"], "rank_score": d["rank_score"]} for d in scored]
    text = [f"Design: {len(pool)} candidate(s) generated from {target.name}"
            + (f" (excluding {', '.join(exclude)})" if exclude else "")
            + f"; predictions of {', '.join(f'{p.hypothesis.id} ({p.role}, {p.observable} at tier {p.tier})' for p in preds)}"
            + f"; {used:.1f} s of new calculations."]
    text += info["notes"]
    if proposals:
        text.append("Top confirmatory molecules: " + "; ".join(
            f"{d['rank']}. {d['name']} (D = {d['discrimination']:.2f}, rank {d['rank_score']:.2f})"
            for d in proposals[:3]) + ".")
    else:
        text.append("No candidate could be generated" + (f" without {', '.join(exclude)}" if exclude else "") + ".")
    if launch:
        what = " and ".join(f"{p['observable']} at tier {p['tier']}" for p in launch)
        text.append(f"Launched {what} on the best candidate {launch[0]['molecule']} in the background; "
                    "the ranking will be updated when it finishes.")
    return {"proposals": proposals, "design": {**settings, **info}, "_text": text, "_used": used,
            "_launch": launch, "_changes": changes}


def _stored(spec: CalcSpec, store) -> CalcResult | None:
    key = installed_cache_key(spec)
    return store.get(key) if key else None


def _launch(c: _Cand, v: InvestigationView, background: bool, notes: list[str]) -> list[dict]:
    """The best candidate's calculations that the design budget left out, as background PlannedCalc dumps:
    none already running (pending) or run before, none when background calculations are off or the budget
    left is short. Sets the candidate's ``rigorous`` status and notes; says in ``notes`` why none went."""
    running = {e["id"] for e in v.pending} | {e.get("cache_key") for e in v.pending if e.get("cache_key")}
    tried = {r["id"]: r for r in v.results}
    name, new = c.analog.name, []
    for j in c.deferred:
        _, k, obs, spec = j
        rid = f"{obs}@t{spec.tier}:{name}"  # the id graph.start_background gives it
        if rid in running or installed_cache_key(spec) in running:
            c.rigorous[k], c.notes[k] = "running", "over the design budget; running in the background"
        elif rid in tried:  # it ran and left nothing in the store (a transient failure): not again, or it loops
            c.rigorous[k] = "failed"
            c.notes[k] = f"the background calculation failed: {tried[rid].get('error') or 'no result stored'}"
        else:
            new.append(j)
    if not new:
        return []
    cost = sum(estimate_seconds(spec) for *_, spec in new)
    why = ("background calculations are off" if not background else
           f"their estimate ({cost:.0f} s) exceeds the budget left ({v.budget.left_s:.0f} s)"
           if cost > v.budget.left_s else "")
    if why:
        for _, k, _, _ in new:
            c.rigorous[k] = f"not launched: {why}"
        notes.append(f"Not launched on the best candidate {name}: "
                     f"{' and '.join(f'{obs} at tier {spec.tier}' for _, _, obs, spec in new)} ({why}).")
        return []
    for _, k, _, _ in new:
        c.rigorous[k], c.notes[k] = "running", "over the design budget; running in the background"
    return [PlannedCalc(spec=spec.model_dump(mode="json"), observable=obs, tier=spec.tier, molecule=name,
                        estimate_s=estimate_seconds(spec), background=True).model_dump(mode="json")
            for _, _, obs, spec in new]


def _heavy(m: Molecule) -> int:
    return sum(1 for s in m.symbols if s != "H")


# ------------------------------------------------------------------ report
PROPOSAL_KEYS = ("rank", "smiles", "name", "transformation", "description", "discrimination", "sa_score",
                 "heavy_atoms", "coverage", "basis_kind", "rank_score", "experiment", "predictions", "positions",
                 "values", "evidence_refs", "basis", "rigorous")

RIGOROUS = {  # the best candidate's calculation beyond the design budget, by status
    "computed": "computed in the background for the best candidate; the prediction above rests on it",
    "failed": "computed in the background for the best candidate, but it failed; the prediction above does not "
              "rest on it",
    "running": "running in the background; until it finishes the prediction above rests on a cheap proxy (or on "
               "nothing), and the ranking is updated when it does (`tierchem resume RUN_DIR` picks it up)",
}


def proposals_json(v: InvestigationView) -> list[dict]:
    return [{k: p.get(k) for k in PROPOSAL_KEYS} for p in v.proposals]


def proposals_markdown(v: InvestigationView) -> list[str]:
    """The report's "Confirmatory molecules" section."""
    info = v.design or {}
    if not v.proposals and not info.get("hypotheses"):
        return []
    out = ["## Confirmatory molecules", ""]
    hyps = info.get("hypotheses", [])
    if hyps:
        out += ["Candidates generated from the target (chem.analogs" +
                (f"; excluded elements: {', '.join(info['exclude'])}" if info.get("exclude") else "") +
                ") and scored by how differently these hypotheses predict they will crystallise: " +
                "; ".join(f"`{h['id']}` ({h['role']}, read through {h['observable']} at tier {h['tier']})"
                          for h in hyps) + ".", "",
                "Position s of a candidate on each hypothesis's observable: 1 = target-like (should pack like the "
                "target), 0 = analog-like, 0.5 = no prediction; distances padded by the tier's uncertainty. "
                "Discrimination D = max(s) - min(s) (0 when all hypotheses agree); rank = D x accessibility "
                "(1 - (SA - 1)/18) x size (1/(1 + extra heavy atoms/10)) x coverage (share of hypotheses with a "
                "computed prediction; one from a cheap proxy, marked *, counts half).", ""]
    for note in info.get("notes", []):
        out += [f"- {note}"]
    if info.get("notes"):
        out += [""]
    if not v.proposals:
        return out + ["No confirmatory molecule could be proposed.", ""]
    out += ["| # | molecule | change | D | SA | rank | " + " | ".join(f"s({h['id']})" for h in hyps) + " |",
            "|---|---|---|---|---|---|" + "---|" * len(hyps)]
    for p in v.proposals:
        kinds = p.get("basis_kind", {})
        s = " | ".join("—" if p["positions"].get(h["id"]) is None else
                       f"{p['positions'][h['id']]:.2f}{'*' if kinds.get(h['id']) == 'proxy' else ''}" for h in hyps)
        out.append(f"| {p['rank']} | {p['name']} `{p['smiles']}` | {p['transformation']} | "
                   f"{p['discrimination']:.2f} | {p['sa_score']:.1f} | {p['rank_score']:.2f} | {s} |")
    out += [""]
    for p in v.proposals:
        out += [f"**{p['rank']}. {p['name']}** (`{p['smiles']}`, {p['transformation']}): {p['description']}", "",
                f"- Experiment: {p['experiment']}"]
        out += [f"- If `{hid}` holds: {text}" for hid, text in p["predictions"].items()]
        out += [f"- `{hid}` at its adequate tier ({r['observable']} at tier {r['tier']}): "
                + RIGOROUS.get(r["status"], r["status"]) + "." for hid, r in (p.get("rigorous") or {}).items()]
        vals = ", ".join(f"{k} = {'n/a' if x is None else (f'{x:.3g}' if isinstance(x, float) else x)}"
                         for k, x in p["values"].items())
        keys = ", ".join(f"`{k[:12]}`" for k in p["evidence_refs"])
        out += [f"- Computed: {vals or 'nothing'}" + (f" (results {keys})" if keys else ""), ""]
    return out
