"""Model systems for the costly tiers: keep the feature, cap cut bonds with hydrogen."""

import numpy as np
import pytest

from tierchem.chem import Molecule, MoleculeError
from tierchem.chem.model_systems import halogen_model_system, model_system


@pytest.mark.parametrize("smiles, model", [
    ("COc1ccc(-c2ccc(I)cc2)cc1", "Ic1ccccc1"),     # the iodinated ring of a biphenyl
    ("CCCCCCOc1ccc(I)cc1", "Ic1ccccc1"),           # an alkoxy chain cut at the ring
    ("O=C(O)c1ccc(Br)cc1", "Brc1ccccc1"),
    ("Ic1ccc2ccccc2c1", "Ic1ccc2ccccc2c1"),        # a fused ring system is kept whole
])
def test_halogen_model_systems(smiles, model):
    assert halogen_model_system(Molecule.from_smiles(smiles)).smiles == model


def test_cap_hydrogens_sit_on_the_cut_bonds():
    m = Molecule.from_smiles("CCCCCCOc1ccc(I)cc1")
    h = halogen_model_system(m)
    xyz, ring_c = h.coords, [i for i, s in enumerate(h.symbols) if s == "C"]
    # Every C-H is 1.09 Å (the cap too); the ring carbons keep their positions.
    ch = [np.linalg.norm(xyz[i] - xyz[j]) for i, j, _ in h.bonds if {h.symbols[i], h.symbols[j]} == {"C", "H"}]
    assert len(ch) == 5 and np.allclose(ch, 1.09, atol=0.02)
    original = {tuple(np.round(p, 4)) for p in m.coords}
    assert all(tuple(np.round(xyz[i], 4)) in original for i in ring_c)
    assert h.n_electrons % 2 == 0 and h.multiplicity == 1


def test_multiple_bonds_are_not_cut():
    m = Molecule.from_smiles("C=Cc1ccc(I)cc1")
    assert model_system(m, [0]).smiles == "C=C"  # keeping one vinyl carbon keeps its C=C partner
    assert halogen_model_system(m).smiles == "Ic1ccccc1"  # the ring-vinyl single bond is cut


def test_disconnected_keep_is_an_error():
    m = Molecule.from_smiles("Ic1ccc(CCCCc2ccc(I)cc2)cc1")
    with pytest.raises(MoleculeError, match="not connected"):
        model_system(m, [0, 15])
