"""Classical MD that answers questions (issue 12): intramolecular H-bond occupancy and conformer
populations from seeded OpenMM runs, vacuum and implicit solvent; the GAFF2-EP sigma hole."""

from __future__ import annotations

import numpy as np
import pytest

from tierchem.chem.conformers import conformer_ensemble
from tierchem.chem.hbonds import hbonds_formed, intramolecular_hbond_triples, intramolecular_hbonds_in
from tierchem.chem.molecule import Molecule
from tierchem.tiers.catalogue import make_spec
from tierchem.tiers.compute import compute
from tierchem.tiers.store import ResultStore

classical = pytest.importorskip("tierchem.tiers.classical")
if not classical.OpenMMHarness.found():
    pytest.skip("OpenMM/parmed/AmberTools not installed", allow_module_level=True)

MD = {"steps": 3000, "report_every": 30, "seed": 11}  # 3 ps after 0.6 ps equilibration: 100 frames


@pytest.fixture(autouse=True)
def isolated_store(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERCHEM_CACHE_DIR", str(tmp_path / "cache"))


def lowest_conformer(smiles: str, name: str) -> Molecule:
    return conformer_ensemble(Molecule.from_smiles(smiles, name=name), n_conformers=12, polar_hydrogens=True)[0][0]


def test_hbond_criterion_geometry():
    m = lowest_conformer("O=Cc1ccccc1O", "salicylaldehyde")
    (d, h, a), = intramolecular_hbond_triples(m)
    assert (m.symbols[d], m.symbols[h], m.symbols[a]) == ("O", "H", "O")
    assert intramolecular_hbonds_in(m) == [(d, h, a)]
    # Pull the H onto the far side of its O: the same triple, no longer formed.
    xyz = m.coords.copy()
    xyz[h] = xyz[d] - (xyz[h] - xyz[d])
    assert not hbonds_formed(xyz, [(d, h, a)])[0, 0]


@pytest.mark.parametrize("smiles,name,formed", [
    ("O=Cc1ccccc1O", "salicylaldehyde", True),
    ("O=Cc1ccc(O)cc1", "4-hydroxybenzaldehyde", False),
])
def test_hbond_occupancy_at_300k(smiles, name, formed):
    m = lowest_conformer(smiles, name)
    r = compute(make_spec("md", [m], level="classical", temperature_k=300.0, **MD))
    assert r.success, r.error
    v = r.values
    if formed:
        assert v["hbond_occupancy"] > 0.9
    else:
        assert v["hbond_occupancy"] == 0.0
    assert v["n_samples"] == 100 and sum(v["conformer_populations"].values()) == pytest.approx(1.0)


def test_md_in_implicit_solvent_keeps_the_occupancy(tmp_path):
    m = lowest_conformer("CC(=O)c1ccccc1O", "2'-hydroxyacetophenone")
    # Small implicit-solvent runs use one CPU thread (deterministic; Reference's GB is ten times slower): 1.5 ps
    spec = make_spec("md", [m], level="classical", implicit_solvent="OBC2", **{**MD, "steps": 1500, "report_every": 15})
    store = ResultStore(tmp_path / "run" / "results.sqlite")
    first = compute(spec, store=store)
    assert first.success, first.error
    assert first.values["implicit_solvent"] == "OBC2" and 0.0 <= first.values["hbond_occupancy"] <= 1.0
    # With the same parameters the run repeats bit for bit (Reference platform). What differed 1 time in 6
    # (mean potential energy -18.83 vs -19.68 kcal/mol) was the parameters, not the dynamics: parmchk2 (AmberTools)
    # reads memory it never set, so a fresh parametrisation of this molecule gets the ca-ca-ca-oh improper as
    # 1.1 or 10.5 kcal/mol depending on the process's stack layout (25% / 75% of 20 tries; always the same under
    # `setarch -R`, and it changes with the environment's size). A store keeps the first parameters it made.
    again = compute(spec, store=store, use_cache=False)
    assert again.values["mean_potential_energy_kcal_mol"] == first.values["mean_potential_energy_kcal_mol"]
    fresh = compute(spec, use_cache=False)  # parameters made again elsewhere: the occupancy a verdict reads agrees
    assert fresh.values["hbond_occupancy"] == pytest.approx(first.values["hbond_occupancy"], abs=0.05)
    assert first.values["hbond_occupancy"] > 0.9
    assert compute(spec, store=store).from_cache
    vacuum = make_spec("md", [m], level="classical", **MD)
    assert vacuum.cache_key({}) != spec.cache_key({})


def test_unknown_solvent_is_refused():
    m = Molecule.from_smiles("O", name="water")
    r = compute(make_spec("md", [m], level="classical", implicit_solvent="water", steps=10))
    assert not r.success and "implicit_solvent" in r.error.message


def test_hbond_occupancy_observable():
    from tierchem.agent.hypotheses import TEMPLATES
    from tierchem.agent.observables import NotApplicable, observable, specs_for

    obs = observable("hbond_occupancy")
    assert obs.task == "md" and obs.computable_tiers() == [1]
    (spec,) = specs_for("hbond_occupancy", Molecule.from_smiles("O=Cc1ccccc1O", name="salicylaldehyde"), 1)
    assert spec.task == "md" and spec.engine == "openmm" and spec.keywords["temperature_k"] == 300.0
    with pytest.raises(NotApplicable) as absent:
        specs_for("hbond_occupancy", Molecule.from_smiles("O=Cc1ccc(O)cc1", name="4-hydroxybenzaldehyde"), 1)
    assert absent.value.value == 0.0
    template = TEMPLATES["intramolecular_hbond"]
    assert any(u.observable == "hbond_occupancy" and u.role == "indicator" for u in template.observables)


def test_extra_point_makes_c_br_o_more_attractive():
    """X40 14 (bromomethane···formaldehyde, C-Br···O): GAFF2's isotropic charges repel (about +1 kcal/mol
    vs a CCSD(T)/CBS -1.7); the sigma-hole extra point attracts."""
    from tierchem.tiers.benchmark import load_dataset

    (entry,) = load_dataset("x40", subset="14bromomethaneformaldehyde")
    fragments = list(entry.fragments)
    plain = compute(make_spec("interaction_energy", fragments, "classical"), raise_error=True)
    ep = compute(make_spec("interaction_energy", fragments, "classical", method="GAFF2-EP"), raise_error=True)
    assert ep.spec.method == "GAFF2-EP" and ep.cache_key != plain.cache_key
    assert ep.value("interaction_energy_kcal_mol") < plain.value("interaction_energy_kcal_mol") - 1.0


def test_extra_point_geometry_and_neutrality():
    import openmm as mm

    m = Molecule.from_smiles("CBr", name="bromomethane")
    system, pos, _ = classical.build_system([m], extra_points=True)
    assert system.getNumParticles() == m.n_atoms + 1 and system.isVirtualSite(m.n_atoms)
    nb = next(f for f in system.getForces() if isinstance(f, mm.NonbondedForce))
    total = sum(nb.getParticleParameters(i)[0]._value for i in range(system.getNumParticles()))
    assert total == pytest.approx(0.0, abs=1e-6)
    br = m.symbols.index("Br")
    dist, charge = classical.EXTRA_POINTS["Br"]
    assert nb.getParticleParameters(m.n_atoms)[0]._value == pytest.approx(charge)
    assert np.linalg.norm(pos[m.n_atoms] - pos[br]) * 10 == pytest.approx(dist, abs=1e-6)
