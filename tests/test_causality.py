"""Cause or consequence (agent.causality): the pair logic on fixed numbers, and the prior overturned."""

import pytest

from tierchem.agent.causality import causal_verdicts, consequences, pair_verdict
from tierchem.agent.evidence import judge
from tierchem.agent.state import CausalTest, Hypothesis, ObservableUse


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


def test_a_consequence_is_never_named_the_root_cause():
    hyps = _hyps()   # the dipole ranks first (priority), so without the causal verdict it would be the root
    assert next(h for h in judge(hyps, []) if h.status == "root-cause").id == "dipole_antiparallel"
    out = judge(hyps, [], consequence_of={"dipole_antiparallel": "intramolecular_hbond"})
    assert next(h for h in out if h.status == "root-cause").id == "intramolecular_hbond"
    verdicts = causal_verdicts([_test("dipole_antiparallel", "intramolecular_hbond", 0.2),
                                _test("intramolecular_hbond", "dipole_antiparallel", None, "untestable")], hyps)
    assert consequences(verdicts) == {"dipole_antiparallel": "intramolecular_hbond"}
