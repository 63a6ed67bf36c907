"""Crystal structures as evidence (issue 14, done-means 5): an investigation given CIFs computes the
pair energies of the real crystals (GAFF2, out to 20 Å), splits the pair-sum lattice energy by contact
class, uses the split as evidence on the hypotheses, and shows it in the report's crystal section.

The series is X23's urea (target: N-H···O tapes) against X23's benzene (analog: herringbone, no
H-bond): the H-bond hypothesis gains the crystal's support, the stacking one carries nothing in
urea's crystal and loses confidence.
"""

from __future__ import annotations

import pytest

from tierchem.agent import crystal_facts as cf
from tierchem.agent.state import ContactEnergy, CrystalFacts, CrystalPairEnergies, Hypothesis

# GAFF2/AM1-BCC pair sum of X23 benzene to 20 Å, kcal/mol per molecule: -12.41, against -12.47 for the
# periodic (PME) lattice energy at the same geometry; both measured in this repo (benchmarks/crystal_x23.py,
# tests/test_crystal_pairs.py CLASSICAL_X23; OpenMM 8.6.1, AM1-BCC from sqm). Benzene has no short contact
# in its shell (every shell pair is "other"), 85 % of the sum.
BENZENE_PAIR_SUM, BENZENE_PERIODIC = -12.41, -12.47


@pytest.fixture
def urea_benzene(x23_series, tmp_path):
    """A series folder: urea (target) and benzene (analog), each with its X23 CIF beside series.csv."""
    return x23_series(tmp_path / "series", [("urea", "NC(N)=O", "target"), ("benzene", "c1ccccc1", "analog")])


def _same_as_crystal_report(c: CrystalFacts, folder, store) -> None:
    """Every crystal's lattice energy and contact split equal a direct crystal_views.crystal_report call on
    the same store, and every cache key is a stored interaction energy."""
    from tierchem.agent.crystal_views import crystal_report
    from tierchem.chem.crystal import read_cif

    for name, pe in c.pair_energies.items():
        direct = crystal_report(read_cif(folder / f"{name}.cif", name=name), ["classical"], store, radius=20.0,
                                periodic=False)
        assert pe.lattice_energy_kcal_mol == pytest.approx(direct["pair_sums"]["classical"]["lattice_energy_kcal_mol"],
                                                           abs=1e-3)
        split = direct["lattice_energy_by_contact_class"]["classical"]
        assert {ce.contact: ce.energy_kcal_mol for ce in pe.by_contact} == pytest.approx(split, abs=1e-3)
        assert sum(ce.energy_kcal_mol for ce in pe.by_contact) == pytest.approx(pe.pair_sum_kcal_mol, abs=1e-3)
        assert sum(len(ce.cache_keys) for ce in pe.by_contact) == pe.n_pair_classes == len(
            {p.pair_class for p in direct["_pair_set"].pairs})
        for ce in pe.by_contact:
            stored = [store.get(k) for k in ce.cache_keys]
            assert all(r is not None and r.success and r.spec.task == "interaction_energy" for r in stored)
            by_class = dict(zip(ce.pair_classes, stored))
            assert all(r.values["interaction_energy_kcal_mol"] == pytest.approx(direct["_energies"]["classical"][k])
                       for k, r in by_class.items())


