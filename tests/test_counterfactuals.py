"""Counterfactual builders (chem.counterfactuals): each changes only what it says."""

import numpy as np
import pytest

from tierchem.chem.counterfactuals import (NoCounterfactual, _hbond_pairs, counterfactual, methylate_donors,
                                           perfluorinate_ring, replace_halogen)
from tierchem.chem.molecule import Molecule


@pytest.fixture(scope="module")
def salicylaldehyde():
    return Molecule.from_smiles("O=Cc1ccccc1O", name="salicylaldehyde")


def test_broken_hbond_has_no_short_contact_and_keeps_the_graph(salicylaldehyde):
    cf = counterfactual("intramolecular_hbond", salicylaldehyde)
    assert cf.kind == "geometry" and cf.molecule.smiles == salicylaldehyde.smiles
    assert not _hbond_pairs(cf.molecule, 2.5)  # no H···A < 2.5 Å
    assert "torsion held" in cf.changes


def test_halogen_swap_keeps_the_other_atoms():
    m = Molecule.from_smiles("Ic1ccc(Cl)cc1", name="4-chloroiodobenzene")
    iodine = m.symbols.index("I")
    for by, smiles in (("H", "Clc1ccccc1"), ("CH3", "Cc1ccc(Cl)cc1")):
        cf = replace_halogen(m, by)
        assert cf.molecule.smiles == Molecule.from_smiles(smiles).smiles
        keep = [i for i in range(m.n_atoms) if i != iodine]
        assert np.allclose(cf.molecule.coords[keep], m.coords[keep], atol=1e-3)
        assert cf.changed_atoms == (iodine,)


def test_methylated_donor_and_perfluorinated_ring(salicylaldehyde):
    cf = methylate_donors(salicylaldehyde)
    assert cf.molecule.smiles == Molecule.from_smiles("COc1ccccc1C=O").smiles
    keep = [i for i in range(salicylaldehyde.n_atoms) if i not in cf.changed_atoms]  # the H became the methyl C
    assert np.allclose(cf.molecule.coords[keep], salicylaldehyde.coords[keep], atol=1e-3)
    benzene = Molecule.from_smiles("c1ccccc1")
    ring = perfluorinate_ring(benzene)
    assert ring.molecule.formula == "C6F6"
    carbons = [i for i, s in enumerate(benzene.symbols) if s == "C"]
    assert np.allclose(ring.molecule.coords[carbons], benzene.coords[carbons], atol=1e-3)


def test_other_tautomer_and_whole_molecule_properties():
    cf = counterfactual("tautomerism", Molecule.from_smiles("Oc1ccccn1"))
    assert cf.molecule.smiles == Molecule.from_smiles("O=c1cccc[nH]1").smiles
    for category in ("dipole_antiparallel", "shape_sterics"):
        with pytest.raises(NoCounterfactual, match="whole molecule"):
            counterfactual(category, Molecule.from_smiles("c1ccccc1O"))
    with pytest.raises(NoCounterfactual):
        replace_halogen(Molecule.from_smiles("c1ccccc1"))
