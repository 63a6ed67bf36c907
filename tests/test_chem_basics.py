"""The shared basics of chem: element data, pure geometry, the bond graph of a Molecule, element
graphs and the structural features the hypothesis library compares."""

from __future__ import annotations

import numpy as np
import pytest

from tierchem.chem import Molecule, features
from tierchem.chem.elements import (ATOMIC_NUMBER, BONDI_1964_VDW_RADII, BONDI_ROWLAND_TAYLOR_VDW_RADII, HALOGENS,
                                    SIGMA_HOLE_HALOGENS, bondi_vdw_radius, vdw_radius)
from tierchem.chem.geometry import (angle, angle_between, axis_rotation, kabsch, plane_frame, rotation_between,
                                    superposed_rmsd)
from tierchem.chem.graphs import graph_key


@pytest.fixture(scope="module")
def butanol():
    return Molecule.from_smiles("CCCCO", name="1-butanol")


# ------------------------------------------------------------------ element data
def test_two_radius_tables_differ_only_where_they_should():
    assert vdw_radius("H") == 1.10 and bondi_vdw_radius("H") == 1.20       # Rowland & Taylor vs Bondi
    assert vdw_radius("I") == bondi_vdw_radius("I") == 1.98
    assert vdw_radius("U") == bondi_vdw_radius("U") == 2.0                 # not in either table
    shared = set(BONDI_ROWLAND_TAYLOR_VDW_RADII) & set(BONDI_1964_VDW_RADII)
    assert {s for s in shared if BONDI_ROWLAND_TAYLOR_VDW_RADII[s] != BONDI_1964_VDW_RADII[s]} == {"H"}


def test_halogen_sets():
    assert HALOGENS == ("I", "Br", "Cl", "F") and SIGMA_HOLE_HALOGENS == ("I", "Br", "Cl")  # heaviest first
    assert ATOMIC_NUMBER["I"] == 53 and ATOMIC_NUMBER["Rn"] == 86


# ------------------------------------------------------------------ geometry
def test_angles():
    assert angle([1.0, 0, 0], [0.0, 0, 0], [0.0, 1, 0]) == pytest.approx(90.0)
    assert angle_between([1.0, 0, 0], [1.0, 1.0, 0]) == pytest.approx(45.0)
    assert angle_between([1.0, 0, 0], [-2.0, 0, 0]) == pytest.approx(180.0)
    # water at its experimental geometry: H-O-H 104.5°
    theta = np.radians(104.5)
    h1, h2 = 0.9572 * np.array([1.0, 0, 0]), 0.9572 * np.array([np.cos(theta), np.sin(theta), 0])
    assert angle(h1, np.zeros(3), h2) == pytest.approx(104.5, abs=1e-9)


def test_rotations():
    r = axis_rotation(np.array([0, 0, 2.0]), np.radians(90))
    assert r @ [1.0, 0, 0] == pytest.approx([0.0, 1.0, 0.0], abs=1e-12)
    for a, b in (([1.0, 0, 0], [0, 0, 3.0]), ([1.0, 2, 3], [-1.0, -2, -3]), ([0, 1.0, 0], [0, 2.0, 0])):
        rot = rotation_between(np.array(a), np.array(b))
        assert np.linalg.det(rot) == pytest.approx(1.0)
        assert rot @ np.array(a) / np.linalg.norm(a) == pytest.approx(np.array(b) / np.linalg.norm(b), abs=1e-12)


def test_kabsch_recovers_a_known_motion(butanol):
    x = butanol.coords
    rot = axis_rotation(np.array([1.0, 2.0, -0.5]), np.radians(37.0))
    y = x @ rot.T + [0.3, -1.2, 4.0]
    r, t = kabsch(x, y)
    assert r == pytest.approx(rot, abs=1e-10)
    assert x @ r.T + t == pytest.approx(y, abs=1e-10)
    assert superposed_rmsd(x, y) == pytest.approx(0.0, abs=1e-6)


