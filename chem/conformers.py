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
    polar_hydrogens: bool = False,
) -> tuple[list[Molecule], list[float]]:
    """ETKDGv3 conformers, MMFF94-minimised, pruned by heavy-atom RMSD and energy window.

    With ``polar_hydrogens`` the RMSD also counts the hydrogens on N/O/S, so that
    rotamers differing only in an O-H or N-H (an intramolecular H-bond made or broken)
    are kept apart; pruning then happens after minimisation only.

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
    params.pruneRmsThresh = -1.0 if polar_hydrogens else rmsd_threshold  # ETKDG prunes on heavy atoms
    ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n_conformers, params=params))
    if not ids:
        raise MoleculeError(f"{molecule.label}: conformer embedding failed")
    results = AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=2000)
    energies = np.array([e for _, e in results])
    order = np.argsort(energies)
    heavy = _without_apolar_hydrogens(mol) if polar_hydrogens else Chem.RemoveHs(mol)
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


def _without_apolar_hydrogens(mol):
    """A copy of ``mol`` (all conformers) without the hydrogens bonded to carbon."""
    from rdkit import Chem

    rw = Chem.RWMol(mol)
    for atom in sorted((a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 1
                        and all(n.GetAtomicNum() == 6 for n in a.GetNeighbors())), reverse=True):
        rw.RemoveAtom(atom)
    return rw.GetMol()


def distinct_conformers(conformers: list[Molecule], energies: list[float], tolerance_angstrom: float = 0.1,
                        energy_tolerance_kcal_mol: float = 0.05) -> list[int]:
    """Indices of the distinct conformers, lowest energy first: two conformers are the same when
    their energies agree within ``energy_tolerance_kcal_mol`` and no distance between heavy atoms
    and polar hydrogens differs by more than ``tolerance_angstrom`` (relaxation at a higher tier
    often brings two starting conformers to one minimum; mirror-image conformers count once)."""
    if not conformers:
        return []
    m0 = conformers[0]
    nb = m0.neighbours()
    keep_atoms = [i for i, s in enumerate(m0.symbols)
                  if s != "H" or not nb[i] or m0.symbols[nb[i][0]] != "C"]

    def dmat(m: Molecule) -> np.ndarray:
        x = m.coords[keep_atoms]
        return np.linalg.norm(x[:, None, :] - x[None, :, :], axis=2)

    order = [int(i) for i in np.argsort(energies)]
    kept: list[int] = []
    mats = {i: dmat(conformers[i]) for i in order}
    for i in order:
        if not any(abs(energies[i] - energies[k]) < energy_tolerance_kcal_mol
                   and np.abs(mats[i] - mats[k]).max() < tolerance_angstrom for k in kept):
            kept.append(i)
    return kept
