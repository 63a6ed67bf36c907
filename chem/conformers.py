"""3-D embedding (ETKDGv3, seeded) and MMFF94 conformer ensembles with pruning."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import MoleculeError
from .molecule import DEFAULT_SEED, Molecule

if TYPE_CHECKING:
    from rdkit import Chem


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


def conformer_ensemble(
    molecule: Molecule,
    n_conformers: int = 30,
    rmsd_threshold: float = 0.5,
    energy_window_kcal_mol: float = 10.0,
    seed: int = DEFAULT_SEED,
) -> tuple[list[Molecule], list[float]]:
    """ETKDGv3 conformers, MMFF94-minimised, pruned by heavy-atom RMSD and energy window.

    Returns the conformers sorted by MMFF94 energy and their energies relative to
    the lowest (kcal/mol).
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem, rdMolAlign

    mol = Chem.Mol(molecule.to_rdkit())
    mol.RemoveAllConformers()
    if not AllChem.MMFFHasAllMoleculeParams(mol):
        raise MoleculeError(f"{molecule.label}: MMFF94 has no parameters for this molecule")
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    params.pruneRmsThresh = rmsd_threshold
    ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n_conformers, params=params))
    if not ids:
        raise MoleculeError(f"{molecule.label}: conformer embedding failed")
    results = AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=2000)
    energies = np.array([e for _, e in results])
    order = np.argsort(energies)
    heavy = Chem.RemoveHs(mol)
    kept: list[int] = []
    for idx in order:
        if energies[idx] - energies[order[0]] > energy_window_kcal_mol:
            break
        if all(rdMolAlign.GetBestRMS(heavy, heavy, ids[k], ids[idx]) > rmsd_threshold for k in kept):
            kept.append(int(idx))
    conformers = [
        molecule.with_coords(mol.GetConformer(ids[k]).GetPositions()) for k in kept
    ]
    rel = [float(energies[k] - energies[kept[0]]) for k in kept]
    return conformers, rel
