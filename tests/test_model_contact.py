"""The tier-4 check of the decisive halogen contact (agent.model_contact, chem.contact_models): what the
model keeps, which model and level the cost model picks, the evidence rows and the conclusion's sentence
from fixed numbers, and a resumed run that picks up the finished check and updates the conclusion."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tierchem.agent import model_contact as mc
from tierchem.agent.evidence import make_evidence
from tierchem.agent.state import (Hypothesis, InvestigationView, ObservableUse, ResultRef, Series,
                                  SeriesMember, ValueRef)
from tierchem.chem.contact_models import contact_halogens, contact_model, methyl_halide_model
from tierchem.chem.dimers import contact_angles, type_ii_halogen_contact
from tierchem.chem.errors import MoleculeError
from tierchem.chem.molecule import Molecule

DIIODO, DIBROMO, DICHLORO = "1,4-diiodobenzene", "1,4-dibromobenzene", "1,4-dichlorobenzene"


@pytest.fixture(scope="module")
def diiodo_dimer():
    m = Molecule.from_smiles("Ic1ccc(I)cc1", name=DIIODO)
    return type_ii_halogen_contact(m, m)


# ------------------------------------------------------------------ the model builder
@pytest.mark.parametrize("kind, formula, n_atoms", [("ring", "C6H5I", 12), ("methyl", "CH3I", 5)])
def test_the_model_keeps_the_contact_as_it_was(diiodo_dimer, kind, formula, n_atoms):
    a, b = diiodo_dimer
    i, j, d = contact_halogens(a, b)
    ma, mb = contact_model(a, b, kind)
    assert ma.formula == mb.formula == formula and ma.n_atoms == mb.n_atoms == n_atoms
    i2, j2, d2 = contact_halogens(ma, mb)
    assert d2 == pytest.approx(d, abs=1e-4)
    # the contact halogens and their carbons stay where they were: same distance, same type II angles
    assert np.allclose(ma.coords[i2], a.coords[i], atol=1e-4) and np.allclose(mb.coords[j2], b.coords[j], atol=1e-4)
    assert contact_angles(ma, mb, i2, j2) == pytest.approx(contact_angles(a, b, i, j), abs=0.01)
    assert ma.smiles == ("Ic1ccccc1" if kind == "ring" else "CI")


def test_the_ring_model_caps_the_far_halogen_with_h(diiodo_dimer):
    a, _ = diiodo_dimer
    i, _, _ = contact_halogens(*diiodo_dimer)
    ring, _ = contact_model(*diiodo_dimer, "ring")
    far = next(k for k, s in enumerate(a.symbols) if s == "I" and k != i)
    ring_c = a.neighbours()[far][0]
    cap = min(range(ring.n_atoms), key=lambda k: np.linalg.norm(ring.coords[k] - a.coords[far]))
    assert ring.symbols[cap] == "H"
    assert np.linalg.norm(ring.coords[cap] - a.coords[ring_c]) == pytest.approx(1.09, abs=1e-3)
    # the ring itself is untouched
    kept = [k for k, s in enumerate(a.symbols) if s == "C"]
    assert sorted(map(tuple, np.round(ring.coords[[k for k, s in enumerate(ring.symbols) if s == "C"]], 3))) == \
        sorted(map(tuple, np.round(a.coords[kept], 3)))


def test_the_methyl_model_is_tetrahedral_about_the_kept_c_x_bond():
    m = Molecule.from_smiles("Brc1ccc(Br)cc1", name=DIBROMO)
    me = methyl_halide_model(m)
    c, x, hs = me.coords[0], me.coords[1], me.coords[2:]
    assert me.symbols[:2] == ("C", "Br")
    assert np.linalg.norm(x - c) == pytest.approx(np.linalg.norm(m.coords[0] - m.coords[m.neighbours()[0][0]]),
                                                  abs=1e-4)
    for h in hs:
        assert np.linalg.norm(h - c) == pytest.approx(1.09, abs=1e-4)
        cos = np.dot(h - c, x - c) / np.linalg.norm(h - c) / np.linalg.norm(x - c)
        assert np.degrees(np.arccos(cos)) == pytest.approx(109.47, abs=0.01)


def test_no_halogen_no_model():
    benzene = Molecule.from_smiles("c1ccccc1", name="benzene")
    with pytest.raises(MoleculeError, match="no C-bound"):
        contact_model(benzene, benzene, "methyl")


# ------------------------------------------------------------------ the choice (cost model; no calculation)
def test_the_cost_model_picks_the_largest_model_and_level_that_fit(diiodo_dimer):
    pytest.importorskip("pyscf")
    from tierchem.agent.observables import estimate_seconds

    full = {DIIODO: diiodo_dimer}
    choice, passed = mc.choose(full, mc.ContactModelMaker(max_estimate_s=1e12))
    assert (choice.kind, choice.level) == ("ring", mc.FOCAL_POINT) and not passed
    # C6H5I···IC6H5 at CCSD(T) is days on 2 cores (~1.4e5 s by the cost model): the default takes the methyl model
    choice, passed = mc.choose(full)
    assert choice.kind == "methyl" and choice.estimate_s <= mc.MAKER.max_estimate_s
    assert [p.split(" on the ")[1] for p in passed[:2]] == ["halogen with its ring model (~%.0f s estimated for the "
                                                            "target alone)" % estimate_seconds(mc.tier4_spec(
                                                                contact_model(*diiodo_dimer, "ring"), lvl))
                                                            for lvl in mc.MAKER.levels]
    none, passed = mc.choose(full, mc.ContactModelMaker(max_estimate_s=1.0))
    assert none is None and len(passed) == 4
    # rigour before the analog: a limit the focal point fits for the target alone, not for the pair
    methyl = contact_model(*diiodo_dimer, "methyl")
    limit = estimate_seconds(mc.tier4_spec(methyl, mc.FOCAL_POINT)) + 1.0
    br = Molecule.from_smiles("Brc1ccc(Br)cc1", name=DIBROMO)
    both, passed = mc.choose({**full, DIBROMO: type_ii_halogen_contact(br, br)},
                             mc.ContactModelMaker(max_estimate_s=limit))
    assert (both.kind, both.level, list(both.dimers)) == ("methyl", mc.FOCAL_POINT, [DIIODO])
    assert passed[-1].startswith(f"{mc.FOCAL_POINT.name} on the methyl halide models of {DIIODO} and {DIBROMO}")


# ------------------------------------------------------------------ when (fixed evidence)
def _view(statuses: dict[str, str], contact_tier: int = 3) -> InvestigationView:
    members = [SeriesMember(name=n, smiles=s, role=r, molecule=Molecule.from_smiles(s, name=n).model_dump())
               for n, s, r in [(DIIODO, "Ic1ccc(I)cc1", "target"), (DIBROMO, "Brc1ccc(Br)cc1", "analog")]]
    hyps = [Hypothesis(id="halogen_bond", category="halogen_bond", statement="sigma hole", status=statuses["root"],
                       observables=[ObservableUse(observable="sigma_hole", direction="higher")]),
            Hypothesis(id="halogen_bond.type_ii_contact", category="halogen_bond", statement="type II",
                       kind="mechanism", mechanism_of="halogen_bond", status=statuses["mech"],
                       observables=[ObservableUse(observable="ie_type_ii_halogen", direction="lower")])]
    ev = make_evidence("ie_type_ii_halogen", contact_tier, "kcal/mol", "lower", ValueRef(molecule=DIIODO, value=-3.1),
                       [ValueRef(molecule=DIBROMO, value=-2.0)], 0.25, True, "B3LYP-D3(BJ)/def2-SVP CP")
    return InvestigationView(question="q", series=Series(source="x", members=members), hypotheses=hyps, evidence=[ev])


def test_the_check_waits_for_the_dft_verdict_on_the_contact():
    assert mc.decisive_contact(_view({"root": "root-cause", "mech": "mechanism-of"})).id == "ie_type_ii_halogen@t3"
    assert mc.decisive_contact(_view({"root": "root-cause", "mech": "mechanism-of"}, contact_tier=2)) is None
    assert mc.decisive_contact(_view({"root": "supported", "mech": "mechanism-of"})) is None
    assert mc.decisive_contact(_view({"root": "root-cause", "mech": "rejected"})) is None
    assert mc.nearest_analog(_view({"root": "root-cause", "mech": "mechanism-of"}).evidence[0]) == DIBROMO


# ------------------------------------------------------------------ the row and the sentence (fixed numbers)
def test_the_sentence_from_fixed_numbers():
    s = mc.comparison_sentence("type II", "CH3I···ICH3", DIIODO, mc.FOCAL_POINT, -2.31, "B3LYP-D3BJ/def2-SVP (CP)",
                               -2.44, 0.5, (DIBROMO, -1.52, -1.70))
    assert s.startswith("Tier-4 check of the type II contact: focal-point CCSD(T)/CBS")
    assert "CH3I···ICH3 model of 1,4-diiodobenzene gives -2.31 kcal/mol vs B3LYP-D3BJ/def2-SVP (CP) -2.44" in s
    assert "DFT is within 0.13 kcal/mol, inside the stated uncertainty of 0.65" in s
    assert "1,4-dibromobenzene's model: -1.52 vs -1.70" in s and "in doubt" not in s
    far = mc.comparison_sentence("type II", "CH3I···ICH3", DIIODO, mc.FOCAL_POINT, -1.60, "B3LYP", -2.44, 0.5)
    assert "within 0.84 kcal/mol, outside the stated uncertainty of 0.65" in far
    assert far.endswith("the DFT contact energy behind the mechanism is in doubt.")
    small = mc.comparison_sentence("type II", "CH3I···ICH3", DIIODO, mc.SMALL_BASIS, 0.49, "B3LYP", -2.37, 0.5)
    assert "outside the stated uncertainty of 1.39" in small and "in doubt" not in small
    assert "a consistency check, not a better number" in small  # CCSD(T)/def2-SVP is no better than DFT-D there


class _Store:
    """Results by key: the fixed numbers of the rows test."""

    def __init__(self, results):
        self.results = {r.cache_key: r for r in results}

    def get(self, key):
        return self.results.get(key)


def _result(key: str, spec, value: float):
    from tierchem.tiers.spec import CalcResult

    return CalcResult(spec=spec, cache_key=key, success=True, values={"interaction_energy_kcal_mol": value})


def test_rows_and_conclusion_from_fixed_numbers(diiodo_dimer):
    from tierchem.agent import conclusion as concl
    from tierchem.agent.observables import specs_for

    v = _view({"root": "root-cause", "mech": "mechanism-of"})
    model = contact_model(*diiodo_dimer, "methyl")
    dft = specs_for("ie_type_ii_halogen", v.series.target.mol(), 3)[0]
    specs = {4: mc.tier4_spec(model, mc.FOCAL_POINT), 3: mc.same_level(dft, model)}
    name = mc.model_name(DIIODO, model, "type II")
    assert name == "1,4-diiodobenzene [CH3I···ICH3 type II model]" and mc.parse_model_name(name)[0] == DIIODO
    store = _Store([_result("k4", specs[4], -2.31), _result("k3", specs[3], -2.44)])
    v.results = [ResultRef(id=f"r{t}", observable=mc.MODEL_OBSERVABLE, tier=t, molecule=name, success=True,
                           cache_key=f"k{t}") for t in (4, 3)]
    rows = mc.model_rows(v, store)
    assert [(e.id, e.target.value, e.target.cache_keys) for e in rows] == [
        ("halogen_contact_model@t4", -2.31, ["k4"]), ("halogen_contact_model@t3", -2.44, ["k3"])]
    assert rows[0].adequate and rows[0].sigma == pytest.approx(0.075)
    assert "inside the stated uncertainty of 0.65" in rows[0].summary  # DFT's X40-based sigma 0.25 -> MAE 0.5
    v.evidence += rows
    c = concl.build(v)
    assert c.summary.endswith(rows[0].summary) and c.changes == [f"New at tier 4: {rows[0].summary}"]
    v.conclusion = c
    assert concl.build(v).changes == []  # said once


# ------------------------------------------------------------------ a resumed run picks it up
# The stand-in: the check keyed to the tier-2 (xTB) contact verdict and run with MP2/def2-SVP on the
# methyl model, through the same launch, background, pickup, rows and conclusion as the demo's
# focal-point CCSD(T) after DFT (which take minutes).
STAND_IN = mc.ContactModelMaker(verdict_tier=2, kinds=("methyl",), levels=(
    mc.CorrelatedLevel("MP2/def2-SVP (CP)", "MP2", "def2-SVP", {}, 1.97, "DF-MP2/def2-SVP CP S22 MAE 1.97 (DESIGN.md)",
                       adequate=False),))


def _tier2_contact(v, maker):
    """The stand-in's trigger: the tier-2 type II contact evidence (at tier cap 2 no root cause is settled)."""
    return next((e for e in v.evidence if e.observable == "ie_type_ii_halogen" and e.tier == maker.verdict_tier
                 and e.target.value is not None), None)


