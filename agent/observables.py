"""Observables: what the agent measures, how each maps to calculation specs at a
tier, how the number is read back from results, and what each tier can see.

Every number the agent uses comes from here, and every spec is built through the
task catalogue (:func:`tierchem.tiers.make_spec`); the agent never calls an engine.

The adequacy table (``OBSERVABLES[name].tiers[tier]``) says, per observable and
tier: whether the tier can compute it at all (``computable``), whether a verdict
may rest on it (``adequate``), the uncertainty ``sigma`` of a *comparison across
a homologous series* at that tier (benchmark MAE against CCSD(T)/CBS, halved
because systematic errors largely cancel for the same motif in close analogs —
an assumption stated in every report), and a note in words. Examples:

- a point-charge force field (tier 1) has no sigma hole: it cannot compute one
  and its halogen-contact energies are not adequate for a halogen-bond verdict;
- GFN2-xTB has no ESP on a density isosurface, and atomic charges cannot show
  the anisotropic sigma hole;
- MP2 in a small basis overbinds stacked aromatics (tier 4 stacking inadequate);
- DFT interaction energies are adequate only with counterpoise in def2-SVP
  (without it, basis-set superposition overbinds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from ..chem.elements import SIGMA_HOLE_HALOGENS as HEAVY_HALOGENS  # heaviest first
from ..chem.molecule import Molecule
from ..tiers.catalogue import make_spec
from ..tiers.spec import CalcResult, CalcSpec

log = logging.getLogger(__name__)

TIER_LEVEL = {0: "mmff", 1: "classical", 2: "xtb", 3: "dft", 4: "mp2"}


class NotApplicable(Exception):
    """The molecule lacks the feature the observable measures (no donor for an H-bond dimer, no heavy
    halogen for a sigma hole): absence is data, not a failure.

    ``value`` is what that absence means for the comparison (0.0 kcal/mol: the contact cannot form, no
    sigma hole), or None when there is nothing to compare; the message is the reason, shown in the evidence.
    """

    def __init__(self, reason: str, value: float | None = None):
        super().__init__(reason)
        self.value = value


class UnfitGeometry(ValueError):
    """A built contact geometry is not fit to be evidence (atoms clash; a repulsive energy of tens of
    kcal/mol or more): a failed build, recorded with this reason, whose number reaches no verdict (a
    ValueError, so a reader that catches those records it as a failure)."""


CLASH_ENERGY_KCAL_MOL = 10.0
"""A rule-built contact between neutral molecules more repulsive than this is a clash, not a measurement
(the issue's N,N-dimethyl amide stack came out at +340 kcal/mol)."""


@dataclass(frozen=True)
class TierUse:
    computable: bool
    adequate: bool
    sigma: float
    note: str
    # elements this tier cannot be trusted with for this observable (e.g. GFN2-xTB dipoles of
    # iodoarenes): with any of them in the series the tier is not adequate, for the reason in ``note``
    distrusted_elements: tuple[str, ...] = ()
    # ...unless every member's value is within this of zero: a property that vanishes by symmetry (the
    # dipole of 1,4-diiodobenzene) vanishes in every model, whatever its error on non-zero values
    exact_near_zero: float = 0.0

    def for_molecules(self, molecules: Sequence[Molecule], values: Sequence[float | None] = ()) -> TierUse:
        """This use for a series: not adequate when a member carries a distrusted element, unless all
        ``values`` vanish (|x| <= ``exact_near_zero``)."""
        bad = sorted({s for m in molecules for s in m.symbols} & set(self.distrusted_elements))
        if not bad or not self.adequate:
            return self
        if values and all(x is not None and abs(x) <= self.exact_near_zero for x in values):
            return replace(self, note=f"{self.note}; every value vanishes (by symmetry), which no error of "
                                      f"this tier with {', '.join(bad)} changes")
        return replace(self, adequate=False, note=f"not adequate with {', '.join(bad)} in the series: {self.note}")


@dataclass(frozen=True)
class Observable:
    name: str
    description: str
    unit: str
    task: str
    tiers: dict[int, TierUse]
    build: Callable[[Molecule], Sequence[Molecule]] = field(default=lambda m: [m])
    read: Callable[[Molecule, CalcResult], float] = field(default=lambda m, r: float("nan"))
    keywords: dict = field(default_factory=dict)
    method: str | None = None  # None: the tier's method for the task (tiers.levels.TASK_METHODS)

    def use(self, tier: int) -> TierUse:
        return self.tiers.get(tier, TierUse(False, False, float("inf"), f"not computable at tier {tier}"))

    def computable_tiers(self) -> list[int]:
        return sorted(t for t, u in self.tiers.items() if u.computable)

    def adequate_tiers(self) -> list[int]:
        return sorted(t for t, u in self.tiers.items() if u.computable and u.adequate)


# ------------------------------------------------------------------ readers
def _descriptor(key: str):
    return lambda m, r: float(r.value(key))


def _dipole(m: Molecule, r: CalcResult) -> float:
    if "dipole_magnitude_debye" in r.values:
        return float(r.values["dipole_magnitude_debye"])
    d = r.value("dipole_debye")
    return float(np.linalg.norm(d)) if isinstance(d, (list, tuple)) else abs(float(d))


BOLTZMANN_KCAL_MOL = 0.0019872043 * 298.15  # RT at 298.15 K


def _boltzmann_dipole(m: Molecule, r: CalcResult) -> float:
    """sqrt(<mu^2>) over the conformers with Boltzmann weights at 298 K from the tier's energies (the
    dipole a gas-phase dielectric or Stark measurement of a conformer mixture sees); a rigid molecule
    has one conformer and its own dipole."""
    if "dipoles_debye" not in r.values:  # a plain properties result
        return _dipole(m, r)
    rel = np.asarray(r.value("relative_energies_kcal_mol"), float)
    mu = np.asarray(r.value("dipoles_debye"), float)
    w = np.exp(-(rel - rel.min()) / BOLTZMANN_KCAL_MOL)
    return float(np.sqrt((w * mu ** 2).sum() / w.sum()))


_DIPOLE_T2 = ("GFN2-xTB, Boltzmann over the relaxed conformers; vs measured gas-phase dipoles (benchmarks/dipoles.py) "
              "MAE 0.25 D on 11 molecules without Br/I (Cl 0.14 on 2; fluorobenzene +0.59), 1.96 D on 4 with Br or I "
              "(Br +1.9, I +2.0: iodobenzene 3.68 D vs 1.70)")
_DIPOLE_T3 = ("B3LYP/def2-SVP at the MMFF94 conformers, Boltzmann-averaged; vs measured gas-phase dipoles "
              "(benchmarks/dipoles.py) MAE 0.14 D on 15, 0.16 D on the 4 with Br or I")


def _heaviest_halogen(m: Molecule) -> int | None:
    for el in HEAVY_HALOGENS:
        for i, s in enumerate(m.symbols):
            if s == el:
                return i
    return None


def _halogen_charge(m: Molecule, r: CalcResult) -> float:
    i = _heaviest_halogen(m)
    if i is None:
        raise NotApplicable(f"{m.label} has no Cl, Br or I")
    for key in ("charges", "mulliken_charges", "esp_charges"):
        if key in r.values:
            return float(r.values[key][i])
    raise KeyError("no atomic charges in the result")


def _needs_sigma_hole_atom(m: Molecule) -> list[Molecule]:
    if _heaviest_halogen(m) is None:
        raise NotApplicable(f"{m.label} has no Cl, Br or I: no sigma hole (0 kcal/mol)", value=0.0)
    return [m]


def _sigma_hole(m: Molecule, r: CalcResult) -> float:
    holes = r.value("sigma_hole_kcal_mol") or {}
    if not holes:
        raise NotApplicable(f"{m.label}: no sigma hole on the bond axis of any Cl/Br/I (0 kcal/mol)", value=0.0)
    return float(max(holes.values()))


def _polar_hydrogens(m: Molecule, r: CalcResult) -> float:
    """H atoms bonded to N or O, from the molecular graph (primary amide 2, N-methyl 1, N,N-dimethyl 0)."""
    from ..chem.features import polar_hydrogen_count

    return float(polar_hydrogen_count(m))


def _interaction(m: Molecule, r: CalcResult) -> float:
    e = float(r.value("interaction_energy_kcal_mol"))
    if e > CLASH_ENERGY_KCAL_MOL:
        raise UnfitGeometry(f"failed build: the rule-built contact of {m.label} is repulsive by {e:+.0f} kcal/mol "
                            f"(over +{CLASH_ENERGY_KCAL_MOL:.0f}): its atoms clash; the number is not used")
    return e


def _n_low_conformers(m: Molecule, r: CalcResult) -> float:
    return float(sum(1 for e in r.value("relative_energies_kcal_mol") if e <= 2.0))


def _intramolecular_hbonds(m: Molecule, r: CalcResult) -> float:
    """Intramolecular D-H···A bonds (chem.hbonds criterion) in the lowest conformer."""
    mols = r.molecules()
    if not mols:
        return 0.0
    rel = r.value("relative_energies_kcal_mol")
    best = mols[int(np.argmin(rel))] if rel else mols[0]
    return float(len(intramolecular_hbond_pairs(best)))


def intramolecular_hbond_pairs(m: Molecule) -> list[tuple[int, int]]:
    """(H, acceptor) of the intramolecular H-bonds formed in ``m``'s geometry (chem.hbonds: the one criterion)."""
    from ..chem.hbonds import intramolecular_hbonds_in

    return [(h, a) for _, h, a in intramolecular_hbonds_in(m)]


# ------------------------------------------------------------------ dimer builders
def _needs_halogen(m: Molecule) -> None:
    if _heaviest_halogen(m) is None:
        raise NotApplicable(f"{m.label} has no Cl, Br or I: the halogen contact cannot form", value=0.0)


def _type_ii(m: Molecule):
    from ..chem.dimers import type_ii_halogen_contact

    _needs_halogen(m)
    return type_ii_halogen_contact(m, m)


def _type_i(m: Molecule):
    from ..chem.dimers import type_i_halogen_contact

    _needs_halogen(m)
    return type_i_halogen_contact(m, m)


def _xb(m: Molecule):
    from ..chem.dimers import halogen_bond_dimer

    _needs_halogen(m)
    acc = [i for i, s in enumerate(m.symbols) if s in ("N", "O", "S")]
    if not acc:
        raise NotApplicable(f"{m.label} has no N, O or S acceptor for a C-X···A halogen bond", value=0.0)
    return halogen_bond_dimer(m, m, acceptor=acc[0])


def _stack(m: Molecule):
    from ..chem.dimers import stacked_dimer

    return stacked_dimer(m, m)


def _hbond(m: Molecule):
    from ..chem.dimers import find_polar_hydrogen, hbond_dimer
    from ..chem.errors import MoleculeError

    try:
        find_polar_hydrogen(m)
    except MoleculeError:
        raise NotApplicable(f"{m.label} has no N-H or O-H donor: the H-bond dimer cannot form", value=0.0) from None
    acc = [i for i, s in enumerate(m.symbols) if s in ("O", "N")]
    # prefer a carbonyl/ether O or N that is not the donor's own heavy atom
    _, donor = find_polar_hydrogen(m)
    acc = [a for a in acc if a != donor] or acc
    return hbond_dimer(m, m, acceptor=acc[0])


# ------------------------------------------------------------------ the table
_DESC0 = {0: TierUse(True, True, 0.0, "RDKit descriptor from the MMFF94 geometry")}
_COUNT0 = {0: TierUse(True, True, 0.1, "a count from the molecular graph: exact (0.1 keeps z finite)")}

_IE_NOTE_T1 = "GAFF2/AM1-BCC: S22 MAE 1.28 kcal/mol; isotropic point charges"
_IE_NOTE_T2 = "GFN2-xTB: S22 MAE 0.78, X40 0.86 kcal/mol"
_IE_NOTE_T3 = "B3LYP-D3(BJ)/def2-SVP with counterpoise: S22 MAE 0.32, X40 0.45 kcal/mol"
_IE_NOTE_T4 = "DF-MP2/def2-SVP CP: S22 MAE 1.97 kcal/mol, worse than DFT-D in this basis"
# X40 C-X entries (tierchem benchmark x40 --tier classical [--method GAFF2-EP] --json: by_halogen_c_bound),
# MAE/MSE kcal/mol, re-measured with GAFF2 params v3 (unchanged): plain GAFF2 Cl 1.56/+1.52, Br 3.37/+3.37,
# I 5.50/+5.50 (every halogen bond repulsive); GAFF2-EP, its extra points fitted to these entries, leave-one-out
# MAE Cl 0.87, Br 0.42, I 0.67 (in sample 0.72/+0.56, 0.35/+0.02, 0.49/+0.04). XB18 (no C-X: dihalogen and HX
# donors, so EP = plain) MAE Br 15.41, I 16.28, all repulsive. Neither carries a tier-1 verdict: EP's Cl and I
# errors out of sample exceed the tier's 0.65, and XB18 does not test it.
_XB_NOTE_T1 = ("GAFF2/AM1-BCC has no sigma hole: X40 C-X MAE Cl 1.56, Br 3.37, I 5.50 kcal/mol, all too repulsive; "
               "XB18 (X2, XY, HX donors) 15.4-16.3, all repulsive (GAFF2-EP, a sigma-hole extra point fitted to X40, "
               "gets Cl 0.87, Br 0.42, I 0.67 leave-one-out -- Cl and I still beyond this tier's 0.65 -- and is not "
               "what this tier runs)")


def _ie_tiers(t1_adequate: bool = True, t1_note: str = _IE_NOTE_T1, t4_note: str = _IE_NOTE_T4) -> dict[int, TierUse]:
    return {
        1: TierUse(True, t1_adequate, 0.65, t1_note),
        2: TierUse(True, True, 0.43, _IE_NOTE_T2),
        3: TierUse(True, True, 0.25, _IE_NOTE_T3),
        4: TierUse(True, False, 1.0, t4_note),
    }


OBSERVABLES: dict[str, Observable] = {o.name: o for o in [
    Observable("molar_refractivity", "Crippen molar refractivity (polarisability proxy)", "cm3/mol",
               "descriptors", {0: TierUse(True, True, 0.5, "Crippen atom contributions")},
               read=_descriptor("molar_refractivity")),
    Observable("molecular_volume", "van der Waals volume", "Å^3", "descriptors",
               {0: TierUse(True, True, 3.0, "grid volume, Bondi radii")},
               read=_descriptor("molecular_volume_angstrom3")),
    Observable("asphericity", "shape: asphericity from the inertia tensor (0 sphere, 1 rod)", "", "descriptors",
               {0: TierUse(True, True, 0.05, "from one MMFF94 conformer")}, read=_descriptor("asphericity")),
    Observable("npr1", "shape: normalised principal-moment ratio I1/I3 (0 rod/disc)", "", "descriptors",
               {0: TierUse(True, True, 0.03, "from one MMFF94 conformer")}, read=_descriptor("npr1")),
    Observable("n_hbond_donors", "H-bond donor atoms (RDKit NumHDonors: N or O bearing H; NH2 and NH both 1)",
               "count", "descriptors", dict(_COUNT0), read=_descriptor("n_hbond_donors")),
    Observable("n_polar_hydrogens", "polar hydrogens: H bonded to N or O, each one an H-bond donor "
               "(primary amide 2, N-methyl amide 1, N,N-dimethyl amide 0)", "count", "descriptors", dict(_COUNT0),
               read=_polar_hydrogens),
    Observable("n_hbond_acceptors", "number of H-bond acceptors", "count", "descriptors", dict(_COUNT0),
               read=_descriptor("n_hbond_acceptors")),
    Observable("n_rotatable_bonds", "number of rotatable bonds", "count", "descriptors", dict(_COUNT0),
               read=_descriptor("n_rotatable_bonds")),
    Observable("n_low_conformers", "MMFF94 conformers within 2 kcal/mol of the lowest", "count", "conformers",
               {0: TierUse(True, True, 0.5, "MMFF94 ETKDG ensemble, RMSD-pruned")},
               read=_n_low_conformers, keywords={"n_conformers": 20}),
    Observable("intramolecular_hbonds", "intramolecular H-bonds in the lowest MMFF94 conformer", "count",
               "conformers", {0: TierUse(True, True, 0.35, "the chem.hbonds criterion (H···A distance, D-H···A "
                                                           "angle; five-membered rings included)")},
               read=_intramolecular_hbonds, keywords={"n_conformers": 20}),
    Observable("dipole", "dipole moment magnitude, Boltzmann-averaged over the conformers (rms, 298 K)", "D",
               "conformers", {
        1: TierUse(False, False, 0.5, "the classical tier reports no dipole task"),
        2: TierUse(True, True, 0.3, _DIPOLE_T2, distrusted_elements=("Br", "I"), exact_near_zero=0.1),
        3: TierUse(True, True, 0.15, _DIPOLE_T3),
    }, read=_boltzmann_dipole, keywords={"max_conformers": 4}),
    Observable("halogen_charge", "partial charge on the heaviest halogen", "e", "properties", {
        2: TierUse(True, False, 0.02, "an atomic charge is isotropic: it cannot show a sigma hole"),
        3: TierUse(True, False, 0.02, "ESP-fitted charges average the sigma hole away"),
    }, read=_halogen_charge),
    Observable("sigma_hole", "V_s on the 0.001 au isosurface along the C-X axis (largest in the molecule)",
               "kcal/mol", "esp", {
        1: TierUse(False, False, float("inf"), "point-charge force field: no sigma hole"),
        2: TierUse(False, False, float("inf"), "GFN2-xTB here gives no ESP on a density isosurface"),
        3: TierUse(True, True, 1.5, "B3LYP-D3(BJ)/def2-SVP ESP (def2 ECP on I)"),
    }, build=_needs_sigma_hole_atom, read=_sigma_hole),
    Observable("ie_type_ii_halogen", "interaction energy of the type II C-X···X-C contact (180°/90°)", "kcal/mol",
               "interaction_energy", _ie_tiers(False, _XB_NOTE_T1),
               build=_type_ii, read=_interaction),
    Observable("ie_type_i_halogen", "interaction energy of the type I C-X···X-C contact (symmetric angles)",
               "kcal/mol", "interaction_energy",
               _ie_tiers(False, _XB_NOTE_T1),
               build=_type_i, read=_interaction),
    Observable("ie_halogen_bond", "interaction energy of a linear C-X···A halogen bond (A = N/O/S)", "kcal/mol",
               "interaction_energy", _ie_tiers(False, _XB_NOTE_T1),
               build=_xb, read=_interaction),
    Observable("ie_stack", "interaction energy of the parallel-displaced stacked dimer", "kcal/mol",
               "interaction_energy", {**_ie_tiers(True, _IE_NOTE_T1, _IE_NOTE_T4 + "; MP2 overbinds stacked aromatics"),
                                      2: TierUse(True, True, 0.43, _IE_NOTE_T2 + "; the rule-built benzene stack -3.46 "
                                                 "against S22's parallel-displaced -2.62: GFN2 overbinds stacks"),
                                      3: TierUse(True, True, 0.25, _IE_NOTE_T3 + "; the rule-built benzene stack "
                                                 "-2.56 against S22's -2.62")},
               build=_stack, read=_interaction),
    Observable("ie_hbond", "interaction energy of the D-H···A hydrogen-bonded dimer", "kcal/mol",
               "interaction_energy", _ie_tiers(True), build=_hbond, read=_interaction),
]}


# ------------------------------------------------------------------ energetic observables (issue 11)
# Conformer and isomer ensembles: the xTB and DFT harnesses relax (or single-point) a seeded ETKDG
# ensemble at the tier (tasks ``conformers``, ``isomer_energies``: tiers/ensembles.py), RDKit's at MMFF94.
# Whether a conformer is intramolecularly H-bonded is chem.hbonds's criterion, the one place for it.
ENSEMBLE_KEYWORDS = {"n_conformers": 12, "rmsd_threshold": 0.3, "energy_window_kcal_mol": 30.0,
                     "polar_hydrogens": True, "max_conformers": 8}
# the lowest H-bonded conformer's open rotamer joins the ensemble, so the lock has both sides (2-nitrophenol)
LOCK_KEYWORDS = {**ENSEMBLE_KEYWORDS, "open_rotamers": True}
TAUTOMER_CAP_KCAL_MOL = 25.0  # an alternative tautomer further than this is out of reach; no alternative reads so
POLAR_CONTINUUM = "water"  # ALPB (xTB) / C-PCM eps 78.3553 (DFT): the crystal's field, overdone on purpose


def _needs_lock_pair(m: Molecule) -> list[Molecule]:
    from ..chem.features import intramolecular_pair_feature

    if intramolecular_pair_feature(m) == 0:
        raise NotApplicable(f"{m.label} has no donor and acceptor placed to close a 5- or 6-membered ring: no "
                            "intramolecular H-bond to lock (0 kcal/mol)", value=0.0)
    return [m]


def _lock_energy(m: Molecule, r: CalcResult) -> float:
    """E(best open conformer) - E(best H-bonded conformer), both relaxed at the tier (tier 3: single points
    at MMFF94 geometries); the ensemble holds the open rotamer of the lowest H-bonded conformer. When the
    tier's relaxation closed that rotamer again and no other open conformer exists, a failure with the
    reason (ValueError), not a number."""
    from ..chem.hbonds import CRITERION, is_hbonded

    rel = r.value("relative_energies_kcal_mol")
    bonded = [is_hbonded(c) for c in r.molecules()]
    closed = [e for e, b in zip(rel, bonded) if b]
    opened = [e for e, b in zip(rel, bonded) if not b]
    if not closed:
        raise NotApplicable(f"no conformer of {m.label} has an intramolecular H-bond ({CRITERION}): nothing "
                            "locked (0 kcal/mol)", value=0.0)
    if not opened:
        why = "; ".join(w for w in r.warnings if "open rotamer" in w) or "no open rotamer could be built"
        raise ValueError(f"every conformer of {m.label} at tier {r.spec.tier} is H-bonded ({why}): no open "
                         "minimum to compare")
    return float(min(opened) - min(closed))


def _lowest(r: CalcResult) -> Molecule:
    mols = r.molecules()
    rel = r.value("relative_energies_kcal_mol")
    return mols[int(np.argmin(rel))] if rel else mols[0]


def _needs_polar_hydrogen(m: Molecule) -> list[Molecule]:
    from ..chem.hbonds import polar_hydrogens

    if not polar_hydrogens(m):
        raise NotApplicable(f"{m.label} has no N-H or O-H: no donor to lock or to free (0)", value=0.0)
    return [m]


def _free_polar_hydrogens(m: Molecule, r: CalcResult) -> float:
    """Polar H atoms that donate no intramolecular H-bond (chem.hbonds) in the tier's lowest conformer: the
    donors left for intermolecular H-bonds (salicylaldehyde 0, 4-hydroxybenzaldehyde 1)."""
    from ..chem.hbonds import free_polar_hydrogens

    return float(len(free_polar_hydrogens(_lowest(r))))


def _tautomers(m: Molecule) -> list[Molecule]:
    from ..chem.tautomers import sensible_tautomers

    species = sensible_tautomers(m)
    if len(species) < 2:
        raise NotApplicable(f"{m.label} has no sensible alternative tautomer: its drawn form stands alone "
                            f"(-{TAUTOMER_CAP_KCAL_MOL:.0f} kcal/mol, the cap)", value=-TAUTOMER_CAP_KCAL_MOL)
    return species


def _tautomer_energy(m: Molecule, r: CalcResult) -> float:
    """E(drawn tautomer) - E(best alternative), clipped at -TAUTOMER_CAP (out of reach)."""
    rel = r.value("relative_energies_kcal_mol")
    return float(max(rel[0] - min(rel[1:]), -TAUTOMER_CAP_KCAL_MOL))


# H-bond motifs (chem.hbond_motifs): the cyclic R2,2(8) dimer (else the singly H-bonded one) and the chain,
# a trimer whose central molecule accepts one H-bond and donates one, each MMFF94-relaxed as a complex.
# Per molecule: dimer E_int(A, B) / 2; chain E_int(B; A + C) / 2 (one link per molecule of an infinite
# chain); preference = dimer - chain (negative: the dimer wins). Chain and preference read one
# ``interaction_energies`` spec holding both motifs, [A, B, B', A' + C'].


def _motif_absent(m: Molecule) -> None:
    from ..chem.hbond_motifs import can_form_motif

    ok, why = can_form_motif(m)
    if not ok:
        raise NotApplicable(f"{why}: no H-bond motif (0 kcal/mol)", value=0.0)


def _built(what: str, m: Molecule, builder) -> list[Molecule]:
    from ..chem.errors import MoleculeError

    _motif_absent(m)
    try:
        return list(builder(m))
    except MoleculeError as exc:
        raise UnfitGeometry(f"failed build of {m.label}'s {what}: {exc}") from None


def _hbond_dimer(m: Molecule) -> list[Molecule]:
    from ..chem.hbond_motifs import best_dimer

    return _built("H-bonded dimer", m, best_dimer)


def _hbond_motifs(m: Molecule) -> list[Molecule]:
    """[A, B, B', A' + C']: the best dimer, then the chain's central molecule and its two neighbours."""
    from ..chem.hbond_motifs import best_dimer, chain_trimer, union

    a, b, c = _built("H-bonded chain", m, chain_trimer)
    return [*_built("H-bonded dimer", m, best_dimer), b, union([a, c], f"{m.label} chain ends")]


def _hbond_network(m: Molecule) -> list[Molecule]:
    """[A, B, A', B', ...]: the best dimer, then one open link per further free donor H."""
    from ..chem.errors import MoleculeError
    from ..chem.hbond_motifs import network_pairs

    _motif_absent(m)
    try:
        return [p for pair in network_pairs(m)[1] for p in pair]
    except MoleculeError as exc:
        raise UnfitGeometry(f"failed build of {m.label}'s H-bond network: {exc}") from None


def _network_energy(m: Molecule, r: CalcResult) -> float:
    """Per molecule: half a cyclic dimer (else the whole first link) plus each further link (clash-checked)."""
    from ..chem.hbond_motifs import donates_both_ways

    energies = [float(x) for x in r.value("interaction_energies_kcal_mol")]
    if max(energies) > CLASH_ENERGY_KCAL_MOL:
        raise UnfitGeometry(f"failed build: a link of {m.label}'s H-bond network is repulsive by "
                            f"{max(energies):+.0f} kcal/mol: its atoms clash; the number is not used")
    a, b = r.spec.molecules[:2]
    return (energies[0] / 2 if donates_both_ways(a, b) else energies[0]) + sum(energies[1:])


def _per_molecule(m: Molecule, r: CalcResult) -> float:
    """Half the dimer's interaction energy (clash-checked)."""
    return _interaction(m, r) / 2


def _motif_energies(m: Molecule, r: CalcResult) -> tuple[float, float]:
    """(dimer, chain) per molecule from the two-motif spec; a clash fails the pair, as _interaction does."""
    e_dimer, e_chain = (float(x) for x in r.value("interaction_energies_kcal_mol"))
    for what, e in (("dimer", e_dimer), ("chain", e_chain)):
        if e > CLASH_ENERGY_KCAL_MOL:
            raise UnfitGeometry(f"failed build: {m.label}'s H-bonded {what} is repulsive by {e:+.0f} kcal/mol: "
                                "its atoms clash; the number is not used")
    return e_dimer / 2, e_chain / 2


def _chain_energy(m: Molecule, r: CalcResult) -> float:
    return _motif_energies(m, r)[1]


def _motif_preference(m: Molecule, r: CalcResult) -> float:
    dimer, chain = _motif_energies(m, r)
    return dimer - chain


def _tautomer_dimers(m: Molecule) -> list[Molecule]:
    """Each sensible tautomer's best H-bonded dimer (chem.hbond_motifs.best_dimer) as one species, drawn form
    first; a tautomer that cannot H-bond itself enters as two copies far apart (no motif: 0 kcal/mol)."""
    from ..chem.errors import MoleculeError
    from ..chem.hbond_motifs import best_dimer, can_form_motif, far_apart, lowest_conformer, union

    out = []
    for t in _tautomers(m):
        if not can_form_motif(t)[0]:
            out.append(far_apart([lowest_conformer(t)], lowest_conformer(t)))
            continue
        try:
            out.append(union(list(best_dimer(t)), f"{t.label} dimer"))
        except MoleculeError as exc:
            raise UnfitGeometry(f"failed build of {t.label}'s H-bonded dimer: {exc}") from None
    return out


def _same_tautomers(before: Sequence[Molecule], after: Sequence[Molecule]) -> None:
    """A relaxation that moved a proton across an H-bond compares the wrong tautomers: every polar H still
    within 1.3 Å of its donor, or a ValueError."""
    for b, a in zip(before, after):
        nb = b.neighbours()
        for h, s in enumerate(b.symbols):
            if s == "H" and nb[h] and b.symbols[nb[h][0]] in ("N", "O"):
                if np.linalg.norm(a.coords[h] - a.coords[nb[h][0]]) > 1.3:
                    raise ValueError(f"{b.label}: a proton left its donor when relaxed (the dimer changed tautomer)")


def _tautomer_dimer_energy(m: Molecule, r: CalcResult) -> float:
    """Per molecule: [E(drawn tautomer's best H-bonded dimer) - E(best alternative's)] / 2, clipped at
    -TAUTOMER_CAP."""
    _same_tautomers(r.spec.molecules, r.molecules())
    e = r.value("energies_kcal_mol")
    return float(max((e[0] - min(e[1:])) / 2, -TAUTOMER_CAP_KCAL_MOL))


_LOCK_T0 = "MMFF94 conformer energies (fixed charges; a force-field look at the H-bond, not a verdict)"
_LOCK_T2 = ("GFN2-xTB, each conformer relaxed: salicylaldehyde 6.0, 2-nitrophenol 7.8, 2-fluorophenol 2.4 kcal/mol "
            "(MP2/aug-cc-pVDZ about 2.9; tests/test_energetic_observables.py); GFN2 conformer energies typically "
            "1-2 kcal/mol from DFT")
_LOCK_T3 = ("B3LYP-D3(BJ)/def2-SVP single points at the MMFF94 conformers (relax=True relaxes at DFT, "
            "minutes per conformer)")
_FREE_NOTE = "a count: the polar H atoms of the lowest conformer that donate no intramolecular H-bond (chem.hbonds)"
_TAUT_T2 = ("GFN2-xTB, each tautomer's conformers relaxed; 2-pyridone/2-hydroxypyridine gas -0.9 kcal/mol "
            "(exp. -0.3 to -0.8); tight-binding tautomer energies err by 2-3 kcal/mol in general")
_TAUT_T3 = "B3LYP-D3(BJ)/def2-SVP single points at the MMFF94 geometries of each tautomer's conformers"
_MOTIF_GEOMETRY = ("at the MMFF94-relaxed complex (GFN2-xTB formic acid dimer there -14.9 kcal/mol, -17.2 at the "
                   "S22 geometry, -18.6 CCSD(T)/CBS)")
_MOTIF_TIERS = {
    1: TierUse(True, True, 0.65, f"{_IE_NOTE_T1}, {_MOTIF_GEOMETRY}"),
    2: TierUse(True, True, 0.5, f"{_IE_NOTE_T2}, {_MOTIF_GEOMETRY}"),
    3: TierUse(True, True, 0.35, f"{_IE_NOTE_T3}, {_MOTIF_GEOMETRY}"),
}
# GAFF2 is pairwise additive (its chain link is the open dimer's), and AM1-BCC charges for the chain's
# two-molecule end fragment take minutes: the chain is computed from tier 2 up
_MOTIF_PAIR_TIERS = {t: use for t, use in _MOTIF_TIERS.items() if t >= 2}
_TAUT_DIMER = {
    2: TierUse(True, True, 1.5, "GFN2-xTB, each tautomer's dimer relaxed: 2-pyridone -1.8 kcal/mol per molecule "
                                "(the lactam's dimer favoured; gas phase +0.9); tight-binding tautomer energies "
                                "err by 2-3 kcal/mol in general"),
    3: TierUse(True, True, 1.0, "B3LYP-D3(BJ)/def2-SVP single points at each tautomer's MMFF94-relaxed dimer, "
                                "no counterpoise"),
}

OBSERVABLES.update({o.name: o for o in [
    Observable("hbond_lock_energy", "intramolecular H-bond lock energy: E(best open) - E(best H-bonded "
               "conformer), the open rotamer built and relaxed at the tier", "kcal/mol", "conformers", {
                   0: TierUse(True, False, 1.5, _LOCK_T0),
                   2: TierUse(True, True, 0.75, _LOCK_T2),
                   3: TierUse(True, True, 0.5, _LOCK_T3),
               }, build=_needs_lock_pair, read=_lock_energy, keywords=dict(LOCK_KEYWORDS)),
    Observable("free_polar_hydrogens", "polar hydrogens free of intramolecular H-bonds in the tier's lowest "
               "conformer: the donors left for intermolecular H-bonds", "count", "conformers", {
                   0: TierUse(True, True, 0.1, f"{_FREE_NOTE}; MMFF94 ensemble"),
                   2: TierUse(True, True, 0.1, f"{_FREE_NOTE}; GFN2-xTB-relaxed ensemble"),
               }, build=_needs_polar_hydrogen, read=_free_polar_hydrogens, keywords=dict(LOCK_KEYWORDS)),
    Observable("tautomer_energy", "gas phase: E(drawn tautomer) - E(best sensible alternative), each at its "
               "lowest conformer", "kcal/mol", "isomer_energies", {
                   2: TierUse(True, True, 1.5, _TAUT_T2),
                   3: TierUse(True, True, 1.0, _TAUT_T3),
               }, build=_tautomers, read=_tautomer_energy, keywords={"max_conformers": 4}),
    Observable("tautomer_energy_polar", "polar continuum (water: ALPB at xTB, C-PCM eps 78.36 at DFT) standing "
               "in for the crystal's field: E(drawn tautomer) - E(best alternative)", "kcal/mol",
               "isomer_energies", {
                   2: TierUse(True, True, 1.5, _TAUT_T2 + "; ALPB(water)"),
                   3: TierUse(True, True, 1.0, _TAUT_T3 + "; C-PCM, eps 78.3553"),
               }, build=_tautomers, read=_tautomer_energy,
               keywords={"max_conformers": 4, "solvent": POLAR_CONTINUUM}),
    Observable("tautomer_energy_dimer", "in each tautomer's best H-bonded dimer, per molecule: [E(drawn "
               "tautomer's dimer) - E(best alternative's)] / 2", "kcal/mol", "isomer_energies", _TAUT_DIMER,
               build=_tautomer_dimers, read=_tautomer_dimer_energy, keywords={"embed": False}),
    Observable("hbond_dimer_energy", "per molecule in the best H-bonded dimer (cyclic R2,2(8) where the molecule "
               "allows it, else one D-H···A): E_int / 2", "kcal/mol", "interaction_energy", dict(_MOTIF_TIERS),
               build=_hbond_dimer, read=_per_molecule),
    Observable("hbond_network_energy", "H-bond energy per molecule with every free donor H used once: half the "
               "cyclic R2,2(8) dimer (else one open link), plus one open D-H···A link per further donor H, as far "
               "as the acceptors' lone pairs allow (a primary amide's ribbon: dimer plus the anti N-H link)",
               "kcal/mol", "interaction_energies", dict(_MOTIF_TIERS), build=_hbond_network, read=_network_energy),
    Observable("hbond_chain_energy", "per molecule in an H-bonded chain: half the central molecule's interaction "
               "with its two neighbours in a trimer (one link per molecule)", "kcal/mol", "interaction_energies",
               dict(_MOTIF_PAIR_TIERS), build=_hbond_motifs, read=_chain_energy),
    Observable("hbond_motif_preference", "H-bond motif preference per molecule: dimer minus chain (negative: the "
               "cyclic dimer is preferred)", "kcal/mol", "interaction_energies", dict(_MOTIF_PAIR_TIERS),
               build=_hbond_motifs, read=_motif_preference),
]})


# ------------------------------------------------------------------ physical properties (issue 11)
# Polarisabilities (task ``polarizability``: finite field at xTB and DFT), the ring quadrupole, the stacked vs
# T-shaped preference (task ``interaction_energies``: both dimers in one spec), the antiparallel dipole pair and
# conformer energy windows. Benchmarks: benchmarks/polarisabilities.py, benchmarks/dipoles.py; tests:
# tests/test_properties.py.
CONFORMER_WINDOW_KCAL_MOL = 2.0  # a conformer this close to the lowest is populated at room temperature
CONFORMER_WINDOW_KEYWORDS = {"n_conformers": 20, "rmsd_threshold": 0.5, "energy_window_kcal_mol": 10.0,
                             "polar_hydrogens": False, "max_conformers": 8}


def _polarizability(m: Molecule, r: CalcResult) -> float:
    return float(r.value("polarizability_angstrom3"))


def _needs_aromatic_ring(m: Molecule) -> list[Molecule]:
    from ..chem.features import is_aromatic

    if not is_aromatic(m):
        raise NotApplicable(f"{m.label} has no aromatic ring: no ring quadrupole to compare")
    return [m]


def _ring_quadrupole(m: Molecule, r: CalcResult) -> float:
    """n.Theta.n: the traced (Buckingham) quadrupole along the normal of the largest aromatic ring,
    at the geometry the tier computed (benzene about -8.7 B measured, hexafluorobenzene +9.5 B)."""
    from ..chem.dimers import aromatic_ring_normal

    n = aromatic_ring_normal(r.spec.molecules[0])
    if n is None:
        raise NotApplicable(f"{m.label} has no aromatic ring: no ring quadrupole to compare")
    theta = np.asarray(r.value("quadrupole_buckingham"), float)
    return float(n @ theta @ n)


def _stack_and_t(m: Molecule) -> list[Molecule]:
    """The parallel-displaced stack (at the crystal-typical 3.6 Å) and the T-shaped (edge-to-face) dimer at
    its MMFF94 separation (the rule-built T sets each H at 0.9 of its vdW contact, which a long C-H edge
    cannot take: naphthalene's T was +1.0 kcal/mol at GAFF2, -4.0 at its MMFF94 distance), each fit to be
    evidence."""
    from ..chem.dimers import settle_separation, stacked_dimer, t_shaped_dimer
    from ..chem.features import is_aromatic

    if not is_aromatic(m):
        raise NotApplicable(f"{m.label} has no aromatic ring: no stack to prefer over a T (0 kcal/mol)", value=0.0)
    a, b = t_shaped_dimer(m, m)
    tee = [a, settle_separation(a, b)[0]]
    return [*fit_contact(list(stacked_dimer(m, m)), m.label), *fit_contact(tee, m.label)]


def _stack_minus_t(m: Molecule, r: CalcResult) -> float:
    """IE(parallel-displaced stack) - IE(T-shaped): negative when the stack is preferred."""
    stack, tee = r.value("interaction_energies_kcal_mol")
    for what, e in (("stacked", stack), ("T-shaped", tee)):
        if e > CLASH_ENERGY_KCAL_MOL:
            raise UnfitGeometry(f"failed build: the rule-built {what} dimer of {m.label} is repulsive by {e:+.0f} "
                                f"kcal/mol (over +{CLASH_ENERGY_KCAL_MOL:.0f}): its atoms clash; not used")
    return float(stack - tee)


def _antiparallel(m: Molecule):
    from ..chem.dimers import NEAR_ZERO_DIPOLE_DEBYE, antiparallel_dimer, charge_dipole

    mu = float(np.linalg.norm(charge_dipole(m)))
    if mu < NEAR_ZERO_DIPOLE_DEBYE:
        raise NotApplicable(f"{m.label} has a (near-)zero dipole ({mu:.2f} D from MMFF94 charges): no antiparallel "
                            "dipole pair to form (0 kcal/mol)", value=0.0)
    return antiparallel_dimer(m)


def _needs_rotor(value: float, what: str):
    def build(m: Molecule) -> list[Molecule]:
        from ..chem.features import rotor_feature

        if rotor_feature(m) == 0:
            raise NotApplicable(f"{m.label} is rigid (no rotatable bond): {what}", value=value)
        return [m]
    return build


def _conformer_entropy_ts(m: Molecule, r: CalcResult) -> float:
    """T*S_conf = -RT sum p ln p (kcal/mol, 298 K) over the distinct conformers, Boltzmann-weighted by the
    tier's energies: what a crystal that freezes one conformer gives up (mirror-image conformers count once)."""
    rel = np.asarray(r.value("relative_energies_kcal_mol"), float)
    w = np.exp(-(rel - rel.min()) / BOLTZMANN_KCAL_MOL)
    p = w / w.sum()
    return float(-BOLTZMANN_KCAL_MOL * (p * np.log(np.clip(p, 1e-300, None))).sum())


# benchmarks/polarisabilities.py, 12 molecules against measured gas-phase values (CRC Handbook table):
_POL_T2 = ("GFN2-xTB finite field: its minimal valence basis misses most of the response, MAE 3.0 Å^3, from -74% "
           "(water 0.37 vs 1.45) to +100% (CCl4 22.2 vs 11.2); not a number to compare on")
_POL_T3 = ("B3LYP/def2-SVP (analytic CPKS) at the MMFF94 geometry: every value low (def2-SVP has no diffuse "
           "functions), MAE 1.71 Å^3, mean -27%: aromatics -17 to -19% (benzene 8.59 vs 10.32), C-Cl aliphatics "
           "-33 to -38% (CCl4 6.96 vs 11.2), water -46% (def2-SVPD: water 1.44, methane 2.48, CH3Cl 4.34: MAE 0.25 on "
           "4 vs 0.90 in def2-SVP); a series ranks right when its members err alike")
_QUAD_T2 = ("tblite 0.8's molecular quadrupole does not transform as a tensor under rotation (tiers/xtb.py "
            "task_properties): not reported")
_QUAD_T3 = ("B3LYP/def2-SVP at the MMFF94 geometry: benzene -6.9 B vs -8.7 measured, C6F6 +8.3 vs +9.5 (Battaglia, "
            "Buckingham & Williams 1981): signs right, magnitudes 13-21% low (no diffuse functions)")
_SVT_T1 = ("GAFF2/AM1-BCC at the rule-built stack and the T at its MMFF94 distance: benzene -0.16 (stack -2.14, "
           "T -1.98; S22 +0.09), point "
           "charges without a quadrupole's anisotropy beyond them")
# benzene dimer against S22 (ase.data.s22, CCSD(T)/CBS): stack -2.62, T -2.71, preference +0.09 kcal/mol
_SVT_T2 = ("GFN2-xTB overbinds the stack: benzene -1.41 (stack -3.46, T -2.05; at S22's own geometries -1.58) "
           "against S22's +0.09 kcal/mol")
_SVT_T3 = ("B3LYP-D3(BJ)/def2-SVP, counterpoise: benzene -0.56 (stack -2.56, T -2.00 at the tighter rule-built T; not "
           "yet remeasured at the T's MMFF94 distance) against S22's +0.09 kcal/mol (its stack within 0.1 of S22's "
           "parallel-displaced dimer)")
_CONF_T0 = "MMFF94 ETKDG ensemble, each conformer minimised, RMSD-pruned (0.5 Å)"
_CONF_T2 = "GFN2-xTB, each MMFF94 conformer relaxed, duplicates merged; GFN2 conformer energies 1-2 kcal/mol from DFT"

OBSERVABLES.update({o.name: o for o in [
    Observable("polarizability", "static dipole polarisability, isotropic mean (finite field)", "Å^3",
               "polarizability", {
                   1: TierUse(False, False, float("inf"), "GAFF2 point charges are not polarisable"),
                   2: TierUse(True, False, 3.0, _POL_T2),
                   3: TierUse(True, True, 0.85, _POL_T3),
               }, read=_polarizability),
    Observable("ring_quadrupole", "quadrupole component along the aromatic ring normal (traced, Buckingham)", "B",
               "properties", {
                   2: TierUse(False, False, float("inf"), _QUAD_T2),
                   3: TierUse(True, True, 0.75, _QUAD_T3),
               }, build=_needs_aromatic_ring, read=_ring_quadrupole),
    Observable("stack_vs_t", "IE(parallel-displaced stack) - IE(T-shaped dimer): negative favours stacking",
               "kcal/mol", "interaction_energies", {
                   1: TierUse(True, True, 0.85, _SVT_T1),
                   2: TierUse(True, True, 0.85, _SVT_T2),
                   3: TierUse(True, True, 0.35, _SVT_T3),
               }, build=_stack_and_t, read=_stack_minus_t),
    Observable("stack_dispersion", "D3(BJ) dispersion part of the stacked dimer's interaction energy", "kcal/mol",
               "interaction_energy", {
                   2: TierUse(False, False, float("inf"), "tblite reports no separate dispersion energy"),
                   3: TierUse(True, True, 0.25, "D3(BJ) of the ie_stack calculation (the same result)"),
               }, build=_stack, read=lambda m, r: float(r.value("dispersion_interaction_kcal_mol"))),
    Observable("ie_antiparallel", "interaction energy of the antiparallel dipole pair (stacked, at vdW contact)",
               "kcal/mol", "interaction_energy", _ie_tiers(True), build=_antiparallel, read=_interaction),
    Observable("conformers_within_2kcal", f"distinct conformers within {CONFORMER_WINDOW_KCAL_MOL:g} kcal/mol of "
               "the lowest, relaxed at the tier", "count", "conformers", {
                   0: TierUse(True, True, 0.5, _CONF_T0),
                   2: TierUse(True, True, 0.5, _CONF_T2),
               }, build=_needs_rotor(1.0, "one conformer"), read=_n_low_conformers,
               keywords=dict(CONFORMER_WINDOW_KEYWORDS)),
    Observable("conformational_entropy_ts", "T*S_conf at 298 K, -RT sum p ln p over the distinct conformers",
               "kcal/mol", "conformers", {
                   0: TierUse(True, False, 0.3, _CONF_T0 + "; force-field conformer energies"),
                   2: TierUse(True, True, 0.2, _CONF_T2),
               }, build=_needs_rotor(0.0, "one conformer, no conformational entropy (0 kcal/mol)"),
               read=_conformer_entropy_ts, keywords=dict(CONFORMER_WINDOW_KEYWORDS)),
]})


def observable(name: str) -> Observable:
    try:
        return OBSERVABLES[name]
    except KeyError:
        raise KeyError(f"unknown observable {name!r}; known: {', '.join(OBSERVABLES)}") from None


def specs_for(name: str, molecule: Molecule, tier: int) -> list[CalcSpec]:
    """The specs that measure ``name`` on ``molecule`` at ``tier`` (raises NotApplicable)."""
    obs = observable(name)
    use = obs.use(tier)
    if not use.computable:
        raise NotApplicable(f"{name} at tier {tier}: {use.note}")
    fragments = list(obs.build(molecule))
    if obs.task == "interaction_energy" and len(fragments) == 2:
        fragments = fit_contact(fragments, molecule.label)
    return [make_spec(obs.task, fragments, level=TIER_LEVEL[tier], method=obs.method, **obs.keywords)]


def fit_contact(fragments: list[Molecule], label: str) -> list[Molecule]:
    """A rule-built dimer fit to be evidence: as built when no atoms clash, else with the partner moved
    apart just enough (chem.dimers.clear_clash); raises UnfitGeometry when that fails."""
    from ..chem.dimers import clear_clash
    from ..chem.errors import MoleculeError

    a, b = fragments
    try:
        moved, shift = clear_clash(a, b)
    except MoleculeError as exc:
        raise UnfitGeometry(f"failed build of {label}'s contact: {exc}") from None
    if shift:
        log.info("%s: the rule-built contact clashed; partner moved %.1f Å apart", label, shift)
    return [a, moved]


def is_structural(name: str) -> bool:
    """Whether an observable is a structural count or descriptor (it points where to look; it does not
    decide) rather than an energy or a benchmarked physical property."""
    obs = observable(name)
    return obs.task == "descriptors" or obs.unit in ("count", "")


def is_packing_energy(name: str) -> bool:
    """Whether an observable is an energy that enters a crystal's energy balance (kcal/mol: a contact, a
    lock, a tautomer or conformer free energy), so two causes can be weighed by it; a sigma hole is in
    kcal/mol too but is a potential felt by a unit charge, not an energy of the packing."""
    obs = observable(name)
    return obs.unit == "kcal/mol" and obs.task != "esp"


def read_value(name: str, molecule: Molecule, results: Sequence[CalcResult]) -> float:
    """The observable's number from its results (raises KeyError with the failure when one failed,
    NotApplicable when the feature is absent, UnfitGeometry when the geometry clashes)."""
    obs = observable(name)
    result = results[0]
    value = obs.read(molecule, result)
    if obs.task == "interaction_energy" and result.spec.tier == 3 and result.values.get("counterpoise") is False:
        log.warning("%s: DFT interaction energy without counterpoise overbinds in def2-SVP", molecule.label)
    return value


def estimate_seconds(spec: CalcSpec) -> float:
    """A rough cost (seconds, 2 cores) before running: the harness's own cost model."""
    from ..tiers.harness import estimate_seconds as harness_estimate

    return harness_estimate(spec)


# ------------------------------------------------------------------ MD occupancy (issue 12)
# A seeded 300 K Langevin run of one molecule at tier 1 (task ``md``), started from its lowest MMFF94
# conformer; the harness counts the frames with an intramolecular D-H···A formed (chem.hbonds).
MD_OCCUPANCY_KEYWORDS = {"steps": 5000, "report_every": 50, "temperature_k": 300.0, "seed": 2024}
_OCC_T1 = ("GAFF2/AM1-BCC Langevin, 300 K vacuum, 5 ps after 1 ps from the lowest MMFF94 conformer; H···A < 2.5 Å "
           "and D-H···A > 120°: salicylaldehyde 1.00, 4-hydroxybenzaldehyde 0.00 (tests/test_md.py); a short run "
           "tells whether the H-bond holds at 300 K, not populations across barriers it never crosses")


def _md_start(m: Molecule) -> list[Molecule]:
    from ..chem.conformers import conformer_ensemble

    from ..chem.features import intramolecular_pair_feature

    if intramolecular_pair_feature(m) == 0:
        raise NotApplicable(f"{m.label} has no donor and acceptor placed to close a ring: no intramolecular "
                            "H-bond can form (occupancy 0)", value=0.0)
    return [conformer_ensemble(m, n_conformers=12, polar_hydrogens=True)[0][0]]


OBSERVABLES.update({o.name: o for o in [
    Observable("hbond_occupancy", "fraction of 300 K MD frames with an intramolecular H-bond formed (vacuum)",
               "fraction", "md", {1: TierUse(True, True, 0.1, _OCC_T1)}, build=_md_start,
               read=lambda m, r: float(r.value("hbond_occupancy")), keywords=dict(MD_OCCUPANCY_KEYWORDS)),
]})


# ------------------------------------------------------------------ MD aggregation motifs (issue 12)
# Copies of one molecule annealed 400 -> 250 K in a sphere at tier 1 (task ``md_aggregation``, GAFF2-EP: the task's
# default method, tiers.levels.TASK_METHODS), seeded replicas; type II C-X···X-C contacts near the ideal geometry
# (theta1 >= 150°, theta2 60-120°: a sigma hole on the other halogen's belt) per molecule in the final frames.
# The looser |theta1 - theta2| > 30° of chem.crystal_contacts is in the result too (type_ii_per_molecule), but it
# also counts the halogens of offset stacks and moves less with the sigma hole (benchmarks/aggregation.py).
# Kept small for the agent: 97 s of wall time for the three dihalobenzenes on 2 cores shared with other jobs (load
# ~15), where the benchmark's 12 copies x 6 replicas x 40 ps took ~360 s; the same iodine signal, noisier.
MD_AGGREGATION_KEYWORDS = {"n_molecules": 8, "replicas": 3, "steps": 10000, "seed": 2024}
_AGG_T1 = ("GAFF2-EP aggregation, 8 copies, 20 ps 400 -> 250 K; extra points fitted to X40, leave-one-out C-X MAE "
           "Cl 0.87, Br 0.42, I 0.67 kcal/mol (plain GAFF2 1.56/3.37/5.50, no sigma hole). Linear type II per "
           "molecule over 3 replicas: I 0.06 ± 0.06, Br 0.01 ± 0.01, Cl 0.00 ± 0.01 (plain GAFF2 0.00 for all three); "
           "12 copies x 6 replicas x 40 ps: I 0.07 ± 0.04, Br 0.03 ± 0.02, Cl 0.02 ± 0.01, plain GAFF2 I 0.02 ± 0.00 "
           "(benchmarks/aggregation.py). "
           "A motif count from small clusters points where to look; it carries no verdict, iodine's contacts least")


def _needs_c_halogen(m: Molecule) -> list[Molecule]:
    from ..chem.features import heavy_halogen_feature

    if not heavy_halogen_feature(m):
        raise NotApplicable(f"{m.label} has no C-bound Cl, Br or I: no X···X contact can form (0 per molecule)",
                            value=0.0)
    return [m]


OBSERVABLES.update({o.name: o for o in [
    Observable("md_type_ii_propensity", "type II C-X···X-C contacts per molecule (theta1 >= 150°, theta2 60-120°) "
               "in annealed MD clusters, mean over seeded replicas", "per molecule", "md_aggregation",
               {1: TierUse(True, False, 0.03, _AGG_T1)}, build=_needs_c_halogen,
               read=lambda m, r: float(r.value("type_ii_linear_per_molecule")),
               keywords=dict(MD_AGGREGATION_KEYWORDS)),
    # the control: the same runs without the extra point, so the report shows what the sigma hole changes
    Observable("md_type_ii_propensity_gaff2", "the same type II contacts per molecule with plain GAFF2 (no extra "
               "point, no sigma hole): the control of md_type_ii_propensity", "per molecule", "md_aggregation",
               {1: TierUse(True, False, 0.03, "plain GAFF2 aggregation, as md_type_ii_propensity but without the "
                                              "extra point (X40 C-X MAE Cl 1.56, Br 3.37, I 5.50 kcal/mol: no sigma "
                                              "hole); 0.00 per molecule for I, Br and Cl over 3 replicas "
                                              "(benchmarks/aggregation.py)")},
               build=_needs_c_halogen, read=lambda m, r: float(r.value("type_ii_linear_per_molecule")),
               keywords=dict(MD_AGGREGATION_KEYWORDS), method="GAFF2/AM1-BCC"),
]})
