"""Dimer builders: splitting by connectivity and the contact-motif geometries."""

import numpy as np
import pytest

from tierchem.chem import Molecule, MoleculeError
from tierchem.chem.dimers import (contact_angles, find_halogen, halogen_bond_dimer, hbond_dimer,
                                  split_by_connectivity, stacked_dimer, t_shaped_dimer,
                                  type_i_halogen_contact, type_ii_halogen_contact)


@pytest.fixture(scope="module")
def diiodobenzene():
    return Molecule.from_smiles("Ic1ccc(I)cc1", name="1,4-diiodobenzene")


def _min_intermolecular(a, b):
    return float(np.min(np.linalg.norm(a.coords[:, None] - b.coords[None], axis=-1)))


def test_split_s22_water_dimer():
    from ase.data import s22

    atoms = s22.create_s22_system("Water_dimer")
    text = f"{len(atoms)}\nwater dimer\n" + "".join(
        f"{s} {x} {y} {z}\n" for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions))
    a, b = split_by_connectivity(text)
    assert a.formula == b.formula == "H2O"


def test_split_charged_needs_fragment_charges():
    water = "O 0 0 0\nH 0 0 0.97\nH 0 0.9 -0.3\n"
    dimer = "6\n\n" + water + "".join(f"{s} {float(x) + 3.0} {y} {z}\n" for s, x, y, z in
                                       (line.split() for line in water.splitlines()))
    with pytest.raises(MoleculeError, match="fragment_charges, or --fragment-charges -1,0"):
        split_by_connectivity(dimer, charge=-1)
    # one fragment takes the total charge; a neutral geometry says so instead of asking for fragment charges
    with pytest.raises(MoleculeError, match=r"neutral molecule \(H2O\).*drop --charge"):
        split_by_connectivity("3\n\n" + water, charge=-1)


def test_type_ii_contact_angles(diiodobenzene):
    a, b = type_ii_halogen_contact(diiodobenzene, diiodobenzene)
    d, t1, t2 = contact_angles(a, b, find_halogen(a)[0], find_halogen(b)[0])
    assert t1 == pytest.approx(180, abs=0.5) and t2 == pytest.approx(90, abs=0.5)
    assert d == pytest.approx(0.95 * 2 * 1.98, abs=1e-3)  # 95% of the Bondi I...I sum
    assert _min_intermolecular(a, b) == pytest.approx(d, abs=1e-3)  # nothing closer than the contact


def test_type_i_contact_is_symmetric(diiodobenzene):
    a, b = type_i_halogen_contact(diiodobenzene, diiodobenzene, angle_deg=150)
    _, t1, t2 = contact_angles(a, b, find_halogen(a)[0], find_halogen(b)[0])
    assert t1 == pytest.approx(150, abs=0.5) and t2 == pytest.approx(150, abs=0.5)


def test_halogen_bond_is_linear(diiodobenzene):
    nh3 = Molecule.from_smiles("N")
    a, b = halogen_bond_dimer(diiodobenzene, nh3)
    d, t1, _ = contact_angles(a, b, find_halogen(a)[0], 0)
    assert t1 == pytest.approx(180, abs=0.5)
    assert d == pytest.approx(0.9 * (1.98 + 1.55), abs=1e-3)


def test_hbond_and_stacks():
    water = Molecule.from_smiles("O")
    a, b = hbond_dimer(water, water)
    assert _min_intermolecular(a, b) == pytest.approx(1.95, abs=0.01)
    benzene = Molecule.from_smiles("c1ccccc1")
    p, q = stacked_dimer(benzene, benzene, distance=3.5, offset=1.6)
    assert q.coords[:, 2].mean() - p.coords[:, 2].mean() == pytest.approx(3.5, abs=1e-6)
    p, q = t_shaped_dimer(benzene, benzene)
    # S22's T-shaped benzene dimer has its centroids 4.9-5.0 A apart (Jurecka et al. 2006).
    assert np.linalg.norm(p.coords.mean(0) - q.coords.mean(0)) == pytest.approx(4.95, abs=0.3)


def test_t_shape_of_a_rod_is_bound_at_xtb(diiodobenzene):
    from tierchem.chem.dimers import t_shaped_dimer
    from tierchem.tiers import compute, make_spec

    r = compute(make_spec("interaction_energy", list(t_shaped_dimer(diiodobenzene, diiodobenzene)), "xtb"))
    assert -6.0 < r.values["interaction_energy_kcal_mol"] < 0.0  # a weak C-H···pi contact, no clash


def test_no_halogen_is_a_clear_error():
    with pytest.raises(MoleculeError, match="no halogen"):
        type_ii_halogen_contact(Molecule.from_smiles("c1ccccc1"), Molecule.from_smiles("c1ccccc1"))


def test_settled_t_shape_of_a_long_edge_is_bound():
    """A rule-built T puts every H of naphthalene's long C-H edge at 0.9 of its vdW contact at once: +1.0
    kcal/mol at GAFF2; slid to its MMFF94 separation (0.85 Å farther) it binds by about -4.0, near the
    CCSD(T) estimate for the T-shaped naphthalene dimer, about -4.3 (S. Tsuzuki et al., J. Chem. Phys. 120,
    647 (2004); approximately), within 1.5."""
    from tierchem.chem.dimers import settle_separation, t_shaped_dimer
    from tierchem.tiers import compute, make_spec

    n = Molecule.from_smiles("c1ccc2ccccc2c1", name="naphthalene")
    a, b = t_shaped_dimer(n, n)
    moved, shift = settle_separation(a, b)
    assert 0.3 < shift < 1.2
    built = compute(make_spec("interaction_energy", [a, b], 1)).value("interaction_energy_kcal_mol")
    settled = compute(make_spec("interaction_energy", [a, moved], 1)).value("interaction_energy_kcal_mol")
    assert built > -1.0 and settled == pytest.approx(-4.3, abs=1.5)
