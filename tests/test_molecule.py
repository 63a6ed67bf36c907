"""The Molecule model: parsing, validation, identity, geometry (against published values)."""

import numpy as np
import pytest

from tierchem.chem import Molecule, MoleculeError
from tierchem.chem.conformers import conformer_ensemble


def test_smiles_roundtrip_identity_and_formula():
    m = Molecule.from_smiles("c1ccccc1O", name="phenol")
    assert m.formula == "C6H6O"
    assert m.n_atoms == 13
    assert m.inchikey == "ISWSIDIOOBJBQZ-UHFFFAOYSA-N"  # phenol's standard InChIKey
    assert m.smiles == "Oc1ccccc1"


def test_embedding_is_seeded_and_reproducible():
    a = Molecule.from_smiles("CCCCO")
    b = Molecule.from_smiles("CCCCO")
    c = Molecule.from_smiles("CCCCO", seed=7)
    assert a == b  # same seed, same coordinates
    assert a.coords_angstrom != c.coords_angstrom


def test_benzene_geometry_matches_experiment():
    # Experimental C-C bond of benzene 1.397 A (Herzberg); MMFF94-relaxed ETKDG within 0.01 A.
    m = Molecule.from_smiles("c1ccccc1")
    xyz = m.coords
    cc = [np.linalg.norm(xyz[i] - xyz[j]) for i, j, _ in m.bonds if m.symbols[i] == m.symbols[j] == "C"]
    assert len(cc) == 6
    assert np.allclose(cc, 1.397, atol=0.01)


def test_xyz_roundtrip_perceives_bonds_with_charge():
    m = Molecule.from_smiles("CC(=O)[O-]", name="acetate")
    back = Molecule.from_xyz(m.to_xyz(), charge=-1)
    assert back.charge == -1
    assert back.inchikey == m.inchikey


def test_sdf_file(tmp_path):
    from rdkit import Chem

    m = Molecule.from_smiles("CCO", name="ethanol")
    sdf = tmp_path / "ethanol.sdf"
    sdf.write_text(m.to_molblock() + "$$$$\n")
    assert Molecule.from_file(sdf).inchikey == m.inchikey
    assert Chem.MolFromMolBlock(m.to_molblock(), removeHs=False).GetNumAtoms() == 9


@pytest.mark.parametrize(
    "smiles, message",
    [
        ("C1CC", "unclosed ring"),
        ("CC(C", "unbalanced parentheses"),
        ("C(C)(C)(C)(C)C", "valence"),
        ("[Xx]C", "unknown element 'Xx'"),
        ("CC.O", "2 disconnected fragments"),
        ("[CH3]", "no multiplicity given"),
        ("", "empty SMILES"),
    ],
)
def test_bad_smiles_give_specific_errors(smiles, message):
    with pytest.raises(MoleculeError, match=message.replace("(", r"\(")):
        Molecule.from_smiles(smiles)


def test_radical_with_multiplicity_and_impossible_spin():
    methyl = Molecule.from_smiles("[CH3]", multiplicity=2)
    assert methyl.multiplicity == 2 and not methyl.is_closed_shell
    with pytest.raises(MoleculeError, match="impossible"):
        Molecule.from_smiles("C", multiplicity=2)


def test_xyz_errors(tmp_path):
    with pytest.raises(MoleculeError, match="unknown element 'Qq'"):
        Molecule.from_xyz("2\n\nQq 0 0 0\nH 0 0 1\n")
    with pytest.raises(MoleculeError, match="header says 3 atoms"):
        Molecule.from_xyz("3\n\nO 0 0 0\nH 0 0 1\n")
    with pytest.raises(MoleculeError, match="no such file"):
        Molecule.from_file(tmp_path / "missing.xyz")


def test_conformer_ensemble_butanol():
    confs, rel = conformer_ensemble(Molecule.from_smiles("CCCCO"), n_conformers=30)
    assert 2 <= len(confs) <= 30
    assert rel[0] == 0.0 and all(b >= a for a, b in zip(rel, rel[1:]))
    assert max(rel) <= 10.0
