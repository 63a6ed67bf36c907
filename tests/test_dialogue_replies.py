"""Replies after the numbers come in: a requested calculation reported back against its request, the agent
owning its own verdicts that later evidence overturned (chat and conclusion), and an LLM-driven run replayed
offline from its record to the same conclusion and transcript."""

from __future__ import annotations

import re

import pytest

from tierchem.agent import conclusion as concl
from tierchem.agent.evidence import judge, make_evidence
from tierchem.agent.replies import owned_reversals, report_back
from tierchem.agent.state import (Action, Budget, Hypothesis, InvestigationView, ObservableUse, PendingCalc, Request,
                                  Series, SeriesMember, ValueRef)
from tierchem.chem import Molecule

SERIES = [("1,4-diiodobenzene", "Ic1ccc(I)cc1", "target"), ("1,4-dibromobenzene", "Brc1ccc(Br)cc1", "analog"),
          ("1,4-dichlorobenzene", "Clc1ccc(Cl)cc1", "analog")]


@pytest.fixture(scope="module")
def members() -> list[SeriesMember]:
    out = []
    for name, smi, role in SERIES:
        m = Molecule.from_smiles(smi, name=name)
        out.append(SeriesMember(name=name, smiles=smi, role=role, molecule=m.model_dump(mode="json")))
    return out


def ev(obs, tier, unit, direction, t, an, sigma):
    names = [n for n, _, _ in SERIES]
    return make_evidence(obs, tier, unit, direction, ValueRef(molecule=names[0], value=t),
                         [ValueRef(molecule=n, value=x) for n, x in zip(names[1:], an)], sigma, True, "")


def test_a_requested_calculation_is_reported_back_against_its_request(members):
    dipole = Hypothesis(id="dipole_antiparallel", category="dipole_antiparallel", status="rejected",
                        statement="A molecular dipole drives antiparallel packing.",
                        observables=[ObservableUse(observable="dipole", direction="higher")])
    req = Request(id="r1", seq=1, text="check the dipole at DFT please", status="done")
    asked = [Action(kind="compute", observable="dipole", tier=3, request_id="r1")]
    v = InvestigationView(series=Series(source="x", members=members), hypotheses=[dipole], requests=[req],
                          evidence=[ev("dipole", 3, "D", "higher", 1.2e-6, [0.0, 3e-7], 0.15)])
    running = v.model_copy(update={"pending": [PendingCalc(spec={}, observable="dipole", tier=3, molecule="*",
                                                           estimate_s=1, id="p")]})
    assert report_back(asked, running) == ([], asked)  # still running: nothing to report yet
    lines, waiting = report_back(asked, v)
    assert not waiting and len(lines) == 1
    line = lines[0]
    assert line.startswith("You asked for dipole at DFT (“check the dipole at DFT please”): at DFT the three "
                           "dipole values are 0.00 (1,4-diiodobenzene), 0.00 (1,4-dibromobenzene) and 0.00")
    assert "e-0" not in line and "does not stand apart" in line and "dipole_antiparallel" in line
    assert "is ruled out" in line


def _overturn_views(members):
    """A halogen-bond hypothesis rejected on an xTB contact energy, then the DFT number that overturns it."""
    h = Hypothesis(id="halogen_bond", category="halogen_bond", statement="Halogen bonds through the sigma hole.",
                   observables=[ObservableUse(observable="ie_type_ii_halogen", direction="lower")])
    xtb = [ev("ie_type_ii_halogen", 2, "kcal/mol", "lower", -2.0, [-1.9, -1.8], 0.43)]
    dft = xtb + [ev("ie_type_ii_halogen", 3, "kcal/mol", "lower", -4.0, [-1.6, -1.2], 0.2)]
    base = InvestigationView(question="q", series=Series(source="x", members=members), budget=Budget(tier_cap=3))
    before = base.model_copy(update={"hypotheses": judge([h], xtb), "evidence": xtb})
    return before, base.model_copy(update={"hypotheses": judge(before.hypotheses, dft), "evidence": dft})