@pytest.mark.slow
def test_a_resumed_run_picks_up_the_finished_check(tmp_path, monkeypatch):
    from concurrent.futures import Future

    from tierchem.agent.background import BackgroundQueue
    from tierchem.agent.session import Investigation
    from tierchem.tiers.compute import compute
    from tierchem.tiers.store import ResultStore

    monkeypatch.setattr(mc, "MAKER", STAND_IN)
    monkeypatch.setattr(mc, "decisive_contact", _tier2_contact)
    held = []

    def hold(queue, key, spec):  # nothing runs in the first process: it ends with the check pending
        held.append(spec)
        queue.futures[key] = Future()
        return queue.futures[key]

    series = tmp_path / "s"
    series.mkdir()
    (series / "series.csv").write_text(f'name,smiles,role\n"{DIIODO}",Ic1ccc(I)cc1,target\n'
                                       f'"{DIBROMO}",Brc1ccc(Br)cc1,analog\n')
    run, store = tmp_path / "run", tmp_path / "store.sqlite"
    with monkeypatch.context() as m:
        m.setattr(BackgroundQueue, "submit", hold)
        with Investigation.create(series, "q", run, tier_cap=2, store_path=store, wait_background=False) as inv:
            v = inv.run()
    pending = [p for p in v.pending if p.observable == mc.MODEL_OBSERVABLE]
    assert sorted((p.tier, p.molecule) for p in pending) == [
        (2, "1,4-dibromobenzene [CH3Br···BrCH3 type II model]"), (2, "1,4-diiodobenzene [CH3I···ICH3 type II model]"),
        (4, "1,4-dibromobenzene [CH3Br···BrCH3 type II model]"), (4, "1,4-diiodobenzene [CH3I···ICH3 type II model]")]
    assert v.conclusion.provisional and "Tier-4 check" not in v.conclusion.summary
    assert any("one rung up" in t.text and "MP2/def2-SVP (CP) on the CH3I···ICH3 model" in t.text for t in v.transcript)
    assert len(held) == 4

    results = [compute(spec, store=ResultStore(store)) for spec in held]  # the background worker's part, finished
    assert all(r.success for r in results), [r.error for r in results if not r.success]
    with Investigation.open(run, wait_background=False) as inv:
        v = inv.run()
    assert not [p for p in v.pending if p.observable == mc.MODEL_OBSERVABLE] and not v.conclusion.provisional
    row = next(e for e in v.evidence if e.id == "halogen_contact_model@t4")
    e4 = next(r for r in results if r.spec.tier == 4 and r.spec.molecules[0].symbols[1] == "I")
    e2 = next(r for r in results if r.spec.tier == 2 and r.spec.molecules[0].symbols[1] == "I")
    assert row.target.value == pytest.approx(e4.values["interaction_energy_kcal_mol"])
    assert [a.molecule for a in row.analogs] == [DIBROMO]
    assert f"gives {e4.values['interaction_energy_kcal_mol']:.2f} kcal/mol vs GFN2-xTB " \
           f"{e2.values['interaction_energy_kcal_mol']:.2f} at the same geometry" in v.conclusion.summary
    assert any(c.startswith("New at tier 4: Tier-4 check of the type II contact") for c in v.conclusion.changes)
    on_disk = json.loads((run / "conclusion.json").read_text())
    assert "Tier-4 check" in json.dumps(on_disk)
    assert "halogen_contact_model" in (run / "report.md").read_text()