def test_superposition_of_a_mirror_image():
    x = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1.0]])
    mirror = x * [1, 1, -1]
    assert superposed_rmsd(x, mirror, reflection=True) == pytest.approx(0.0, abs=1e-9)
    assert superposed_rmsd(x, mirror) == pytest.approx(0.5, abs=1e-9)      # a rotation cannot undo it
    assert np.linalg.det(kabsch(x, mirror)[0]) == pytest.approx(1.0)       # never a reflection


def test_plane_frame_normal_of_benzene():
    benzene = Molecule.from_smiles("c1ccccc1")
    normal = plane_frame(benzene.coords)[2]
    assert np.abs((benzene.coords - benzene.coords.mean(axis=0)) @ normal).max() < 0.05


# ------------------------------------------------------------------ bond graph
def test_neighbours_and_bond_path(butanol):
    assert butanol.symbols[:5] == ("C", "C", "C", "C", "O")
    nb = butanol.neighbours()
    assert len(nb) == butanol.n_atoms and sorted(nb[1])[:2] == [0, 2] and len(nb[1]) == 4
    assert sum(len(x) for x in nb) == 2 * len(butanol.bonds)
    assert butanol.bond_path(0, 4) == [0, 1, 2, 3, 4]
    assert butanol.bond_path(4, 0) == [4, 3, 2, 1, 0]
    assert butanol.bond_path(2, 2) == [2]
    h_on_c0 = nb[0][-1]
    assert butanol.symbols[h_on_c0] == "H" and butanol.bond_path(h_on_c0, 4) == [h_on_c0, 0, 1, 2, 3, 4]
    ring = Molecule.from_smiles("c1ccccc1")
    assert len(ring.bond_path(0, 3)) == 4                                  # para: three bonds either way


def test_bond_path_between_unbonded_atoms():
    pair = Molecule(symbols=("He", "He"), coords_angstrom=((0, 0, 0), (0, 0, 3.0)))
    assert pair.neighbours() == [[], []]
    assert pair.bond_path(0, 1) == []


def test_graph_key_is_blind_to_bond_orders_and_optionally_hydrogens():
    acid = Molecule.from_smiles("CC(=O)O")
    assert graph_key(acid, heavy_only=True) == "CC(O)O"
    assert graph_key(acid) == graph_key(acid.model_copy(update={"bonds": tuple((i, j, 1) for i, j, _ in acid.bonds)}))


# ------------------------------------------------------------------ features
@pytest.mark.parametrize("smiles, halogen, donors, pairs, aromatic, nos", [
    ("Ic1ccc(I)cc1", "I x2", "", 0, True, False),
    ("Brc1ccc(I)cc1C", "I x1", "", 0, True, False),
    ("ClC(Cl)Cl", "Cl x3", "", 0, False, False),
    ("Fc1ccccc1", "", "", 0, True, False),
    ("OC(=O)c1ccccc1O", "", "O-H x2", 3, True, True),                 # salicylic acid
    ("Oc1ccccc1[N+](=O)[O-]", "", "O-H x1", 2, True, True),           # 2-nitrophenol: its N+ is no acceptor
    ("CC(=O)Nc1ccc(O)cc1", "", "N-H x1, O-H x1", 0, True, True),       # paracetamol: donors far apart
])
def test_structural_features(smiles, halogen, donors, pairs, aromatic, nos):
    m = Molecule.from_smiles(smiles)
    assert features.heavy_halogen_feature(m) == halogen
    assert features.donor_feature(m) == donors
    assert features.intramolecular_pair_feature(m) == pairs
    assert features.is_aromatic(m) is aromatic
    assert features.has_n_o_or_s(m) is nos


def test_rotor_and_tautomer_features():
    assert features.rotor_feature(Molecule.from_smiles("CCCCO")) == 2
    assert features.rotor_feature(Molecule.from_smiles("Ic1ccc(I)cc1")) == 0
    assert features.tautomer_feature(Molecule.from_smiles("Ic1ccc(I)cc1")) == 1
    assert features.tautomer_feature(Molecule.from_smiles("OC(=O)c1ccccc1O")) == 4