def test_own_verdicts_overturned_in_the_chat_and_the_conclusion(members):
    before, after = _overturn_views(members)
    assert before.hypothesis("halogen_bond").status == "rejected"
    assert after.hypothesis("halogen_bond").status == "root-cause"
    lines = owned_reversals(before.hypotheses, after.hypotheses, before.evidence, after.evidence)
    assert len(lines) == 1
    assert lines[0].startswith("I had rejected halogen_bond at tier 2 (z = ")
    assert "the DFT number overturns that: ie_type_ii_halogen at tier 3" in lines[0]
    assert lines[0].endswith("halogen_bond is now the root cause.")
    old = concl.build(before)
    new = concl.build(after.model_copy(update={"conclusion": old}))
    owned = [c for c in new.changes if c.startswith("I had rejected halogen_bond")]
    assert owned and "later evidence overturns that: it is now the root cause" in owned[0]
    # the scientist's own rejection is not the agent's to own
    pinned = [x.model_copy(update={"pinned": True}) for x in before.hypotheses]
    assert owned_reversals(pinned, after.hypotheses, before.evidence, after.evidence) == []


def test_report_back_on_a_small_investigation(tmp_path):
    from tierchem.agent.session import Investigation

    csv_file = tmp_path / "series.csv"
    csv_file.write_text("name,smiles,role\n" + "".join(f'"{n}",{s},{r}\n' for n, s, r in SERIES[:2]))
    with Investigation.create(csv_file, "Why?", tmp_path / "run", tier_cap=0, background=False,
                              store_path=tmp_path / "store.sqlite") as inv:
        inv.run(until="steer")
        for message in ("at most 0 minutes on the design, please", "please compute the molecular volume with rdkit"):
            inv.ask(message)
        v = inv.run()
    texts = [t.text for t in v.transcript]
    k = next(i for i, t in enumerate(texts) if t.startswith("You asked for molecular_volume at MMFF (RDKit)"))
    assert "the two molecular_volume values are" in texts[k] and "(1,4-diiodobenzene)" in texts[k]
    assert any(t.startswith("Evidence:") and "molecular_volume at tier 0" in t for t in texts[:k])
    assert sum(t.startswith("You asked for molecular_volume") for t in texts) == 1  # once, not at every step
    assert v.asked == []


def _normalised(transcript) -> list[tuple[str, str]]:
    """Transcript lines with wall-clock figures masked (a replay takes its numbers from the store)."""
    def mask(text):
        text = re.sub(r"\(\d+ from the store\)", "(N from the store)", text)
        return re.sub(r"\d+(\.\d+)? s\b", "N s", text)
    return [(t.speaker, mask(t.text)) for t in transcript]


def test_an_llm_run_replays_offline_to_the_same_conclusion(tmp_path, monkeypatch):
    from test_agent_llm import PLAN, PROPOSALS, ScriptedToolModel, write_series

    from tierchem.agent.report import conclusion_json
    from tierchem.agent.session import Investigation, replay

    monkeypatch.delenv("TIERCHEM_LLM", raising=False)
    interpret = {"reasoning": "They doubt the shape story and want the volumes.", "actions": [
        {"kind": "pushback", "hypothesis_id": "shape_sterics", "text": "iodine is just bigger?"},
        {"kind": "compute", "observable": "molecular_volume", "tier": 0}]}
    model = ScriptedToolModel(replies=[PROPOSALS, "garbage", interpret, PLAN])
    run = tmp_path / "run"
    inv = Investigation.create(write_series(tmp_path / "s"), "Why?", run, llm=model, tier_cap=0,
                               store_path=tmp_path / "store.sqlite", background=False)
    with inv:
        inv.run(until="steer")
        inv.ask("I doubt the shape verdict; could it just be that iodine is bigger?")
        original = inv.run()
    record = (run / "llm_replies.jsonl").read_text()
    assert '"kind": "request"' in record and '"error_kind"' in record and "ScriptedToolModel" in record
    assert any("They doubt the shape story" in t.text for t in original.transcript)
    again = replay(run, tmp_path / "replay")
    assert conclusion_json(again) == conclusion_json(original)
    assert _normalised(again.transcript) == _normalised(original.transcript)
    assert [r.text for r in again.requests] == [r.text for r in original.requests]
    from typer.testing import CliRunner

    from tierchem.agent.cli import app

    out = CliRunner().invoke(app, ["resume", str(run), "--replay", "--json"])
    assert out.exit_code == 0, out.output
    assert (run / "replay" / "conclusion.json").exists() and "Replayed conclusion" in out.output
    missing = CliRunner().invoke(app, ["replay", str(tmp_path / "replay" / "nope")])
    assert missing.exit_code == 2
