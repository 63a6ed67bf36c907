"""The sigma-hole extra point fitted to an electrostatic potential or to interaction energies (tiers.extra_point_fit)."""

from __future__ import annotations

import numpy as np
import pytest

from tierchem.chem.molecule import Molecule
from tierchem.tiers.extra_point_fit import (EnergySample, EspSample, extra_point_shift, fit_extra_point,
                                           fit_extra_point_to_energies, point_charge_potential as _potential)
from tierchem.tiers.harness import KCAL_PER_HARTREE


def _shell_points(mol: Molecule, scale: float = 1.6, n: int = 200) -> np.ndarray:
    """Points on a sphere around each atom at ``scale`` Å x 1.7, kept when outside the others' spheres."""
    from tierchem.tiers.dft import fibonacci_sphere

    pts = np.vstack([c + scale * 1.7 * fibonacci_sphere(n) for c in mol.coords])
    d = np.linalg.norm(pts[:, None, :] - mol.coords[None, :, :], axis=2)
    return pts[(d >= scale * 1.7 - 1e-6).all(axis=1)]


def test_recovers_the_extra_point_that_made_the_potential():
    """A potential made by point charges with an extra point 1.90 Å beyond I carrying +0.085 e (taken from I):
    the fit finds that site (a grid point) and charge, and leaves no residual; plain charges leave one."""
    mol = Molecule.from_smiles("CI", name="iodomethane")
    c, x = mol.symbols.index("C"), mol.symbols.index("I")
    charges = np.array([{"C": -0.2, "I": -0.1, "H": 0.1}[s] for s in mol.symbols])
    axis = (mol.coords[x] - mol.coords[c]) / np.linalg.norm(mol.coords[x] - mol.coords[c])
    moved = charges.copy()
    moved[x] -= 0.085
    pts = _shell_points(mol)
    v = _potential(np.append(moved, 0.085), np.vstack([mol.coords, mol.coords[x] + 1.90 * axis]), pts)
    fit = fit_extra_point([EspSample(mol, charges, pts, v)], "I")
    assert fit.distance_angstrom == pytest.approx(1.90, abs=1e-9)
    assert fit.charge_e == pytest.approx(0.085, abs=1e-9)
    assert fit.rms_fitted_kcal_mol < 1e-6 < fit.rms_plain_kcal_mol
    assert fit.molecules == ("iodomethane",) and fit.n_points > 0
    with pytest.raises(ValueError, match="no C-bound Br"):
        fit_extra_point([EspSample(mol, charges, pts, v)], "Br")


@pytest.mark.slow  # a B3LYP/def2-SVP ESP and AM1-BCC charges (~20 s)
def test_dft_potential_of_iodomethane_wants_a_positive_site():
    """At B3LYP/def2-SVP CH3I has a positive sigma hole on the C-I axis (V_s,max > 0: Politzer, Murray, Clark,
    PCCP 12, 7748 (2010)), which a single negative AM1-BCC charge on I cannot make: the fitted site is
    positive and lowers the RMS error of V around I."""
    from tierchem.tiers.amber import parameters
    from tierchem.tiers.catalogue import make_spec
    from tierchem.tiers.compute import compute

    mol = Molecule.from_smiles("CI", name="iodomethane")
    spec = make_spec("properties", [mol], "dft").model_copy(update={"keywords": {"keep_esp_points": True}})
    res = compute(spec, raise_error=True)
    pts, v = np.array(res.artifacts["esp_points_angstrom"]), np.array(res.artifacts["esp_potential_au"])
    assert len(pts) == len(v) > 100
    # the stored MK charges reproduce V on the stored points to their own fit's RRMS
    mk = _potential(np.array(res.values["esp_charges"]), mol.coords, pts)
    assert np.sqrt(np.mean((mk - v) ** 2) / np.mean(v ** 2)) == pytest.approx(res.values["esp_fit_rrms"], rel=1e-6)
    charges = np.array([a.charge for a in parameters(mol).structure.atoms])
    fit = fit_extra_point([EspSample(mol, charges, pts, v)], "I")
    assert fit.charge_e > 0 and fit.rms_fitted_kcal_mol < fit.rms_plain_kcal_mol
    assert fit.rms_plain_kcal_mol == pytest.approx(
        np.sqrt(np.mean((v - _potential(charges, mol.coords, pts))[_owned_by(mol, pts, "I")] ** 2)) * KCAL_PER_HARTREE,
        rel=1e-9)