# ------------------------------------------------------------------ the crystal facts alone
def test_read_crystals_gives_pair_energies_as_evidence(urea_benzene, store):
    from tierchem.agent.series import read_series

    c = cf.read_crystals(read_series(urea_benzene), store=store)
    assert c.target == "urea" and set(c.pair_energies) == {"urea", "benzene"}
    _same_as_crystal_report(c, urea_benzene, store)
    urea, benzene = c.pair_energies["urea"], c.pair_energies["benzene"]
    assert urea.tier == 1 and urea.method == "GAFF2/AM1-BCC" and urea.sigma_kcal_mol == 2.0
    # the pinned number: benzene's pair sum, as measured before (and the periodic value it stands for)
    assert benzene.lattice_energy_kcal_mol == pytest.approx(BENZENE_PAIR_SUM, abs=0.3)
    assert benzene.lattice_energy_kcal_mol == pytest.approx(BENZENE_PERIODIC, abs=0.5)
    assert benzene.energy("other") / benzene.pair_sum_kcal_mol == pytest.approx(0.85, abs=0.05)
    # urea's H-bonded pairs carry more than its whole lattice energy (the far pairs are net repulsive)
    assert urea.energy("hbond") < -20 and urea.energy("hbond") / urea.pair_sum_kcal_mol > 0.9
    assert benzene.energy("hbond") == 0.0 and urea.energy("pi_stack") == 0.0
    assert any(f.startswith("H-bond pairs carry") and "urea's crystal" in f for f in c.facts)
    assert urea.framework_png is None or urea.framework_png.endswith(".png")
    # the Hirshfeld surfaces (occpy promolecule, 0.2 Å grid; measured here): urea's N-H···O tapes put H···O on
    # 37 % of its surface and benzene has none, benzene's surface is H···H 65 % and C···H 35 %
    shares = c.surface_shares
    assert shares["urea"]["H···O"] == pytest.approx(36.5, abs=3) and shares["benzene"].get("H···O", 0.0) == 0.0
    assert shares["benzene"]["H···H"] == pytest.approx(64.5, abs=3) and sum(shares["urea"].values()) == \
        pytest.approx(100.0, abs=0.5)
    assert any(f.startswith("H···O contacts cover 3") and "urea's Hirshfeld surface" in f for f in c.facts)
    assert c.fingerprint_png is None or c.fingerprint_png.endswith(".png")

    def h(hid, category, kind="cause"):
        return Hypothesis(id=hid, category=category, statement="x", kind=kind, confidence=0.3, reason="tier 1",
                          mechanism_of=category if kind == "mechanism" else None)

    hb, stack, dip = h("hbond_motif", "hbond_motif"), h("pi_stacking_quadrupole", "pi_stacking_quadrupole"), \
        h("dipole_antiparallel", "dipole_antiparallel")
    assert cf.energy_check(hb, c).status == "supports"
    assert cf.energy_check(stack, c).status == "carries_nothing"
    assert cf.energy_check(dip, c).status == "not_applicable"
    cf.apply_checks([hb, stack, dip], c)
    assert hb.confidence == pytest.approx(0.4) and "supported by the observed crystals' pair energies" in hb.reason
    assert "H-bond pairs carry" in hb.history[-1]
    assert stack.confidence == pytest.approx(0.15) and "π-stack" in stack.reason
    assert dip.confidence == 0.3 and dip.reason == "tier 1"
    cf.apply_checks([hb, stack, dip], c)       # once per verdict
    assert (hb.confidence, stack.confidence, len(hb.history)) == (pytest.approx(0.4), pytest.approx(0.15), 1)


# ------------------------------------------------------------------ the rule, on numbers
def _facts(target: dict[str, float], analogs: dict[str, dict[str, float]], tier: int = 1) -> CrystalFacts:
    def pe(name, split):
        total = sum(split.values()) or -10.0
        return CrystalPairEnergies(
            member=name, tier=tier, level="classical", method="GAFF2/AM1-BCC", radius_angstrom=20.0,
            lattice_energy_kcal_mol=total, pair_sum_kcal_mol=total, sigma_kcal_mol=cf.SIGMA_CONTACT_KCAL_MOL[tier],
            n_pair_classes=len(split), by_contact=[ContactEnergy(contact=k, label=k, energy_kcal_mol=v, fraction=v / total)
                                                   for k, v in split.items()])
    return CrystalFacts(target="t", target_read=True, pair_energies={
        "t": pe("t", target), **{n: pe(n, s) for n, s in analogs.items()}})


