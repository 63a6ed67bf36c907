"""Crystal structures: CIF reading, whole molecules, Z/density, H-bond motifs, halogen contacts,
and the reporting of missing hydrogens, disorder and corrupt files.

The X23 CIFs (refdata 25_x23/expt, P1-expanded) skip cleanly where the reference data is absent.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from tierchem.chem import Molecule, MoleculeError
from tierchem.chem.crystal import crystal_from_molecules, read_cif
from tierchem.chem.crystal_contacts import compare_crystals, hbond_network_dimensionality, match_molecule
from tierchem.chem.dimers import type_i_halogen_contact, type_ii_halogen_contact

_CACHE: dict = {}


@pytest.fixture
def x23(refdata):
    folder = refdata / "25_x23" / "expt"
    if not folder.is_dir():
        pytest.skip(f"X23 CIFs not found in {folder}")

    def load(name):
        if name not in _CACHE:
            _CACHE[name] = read_cif(folder / f"{name}.cif")
        return _CACHE[name]

    load.folder = folder
    return load


def _motifs(crystal):
    return Counter(m.descriptor for m in crystal.motifs())


# ---------------------------------------------------------------- H-bond motifs
def test_acetic_acid_is_a_c4_catemer_not_a_dimer(x23):
    """Acetic acid (Pna2_1, Jones & Templeton 1958; Nahringbauer 1970): infinite O-H···O=C chains, C(4)."""
    c = x23("acetic_acid")
    hbonds = c.hbonds()
    assert hbonds and all(h.label == "O-H···O" for h in hbonds)
    motifs = _motifs(c)
    assert "C(4)" in motifs
    assert not any(d.startswith("R") for d in motifs)          # no R2,2(8) carboxylic dimer
    assert all(h.motif == "C(4)" for h in hbonds)
    assert all(m.translation and any(m.translation) for m in c.motifs())   # a lattice repeat
    assert hbond_network_dimensionality(c) == 1
    assert 1.6 < min(h.distance for h in hbonds) < 1.8                   # normalised O-H, O···O 2.63 Å


def _xh_lengths(molecule) -> dict[str, float]:
    """Mean X-H bond length (Å) by the element X."""
    out: dict[str, list[float]] = {}
    for h, nbrs in enumerate(molecule.neighbours()):
        if molecule.symbols[h] == "H" and len(nbrs) == 1:
            x = nbrs[0]
            length = float(np.linalg.norm(molecule.coords[h] - molecule.coords[x]))
            out.setdefault(molecule.symbols[x], []).append(length)
    return {x: float(np.mean(v)) for x, v in out.items()}


def test_hydrogens_are_set_to_neutron_lengths_as_read(x23):
    """Acetic acid's CIF has X-ray H positions (O-H 0.83, C-H 0.95 Å): read_cif puts them at the
    neutron lengths (Allen & Bruno 2010: O-H 0.993, C-H 1.089), for every molecule of the cell, so
    pair energies, lattice energies and contacts see one geometry; the CIF's own positions stay
    available. The heavy atoms do not move, and the H-bond's H···O is the same either way (contacts
    normalise what they are given)."""
    raw = read_cif(x23.folder / "acetic_acid.cif", normalise_hydrogens=False)
    c = x23("acetic_acid")
    assert c.hydrogens_normalised and not raw.hydrogens_normalised
    assert _xh_lengths(raw.molecules[0]) == pytest.approx({"O": 0.83, "C": 0.95}, abs=0.01)   # the CIF's
    for m in c.molecules:
        assert _xh_lengths(m) == pytest.approx({"O": 0.993, "C": 1.089}, abs=1e-3)
    assert all(any(u is m for m in c.molecules) for u in c.unique_molecules)
    heavy = [k for k, s in enumerate(c.molecules[0].symbols) if s != "H"]
    assert np.allclose(c.molecules[0].coords[heavy], raw.molecules[0].coords[heavy], atol=1e-6)
    assert min(h.distance for h in c.hbonds()) == pytest.approx(min(h.distance for h in raw.hbonds()), abs=1e-6)


def test_oxalic_acid_polymorphs_differ(x23):
    """alpha (Pcab): catemeric O-H···O sheets; beta (P2_1/c): 1-D chains of R2,2(8) dimers
    (Bhattacharya, CrystEngComm 2020, 10.1039/D0CE01080D; Bernstein et al. 1995)."""
    alpha, beta = x23("oxalic_acid_alpha"), x23("oxalic_acid_beta")
    ma, mb = _motifs(alpha), _motifs(beta)
    assert set(mb) == {"R2,2(8)"}
    assert hbond_network_dimensionality(beta) == 1
    assert not any(d.startswith("R") for d in ma)
    assert {"C(4)", "C(5)"} <= set(ma)                      # chains through one and through both COOH
    assert hbond_network_dimensionality(alpha) == 2
    # alpha's O-H donates a weak second (bifurcated) contact; the motifs use the main one
    assert any(h.subtype == "bifurcated (minor)" for h in alpha.hbonds())
    comparison = compare_crystals(alpha, [beta])
    assert "motif C(4)" in comparison["only_in_target"] and "hbond network 2-D" in comparison["only_in_target"]
    assert "motif R2,2(8)" in comparison["per_analog"]["oxalic_acid_beta"]["only_in_analog"]


def test_other_x23_motifs(x23):
    assert "R2,2(8)" in _motifs(x23("succinic_acid"))
    assert set(_motifs(x23("imidazole"))) == {"C(4)"}                     # N-H···N chains
    assert {"R1,2(6)", "C(4)"} <= set(_motifs(x23("urea")))               # bifurcated O acceptor, chains
    benzene = x23("benzene")
    assert not benzene.hbonds() and not [c for c in benzene.contacts() if c.kind == "pi_stack"]  # herringbone
    assert [c for c in x23("triazine").contacts() if c.kind == "pi_stack"]


# ---------------------------------------------------------------- Z, density, molecules
def test_z_and_density(x23):
    """benzene at 138 K (Bacon, Curry & Wilson, Proc. R. Soc. A 279, 98, 1964: Pbca, Z = 4,
    a, b, c = 7.39, 9.42, 6.81 Å → 1.094 g/cm3); acetic acid Z = 4 (Pna2_1); urea Z = 2 (P-42_1m);
    naphthalene Z = 2 (P2_1/a). Cell volume against the CIF's own _cell_volume (0.1 %)."""
    expected = {"benzene": (4, 1.094), "acetic_acid": (4, 1.342), "urea": (2, 1.375), "naphthalene": (2, 1.249)}
    for name, (z, rho) in expected.items():
        c = x23(name)
        assert c.z == z and len(c.molecules) == z, name
        assert len(c.unique_molecules) == 1
        assert c.density == pytest.approx(rho, abs=0.01), name
        stated = float(re.search(r"_cell_volume\s+([\d.]+)", (x23.folder / f"{name}.cif").read_text()).group(1))
        assert c.volume == pytest.approx(stated, rel=1e-3)
        assert 0.6 < c.packing_coefficient < 0.8, name                   # Kitaigorodskii range
        assert c.z_prime is None                                         # P1-expanded: not determinable
    assert x23("benzene").density == pytest.approx(1.09, abs=0.03)      # literature, low temperature