def _owned_by(mol: Molecule, pts: np.ndarray, symbol: str) -> np.ndarray:
    from tierchem.chem.elements import bondi_vdw_radius

    radii = np.array([bondi_vdw_radius(s) for s in mol.symbols])
    owner = np.argmin(np.linalg.norm(pts[:, None, :] - mol.coords[None, :, :], axis=2) / radii, axis=1)
    return np.array([mol.symbols[o] == symbol for o in owner])


def _placed(mol: Molecule, shift) -> Molecule:
    return mol.with_coords(mol.coords + np.asarray(shift, float))


def test_energy_fit_recovers_the_extra_point_that_made_the_references():
    """References made by the model itself with a site 1.96 Å beyond I carrying +0.11 e (a grid point), for
    iodomethane meeting ammonia and another iodomethane at three placements: the fit finds that site and charge
    with no error, in and out of sample; a fit for Br finds no dimer to fit."""
    ch3i, nh3 = Molecule.from_smiles("CI", name="iodomethane"), Molecule.from_smiles("N", name="ammonia")
    q_of = {"C": -0.25, "I": -0.12, "H": 0.123, "N": -0.9}
    charges = lambda m: np.array([q_of[s] if s != "H" or m is not nh3 else 0.3 for s in m.symbols])  # noqa: E731
    x = ch3i.coords[ch3i.symbols.index("I")] - ch3i.coords[ch3i.symbols.index("C")]
    axis = x / np.linalg.norm(x)
    samples = []
    for k, (other, shift) in enumerate([(nh3, 4.0 * axis), (nh3, 3.2 * axis + [0.0, 1.5, 0.0]),
                                        (ch3i, 5.5 * axis + [0.0, 2.0, 0.0])]):
        frags = (ch3i, _placed(other, ch3i.coords[ch3i.symbols.index("I")] + shift - other.coords.mean(axis=0)))
        plain = -1.0 - 0.3 * k  # any plain GAFF2 energy: the fit only needs the reference's difference from it
        s = EnergySample(f"d{k}", frags, tuple(charges(f) for f in (ch3i, other)), 0.0, plain)
        samples.append(EnergySample(s.name, frags, s.charges, plain + extra_point_shift(s, {"I": (1.96, 0.11)}), plain))
    assert all(abs(s.reference_kcal_mol - s.plain_kcal_mol) > 0.01 for s in samples)
    fit = fit_extra_point_to_energies(samples, "I")
    assert (fit.distance_angstrom, fit.charge_e) == (pytest.approx(1.96), pytest.approx(0.11))
    assert fit.mae_fitted_kcal_mol < 1e-9 and fit.mae_leave_one_out_kcal_mol < 1e-9 < fit.mae_plain_kcal_mol
    assert fit.names == ("d0", "d1", "d2")
    with pytest.raises(ValueError, match="no dimer with a C-bound Br"):
        fit_extra_point_to_energies(samples, "Br")


def test_closed_form_shift_is_the_engines_gaff2_ep_minus_gaff2():
    """X40 15 (iodomethane···formaldehyde, rigid): the extra point's closed-form Coulomb change equals what the
    OpenMM engine's GAFF2-EP gives minus its GAFF2 (1e-4 kcal/mol; the fit of tiers.classical.EXTRA_POINTS rests
    on it), and GAFF2-EP lands within 0.5 of the CCSD(T)/CBS -2.38 kcal/mol where GAFF2 repels."""
    from tierchem.tiers import classical
    from tierchem.tiers.amber import parameters
    from tierchem.tiers.benchmark import load_dataset
    from tierchem.tiers.catalogue import make_spec
    from tierchem.tiers.compute import compute

    if not classical.OpenMMHarness.found():
        pytest.fail("the classical tier (OpenMM, AmberTools) is part of the install")
    (entry,) = load_dataset("x40", subset="15iodomethaneformaldehyde")
    frags = list(entry.fragments)
    plain = compute(make_spec("interaction_energy", frags, "classical"), raise_error=True).value("interaction_energy_kcal_mol")
    ep = compute(make_spec("interaction_energy", frags, "classical", method=classical.EP_METHOD),
                 raise_error=True).value("interaction_energy_kcal_mol")
    sample = EnergySample(entry.name, tuple(frags), tuple(np.array([a.charge for a in parameters(m).structure.atoms])
                                                            for m in frags), entry.reference_kcal_mol, plain)
    assert plain + extra_point_shift(sample, classical.EXTRA_POINTS) == pytest.approx(ep, abs=1e-4)
    assert plain > 0 > ep and abs(ep - entry.reference_kcal_mol) < 0.5
