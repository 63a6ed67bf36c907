"""Observed crystal structures as facts the hypotheses must explain.

A series CSV may carry a ``cif`` column (a path relative to the series file) per
molecule. :func:`read_crystals` reads each CIF with :func:`tierchem.chem.crystal.read_cif`,
checks that the crystal holds the molecule of its row, compares the target's crystal
with the analogs' (:func:`tierchem.chem.crystal_contacts.compare_crystals`) and turns
the comparison into sentences ("type II X···X C-I···I-C contacts only in the target's
crystal"). Corrupt, partial or mismatched CIFs become warnings; the investigation goes
on with the crystals that were read.

:func:`check` says whether a hypothesis is consistent with what the target's crystal
shows. Each hypothesis with a crystal signature names the contact kinds it predicts in
the target's crystal (a halogen-bond hypothesis predicts C-X···A halogen bonds or type
II X···X contacts; a type II mechanism predicts type II contacts); a hypothesis is

- ``consistent`` when the target's crystal shows them,
- ``inconsistent`` when the target's crystal was read and shows none (the hypothesis
  then loses confidence: :data:`INCONSISTENT_FACTOR`, with the reason in its status),
- ``not_applicable`` when there is no target crystal or the hypothesis has no
  signature the contact analysis can check (dipole, shape, dispersion ...).

Pair energies from the crystals
-------------------------------
:func:`read_crystals` also computes, for each crystal read (the target's first, within
``budget_s`` of wall time, progress logged), the pair energies at the classical tier
(GAFF2/AM1-BCC, seconds per crystal) out to 20 Å through
:func:`tierchem.agent.crystal_views.crystal_report`, and keeps the pair-sum lattice energy
split by contact class (:data:`~tierchem.agent.crystal_views.CONTACT_CLASSES`: H-bond, C-X···A,
type I / type II X···X, π-stack, other shell pairs, pairs beyond the shell), kcal/mol per
molecule and as a fraction of the pair sum, with the store keys of every pair energy
(:class:`~tierchem.agent.state.CrystalPairEnergies`). Whether a class's energy is adequate at
the tier comes from the adequacy table (agent.observables: ``ie_hbond``, ``ie_halogen_bond``,
``ie_type_ii_halogen``, ``ie_type_i_halogen``, ``ie_stack``): plain GAFF2 has no sigma hole, so
its halogen-contact energies are not evidence (the extra-point model GAFF2-EP would be, and is
not what this step runs).

:func:`energy_check` reads them for a hypothesis with a contact signature (:data:`ENERGY_SIGNATURES`).
With σ the uncertainty of one class's energy per molecule at the tier
(:data:`SIGMA_CONTACT_KCAL_MOL`: 2.0 kcal/mol at GAFF2, the mean |pair sum - X23b| over
benzene, urea, acetic acid and naphthalene in benchmarks/crystal_x23.py) and E_t, E_a the
energies the hypothesis's classes carry in the target's and each analog's crystal:

- ``supports``: E_t <= -2σ and E_t - E_a <= -2σ for every analog crystal with energies (the
  target's crystal is held by these pairs and the analogs' are not): the hypothesis gains
  :data:`SUPPORT_STEP` of confidence, never past :data:`SUPPORT_CAP` (tier 1-2 crystal energies
  are "low" evidence: agent.evidence.LEVEL_CAP["low"]);
- ``carries_nothing``: E_t > -σ/2 (about 1 kcal/mol per molecule at GAFF2): the contact the
  hypothesis needs holds the target's crystal with next to nothing, so it loses confidence
  (:data:`INCONSISTENT_FACTOR`, once, together with a structural inconsistency);
- ``shared`` (an analog's crystal carries it too), ``weak`` (between the two), ``not_adequate``
  (the tier cannot see the contact) and ``not_applicable`` change nothing; each is stated.

A shape hypothesis has no contact class; :func:`energy_check` reads it off the packing swaps
instead (agent.packing_facts: the target relaxed in each analog's packing against its own, and
the analogs in the target's; computed after the pair energies, within what is left of
``budget_s``). Each crystal's Hirshfeld surface (agent.surface_facts: the share of each element
pair's contacts, the fingerprints) is geometry: facts to explain, no confidence moved.

The words go into the hypothesis's reason and history.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .packing_facts import CLEAR_SIGMAS, NEGLIGIBLE_SIGMAS
from .state import (ContactEnergy, CrystalCheck, CrystalEnergyCheck, CrystalFacts, CrystalPairEnergies, Hypothesis,
                    Series)

log = logging.getLogger(__name__)

INCONSISTENT_FACTOR = 0.5  # an inconsistent hypothesis keeps half its confidence
ENERGY_LEVELS = ("classical",)           # the investigation's crystal step: GAFF2 pair energies, seconds a crystal
CRYSTAL_RADIUS_ANGSTROM = 20.0           # centroid radius of the pair sums (tiers.crystal_energies' default)
CRYSTAL_BUDGET_S = 120.0                 # wall time for all crystals' pair energies; the rest is skipped, said so
# Uncertainty of one contact class's lattice-energy part per molecule, by tier (kcal/mol): the mean
# |pair sum - X23b| on benzene, urea, acetic acid, naphthalene (benchmarks/crystal_x23.py): GAFF2
# 0.69, 2.77, 4.50, 0.06 -> 2.0; GFN1-xTB 1.53, 2.29, 3.24, 1.22 -> 2.1. A part errs no more than the whole.
SIGMA_CONTACT_KCAL_MOL = {1: 2.0, 2: 2.1}
SUPPORT_STEP = 0.1                       # confidence a clear crystal share adds...
SUPPORT_CAP = 0.45                       # ...up to agent.evidence.LEVEL_CAP["low"] (tiers 1-2)
# contact class -> the observable of the adequacy table whose tier notes judge its pair energies
CLASS_OBSERVABLE = {"hbond": "ie_hbond", "halogen_bond": "ie_halogen_bond", "type_ii_xx": "ie_type_ii_halogen",
                    "type_i_xx": "ie_type_i_halogen", "halogen_halogen": "ie_type_i_halogen", "pi_stack": "ie_stack"}
GENERIC_OBSERVABLE = "ie_hbond"          # other and beyond-shell pairs: its tier notes are the generic S22 ones
# (hypothesis id or category) -> the contact classes whose energy it predicts in the target's crystal
ENERGY_SIGNATURES: dict[str, tuple[str, ...]] = {
    "halogen_bond": ("halogen_bond", "type_ii_xx"),
    "halogen_bond.type_ii_contact": ("type_ii_xx",),
    "halogen_bond.type_i_contact": ("type_i_xx",),
    "halogen_bond.xb_acceptor": ("halogen_bond",),
    "hbond_motif": ("hbond",),
    "hbond_motif.hbond_dimer": ("hbond",),
    "pi_stacking_quadrupole": ("pi_stack",),
}

# (hypothesis id or category) -> (feature-key prefixes that count, what they are in words)
SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "halogen_bond": (("type II X···X", "halogen bond"), "C-X···A halogen bonds or type II C-X···X-C contacts"),
    "halogen_bond.type_ii_contact": (("type II X···X",), "type II C-X···X-C contacts"),
    "halogen_bond.type_i_contact": (("type I X···X",), "type I C-X···X-C contacts"),
    "halogen_bond.xb_acceptor": (("halogen bond",), "C-X···A halogen bonds"),
    "hbond_motif": (("hbond ",), "D-H···A hydrogen bonds"),
    "hbond_motif.hbond_dimer": (("motif R", "motif C"), "an H-bonded ring (dimer) or chain motif"),
    "pi_stacking_quadrupole": (("pi-stacking",), "aromatic pi-stacking"),
}


def _signature(h: Hypothesis) -> tuple[tuple[str, ...], str] | None:
    return SIGNATURES.get(h.id) or (SIGNATURES.get(h.category) if h.kind == "cause" else None)


def read_crystals(series: Series, store=None, levels: tuple[str, ...] = ENERGY_LEVELS,
                  radius: float = CRYSTAL_RADIUS_ANGSTROM, budget_s: float = CRYSTAL_BUDGET_S,
                  energies: bool = True) -> CrystalFacts | None:
    """Read the series' CIFs (``observed['cif']``) and compare them; None when the series has none. With
    ``energies`` each crystal read gets its pair energies at ``levels[0]`` (:func:`fill_pair_energies`;
    ``store``: the run's result store, else the default one)."""
    from ..chem.crystal import read_cif
    from ..chem.crystal_contacts import compare_crystals, crystal_features, match_molecule

    rows = [(m, m.observed.get("cif")) for m in series.members if m.observed.get("cif")]
    if not rows:
        return None
    base = Path(series.source).parent if Path(series.source).suffix else Path(series.source)
    crystals, warnings, summaries = {}, [], {}
    for member, rel in rows:
        path = Path(rel) if Path(rel).is_absolute() else base / rel
        try:
            cr = read_cif(path, name=member.name)
        except Exception as exc:  # corrupt, truncated, missing: a warning, not a dead run
            warnings.append(f"{member.name}: could not read {rel}: {exc}")
            log.warning("%s: could not read %s: %s", member.name, rel, exc)
            continue
        for w in cr.warnings:
            warnings.append(f"{member.name} ({rel}): {w}")
        try:
            if not match_molecule(cr, member.mol()):
                warnings.append(f"{member.name} ({rel}): the crystal's molecules do not match the row's SMILES; "
                                "its contacts are used with caution")
        except Exception as exc:
            warnings.append(f"{member.name} ({rel}): could not match the molecule ({exc})")
        try:
            feats = dict(crystal_features(cr))
        except Exception as exc:
            warnings.append(f"{member.name} ({rel}): contact analysis failed ({exc}); crystal not used")
            continue
        crystals[member.name] = cr
        summaries[member.name] = {"cif": rel, "z": cr.z, "space_group": cr.space_group,
                                  "density": cr.density, "packing_coefficient": cr.packing_coefficient,
                                  "features": feats, "n_warnings": len(cr.warnings)}
    target = series.target.name
    out = CrystalFacts(crystals=summaries, warnings=warnings, target=target)
    ordered = {n: crystals[n] for n in [target] + [a.name for a in series.analogs] if n in crystals}
    if ordered:
        from ..tiers.store import ResultStore
        from .surface_facts import fill_surfaces

        store = store if store is not None else ResultStore()
        fill_surfaces(out, ordered, store)
    if energies and ordered:
        from .packing_facts import SWAP_BUDGET_S, fill_swaps

        fill_pair_energies(out, ordered, store, levels[0], radius, min(budget_s, CRYSTAL_BUDGET_S))
        if len(ordered) > 1:
            fill_swaps(out, ordered, series, store, min(SWAP_BUDGET_S, budget_s - out.energy_seconds))
    if target not in crystals:
        if any(m.name == target for m, _ in rows):
            out.facts.append(f"The target's crystal ({target}) could not be used; no crystal facts about it.")
        return out
    out.target_read = True
    analogs = [crystals[a.name] for a in series.analogs if a.name in crystals]
    cmp = compare_crystals(crystals[target], analogs)
    out.comparison = {k: cmp[k] for k in ("only_in_target", "absent_from_target", "per_analog")}
    out.target_features = sorted(cmp["features"][target])
    names = ", ".join(a.name for a in analogs)
    if analogs:
        for f in cmp["only_in_target"]:
            out.facts.append(f"{f} contacts in {target}'s crystal, absent from {names}'.")
        for f in cmp["absent_from_target"]:
            out.facts.append(f"{f} contacts in every analog's crystal ({names}), absent from {target}'s.")
        if not cmp["only_in_target"] and not cmp["absent_from_target"]:
            out.facts.append(f"{target}'s crystal shows the same kinds of contacts as {names}'.")
    else:
        kinds = ", ".join(out.target_features) or "no contact shorter than the vdW sum"
        out.facts.append(f"{target}'s crystal shows {kinds} (no analog crystal to compare with).")
    out.facts += energy_facts(out)
    from .packing_facts import swap_facts
    from .surface_facts import surface_facts

    out.facts += surface_facts(out) + swap_facts(out)
    return out


def energy_facts(c: CrystalFacts) -> list[str]:
    """The pair energies as facts: the pair-sum lattice energies, and each contact class whose part differs
    between the target's crystal and every analog's by 2σ or more."""
    t = c.pair_energies.get(c.target)
    if t is None:
        return []
    others = {n: pe for n, pe in c.pair_energies.items() if n != c.target}
    out = [f"Pair-sum lattice energies ({t.method}, pairs to {t.radius_angstrom:g} Å): " + ", ".join(
        f"{n} {pe.lattice_energy_kcal_mol:.2f}" for n, pe in c.pair_energies.items()) + " kcal/mol per molecule."]
    if not others:
        return out
    classes = list(dict.fromkeys(ce.contact for pe in c.pair_energies.values() for ce in pe.by_contact))
    for cls in classes:
        e_t = t.energy(cls)
        if all(abs(e_t - pe.energy(cls)) >= CLEAR_SIGMAS * t.sigma_kcal_mol for pe in others.values()):
            label = next(ce for pe in c.pair_energies.values() for ce in pe.by_contact if ce.contact == cls)
            share = f" ({100 * e_t / t.pair_sum_kcal_mol:.0f} % of its pair sum)" if e_t and t.pair_sum_kcal_mol else ""
            vs = ", ".join(f"{pe.energy(cls):.2f} in {n}'s" for n, pe in others.items())
            caveat = "" if label.adequate else f" (not adequate at tier {t.tier}: {label.adequacy_note})"
            out.append(f"{label.label} pairs carry {e_t:.2f} kcal/mol per molecule in {c.target}'s crystal{share}, "
                       f"against {vs}{caveat}.")
    return out


# ------------------------------------------------------------------ pair energies
def fill_pair_energies(out: CrystalFacts, crystals: dict, store=None, level: str = "classical",
                       radius: float = CRYSTAL_RADIUS_ANGSTROM, budget_s: float = CRYSTAL_BUDGET_S) -> None:
    """Pair energies of each crystal in ``crystals`` (name -> Crystal, in the order given: the target's
    first) into ``out.pair_energies``, until ``budget_s`` of wall time is spent; failures and skipped
    crystals become warnings."""
    import time

    from ..tiers.store import ResultStore

    store = store if store is not None else ResultStore()
    t0 = time.perf_counter()
    for k, (name, crystal) in enumerate(crystals.items(), start=1):
        spent = time.perf_counter() - t0
        if spent >= budget_s:
            rest = ", ".join(list(crystals)[k - 1:])
            out.warnings.append(f"pair energies not computed for {rest}: the crystal step's {budget_s:.0f} s "
                                f"were spent ({spent:.0f} s)")
            log.warning("crystal pair energies: budget spent, skipped %s", rest)
            break
        log.info("crystal pair energies %d/%d: %s at %s, pairs to %g Å", k, len(crystals), name, level, radius)
        try:
            out.pair_energies[name] = pair_energy_facts(name, crystal, store, level, radius)
        except Exception as exc:  # one crystal's failure leaves the others' numbers standing
            out.warnings.append(f"{name}: pair energies at {level} failed ({exc}); its crystal is not used as energy")
            log.warning("%s: crystal pair energies failed: %s", name, exc)
            continue
        pe = out.pair_energies[name]
        log.info("  %s: pair-sum lattice energy %.2f kcal/mol per molecule (%d pair classes, %.1f s)", name,
                 pe.lattice_energy_kcal_mol, pe.n_pair_classes, pe.seconds)
    out.energy_seconds = round(time.perf_counter() - t0, 2)


def pair_energy_facts(name: str, crystal, store, level: str = "classical",
                      radius: float = CRYSTAL_RADIUS_ANGSTROM) -> CrystalPairEnergies:
    """One crystal's pair-sum lattice energy at ``level`` and its split by contact class, each class with
    the store keys of its pairs' interaction energies (the numbers are crystal_views.crystal_report's)."""
    import time

    from ..tiers.crystal_energies import crystal_level
    from .crystal_views import CONTACT_CLASSES, contact_class, pairs_by_contact

    t0 = time.perf_counter()
    report = crystal_report_for(crystal, level, store, radius)
    pair_set, values, keys = report["_pair_set"], report["_energies"][level], report["_keys"][level]
    lv = crystal_level(level)
    ps = report["pair_sums"][level]
    total = ps["pair_sum_kcal_mol"]
    halogens = sorted({s for m in crystal.molecules for s in m.symbols} & {"Cl", "Br", "I"})
    by_contact = []
    for cls, pairs in sorted(pairs_by_contact(pair_set, values, contact_class).items(),
                             key=lambda kv: list(CONTACT_CLASSES).index(kv[0])):
        e = report["lattice_energy_by_contact_class"][level][cls]
        ok, note = class_adequacy(cls, lv.tier, halogens)
        classes = sorted({p.pair_class for p in pairs})
        by_contact.append(ContactEnergy(contact=cls, label=CONTACT_CLASSES[cls], energy_kcal_mol=round(e, 4),
                                        fraction=round(e / total, 4) if total else 0.0, pair_classes=classes,
                                        cache_keys=[keys[c] for c in classes if keys.get(c)], adequate=ok,
                                        adequacy_note=note))
    out = CrystalPairEnergies(
        member=name, tier=lv.tier, level=level, method=report["levels"][level], radius_angstrom=ps["radius_angstrom"],
        lattice_energy_kcal_mol=round(ps["lattice_energy_kcal_mol"], 4), pair_sum_kcal_mol=round(total, 4),
        surface_term_kcal_mol=round(ps["surface_term_kcal_mol"], 4),
        sigma_kcal_mol=SIGMA_CONTACT_KCAL_MOL.get(lv.tier, 1.0), n_pair_classes=ps["n_pair_classes"],
        by_contact=by_contact, notes=list(report.get("notes", [])))
    if halogens and lv.tier == 1:
        out.notes.append(f"the crystal has {', '.join(halogens)}: plain GAFF2 has no sigma hole, so its energies of "
                         "contacts involving them are too repulsive (GAFF2-EP, the extra-point model, is not run here)")
    out.framework_png = framework_png(crystal, pair_set, values, keys, store)
    out.seconds = round(time.perf_counter() - t0, 2)
    return out


def crystal_report_for(crystal, level: str, store, radius: float = CRYSTAL_RADIUS_ANGSTROM) -> dict:
    """The crystal_views report the facts are read from: pair sums at ``level``, no periodic run."""
    from .crystal_views import crystal_report

    return crystal_report(crystal, [level], store, radius=radius, periodic=False)


def class_adequacy(contact: str, tier: int, halogens: list[str] = ()) -> tuple[bool, str]:
    """Whether a contact class's pair energies at ``tier`` may be evidence, and the adequacy table's note."""
    from .observables import OBSERVABLES

    use = OBSERVABLES[CLASS_OBSERVABLE.get(contact, GENERIC_OBSERVABLE)].tiers.get(tier)
    if use is None:
        return False, f"tier {tier} is not in the adequacy table for this contact"
    note = use.note if contact in CLASS_OBSERVABLE else f"{use.note} (generic interaction energy)"
    if halogens and tier == 1 and contact not in CLASS_OBSERVABLE:
        note += f"; halogen ({', '.join(halogens)}) contacts in these pairs are too repulsive at plain GAFF2"
    return use.adequate, note


def framework_png(crystal, pair_set, values: dict, keys: dict, store) -> str | None:
    """An energy-framework PNG (crystal_views.framework_figure) kept beside the store by what it shows;
    None without matplotlib or when drawing fails (a picture is decoration)."""
    try:
        from importlib.metadata import version

        from .crystal_views import framework_figure
        from .views import cached_png

        content = [crystal.name, sorted(keys.values()), version("matplotlib")]
        return str(cached_png(store.content_dir, "framework", content,
                              lambda: framework_figure(crystal, pair_set, values).png(dpi=90)))
    except Exception as exc:
        log.info("no energy framework for %s: %s", crystal.name, exc)
        return None


def check(h: Hypothesis, crystal: CrystalFacts | None) -> CrystalCheck:
    """Whether a hypothesis is consistent with the target's crystal (consistent | inconsistent | not_applicable)."""
    if crystal is None or not crystal.target_read:
        return CrystalCheck(status="not_applicable", reason="no crystal structure of the target was read")
    sig = _signature(h)
    if sig is None:
        return CrystalCheck(status="not_applicable",
                            reason="the hypothesis has no contact signature that the crystal analysis can check")
    prefixes, words = sig
    feats = crystal.target_features
    seen = [f for f in feats if f.startswith(prefixes)]
    if not seen:
        return CrystalCheck(status="inconsistent",
                            reason=f"it predicts {words} in the target's crystal, and the observed crystal has none")
    only = set(crystal.comparison.get("only_in_target", []))
    tail = ("; only the target's crystal has them" if seen and all(f in only for f in seen)
            else "; analog crystals have them too, so they alone do not explain the difference"
            if len(crystal.crystals) > 1 else "")
    return CrystalCheck(status="consistent", reason=f"the target's crystal shows {', '.join(seen)}{tail}")


def _energy_signature(h: Hypothesis) -> tuple[str, ...] | None:
    return ENERGY_SIGNATURES.get(h.id) or (ENERGY_SIGNATURES.get(h.category) if h.kind == "cause" else None)


def energy_check(h: Hypothesis, crystal: CrystalFacts | None) -> CrystalEnergyCheck:
    """What the crystals' pair energies say about ``h`` (the rule and thresholds: module docstring)."""
    from .crystal_views import CONTACT_CLASSES
    from .packing_facts import SWAP_CATEGORIES, swap_check

    if crystal is None or not crystal.target_read:
        return CrystalEnergyCheck(status="not_applicable", reason="no crystal structure of the target was read")
    if h.category in SWAP_CATEGORIES and h.kind == "cause":  # shape is read off the swap, not a contact class
        return swap_check(h, crystal)
    classes = _energy_signature(h)
    if classes is None:
        return CrystalEnergyCheck(status="not_applicable", reason="the hypothesis names no contact class whose "
                                  "energy the crystal's pairs can show")
    t = crystal.pair_energies.get(crystal.target)
    if t is None:
        return CrystalEnergyCheck(status="not_applicable", contacts=list(classes),
                                  reason="the target's crystal has no pair energies (see the crystal warnings)")
    words = " and ".join(CONTACT_CLASSES[c] for c in classes) + " pairs"
    base = dict(contacts=list(classes), tier=t.tier, sigma_kcal_mol=t.sigma_kcal_mol)
    e_t = sum(t.energy(c) for c in classes)
    others = {n: sum(pe.energy(c) for c in classes) for n, pe in crystal.pair_energies.items() if n != crystal.target}
    base.update(target_kcal_mol=round(e_t, 2), analogs_kcal_mol={n: round(v, 2) for n, v in others.items()})
    bad = [c for c in classes if not class_adequacy(c, t.tier)[0]]
    if bad:
        return CrystalEnergyCheck(status="not_adequate", **base, reason=(
            f"{t.method} (tier {t.tier}) energies of {words} ({e_t:.2f} kcal/mol per molecule in "
            f"{crystal.target}'s crystal) are not adequate evidence: {class_adequacy(bad[0], t.tier)[1]}"))
    sig, lat = t.sigma_kcal_mol, t.pair_sum_kcal_mol
    if not any(c.contact in classes for c in t.by_contact):
        where = f"{crystal.target}'s crystal has no {words} (0 kcal/mol) at {t.method}"
    else:
        share = f" ({100 * e_t / lat:.0f} % of the pair sum {lat:.2f})" if abs(lat) > 1e-6 else ""
        where = f"{words} carry {e_t:.2f} kcal/mol per molecule{share} in {crystal.target}'s crystal at {t.method}"
    cmp = "; ".join(f"{n} {v:.2f}" for n, v in others.items())
    cmp = f"; in the analogs' crystals: {cmp}" if cmp else ""
    if e_t > -NEGLIGIBLE_SIGMAS * sig:
        return CrystalEnergyCheck(status="carries_nothing", **base, reason=(
            f"{where}: ~nothing (above -{NEGLIGIBLE_SIGMAS * sig:.1f}, σ/2 at the tier){cmp}"))
    if e_t > -CLEAR_SIGMAS * sig:
        return CrystalEnergyCheck(status="weak", **base, reason=f"{where}: within 2σ = {CLEAR_SIGMAS * sig:.1f} of "
                                  f"nothing, no verdict{cmp}")
    if not others:
        return CrystalEnergyCheck(status="not_applicable", **base,
                                  reason=f"{where}; no analog crystal's pair energies to compare with")
    shared = {n: v for n, v in others.items() if e_t - v > -CLEAR_SIGMAS * sig}
    if shared:
        return CrystalEnergyCheck(status="shared", **base, reason=(
            f"{where}{cmp}: {', '.join(shared)} within 2σ = {CLEAR_SIGMAS * sig:.1f} of it, so they do not "
            "explain the difference"))
    return CrystalEnergyCheck(status="supports", **base, reason=(
        f"{where}{cmp}: the target's exceeds every analog's by more than 2σ = {CLEAR_SIGMAS * sig:.1f}"))


def apply_checks(hypotheses: list[Hypothesis], crystal: CrystalFacts | None) -> None:
    """Lower the confidence of hypotheses inconsistent with the target's crystal (its contacts, or pair
    energies that give the hypothesis's contact ~nothing), raise those whose contact class carries a clear
    share of the target's lattice energy that the analogs' crystals lack; in place, with the reason, once."""
    if crystal is None or not crystal.target_read:
        return
    for h in hypotheses:
        if h.status == "rejected" or h.pinned:
            continue
        c, e = check(h, crystal), energy_check(h, crystal)
        if e.status == "supports":
            _raise(h, f"supported by the observed crystals' pair energies: {e.reason}")
            continue
        why = [c.reason] if c.status == "inconsistent" else []
        why += [f"its pair energies: {e.reason}"] if e.status == "carries_nothing" else []
        if why:
            _lower(h, f"inconsistent with the observed crystal: {'; '.join(why)} (confidence x{INCONSISTENT_FACTOR})")
        elif e.status in ("shared", "weak", "not_adequate"):
            _note(h, f"crystal pair energies left its confidence unchanged: {e.reason}")


def _note(h: Hypothesis, note: str, key: str | None = None) -> None:
    """``note`` into the history, once per ``key`` (the note without its changing numbers)."""
    if not any(x.startswith(key or note) for x in h.history):
        h.history.append(note)


def _lower(h: Hypothesis, note: str) -> None:
    if note not in h.reason:  # once per verdict: a reason left unchanged keeps its lowered confidence
        h.confidence = round(h.confidence * INCONSISTENT_FACTOR, 2)
        h.reason = f"{h.reason} [{note}]" if h.reason else note
        _note(h, note)


def _raise(h: Hypothesis, note: str) -> None:
    if note not in h.reason:
        new = max(h.confidence, min(round(h.confidence + SUPPORT_STEP, 2), SUPPORT_CAP))
        said = (f"{note} (confidence {h.confidence:.2f} -> {new:.2f})" if new > h.confidence else
                f"{note} (confidence stays {h.confidence:.2f}: tier 1-2 crystal energies give at most {SUPPORT_CAP})")
        h.confidence = new
        h.reason = f"{h.reason} [{said}]" if h.reason else said
        _note(h, said, key=note)


# ------------------------------------------------------------------ report
def crystal_json(v) -> dict | None:
    c = v.crystal
    if c is None:
        return None
    return {"facts": c.facts, "warnings": c.warnings, "crystals": c.crystals,
            "checks": {h.id: check(h, c).model_dump() for h in v.hypotheses},
            "pair_energies": {n: pe.model_dump(mode="json") for n, pe in c.pair_energies.items()},
            "energy_checks": {h.id: energy_check(h, c).model_dump(mode="json") for h in v.hypotheses},
            "swaps": [s.model_dump(mode="json") for s in c.swaps], "surface_shares": c.surface_shares}


def crystal_markdown(v) -> list[str]:
    """The report's crystal section: observed facts, warnings, and each hypothesis's consistency with them."""
    c = v.crystal
    if c is None:
        return []
    out = ["## Observed crystal structures", ""]
    rows = c.crystals
    if rows:
        out += ["| molecule | CIF | space group | Z | density g/cm3 | packing coeff. | contacts |", "|---|---|---|---|---|---|---|"]
        for name, r in rows.items():
            feats = "<br>".join(f"{k} ×{n}" for k, n in sorted(r.get("features", {}).items())) or "—"
            dens = "—" if r.get("density") is None else f"{r['density']:.3f}"
            pc = "—" if r.get("packing_coefficient") is None else f"{r['packing_coefficient']:.3f}"
            out.append(f"| {name} | `{r['cif']}` | {r.get('space_group') or '—'} | {r.get('z')} | {dens} | {pc} | {feats} |")
        out += [""]
    if c.facts:
        out += ["**Facts to explain**", ""] + [f"- {f}" for f in c.facts] + [""]
    for pe in c.pair_energies.values():
        out += pair_energy_markdown(pe)
    from .packing_facts import swap_markdown
    from .surface_facts import surface_markdown

    out += swap_markdown(c) + surface_markdown(c)
    if c.warnings:
        out += ["**Crystal warnings** (the analysis went on with what was sound)", ""] + [
            f"- {w}" for w in c.warnings] + [""]
    out += ["**Consistency of each hypothesis with the target's crystal**", "",
            "| hypothesis | status | check | why |", "|---|---|---|---|"]
    for h in sorted(v.hypotheses, key=lambda h: (h.priority, h.id)):
        ck = check(h, c)
        out.append(f"| {h.id} | {h.status} | {ck.status} | {ck.reason} |")
    out += [""]
    if c.pair_energies or c.swaps:
        out += ["**What the crystals' energies say about each hypothesis** (rule: a contact class carrying "
                f"at least {CLEAR_SIGMAS:g}σ of the target's lattice energy, and {CLEAR_SIGMAS:g}σ more than in "
                f"every analog's crystal, supports; one above -{NEGLIGIBLE_SIGMAS:g}σ carries ~nothing; shape is "
                "read off the target's swap penalties in the analogs' packings)", "",
                "| hypothesis | confidence | energy check | why |", "|---|---|---|---|"]
        for h in sorted(v.hypotheses, key=lambda h: (h.priority, h.id)):
            ek = energy_check(h, c)
            out.append(f"| {h.id} | {h.confidence:.2f} | {ek.status} | {ek.reason} |")
        out += [""]
    return out


def pair_energy_markdown(pe: CrystalPairEnergies) -> list[str]:
    """One crystal's lattice-energy split by contact class, each class with the keys of its stored pair energies."""
    from .views import short_key

    out = [f"**Pair energies in {pe.member}'s crystal** ({pe.method}, tier {pe.tier}; pairs to "
           f"{pe.radius_angstrom:g} Å, {pe.n_pair_classes} pair classes): pair-sum lattice energy "
           f"**{pe.lattice_energy_kcal_mol:.2f} kcal/mol per molecule**"
           + (f" (surface term {pe.surface_term_kcal_mol:.2f} taken off the sum {pe.pair_sum_kcal_mol:.2f})"
              if abs(pe.surface_term_kcal_mol) >= 0.005 else "")
           + f"; σ of a class {pe.sigma_kcal_mol:.1f} kcal/mol.", "",
           "| contact class | kcal/mol per molecule | share of the pair sum | pair classes | stored results | "
           "adequate at the tier |", "|---|---|---|---|---|---|"]
    for ce in pe.by_contact:
        keys = ", ".join(f"`{short_key(k)}`" for k in ce.cache_keys[:3])
        keys += f" +{len(ce.cache_keys) - 3} more" if len(ce.cache_keys) > 3 else ""
        out.append(f"| {ce.label} | {ce.energy_kcal_mol:.2f} | {100 * ce.fraction:.0f} % | {len(ce.pair_classes)} | "
                   f"{keys or '—'} | {'yes' if ce.adequate else 'no'}: {ce.adequacy_note} |")
    return out + [""] + [f"- {n}" for n in pe.notes] + ([""] if pe.notes else [])


def crystal_figures(v) -> dict:
    """The energy-framework PNGs the crystal step kept (``framework:<member>`` -> views.FigureFile) and the
    fingerprints (``fingerprints``), for the report's figures."""
    from pathlib import Path

    from .views import FigureFile

    c = v.crystal
    out = {}
    for k, pe in enumerate((c.pair_energies.values() if c is not None else []), start=1):
        path = Path(pe.framework_png) if pe.framework_png else None
        if path is not None and path.exists():
            out[f"framework:{pe.member}"] = FigureFile(
                f"framework_{k}.png", f"Energy framework of {pe.member}'s crystal ({pe.method}): a line between "
                "the centroids of each shell pair, width by |E_pair|, colour by contact type", path.read_bytes())
    path = Path(c.fingerprint_png) if c is not None and c.fingerprint_png else None
    if path is not None and path.exists():
        out["fingerprints"] = FigureFile("fingerprints.png", "Hirshfeld surface fingerprints of the crystals side by "
                                         "side (d_i/d_e, area-weighted), with each one's element-pair shares",
                                         path.read_bytes())
    return out
