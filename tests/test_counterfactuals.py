"""Counterfactual builders (chem.counterfactuals): each changes only what it says."""

import numpy as np
import pytest

from tierchem.chem.counterfactuals import (NoCounterfactual, break_intramolecular_hbond, counterfactual,
                                           methylate_donors, open_rotamers, perfluorinate_ring, removes_also,
                                           replace_halogen)
from tierchem.chem.hbonds import is_hbonded
from tierchem.chem.molecule import Molecule


@pytest.fixture(scope="module")
def salicylaldehyde():
    return Molecule.from_smiles("O=Cc1ccccc1O", name="salicylaldehyde")


def test_broken_hbond_has_no_short_contact_and_keeps_the_graph(salicylaldehyde):
    cf = counterfactual("intramolecular_hbond", salicylaldehyde)
    assert cf.kind == "geometry" and cf.molecule.smiles == salicylaldehyde.smiles
    assert not is_hbonded(cf.molecule)  # by the chem.hbonds criterion
    assert "torsion held" in cf.changes


def test_broken_hbond_of_catechol_keeps_the_other_donor_away():
    """Catechol's two OH each can close the 5-ring: turning both would only close it the other way round;
    the lowest open rotamer turns the bonded one and leaves the other pointing away."""
    from tierchem.chem.conformers import conformer_ensemble

    catechol = conformer_ensemble(Molecule.from_smiles("Oc1ccccc1O", name="catechol"), n_conformers=12,
                                  polar_hydrogens=True)[0][0]
    assert is_hbonded(catechol)
    cf = break_intramolecular_hbond(catechol)
    assert not is_hbonded(cf.molecule) and len(cf.changed_atoms) == 1


def test_open_rotamers_of_an_ensemble():
    from tierchem.chem.conformers import conformer_ensemble

    confs, _ = conformer_ensemble(Molecule.from_smiles("O=[N+]([O-])c1ccccc1O", name="2-nitrophenol"),
                                  n_conformers=12, polar_hydrogens=True)
    assert all(is_hbonded(c) for c in confs)  # ETKDG finds the closed form only
    (opened,) = open_rotamers(confs)
    assert not is_hbonded(opened) and opened.smiles == confs[0].smiles
    assert open_rotamers([Molecule.from_smiles("Oc1ccc(O)cc1")]) == []  # nothing H-bonded, nothing to open


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


def test_a_counterfactual_that_removes_a_second_feature_says_so(salicylaldehyde):
    """2-pyridone's donor methylated is 2-methoxypyridine, which has no other tautomer: that counterfactual
    removes the tautomerism too, so it cannot tell the two apart (the hydroxypyridine benchmark series);
    its other tautomer, 2-hydroxypyridine, keeps a donor to methylate. Salicylaldehyde's methylated donor
    loses its intramolecular H-bond too; its rotated O-H keeps the donor."""
    pyridone = Molecule.from_smiles("O=c1cccc[nH]1")
    methylated = counterfactual("hbond_motif", pyridone)
    assert "no sensible alternative tautomer" in removes_also(methylated, "tautomerism", pyridone)
    assert removes_also(counterfactual("tautomerism", pyridone), "hbond_motif", pyridone) is None
    assert removes_also(methylate_donors(salicylaldehyde), "intramolecular_hbond", salicylaldehyde) is not None
    assert removes_also(break_intramolecular_hbond(salicylaldehyde), "hbond_motif", salicylaldehyde) is None
    # a whole-molecule property has no feature to lose, and a feature the original lacks is not lost
    assert removes_also(methylated, "dipole_antiparallel", pyridone) is None
    assert removes_also(methylated, "halogen_bond", pyridone) is None
