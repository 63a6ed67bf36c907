"""The rules of evidence (issue 11): absence is data, clashing geometries are failed builds, counts count
what the hypothesis needs, calibrated confidence, and a planner that spends where it matters."""

from __future__ import annotations

import pytest

from tierchem.agent.calculations import fit_budget, plan_calcs, value_of
from tierchem.agent.conclusion import build
from tierchem.agent.evidence import calibrate, make_evidence
from tierchem.agent.observables import OBSERVABLES, UnfitGeometry, specs_for
from tierchem.agent.planner import BuiltinPlanner, RankedCalc, fits_any
from tierchem.agent.state import (Action, CausalTest, Evidence, Hypothesis, InvestigationView, ObservableUse, PlannedCalc,
                                  ResultRef, Series, SeriesMember, ValueRef)
from tierchem.chem import Molecule

DIIODO, DIBROMO, BENZENE = "Ic1ccc(I)cc1", "Brc1ccc(Br)cc1", "c1ccccc1"
NME2_AMIDE = "CN(C)C(=O)c1ccccc1"


def member(smiles: str, name: str, role: str = "analog") -> SeriesMember:
    return SeriesMember(name=name, smiles=smiles, role=role,
                        molecule=Molecule.from_smiles(smiles, name=name).model_dump(mode="json"))


class FakeStore:
    def __init__(self, results):
        self.results = {r.cache_key: r for r in results}

    def get(self, key):
        return self.results.get(key)


# ------------------------------------------------------------------ absence is data
@pytest.mark.parametrize("observable, tier, smiles, value, reason", [
    ("sigma_hole", 3, BENZENE, 0.0, "no sigma hole"),                   # no Cl/Br/I: no sigma hole, 0 kcal/mol
    ("ie_type_ii_halogen", 2, BENZENE, 0.0, "cannot form"),            # no X···X contact can form
    ("ie_hbond", 2, "Cc1ccccc1", 0.0, "no N-H or O-H donor"),          # no donor: no H-bonded dimer
])
def test_absent_feature_takes_the_value_absence_means(observable, tier, smiles, value, reason):
    m = member(smiles, "analog")
    planned, no_calc = plan_calcs([Action(kind="compute", observable=observable, tier=tier)], [m], None)
    assert not planned and len(no_calc) == 1
    ref = no_calc[0]
    assert ref.success and ref.error is None and ref.value == value and reason in ref.note
    v = value_of(observable, m, ref, FakeStore([]))
    assert (v.status, v.value) == ("absent", value) and reason in v.note


def test_absent_analog_enters_the_comparison_with_its_reason():
    target = ValueRef(molecule="T", value=28.5, cache_keys=["k"])
    absent = ValueRef(molecule="A", value=0.0, status="absent", note="A has no Cl, Br or I: no sigma hole")
    failed = ValueRef(molecule="B", value=None, status="failed", note="convergence: SCF did not converge")
    ev = make_evidence("sigma_hole", 3, "kcal/mol", "higher", target, [absent, failed], 1.5, True, "")
    assert ev.verdict == "separates"                       # the comparison goes ahead on the absent analog
    assert "A 0 kcal/mol (absent)" in ev.summary and "no sigma hole" in ev.summary
    assert "B n/a (failed)" in ev.summary and "did not converge" in ev.summary
    # a real failure alone is "not computed"
    assert make_evidence("sigma_hole", 3, "kcal/mol", "higher", target, [failed], 1.5, True, "").verdict \
        == "not_computed"


def test_a_tier_that_cannot_compute_is_a_failure_not_an_absence():
    _, no_calc = plan_calcs([Action(kind="compute", observable="sigma_hole", tier=1)], [member(DIIODO, "T")], None)
    assert not no_calc[0].success and "point-charge" in no_calc[0].error


# ------------------------------------------------------------------ geometries unfit to be evidence
def test_clashing_stack_is_rebuilt_or_failed():
    from tierchem.chem.dimers import closest_contact, stacked_dimer

    m = Molecule.from_smiles(NME2_AMIDE, name="N,N-dimethylbenzamide")
    assert closest_contact(*stacked_dimer(m, m))[3] < 1.0  # the rule-built stack clashes (H···H 1.2 Å)
    spec = specs_for("ie_stack", m, 2)[0]
    a, b = spec.molecules
    assert closest_contact(a, b)[3] >= 1.0                 # rebuilt: the partner moved apart until clear
    d = Molecule.from_smiles(DIIODO)
    assert specs_for("ie_stack", d, 2)[0].molecules[1].coords.tolist() == stacked_dimer(d, d)[1].coords.tolist()


