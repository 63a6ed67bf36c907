"""Design of confirmatory molecules and observed crystal facts (agent.design, agent.crystal_facts).

Fast: the investigations run with tier caps of 0-2 (no DFT); the crystal facts come from
CIFs written here from molecules placed in P1 cells.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tierchem.agent import design_scoring as dsn
from tierchem.agent.crystal_facts import apply_checks, check, read_crystals
from tierchem.agent.planner import parse_command
from tierchem.agent.series import read_series
from tierchem.agent.session import Investigation
from tierchem.agent.state import Hypothesis


def write_series(path, rows, header=("name", "smiles", "role")):
    path.mkdir(parents=True, exist_ok=True)
    with (path / "series.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


# ------------------------------------------------------------------ arithmetic
def test_position_discrimination_and_rank():
    # target 20 stands out above analogs 12 and 6 (sigma 1.5): target-like near 1, analog-like near 0
    hi = dsn.position(22.0, 20.0, [12.0, 6.0], 1.5, "higher")
    lo = dsn.position(11.0, 20.0, [12.0, 6.0], 1.5, "higher")
    mid = dsn.position(16.0, 20.0, [12.0, 6.0], 1.5, "higher")
    assert hi > 0.8 and lo < 0.2 and abs(mid - 0.5) < 1e-9
    # "lower" is the mirror image (binding energies)
    assert dsn.position(-5.0, -4.0, [-2.0], 0.4, "lower") > 0.8
    # a hypothesis whose own numbers do not separate the target predicts nothing (s ~ 0.5)
    assert abs(dsn.position(30.0, 10.0, [10.1], 1.0, "higher") - 0.5) < 0.05
    # all hypotheses agree -> discrimination 0, whatever they agree on
    same = [dsn.position(20.0, 20.0, [12.0], 1.5, "higher"), dsn.position(-4.0, -4.0, [-2.0], 0.4, "lower")]
    assert dsn.discrimination([same[0]] * 3) == 0.0
    assert dsn.discrimination([0.9]) == 0.0
    assert dsn.discrimination([hi, lo]) > 0.6
    # rank: accessibility and size lower it, never raise it above D
    assert dsn.rank_score(0.8, 1.0, 8, 8) == pytest.approx(0.8)
    assert dsn.rank_score(0.8, 10.0, 8, 8) == pytest.approx(0.4)
    assert dsn.rank_score(0.8, 1.0, 18, 8) == pytest.approx(0.4)
    assert dsn.rank_score(0.8, 1.0, 8, 8, coverage=0.5) == pytest.approx(0.4)


def test_design_commands():
    a = parse_command("no iodine").actions[0]
    assert a.kind == "exclude" and a.elements == ["I"]
    assert parse_command("exclude Br chlorine").actions[0].elements == ["Br", "Cl"]
    assert parse_command("allow I").actions[0].kind == "allow"
    assert parse_command("more candidates 7").actions[0].count == 7
    assert parse_command("candidates 3").actions[0].count == 3
    b = parse_command("design budget 300").actions[0]
    assert b.kind == "design_budget" and b.seconds == 300
    assert parse_command("exclude Xq").actions == []          # not an element: stated, nothing done
    assert parse_command("more candidates lots").actions == []
    assert "more candidates" in parse_command("help").reasoning


# ------------------------------------------------------------------ a whole design pass (tier cap 2: no DFT)
@pytest.fixture(scope="module")
def designed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("design")
    series = write_series(tmp / "s", [("4-iodobenzoic acid", "OC(=O)c1ccc(I)cc1", "target"),
                                      ("4-iodotoluene", "Cc1ccc(I)cc1", "analog"),
                                      ("4-iodoanisole", "COc1ccc(I)cc1", "analog")])
    run = tmp / "run"
    inv = Investigation.create(series, "Why does 4-iodobenzoic acid pack differently?", run, tier_cap=2,
                               store_path=tmp / "store.sqlite", background=False)
    inv.run()
    first = {"view": inv.state, "json": json.loads((run / "conclusion.json").read_text()),
             "md": (run / "report.md").read_text()}
    inv.ask("no iodine")
    inv.ask("more candidates 4")
    inv.run()
    second = {"view": inv.state, "json": json.loads((run / "conclusion.json").read_text())}
    inv.close()
    return first, second


def test_candidates_ranked_with_predictions(designed):
    first, _ = designed
    v, cj = first["view"], first["json"]
    assert cj["root_cause"]["category"] == "hbond_motif"
    roles = {h.role for h in v.design.hypotheses}
    assert {"root-cause", "alternative"} <= roles  # the strongest rejected alternative is scored too
    props = cj["proposals"]
    assert len(props) >= 3
    for p in props:
        for key in ("smiles", "name", "transformation", "discrimination", "sa_score", "rank_score", "experiment",
                    "predictions", "evidence_refs"):
            assert key in p
        assert set(p["predictions"]) == {h.id for h in v.design.hypotheses}
        assert "grow single crystals" in p["experiment"]
        got = [s for s in p["positions"].values() if s is not None]
        assert p["discrimination"] == pytest.approx(max(got) - min(got), abs=2e-3)
    scores = [p["rank_score"] for p in props]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    # blocking the donor separates an H-bond explanation from the rest: it must be among the candidates
    assert any(p.transformation == "block_donor" for p in v.proposals)
    assert "## Confirmatory molecules" in first["md"] and props[0]["name"] in first["md"]


def test_exclusion_and_more_candidates(designed):
    _, second = designed
    v, cj = second["view"], second["json"]
    assert v.design.exclude == ["I"] and v.design.n_candidates == 4
    assert 1 <= len(cj["proposals"]) <= 4
    assert not any("I" in p["smiles"].replace("In", "") for p in cj["proposals"])
    from rdkit import Chem

    for p in cj["proposals"]:
        assert all(a.GetSymbol() != "I" for a in Chem.MolFromSmiles(p["smiles"]).GetAtoms())


# ------------------------------------------------------------------ crystal facts
def _cif(path, molecules, cell=18.0):
    from ase import Atoms
    from ase.io import write

    symbols = [s for m in molecules for s in m.symbols]
    xyz = np.vstack([m.coords for m in molecules])
    xyz = xyz - xyz.mean(axis=0) + cell / 2
    write(str(path), Atoms(symbols, positions=xyz, cell=[cell] * 3, pbc=True), format="cif")
    return path.name


@pytest.fixture(scope="module")
def crystal_series(tmp_path_factory):
    """Target 1,4-diiodobenzene with a type II I···I pair in its cell; analog 1,4-dibromobenzene alone in its cell;
    a third member with a corrupt CIF."""
    from tierchem.chem import Molecule
    from tierchem.chem.dimers import type_ii_halogen_contact

    d = tmp_path_factory.mktemp("cif")
    i2 = Molecule.from_smiles("Ic1ccc(I)cc1", name="t")
    br2 = Molecule.from_smiles("Brc1ccc(Br)cc1", name="a")
    t = _cif(d / "target.cif", list(type_ii_halogen_contact(i2, i2)))
    a = _cif(d / "analog.cif", [br2])
    (d / "broken.cif").write_text("data_broken\n_cell_length_a 7.0\n_cell_length_b 7.1\nloop_\n_atom_site_label\n")
    write_series(d, [("1,4-diiodobenzene", "Ic1ccc(I)cc1", "target", t),
                     ("1,4-dibromobenzene", "Brc1ccc(Br)cc1", "analog", a),
                     ("1,4-dichlorobenzene", "Clc1ccc(Cl)cc1", "analog", "broken.cif")],
                 header=("name", "smiles", "role", "cif"))
    return d


@pytest.mark.slow  # ~90 s on 2 cores; the crystal facts in an investigation stay in make test (test_crystal_evidence)
def test_crystal_facts_and_consistency(crystal_series):
    series = read_series(crystal_series)
    c = read_crystals(series)
    assert c.target_read
    assert any("type II X···X" in f and "1,4-diiodobenzene" in f for f in c.facts)
    assert any("1,4-dichlorobenzene" in w and "broken.cif" in w for w in c.warnings)  # corrupt: a warning
    assert set(c.crystals) == {"1,4-diiodobenzene", "1,4-dibromobenzene"}

    def h(hid, category, kind="cause"):
        return Hypothesis(id=hid, category=category, statement="x", kind=kind,
                          mechanism_of="halogen_bond" if kind == "mechanism" else None)

    assert check(h("halogen_bond", "halogen_bond"), c).status == "consistent"
    assert check(h("halogen_bond.type_ii_contact", "halogen_bond", "mechanism"), c).status == "consistent"
    assert check(h("halogen_bond.type_i_contact", "halogen_bond", "mechanism"), c).status == "inconsistent"
    assert check(h("pi_stacking_quadrupole", "pi_stacking_quadrupole"), c).status == "inconsistent"
    assert check(h("dipole_antiparallel", "dipole_antiparallel"), c).status == "not_applicable"
    assert check(h("halogen_bond", "halogen_bond"), None).status == "not_applicable"
    # an inconsistent hypothesis loses confidence, with the reason, once
    hyp = h("halogen_bond.type_i_contact", "halogen_bond", "mechanism")
    hyp.status, hyp.confidence, hyp.reason = "mechanism-of", 0.8, "gains most"
    apply_checks([hyp], c)
    assert hyp.confidence == pytest.approx(0.4) and "inconsistent with the observed crystal" in hyp.reason
    apply_checks([hyp], c)
    assert hyp.confidence == pytest.approx(0.4)


def test_crystal_without_halogen_contacts_makes_halogen_bonding_inconsistent(tmp_path):
    from tierchem.chem import Molecule

    i2 = Molecule.from_smiles("Ic1ccc(I)cc1", name="t")
    br2 = Molecule.from_smiles("Brc1ccc(Br)cc1", name="a")
    write_series(tmp_path, [("1,4-diiodobenzene", "Ic1ccc(I)cc1", "target", _cif(tmp_path / "t.cif", [i2])),
                            ("1,4-dibromobenzene", "Brc1ccc(Br)cc1", "analog", _cif(tmp_path / "a.cif", [br2]))],
                 header=("name", "smiles", "role", "cif"))
    c = read_crystals(read_series(tmp_path))
    ck = check(Hypothesis(id="halogen_bond", category="halogen_bond", statement="x"), c)
    assert ck.status == "inconsistent" and "none" in ck.reason


@pytest.mark.slow  # ~80 s on 2 cores; as above
def test_investigation_with_cifs_reports_facts(crystal_series, tmp_path):
    """The crystal path end to end (tier 0 only): facts in the state, checks in the report, the corrupt CIF
    recorded and the run finished."""
    run = tmp_path / "run"
    with Investigation.create(crystal_series, "q", run, tier_cap=0, store_path=tmp_path / "s.sqlite") as inv:
        v = inv.run()
    assert v.conclusion is not None and v.crystal.facts
    md = (run / "report.md").read_text()
    assert "## Observed crystal structures" in md and "Consistency of each hypothesis" in md
    assert "broken.cif" in md
    cj = json.loads((run / "conclusion.json").read_text())
    assert cj["crystal_facts"]["checks"]["halogen_bond"]["status"] == "consistent"
    assert any("Crystal fact" in t.text for t in v.transcript)


# ------------------------------------------------------------------ the best candidate's rigorous calculation
# Real calculations, kept cheap: tier 2 (GFN2-xTB contact energies) stands in for the expensive tier (CHEAP_TIER
# lowered to 1, so the tier-1 force-field energy is the cheap proxy) and "design budget 0" puts it over budget.
DIHALO = [("1,4-diiodobenzene", "Ic1ccc(I)cc1", "target"), ("1,4-dibromobenzene", "Brc1ccc(Br)cc1", "analog"),
          ("1,4-dichlorobenzene", "Clc1ccc(Cl)cc1", "analog")]
HB = "halogen_bond.type_ii_contact"


def _xtb_is_expensive(mp):
    mp.setattr(dsn, "CHEAP_TIER", 1)


def _dihalo_run(tmp, store, **kwargs) -> Investigation:
    inv = Investigation.create(write_series(tmp / "s", DIHALO), "q", tmp / "run", tier_cap=2, store_path=store,
                               **kwargs)
    inv.ask("design budget 0")
    inv.ask("candidates 3")
    return inv


def _copy_store(src, dst):
    import sqlite3

    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def _stored_energy(store_path, name, tier) -> float | None:
    """Candidate ``name``'s contact energy at ``tier`` as the store holds it (a real calculation), or None."""
    import sqlite3

    from tierchem.tiers.spec import CalcResult

    with sqlite3.connect(store_path) as db:
        rows = db.execute("SELECT result FROM results WHERE task = 'interaction_energy' AND tier = ?",
                          (tier,)).fetchall()
    hits = [r for r in (CalcResult.model_validate_json(x) for (x,) in rows) if r.spec.molecules[0].name == name]
    return hits[0].values["interaction_energy_kcal_mol"] if hits else None


