"""Tier 3 (PySCF DFT): dipole, the iodine ECP trap, sigma holes, counterpoise, SCF fallback.

Pinned numbers come from PySCF 2.14 / simple-dftd3 1.7 on CPU (B3LYP is PySCF's
definition, density fitting with PySCF's default auxiliary basis, grid level 3).
"""

from __future__ import annotations

import numpy as np
import pytest

from tierchem.chem.molecule import Molecule
from tierchem.tiers.catalogue import make_spec
from tierchem.tiers.compute import compute

pytest.importorskip("pyscf")
pytest.importorskip("dftd3")

# Water at the experimental r(OH) = 0.9572 A, HOH = 104.52 deg.
WATER = Molecule(name="water", symbols=("O", "H", "H"),
                 coords_angstrom=((0.0, 0.0, 0.1173), (0.0, 0.7572, -0.4692), (0.0, -0.7572, -0.4692)),
                 bonds=((0, 1, 1), (0, 2, 1)))


def methyl_halide(x: str) -> Molecule:
    """CH3X in C3v at near-experimental bond lengths (C-X along +z)."""
    r_cx = {"Cl": 1.785, "Br": 1.934, "I": 2.132}[x]
    r_ch, ang = 1.087, np.deg2rad(108.0)  # H-C-X angle
    coords = [(0.0, 0.0, 0.0), (0.0, 0.0, r_cx)]
    for k in range(3):
        phi = 2 * np.pi * k / 3
        coords.append((r_ch * np.sin(ang) * np.cos(phi), r_ch * np.sin(ang) * np.sin(phi), r_ch * np.cos(ang)))
    return Molecule(name=f"CH3{x}", symbols=("C", x, "H", "H", "H"), coords_angstrom=coords,
                    bonds=((0, 1, 1), (0, 2, 1), (0, 3, 1), (0, 4, 1)))


def s22_fragments(name: str) -> tuple[Molecule, Molecule]:
    from tierchem.tiers.refdata import s22_dimer

    return s22_dimer(name).fragments


def test_registered_and_found():
    from tierchem.tiers.harness import get_harness

    h = get_harness("pyscf")
    assert h.found() and h.tier == 3 and "esp" in h.tasks
    assert set(h.versions()) >= {"pyscf", "dftd3"}


def test_water_dipole_and_properties():
    r = compute(make_spec("properties", WATER, level="dft"))
    assert r.success, r.error
    mu = r.values["dipole_magnitude_debye"]
    # pinned: B3LYP/def2-SVP (DF) at this geometry, PySCF 2.14
    assert mu == pytest.approx(1.9820, abs=0.005)
    assert abs(mu - 1.85) < 0.25  # experiment 1.85 D
    q = np.array(r.values["quadrupole_buckingham"])
    assert np.trace(q) == pytest.approx(0.0, abs=1e-8)
    # out-of-plane (x) negative, in-plane H...H axis (y) positive, as measured for water
    assert q[0, 0] < -1.0 and q[1, 1] > 1.0
    for key in ("mulliken_charges", "esp_charges"):
        charges = r.values[key]
        assert sum(charges) == pytest.approx(0.0, abs=1e-6)
        assert charges[0] < 0 < charges[1]
    assert r.values["scf_strategy"] == "diis"
    assert r.values["device"] in ("cpu", "gpu")


def test_iodine_gets_its_ecp():
    from pyscf import gto

    from tierchem.tiers.pyscf_common import build_mole

    ch3i = methyl_halide("I")
    mol = build_mole([ch3i], "def2-SVP")
    assert mol.ecp == {"I": "def2-SVP"} and mol.has_ecp()
    assert mol.atom_nelec_core(1) == 28
    assert mol.nelectron == ch3i.n_electrons - 28 == 34
    # the trap: the same basis without naming the ECP runs all-electron, silently
    bare = gto.M(atom=[(s, xyz) for s, xyz in zip(ch3i.symbols, ch3i.coords_angstrom)], basis="def2-SVP",
                 verbose=0)
    assert not bare.has_ecp() and bare.nelectron == 62
    # bromine is all-electron in def2 (ECPs start at Rb)
    assert build_mole([methyl_halide("Br")], "def2-SVP").ecp == {}


def _sigma_hole(x: str) -> tuple[float, dict]:
    r = compute(make_spec("esp", methyl_halide(x), level="dft", method="B3LYP"))
    assert r.success, r.error
    return r.values["sigma_hole_kcal_mol"]["1"], r.values