def test_a_contact_that_cannot_be_cleared_is_a_recorded_failure(monkeypatch):
    import tierchem.chem.dimers as dimers

    real = dimers.clear_clash
    monkeypatch.setattr(dimers, "clear_clash", lambda a, b: real(a, b, max_shift=0.1))
    with pytest.raises(UnfitGeometry, match="atoms clash"):
        specs_for("ie_stack", Molecule.from_smiles(NME2_AMIDE), 2)
    _, no_calc = plan_calcs([Action(kind="compute", observable="ie_stack", tier=2)],
                            [member(NME2_AMIDE, "NMe2")], None)
    assert not no_calc[0].success and "failed build" in no_calc[0].error


def test_repulsive_contact_energy_never_enters_the_evidence_as_a_number():
    """The issue's N,N-dimethyl amide stack at +340 kcal/mol: a failed build, flagged, no number."""
    from tierchem.tiers.spec import CalcResult

    m = member(NME2_AMIDE, "N,N-dimethylbenzamide")
    spec = specs_for("ie_stack", m.mol(), 2)[0]
    r = CalcResult(spec=spec, cache_key="clash", success=True, values={"interaction_energy_kcal_mol": 340.0})
    ref = ResultRef(id="ie_stack@t2:x", observable="ie_stack", tier=2, molecule=m.name, success=True,
                    cache_key="clash")
    v = value_of("ie_stack", m, ref, FakeStore([r]))
    assert v.value is None and v.status == "failed" and "+340" in v.note and "failed build" in v.note
    ev = make_evidence("ie_stack", 2, "kcal/mol", "lower", ValueRef(molecule="T", value=-8.0), [v], 0.43, True, "")
    assert ev.verdict == "not_computed" and "failed build" in ev.summary


# ------------------------------------------------------------------ counts count what the hypothesis needs
@pytest.mark.parametrize("smiles, polar_h, donor_atoms", [
    ("NC(=O)c1ccccc1", 2, 1),      # primary amide: NH2 is two donors, one donor atom
    ("CNC(=O)c1ccccc1", 1, 1),     # N-methyl amide
    (NME2_AMIDE, 0, 0),            # N,N-dimethyl amide
    ("Oc1ccccc1", 1, 1),
])
def test_polar_hydrogens_count_donors(smiles, polar_h, donor_atoms):
    from tierchem.chem.descriptors import descriptors

    m = Molecule.from_smiles(smiles)
    assert OBSERVABLES["n_polar_hydrogens"].read(m, None) == polar_h
    assert descriptors(m)["n_hbond_donors"] == donor_atoms
    assert "H bonded to N or O" in OBSERVABLES["n_polar_hydrogens"].description


def test_hbond_motif_is_tested_by_polar_hydrogens():
    from tierchem.agent.hypotheses import TEMPLATES

    assert [u.observable for u in TEMPLATES["hbond_motif"].observables][0] == "n_polar_hydrogens"


# ------------------------------------------------------------------ calibrated confidence
def ev(obs: str, tier: int, z: float, adequate: bool = True, direction: str = "higher") -> Evidence:
    """Evidence of a target against one analog at a given margin z (sigma 1 per molecule)."""
    sc = 2 ** 0.5
    t = 10.0 + z * sc if direction == "higher" else -(10.0 + z * sc)
    a = 10.0 if direction == "higher" else -10.0
    return make_evidence(obs, tier, OBSERVABLES[obs].unit, direction, ValueRef(molecule="T", value=t),
                         [ValueRef(molecule="A", value=a)], 1.0, adequate, "")


def cause(*observables: str, status: str = "root-cause", cid: str = "halogen_bond") -> Hypothesis:
    return Hypothesis(id=cid, category=cid, statement="s", status=status, confidence=0.9, tier_reached=3,
                      observables=[ObservableUse(observable=o, direction="higher") for o in observables])


MECH = Hypothesis(id="halogen_bond.type_ii_contact", category="halogen_bond", statement="m", kind="mechanism",
                  mechanism_of="halogen_bond", status="mechanism-of",
                  observables=[ObservableUse(observable="ie_type_ii_halogen", direction="lower")])