def test_molecules_are_whole_and_match_series(x23):
    c = x23("acetic_acid")
    assert all(m.formula == "C2H4O2" for m in c.molecules)
    frac = np.array([m.coords.mean(axis=0) for m in c.molecules]) @ np.linalg.inv(c.cell_matrix)
    assert np.all((frac >= 0) & (frac < 1))                               # centroids in the cell
    for m in c.molecules:                                                 # no bond cut by the cell
        d = [np.linalg.norm(m.coords[i] - m.coords[j]) for i, j, _ in m.bonds]
        assert max(d) < 1.6
    assert match_molecule(c, Molecule.from_smiles("CC(=O)O"))
    assert not match_molecule(c, Molecule.from_smiles("OC=O"))
    assert match_molecule(x23("hexamine"), Molecule.from_smiles("C1N2CN3CN1CN(C2)C3"))  # heavy-atom graph


def test_symmetry_expansion_matches_p1(x23):
    """The acetic acid asymmetric unit with the four Pna2_1 operators gives the P1 crystal back."""
    text = (x23.folder / "acetic_acid.cif").read_text()
    head, rows = text.split("_atom_site_fract_z\n")
    head = head.replace("'P 1'", "'P n a 21'").replace("_Int_Tables_number 1", "_Int_Tables_number 33")
    head = head.replace("1 x,y,z", "1 x,y,z\n2 -x,-y,z+1/2\n3 x+1/2,-y+1/2,z\n4 -x+1/2,y+1/2,z+1/2")
    asym = rows.strip().splitlines()[::4]
    c = read_cif(head + "_atom_site_fract_z\n" + "\n".join(asym) + "\n", name="acetic_pna21")
    p1 = x23("acetic_acid")
    assert c.z == 4 and c.z_prime == 1.0 and c.space_group == "P n a 21"
    assert c.density == pytest.approx(p1.density, rel=1e-6)
    assert _motifs(c) == _motifs(p1)


# ---------------------------------------------------------------- damaged input
def test_hexamine_missing_hydrogens_reported(x23):
    c = x23("hexamine")
    assert "missing_hydrogens" in c.flags
    text = " ".join(c.warnings)
    assert "missing hydrogens" in text and "12 H" in text                # C6N4 needs 12 H
    assert c.molecules[0].formula == "C6N4"
    corrected = float(re.search(r"([\d.]+) g/cm3 with the implied hydrogens", text).group(1))
    assert corrected == pytest.approx(1.33, abs=0.03)                   # hexamine, literature ~1.33-1.34


