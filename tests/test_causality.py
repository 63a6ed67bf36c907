"""Cause or consequence (agent.causality): the pair logic on fixed numbers, and the prior overturned."""

import pytest

from tierchem.agent.calculations import SKIPPED_FOR_BUDGET
from tierchem.agent.causality import causal_verdicts, consequences, pair_verdict, status_of
from tierchem.agent.evidence import judge, make_evidence
from tierchem.agent.state import CausalTest, Hypothesis, ObservableUse, ResultRef, ValueRef


@pytest.mark.parametrize("b_without_a, a_without_b, verdict, root", [
    (False, True, "consequence", "A"),     # B vanishes without A's feature, A survives B's removal
    (True, False, "consequence", "B"),     # the other way round
    (False, None, "consequence", "A"),     # B has no feature to remove: tested one way
    (True, True, "independent", None),
    (False, False, "undecided", None),
    (None, None, "undecided", None),
    (True, None, "undecided", None),
])
def test_pair_logic(b_without_a, a_without_b, verdict, root):
    out = pair_verdict("A", "B", b_without_a, a_without_b)
    assert (out.verdict, out.root) == (verdict, root)
    if verdict == "consequence":
        assert out.consequence == ({"A", "B"} - {root}).pop()


def _hyps():
    hb = Hypothesis(id="intramolecular_hbond", category="intramolecular_hbond", statement="", status="supported",
                    confidence=0.6, priority=6,
                    observables=[ObservableUse(observable="hbond_lock_energy", direction="higher")])
    dip = Hypothesis(id="dipole_antiparallel", category="dipole_antiparallel", statement="", status="supported",
                     confidence=0.7, priority=5, observables=[ObservableUse(observable="dipole", direction="higher")])
    return [hb, dip]


def _test(tested, removed, z, status="computed"):
    return CausalTest(id=f"{tested}~without:{removed}", tested=tested, removed=removed, observable="x", tier=2,
                      z_counterfactual=z, survives=None if z is None else z > 1.0, status=status)


def test_the_numbers_overturn_the_prior():
    """The prior says the H-bond sets the dipole; here the lock energy vanishes without the dipole's feature
    while the dipole survives the H-bond's removal: the H-bond is the consequence, and the verdict says the
    prior was overturned."""
    tests = [_test("dipole_antiparallel", "intramolecular_hbond", 4.0),
             _test("intramolecular_hbond", "dipole_antiparallel", 0.3)]
    (pair,) = causal_verdicts(tests, _hyps())
    assert (pair.verdict, pair.root, pair.consequence, pair.prior) == (
        "consequence", "dipole_antiparallel", "intramolecular_hbond", "overturned")
    agree = causal_verdicts([_test("dipole_antiparallel", "intramolecular_hbond", 0.2),
                             _test("intramolecular_hbond", "dipole_antiparallel", None, "untestable")], _hyps())[0]
    assert (agree.verdict, agree.root, agree.prior) == ("consequence", "intramolecular_hbond", "agrees")
    waiting = causal_verdicts([_test("dipole_antiparallel", "intramolecular_hbond", 0.2),
                               _test("intramolecular_hbond", "dipole_antiparallel", None, "pending")], _hyps())[0]
    assert waiting.verdict == "undecided"


