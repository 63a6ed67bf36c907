"""The built-in interpreter: a corpus of scientist messages against a fixed investigation view, the
dry-run CLI, and a scripted dialogue on a small real investigation (tier cap 1, seconds)."""

from __future__ import annotations

import json

import pytest

from tierchem.agent.evidence import make_evidence
from tierchem.agent.hypotheses import screen
from tierchem.agent.interpret import read_message
from tierchem.agent.planner import BuiltinPlanner, parse_command
from tierchem.agent.state import Budget, InvestigationView, Series, SeriesMember, Utterance, ValueRef
from tierchem.chem import Molecule

SERIES = [("1,4-diiodobenzene", "Ic1ccc(I)cc1", "target"), ("1,4-dibromobenzene", "Brc1ccc(Br)cc1", "analog"),
          ("1,4-dichlorobenzene", "Clc1ccc(Cl)cc1", "analog")]


@pytest.fixture(scope="module")
def view() -> InvestigationView:
    """The demo's library on the dihalobenzenes, with hand-made evidence: a supported sigma hole, a rejected
    dipole (0 D by symmetry), volumes and an xTB type II contact energy."""
    mols = [Molecule.from_smiles(s, name=n) for n, s, _ in SERIES]

    def ev(obs, tier, unit, direction, t, an, sigma):
        return make_evidence(obs, tier, unit, direction, ValueRef(molecule=mols[0].label, value=t),
                             [ValueRef(molecule=m.label, value=x) for m, x in zip(mols[1:], an)], sigma, True, "")

    evs = [ev("sigma_hole", 3, "kcal/mol", "higher", 23.1, [14.2, 6.0], 1.5),
           ev("dipole", 2, "D", "higher", 0.0, [0.0, 0.0], 0.3),
           ev("molecular_volume", 0, "Å^3", "differs", 130.0, [115.0, 105.0], 3.0),
           ev("ie_type_ii_halogen", 2, "kcal/mol", "lower", -2.9, [-1.8, -1.1], 0.43)]
    hyps = screen(mols[0], mols[1:]).hypotheses
    for h in hyps:
        if h.id == "halogen_bond":
            h.status, h.confidence, h.reason = "supported", 0.7, evs[0].summary
        if h.id == "dipole_antiparallel":
            h.status, h.reason = "rejected", evs[1].summary
    members = [SeriesMember(name=m.label, smiles=s, role=r, molecule=m.model_dump(mode="json"))
               for m, (_, s, r) in zip(mols, SERIES)]
    return InvestigationView(question="q", series=Series(source="x", members=members), hypotheses=hyps,
                             evidence=evs, budget=Budget(tier_cap=3), transcript=[
                                 Utterance(speaker="agent", text="Rejected dipole_antiparallel: 0, 0 and 0 D.")])


