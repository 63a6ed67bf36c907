"""Physical-property observables (issue 11): static polarisabilities, the ring quadrupole, the stacked vs
T-shaped preference, the antiparallel dipole pair and conformer energy windows.

Reference numbers (each test names its own):
- Polarisabilities: measured gas-phase means, approximately from the CRC Handbook of Chemistry and Physics
  table "Atomic and molecular polarizabilities" (T. M. Miller): methane 2.593, benzene 10.0-10.7 Å^3
  (benchmarks/polarisabilities.py holds the set and per-tier MAEs).
- Benzene quadrupole: Theta_zz = -8.69 B (M. R. Battaglia, A. D. Buckingham, J. H. Williams,
  Chem. Phys. Lett. 78, 421 (1981)).
- Benzene dimers: S22 CCSD(T)/CBS interaction energies as shipped in ase.data.s22 (parallel displaced
  -2.62, T-shaped -2.71 kcal/mol: nearly degenerate, the T by 0.09).
- n-Butane gauche - anti: about 0.6-0.7 kcal/mol in the gas phase (approximately, from gas-phase
  spectroscopic studies).
"""

from __future__ import annotations

import numpy as np
import pytest

from tierchem.agent.observables import NotApplicable, read_value, specs_for
from tierchem.chem import Molecule
from tierchem.tiers import compute, make_spec
from tierchem.tiers.harness import get_harness

KCAL_PER_EV = 23.060548


def _value(name: str, mol: Molecule, tier: int, store) -> float:
    spec = specs_for(name, mol, tier)[0]
    get_harness(spec.engine).check(spec)  # the observable's keywords are ones the harness takes
    result = compute(spec, store=store)
    assert result.success, result.error
    return read_value(name, mol, [result])


# ------------------------------------------------------------------ polarisability
def test_xtb_polarizability_is_computed_and_far_from_measured(store):
    """GFN2-xTB's finite-field polarisability (tblite 0.8): methane 0.98, benzene 6.30 Å^3 against 2.593
    and ~10.3 measured. Pinned so that a change in the recipe shows; the gap to experiment is why tier 2
    is not adequate for this observable."""
    methane = Molecule.from_smiles("C", name="methane")
    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    a_ch4 = _value("polarizability", methane, 2, store)
    a_bz = _value("polarizability", benzene, 2, store)
    assert a_ch4 == pytest.approx(0.98, abs=0.05)
    assert a_bz == pytest.approx(6.30, abs=0.1)
    assert a_ch4 < 0.5 * 2.593 and a_bz < 0.7 * 10.0
    r = compute(specs_for("polarizability", benzene, 2)[0], store=store)
    alpha = np.linalg.eigvalsh(np.asarray(r.values["polarizability_tensor_angstrom3"]))
    assert alpha[0] < 0.5 * alpha[1] and alpha[2] - alpha[1] < 0.05  # out-of-plane smallest, in-plane pair equal
    assert r.values["polarizability_anisotropy_angstrom3"] > 5.0


def test_finite_field_step_does_not_change_the_answer(store):
    """Central differences at F = 0.0005 and 0.002 au agree to 0.5%: the step is inside the linear regime."""
    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    got = [compute(make_spec("polarizability", [benzene], "xtb", field_au=f), store=store)
           .values["polarizability_angstrom3"] for f in (0.0005, 0.002)]
    assert got[0] == pytest.approx(got[1], rel=5e-3)


def test_analytic_polarizability_matches_a_finite_field():
    """The CPKS polarisability (tiers.dft.cphf_polarizability) against central differences of the SCF dipole
    in a uniform field (F = 0.002 au, built here from PySCF directly) for water at B3LYP/def2-SVP: the
    same second derivative, so equal within 1e-3 a0^3 (measured: 1e-4 Å^3 on water and CH3Cl)."""
    from pyscf import dft, gto

    from tierchem.tiers.dft import cphf_polarizability

    mol = gto.M(atom="O 0 0 0.1173; H 0 0.7572 -0.4692; H 0 -0.7572 -0.4692", basis="def2-SVP", verbose=0)

    def scf(field=np.zeros(3)):
        mf = dft.RKS(mol).density_fit()
        mf.xc, mf.conv_tol = "b3lyp", 1e-11
        with mol.with_common_orig(mol.atom_charges() @ mol.atom_coords() / mol.atom_charges().sum()):
            h = mf.get_hcore() + np.einsum("x,xij->ij", field, mol.intor_symmetric("int1e_r", comp=3))
        mf.get_hcore = lambda *args: h
        mf.kernel()
        return mf

    analytic = cphf_polarizability(scf())
    step = 0.002
    numeric = np.column_stack([(scf(step * e).dip_moment(unit="AU", verbose=0)
                                - scf(-step * e).dip_moment(unit="AU", verbose=0)) / (2 * step) for e in np.eye(3)])
    assert np.allclose(analytic, analytic.T) and np.abs(analytic - numeric).max() < 1e-3
    assert 4.0 < np.trace(analytic) / 3 < 7.0  # a0^3: def2-SVP's water, about half the measured 9.8