def test_a_failed_check_is_said_not_hidden(diiodo_dimer):
    from tierchem.agent.observables import specs_for
    from tierchem.tiers.errors import ErrorKind
    from tierchem.tiers.spec import CalcFailure, CalcResult

    v = _view({"root": "root-cause", "mech": "mechanism-of"})
    model = contact_model(*diiodo_dimer, "methyl")
    spec4 = mc.tier4_spec(model, mc.FOCAL_POINT)
    spec3 = mc.same_level(specs_for("ie_type_ii_halogen", v.series.target.mol(), 3)[0], model)
    failed = CalcResult(spec=spec4, cache_key="k4", success=False,
                        error=CalcFailure(kind=ErrorKind.RESOURCE, message="needs ~9 GB of memory"))
    store = _Store([failed, _result("k3", spec3, -2.37)])
    name = mc.model_name(DIIODO, model, "type II")
    v.results = [ResultRef(id=f"r{t}", observable=mc.MODEL_OBSERVABLE, tier=t, molecule=name, success=t == 3,
                           cache_key=f"k{t}") for t in (4, 3)]
    rows = mc.model_rows(v, store)
    assert rows[0].target.status == "failed" and rows[0].verdict == "not_computed"
    assert rows[0].summary == ("Tier-4 check of the type II contact: no comparison, the tier-4 model calculation for "
                               "1,4-diiodobenzene gave no number (failed: resource: needs ~9 GB of memory).")


