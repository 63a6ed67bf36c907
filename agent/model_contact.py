"""The last rung for a halogen contact: a tier-4 (CCSD(T)) check of the DFT contact energy on a model.

Once the root cause is a halogen bond (sigma hole) whose mechanism is an X···X contact, and the contact's
verdict stands at the DFT tier (``verdict_tier``), the agent cuts that contact's own DFT dimer geometry
down to a model (:mod:`tierchem.chem.contact_models`: the halogen with its ring, else a methyl halide;
every kept atom in place) for the target and its nearest analog, and runs two background calculations on
each model: the correlated level and DFT at the verdict tier's level, at the same geometry. When both are
in (this process, or found in the store by ``tierchem resume``), they become two evidence rows
(``halogen_contact_model`` at tiers 4 and 3) and the conclusion gets one sentence comparing them
(:func:`sentence`), with ``changes`` saying so.

The cost model (:func:`tiers.harness.estimate_seconds`, the correlated harness's calibrated one) picks
the largest model and then the most rigorous level whose estimate fits ``max_estimate_s``, and the
transcript says what it chose and what it passed over.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from ..chem.contact_models import MODEL_KINDS, contact_halogens, contact_model
from ..chem.molecule import Molecule
from ..tiers.catalogue import make_spec
from ..tiers.spec import CalcSpec
from ..tiers.store import ResultStore
from . import background as bgq
from .evidence import make_evidence
from .observables import OBSERVABLES, estimate_seconds
from .state import Evidence, InvestigationView, PlannedCalc, ResultRef, ValueRef, dump, merge_by_id, say

log = logging.getLogger(__name__)

MODEL_OBSERVABLE = "halogen_contact_model"  # the evidence rows' name (not an observable the planner plans)
CONTACTS = {"ie_type_ii_halogen": "type II", "ie_type_i_halogen": "type I"}  # X···X contacts a model can cut
ROOT_CATEGORIES = ("halogen_bond",)
KIND_WORDS = {"ring": "halogen with its ring", "methyl": "methyl halide"}


@dataclass(frozen=True)
class CorrelatedLevel:
    """One way of running tier 4 on the model, with the benchmark MAE (kcal/mol) its comparison carries."""

    name: str
    method: str
    basis: str
    keywords: dict = field(default_factory=dict)
    mae_kcal_mol: float = 1.0
    source: str = ""
    adequate: bool = True  # whether it is a better number than DFT's, not merely a different one


# Iodine: def2 bases with the def2 ECP (ECP28MDF, Peterson et al., J. Chem. Phys. 119, 11113 (2003)), which
# tiers.pyscf_common applies to every def2 basis on I; X40 (Řezáč, Riley & Hobza, J. Chem. Theory Comput.
# 8, 4285 (2012)) computed its CCSD(T)/CBS halogen references the same way in spirit: MP2/CBS from a large
# basis pair plus [CCSD(T) - MP2] in a small one, with pseudopotential bases on iodine.
FOCAL_POINT = CorrelatedLevel(
    "focal-point CCSD(T)/CBS (DF-MP2/def2-TZVP->def2-QZVP + [CCSD(T)-MP2]/def2-SVP, CP)", "CCSD(T)", "def2-QZVP",
    {"cbs": ["def2-TZVP", "def2-QZVP"], "delta_basis": "def2-SVP"}, 0.15,
    "the focal point's bar on S22's small dimers (issue 13); the S22 water dimer comes within 0.07 of S22B")
SMALL_BASIS = CorrelatedLevel(
    "CCSD(T)/def2-SVP (CP)", "CCSD(T)", "def2-SVP", {}, 0.89,
    "S22 MAE 0.89 kcal/mol on the 4 smallest dimers, where B3LYP-D3(BJ)/def2-SVP CP gives 0.19 (DESIGN.md)",
    adequate=False)


@dataclass(frozen=True)
class ContactModelMaker:
    """What the tier-4 contact check runs: models largest first, levels most rigorous first; the first
    (model, level) whose cost-model estimate for all its molecules fits ``max_estimate_s`` is chosen."""

    verdict_tier: int = 3
    kinds: tuple[str, ...] = MODEL_KINDS
    levels: tuple[CorrelatedLevel, ...] = (FOCAL_POINT, SMALL_BASIS)
    # The cost model's seconds (2 cores) for all of the check's tier-4 calculations. On the demo it picks
    # the focal point on the CH3I···ICH3 model alone (~1480 s estimated); C6H5I···IC6H5 costs ~1.7e5 s, and
    # CCSD(T)/def2-SVP on the CH3I and CH3Br models (~1030 s) is worse than DFT-D in that basis (DESIGN.md:
    # S22 MAE 0.89 vs 0.19), so rigour comes before the analog. Measured on the demo's CH3I model (PySCF
    # 2.14, one thread each, on 2 cores loaded 4-8): DF-MP2/CBS(def2-TZVP/QZVP) CP -2.92 kcal/mol (577 s
    # wall, 270 s CPU), CCSD(T)/def2-SVP CP +0.49 (1025 s wall, 547 s CPU), so [CCSD(T)-MP2]/def2-SVP +0.50
    # and the focal point -2.42, against B3LYP-D3(BJ)/def2-SVP CP -2.37 at the same geometry (80 s CPU).
    # PySCF has no def2 MP2-fitting set for I: DF-MP2 uses an even-tempered one there (df.make_auxbasis).
    max_estimate_s: float = 1800.0
    with_analog: bool = True


MAKER = ContactModelMaker()


@dataclass
class Choice:
    kind: str
    level: CorrelatedLevel
    dimers: dict[str, tuple[Molecule, Molecule]]  # member name -> its model dimer
    estimate_s: float
    passed_over: list[str]


# ------------------------------------------------------------------ when
def decisive_contact(v: InvestigationView, maker: ContactModelMaker = MAKER) -> Evidence | None:
    """The verdict-tier evidence of the root cause's X···X contact mechanism, once there is one."""
    root = next((h for h in v.hypotheses if h.status == "root-cause" and h.category in ROOT_CATEGORIES), None)
    if root is None:
        return None
    for m in v.hypotheses:
        if m.status == "mechanism-of" and m.mechanism_of == root.id and m.observables:
            name = m.observables[0].observable
            e = next((e for e in v.evidence if e.observable == name and e.tier == maker.verdict_tier), None)
            if name in CONTACTS and e is not None and e.adequate and e.target.value is not None:
                return e
    return None


