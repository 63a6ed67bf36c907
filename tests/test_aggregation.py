"""Aggregation runs (issue 12): copies of one molecule annealed in a sphere, the contact motifs they form with
the criteria of chem.crystal_contacts, reproducibility, the trajectory file, the observable and the snapshot."""

from __future__ import annotations

import numpy as np
import pytest

from tierchem.chem.crystal import Crystal, find_contacts
from tierchem.chem.dimers import stacked_dimer, type_i_halogen_contact, type_ii_halogen_contact
from tierchem.chem.molecule import Molecule
from tierchem.tiers import aggregation as agg
from tierchem.tiers.catalogue import make_spec
from tierchem.tiers.compute import compute
from tierchem.tiers.errors import InputError
from tierchem.tiers.refdata import s22_dimer
from tierchem.tiers.store import ResultStore

classical = pytest.importorskip("tierchem.tiers.classical")
needs_openmm = pytest.mark.skipif(not classical.OpenMMHarness.found(), reason="OpenMM/parmed/AmberTools not installed")

# 6 copies of 1,4-dibromobenzene, 2 replicas of 2.4 ps: 84 particles with the extra points (Reference platform).
SHORT = {"n_molecules": 6, "replicas": 2, "steps": 1200, "report_every": 200, "analysis_frames": 2, "seed": 5}


@pytest.fixture(scope="module", autouse=True)
def store(tmp_path_factory) -> ResultStore:
    """One store (and parameter cache) for the module: each molecule is parametrised once."""
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("cache")
        mp.setenv("TIERCHEM_CACHE_DIR", str(cache))
        yield ResultStore(cache / "results.sqlite")


@pytest.fixture(scope="module")
def dibromobenzene() -> Molecule:
    return Molecule.from_smiles("Brc1ccc(Br)cc1", name="1,4-dibromobenzene")


def test_placement_is_seeded_dilute_and_inside_the_sphere(dibromobenzene):
    radius = agg.sphere_radius(8, 1000.0)
    assert radius == pytest.approx((3 * 8000 / (4 * np.pi)) ** (1 / 3))
    copies = agg.place_copies(dibromobenzene, 8, radius, seed=3)
    again = agg.place_copies(dibromobenzene, 8, radius, seed=3)
    other = agg.place_copies(dibromobenzene, 8, radius, seed=4)
    xyz = np.stack([c.coords for c in copies])
    assert np.array_equal(xyz, np.stack([c.coords for c in again]))
    assert not np.allclose(xyz, np.stack([c.coords for c in other]))
    assert np.linalg.norm(xyz, axis=-1).max() <= radius + 1e-6
    gaps = [np.linalg.norm(a.coords[:, None] - b.coords[None], axis=-1).min()
            for k, a in enumerate(copies) for b in copies[k + 1:]]
    assert min(gaps) >= 3.0
    # rigid copies: every copy keeps the molecule's internal distances
    d0 = np.linalg.norm(dibromobenzene.coords[:, None] - dibromobenzene.coords[None], axis=-1)
    assert all(np.allclose(np.linalg.norm(c.coords[:, None] - c.coords[None], axis=-1), d0, atol=1e-5) for c in copies)
    with pytest.raises(InputError, match="volume_per_molecule"):
        agg.place_copies(dibromobenzene, 40, agg.sphere_radius(40, 60.0), seed=1)


@pytest.mark.parametrize("name,motif", [
    ("Benzene_dimer_T-shaped", "t_contact"),            # one C-H over the other ring's face, 2.43 Å from its centroid
    ("Benzene_dimer_parallel_displaced", "offset_stack"),
    ("Formic_acid_dimer", "hbond_cyclic_dimer"),        # R2,2(8)
    ("Formamide_dimer", "hbond_cyclic_dimer"),
    ("Water_dimer", "hbond_chain"),                     # one open H-bond
])
def test_motifs_of_s22_dimers(name, motif):
    counts = agg.frame_motifs(list(s22_dimer(name).fragments))
    assert counts[motif] == 1
    expected = {motif, "pi_stack"} if motif == "offset_stack" else {motif}
    assert {k for k, v in counts.items() if v} == expected


def test_motifs_of_rule_built_halogen_contacts():
    m = Molecule.from_smiles("Ic1ccc(I)cc1", name="1,4-diiodobenzene")
    assert agg.frame_motifs(list(type_ii_halogen_contact(m, m)))["type_ii_xx"] == 1
    assert agg.frame_motifs(list(type_i_halogen_contact(m, m)))["type_i_xx"] == 1
    stack = agg.frame_motifs(list(stacked_dimer(m, m)))
    assert stack["pi_stack"] == 1 and stack["t_contact"] == 0