@pytest.mark.parametrize("observables, evidence, mech, level", [
    (["ie_stack"], [ev("ie_stack", 1, 6.0)], None, "low"),                              # tier 1 only
    (["n_polar_hydrogens"], [ev("n_polar_hydrogens", 0, 7.0)], None, "undetermined"),  # a count only
    (["n_polar_hydrogens"], [ev("n_polar_hydrogens", 0, 7.0)],                          # count + tier-2 contact
     ev("ie_type_ii_halogen", 2, 4.0, direction="lower"), "medium"),
    (["sigma_hole"], [ev("sigma_hole", 3, 2.5)], None, "medium"),                       # tier 3 below 3 sigma
    (["sigma_hole"], [ev("sigma_hole", 3, 4.6)], None, "medium"),                       # no independent observable
    (["sigma_hole"], [ev("sigma_hole", 3, 4.6)],                                        # the mechanism agrees
     ev("ie_type_ii_halogen", 2, 2.5, direction="lower"), "high"),
    (["sigma_hole"], [ev("sigma_hole", 3, 4.6)],                                        # ... but not adequately
     ev("ie_type_ii_halogen", 2, 0.7, direction="lower"), "medium"),
    (["sigma_hole", "dipole"], [ev("sigma_hole", 3, 4.6), ev("dipole", 3, 3.5)], None, "high"),
    (["sigma_hole", "dipole"], [ev("sigma_hole", 3, 4.6), ev("dipole", 2, 3.5)], None, "medium"),  # weakest link
])
def test_confidence_is_the_weakest_link(observables, evidence, mech, level):
    hyps = [cause(*observables)] + ([MECH] if mech is not None else [])
    cal = calibrate(hyps[0], hyps, evidence + ([mech] if mech is not None else []))
    assert cal.level == level, cal.reason


def view_of(hyps, evidence, **kw) -> InvestigationView:
    series = Series(source="test", members=[member(DIIODO, "1,4-diiodobenzene", "target"),
                                            member(DIBROMO, "1,4-dibromobenzene")])
    return InvestigationView(series=series, hypotheses=hyps, evidence=evidence, **kw)


def test_nothing_adequate_is_undetermined_and_names_the_deciding_calculation():
    h = cause("sigma_hole", status="open")
    c = build(view_of([h], [ev("sigma_hole", 3, 4.6, adequate=False)]))
    assert c.root_cause is None and c.confidence == "undetermined"
    assert c.deciding_calculation.startswith("sigma_hole at tier 3")
    assert "Undetermined" in c.summary and "sigma_hole at tier 3" in c.summary


def test_conclusion_calibrates_and_says_what_would_raise_it():
    h = cause("sigma_hole")
    m = MECH.model_copy(update={"status": "mechanism-of"})
    c = build(view_of([h, m], [ev("sigma_hole", 3, 4.6), ev("ie_type_ii_halogen", 2, 0.7, direction="lower")]))
    assert c.confidence == "medium" and "no independent observable" in c.confidence_reason
    assert c.deciding_calculation.startswith("ie_type_ii_halogen at tier 3")
    assert any("sigma hole" in p or "V_s" in p for p in c.predictions)    # from the evidence used
    assert any("crystal should contain the contact that ie_type_ii_halogen models" in p for p in c.predictions)
    # a count-only root cause is undetermined, and the summary says so
    hb = cause("n_polar_hydrogens", cid="hbond_motif")
    c = build(view_of([hb], [ev("n_polar_hydrogens", 0, 7.0)]))
    assert c.confidence == "undetermined" and c.summary.startswith("Undetermined")


def test_a_descriptor_level_category_is_capped_at_low():
    """Shape keeps its descriptors (issue 11): separating descriptors carry it, but never above "low"."""
    shape = cause("asphericity", "npr1", cid="shape_sterics")
    cal = calibrate(shape, [shape], [ev("asphericity", 0, 6.0), ev("npr1", 0, 9.0)])
    assert cal.level == "low" and "descriptor-level" in cal.reason
    assert calibrate(shape, [shape], [ev("asphericity", 0, 6.0, adequate=False)]).level == "undetermined"