def launched(v: InvestigationView) -> bool:
    return any(r.observable == MODEL_OBSERVABLE for r in [*v.results, *v.pending])


# ------------------------------------------------------------------ what
def _contact_dimer(v: InvestigationView, store: ResultStore, e: Evidence, member: str) -> CalcSpec | None:
    """The stored spec (dimer geometry, DFT level) behind ``member``'s value in ``e``."""
    ref = next((r for r in v.results if r.observable == e.observable and r.tier == e.tier
                and r.molecule == member and r.success and r.cache_key), None)
    result = store.get(ref.cache_key) if ref is not None else None
    return result.spec if result is not None else None


def nearest_analog(e: Evidence) -> str | None:
    """The analog whose contact energy at the verdict tier is closest to the target's."""
    have = [a for a in e.analogs if a.value is not None and a.status == "computed"]
    return min(have, key=lambda a: abs(a.value - e.target.value)).molecule if have else None


def tier4_spec(dimer: tuple[Molecule, Molecule], level: CorrelatedLevel) -> CalcSpec:
    return make_spec("interaction_energy", list(dimer), 4, method=level.method, basis=level.basis,
                     **level.keywords)


def same_level(dft: CalcSpec, dimer: tuple[Molecule, Molecule]) -> CalcSpec:
    """``dft``'s calculation (engine, method, basis, keywords) on the model dimer."""
    return CalcSpec(task=dft.task, tier=dft.tier, engine=dft.engine, method=dft.method, basis=dft.basis,
                    molecules=tuple(dimer), keywords=dict(dft.keywords))