@needs_openmm
def test_short_aggregation_is_reproducible_and_counts_what_find_contacts_finds(dibromobenzene, store):
    spec = make_spec("md_aggregation", [dibromobenzene], level="classical", **SHORT)
    assert spec.method == "GAFF2-EP"  # the task's default: a sigma hole for halogen contacts (tiers.levels)
    seen = []
    harness = classical.OpenMMHarness(progress=lambda step, total, e: seen.append((step, total)))
    harness.cache_dir = store.path.parent
    first = compute(spec, store=store)
    assert first.success, first.error
    again = compute(spec, store=store, use_cache=False)
    assert again.values == first.values  # same spec, same parameters: the same summary, bit for bit
    assert compute(spec, store=store).from_cache
    v = first.values
    assert v["n_replicas"] == 2 and v["n_molecules"] == 6 and v["extra_points"] is True
    assert [r["seed"] for r in v["replicas"]] == [5, 6]
    assert set(v["motifs_per_molecule_mean"]) == set(agg.MOTIFS)
    assert v["type_ii_per_molecule"] == v["motifs_per_molecule_mean"]["type_ii_xx"]

    # The npz holds each replica's last frames; recount them with find_contacts on a cell-less Crystal.
    m, n, frames = agg.read_final_frames(first.artifacts["trajectory_npz"])
    assert (m.symbols, n, frames.shape) == (dibromobenzene.symbols, 6, (2, 2, 6 * 12, 3))
    found = 0
    for replica, rep_frames in zip(v["replicas"], frames):
        kinds = {"type_ii_xx": 0, "type_i_xx": 0, "pi_stack": 0}
        for frame in rep_frames:
            cluster = Crystal(name="check", molecules=agg.split_frame(m, n, frame), cell_matrix=None)
            for c in find_contacts(cluster):
                if c.kind == "halogen_halogen" and c.subtype in ("type I", "type II"):
                    kinds["type_ii_xx" if c.subtype == "type II" else "type_i_xx"] += 1
                kinds["pi_stack"] += c.kind == "pi_stack"
        for k, count in kinds.items():
            assert replica["motifs_per_molecule"][k] == pytest.approx(count / len(rep_frames) / n)
        found += sum(kinds.values())
    assert found > 0  # the copies met: there were contacts to count
    spread = np.std([r["motifs_per_molecule"]["type_ii_xx"] for r in v["replicas"]], ddof=1)
    assert v["type_ii_per_molecule_std"] == pytest.approx(spread)
    # the last frame kept in the result is the npz's
    assert np.allclose(first.artifacts["final_frames_angstrom"][1], frames[1][-1], atol=1e-3)

    harness.run(spec.model_copy(update={"keywords": {**SHORT, "steps": 400}}))
    assert seen == [(200, 800), (400, 800), (600, 800), (800, 800)]  # one bar over both replicas
    plain = make_spec("md_aggregation", [dibromobenzene], level="classical", method="GAFF2/AM1-BCC", **SHORT)
    assert plain.cache_key({}) != spec.cache_key({})


@needs_openmm
@pytest.mark.parametrize("keywords,message", [
    ({"n_molecules": 1}, "2-64 n_molecules"),
    ({"analysis_frames": 50, "steps": 1000, "report_every": 100}, "analysis_frames must be 1-10"),
    ({"volume_per_molecule_angstrom3": 20.0}, "volume_per_molecule_angstrom3"),
])
def test_bad_aggregation_input_is_refused(dibromobenzene, keywords, message):
    r = compute(make_spec("md_aggregation", [dibromobenzene], level="classical", **{**SHORT, **keywords}))
    assert not r.success and r.error.kind.value == "input" and message in r.error.message


@needs_openmm
def test_aggregation_takes_one_molecule(dibromobenzene):
    r = compute(make_spec("md_aggregation", [dibromobenzene, dibromobenzene], level="classical", **SHORT))
    assert not r.success and "one molecule" in r.error.message


