"""The target in its analogs' packing (issue 14; the shape hypothesis's energetic test, issue 11):
tiers.packing_swap relaxes a molecule in another member's crystal and in its own, and
agent.packing_facts reads the penalty as evidence on a shape hypothesis.

The crystals are X23's benzene (Pbca, Z = 4) and naphthalene (P2_1/c, Z = 2), both herringbone.
An observed crystal is its molecule's low-energy packing, so each molecule forced into the other's
packing and relaxed must come out higher than in its own; a molecule swapped into its own packing
must come out where it started.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tierchem.agent import crystal_facts as cf
from tierchem.agent import packing_facts as pf
from tierchem.agent.state import CrystalFacts, Hypothesis, PackingSwap
from tierchem.chem.crystal import read_cif
from tierchem.chem.molecule import Molecule
from tierchem.tiers.packing_swap import SCALE_STEP, scaled_packing, swap_energy


@pytest.fixture
def x23(refdata):
    d = refdata / "25_x23" / "expt"
    return {n: read_cif(d / f"{n}.cif", name=n) for n in ("benzene", "naphthalene")}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One store for the module: the crystal step's swaps are the ones computed before it (a cache hit)."""
    from tierchem.tiers import ResultStore

    return ResultStore(tmp_path_factory.mktemp("swaps") / "results.sqlite")


BENZENE = Molecule.from_smiles("c1ccccc1", name="benzene")
NAPHTHALENE = Molecule.from_smiles("c1ccc2ccccc2c1", name="naphthalene")


def test_scaled_packing_keeps_fractional_centroids_and_shapes(x23):
    cr = x23["naphthalene"]
    moved, cell = scaled_packing(list(cr.molecules), cr.cell_matrix, 1.05)
    inv_old, inv_new = np.linalg.inv(cr.cell_matrix), np.linalg.inv(cell)
    for m0, m1 in zip(cr.molecules, moved):
        np.testing.assert_allclose(m1.coords.mean(0) @ inv_new, m0.coords.mean(0) @ inv_old, atol=1e-6)  # coordinates kept to ~1e-6 Å
        np.testing.assert_allclose(m1.coords - m1.coords.mean(0), m0.coords - m0.coords.mean(0), atol=1e-5)
    assert np.linalg.det(cell) == pytest.approx(1.05 ** 3 * np.linalg.det(cr.cell_matrix))


def test_a_molecule_in_its_own_packing_costs_nothing(x23, shared):
    store = shared
    sw = swap_energy(BENZENE, x23["benzene"], x23["benzene"], "classical", store)
    assert abs(sw.penalty_kcal_mol) < 0.05  # both arms are one calculation up to round-off (measured 0.001)
    assert sw.swapped.tier == 1 and sw.swapped.method == "GAFF2/AM1-BCC"
    # the walk went downhill and stopped at a rise: the chosen cell has higher neighbours on both sides
    scan = dict(sw.own.scan)
    assert len(scan) >= 3 and all(scan[round(sw.own.scale + d, 4)] > scan[sw.own.scale]
                                  for d in (-SCALE_STEP, SCALE_STEP) if round(sw.own.scale + d, 4) in scan)
    assert store.get(sw.own.cache_key).spec.task == "lattice_energy"


@pytest.mark.slow  # ~70 s on 2 cores (four relaxed swaps); the swap's own-packing identity stays in make test
def test_each_molecule_prefers_its_own_observed_packing(x23, shared):
    store = shared
    # GAFF2/AM1-BCC, measured here: benzene in naphthalene's packing +3.0 (Coulomb +1.5),
    # naphthalene in benzene's +1.4 kcal/mol per molecule; the test asks only the sign and the split's sum
    for m, own, other in ((BENZENE, "benzene", "naphthalene"), (NAPHTHALENE, "naphthalene", "benzene")):
        sw = swap_energy(m, x23[own], x23[other], "classical", store)
        assert sw.penalty_kcal_mol > 0.3, (m.label, sw.penalty_kcal_mol)
        r_swapped, r_own = store.get(sw.swapped.cache_key), store.get(sw.own.cache_key)
        coulomb = (r_swapped.values["coulomb_cell_energy_kcal_mol"] / r_swapped.values["z"]
                   - r_own.values["coulomb_cell_energy_kcal_mol"] / r_own.values["z"])
        assert sw.coulomb_penalty_kcal_mol == pytest.approx(coulomb)
        # measured Coulomb parts: +1.46 (benzene in naphthalene's), -0.96 to -1.21 (naphthalene in benzene's);
        # a part of a few kcal/mol, within 2σ of a swap penalty (agent.packing_facts.SIGMA_SWAP_KCAL_MOL)
        assert abs(sw.coulomb_penalty_kcal_mol) < 2 * pf.SIGMA_SWAP_KCAL_MOL


# ------------------------------------------------------------------ the rule, on fixed numbers
def _facts(*swaps: tuple[str, float, float | None]) -> CrystalFacts:
    return CrystalFacts(target="T", target_read=True, swaps=[
        PackingSwap(molecule="T", packing=p, tier=1, method="GAFF2/AM1-BCC", penalty_kcal_mol=e, coulomb_kcal_mol=q,
                    scale=1.0, own_scale=1.0, sigma_kcal_mol=2.0) for p, e, q in swaps])


SHAPE = Hypothesis(id="shape_sterics", category="shape_sterics", statement="shape", confidence=0.3)


