"""Tier 4 (PySCF correlated): pinned water-dimer numbers, CBS, and the cost model's refusals.

Pinned numbers: PySCF 2.14 on CPU, frozen core, counterpoise, conventional RHF.
"""

from __future__ import annotations

import pytest

from tierchem.chem.molecule import Molecule
from tierchem.tiers.catalogue import make_spec
from tierchem.tiers.compute import compute

pytest.importorskip("pyscf")


def s22_fragments(name: str) -> tuple[Molecule, Molecule]:
    from tierchem.tiers.refdata import s22_dimer

    return s22_dimer(name).fragments


@pytest.fixture(scope="module")
def water_dimer():
    return s22_fragments("Water_dimer")


def test_registered():
    from tierchem.tiers.harness import get_harness

    h = get_harness("pyscf-cc")
    assert h.found() and h.tier == 4 and "pyscf" in h.versions()


def test_cbs_helpers():
    from tierchem.tiers.correlated import cardinal_number, helgaker_cbs

    assert [cardinal_number(b) for b in ("def2-SVP", "def2-TZVP", "def2-QZVPP", "cc-pVTZ", "aug-cc-pVQZ")] \
        == [2, 3, 4, 3, 4]
    # E_X = E_CBS + A X^-3 is recovered exactly
    e_cbs, a = -0.30, 0.5
    assert helgaker_cbs(e_cbs + a / 27, 3, e_cbs + a / 64, 4) == pytest.approx(e_cbs)


def test_df_mp2_water_dimer_cp_pinned(water_dimer):
    r = compute(make_spec("interaction_energy", list(water_dimer), level="mp2"))
    assert r.success, r.error
    assert r.values["counterpoise"] is True
    assert r.values["interaction_energy_kcal_mol"] == pytest.approx(PINNED_DFMP2, abs=0.01)


def test_ccsd_t_water_dimer_cp_pinned(water_dimer):
    r = compute(make_spec("interaction_energy", list(water_dimer), level="ccsd(t)"))
    assert r.success, r.error
    v = r.values
    assert v["interaction_energy_kcal_mol"] == pytest.approx(PINNED_CCSD_T, abs=0.01)
    assert v["interaction_energy_kcal_mol"] == pytest.approx(v["hf_interaction_kcal_mol"]
                                                             + v["correlation_interaction_kcal_mol"])


def test_too_large_ccsd_t_refused_before_running():
    import time

    a, b = s22_fragments("Benzene_dimer_parallel_displaced")
    t0 = time.perf_counter()
    r = compute(make_spec("interaction_energy", [a, b], level="ccsd(t)", basis="def2-QZVP"))
    assert time.perf_counter() - t0 < 20
    assert not r.success and r.error.kind.value == "resource"
    assert "DF-MP2" in r.error.message or "smaller" in r.error.message


def test_time_limit_refusal(water_dimer):
    r = compute(make_spec("energy", list(water_dimer), level="ccsd(t)", basis="def2-TZVP", max_time_s=0.01))
    assert not r.success and r.error.kind.value == "resource"
    assert "max_time_s" in r.error.message


def test_open_shell_refused():
    oh = Molecule(name="OH", symbols=("O", "H"), coords_angstrom=((0, 0, 0), (0, 0, 0.97)), multiplicity=2)
    r = compute(make_spec("energy", oh, level="mp2"))
    assert not r.success and r.error.kind.value == "input"


def test_scs_mp2_and_mp2_energy(water_dimer):
    w = water_dimer[0]
    e = {m: compute(make_spec("energy", w, level="mp2", method=m)).values for m in ("MP2", "DF-MP2", "SCS-MP2")}
    assert e["MP2"]["hf_energy_kcal_mol"] == pytest.approx(e["DF-MP2"]["hf_energy_kcal_mol"], abs=1e-6)
    # DF error in the correlation energy is tiny (~1e-4 Eh = 0.06 kcal/mol)
    assert e["MP2"]["correlation_energy_kcal_mol"] == pytest.approx(e["DF-MP2"]["correlation_energy_kcal_mol"],
                                                                    abs=0.1)
    assert e["SCS-MP2"]["correlation_energy_kcal_mol"] != e["DF-MP2"]["correlation_energy_kcal_mol"]


@pytest.mark.slow
def test_cbs_water_dimer_mp2():
    """DF-MP2/CBS(def2-TZVP, def2-QZVP) CP for the water dimer is near MP2's known limit (~ -5.0)."""
    a, b = s22_fragments("Water_dimer")
    r = compute(make_spec("interaction_energy", [a, b], level="mp2", cbs=["def2-TZVP", "def2-QZVP"]))
    assert r.success, r.error
    assert r.values["cbs"] is True
    assert r.values["interaction_energy_kcal_mol"] == pytest.approx(-5.0, abs=0.3)


# pinned with PySCF 2.14 (CPU), S22 water dimer geometry, def2-SVP, frozen core, counterpoise
PINNED_DFMP2 = -4.2622
PINNED_CCSD_T = -4.0184