# ------------------------------------------------------------------ the planner spends where it matters
def leading_view(**budget) -> InvestigationView:
    """halogen_bond supported at tier 3; its type II mechanism and a pi-stacking cause still open at tier 2."""
    hb = cause("sigma_hole")
    mech = MECH.model_copy(update={"status": "open"})
    stack = Hypothesis(id="pi_stacking_quadrupole", category="pi_stacking_quadrupole", statement="s",
                       status="open", observables=[ObservableUse(observable="ie_stack", direction="lower")])
    evidence = [ev("sigma_hole", 3, 4.6), ev("ie_type_ii_halogen", 2, 1.5, direction="lower"),
                ev("ie_stack", 2, 0.5, direction="lower")]
    return view_of([hb, mech, stack], evidence, budget={"tier_cap": 3, **budget})


def test_planner_ranks_the_decisive_calculation_first():
    step = BuiltinPlanner().plan(leading_view())
    computes = [(a.observable, a.tier, a.decisive) for a in step.actions]
    assert computes == [("ie_type_ii_halogen", 3, True), ("ie_stack", 3, False)]
    assert "decisive for a leading hypothesis" in step.reasoning and "lesser" in step.reasoning


def test_causal_tests_run_before_the_budget_goes_on_a_higher_tier():
    """Two supported causes with their counterfactual test pending at tier 2 (the tier of the verdict) and the
    ladder wanting tier 3: the tests run first, so the budget cannot end with the question of cause open; once
    they are attempted, the ladder goes on."""
    v = leading_view()
    test = CausalTest(id="halogen_bond~without:pi_stacking_quadrupole", tested="halogen_bond",
                      removed="pi_stacking_quadrupole", observable="sigma_hole", tier=2,
                      molecule="1,4-diiodobenzene~without:pi_stacking_quadrupole")
    step = BuiltinPlanner().plan(v.model_copy(update={"causal_tests": [test]}))
    assert [(a.kind, a.observable, a.tier) for a in step.actions] == [("causal_test", "sigma_hole", 2)]
    assert "before tier 3" in step.reasoning
    at_top = test.model_copy(update={"tier": 3})   # a test at the ladder's own tier waits for the ladder
    step = BuiltinPlanner().plan(v.model_copy(update={"causal_tests": [at_top]}))
    assert {a.kind for a in step.actions} == {"compute"}
    # ...unless the ladder's calculations cannot run in the budget left: then it goes on the test
    poor = v.model_copy(update={"causal_tests": [at_top], "budget": v.budget.model_copy(update={"cpu_s_limit": 5.0})})
    step = BuiltinPlanner().plan(poor)
    assert [(a.kind, a.observable, a.tier) for a in step.actions] == [("causal_test", "sigma_hole", 3)]
    assert "do not fit the 5 s of budget left" in step.reasoning


def test_fits_any_follows_the_budget_rule():
    decisive, minor = RankedCalc("d", ["h"], True, 1.0, 100.0), RankedCalc("m", ["h"], False, 0.5, 10.0)
    assert fits_any([decisive, minor], 100.0) and not fits_any([decisive, minor], 50.0)  # the minor one is held back
    assert fits_any([minor], 50.0) and not fits_any([], 1e9)


def test_a_settled_low_tier_margin_of_the_leading_cause_still_climbs():
    """A root cause settled at tier 1 (z = 6) is only "low": its decisive observable is planned one tier up,
    while a settled lesser observable is not."""
    stack = cause("ie_stack", cid="pi_stacking_quadrupole")
    stack.observables[0] = ObservableUse(observable="ie_stack", direction="lower")
    other = Hypothesis(id="dipole_antiparallel", category="dipole_antiparallel", statement="d", status="open",
                       observables=[ObservableUse(observable="ie_antiparallel", role="indicator", direction="lower")])
    v = view_of([stack, other], [ev("ie_stack", 1, 6.0, direction="lower"),
                                 ev("ie_antiparallel", 1, 6.0, direction="lower")], budget={"tier_cap": 3})
    planned = {(a.observable, a.tier) for a in BuiltinPlanner().plan(v).actions}
    assert ("ie_stack", 2) in planned and ("ie_antiparallel", 2) not in planned