def choose(full: dict[str, tuple[Molecule, Molecule]],
           maker: ContactModelMaker = MAKER) -> tuple[Choice | None, list[str]]:
    """The largest model, then the most rigorous level, then all of ``full``'s members before the first
    (the target) alone, whose estimate fits the maker's limit (None if none does); and what was passed
    over on the way, in words."""
    passed = []
    subsets = [list(full)] + ([list(full)[:1]] if len(full) > 1 else [])
    for kind in maker.kinds:
        try:
            dimers = {name: contact_model(*d, kind) for name, d in full.items()}
        except Exception as exc:  # this cut does not apply (no ring on the halogen's carbon ...)
            passed.append(f"the {KIND_WORDS[kind]} model ({exc})")
            continue
        for level in maker.levels:
            try:
                costs = {n: estimate_seconds(tier4_spec(d, level)) for n, d in dimers.items()}
            except Exception as exc:
                passed.append(f"{level.name} on the {KIND_WORDS[kind]} model ({exc})")
                continue
            for names in subsets:
                est = sum(costs[n] for n in names)
                if est <= maker.max_estimate_s:
                    return Choice(kind, level, {n: dimers[n] for n in names}, est, passed), passed
                if len(names) > 1:
                    passed.append(f"{level.name} on the {KIND_WORDS[kind]} models of {' and '.join(names)} "
                                  f"(~{est:.0f} s estimated)")
            passed.append(f"{level.name} on the {KIND_WORDS[kind]} model (~{costs[subsets[-1][0]]:.0f} s estimated "
                          f"for the target alone)")
    return None, passed


def model_name(member: str, dimer: tuple[Molecule, Molecule], contact: str) -> str:
    """The model's result name (not a series member, so the series' own evidence never reads it), which
    names the member, the model and the contact: "1,4-diiodobenzene [CH3I···ICH3 type II model]"."""
    return f"{member} [{model_words(dimer)} {contact} model]"


def model_words(dimer: tuple[Molecule, Molecule]) -> str:
    """The model dimer in prose, each halogen facing the other: "C6H5I···IC6H5"."""
    i, j, _ = contact_halogens(*dimer)
    a, b, x = dimer[0].formula, dimer[1].formula, dimer[1].symbols[j]
    return f"{a}···{x + b[:-len(x)] if b.endswith(x) else b}"


_NAME = re.compile(r"^(?P<member>.*) \[(?P<model>\S+···\S+) (?P<contact>type I{1,2}) model\]$")


def parse_model_name(name: str) -> tuple[str, str, str] | None:
    """(member, model, contact word) of a :func:`model_name`, None for any other name."""
    m = _NAME.match(name)
    return (m["member"], m["model"], m["contact"]) if m else None


def plan_check(v: InvestigationView, store: ResultStore,
               maker: ContactModelMaker = MAKER) -> tuple[list[PlannedCalc], str]:
    """The background calculations of the tier-4 contact check, and what was chosen, in words."""
    e = decisive_contact(v, maker)
    if e is None or launched(v):
        return [], ""
    names = [e.target.molecule] + ([a] if maker.with_analog and (a := nearest_analog(e)) else [])
    dft = {n: s for n in names if (s := _contact_dimer(v, store, e, n)) is not None and len(s.molecules) == 2}
    if e.target.molecule not in dft:
        return [], ""
    choice, passed = choose({n: tuple(s.molecules) for n, s in dft.items()}, maker)
    if choice is None:
        return [], (f"No tier-4 check of the {CONTACTS[e.observable]} contact fits ~{maker.max_estimate_s:.0f} s "
                    f"estimated on a model of it: {'; '.join(passed)}.")
    planned = []
    for n, d in choice.dimers.items():
        label = model_name(n, d, CONTACTS[e.observable])
        for spec in (tier4_spec(d, choice.level), same_level(dft[n], d)):
            planned.append(PlannedCalc(spec=spec.model_dump(mode="json"), observable=MODEL_OBSERVABLE,
                                       tier=spec.tier, molecule=label, estimate_s=estimate_seconds(spec),
                                       background=True))
    d = choice.dimers[e.target.molecule]
    text = (f"The {CONTACTS[e.observable]} contact's verdict stands at tier {e.tier}; I check it one rung up, in the "
            f"background: {choice.level.name} on the {model_words(d)} model ({KIND_WORDS[choice.kind]}, "
            f"cut from the tier-{e.tier} dimer, contact geometry unchanged) of {' and '.join(choice.dimers)}, with "
            f"{dft_label(dft[e.target.molecule])} at the same geometry (~{choice.estimate_s:.0f} s estimated for "
            "tier 4)")
    if choice.passed_over:
        text += "; too costly or not applicable: " + "; ".join(choice.passed_over)
    return planned, text + "."