def test_type_ii_observable_and_its_absence():
    from tierchem.agent.hypotheses import TEMPLATES
    from tierchem.agent.observables import NotApplicable, observable, specs_for

    obs = observable("md_type_ii_propensity")
    assert obs.task == "md_aggregation" and obs.computable_tiers() == [1]
    (spec,) = specs_for("md_type_ii_propensity", Molecule.from_smiles("Ic1ccc(I)cc1", name="diiodobenzene"), 1)
    assert spec.method == "GAFF2-EP" and spec.engine == "openmm" and spec.keywords["replicas"] >= 3
    with pytest.raises(NotApplicable) as absent:
        specs_for("md_type_ii_propensity", Molecule.from_smiles("c1ccccc1", name="benzene"), 1)
    assert absent.value.value == 0.0
    # a motif count points where to look; it carries no verdict (and is never a design predictor)
    assert not obs.use(1).adequate and obs.adequate_tiers() == []
    template = TEMPLATES["halogen_bond"]
    assert any(u.observable == "md_type_ii_propensity" and u.role == "indicator" for u in template.observables)
    # its control: the same runs with plain GAFF2 (no sigma hole), beside it in every investigation
    (plain,) = specs_for("md_type_ii_propensity_gaff2", Molecule.from_smiles("Ic1ccc(I)cc1", name="diiodobenzene"), 1)
    assert plain.method == "GAFF2/AM1-BCC" and plain.task == spec.task and plain.keywords == spec.keywords
    assert plain.molecules == spec.molecules and plain.cache_key({}) != spec.cache_key({})
    assert any(u.observable == "md_type_ii_propensity_gaff2" and u.role == "indicator" for u in template.observables)


@needs_openmm
def test_snapshot_marks_the_contacts(dibromobenzene, store, monkeypatch):
    from tierchem.agent import notebook

    r = compute(make_spec("md_aggregation", [dibromobenzene], level="classical",
                          **{**SHORT, "replicas": 1, "steps": 1000}), store=store, use_cache=False)
    assert r.success, r.error
    mols = agg.final_frame(r)
    segments = agg.contact_segments(mols)
    assert len(mols) == 6 and all(len(s[2]) == 3 and len(s[3]) == 3 for s in segments)
    n_xx = sum(k.endswith("_xx") for k, *_ in segments)
    cluster = Crystal(name="check", molecules=mols, cell_matrix=None)
    assert n_xx == sum(c.kind == "halogen_halogen" for c in find_contacts(cluster))
    view = notebook.show_aggregation(r)
    assert "addModel" in view.html() and f"{len(segments)} contacts marked" in view.what
    # the npz gone (a cleaned scratch folder): the result's own last frame still draws
    monkeypatch.setitem(r.artifacts, "trajectory_npz", "/nonexistent.npz")
    assert np.allclose(np.stack([m.coords for m in agg.final_frame(r)]), np.stack([m.coords for m in mols]), atol=1e-4)
    png = notebook._aggregation_png(mols, segments, "test")
    assert png.png()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_openmm
@pytest.mark.slow
def test_sigma_hole_raises_type_ii_contacts_of_diiodobenzene():
    """The demo (benchmarks/aggregation.py defaults: 12 copies, 6 replicas of 40 ps, 400 -> 250 K): with the extra
    point 1,4-diiodobenzene forms more near-linear type II contacts (what md_type_ii_propensity reads) than without
    it and than 1,4-dichlorobenzene with it. Measured here (2 cores, CPU platform, seeds 2024-2029, the X40-fitted
    extra points), per molecule: GAFF2-EP diiodo 0.07 ± 0.04, dichloro 0.02 ± 0.01; plain GAFF2 diiodo 0.02 ± 0.00
    (mean ± sd over the replicas)."""
    def type_ii(smiles: str, method: str) -> tuple[float, float]:
        m = Molecule.from_smiles(smiles, name=smiles)
        r = compute(make_spec("md_aggregation", [m], level="classical", method=method), raise_error=True)
        return r.values["type_ii_linear_per_molecule"], r.values["type_ii_linear_per_molecule_std"]

    iodo_ep, sd_ep = type_ii("Ic1ccc(I)cc1", "GAFF2-EP")
    iodo_plain, sd_plain = type_ii("Ic1ccc(I)cc1", "GAFF2/AM1-BCC")
    chloro_ep, sd_cl = type_ii("Clc1ccc(Cl)cc1", "GAFF2-EP")
    se = lambda *sd: float(np.sqrt(sum(x * x for x in sd) / 6))  # noqa: E731  standard error of a difference
    assert iodo_ep - iodo_plain > 2 * se(sd_ep, sd_plain)
    assert iodo_ep - chloro_ep > 2 * se(sd_ep, sd_cl)
