"""The built-in hypothesis library.

Each entry explains why a *target* molecule packs differently from its
*analogs*. An entry has an applicability rule (no halogen-bond hypothesis for a
series without Cl/Br/I), an optional structural *feature* (a hypothesis whose
feature the target shares with an analog cannot explain why the target differs,
so it is rejected at once, with that reason), observables computable at named
tiers, and the direction in which the target must differ if it is true.

Root cause vs mechanism: a *cause* hypothesis names a property of the molecule
(a sigma hole, an H-bond donor); its *mechanism* hypotheses name the contact
motif through which it would act, with ``mechanism_of`` pointing at the cause.

Category identifiers (stable; used in ``conclusion.json``):

==========================  ===============================================================
``halogen_bond``            sigma hole on Cl/Br/I and the halogen contacts it drives
                            (mechanisms: type II C-X···X-C, type I C-X···X-C, C-X···A)
``hbond_motif``             H-bond donor/acceptor pattern and its dimer/chain motif
``intramolecular_hbond``    an intramolecular H-bond that hides a donor
``conformational_flexibility``  rotatable bonds and low-energy conformers
``pi_stacking_quadrupole``  aromatic stacking and quadrupole electrostatics
``dipole_antiparallel``     a molecular dipole driving antiparallel packing
``shape_sterics``           molecular shape and steric bulk
``tautomerism``             a different tautomer in the solid
``dispersion_polarisability``  London dispersion / polarisability of the whole molecule
``other``                   scientist- or LLM-proposed hypotheses outside these
==========================  ===============================================================

Mechanism ids are ``<category>.<motif>``, e.g. ``halogen_bond.type_ii_contact``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..chem.features import (donor_feature, has_n_o_or_s, heavy_halogen_feature, intramolecular_pair_feature,
                             is_aromatic, rotor_feature, tautomer_feature)
from ..chem.molecule import Molecule
from .state import Hypothesis, ObservableUse

CATEGORIES = (
    "halogen_bond", "hbond_motif", "intramolecular_hbond", "conformational_flexibility",
    "pi_stacking_quadrupole", "dipole_antiparallel", "shape_sterics", "tautomerism",
    "dispersion_polarisability", "other",
)

Feature = Callable[[Molecule], object]


# ------------------------------------------------------------------ the library
@dataclass(frozen=True)
class MechanismTemplate:
    motif: str
    statement: str
    observable: str
    applicable: Callable[[list[Molecule]], bool] = lambda ms: True


@dataclass(frozen=True)
class Template:
    category: str
    statement: str
    applicable: Callable[[list[Molecule]], tuple[bool, str]]
    observables: tuple[ObservableUse, ...]
    feature: Feature | None = None
    feature_name: str = ""
    mechanisms: tuple[MechanismTemplate, ...] = ()
    priority: int = 5


def _any(pred, why_not: str):
    def rule(ms: list[Molecule]) -> tuple[bool, str]:
        ok = any(pred(m) for m in ms)
        return ok, "" if ok else why_not
    return rule


def _always(ms: list[Molecule]) -> tuple[bool, str]:
    return True, ""


LIBRARY: tuple[Template, ...] = (
    Template(
        "halogen_bond",
        "{target}'s heavier halogen carries a deeper sigma hole (a positive cap of electrostatic potential "
        "on the C-X axis) than its analogs', and the halogen contacts it drives direct the packing.",
        _any(lambda m: bool(heavy_halogen_feature(m)), "no member carries Cl, Br or I bonded to carbon"),
        (ObservableUse(observable="halogen_charge", role="indicator", direction="higher"),
         ObservableUse(observable="md_type_ii_propensity", role="indicator", direction="higher"),
         ObservableUse(observable="md_type_ii_propensity_gaff2", role="indicator", direction="higher"),
         ObservableUse(observable="sigma_hole", role="decisive", direction="higher")),
        feature=heavy_halogen_feature, feature_name="heaviest C-bound halogen",
        mechanisms=(
            MechanismTemplate("type_ii_contact", "through type II C-X···X-C contacts (C-X···X 180°, X···X-C 90°: "
                              "one halogen's sigma hole meets the other's negative belt)", "ie_type_ii_halogen"),
            MechanismTemplate("type_i_contact", "through type I C-X···X-C contacts (symmetric angles, "
                              "a close-packing contact without sigma-hole alignment)", "ie_type_i_halogen"),
            MechanismTemplate("xb_acceptor", "through linear C-X···A halogen bonds to an N/O/S acceptor",
                              "ie_halogen_bond", applicable=lambda ms: any(has_n_o_or_s(m) for m in ms)),
        ),
        priority=3,
    ),
    Template(
        "hbond_motif",
        "{target}'s hydrogen-bond donor/acceptor pattern, which its analogs lack, builds an H-bonded motif "
        "(dimer or chain) that dominates its packing.",
        _any(lambda m: bool(donor_feature(m)), "no member has an N-H or O-H donor"),
        # the polar-H count points where to look; the H-bond energy per molecule with every donor used decides
        # (a dimer alone misses a primary amide's second N-H), the dimer's and the chain's energies and the
        # dimer-vs-chain preference say which motif the molecule would build
        (ObservableUse(observable="n_polar_hydrogens", role="indicator", direction="differs"),
         ObservableUse(observable="hbond_network_energy", role="decisive", direction="lower"),
         ObservableUse(observable="hbond_dimer_energy", role="indicator", direction="lower"),
         ObservableUse(observable="hbond_chain_energy", role="indicator", direction="lower"),
         ObservableUse(observable="hbond_motif_preference", role="indicator", direction="differs")),
        feature=donor_feature, feature_name="polar hydrogens",
        mechanisms=(MechanismTemplate("hbond_dimer", "through a D-H···A hydrogen-bonded dimer/chain", "ie_hbond"),),
        priority=3,
    ),
    Template(
        "intramolecular_hbond",
        "An intramolecular hydrogen bond in {target} hides its donor from intermolecular contacts.",
        _any(lambda m: intramolecular_pair_feature(m) > 0,
             "no member has a donor and acceptor placed to close a 5- or 6-membered ring"),
        # free_polar_hydrogens: is the locked donor still available for an intermolecular H-bond (fewer free)
        (ObservableUse(observable="intramolecular_hbonds", role="indicator", direction="differs"),
         ObservableUse(observable="hbond_occupancy", role="indicator", direction="higher"),
         ObservableUse(observable="free_polar_hydrogens", role="indicator", direction="lower"),
         ObservableUse(observable="hbond_lock_energy", role="decisive", direction="higher")),
        feature=intramolecular_pair_feature, feature_name="donor/acceptor pairs closing a 5-6-membered ring",
    ),
    Template(
        "conformational_flexibility",
        "{target}'s conformational freedom (rotors, low-energy conformers) differs from its analogs' and "
        "lets it adopt a different packing.",
        _any(lambda m: rotor_feature(m) > 0, "all members are rigid (no rotatable bond)"),
        # the rotor count points where to look; the conformers populated within 2 kcal/mol and the
        # conformational entropy a crystal gives up, each relaxed at the tier, decide
        (ObservableUse(observable="n_rotatable_bonds", role="indicator", direction="differs"),
         ObservableUse(observable="conformers_within_2kcal", role="decisive", direction="differs"),
         ObservableUse(observable="conformational_entropy_ts", role="decisive", direction="differs")),
        feature=rotor_feature, feature_name="rotatable bonds",
    ),
    Template(
        "pi_stacking_quadrupole",
        "Aromatic stacking (quadrupole electrostatics plus dispersion) is stronger in {target} and favours a "
        "stacked packing its analogs do not adopt.",
        _any(is_aromatic, "no member is aromatic"),
        # the ring quadrupole says which contact its electrostatics favour; the stack's energy and its
        # preference over the T-shaped (edge-to-face) contact decide
        (ObservableUse(observable="ring_quadrupole", role="indicator", direction="differs"),
         ObservableUse(observable="ie_stack", role="decisive", direction="lower"),
         ObservableUse(observable="stack_vs_t", role="decisive", direction="lower")),
    ),
    Template(
        "dipole_antiparallel",
        "{target}'s larger dipole moment drives an antiparallel packing its analogs do not need.",
        _always,
        (ObservableUse(observable="dipole", role="decisive", direction="higher"),),
        mechanisms=(MechanismTemplate("antiparallel_pair", "through antiparallel dipole pairs (stacked, at van der "
                                      "Waals contact)", "ie_antiparallel"),),
    ),
    Template(
        "shape_sterics",
        "{target}'s molecular shape or steric bulk differs enough from its analogs' that their packing does "
        "not fit it.",
        _always,
        (ObservableUse(observable="asphericity", role="decisive", direction="differs"),
         ObservableUse(observable="npr1", role="decisive", direction="differs")),
    ),
    Template(
        "tautomerism",
        "{target} crystallises as a different tautomer than the one drawn, unlike its analogs.",
        _any(lambda m: tautomer_feature(m) > 1, "no member has more than one tautomer"),
        # E(drawn) - E(best alternative): higher for the target = its alternative is within reach
        (ObservableUse(observable="tautomer_energy", role="indicator", direction="higher"),
         ObservableUse(observable="tautomer_energy_dimer", role="indicator", direction="higher"),
         ObservableUse(observable="tautomer_energy_polar", role="decisive", direction="higher")),
        feature=tautomer_feature, feature_name="number of tautomers (RDKit enumerator)",
    ),
    Template(
        "dispersion_polarisability",
        "{target}'s larger polarisability strengthens London dispersion in every contact and so favours a "
        "denser, different packing.",
        _always,
        (ObservableUse(observable="molar_refractivity", role="indicator", direction="higher"),
         ObservableUse(observable="stack_dispersion", role="indicator", direction="lower"),
         ObservableUse(observable="polarizability", role="decisive", direction="higher")),
    ),
)
TEMPLATES = {t.category: t for t in LIBRARY}


@dataclass
class Screening:
    """What the library made of a series: hypotheses, and what it skipped or rejected at once, with why."""

    hypotheses: list[Hypothesis] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)


def screen(target: Molecule, analogs: list[Molecule]) -> Screening:
    """Instantiate the library for a series: applicability, then the shared-feature test."""
    out = Screening()
    members = [target, *analogs]
    for t in LIBRARY:
        ok, why = t.applicable(members)
        if not ok:
            out.not_applicable.append(f"{t.category}: not applicable: {why}.")
            continue
        statement = t.statement.format(target=target.label)
        cause = Hypothesis(id=t.category, category=t.category, statement=statement, kind="cause",
                           observables=list(t.observables), priority=t.priority)
        if t.feature is not None:
            mine = t.feature(target)
            shared = [a.label for a in analogs if t.feature(a) == mine]
            if shared:
                what = f"{t.feature_name} = {mine!r}" if mine not in ("", 0) else f"no {t.feature_name}"
                cause.status = "rejected"
                cause.reason = (f"the feature is shared: {target.label} and {', '.join(shared)} have the same "
                                f"{what}, so it cannot explain why {target.label} packs differently")
                cause.history.append(f"rejected at intake: {cause.reason}")
        out.hypotheses.append(cause)
        for mech in t.mechanisms:
            if not mech.applicable(members):
                continue
            h = Hypothesis(id=f"{t.category}.{mech.motif}", category=t.category, kind="mechanism",
                           mechanism_of=cause.id, statement=f"The {t.category.replace('_', ' ')} acts {mech.statement}.",
                           observables=[ObservableUse(observable=mech.observable, role="decisive", direction="lower")],
                           priority=t.priority + 1)
            if cause.status == "rejected":
                h.status = "rejected"
                h.reason = f"its cause ({cause.id}) was rejected"
                h.history.append(f"rejected at intake: {h.reason}")
            out.hypotheses.append(h)
    return out
