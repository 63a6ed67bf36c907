"""Design scoring: what each hypothesis predicts for a candidate, and how a candidate ranks.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from ..chem.molecule import Molecule
from .hypotheses import TEMPLATES
from .observables import OBSERVABLES
from .state import Evidence, Hypothesis, InvestigationView

CHEAP_TIER = 2  # tiers 0-2 are cheap enough for the whole pool (design.py reads it here, at call time)
FREE_TIER = 1   # tiers 0-1 run for the whole pool unbudgeted; the cheap tiers above share the design budget
PROXY_WEIGHT = 0.5                      # a prediction from an inadequate cheap proxy counts half in C


def value_key(observable: str, tier: int) -> str:
    """The key of a candidate's value of ``observable`` at ``tier`` (Proposal.values)."""
    return f"{observable}@t{tier}"


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


def evidence_at(v: InvestigationView, observable: str, tier: int) -> Evidence | None:
    return next((e for e in v.evidence if e.observable == observable and e.tier == tier), None)


def usable(e: Evidence | None) -> bool:
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
            e = evidence_at(v, use.observable, tier)
            if usable(e):
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
                 if x.observable == u.observable and x.tier <= CHEAP_TIER and usable(x)]
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
            e = evidence_at(v, p.observable, p.tier)
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


Prediction = tuple[float | None, str | None]   # (position s, how: "computed" | "proxy" | None)


def predict(p: Predictor, values: dict[str, float | None], notes: dict[str, str], with_proxy: bool) -> Prediction:
    """A candidate's position on ``p`` from its computed values (or, with ``with_proxy``, from the proxy's)."""
    k = value_key(p.observable, p.tier)
    x = values.get(k, "missing")
    if x is None and notes.get(k) == "feature absent":
        return 0.0, "computed"
    if isinstance(x, (int, float)):
        return position(float(x), p.target, p.analogs, p.sigma, p.direction), "computed"
    if with_proxy and p.proxy is not None:
        e = p.proxy
        xp = values.get(value_key(e.observable, e.tier))
        if isinstance(xp, (int, float)):
            return position(float(xp), e.target.value, [a.value for a in e.analogs if a.value is not None],
                            e.sigma, e.direction), "proxy"
    return None, None


def coverage(how: Sequence[str | None]) -> float:
    """Share of hypotheses with a computed prediction (one from a proxy counts ``PROXY_WEIGHT``)."""
    return sum(1.0 if h == "computed" else PROXY_WEIGHT if h == "proxy" else 0.0 for h in how) / len(how)