@pytest.mark.slow
def test_dft_polarizability_methane_and_benzene(store):
    """B3LYP/def2-SVP (analytic; the six-SCF finite field gave the same): methane 1.91, benzene 8.59 Å^3; def2-SVP has no diffuse functions and
    falls short of the measured 2.593 and ~10.3 (by 26% and 17%). Within 35% and 25% of experiment, and
    the ratio benzene/methane (measured ~4.0, computed 4.5: methane loses more) within 20%."""
    a_ch4 = _value("polarizability", Molecule.from_smiles("C", name="methane"), 3, store)
    a_bz = _value("polarizability", Molecule.from_smiles("c1ccccc1", name="benzene"), 3, store)
    assert 0.65 * 2.593 < a_ch4 < 2.593
    assert 0.75 * 10.32 < a_bz < 10.32
    assert a_bz / a_ch4 == pytest.approx(10.32 / 2.593, rel=0.2)


# ------------------------------------------------------------------ quadrupole
def test_ring_quadrupole_needs_an_aromatic_ring():
    with pytest.raises(NotApplicable, match="no aromatic ring") as info:
        specs_for("ring_quadrupole", Molecule.from_smiles("C1CCCCC1", name="cyclohexane"), 3)
    assert info.value.value is None  # nothing to compare: no ring, no ring quadrupole
    with pytest.raises(NotApplicable, match="tensor"):
        specs_for("ring_quadrupole", Molecule.from_smiles("c1ccccc1"), 2)  # tier 2 cannot: the note says why


def test_ring_quadrupole_reads_the_normal_component():
    """The reader projects the tensor on the ring normal, whatever the molecule's orientation."""
    from tierchem.tiers.spec import CalcResult

    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    turned = benzene.with_coords((benzene.coords - benzene.coords.mean(0)) @ q.T)
    from tierchem.chem.dimers import aromatic_ring_normal

    n = aromatic_ring_normal(turned)
    theta = -8.7 * (1.5 * np.outer(n, n) - 0.5 * np.eye(3))  # axial tensor, Theta_zz = -8.7 B
    spec = make_spec("properties", [turned], "dft")
    r = CalcResult(spec=spec, cache_key="test", success=True, values={"quadrupole_buckingham": theta.tolist()})
    assert read_value("ring_quadrupole", turned, [r]) == pytest.approx(-8.7, abs=1e-6)


@pytest.mark.slow
def test_benzene_quadrupole_dft(store):
    """B3LYP/def2-SVP at the MMFF94 geometry gives -6.87 B against -8.69 B measured (Battaglia, Buckingham &
    Williams 1981): def2-SVP's magnitude is ~20% low; within 2.2 B (25%), and negative."""
    theta = _value("ring_quadrupole", Molecule.from_smiles("c1ccccc1", name="benzene"), 3, store)
    assert theta == pytest.approx(-8.69, abs=2.2) and theta < -5.0


# ------------------------------------------------------------------ stacked vs T
def test_benzene_stack_vs_t_xtb(store):
    """S22 (CCSD(T)/CBS): IE(parallel displaced) - IE(T) = -2.62 - (-2.71) = +0.09 kcal/mol. GFN2-xTB at the
    rule-built stack and the T at its MMFF94 separation gives -1.41 (stack -3.46, T -2.05; -2.31 at the
    tighter rule-built T, which a long C-H edge cannot take): it favours the stack by ~1.5 kcal/mol too
    much; the preference within 1.7 kcal/mol of S22 and each energy within 1.0 of its S22 value."""
    from ase.data import s22

    ref_pd = s22.data["Benzene_dimer_parallel_displaced"]["interaction energy CC"] * KCAL_PER_EV
    ref_t = s22.data["Benzene_dimer_T-shaped"]["interaction energy CC"] * KCAL_PER_EV
    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    spec = specs_for("stack_vs_t", benzene, 2)[0]
    result = compute(spec, store=store)
    assert result.success, result.error
    stack, tee = result.values["interaction_energies_kcal_mol"]
    assert stack == pytest.approx(ref_pd, abs=1.0) and tee == pytest.approx(ref_t, abs=1.0)
    pref = read_value("stack_vs_t", benzene, [result])
    assert pref == pytest.approx(stack - tee) and pref == pytest.approx(ref_pd - ref_t, abs=1.7)


