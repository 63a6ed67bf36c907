"""Tautomers worth an energy: RDKit's enumerator, filtered to the sensible ones.

RDKit's ``rdMolStandardize.TautomerEnumerator`` moves hydrogens and bond orders by its
transform rules (keto-enol, lactam-lactim, amide-imidic acid, 1,3 and 1,5 shifts...). Of what it
finds, a tautomer is kept when it is

- on the same heavy-atom skeleton (the enumerator never changes it; checked anyway),
- closed shell and without charge separation (no radicals, no formally charged atom: a zwitterion
  belongs to a continuum or crystal model, not to a gas-phase ranking),
- as aromatic as the most aromatic tautomer of the set (2-hydroxypyridine and 2-pyridone are both
  aromatic to RDKit and both kept; phenol's cyclohexadienones lose the ring and are dropped),

and at most ``max_alternatives`` are kept, best RDKit tautomer score first (RDKit's heuristic
ranking: aromatic rings, C=O, C=N... no energy), so that each one costs a few relaxations only.
"""

from __future__ import annotations

from .molecule import Molecule


def _skeleton(mol) -> tuple:
    from rdkit import Chem

    heavy = Chem.RemoveHs(mol)
    return tuple(sorted((min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()), max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
                        for b in heavy.GetBonds()))


def _closed_shell_neutral(mol) -> bool:
    return all(a.GetNumRadicalElectrons() == 0 and a.GetFormalCharge() == 0 for a in mol.GetAtoms())


def _aromatic_rings(mol) -> int:
    from rdkit.Chem import rdMolDescriptors

    return int(rdMolDescriptors.CalcNumAromaticRings(mol))


def tautomer_smiles(molecule: Molecule, max_alternatives: int = 3) -> tuple[str, list[str]]:
    """(the drawn tautomer's canonical SMILES, the sensible alternatives' SMILES, best score first)."""
    from rdkit import Chem
    from rdkit.Chem.MolStandardize import rdMolStandardize

    drawn = Chem.RemoveHs(molecule.to_rdkit())
    drawn_smiles = Chem.MolToSmiles(drawn)
    enumerator = rdMolStandardize.TautomerEnumerator()
    found = list(enumerator.Enumerate(drawn))
    skeleton = _skeleton(drawn)
    sensible = [t for t in found if _closed_shell_neutral(t) and _skeleton(t) == skeleton]
    if not sensible:
        return drawn_smiles, []
    most_aromatic = max(_aromatic_rings(t) for t in sensible + [drawn])
    alternatives = [t for t in sensible if _aromatic_rings(t) == most_aromatic
                    and Chem.MolToSmiles(t) != drawn_smiles]
    alternatives.sort(key=lambda t: (-enumerator.ScoreTautomer(t), Chem.MolToSmiles(t)))
    return drawn_smiles, [Chem.MolToSmiles(t) for t in alternatives[:max_alternatives]]


def sensible_tautomers(molecule: Molecule, max_alternatives: int = 3) -> list[Molecule]:
    """The molecule as drawn, then its sensible alternative tautomers (embedded, MMFF94-minimised);
    only the drawn one when it has none."""
    _, alternatives = tautomer_smiles(molecule, max_alternatives)
    out = [molecule]
    for k, smiles in enumerate(alternatives, 1):
        out.append(Molecule.from_smiles(smiles, name=f"{molecule.label} tautomer {k}"))
    return out