def _launches(v) -> list[str]:
    return [t.text for t in v.transcript if t.text.startswith("Launched ")]


@pytest.fixture(scope="module")
def proxy_run(tmp_path_factory):
    """Background off: the best candidate's contact energy rests on the tier-1 proxy. Its store seeds the
    tests below (copied, so each starts without the tier-2 number)."""
    tmp = tmp_path_factory.mktemp("proxy")
    with pytest.MonkeyPatch.context() as mp:
        _xtb_is_expensive(mp)
        with _dihalo_run(tmp, tmp / "store.sqlite", background=False) as inv:
            v = inv.run()
    return v, tmp / "store.sqlite", (tmp / "run" / "report.md").read_text()


def test_no_launch_when_background_is_off(proxy_run):
    v, store, md = proxy_run
    top = v.proposals[0]
    assert top.basis_kind[HB] == "proxy" and "ie_type_ii_halogen@t2" not in top.values
    assert top.rigorous[HB].status == "not launched: background calculations are off"
    assert not v.pending and not _launches(v)
    assert any("Not launched on the best candidate" in n and "background calculations are off" in n
               for n in v.design.notes)
    assert _stored_energy(store, top.name, 2) is None  # nothing ran
    assert "background calculations are off" in md


def test_launch_for_the_best_candidate_and_use_it_in_process(proxy_run, tmp_path, monkeypatch):
    """wait_background: await_background picks the result up, the next design pass re-ranks on it; a rerun
    launches nothing more (the top candidate's number is in the store)."""
    _xtb_is_expensive(monkeypatch)
    base, seed, _ = proxy_run
    best = base.proposals[0]
    store = _copy_store(seed, tmp_path / "store.sqlite")
    with _dihalo_run(tmp_path, store) as inv:
        v = inv.run()
        assert _launches(v)[0] == (f"Launched ie_type_ii_halogen at tier 2 on the best candidate {best.name} in "
                                   "the background; the ranking will be updated when it finishes.")
        assert not v.pending and not v.conclusion.provisional
        p = next(q for q in v.proposals if q.name == best.name)
        assert p.basis_kind[HB] == "computed" and p.rigorous[HB].status == "computed"
        assert p.values["ie_type_ii_halogen@t2"] == pytest.approx(
            _stored_energy(store, best.name, 2), abs=1e-4)
        change = f"{best.name}: {HB} prediction now from ie_type_ii_halogen at tier 2 (was a proxy)."
        assert change in v.conclusion.changes and any(change in t.text for t in v.transcript)
        assert v.proposals[0].basis_kind[HB] == "computed"  # the top of the ranking ends on adequate numbers
        md = (tmp_path / "run" / "report.md").read_text()
        assert "computed in the background for the best candidate" in md and change in md
        n = len(_launches(v))
        inv.ask("candidates 3")
        v = inv.run()
    assert len(_launches(v)) == n and not v.pending