def test_benzene_stack_vs_t_classical(store):
    """GAFF2/AM1-BCC at the same dimers: stack -2.14, T -1.98, preference -0.16 kcal/mol against
    S22's +0.09 (see test_benzene_stack_vs_t_xtb for the references): within 1.0 of S22's preference."""
    from ase.data import s22

    ref = (s22.data["Benzene_dimer_parallel_displaced"]["interaction energy CC"]
           - s22.data["Benzene_dimer_T-shaped"]["interaction energy CC"]) * KCAL_PER_EV
    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    result = compute(specs_for("stack_vs_t", benzene, 1)[0], store=store)
    assert result.success, result.error
    assert read_value("stack_vs_t", benzene, [result]) == pytest.approx(ref, abs=1.0)


def test_stack_vs_t_absent_without_a_ring_and_bad_pairing_is_an_input_error(store):
    with pytest.raises(NotApplicable) as info:
        specs_for("stack_vs_t", Molecule.from_smiles("C1CCCCC1", name="cyclohexane"), 2)
    assert info.value.value == 0.0
    three = [Molecule.from_smiles("O")] * 3
    r = compute(make_spec("interaction_energies", three, "xtb"), store=store)
    assert not r.success and "consecutive fragment pairs" in r.error.message


# ------------------------------------------------------------------ antiparallel dipole pair
def test_antiparallel_dimer_geometry():
    """Charge dipoles antiparallel, the partner displaced perpendicular to them, no pair of atoms inside
    van der Waals contact, and one pair at it (the slide stops at contact)."""
    from tierchem.chem.dimers import antiparallel_dimer, charge_dipole
    from tierchem.chem.elements import vdw_radius

    m = Molecule.from_smiles("N#Cc1ccccc1", name="benzonitrile")
    a, b = antiparallel_dimer(m)
    ua, ub = (v / np.linalg.norm(v) for v in (charge_dipole(a), charge_dipole(b)))
    assert ua @ ub == pytest.approx(-1.0, abs=1e-3)
    shift = b.coords.mean(0) - a.coords.mean(0)
    assert abs(shift @ ua) < 0.05 * np.linalg.norm(shift)
    d = np.linalg.norm(a.coords[:, None] - b.coords[None], axis=-1)
    sums = np.array([[vdw_radius(x) + vdw_radius(y) for y in b.symbols] for x in a.symbols])
    assert (d / sums).min() == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("tier", [1, 2])
def test_ie_antiparallel_benzonitrile(store, tier):
    """The stacked antiparallel benzonitrile pair is bound by 5-8 kcal/mol at GAFF2 (-6.2) and GFN2-xTB (-6.5)."""
    e = _value("ie_antiparallel", Molecule.from_smiles("N#Cc1ccccc1", name="benzonitrile"), tier, store)
    assert -8.0 < e < -5.0


def test_ie_antiparallel_absent_without_a_dipole():
    for smiles in ("c1ccccc1", "Ic1ccc(I)cc1"):
        with pytest.raises(NotApplicable, match="zero dipole") as info:
            specs_for("ie_antiparallel", Molecule.from_smiles(smiles), 2)
        assert info.value.value == 0.0


# ------------------------------------------------------------------ conformer windows
@pytest.mark.parametrize("tier, gap", [(0, 0.78), (2, 0.62)])
def test_butane_conformer_window(store, tier, gap):
    """n-Butane: anti and gauche (the mirror-image gauche pair counted once), the gauche 0.78 (MMFF94) and
    0.62 (GFN2-xTB) kcal/mol up, against about 0.6-0.7 measured; T*S_conf = -RT sum p ln p over the two."""
    butane = Molecule.from_smiles("CCCC", name="butane")
    assert _value("conformers_within_2kcal", butane, tier, store) == 2
    spec = specs_for("conformational_entropy_ts", butane, tier)[0]
    result = compute(spec, store=store)
    rel = result.values["relative_energies_kcal_mol"]
    assert rel[1] == pytest.approx(gap, abs=0.1) and 0.4 < rel[1] < 1.0
    rt = 0.0019872043 * 298.15
    p = np.exp(-np.asarray(rel) / rt)
    p /= p.sum()
    ts = read_value("conformational_entropy_ts", butane, [result])
    assert ts == pytest.approx(-rt * (p * np.log(p)).sum(), abs=1e-9) and 0.25 < ts < 0.42


def test_rigid_molecule_has_one_conformer_and_no_entropy():
    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    for name, absent in (("conformers_within_2kcal", 1.0), ("conformational_entropy_ts", 0.0)):
        for tier in (0, 2):
            with pytest.raises(NotApplicable, match="rigid") as info:
                specs_for(name, benzene, tier)
            assert info.value.value == absent