# message -> the commands it must map to (their actions are compared, free-text reasons aside)
CORPUS: list[tuple[str, list[str]]] = [
    # compute, by observable and method names
    ("check the dipole at DFT please", ["calc dipole 3"]),
    ("compute the sigma hole at B3LYP", ["calc sigma_hole 3"]),
    ("Could you calculate the ESP on the iodine with DFT?", ["calc sigma_hole 3"]),
    ("run xTB on the stacking energy", ["calc ie_stack 2"]),
    ("get me the type II contact energy with GFN2-xTB", ["calc ie_type_ii_halogen 2"]),
    ("what's the stacking energy at the force field level?", ["calc ie_stack 1"]),
    ("calc the dipole with semi-empirical", ["calc dipole 2"]),
    ("please compute the polarisability", ["calc polarizability 3"]),  # tier 2 is not adequate for it
    ("compute the molar refractivity", ["calc molar_refractivity 0"]),
    ("run MP2 on the halogen bond to N", ["calc ie_halogen_bond 4"]),
    ("compute the sigma hole at xtb", ["calc sigma_hole 3"]),            # xTB has no ESP: the nearest is DFT
    ("can you run CCSD(T) on a model of the I...I contact?", ["calc ie_type_ii_halogen 4"]),
    ("gold standard for the stacked dimer please", ["calc ie_stack 4"]),
    ("calculate the dipole with the force field", ["calc dipole 2"]),    # no dipole at tier 1
    ("redo the type II contact at a higher level", ["calc ie_type_ii_halogen 3"]),
    ("compute the molecular volume and the asphericity", ["calc molecular_volume 0", "calc asphericity 0"]),
    ("check the dipol at dft", ["calc dipole 3"]),
    ("compute the sigam hole with b3lpy", ["calc sigma_hole 3"]),
    ("run the stakcing energy with semi-emprical", ["calc ie_stack 2"]),
    ("the dipole at DFT, please", ["calc dipole 3"]),
    ("compute the lock energy at xtb", ["calc hbond_lock_energy 2"]),
    ("tautomer energy in water at DFT", ["calc tautomer_energy_polar 3"]),
    ("do the halogen charge with xtb", ["calc halogen_charge 2"]),
    ("Let's get the electrostatic potential at the DFT level", ["calc sigma_hole 3"]),
    ("I'd like the conformer count", ["calc n_low_conformers 0"]),
    ("why don't you compute the type II contact with coupled cluster", ["calc ie_type_ii_halogen 4"]),
    # explain
    ("why halogen_bond", ["why halogen_bond"]),
    ("why was the dipole hypothesis rejected?", ["why dipole_antiparallel"]),
    ("how sure are you about the halogen bond?", ["why halogen_bond"]),
    ("show me the evidence for shape", ["why shape_sterics"]),
    ("what is the sigma hole of diiodobenzene compared with the dibromo analog?", ["why halogen_bond sigma_hole"]),
    ("how confident are you in the sigma hole story", ["why halogen_bond"]),
    ("explain the type II contact hypothesis", ["why halogen_bond.type_ii_contact"]),
    ("why is stacking still open?", ["why pi_stacking_quadrupole"]),
    ("tell me more about the dispersion idea", ["why dispersion_polarisability"]),
    ("explian the halogen bond verdict", ["why halogen_bond"]),
    ("what are the dipoles compared to the analogs?", ["why dipole_antiparallel dipole"]),
    ("what do the numbers say on shape?", ["why shape_sterics"]),
    ("how strong is the evidence for dispersion?", ["why dispersion_polarisability"]),
    # reject
    ("reject shape_sterics", ["reject shape_sterics"]),
    ("rule out the shape hypothesis", ["reject shape_sterics"]),
    ("drop the stacking idea, it's irrelevant", ["reject pi_stacking_quadrupole"]),
    ("I don't think dispersion matters", ["reject dispersion_polarisability"]),
    ("the type I contact is a red herring", ["reject halogen_bond.type_i_contact"]),
    ("forget about the type I contacts", ["reject halogen_bond.type_i_contact"]),
    ("it can't be the shape", ["reject shape_sterics"]),
    ("rejcet the stacking hypothesis", ["reject pi_stacking_quadrupole"]),
    ("Shape has nothing to do with it", ["reject shape_sterics"]),
    # reopen
    ("reopen dipole_antiparallel", ["reopen dipole_antiparallel"]),
    ("bring back the dipole hypothesis", ["reopen dipole_antiparallel"]),
    ("let's reconsider the dipole idea", ["reopen dipole_antiparallel"]),
    ("don't rule out the dipole yet", ["reopen dipole_antiparallel"]),
    ("give the dipole another chance", ["reopen dipole_antiparallel"]),
    ("you shouldn't have rejected the dipole", ["reopen dipole_antiparallel"]),
    # push back
    ("I don't buy the sigma hole story. Could it just be that iodine is bigger?", ["pushback halogen_bond x"]),
    ("I doubt the halogen bond verdict", ["pushback halogen_bond x"]),
    ("that looks premature", ["pushback dipole_antiparallel x"]),
    ("the rejection of the dipole looks premature to me", ["pushback dipole_antiparallel x"]),
    ("I'm not convinced by the sigma hole", ["pushback halogen_bond x"]),
    ("are you sure about the dipole?", ["pushback dipole_antiparallel x"]),
    ("I'm sceptical about the halogen bond support", ["pushback halogen_bond x"]),
    ("pushback halogen_bond the contact is too long", ["pushback halogen_bond x"]),
    ("I dont trust the xTB type II energy", ["pushback halogen_bond.type_ii_contact x"]),
    # reprioritise
    ("please prioritise the type II contact check over everything else", ["priority halogen_bond.type_ii_contact 1"]),
    ("shape first", ["priority shape_sterics 1"]),
    ("stacking before anything else", ["priority pi_stacking_quadrupole 1"]),
    ("dispersion can wait", ["priority dispersion_polarisability 8"]),
    ("put shape last", ["priority shape_sterics 8"]),
    ("deprioritise the type I contact", ["priority halogen_bond.type_i_contact 8"]),
    ("focus on the halogen bond", ["priority halogen_bond 1"]),
    ("set the priority of stacking to 2", ["priority pi_stacking_quadrupole 2"]),
    ("priority shape_sterics 3", ["priority shape_sterics 3"]),
    ("priorotise the halogen bond", ["priority halogen_bond 1"]),
    # hypotheses, classified from their words
    ("new hypothesis: the iodines form halogen-bonded chains", ["add hypothesis x halogen_bond"]),
    ("what if the molecules form a herringbone because of the quadrupole?", ["priority pi_stacking_quadrupole 2"]),
    ("maybe it's a tautomer thing", ["add hypothesis x tautomerism"]),
    ("I suspect the crystal has an intramolecular hydrogen bond", ["add hypothesis x intramolecular_hbond"]),
    ("my hypothesis: solvent inclusion during crystallisation", ["add hypothesis x other"]),
    ("could it be conformational flexibility?", ["add hypothesis x conformational_flexibility"]),
    ("add a hypothesis that C-H...I hydrogen bonds build the chains", ["add hypothesis x hbond_motif"]),
    # design and budgets
    ("no iodine in the candidates", ["exclude I"]),
    ("avoid bromine and chlorine", ["exclude Br Cl"]),
    ("exclude I", ["exclude I"]),
    ("iodine is fine again", ["allow I"]),
    ("you can use bromine again", ["allow Br"]),
    ("propose five candidates", ["more candidates 5"]),
    ("I want a dozen new molecules", ["more candidates 12"]),
    ("give me 3 candidates", ["more candidates 3"]),
    ("at most five minutes on the design", ["design budget 300"]),
    ("spend up to an hour of compute", ["budget 3600"]),
    ("you have two hours in total", ["budget 7200"]),
    ("design budget 300", ["design budget 300"]),
    # status, stop, help
    ("what are you doing?", ["status"]),
    ("what's next", ["status"]),
    ("how long will this take?", ["status"]),
    ("where do we stand?", ["status"]),
    ("stop", ["stop"]),
    ("ok, wrap up and write the conclusion", ["stop"]),
    ("that's enough for today, give me your answer", ["stop"]),
    ("help", ["help"]),
    ("what can you do?", ["help"]),
    # several requests in one message, in order
    ("reject shape_sterics and then compute the dipole at DFT", ["reject shape_sterics", "calc dipole 3"]),
    ("First check the sigma hole at DFT, then the stacking energy with xTB, and reopen the dipole",
     ["calc sigma_hole 3", "calc ie_stack 2", "reopen dipole_antiparallel"]),
    ("no iodine, and propose five candidates", ["exclude I", "more candidates 5"]),
    ("Prioritise the halogen bond. Also, why was the dipole rejected?",
     ["priority halogen_bond 1", "why dipole_antiparallel"]),
    ("reject stacking; reopen dipole_antiparallel; stop",
     ["reject pi_stacking_quadrupole", "reopen dipole_antiparallel", "stop"]),
    ("compute the dipole at xtb and the sigma hole at dft", ["calc dipole 2", "calc sigma_hole 3"]),
    ("spend at most an hour overall and at most five minutes on the design", ["budget 3600", "design budget 300"]),
]


