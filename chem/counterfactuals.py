"""Counterfactuals: the target with one hypothesis's feature removed and little else changed.

Cause or consequence is decided by calculation: when two hypotheses both separate the target from its
analogs, each one's decisive observable is computed on the *other's* counterfactual (agent.causality).
A counterfactual is only as good as what it keeps, so each states what it changes and what it keeps.

==========================  =====================================================================
category                    counterfactual
==========================  =====================================================================
``intramolecular_hbond``    the H-bonded donor H rotated away (D-H torsion turned 180° from the
                            acceptor, MMFF94-relaxed with that torsion held): same graph, no H-bond
                            by the chem.hbonds criterion (``kind="geometry"``)
``halogen_bond``            every atom of the heaviest C-bound halogen replaced by H (C-H 1.08 Å on
                            the C-X axis) or CH3; every other atom where it was
``tautomerism``             the best sensible alternative tautomer (chem.tautomers)
``hbond_motif``             every polar H replaced by CH3 (the donor methylated); original atoms kept,
                            the new methyl H relaxed with the rest held
``pi_stacking_quadrupole``  every aromatic C-H turned into C-F (1.35 Å on the C-H axis): the
                            quadrupole's sign reversed, the shape kept
==========================  =====================================================================

Dipole, shape, flexibility and dispersion are properties of the whole molecule, not a removable
feature: they have no counterfactual (:class:`NoCounterfactual`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

from .elements import SIGMA_HOLE_HALOGENS
from .errors import MoleculeError
from .hbonds import (CRITERION, hbond_geometry, intramolecular_hbond_triples, is_hbonded, polar_hydrogens,
                     ring_closing_triples)
from .molecule import Molecule

C_H_ANGSTROM, C_C_ANGSTROM, C_F_ANGSTROM, O_C_ANGSTROM = 1.08, 1.50, 1.35, 1.43


class NoCounterfactual(MoleculeError):
    """This category has no counterfactual, or this molecule lacks the feature to remove; the message says why."""


@dataclass(frozen=True)
class Counterfactual:
    """The target with one feature removed: the molecule, what it changes, what it keeps."""

    category: str
    molecule: Molecule
    changes: str
    keeps: str
    kind: Literal["geometry", "graph"]  # same graph other geometry, or another molecule
    changed_atoms: tuple[int, ...] = ()  # indices in the original molecule that were moved or replaced


def _torsion(m: Molecule, h: int, d: int) -> tuple[int, int, int, int] | None:
    nb = m.neighbours()
    heavy = [j for j in nb[d] if j != h and m.symbols[j] != "H"]
    if not heavy:
        return None
    c = heavy[0]
    x = [k for k in nb[c] if k != d]
    return (x[0], c, d, h) if x else None


def _closest_acceptor_distance(m: Molecule) -> float:
    """The shortest H···A over the graph-allowed intramolecular triples (chem.hbonds), 99 Å if none."""
    r_ha, _ = hbond_geometry(m.coords, intramolecular_hbond_triples(m))
    return float(r_ha.min()) if r_ha.size else 99.0


def _set_and_hold(m: Molecule, torsions: dict[tuple[int, int, int, int], float]) -> tuple[Molecule, float]:
    """Set each torsion (degrees), then MMFF94-relax with those torsions held; the geometry and its
    MMFF94 energy (kcal/mol)."""
    from rdkit.Chem import AllChem, rdMolTransforms

    mol = m.to_rdkit()
    conf = mol.GetConformer()
    for t, deg in torsions.items():
        rdMolTransforms.SetDihedralDeg(conf, *t, deg)
    props = AllChem.MMFFGetMoleculeProperties(mol)
    ff = AllChem.MMFFGetMoleculeForceField(mol, props, confId=0)
    for t, deg in torsions.items():
        ff.MMFFAddTorsionConstraint(*t, False, deg, deg, 1.0e4)
    ff.Minimize(maxIts=2000)
    return m.with_coords(np.array(conf.GetPositions())), float(ff.CalcEnergy())


MAX_TURNED_DONORS = 4  # 2**4 torsion combinations at most; beyond, only "all turned"


def break_intramolecular_hbond(m: Molecule) -> Counterfactual:
    """The donor H atoms that can close a 5- or 6-membered H-bonded ring, each kept or turned 180° about
    its C-D bond (every combination, MMFF94-relaxed with the torsions held): of those with no H-bond
    formed by the :mod:`chem.hbonds` criterion, the lowest in MMFF94 energy (catechol: the bonded OH turned
    away, the other left pointing away from it)."""
    from itertools import product

    from rdkit.Chem import rdMolTransforms

    hs = sorted({h for _, h, _ in ring_closing_triples(m)})
    if not hs:
        raise NoCounterfactual(f"{m.label} has no donor and acceptor placed to close an intramolecular H-bond")
    conf = m.to_rdkit().GetConformer()
    torsions = {}
    for h in hs:
        t = _torsion(m, h, m.neighbours()[h][0])
        if t is None:
            raise NoCounterfactual(f"{m.label}: the donor of H{h} has no torsion to turn")
        torsions[t] = rdMolTransforms.GetDihedralDeg(conf, *t)
    turns = (list(product((0.0, 180.0), repeat=len(torsions))) if len(torsions) <= MAX_TURNED_DONORS
             else [(180.0,) * len(torsions)])
    options = []
    for turn in turns:
        out, energy = _set_and_hold(m, {t: deg + dt for (t, deg), dt in zip(torsions.items(), turn)})
        if not is_hbonded(out):
            options.append((energy, out, [h for h, dt in zip(hs, turn) if dt]))
    if not options:
        raise NoCounterfactual(f"{m.label}: every rotamer of its donors still meets an acceptor "
                               f"({CRITERION})")
    _, out, turned = min(options, key=lambda o: o[0])
    left = _closest_acceptor_distance(out)
    which = ", ".join(f"H{i}" for i in turned) or "none"
    return Counterfactual("intramolecular_hbond", out, kind="geometry", changed_atoms=tuple(turned),
                          changes=f"donor H turned away from its acceptor ({which} turned 180°), MMFF94-relaxed "
                                  f"with the torsion held (closest H···A {left:.2f} Å; no H-bond: {CRITERION})",
                          keeps="the molecular graph; the rest relaxed at MMFF94")


def open_rotamers(conformers: list[Molecule]) -> list[Molecule]:
    """The lowest H-bonded conformer of an ensemble (lowest first) with its H-bond broken
    (:func:`break_intramolecular_hbond`): the open rotamer an ETKDG search can miss when the H-bond is
    strong (2-nitrophenol); [] when no conformer is H-bonded or no rotamer of it opens."""
    closed = next((c for c in conformers if is_hbonded(c)), None)
    if closed is None:
        return []
    try:
        return [break_intramolecular_hbond(closed).molecule]
    except NoCounterfactual:
        return []


def _replace(m: Molecule, sites: list[tuple[int, int]], element: str, length: float,
             cap_with_h: bool) -> Molecule:
    """Atoms ``sites`` = [(atom, its anchor)] become ``element`` at ``length`` Å on the anchor-atom axis;
    with ``cap_with_h`` their open valences are filled with H, relaxed with every other atom held."""
    from rdkit import Chem
    from rdkit.Chem import AllChem
    from rdkit.Geometry import Point3D

    rw = Chem.RWMol(m.to_rdkit())
    conf = rw.GetConformer()
    xyz = m.coords
    for atom, anchor in sites:
        u = xyz[atom] - xyz[anchor]
        p = xyz[anchor] + length * u / np.linalg.norm(u)
        a = rw.GetAtomWithIdx(atom)
        a.SetAtomicNum(Chem.GetPeriodicTable().GetAtomicNumber(element))
        a.SetNoImplicit(False)
        a.SetNumExplicitHs(0)
        conf.SetAtomPosition(atom, Point3D(*p))
    mol = rw.GetMol()
    Chem.SanitizeMol(mol)
    if cap_with_h:
        n0 = mol.GetNumAtoms()
        mol = Chem.AddHs(mol, addCoords=True)
        props = AllChem.MMFFGetMoleculeProperties(mol)
        ff = AllChem.MMFFGetMoleculeForceField(mol, props)
        for i in range(n0):
            ff.AddFixedPoint(i)
        ff.Minimize(maxIts=500)
    return Molecule.from_rdkit(mol, name=m.name)


def replace_halogen(m: Molecule, by: Literal["H", "CH3"] = "H") -> Counterfactual:
    """Every atom of the heaviest C-bound halogen replaced by H or CH3, the rest of the geometry kept."""
    nb = m.neighbours()
    for el in SIGMA_HOLE_HALOGENS:
        sites = [(i, next(j for j in nb[i] if m.symbols[j] == "C")) for i, s in enumerate(m.symbols)
                 if s == el and any(m.symbols[j] == "C" for j in nb[i])]
        if sites:
            break
    else:
        raise NoCounterfactual(f"{m.label} has no C-bound Cl, Br or I to replace")
    if by == "H":
        out = _replace(m, sites, "H", C_H_ANGSTROM, cap_with_h=False)
    else:
        out = _replace(m, sites, "C", C_C_ANGSTROM, cap_with_h=True)
    return Counterfactual("halogen_bond", out, kind="graph", changed_atoms=tuple(i for i, _ in sites),
                          changes=f"{len(sites)} {el} replaced by {by} on the C-{el} axis",
                          keeps="every other atom's coordinates")


def _swapped(category: str, m: Molecule, sites: list[tuple[int, int]], element: str, length: float,
             changes: str, keeps: str) -> Counterfactual:
    out = _replace(m, sites, element, length, cap_with_h=element == "C")
    return Counterfactual(category, out, kind="graph", changed_atoms=tuple(h for h, _ in sites),
                          changes=f"{len(sites)} {changes}", keeps=keeps)


def methylate_donors(m: Molecule) -> Counterfactual:
    """Every polar H replaced by CH3 (the donor methylated), the original atoms kept."""
    sites = polar_hydrogens(m)
    if not sites:
        raise NoCounterfactual(f"{m.label} has no N-H or O-H donor to methylate")
    return _swapped("hbond_motif", m, sites, "C", O_C_ANGSTROM, "polar H replaced by CH3 (no H-bond donor left)",
                    "every original atom's coordinates; the new methyl H relaxed with the rest held")


def perfluorinate_ring(m: Molecule) -> Counterfactual:
    """Every aromatic C-H turned into C-F: the ring's quadrupole reversed, the shape kept."""
    rd = m.to_rdkit()
    nb = m.neighbours()
    sites = [(h, nb[h][0]) for h, s in enumerate(m.symbols)
             if s == "H" and nb[h] and rd.GetAtomWithIdx(nb[h][0]).GetIsAromatic()]
    if not sites:
        raise NoCounterfactual(f"{m.label} has no aromatic C-H to fluorinate")
    return _swapped("pi_stacking_quadrupole", m, sites, "F", C_F_ANGSTROM,
                    "aromatic C-H turned into C-F (quadrupole reversed)", "every other atom's coordinates")