@pytest.mark.parametrize("swaps, status", [
    ((("A", 6.0, 1.0), ("B", 5.0, 0.5)), "supports"),          # >= 2σ everywhere, mostly steric
    ((("A", 6.0, 1.0), ("B", 0.5, 0.0)), "carries_nothing"),   # fits B's packing within σ/2
    ((("A", 6.0, 5.5), ("B", 5.0, 4.8)), "carries_nothing"),   # the misfit is electrostatic
    ((("A", 6.0, 1.0), ("B", 3.0, 1.0)), "weak"),              # B's under 2σ
    ((("A", 6.0, 3.5),), "weak"),                              # steric part 2.5 < 2σ
])
def test_swap_check_rule(swaps, status):
    assert pf.swap_check(SHAPE, _facts(*swaps)).status == status
    assert cf.energy_check(SHAPE, _facts(*swaps)).status == status  # the crystal step routes shape to it


def test_swap_check_speaks_only_to_shape():
    other = Hypothesis(id="halogen_bond", category="halogen_bond", statement="XB", confidence=0.3)
    assert pf.swap_check(other, _facts(("A", 6.0, 1.0))).status == "not_applicable"
    assert pf.swap_check(SHAPE, CrystalFacts(target="T", target_read=True)).status == "not_applicable"


# ------------------------------------------------------------------ in the crystal step
def test_read_crystals_puts_each_molecule_in_the_others_packing(x23_series, tmp_path, shared):
    from tierchem.agent.series import read_series

    store = shared
    folder = x23_series(tmp_path / "series", [("naphthalene", "c1ccc2ccccc2c1", "target"),
                                              ("benzene", "c1ccccc1", "analog")])
    c = cf.read_crystals(read_series(folder), store=store)
    assert [(s.molecule, s.packing) for s in c.swaps] == [("naphthalene", "benzene"), ("benzene", "naphthalene")]
    assert all(s.penalty_kcal_mol > 0.3 and len(s.cache_keys) == 2 for s in c.swaps)
    assert c.swap_seconds > 0
    assert any(f.startswith("naphthalene in benzene's packing, relaxed:") for f in c.facts)
    check = cf.energy_check(SHAPE, c)
    assert check.status in ("supports", "weak", "carries_nothing") and "benzene's" in check.reason
    md = "\n".join(pf.swap_markdown(c))
    assert "| naphthalene | benzene |" in md and "| benzene | naphthalene |" in md


# ------------------------------------------------------------------ command line
def test_crystal_command_swaps(refdata, tmp_path):
    from typer.testing import CliRunner

    from tierchem.agent.cli import app

    d = refdata / "25_x23" / "expt"
    runner = CliRunner()
    out = runner.invoke(app, ["crystal", str(d / "benzene.cif"), "--swap", str(d / "benzene.cif"), "--json"])
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)["swaps"]
    assert row["packing"] == row["molecule"] == "benzene" and row["method"] == "GAFF2/AM1-BCC"
    assert abs(row["penalty_kcal_mol"]) < 0.05 and row["coulomb_kcal_mol"] is not None
    # no common skeleton: one clear line, exit 1
    bad = runner.invoke(app, ["crystal", str(d / "urea.cif"), "--swap", str(d / "benzene.cif")])
    assert bad.exit_code == 1 and "share fewer than 3 skeleton atoms" in bad.output and "Traceback" not in bad.output
    assert len(bad.output.strip().splitlines()) == 1


def test_swaps_past_the_budget_are_skipped_and_said(x23):
    """No wall time left: nothing computed, one warning naming every swap left out."""
    from tierchem.agent.state import Series, SeriesMember

    def member(name, smiles, role):
        m = Molecule.from_smiles(smiles, name=name)
        return SeriesMember(name=name, smiles=smiles, role=role, molecule=m.model_dump(mode="json"))

    series = Series(source="test", members=[member("naphthalene", "c1ccc2ccccc2c1", "target"),
                                            member("benzene", "c1ccccc1", "analog")])
    out = CrystalFacts(target="naphthalene", target_read=True)
    pf.fill_swaps(out, {"naphthalene": x23["naphthalene"], "benzene": x23["benzene"]}, series, None, budget_s=0.0)
    assert out.swaps == [] and len(out.warnings) == 1
    assert "naphthalene in benzene's, benzene in naphthalene's" in out.warnings[0] and "0 s" in out.warnings[0]


def test_jittered_starts_are_seeded_and_rigid(x23):
    from tierchem.tiers.packing_swap import JITTER_ANGSTROM, jittered

    mols = list(x23["naphthalene"].molecules)
    a, b, c = jittered(mols, 1), jittered(mols, 1), jittered(mols, 2)
    assert all(np.array_equal(x.coords, y.coords) for x, y in zip(a, b))           # the same seed, the same start
    assert not all(np.allclose(x.coords, y.coords) for x, y in zip(a, c))
    for m0, m1 in zip(mols, a):
        d0 = np.linalg.norm(m0.coords[:, None] - m0.coords[None], axis=-1)
        d1 = np.linalg.norm(m1.coords[:, None] - m1.coords[None], axis=-1)
        np.testing.assert_allclose(d1, d0, atol=1e-5)                               # rigid
        assert np.all(np.abs(m1.coords.mean(0) - m0.coords.mean(0)) <= JITTER_ANGSTROM + 1e-6)  # at most, per component