def test_a_disagreeing_check_reopens_the_verdict(diiodo_dimer):
    """A focal-point number 0.84 kcal/mol from DFT's (outside the 0.65 of the two MAEs) puts the verdict's
    contact energy in doubt: the conclusion is no longer "high" and says why; inside it, nothing changes."""
    from tierchem.agent import conclusion as concl
    from tierchem.agent.observables import specs_for

    v = _view({"root": "root-cause", "mech": "mechanism-of"})
    v.hypotheses[0].confidence = 0.9  # a verdict at "high": the sigma hole at tier 3, and the contact agreeing
    v.evidence.append(make_evidence("sigma_hole", 3, "kcal/mol", "higher", ValueRef(molecule=DIIODO, value=28.5),
                                    [ValueRef(molecule=DIBROMO, value=19.0)], 1.0, True, "B3LYP/def2-SVP ESP"))
    model = contact_model(*diiodo_dimer, "methyl")
    dft = specs_for("ie_type_ii_halogen", v.series.target.mol(), 3)[0]
    specs = {4: mc.tier4_spec(model, mc.FOCAL_POINT), 3: mc.same_level(dft, model)}
    name = mc.model_name(DIIODO, model, "type II")
    v.results = [ResultRef(id=f"r{t}", observable=mc.MODEL_OBSERVABLE, tier=t, molecule=name, success=True,
                           cache_key=f"k{t}") for t in (4, 3)]
    close, far = v.model_copy(deep=True), v.model_copy(deep=True)
    close.evidence += mc.model_rows(close, _Store([_result("k4", specs[4], -2.31), _result("k3", specs[3], -2.44)]))
    far.evidence += mc.model_rows(far, _Store([_result("k4", specs[4], -1.60), _result("k3", specs[3], -2.44)]))
    assert mc.doubt(close) == ""
    assert "disagrees with DFT (-1.60 vs -2.44 kcal/mol, beyond 0.65)" in mc.doubt(far)
    kept, reopened = concl.build(close), concl.build(far)
    assert kept.confidence == "high" and "reopened" not in kept.confidence_reason
    assert reopened.confidence == "medium" and "reopened: the tier-4 check" in reopened.confidence_reason