# ------------------------------------------------------------------ the rows and the sentence
def level_of(spec: CalcSpec, maker: ContactModelMaker = MAKER) -> CorrelatedLevel:
    """The maker's level that ``spec`` runs, else one named after it."""
    for level in maker.levels:
        if (level.method, level.basis, level.keywords) == (spec.method, spec.basis, dict(spec.keywords)):
            return level
    return CorrelatedLevel(f"{spec.method}/{spec.basis} (CP)", spec.method, spec.basis or "", dict(spec.keywords),
                           source="not a level of the contact check's table: no benchmark", adequate=False)


def dft_label(spec: CalcSpec) -> str:
    return f"{spec.method}/{spec.basis} (CP)" if spec.basis else spec.method


def agreement(e4: float, e3: float, tolerance: float) -> bool:
    """Whether the two contact energies agree within the stated uncertainty (kcal/mol)."""
    return abs(e3 - e4) <= tolerance


def comparison_sentence(contact: str, model: str, target: str, level: CorrelatedLevel, e4: float, dft: str,
                        e3: float, dft_mae: float, analog: tuple[str, float, float] | None = None,
                        lower: str = "DFT") -> str:
    """One sentence comparing the tier-4 and DFT contact energies (kcal/mol) of the same model geometry;
    ``analog``: (name, tier-4 value, DFT value) of the nearest analog's model, if it ran; ``lower``: what
    the lower level is called in prose."""
    tol = dft_mae + level.mae_kcal_mol
    verdict = ("inside" if agreement(e4, e3, tol) else "outside") + (
        f" the stated uncertainty of {tol:.2f} (the two levels' benchmark MAEs, {dft_mae:.2f} + "
        f"{level.mae_kcal_mol:.2f})")
    text = (f"Tier-4 check of the {contact} contact: {level.name} on the {model} model of {target} gives "
            f"{e4:.2f} kcal/mol vs {dft} {e3:.2f} at the same geometry, so {lower} is within "
            f"{abs(e3 - e4):.2f} kcal/mol, {verdict}")
    if analog is not None:
        text += f"; {analog[0]}'s model: {analog[1]:.2f} vs {analog[2]:.2f}"
    if not level.adequate:  # a level no better than DFT's cannot put DFT in doubt
        text += f" (a consistency check, not a better number: {level.source})"
    elif not agreement(e4, e3, tol):
        text += f"; the {lower} contact energy behind the mechanism is in doubt"
    return text + "."


def _values(v: InvestigationView, store: ResultStore, tier: int) -> dict[str, tuple[ValueRef, CalcSpec, str]]:
    """Member name -> (its model value at ``tier``, the spec, the contact word) from the stored results."""
    out = {}
    for r in v.results:
        named = parse_model_name(r.molecule) if r.observable == MODEL_OBSERVABLE and r.tier == tier else None
        result = store.get(r.cache_key) if named and r.cache_key else None
        if result is None:
            continue
        member, model, contact = named
        value = result.values.get("interaction_energy_kcal_mol") if result.success else None
        why = f"; failed: {result.error.kind.value}: {result.error.message}" if result.error else ""
        out[member] = (ValueRef(molecule=member, value=value, cache_keys=[r.cache_key],
                                note=f"{model} model (cut from the verdict's contact dimer){why}",
                                status="computed" if value is not None else "failed"), result.spec, contact)
    return out


def model_rows(v: InvestigationView, store: ResultStore, maker: ContactModelMaker = MAKER) -> list[Evidence]:
    """The evidence rows of the contact check (tier 4 and the verdict tier, same model geometry), once the
    target's pair is in; the tier-4 row's summary is the conclusion's sentence."""
    target = v.series.target.name
    t4, t3 = _values(v, store, 4), _values(v, store, maker.verdict_tier)
    if target not in t4 or target not in t3:
        return []
    contact = {w: n for n, w in CONTACTS.items()}[t4[target][2]]
    level, dft_use = level_of(t4[target][1], maker), OBSERVABLES[contact].use(maker.verdict_tier)
    rows = []
    for tier, vals, sigma, adequate, note in (
            (4, t4, level.mae_kcal_mol / 2, level.adequate, f"{level.name}: {level.source}"),
            (maker.verdict_tier, t3, dft_use.sigma, dft_use.adequate,
             f"{dft_label(t3[target][1])} on the model geometry: {dft_use.note}")):
        analogs = [vals[a.name][0] for a in v.series.analogs if a.name in vals]
        rows.append(make_evidence(MODEL_OBSERVABLE, tier, "kcal/mol", "lower", vals[target][0], analogs, sigma,
                                  adequate, note))
    e4, e3 = t4[target][0].value, t3[target][0].value
    if e4 is None or e3 is None:
        bad = t4[target][0] if e4 is None else t3[target][0]
        rows[0].summary = (f"Tier-4 check of the {t4[target][2]} contact: no comparison, the "
                           f"{'tier-4' if e4 is None else 'DFT'} model calculation for {target} gave no number "
                           f"({bad.note.split('; ', 1)[-1]}).")
    else:
        other = next((n for n in t4 if n != target and n in t3 and t4[n][0].value is not None
                      and t3[n][0].value is not None), None)
        rows[0].summary = comparison_sentence(
            t4[target][2], model_words(t4[target][1].molecules), target, level, e4, dft_label(t3[target][1]), e3,
            2 * dft_use.sigma, (other, t4[other][0].value, t3[other][0].value) if other else None,
            "DFT" if t3[target][1].tier == 3 else dft_label(t3[target][1]))
    return rows


