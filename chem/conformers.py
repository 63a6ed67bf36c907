"""MMFF94 conformer ensembles (ETKDGv3, seeded) with pruning; single embeddings are in :mod:`.embedding`."""

from __future__ import annotations

import numpy as np

from .embedding import DEFAULT_SEED
from .errors import MoleculeError
from .molecule import Molecule


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