def _key(a):
    return (a.kind, a.hypothesis_id, a.observable, a.tier, a.category, tuple(a.elements), a.count, a.seconds,
            a.priority)


def _expected(commands, v):
    out = []
    for c in commands:
        step = parse_command(c, v)
        assert step.actions or c == "help", f"bad expected command {c!r}: {step.reasoning}"
        out += [_key(a) for a in step.actions]
    return out


def test_corpus_maps_free_text_to_actions(view):
    assert len(CORPUS) >= 80
    misses, unanswered = [], []
    for message, commands in CORPUS:
        reading = read_message(message, view)
        got = [_key(a) for a in reading.actions(view)]
        want = _expected(commands, view)
        if got == want:
            continue
        misses.append(f"{message!r}: got {reading.commands} (options {[p.options for p in reading.parts]}), "
                      f"want {commands}")
        offered = [_key(a) for p in reading.parts for o in p.options for a in parse_command(o, view).actions]
        if not all(k in offered for k in want):
            unanswered.append(misses[-1])
    rate = 1 - len(misses) / len(CORPUS)
    print(f"corpus: {len(CORPUS)} messages, {rate:.1%} mapped exactly; misses: {misses}")
    assert rate >= 0.9, f"{rate:.0%} mapped exactly; misses:\n" + "\n".join(misses)
    assert not unanswered, "misses without the right reading among the options:\n" + "\n".join(unanswered)


def test_replies_restate_push_back_with_numbers_and_offer_readings(view):
    planner = BuiltinPlanner()
    step = planner.interpret("I don't buy the sigma hole story. Could it just be that iodine is bigger?", view)
    assert [a.kind for a in step.actions] == ["pushback", "priority"]
    assert "23.1 kcal/mol against 14.2" in step.reasoning and "6.00" in step.reasoning
    assert "size-matched" in step.reasoning and "CH3" in step.reasoning
    ccsdt = planner.interpret("can you run CCSD(T) on the whole I...I dimer?", view).reasoning
    assert "CCSD(T) on the whole dimer" in ccsdt and "DF-MP2" in ccsdt
    xtb = planner.interpret("compute the sigma hole at xtb", view).reasoning
    assert "cannot be computed at tier 2" in xtb and "nearest" in xtb
    unsure = planner.interpret("hmm, the numbers around that iodine thing", view)
    assert not unsure.actions and "Did you mean" in unsure.reasoning and "Not a command" not in unsure.reasoning
    assert planner.interpret("blorp", view).reasoning.count("`") >= 2  # copyable readings, never a bare refusal