def doubt(v: InvestigationView) -> str:
    """Why the verdict is reopened ("" when it is not): an adequate tier-4 number on the decisive contact's
    model that lies outside the stated uncertainty of the DFT number at the same geometry (the two rows'
    sigmas are half their levels' MAEs, so the tolerance is the sum of the MAEs)."""
    rows = {e.tier: e for e in v.evidence if e.observable == MODEL_OBSERVABLE}
    e4, e3 = rows.get(4), next((rows[t] for t in sorted(rows, reverse=True) if t < 4), None)
    if e4 is None or e3 is None or not e4.adequate or e4.target.value is None or e3.target.value is None:
        return ""
    tol = 2 * (e4.sigma + e3.sigma)
    if agreement(e4.target.value, e3.target.value, tol):
        return ""
    return (f"the tier-4 check of the decisive contact disagrees with DFT ({e4.target.value:.2f} vs "
            f"{e3.target.value:.2f} kcal/mol, beyond {tol:.2f}), so the DFT contact energy behind the verdict "
            "is in doubt")


def sentence(v: InvestigationView) -> str:
    """The conclusion's sentence on the tier-4 check ("" until its numbers are in), with a leading space."""
    row = next((e for e in v.evidence if e.id == f"{MODEL_OBSERVABLE}@t4"), None)
    return f" {row.summary}" if row is not None and row.summary.startswith("Tier-4 check") else ""


def news(v: InvestigationView) -> list[str]:
    """The conclusion's ``changes`` entry when the check's sentence is new to it."""
    s = sentence(v).strip()
    return [f"New at tier 4: {s}"] if s and (v.conclusion is None or s not in v.conclusion.summary) else []


# ------------------------------------------------------------------ the graph's hook
def launch(v: InvestigationView, ctx: Any, maker: ContactModelMaker | None = None) -> dict:
    """The conclude node's update for the contact check: its calculations sent to the background once the
    DFT verdict stands (store hits become refs at once), and its evidence rows once they are in."""
    maker = maker or MAKER
    update: dict = {}
    try:
        planned, text = plan_check(v, ctx.store, maker)
        if planned and not getattr(ctx, "background", True):
            planned, text = [], ("Not launched: the tier-4 check of the decisive contact runs in the background, "
                                 "and background calculations are off.")
    except Exception as exc:  # the check is extra: never a dead run
        log.exception("the tier-4 contact check could not be planned")
        planned, text = [], f"The tier-4 check of the contact could not be set up: {exc}."
    refs, entries = [], []
    for p in planned:
        ref, entry = bgq.start(ctx.queue, ctx.store, p)
        refs += [ref] if ref else []
        entries += [entry] if entry else []
    if planned:
        update.update({"pending": dump([*v.pending, *entries]), "results": dump(refs)})
    if text and not any(t.text == text for t in v.transcript):  # said once
        update["transcript"] = [say("agent", text)]
    v = v.model_copy(update={"results": [*v.results, *refs], "pending": [*v.pending, *entries]})
    rows = model_rows(v, ctx.store, maker)
    if rows:
        update["evidence"] = dump(rows)
    return update


def merged(state: dict, update: dict) -> dict:
    """``state`` with the hook's ``update`` applied as the graph's reducers would (by id; pending replaced)."""
    out = {**state, **{k: update[k] for k in ("pending",) if k in update}}
    for key in ("results", "evidence"):
        if key in update:
            out[key] = merge_by_id(state.get(key, []), update[key])
    return out