def test_sigma_hole_iodine_positive():
    v_i, values = _sigma_hole("I")
    assert v_i > 5.0
    # the sigma hole is the most positive point on the halogen's own surface
    assert values["atom_vs_max_kcal_mol"][1] == pytest.approx(v_i, abs=1.5)
    assert values["vs_min_kcal_mol"] < 0 < values["vs_max_kcal_mol"]
    assert 1.8 < values["sigma_hole_distance_angstrom"]["1"] < 2.6
    assert len(values["atom_vs_max_kcal_mol"]) == 5


def test_sigma_hole_order_cl_br_i():
    v = {x: _sigma_hole(x)[0] for x in ("Cl", "Br", "I")}
    assert v["Cl"] < v["Br"] < v["I"]
    assert v["I"] > 0


def test_water_dimer_counterpoise_vs_s22():
    a, b = s22_fragments("Water_dimer")
    r = compute(make_spec("interaction_energy", [a, b], level="dft"))
    assert r.success, r.error
    v = r.values
    assert v["counterpoise"] is True
    assert v["interaction_energy_kcal_mol"] == v["interaction_energy_cp_kcal_mol"]
    assert v["interaction_energy_kcal_mol"] == pytest.approx(-4.92, abs=0.6)  # S22 CCSD(T)/CBS
    # def2-SVP without counterpoise overbinds
    assert v["interaction_energy_uncorrected_kcal_mol"] < v["interaction_energy_kcal_mol"]
    assert v["counterpoise_correction_kcal_mol"] > 0.3
    assert v["dispersion_interaction_kcal_mol"] < 0


def test_scf_fallback_then_convergence_failure():
    # one cycle per rung: DIIS, level shift and Newton all fail, a convergence failure that says what to change
    r = compute(make_spec("energy", WATER, level="dft", max_cycle=1))
    assert not r.success
    assert r.error.kind.value == "convergence"
    assert "max_cycle" in r.error.message and "level shift 0.3" in r.error.message
    assert r.provenance["settings"]["max_cycle"] == 1  # failures record what ran too
    # six cycles: DIIS fails, the level-shift rung converges and is recorded
    r = compute(make_spec("energy", WATER, level="dft", max_cycle=6))
    assert r.success, r.error
    assert r.values["scf_strategy"] == "level_shift"
    assert r.warnings == ("water: SCF needed the level shift fallback",)


def test_too_many_atoms_refused():
    from tierchem.chem.molecule import Molecule as M

    big = M(name="big", symbols=("H",) * 62, coords_angstrom=[(0.0, 0.0, 0.74 * k) for k in range(62)])
    r = compute(make_spec("energy", big, level="dft"))
    assert not r.success and r.error.kind.value == "resource"


def test_unknown_dispersion_pairing_is_input_error():
    r = compute(make_spec("energy", WATER, level="dft", method="WB97X-V-D3BJ"))
    assert not r.success and r.error.kind.value == "input"


@pytest.mark.slow
def test_gradient_matches_finite_difference():
    spec = make_spec("energy", WATER, level="dft", gradient=True)
    r = compute(spec)
    g = np.array(r.values["gradient_kcal_mol_angstrom"]).reshape(-1, 3)
    h = 1e-3
    xyz = WATER.coords.copy()
    xyz[0, 2] += h
    ep = compute(make_spec("energy", WATER.with_coords(xyz), level="dft")).values["energy_kcal_mol"]
    xyz[0, 2] -= 2 * h
    em = compute(make_spec("energy", WATER.with_coords(xyz), level="dft")).values["energy_kcal_mol"]
    assert g[0, 2] == pytest.approx((ep - em) / (2 * h), abs=0.05)


@pytest.mark.slow
def test_optimize_water():
    r = compute(make_spec("optimize", WATER, level="dft"))
    assert r.success and r.converged, (r.error, r.warnings)
    m = r.molecules()[0]
    assert 0.95 < np.linalg.norm(m.coords[1] - m.coords[0]) < 0.98


S22_SMALL = ["Ammonia_dimer", "Water_dimer", "Methane_dimer", "Ethene_dimer", "Ethene-ethyne_complex",
             "Formic_acid_dimer", "Formamide_dimer"]


@pytest.mark.slow
def test_s22_small_subset_tzvp_cp():
    """B3LYP-D3(BJ)/def2-TZVP with counterpoise on the 7 smallest S22 dimers:
    MAE <= 0.5 kcal/mol against ASE's S22 CCSD(T)/CBS references."""
    from ase.data import s22

    errors = []
    for name in S22_SMALL:
        a, b = s22_fragments(name)
        r = compute(make_spec("interaction_energy", [a, b], level="dft", basis="def2-TZVP", uncorrected=False))
        assert r.success, (name, r.error)
        ref = s22.data[name]["interaction energy CC"] * 23.060548
        errors.append(abs(r.values["interaction_energy_kcal_mol"] - ref))
    assert float(np.mean(errors)) <= 0.5, dict(zip(S22_SMALL, errors))
