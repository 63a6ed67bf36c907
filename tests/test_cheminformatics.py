"""Tier 0 (RDKit MMFF94) against published reference values."""

import pytest

from tierchem.chem import Molecule
from tierchem.tiers import compute, make_spec


def test_butane_torsion_profile():
    butane = Molecule.from_smiles("CCCC", name="butane")
    r = compute(make_spec("torsion_scan", butane, "mmff", dihedral=[0, 1, 2, 3], step_deg=30))
    assert r.success
    profile = dict(zip(r.values["angles_deg"], r.values["relative_energies_kcal_mol"]))
    # Anti is the minimum; gauche lies 0.67 +/- 0.1 kcal/mol above it in the gas phase
    # (Herrebout et al., J. Phys. Chem. 99, 578, 1995): MMFF94 within 0.3.
    assert min(profile, key=profile.get) == -180.0
    assert profile[60.0] == pytest.approx(0.67, abs=0.3)
    # The syn barrier is 4.5-6 kcal/mol in experiment and high-level theory.
    assert 4.0 < profile[0.0] < 6.5


def test_optimisation_lowers_energy_and_returns_geometry(water):
    distorted = water.with_coords(water.coords * 1.15)
    before = compute(make_spec("energy", distorted, "mmff")).values["energy_kcal_mol"]
    opt = compute(make_spec("optimize", distorted, "mmff"))
    assert opt.converged and opt.values["energy_kcal_mol"] < before
    (relaxed,) = opt.molecules()
    assert relaxed.symbols == water.symbols


def test_gradient_matches_finite_difference():
    mol = Molecule.from_smiles("CO")
    grad = compute(make_spec("energy", mol, "mmff", gradient=True)).values["gradient_kcal_mol_angstrom"]
    h = 1e-4
    xyz = mol.coords.copy()
    for k in (0, 4):  # x of atom 0 and y of atom 1
        i, c = divmod(k, 3)
        plus, minus = xyz.copy(), xyz.copy()
        plus[i, c] += h
        minus[i, c] -= h
        ep = compute(make_spec("energy", mol.with_coords(plus), "mmff")).values["energy_kcal_mol"]
        em = compute(make_spec("energy", mol.with_coords(minus), "mmff")).values["energy_kcal_mol"]
        # Coordinates are stored to 1e-6 A, so the difference is good to ~1e-2.
        assert grad[k] == pytest.approx((ep - em) / (2 * h), abs=0.05)


def test_descriptors_of_iodobenzene():
    d = compute(make_spec("descriptors", Molecule.from_smiles("Ic1ccccc1"), "mmff")).values
    assert d["n_heavy_halogens"] == 1 and d["n_aromatic_rings"] == 1
    assert d["molecular_weight"] == pytest.approx(204.01, abs=0.01)  # C6H5I


def test_unparameterised_molecule_is_an_input_failure():
    from tierchem.tiers.errors import ErrorKind

    # MMFF94 has no selenium types (Halgren 1996): a clear input failure, not a crash.
    r = compute(make_spec("energy", Molecule.from_smiles("C[Se]C"), "mmff"))
    assert not r.success and r.error.kind == ErrorKind.INPUT and "no parameters" in r.error.message