def test_corrupt_cif(tmp_path, x23):
    text = (x23.folder / "acetic_acid.cif").read_text()
    path = tmp_path / "truncated.cif"
    path.write_text(text[: text.index("loop_", text.index("_cell_formula")) - 40])   # cut before the atoms
    with pytest.raises(MoleculeError, match="no atom sites"):
        read_cif(path)
    with pytest.raises(MoleculeError, match="not a CIF"):
        read_cif("this is not\na crystal file\n")
    with pytest.raises(MoleculeError, match="cell"):
        read_cif(text.replace("_cell_length_a        13.1510000000", "_cell_length_a ?"))
    with pytest.raises(MoleculeError, match="no such file"):
        read_cif(tmp_path / "absent.cif")
    # truncated inside the atom list: read what is there, and say so
    partial = read_cif(text[:2000], name="partial")
    assert {"truncated", "missing_hydrogens"} <= partial.flags
    assert any("truncated" in w for w in partial.warnings)


def test_disorder_keeps_major_part(x23):
    text = (x23.folder / "acetic_acid.cif").read_text()
    head, rows = text.split("_atom_site_fract_z\n")
    rows = [r + " 1.0 ." for r in rows.strip().splitlines()]
    rows[16] = rows[16].replace("1.0 .", "0.7 1")                         # a methyl C in two places
    rows.append("cx C 0.41568 0.6160 0.35370 0.3 2")
    c = read_cif(head + "_atom_site_fract_z\n_atom_site_occupancy\n_atom_site_disorder_group\n"
                 + "\n".join(rows) + "\n", name="disordered")
    assert {"disorder", "partial_occupancy"} <= c.flags
    assert any("dropped 1 minor site" in w for w in c.warnings)
    assert c.z == 4 and all(m.formula == "C2H4O2" for m in c.molecules)
    assert "C(4)" in _motifs(c)


# ---------------------------------------------------------------- halogen contacts
@pytest.fixture(scope="module")
def iodobenzene():
    return Molecule.from_smiles("Ic1ccccc1", name="iodobenzene")


def _boxed(a, b, name):
    shift = np.full(3, 15.0) - np.vstack([a.coords, b.coords]).mean(axis=0)
    return crystal_from_molecules([a.with_coords(a.coords + shift), b.with_coords(b.coords + shift)],
                                  [30, 30, 30, 90, 90, 90], name=name)


def test_type_ii_iodine_contact(iodobenzene, tmp_path):
    a, b = type_ii_halogen_contact(iodobenzene, iodobenzene)
    c = _boxed(a, b, "type_ii")
    xx = [k for k in c.contacts() if k.kind == "halogen_halogen"]
    assert len(xx) == 1 and xx[0].subtype == "type II" and xx[0].label == "C-I···I-C"
    assert xx[0].angles["theta1"] == pytest.approx(180, abs=1) and xx[0].angles["theta2"] == pytest.approx(90, abs=1)
    assert xx[0].distance == pytest.approx(0.95 * 2 * 1.98, abs=1e-3)
    # the same pair written as a P1 CIF reads back to the same classification
    cif = ["data_typeII", "_cell_length_a 30", "_cell_length_b 30", "_cell_length_c 30",
           "_cell_angle_alpha 90", "_cell_angle_beta 90", "_cell_angle_gamma 90",
           "_symmetry_space_group_name_H-M 'P 1'", "loop_", "_atom_site_label", "_atom_site_type_symbol",
           "_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"]
    for k, m in enumerate(c.molecules):
        cif += [f"{s}{k}_{i} {s} {x / 30:.6f} {y / 30:.6f} {z / 30:.6f}" for i, (s, (x, y, z)) in
                enumerate(zip(m.symbols, m.coords))]
    path = tmp_path / "type_ii.cif"
    path.write_text("\n".join(cif) + "\n")
    again = [k for k in read_cif(path).contacts() if k.kind == "halogen_halogen"]
    assert [k.subtype for k in again] == ["type II"]

    t1 = _boxed(*type_i_halogen_contact(iodobenzene, iodobenzene, angle_deg=150), "type_i")
    assert [k.subtype for k in t1.contacts() if k.kind == "halogen_halogen"] == ["type I"]
    comparison = compare_crystals(c, [t1])
    assert comparison["only_in_target"] == ["type II X···X C-I···I-C"]


# ---------------------------------------------------------------- speed
def test_cl20_is_read_and_analysed_fast(cod):
    """gamma-CL-20 (COD 2300020; 36-atom molecule, Z = 4) took 165 s, nearly all in xyz2mol's bond-order
    enumeration over its twelve nitro oxygens, once per molecule. Now the nitro groups are set first and
    the symmetry copies reuse the first copy's bond orders: ~1 s here."""
    import time

    from tierchem.chem.crystal_contacts import crystal_features

    t0 = time.perf_counter()
    c = read_cif(cod / "gamma-CL20_COD2300020.cif")
    c.summary()
    crystal_features(c)
    assert time.perf_counter() - t0 < 20.0
    assert c.z == 4 and c.z_prime == 1.0
    assert c.density == pytest.approx(1.915, abs=0.001)                 # the CIF's own figure
    assert not any("bond orders" in w for w in c.warnings)
    smiles = {m.smiles for m in c.molecules}
    assert len(smiles) == 1                                              # the four copies alike
    for m in c.molecules:
        assert m.formula == "C6H6N12O12" and m.charge == 0
        assert sorted(q for q in m.formal_charges if q) == [-1] * 6 + [1] * 6   # six N+(=O)O-