@pytest.mark.parametrize("hid, target, analogs, status", [
    ("hbond_motif", {"hbond": -8.0, "other": -6.0}, {"a": {"other": -12.0}}, "supports"),
    ("hbond_motif", {"hbond": -8.0}, {"a": {"hbond": -5.0}}, "shared"),              # 3.0 apart < 2σ = 4.0
    ("hbond_motif", {"hbond": -3.0, "other": -9.0}, {"a": {"other": -12.0}}, "weak"),  # within 2σ of nothing
    ("hbond_motif", {"hbond": -0.6, "other": -9.0}, {"a": {"other": -12.0}}, "carries_nothing"),
    ("pi_stacking_quadrupole", {"other": -9.0}, {"a": {"pi_stack": -6.0}}, "carries_nothing"),
    ("hbond_motif", {"hbond": -8.0}, {}, "not_applicable"),                          # nothing to compare with
    # plain GAFF2 has no sigma hole: its halogen-contact energies are not evidence, whatever they say
    ("halogen_bond.type_ii_contact", {"type_ii_xx": -6.0}, {"a": {"other": -9.0}}, "not_adequate"),
    ("halogen_bond", {"halogen_bond": -6.0}, {"a": {"other": -9.0}}, "not_adequate"),
    ("shape_sterics", {"other": -9.0}, {"a": {"other": -9.0}}, "not_applicable"),
])
def test_energy_check_rule(hid, target, analogs, status):
    category, _, motif = hid.partition(".")
    h = Hypothesis(id=hid, category=category, statement="x", kind="mechanism" if motif else "cause",
                   mechanism_of=category if motif else None)
    check = cf.energy_check(h, _facts(target, analogs))
    assert check.status == status, check.reason
    if status == "not_adequate":
        assert "sigma hole" in check.reason


def test_support_cap_is_the_low_evidence_cap():
    from tierchem.agent.evidence import LEVEL_CAP

    assert cf.SUPPORT_CAP == LEVEL_CAP["low"]


# ------------------------------------------------------------------ an investigation
def test_investigation_uses_crystal_pair_energies(urea_benzene, tmp_path):
    """The whole loop (built-in planner, tier cap 1): the pair energies are in the state with their keys,
    equal a direct crystal_report's, move the hypotheses, and the report's crystal section shows them.
    The run's store is the default one (TIERCHEM_CACHE_DIR, per test), which read_crystals also uses. The
    budget is one the crystal step can use up (CI, 2026-12-03: no analyse ran), so the crystal's verdict
    must not wait for analyse."""
    from tierchem.agent.crystal_facts import crystal_figures
    from tierchem.agent.report import crystal_section
    from tierchem.agent.session import Investigation

    run = tmp_path / "run"
    with Investigation.create(urea_benzene, "Why does urea pack differently from benzene?", run, tier_cap=1,
                              cpu_budget_s=15) as inv:
        v = inv.run()
        store = inv.store
    c = v.crystal
    assert v.conclusion is not None and set(c.pair_energies) == {"urea", "benzene"} and c.energy_seconds > 0
    _same_as_crystal_report(c, urea_benzene, store)
    hb = next(h for h in v.hypotheses if h.id == "hbond_motif")
    assert any(x.startswith("supported by the observed crystals' pair energies") for x in hb.history)
    md = (run / "report.md").read_text()
    section = md[md.index("## Observed crystal structures"):]
    urea = c.pair_energies["urea"]
    assert "Pair energies in urea's crystal" in section and "Pair energies in benzene's crystal" in section
    assert f"**{urea.lattice_energy_kcal_mol:.2f} kcal/mol per molecule**" in section
    assert f"| H-bond | {urea.energy('hbond'):.2f} |" in section
    assert urea.by_contact[0].cache_keys[0][:12] in section
    assert "What the crystals' energies say about each hypothesis" in section
    assert "| hbond_motif |" in section and "supports" in section
    # the frameworks drawn by the crystal step, as the section shows them when given the figures
    assert "Hirshfeld surface contacts" in section and "| H···O |" in section
    figures = crystal_figures(v)
    if figures:
        sec = crystal_section(v, figures)
        assert "![Energy framework of urea's crystal" in sec.markdown()
        assert "![Hirshfeld surface fingerprints of the crystals" in sec.markdown()
