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
              "MAE 0.25 D on 11 molecules without Br/I, 1.96 D on 4 with Br or I (iodobenzene 3.68 D vs 1.70)")
_DIPOLE_T3 = "B3LYP/def2-SVP at the MMFF94 conformers, Boltzmann-averaged: benchmarks/dipoles.py"


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
    """D-H···A contacts (H···A < 2.3 Å, A four or more bonds from D) in the lowest conformer."""
    mols = r.molecules()
    if not mols:
        return 0.0
    rel = r.value("relative_energies_kcal_mol")
    best = mols[int(np.argmin(rel))] if rel else mols[0]
    return float(len(intramolecular_hbond_pairs(best)))


def intramolecular_hbond_pairs(m: Molecule, cutoff: float = 2.3) -> list[tuple[int, int]]:
    adj = m.neighbours()

    def bond_distance(a: int, b: int) -> int:
        path = m.bond_path(a, b)
        return len(path) - 1 if path else 99

    xyz = m.coords
    pairs = []
    for h, s in enumerate(m.symbols):
        if s != "H" or not adj[h]:
            continue
        donor = next(iter(adj[h]))
        if m.symbols[donor] not in ("N", "O"):
            continue
        for a, sa in enumerate(m.symbols):
            if sa in ("N", "O", "F") and a != donor and bond_distance(donor, a) >= 4:
                if np.linalg.norm(xyz[h] - xyz[a]) < cutoff:
                    pairs.append((h, a))
    return pairs


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
# MAE/MSE kcal/mol: plain GAFF2 Cl 1.56/+1.52, Br 3.37/+3.37, I 5.50/+5.50 (every halogen bond repulsive);
# GAFF2-EP Cl 0.84/+0.80, Br 0.39/+0.18, I 2.08/-1.98 (iodine overbound 2x in C-I···N).
_XB_NOTE_T1 = ("GAFF2/AM1-BCC has no sigma hole: X40 C-X MAE Cl 1.56, Br 3.37, I 5.50 kcal/mol, all too repulsive "
               "(GAFF2-EP, a sigma-hole extra point, gets Cl 0.84, Br 0.39, I 2.08 but is not what this tier runs)")


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
               "conformers", {0: TierUse(True, True, 0.35, "geometric criterion H···A < 2.3 Å")},
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
               "interaction_energy", _ie_tiers(True, _IE_NOTE_T1,
                                               _IE_NOTE_T4 + "; MP2 overbinds stacked aromatics"),
               build=_stack, read=_interaction),
    Observable("ie_hbond", "interaction energy of the D-H···A hydrogen-bonded dimer", "kcal/mol",
               "interaction_energy", _ie_tiers(True), build=_hbond, read=_interaction),
]}


# ------------------------------------------------------------------ energetic observables (issue 11)
# Conformer and isomer ensembles: the xTB and DFT harnesses relax (or single-point) a seeded ETKDG
# ensemble at the tier (tasks ``conformers``, ``isomer_energies``: tiers/ensembles.py), RDKit's at MMFF94.
HBOND_LOCK_CUTOFF = 2.5  # Å, H···A: a conformer with an intramolecular D-H···A this short is H-bonded
ENSEMBLE_KEYWORDS = {"n_conformers": 12, "rmsd_threshold": 0.3, "energy_window_kcal_mol": 30.0,
                     "polar_hydrogens": True, "max_conformers": 8}
TAUTOMER_CAP_KCAL_MOL = 25.0  # an alternative tautomer further than this is out of reach; no alternative reads so
POLAR_CONTINUUM = "water"  # ALPB (xTB) / C-PCM eps 78.3553 (DFT): the crystal's field, overdone on purpose


def _needs_lock_pair(m: Molecule) -> list[Molecule]:
    from ..chem.features import intramolecular_pair_feature

    if intramolecular_pair_feature(m) == 0:
        raise NotApplicable(f"{m.label} has no donor and acceptor placed to close a ring: no intramolecular "
                            "H-bond to lock (0 kcal/mol)", value=0.0)
    return [m]


def _lock_energy(m: Molecule, r: CalcResult) -> float:
    """E(best open conformer) - E(best H-bonded conformer), both from the tier's ensemble."""
    rel = r.value("relative_energies_kcal_mol")
    bonded = [bool(intramolecular_hbond_pairs(c, HBOND_LOCK_CUTOFF)) for c in r.molecules()]
    closed = [e for e, b in zip(rel, bonded) if b]
    opened = [e for e, b in zip(rel, bonded) if not b]
    if not closed:
        raise NotApplicable(f"no conformer of {m.label} has an intramolecular H-bond (H···A < "
                            f"{HBOND_LOCK_CUTOFF} Å, A 4+ bonds from D): nothing locked (0 kcal/mol)", value=0.0)
    if not opened:
        raise ValueError(f"every conformer of {m.label} found is H-bonded: no open rotamer to compare")
    return float(min(opened) - min(closed))


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


_LOCK_T0 = "MMFF94 conformer energies (fixed charges; a force-field look at the H-bond, not a verdict)"
_LOCK_T2 = ("GFN2-xTB, each conformer relaxed: salicylaldehyde 6.0 kcal/mol (tests/test_energetic_observables.py); "
            "GFN2 conformer energies typically 1-2 kcal/mol from DFT")
_LOCK_T3 = ("B3LYP-D3(BJ)/def2-SVP single points at the MMFF94 conformers (relax=True relaxes at DFT, "
            "minutes per conformer)")
_TAUT_T2 = ("GFN2-xTB, each tautomer's conformers relaxed; 2-pyridone/2-hydroxypyridine gas -0.9 kcal/mol "
            "(exp. -0.3 to -0.8); tight-binding tautomer energies err by 2-3 kcal/mol in general")
_TAUT_T3 = "B3LYP-D3(BJ)/def2-SVP single points at the MMFF94 geometries of each tautomer's conformers"

OBSERVABLES.update({o.name: o for o in [
    Observable("hbond_lock_energy", "intramolecular H-bond lock energy: E(best open) - E(best H-bonded "
               f"conformer), H···A < {HBOND_LOCK_CUTOFF} Å", "kcal/mol", "conformers", {
                   0: TierUse(True, False, 1.5, _LOCK_T0),
                   2: TierUse(True, True, 0.75, _LOCK_T2),
                   3: TierUse(True, True, 0.5, _LOCK_T3),
               }, build=_needs_lock_pair, read=_lock_energy, keywords=dict(ENSEMBLE_KEYWORDS)),
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
    return [make_spec(obs.task, fragments, level=TIER_LEVEL[tier], **obs.keywords)]


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
