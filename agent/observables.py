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
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..chem.elements import SIGMA_HOLE_HALOGENS as HEAVY_HALOGENS  # heaviest first
from ..chem.molecule import Molecule
from ..tiers.catalogue import make_spec
from ..tiers.spec import CalcResult, CalcSpec

log = logging.getLogger(__name__)

TIER_LEVEL = {0: "mmff", 1: "classical", 2: "xtb", 3: "dft", 4: "mp2"}


class NotApplicable(Exception):
    """The observable does not exist for this molecule (e.g. no donor for an H-bond dimer).

    ``value`` is what that absence means for the comparison (0.0 kcal/mol: the
    contact cannot form), or None when there is nothing to compare.
    """

    def __init__(self, reason: str, value: float | None = None):
        super().__init__(reason)
        self.value = value


@dataclass(frozen=True)
class TierUse:
    computable: bool
    adequate: bool
    sigma: float
    note: str


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


def _sigma_hole(m: Molecule, r: CalcResult) -> float:
    holes = r.value("sigma_hole_kcal_mol") or {}
    if not holes:
        raise NotApplicable("no sigma hole on the bond axis of any Cl/Br/I")
    return float(max(holes.values()))


def _interaction(m: Molecule, r: CalcResult) -> float:
    return float(r.value("interaction_energy_kcal_mol"))


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
    Observable("n_hbond_donors", "number of H-bond donors (N-H, O-H)", "count", "descriptors", dict(_COUNT0),
               read=_descriptor("n_hbond_donors")),
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
    Observable("dipole", "dipole moment magnitude", "D", "properties", {
        1: TierUse(False, False, 0.5, "the classical tier reports no dipole task"),
        2: TierUse(True, True, 0.3, "GFN2-xTB dipole, typical error ~0.3 D"),
        3: TierUse(True, True, 0.15, "B3LYP/def2-SVP dipole"),
    }, read=_dipole),
    Observable("halogen_charge", "partial charge on the heaviest halogen", "e", "properties", {
        2: TierUse(True, False, 0.02, "an atomic charge is isotropic: it cannot show a sigma hole"),
        3: TierUse(True, False, 0.02, "ESP-fitted charges average the sigma hole away"),
    }, read=_halogen_charge),
    Observable("sigma_hole", "V_s on the 0.001 au isosurface along the C-X axis (largest in the molecule)",
               "kcal/mol", "esp", {
        1: TierUse(False, False, float("inf"), "point-charge force field: no sigma hole"),
        2: TierUse(False, False, float("inf"), "GFN2-xTB here gives no ESP on a density isosurface"),
        3: TierUse(True, True, 1.5, "B3LYP-D3(BJ)/def2-SVP ESP (def2 ECP on I)"),
    }, read=_sigma_hole),
    Observable("ie_type_ii_halogen", "interaction energy of the type II C-X···X-C contact (180°/90°)", "kcal/mol",
               "interaction_energy", _ie_tiers(False, _IE_NOTE_T1 + ": no sigma hole, halogen contacts wrong"),
               build=_type_ii, read=_interaction),
    Observable("ie_type_i_halogen", "interaction energy of the type I C-X···X-C contact (symmetric angles)",
               "kcal/mol", "interaction_energy",
               _ie_tiers(False, _IE_NOTE_T1 + ": no sigma hole, halogen contacts wrong"),
               build=_type_i, read=_interaction),
    Observable("ie_halogen_bond", "interaction energy of a linear C-X···A halogen bond (A = N/O/S)", "kcal/mol",
               "interaction_energy", _ie_tiers(False, _IE_NOTE_T1 + ": no sigma hole"),
               build=_xb, read=_interaction),
    Observable("ie_stack", "interaction energy of the parallel-displaced stacked dimer", "kcal/mol",
               "interaction_energy", _ie_tiers(True, _IE_NOTE_T1,
                                               _IE_NOTE_T4 + "; MP2 overbinds stacked aromatics"),
               build=_stack, read=_interaction),
    Observable("ie_hbond", "interaction energy of the D-H···A hydrogen-bonded dimer", "kcal/mol",
               "interaction_energy", _ie_tiers(True), build=_hbond, read=_interaction),
]}


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
    return [make_spec(obs.task, fragments, level=TIER_LEVEL[tier], **obs.keywords)]


def read_value(name: str, molecule: Molecule, results: Sequence[CalcResult]) -> float:
    """The observable's number from its results (raises KeyError with the failure when one failed)."""
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
