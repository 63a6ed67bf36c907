"""The agent's building blocks: series parsing, evidence verdicts, hypothesis screening, the graph."""

from __future__ import annotations

import pytest

from tierchem.agent.evidence import compare, judge, make_evidence, settled
from tierchem.agent.series import SeriesError, read_series
from tierchem.agent.state import Hypothesis, ObservableUse, ValueRef, merge_by_id, view


# ------------------------------------------------------------------ series
def write(tmp_path, text, name="series.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_series_csv_and_bad_rows(tmp_path):
    p = write(tmp_path, "name,smiles,role\nA,c1ccccc1I,target\nB,c1ccccc1Br,analog\nbad,C1CC(,analog\n"
                        "weird,C[Xx]C,analog\n")
    s = read_series(p)
    assert s.target.name == "A" and [a.name for a in s.analogs] == ["B"]
    assert len(s.skipped) == 2
    assert any("bad" in m and "invalid SMILES" in m for m in s.skipped)
    assert any("weird" in m for m in s.skipped)


def test_series_folder(tmp_path):
    write(tmp_path, "name,smiles,role\nA,Ic1ccccc1,target\nB,Brc1ccccc1,analog\n")
    assert read_series(tmp_path).target.name == "A"


@pytest.mark.parametrize("text, match", [
    ("name,smiles,role\nA,c1ccccc1I,analog\nB,c1ccccc1Br,analog\n", "no member has role 'target'"),
    ("name,formula\nA,C6H6\n", "no 'smiles' column"),
    ("", "empty"),
    ("name,smiles,role\nA,c1ccccc1I,target\n", "at least one analog"),
    ("name,smiles,role\nA,C1CC(,target\nB,CC,analog\n", "no member has role 'target'"),
])
def test_series_errors(tmp_path, text, match):
    with pytest.raises(SeriesError, match=match):
        read_series(write(tmp_path, text))


def test_series_unparsable_files(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(SeriesError, match="not a text file|smiles"):
        read_series(tmp_path / "x.csv")
    with pytest.raises(SeriesError, match="no SDF records|no usable"):
        read_series(write(tmp_path, "this is not an sdf\n", "y.sdf"))
    with pytest.raises(SeriesError, match="unsupported"):
        read_series(write(tmp_path, "x", "z.pdf"))
    with pytest.raises(SeriesError, match="no such file"):
        read_series(tmp_path / "missing.csv")


def test_series_sdf_roles(tmp_path):
    from rdkit import Chem

    w = Chem.SDWriter(str(tmp_path / "s.sdf"))
    for name, smi, role in [("A", "Ic1ccccc1", "target"), ("B", "Brc1ccccc1", "analog")]:
        m = Chem.MolFromSmiles(smi)
        m.SetProp("_Name", name)
        m.SetProp("role", role)
        w.write(m)
    w.close()
    s = read_series(tmp_path / "s.sdf")
    assert s.target.name == "A" and s.analogs[0].name == "B"


# ------------------------------------------------------------------ evidence
@pytest.mark.parametrize("t, a, sigma, direction, verdict", [
    (15.0, [8.0, 3.0], 1.5, "higher", "separates"),          # clear outlier in the predicted direction
    (8.5, [8.0, 3.0], 1.5, "higher", "does_not_separate"),   # within the uncertainty of an analog
    (2.0, [8.0, 9.0], 1.5, "higher", "opposite"),            # wrong side
    (-6.1, [-6.3, -5.9], 0.4, "lower", "does_not_separate"),  # inside the analogs' range
    (1.0, [0.0, 0.0], 0.35, "differs", "separates"),          # a donor only the target has
    (1.0, [0.0, 1.0], 0.35, "differs", "does_not_separate"),  # present in an analog too
    (10.0, [8.0], 0.8, "higher", "inconclusive"),
])
def test_compare_verdicts(t, a, sigma, direction, verdict):
    effect, z, v = compare(t, a, sigma, direction)
    assert v == verdict, (effect, z)


def _ev(obs, t, a, sigma=1.0, direction="higher", tier=3, adequate=True):
    return make_evidence(obs, tier, "kcal/mol", direction, ValueRef(molecule="T", value=t, cache_keys=["k1"]),
                         [ValueRef(molecule=f"A{i}", value=x, cache_keys=[f"k{i + 2}"]) for i, x in enumerate(a)],
                         sigma, adequate, "")


def test_judge_root_cause_and_mechanism():
    cause = Hypothesis(id="c", category="halogen_bond", statement="s",
                       observables=[ObservableUse(observable="sigma_hole", direction="higher")])
    m1 = Hypothesis(id="c.m1", category="halogen_bond", statement="m1", kind="mechanism", mechanism_of="c",
                    observables=[ObservableUse(observable="ie_type_ii_halogen", direction="lower")])
    m2 = Hypothesis(id="c.m2", category="halogen_bond", statement="m2", kind="mechanism", mechanism_of="c",
                    observables=[ObservableUse(observable="ie_type_i_halogen", direction="lower")])
    other = Hypothesis(id="d", category="dispersion_polarisability", statement="d",
                       observables=[ObservableUse(observable="ie_stack", direction="lower")])
    evidence = [_ev("sigma_hole", 16.0, [9.0, 4.0], 1.5),
                _ev("ie_type_ii_halogen", -3.0, [-2.0, -1.5], 0.25, "lower"),
                _ev("ie_type_i_halogen", -0.5, [-1.0, -0.9], 0.25, "lower"),
                _ev("ie_stack", -6.1, [-6.3, -5.9], 0.4, "lower", tier=2)]
    out = {h.id: h for h in judge([cause, m1, m2, other], evidence)}
    assert out["c"].status == "root-cause"
    assert out["c.m1"].status == "mechanism-of"
    assert out["c.m2"].status == "rejected"
    assert out["d"].status == "rejected"
    # an inadequate tier alone leaves the cause open
    out = {h.id: h for h in judge([cause], [_ev("sigma_hole", 16.0, [9.0, 4.0], 1.5, adequate=False)])}
    assert out["c"].status == "open"


def test_settled():
    assert settled(_ev("x", 20.0, [5.0], 1.0))
    assert settled(_ev("x", 1.0, [5.0], 1.0))
    assert not settled(_ev("x", 7.5, [5.0], 1.0))
    assert not settled(_ev("x", 20.0, [5.0], 1.0, adequate=False))


# ------------------------------------------------------------------ hypotheses
def test_screening_rejects_shared_feature_and_skips_inapplicable():
    from tierchem.agent.hypotheses import screen
    from tierchem.chem import Molecule

    t = Molecule.from_smiles("OC(=O)c1ccc(I)cc1", name="4-iodobenzoic acid")
    a = [Molecule.from_smiles("Cc1ccc(I)cc1", name="4-iodotoluene"),
         Molecule.from_smiles("COc1ccc(I)cc1", name="4-iodoanisole")]
    s = screen(t, a)
    hyps = {h.id: h for h in s.hypotheses}
    assert hyps["halogen_bond"].status == "rejected" and "I x1" in hyps["halogen_bond"].reason
    assert hyps["halogen_bond.type_ii_contact"].status == "rejected"
    assert hyps["hbond_motif"].status == "open"
    assert hyps["conformational_flexibility"].status == "rejected"  # anisole has a rotor too
    assert any(n.startswith("tautomerism") for n in s.not_applicable)
    # a series without heavy halogens gets no halogen-bond hypothesis
    s2 = screen(Molecule.from_smiles("c1ccccc1O", name="phenol"), [Molecule.from_smiles("c1ccccc1C", name="tol")])
    assert "halogen_bond" not in {h.id for h in s2.hypotheses}


# ------------------------------------------------------------------ state and graph
def test_reducer_and_view_roundtrip():
    assert merge_by_id([{"id": "a", "x": 1}], [{"id": "a", "x": 2}, {"id": "b"}]) == [{"id": "a", "x": 2}, {"id": "b"}]
    v = view({"question": "q", "hypotheses": [Hypothesis(id="h", category="other", statement="s").model_dump()]})
    assert v.hypothesis("h").status == "open" and v.budget.tier_cap == 3


def test_graph_builds_with_its_edges():
    from tierchem.agent.graph import build_graph

    g = build_graph().get_graph()
    edges = {(e.source, e.target, e.conditional) for e in g.edges}
    assert edges == {
        ("__start__", "intake", False), ("intake", "hypothesise", False), ("hypothesise", "steer", False),
        ("steer", "plan", True), ("steer", "conclude", True), ("plan", "compute", True), ("plan", "conclude", True),
        ("compute", "analyse", False), ("analyse", "steer", False), ("conclude", "design", False),
        ("design", "report", False), ("report", "await_background", True), ("report", "__end__", True),
        ("await_background", "analyse", False)}


def test_graph_state_is_declared_once():
    """The checkpointed schema has exactly the view's fields, with the view's reducers."""
    import typing

    from tierchem.agent.state import GraphState, InvestigationView, append

    hints = typing.get_type_hints(GraphState, include_extras=True)
    assert set(hints) == set(InvestigationView.model_fields)
    assert hints["hypotheses"].__metadata__ == (merge_by_id,) and hints["transcript"].__metadata__ == (append,)
    assert not hasattr(hints["plan"], "__metadata__")  # replaced, not merged


def test_one_id_for_a_result():
    from tierchem.agent.state import PendingCalc, PlannedCalc, ResultRef, result_id

    p = PlannedCalc(spec={}, observable="dipole", tier=2, molecule="A", estimate_s=1.0)
    assert p.ref_id == result_id("dipole", 2, "A") == "dipole@t2:A"
    assert PendingCalc.of(p, "k", "design").id == p.ref_id
    assert ResultRef.without_calc("dipole", 2, "A", error="skipped").id == p.ref_id


def test_pushback_reopens_and_queues_one_tier_higher():
    from tierchem.agent.state import Action, Evidence, InvestigationView, ObservableUse
    from tierchem.agent.steering import Steering, apply_action

    h = Hypothesis(id="dipole_antiparallel", category="dipole_antiparallel", statement="s", status="rejected",
                   observables=[ObservableUse(observable="dipole")])
    e = Evidence(id="dipole@t2", observable="dipole", tier=2, unit="kcal/mol", direction="higher",
                 target=ValueRef(molecule="T", value=1.0), analogs=[ValueRef(molecule="A", value=1.0)], sigma=1.0,
                 adequate=True, effect=0.0, z=0.0, verdict="does_not_separate")
    v = InvestigationView(hypotheses=[h], evidence=[e], budget={"tier_cap": 3})
    st = Steering.of(v)
    assert apply_action(Action(kind="pushback", hypothesis_id=h.id, text="the contact is real"), st, v) == \
        "Reopened dipole_antiparallel."
    hb = st.hypotheses[h.id]
    assert hb.status == "open" and hb.reason == "pushback: the contact is real" and st.changed == {h.id}
    assert [(d.observable, d.tier) for d in st.directives] == [("dipole", 3)]
    assert v.hypotheses[0].status == "rejected"  # the view itself is not changed
    assert apply_action(Action(kind="reject", hypothesis_id="nope"), st, v) == "No hypothesis 'nope'."


def test_steering_commands_parse():
    from tierchem.agent.planner import parse_command

    assert parse_command("add hypothesis the methyl group matters shape_sterics").actions[0].category == "shape_sterics"
    assert parse_command("calc sigma_hole 3").actions[0].tier == 3
    assert parse_command("calc sigma_hole 1").actions == []  # a point-charge FF has no sigma hole
    assert "cannot be computed" in parse_command("calc sigma_hole 1").reasoning
    push = parse_command("pushback x the contact is real").actions[0]
    assert push.kind == "pushback" and push.hypothesis_id == "x" and push.text == "the contact is real"
    assert parse_command("priority x one").actions == []
    assert parse_command("stop").actions[0].kind == "stop"
    assert "Not a command" in parse_command("hello there").reasoning
