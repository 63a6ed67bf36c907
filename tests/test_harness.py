"""The harness layer: the tier table, declared defaults recorded as provenance, and cost estimates."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tierchem.chem import Molecule
from tierchem.tiers import LEVELS, compute, make_spec
from tierchem.tiers.harness import Harness, estimate_seconds, get_harness, harness_names, installed_cache_key
from tierchem.tiers.levels import TIERS


@pytest.fixture(scope="module")
def water_dimer():
    from tierchem.tiers.refdata import s22_dimer

    return list(s22_dimer("Water_dimer").fragments)


def test_tier_table_is_the_one_source():
    # a bare tier number asks for the first named level of that tier, and every level's engine is registered
    for tier, info in TIERS.items():
        assert next(lvl for lvl in LEVELS.values() if lvl.tier == tier) == info.level
        assert info.engine in harness_names()
    for lvl in LEVELS.values():
        assert get_harness(lvl.engine).tier == lvl.tier


def test_lattice_energy_at_xtb_level_is_gfn1(water):
    assert make_spec("lattice_energy", [water], "xtb").method == "GFN1-xTB"
    assert make_spec("lattice_energy", [water], "xtb", method="GFN2-xTB").method == "GFN2-xTB"  # asked by name
    assert make_spec("energy", [water], "xtb").method == "GFN2-xTB"


@pytest.mark.parametrize("engine", ["rdkit", "openmm", "xtb", "pyscf", "pyscf-cc"])
def test_every_harness_declares_json_defaults_and_notes(engine):
    cls = type(get_harness(engine))
    assert cls.default_parameters and "default_parameters" in vars(cls)
    assert json.loads(json.dumps(cls.default_parameters)) == cls.default_parameters
    assert cls.model_notes and "model_notes" in vars(cls)


def test_compute_records_the_settings_that_ran(water, store):
    spec = make_spec("conformers", [water], "mmff", n_conformers=5)
    r = compute(spec, store=store)
    assert r.success, r.error
    settings = r.provenance["settings"]
    assert settings["n_conformers"] == 5  # the spec's keyword wins
    assert settings["rmsd_threshold"] == 0.5 and settings["seed"] == 0xF00D  # defaults fill the rest
    assert "MMFF94" in r.provenance["model_notes"]
    # the store key is the spec as given, not the merged settings, and installed_cache_key finds it
    assert spec.keywords == {"n_conformers": 5}
    assert r.cache_key == installed_cache_key(spec)
    assert store.get(installed_cache_key(spec)).provenance["settings"] == settings


def test_failures_record_settings_too(water):
    r = compute(make_spec("torsion_scan", [water], "mmff", step_deg=45.0))  # no dihedral: an input failure
    assert not r.success and r.error.kind.value == "input"
    assert r.provenance["settings"]["step_deg"] == 45.0
    assert r.provenance["settings"]["max_steps"] == 2000


def test_xtb_settings_task_defaults_and_alias(water):
    xtb = get_harness("xtb")
    opt = xtb.settings(make_spec("optimize", [water], "xtb", fmax=0.05))
    assert opt["fmax_ev_angstrom"] == 0.05 and opt["max_steps"] == 500 and opt["max_iter"] == 250
    cell = [[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]]
    lat = xtb.settings(make_spec("lattice_energy", [water], "xtb", cell_angstrom=cell))
    assert (lat["fmax_ev_angstrom"], lat["max_steps"], lat["relax"]) == (0.05, 300, "positions")
    assert lat["cell_angstrom"] == cell


def test_estimate_seconds_per_tier(water, water_dimer):
    """Tiers 0-3 keep the agent's former cost model to the digit; tier 4 is the correlated harness's
    calibrated model (which also decides what it refuses)."""
    ethanol = Molecule.from_smiles("CCO", name="ethanol")
    assert estimate_seconds(make_spec("energy", [ethanol], 0)) == 0.5
    assert estimate_seconds(make_spec("descriptors", [ethanol], 0)) == 0.05
    assert estimate_seconds(make_spec("interaction_energy", water_dimer, 1)) == pytest.approx(1.6)
    assert estimate_seconds(make_spec("energy", [ethanol], 2)) == pytest.approx(0.05 + 3e-5 * 81)
    scf = 20.0 * (3 / 8.0) ** 2.5  # 3 heavy atoms
    assert estimate_seconds(make_spec("energy", [ethanol], 3)) == pytest.approx(scf)
    assert estimate_seconds(make_spec("esp", [ethanol], 3)) == pytest.approx(2.5 * scf)
    assert estimate_seconds(make_spec("interaction_energy", water_dimer, 3)) == pytest.approx(
        3.5 * 20.0 * (2 / 8.0) ** 2.5)
    from tierchem.agent.observables import estimate_seconds as agent_estimate

    spec = make_spec("interaction_energy", water_dimer, 3)
    assert agent_estimate(spec) == estimate_seconds(spec)


def test_estimate_seconds_tier4_is_the_calibrated_model(water_dimer):
    pytest.importorskip("pyscf")
    mp2 = make_spec("interaction_energy", water_dimer, "mp2")
    cc = get_harness("pyscf-cc")
    assert estimate_seconds(mp2) == pytest.approx(sum(c.time_s for c in cc.cost(mp2)))
    assert estimate_seconds(make_spec("interaction_energy", water_dimer, "ccsd(t)")) > estimate_seconds(mp2)


def test_estimate_seconds_of_an_unknown_engine_is_the_base_guess(water):
    spec = make_spec("energy", [water], 0, engine="no-such-engine")
    assert estimate_seconds(spec) == Harness().estimate_seconds(spec) == 1.0


def test_estimates_below_tier_4_import_no_engine():
    code = ("import sys; from tierchem.chem import Molecule; from tierchem.tiers import make_spec; "
            "from tierchem.tiers.harness import estimate_seconds; m = Molecule.from_smiles('O'); "
            "[estimate_seconds(make_spec('energy', [m], t)) for t in range(4)]; "
            "print(sorted(e for e in ('pyscf', 'tblite', 'openmm', 'ase') if e in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