def test_a_lesser_cause_its_adequate_indicator_contradicts_gets_no_expensive_tier():
    """A cause whose adequate tier-0 indicator already says the opposite (the target less polarisable by
    its molar refractivity) is not escalated to DFT while it is not leading; the plan says why."""
    v = leading_view()
    disp = Hypothesis(id="dispersion_polarisability", category="dispersion_polarisability", statement="d",
                      status="open", observables=[
                          ObservableUse(observable="molar_refractivity", role="indicator", direction="higher"),
                          ObservableUse(observable="polarizability", direction="higher")])
    opposite = ev("molar_refractivity", 0, -5.0)
    assert opposite.verdict == "opposite"
    cheap_look = ev("polarizability", 2, -1.0, adequate=False)  # tier 2 done: the next rung is DFT
    v = v.model_copy(update={"hypotheses": [*v.hypotheses, disp], "evidence": [*v.evidence, opposite, cheap_look]})
    step = BuiltinPlanner().plan(v)
    assert ("polarizability", 3) not in {(a.observable, a.tier) for a in step.actions}
    assert "dispersion_polarisability above tier 2: molar_refractivity at tier 0 already points the other way" \
        in step.reasoning


@pytest.mark.parametrize("budget, kept, dropped", [
    (1000.0, ["decisive", "minor"], []),
    (110.0, ["decisive"], ["minor"]),        # the minor one goes first, whatever it costs
    (50.0, [], ["decisive", "minor"]),       # the decisive one does not fit: the minor one does not run instead
])
def test_budget_drops_lesser_calculations_first(budget, kept, dropped):
    calcs = [PlannedCalc(spec={}, observable="minor", tier=3, molecule=m, estimate_s=10.0) for m in "AB"]
    calcs += [PlannedCalc(spec={}, observable="decisive", tier=3, molecule=m, estimate_s=50.0, decisive=True)
              for m in "AB"]   # listed after the minor one: the budget still serves it first
    out, gone = fit_budget(calcs, budget)
    assert list(dict.fromkeys(p.observable for p in out)) == kept
    assert [g[0] for g in gone] == dropped
    if budget == 50.0:
        assert "held back" in gone[1][2] and "decisive at tier 3" in gone[1][2]


def test_a_calculation_under_a_second_is_never_refused_for_budget():
    """A spent budget (here overspent by 150 s) still runs an RDKit descriptor: refusing it saves nothing."""
    free = [PlannedCalc(spec={}, observable="asphericity", tier=0, molecule="A", estimate_s=0.01)]
    assert fit_budget(free, -150.0) == (free, [])
    costly = [free[0].model_copy(update={"estimate_s": 2.0})]
    assert fit_budget(costly, 0.0)[0] == [] and "exceeds the 0 s of budget left" in fit_budget(costly, 0.0)[1][0][2]


def test_planned_order_survives_the_budget():
    """With the planner's own actions and a budget that fits only the decisive contact energies."""
    v = leading_view()
    step = BuiltinPlanner().plan(v)
    planned, _ = plan_calcs([a for a in step.actions if a.kind == "compute"], v.series.members, None)
    decisive_cost = sum(p.estimate_s for p in planned if p.observable == "ie_type_ii_halogen")
    out, gone = fit_budget(planned, decisive_cost + 1.0)
    assert {p.observable for p in out} == {"ie_type_ii_halogen"} and [g[0] for g in gone] == ["ie_stack"]


def test_lesser_calculations_go_to_the_background_only_beside_a_leading_one():
    """At the background tier the leading hypothesis's decisive number stays in the foreground and a lesser
    idea's runs beside it; a step with lesser calculations only keeps them in the foreground (else nothing
    would answer the question before the run ends), and dimers always go to the background."""
    members = [member(DIIODO, "T")]
    sigma = Action(kind="compute", observable="sigma_hole", tier=3, decisive=True)
    alpha = Action(kind="compute", observable="polarizability", tier=3)
    dimer = Action(kind="compute", observable="ie_type_ii_halogen", tier=3, decisive=True)
    where = lambda actions: {p.observable: p.background for p in plan_calcs(actions, members, 3)[0]}
    assert where([sigma, alpha, dimer]) == {"sigma_hole": False, "polarizability": True, "ie_type_ii_halogen": True}
    assert where([alpha, sigma.model_copy(update={"decisive": False})]) == {"polarizability": False,
                                                                             "sigma_hole": False}
    assert not any(p.background for p in plan_calcs([sigma, alpha, dimer], members, None)[0])  # no background