def test_a_test_left_out_for_budget_is_skipped_not_failed():
    """iodobenzonitrile's run (2026-12-04) printed "without halogen_bond: n/a (failed)" for a tier-3
    polarisability that was never run: its 50 s estimate exceeded the 24 s left. A counterfactual left out
    for budget is ``skipped``; the pair stays undecided and its reason says which test did not run."""
    over = ResultRef.without_calc("polarizability", 3, "T~without:halogen_bond",
                                  error=f"{SKIPPED_FOR_BUDGET} (its estimated 50 s exceeds the 24 s left)")
    broken = ResultRef.without_calc("polarizability", 3, "T~without:halogen_bond", error="convergence: SCF")
    missing = ValueRef(molecule="T", value=None, status="failed")
    assert status_of(missing, over) == "skipped" and status_of(missing, broken) == "failed"
    assert status_of(ValueRef(molecule="T", value=1.0), over) == "computed"
    skipped = _test("intramolecular_hbond", "dipole_antiparallel", None, "skipped").model_copy(
        update={"note": over.error})
    (pair,) = causal_verdicts([_test("dipole_antiparallel", "intramolecular_hbond", 0.2), skipped], _hyps())
    assert pair.verdict == "undecided"
    assert "intramolecular_hbond's own test is skipped" in pair.reason
    # what would raise the confidence is then that test, not a new molecule
    from tierchem.agent.conclusion import deciding_the_causal_link

    skipped = skipped.model_copy(update={"molecule": "T~without:dipole_antiparallel"})
    assert deciding_the_causal_link("intramolecular_hbond", "dipole_antiparallel", [skipped]).startswith(
        "the test of cause left out for budget: intramolecular_hbond's x at tier 2 on T~without:dipole_antiparallel")
    untestable = _test("intramolecular_hbond", "dipole_antiparallel", None, "untestable")
    assert deciding_the_causal_link("intramolecular_hbond", "dipole_antiparallel", [untestable]).startswith(
        "a molecule with")


def test_a_consequence_is_never_named_the_root_cause():
    hyps = _hyps()   # the dipole ranks first (priority), so without the causal verdict it would be the root
    assert next(h for h in judge(hyps, []) if h.status == "root-cause").id == "dipole_antiparallel"
    out = judge(hyps, [], consequence_of={"dipole_antiparallel": "intramolecular_hbond"})
    assert next(h for h in out if h.status == "root-cause").id == "intramolecular_hbond"
    verdicts = causal_verdicts([_test("dipole_antiparallel", "intramolecular_hbond", 0.2),
                                _test("intramolecular_hbond", "dipole_antiparallel", None, "untestable")], hyps)
    assert consequences(verdicts) == {"dipole_antiparallel": "intramolecular_hbond"}


def _ev(observable, tier, target, analogs, sigma, direction="higher"):
    return make_evidence(observable, tier, "kcal/mol", direction, ValueRef(molecule="t", value=target),
                         [ValueRef(molecule=f"a{i}", value=v) for i, v in enumerate(analogs)], sigma, True, "")


def _with_mechanism():
    hb, dip = _hyps()
    mech = Hypothesis(id="dipole_antiparallel.antiparallel_pair", category="dipole_antiparallel", statement="",
                      kind="mechanism", mechanism_of="dipole_antiparallel", status="mechanism-of",
                      observables=[ObservableUse(observable="ie_antiparallel", direction="lower")])
    hb = hb.model_copy(update={"observables": [ObservableUse(observable="hbond_lock_energy", role="decisive",
                                                             direction="higher")]})
    dip = dip.model_copy(update={"observables": [ObservableUse(observable="dipole", role="decisive",
                                                               direction="higher")]})
    return [hb, dip, mech]