def test_launch_once_then_resume_from_the_store(proxy_run, tmp_path, monkeypatch):
    """Batch run without waiting: the launch is pending (the conclusion is not provisional for it) and the
    report says it is running; a second pass does not launch it again; `resume` finds it in the store (run
    by this process's background thread) and the ranking uses it."""
    _xtb_is_expensive(monkeypatch)
    base, seed, _ = proxy_run
    best = base.proposals[0]
    store = _copy_store(seed, tmp_path / "store.sqlite")
    from concurrent.futures import Future

    from tierchem.agent.background import BackgroundQueue

    held, submit = [], BackgroundQueue.submit

    def hold(queue, key, spec):  # keep the calculation back until both passes are done: the second sees it running
        held.append((queue, key, spec))
        fut = Future()
        queue.futures[key] = fut
        return fut

    with monkeypatch.context() as m, _dihalo_run(tmp_path, store, wait_background=False) as inv:
        m.setattr(BackgroundQueue, "submit", hold)
        v = inv.run()
        assert [(e.purpose, e.molecule, e.observable, e.tier) for e in v.pending] == \
            [("design", best.name, "ie_type_ii_halogen", 2)]
        assert not v.conclusion.provisional and not v.conclusion.pending
        top = v.proposals[0]
        assert top.name == best.name and top.basis_kind[HB] == "proxy"
        assert top.rigorous[HB].status == "running" and "running in the background" in top.predictions[HB]
        assert "running in the background" in (tmp_path / "run" / "report.md").read_text()
        inv.ask("candidates 3")
        v = inv.run()  # still running: not launched twice
        assert len(held) == 1 and len(_launches(v)) == 1 and len(v.pending) == 1
        assert v.proposals[0].rigorous[HB].status == "running"
        queue, key, spec = held[0]
        submit(queue, key, spec).result(timeout=120)  # the background thread runs it now; the result goes to the store
    with Investigation.open(tmp_path / "run", wait_background=False) as inv:
        v = inv.run()
    assert any("Picked up 1 finished background result" in t.text for t in v.transcript)
    p = next(q for q in v.proposals if q.name == best.name)
    assert p.basis_kind[HB] == "computed" and p.rigorous[HB].status == "computed"
    assert p.values["ie_type_ii_halogen@t2"] == pytest.approx(
        _stored_energy(store, best.name, 2), abs=1e-4)
    assert f"{best.name}: {HB} prediction now from ie_type_ii_halogen at tier 2 (was a proxy)." in \
        v.design.notes