def other_tautomer(m: Molecule) -> Counterfactual:
    """The best sensible alternative tautomer (chem.tautomers), embedded afresh."""
    from .tautomers import sensible_tautomers

    species = sensible_tautomers(m)
    if len(species) < 2:
        raise NoCounterfactual(f"{m.label} has no sensible alternative tautomer")
    return Counterfactual("tautomerism", species[1], kind="graph",
                          changes=f"the alternative tautomer {species[1].smiles}",
                          keeps="the heavy-atom skeleton and the formula")


BUILDERS: dict[str, Callable[[Molecule], Counterfactual]] = {
    "intramolecular_hbond": break_intramolecular_hbond,
    "halogen_bond": replace_halogen,
    "tautomerism": other_tautomer,
    "hbond_motif": methylate_donors,
    "pi_stacking_quadrupole": perfluorinate_ring,
}
WHOLE_MOLECULE = ("dipole_antiparallel", "shape_sterics", "conformational_flexibility", "dispersion_polarisability")


def counterfactual(category: str, m: Molecule) -> Counterfactual:
    """The counterfactual of ``m`` for ``category`` (raises NoCounterfactual with the reason)."""
    if category in BUILDERS:
        return BUILDERS[category](m)
    if category in WHOLE_MOLECULE:
        raise NoCounterfactual(f"{category} is a property of the whole molecule: no feature to remove alone")
    raise NoCounterfactual(f"no counterfactual builder for {category!r}")


def removes_also(cf: Counterfactual, category: str, original: Molecule) -> str | None:
    """Why ``cf`` removes ``category``'s feature as well as its own (``original`` has the feature, the
    counterfactual's molecule has none left to remove), or None when the feature survives or ``category``
    has no removable feature. Such a counterfactual cannot tell the two causes apart."""
    if category == cf.category or category not in BUILDERS:
        return None
    try:
        BUILDERS[category](original)
    except NoCounterfactual:
        return None  # nothing of it to lose
    try:  # named by its SMILES: the counterfactual keeps the original's name
        BUILDERS[category](cf.molecule.model_copy(update={"name": cf.molecule.smiles}))
    except NoCounterfactual as gone:
        return str(gone)
    return None
