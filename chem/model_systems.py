"""Model systems: cut a molecule down to the part around a feature, capping cut bonds with H.

Correlated methods (tier 4) are affordable only for small systems; the usual
remedy is a model system that keeps the feature of interest (a halogenated ring,
an amide, a carboxylic acid) and replaces the rest by hydrogens placed along the
cut bonds at standard X-H lengths.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .errors import MoleculeError
from .molecule import Molecule

# Standard bond lengths (Å) for link hydrogens, by the kept atom's element.
CAP_BOND_LENGTH = {"C": 1.09, "N": 1.01, "O": 0.96, "S": 1.34, "Si": 1.48, "P": 1.42, "B": 1.19}


def model_system(molecule: Molecule, keep: Iterable[int], name: str | None = None) -> Molecule:
    """The atoms ``keep`` (heavy-atom indices; their hydrogens come along), with every
    single bond to a dropped atom capped by H. Atoms joined to the kept set by a multiple
    bond, and whole rings that a kept atom belongs to, are kept too (cutting them would
    leave radicals or broken rings)."""
    from rdkit import Chem

    mol = molecule.to_rdkit()
    kept = set(keep)
    if not kept:
        raise MoleculeError(f"{molecule.label}: nothing to keep")
    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    changed = True
    while changed:  # close over rings, multiple bonds and hydrogens
        before = len(kept)
        for ring in rings:
            if ring & kept:
                kept |= ring
        for bond in mol.GetBonds():
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            if (i in kept) != (j in kept):
                outside = j if i in kept else i
                if bond.GetBondType() != Chem.BondType.SINGLE or mol.GetAtomWithIdx(outside).GetAtomicNum() == 1:
                    kept.add(outside)
        changed = len(kept) != before
    xyz = molecule.coords
    rw = Chem.RWMol(mol)
    conf = rw.GetConformer()
    caps = set()
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if (i in kept) == (j in kept):
            continue
        inside, outside = (i, j) if i in kept else (j, i)
        symbol = mol.GetAtomWithIdx(inside).GetSymbol()
        length = CAP_BOND_LENGTH.get(symbol, 1.09)
        direction = xyz[outside] - xyz[inside]
        atom = rw.GetAtomWithIdx(outside)
        atom.SetAtomicNum(1)
        atom.SetFormalCharge(0)
        atom.SetIsAromatic(False)
        atom.SetNoImplicit(True)
        atom.SetNumExplicitHs(0)
        conf.SetAtomPosition(outside, (xyz[inside] + direction / np.linalg.norm(direction) * length).tolist())
        caps.add(outside)
    for idx in sorted(set(range(mol.GetNumAtoms())) - kept - caps, reverse=True):
        rw.RemoveAtom(idx)
    out = rw.GetMol()
    try:
        Chem.SanitizeMol(out)
    except Exception as exc:
        raise MoleculeError(f"{molecule.label}: the model system is not a valid molecule ({exc})") from None
    if len(Chem.GetMolFrags(out)) > 1:
        raise MoleculeError(f"{molecule.label}: the kept atoms are not connected; keep a connected part")
    return Molecule.from_rdkit(out, name=name or f"{molecule.label} (model)", multiplicity=molecule.multiplicity)


def halogen_model_system(molecule: Molecule, halogen: int | None = None) -> Molecule:
    """The heaviest C-bound halogen (or ``halogen``) with the ring system or carbon it sits
    on, capped with H: e.g. iodobenzene from any 4-iodophenyl compound."""
    from .dimers import find_halogen

    x, c = find_halogen(molecule, halogen)
    return model_system(molecule, [x, c], name=f"{molecule.label}: {molecule.symbols[x]} model")
