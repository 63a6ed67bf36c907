"""3-D embedding of an RDKit molecule (ETKDGv3, seeded, MMFF94-relaxed).

Below :mod:`.molecule` (whose constructors embed) and :mod:`.conformers` (ensembles),
so that neither imports the other for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import MoleculeError

if TYPE_CHECKING:
    from rdkit import Chem

DEFAULT_SEED = 0xF00D


def embed(mol: "Chem.Mol", seed: int = DEFAULT_SEED, name: str = "", optimize: bool = True) -> "Chem.Mol":
    """Add hydrogens and one ETKDGv3 conformer; relax it with MMFF94 where parameters exist.

    The same seed gives the same coordinates on the same RDKit version.
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.Mol(mol))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(mol, params) != 0:
        params.useRandomCoords = True  # the fallback RDKit documents for hard cases
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise MoleculeError(f"{name or Chem.MolToSmiles(mol)}: 3-D embedding failed")
    if optimize and AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
    if name:
        mol.SetProp("_Name", name)
    return mol