def test_launch_decisions():
    """Which of the best candidate's deferred calculations go to the background (no calculation runs here)."""
    from types import SimpleNamespace

    from tierchem.agent.candidates import Candidate, Job, plan_launch
    from tierchem.agent.observables import specs_for
    from tierchem.agent.state import Budget, InvestigationView, PendingCalc, PlannedCalc, ResultRef
    from tierchem.chem import Molecule

    mol = Molecule.from_smiles("Fc1ccc(I)cc1", name="1-fluoro-4-iodobenzene")
    spec = specs_for("ie_type_ii_halogen", mol, 2)[0]
    rid = "ie_type_ii_halogen@t2:1-fluoro-4-iodobenzene"

    def launch(background=True, **view):
        c = Candidate(SimpleNamespace(name=mol.name), mol)
        c.deferred = [Job(c, "ie_type_ii_halogen@t2", "ie_type_ii_halogen", spec)]
        notes = []
        out = plan_launch(c, InvestigationView(**view), background, notes)
        return out, c.rigorous.get("ie_type_ii_halogen@t2"), notes

    out, status, notes = launch()
    assert [(p.molecule, p.observable, p.tier, p.background) for p in out] == \
        [(mol.name, "ie_type_ii_halogen", 2, True)] and status == "running" and not notes
    assert out[0].ref_id == rid
    out, status, notes = launch(background=False)
    assert not out and status == "not launched: background calculations are off" and "are off" in notes[0]
    out, status, _ = launch(budget=Budget(cpu_s_limit=0.01))
    assert not out and status.startswith("not launched: their estimate")
    from tierchem.tiers.harness import installed_cache_key

    other = PlannedCalc(spec=spec.model_dump(mode="json"), observable="ie_type_ii_halogen", tier=2,
                        molecule="another name", estimate_s=1.0)
    out, status, _ = launch(pending=[PendingCalc.of(other, installed_cache_key(spec))])
    assert not out and status == "running"  # already running under the same cache key
    failed = ResultRef(id=rid, observable="ie_type_ii_halogen", tier=2, molecule=mol.name, success=False,
                       error="random: SCF crashed")
    out, status, _ = launch(results=[failed])
    assert not out and status == "failed"   # ran and left nothing in the store: not relaunched