def test_a_pair_no_consequence_links_is_weighed_in_energy():
    """2-nitrophenol against phenol and 2-methylphenol (tierchem's own tier-2/3 numbers, benchmark run of
    2026-12-02): the dipole survives the H-bond's removal (6.0 D open rotamer) and cannot be removed itself,
    so the pair is undecided; weighed in energy, the 12.7 kcal/mol lock (tier 3, sigma 0.5) outweighs the
    dipole pair's 1.73 kcal/mol gain over the analogs (tier 2, sigma 0.43): the H-bond is the larger, and
    the dipole, which ranks first by priority, is not named the root cause."""
    hyps = _with_mechanism()
    evidence = [_ev("hbond_lock_energy", 3, 12.7, [0.0, 0.0], 0.5),
                _ev("dipole", 3, 3.42, [1.33, 1.30], 0.15),
                _ev("ie_antiparallel", 2, -8.51, [-5.23, -6.78], 0.43, "lower")]
    tests = [_test("dipole_antiparallel", "intramolecular_hbond", 19.0),
             _test("intramolecular_hbond", "dipole_antiparallel", None, "untestable")]
    (pair,) = causal_verdicts(tests, hyps, evidence)
    assert (pair.verdict, pair.larger) == ("undecided", "intramolecular_hbond")
    assert "not a consequence of intramolecular_hbond" in pair.reason and "12.7" in pair.reason
    assert consequences([pair]) == {"dipole_antiparallel": "intramolecular_hbond"}
    root = next(h for h in judge(hyps, evidence, consequence_of=consequences([pair])) if h.status == "root-cause")
    assert root.id == "intramolecular_hbond"
    # a dipole (in D) or a sigma hole is not an energy of the packing: without its mechanism the dipole
    # cannot be weighed, and nothing is ranked
    (bare,) = causal_verdicts(tests, hyps[:2], evidence)
    assert bare.larger is None and "cannot be weighed" in bare.reason
    # effects within 2 sigma of each other are not ranked
    close = [_ev("hbond_lock_energy", 3, 2.4, [0.0, 0.0], 0.5), evidence[1], evidence[2]]
    assert causal_verdicts(tests, hyps, close)[0].larger is None


def test_an_undecided_causal_link_caps_the_root():
    """Undecided by the counterfactuals: medium when the root is clearly worth more in energy, low when
    nothing but the separate verdicts chose it (hydroxypyridine_vs_methoxy: the donor's and the tautomer's
    counterfactuals are entangled and the tautomer energy is no packing energy)."""
    from tierchem.agent.conclusion import cap_for_causal_link
    from tierchem.agent.state import CausalPair, Conclusion

    hb = _hyps()[0]
    pair = dict(id="p", pair=["dipole_antiparallel", hb.id], verdict="undecided")
    c = Conclusion(confidence="high", confidence_reason="the weakest link is x",
                   cause_and_consequence=[CausalPair(**pair, larger=hb.id)])
    cap_for_causal_link(c, hb)
    assert c.confidence == "medium" and "dipole_antiparallel explains intramolecular_hbond" in c.confidence_reason
    for start in ("high", "medium"):
        c1 = Conclusion(confidence=start, cause_and_consequence=[CausalPair(**pair)])
        assert cap_for_causal_link(c1, hb) == "dipole_antiparallel"
        assert c1.confidence == "low" and "nor the energies" in c1.confidence_reason
    assert cap_for_causal_link(Conclusion(confidence="low", cause_and_consequence=[CausalPair(**pair)]), hb) == ""
    c2 = Conclusion(confidence="high", cause_and_consequence=[CausalPair(id="p", pair=["x", hb.id],
                                                                         verdict="independent")])
    cap_for_causal_link(c2, hb)
    assert c2.confidence == "high"


def test_an_absent_feature_weighs_nothing_in_energy():
    """hydroxypyridine_vs_methoxy (tierchem's tier-3 numbers, benchmark run of 2026-12-04): the analogs have
    no other tautomer and read the -25 kcal/mol cap, a ranking convention; weighed in the crystal's energy
    they gain 0 from it, so the tautomer's stake is the target's own 5.24 kcal/mol, not 30.2."""
    from tierchem.agent.causality import as_stake
    from tierchem.agent.observables import TAUTOMER_CAP_KCAL_MOL

    absent = [ValueRef(molecule=f"a{i}", value=-TAUTOMER_CAP_KCAL_MOL, status="absent") for i in range(2)]
    e = make_evidence("tautomer_energy_polar", 3, "kcal/mol", "higher", ValueRef(molecule="t", value=5.24),
                      absent, 1.0, True, "")
    assert e.effect == pytest.approx(30.24)
    stake = as_stake(e)
    assert stake.effect == pytest.approx(5.24) and stake.z == pytest.approx(5.24 / 2 ** 0.5)
    measured = _ev("hbond_network_energy", 3, -8.18, [0.0, 0.0], 0.35, "lower")  # computed values stay
    assert as_stake(measured).effect == pytest.approx(measured.effect)