def test_explain_gives_each_evidence_line_once(view):
    from tierchem.agent.steering import answer_now

    text = answer_now(["why halogen_bond"], view)
    assert text.count("sigma_hole at tier 3") == 1
    assert "0, 0 and 0" not in text


def test_interpret_cli_dry_run(tmp_path, monkeypatch):
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver
    from typer.testing import CliRunner

    from tierchem.agent.cli import app
    from tierchem.agent.graph import build_graph

    run = tmp_path / "run"
    run.mkdir()
    conn = sqlite3.connect(run / "checkpoints.sqlite", check_same_thread=False)
    graph = build_graph(SqliteSaver(conn))
    cfg = {"configurable": {"thread_id": "investigation"}}
    graph.update_state(cfg, {"question": "q", "hypotheses": [{"id": "halogen_bond", "category": "halogen_bond",
                                                              "statement": "s", "status": "supported"}]},
                       as_node="hypothesise")
    conn.close()
    runner = CliRunner()
    out = runner.invoke(app, ["interpret", str(run), "check the dipole at DFT first, then why halogen_bond",
                              "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [p["commands"] for p in data["parts"]] == [["calc dipole 3"], ["why halogen_bond"]]
    assert data["parts"][0]["priority"] == 1 and data["parts"][0]["actions"][0]["kind"] == "compute"
    plain = runner.invoke(app, ["interpret", str(run), "I doubt the halogen bond"])
    assert plain.exit_code == 0 and "pushback halogen_bond" in plain.output
    assert not (run / "inbox.jsonl").exists()  # a dry run queues nothing
    assert runner.invoke(app, ["interpret", str(tmp_path / "nope"), "stop"]).exit_code == 2


def test_scripted_dialogue_on_a_small_investigation(tmp_path):
    """Pushback, a priority in words, DFT asked for, a question, CCSD(T) that cannot be run as asked, a stop."""
    import csv

    from tierchem.agent.session import Investigation

    series = tmp_path / "s"
    series.mkdir()
    with (series / "series.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([("name", "smiles", "role"), *SERIES[:2]])
    inv = Investigation.create(series, "Why does 1,4-diiodobenzene pack differently?", tmp_path / "run",
                               tier_cap=1, store_path=tmp_path / "store.sqlite", background=False)
    with inv:
        inv.run(until="steer")
        inv.ask("at most 0 minutes on the design, please")
        inv.run(until="steer")  # the tier-0 numbers are in
        said = {}
        said["pushback"] = inv.ask("I doubt the shape verdict. Could it just be that iodine is bigger?")
        said["priority"] = inv.ask("please prioritise the type II contact check over everything else")
        said["dft"] = inv.ask("check the dipole at DFT please")
        said["question"] = inv.ask("how sure are you about the halogen bond?")
        said["ccsdt"] = inv.ask("can you run CCSD(T) on the whole I...I dimer?")
        said["stop"] = inv.ask("ok, wrap up and write the conclusion")
        queued = [q["text"] for q in inv.queue()]
        v = inv.run()
    assert "pushback shape_sterics" in said["pushback"] and "asphericity at tier 0" in said["pushback"]
    assert "priority halogen_bond.type_ii_contact 1" in said["priority"] and "(priority 1, place 2 of" in said["priority"]
    assert "calc dipole 3" in said["dft"] and "tier cap" in said["dft"] and "Queued as request" in said["dft"]
    assert said["question"].startswith("halogen_bond [") and "Queued" not in said["question"]
    assert "DF-MP2" in said["ccsdt"] and "calc ie_type_ii_halogen 4" in said["ccsdt"]
    assert queued[0] == "ok, wrap up and write the conclusion"  # a stop goes first
    assert not any("how sure" in q for q in queued)            # answered at once, not queued
    assert all(r.status == "done" for r in v.requests) and v.stop
    assert v.hypothesis("halogen_bond.type_ii_contact").priority == 1
    asked = [r for r in v.requests if r.text.startswith("how sure")]
    assert len(asked) == 1 and sum("how sure" in t.text for t in v.transcript) == 0  # not answered again
    md = (tmp_path / "run" / "report.md").read_text()
    steering = md.split("## Steering", 1)[1].split("\n## ", 1)[0]
    for text in ("> **Scientist:** I doubt the shape verdict", "**tierchem** (done): Understood as `pushback",
                 "> **Scientist:** how sure are you about the halogen bond?", "CCSD(T) on the whole dimer",
                 "> **Scientist:** ok, wrap up and write the conclusion", "Stopping"):
        assert text in steering, text
