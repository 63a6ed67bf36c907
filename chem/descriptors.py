"""Molecular descriptors used to compare a series: size, shape, polarity, H-bonding."""

from __future__ import annotations

from .elements import SIGMA_HOLE_HALOGENS
from .molecule import Molecule


def descriptors(molecule: Molecule) -> dict[str, float | int]:
    """RDKit descriptors of one molecule (3-D ones from its stored geometry)."""
    from rdkit import Chem
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    mol = molecule.to_rdkit()
    flat = Chem.RemoveHs(mol)
    pmi1, pmi2, pmi3 = (rdMolDescriptors.CalcPMI1(mol), rdMolDescriptors.CalcPMI2(mol), rdMolDescriptors.CalcPMI3(mol))
    return {
        "n_atoms": molecule.n_atoms,
        "n_heavy_atoms": flat.GetNumHeavyAtoms(),
        "molecular_weight": Descriptors.MolWt(flat),
        "n_hbond_donors": Lipinski.NumHDonors(flat),
        "n_hbond_acceptors": Lipinski.NumHAcceptors(flat),
        "n_rotatable_bonds": Lipinski.NumRotatableBonds(flat),
        "n_aromatic_rings": rdMolDescriptors.CalcNumAromaticRings(flat),
        "n_heavy_halogens": sum(molecule.symbols.count(x) for x in SIGMA_HOLE_HALOGENS),
        "tpsa_angstrom2": rdMolDescriptors.CalcTPSA(flat),
        "logp": Crippen.MolLogP(flat),
        "molar_refractivity": Crippen.MolMR(flat),
        "fraction_csp3": rdMolDescriptors.CalcFractionCSP3(flat),
        "radius_of_gyration_angstrom": rdMolDescriptors.CalcRadiusOfGyration(mol),
        "asphericity": rdMolDescriptors.CalcAsphericity(mol),
        "npr1": pmi1 / pmi3 if pmi3 else 0.0,
        "npr2": pmi2 / pmi3 if pmi3 else 0.0,
        "molecular_volume_angstrom3": _volume(mol),
    }


def _volume(mol) -> float:
    from rdkit.Chem import AllChem

    # Grid-based van der Waals volume; fixed grid and seed-free, so reproducible.
    return float(AllChem.ComputeMolVolume(mol, gridSpacing=0.2))
