"""The report's sections on hand-built investigations (no calculation runs): the method table reads
what each stored result recorded, Markdown and HTML come from the same sections, and the shared
views (agent.views) serve the report and the notebook alike."""

from __future__ import annotations

import json
import re

import pytest

from tierchem.agent import report
from tierchem.agent.state import (
    Conclusion, DesignHypothesis, DesignState, Escalation, Evidence, Hypothesis, InvestigationView, MechanismStep,
    ObservableUse, Proposal, RejectedHypothesis, ResultRef, RigorousCalc, RootCause, Series, SeriesMember, Utterance,
    ValueRef,
)
from tierchem.agent.views import BOARD_HEAD, Document, Paragraph, Section, Table, board_rows, cite, fmt_value
from tierchem.chem import Molecule
from tierchem.tiers import CalcResult, ResultStore, make_spec
from tierchem.tiers.levels import REFERENCES, method_references

CELL = [[6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [0.0, 0.0, 6.0]]


def _member(name: str, smiles: str, role: str) -> SeriesMember:
    return SeriesMember(name=name, smiles=smiles, role=role,
                        molecule=Molecule.from_smiles(smiles, name=name).model_dump(mode="json"))


def _stored(store: ResultStore, spec, provenance: dict | None = None, **values) -> str:
    """``spec``'s result put in ``store`` by hand (nothing runs); its key."""
    versions = {"tblite": "0.4.0"}
    result = CalcResult(spec=spec, cache_key=spec.cache_key(versions), success=True, values=values,
                        engine_versions=versions, provenance=provenance or {})
    assert store.put(result)
    return result.cache_key


@pytest.fixture(scope="module")
def series() -> Series:
    return Series(source="examples/x/series.csv", members=[_member("iodobenzene", "Ic1ccccc1", "target"),
                                                          _member("bromobenzene", "Brc1ccccc1", "analog")])


def _view(series: Series, results: list[ResultRef] = (), **fields) -> InvestigationView:
    return InvestigationView(question="Why?", series=series, results=list(results), **fields)


def _lattice_ref(key: str) -> ResultRef:
    return ResultRef(id="lattice@t2:iodobenzene", observable="lattice_energy", tier=2, molecule="iodobenzene",
                     success=True, cache_key=key)


def test_method_section_names_the_method_that_ran_for_a_lattice_energy(series, tmp_path):
    store = ResultStore(tmp_path / "store.sqlite")
    mol = series.target.mol()
    spec = make_spec("lattice_energy", [mol, mol], "xtb", cell_angstrom=CELL)
    assert spec.tier == 2 and spec.method == "GFN1-xTB"  # the xTB tier's lattice energies run GFN1
    key = _stored(store, spec, {"settings": {"accuracy": 1.0, "max_iterations": 250, "cell_angstrom": CELL},
                                "model_notes": "Gamma-point sampling of a supercell."}, lattice_energy_kcal_mol=-12.0)
    md = report.methods_section(_view(series, [_lattice_ref(key)]), store).markdown()
    row = next(ln for ln in md.splitlines() if ln.startswith("| 2 |"))
    assert "| GFN1-xTB |" in row and "GFN2-xTB" not in row and "D3(BJ) (built into GFN1-xTB)" in row
    assert method_references(2, "GFN1-xTB") == ("GFN1-xTB",)
    assert cite("GFN1-xTB") == f"[{list(REFERENCES).index('GFN1-xTB') + 1}]"
    assert row.endswith(f"| {cite('GFN1-xTB')} |")
    assert "Gamma-point sampling of a supercell." in row and "settings accuracy=1.0, cell_angstrom per calculation" in row
    assert "lattice_energy ×1" in row and "xtb (tblite 0.4.0)" in row
    refs = report.references_section().markdown()
    assert f"{cite('GFN1-xTB')[1:-1]}. **GFN1-xTB.** S. Grimme, C. Bannwarth, P. Shushkov" in refs


def test_method_section_falls_back_to_the_spec_keywords_of_old_stores(series, tmp_path):
    store = ResultStore(tmp_path / "store.sqlite")
    spec = make_spec("energy", series.target.mol(), "xtb", electronic_temperature=500.0)
    key = _stored(store, spec, {}, energy_kcal_mol=-1.0)  # an old result: no settings, no model notes
    ref = ResultRef(id="e@t2:iodobenzene", observable="energy", tier=2, molecule="iodobenzene", success=True,
                    cache_key=key)
    row = next(ln for ln in report.methods_section(_view(series, [ref]), store).markdown().splitlines()
               if ln.startswith("| 2 |"))
    assert "| GFN2-xTB |" in row and "keywords electronic_temperature=500.0" in row
    assert row.endswith(f"| {cite(*method_references(2, 'GFN2-xTB'))} |") and "D4 (built into GFN2-xTB)" in row
    # without a store: the tier table's labels
    md = report.methods_section(_view(series, [ref])).markdown()
    assert "tier 2: semi-empirical (GFN2-xTB, tblite)" in md


def _full_view(series: Series) -> InvestigationView:
    h = Hypothesis(id="halogen_bond", category="halogen_bond", statement="s", status="root-cause", confidence=0.8,
                   tier_reached=1, observables=[ObservableUse(observable="ie_type_ii_halogen", direction="lower")])
    m = Hypothesis(id="halogen_bond.type_ii_contact", category="halogen_bond", kind="mechanism",
                   mechanism_of="halogen_bond", statement="m", status="mechanism-of", confidence=0.6)
    r = Hypothesis(id="shape_sterics", category="shape_sterics", statement="s", status="rejected")
    e = Evidence(id="ie@t1", observable="ie_type_ii_halogen", tier=1, unit="kcal/mol", direction="lower",
                 target=ValueRef(molecule="iodobenzene", value=-3.21, cache_keys=["abcdef0123456789"]),
                 analogs=[ValueRef(molecule="bromobenzene", value=-1.5), ValueRef(molecule="x | y", value=None)],
                 sigma=0.4, adequate=False, adequacy_note="fixed charges", effect=1.71, z=3.0, verdict="separates")
    c = Conclusion(provisional=False, summary="Halogen bonding; the sigma hole & friends.", confidence="high",
                   root_cause=RootCause(category="halogen_bond", id="halogen_bond", statement="XB", confidence=0.8,
                                        evidence="ie", tier=1),
                   mechanism=[MechanismStep(category="halogen_bond", id="halogen_bond.type_ii_contact", statement="II",
                                            confidence=0.6, evidence="geom", tier=1, mechanism_of="halogen_bond")],
                   rejected=[RejectedHypothesis(category="shape_sterics", id="shape_sterics", reason="shared")],
                   caveats=["gas-phase dimers"], changes=["halogen_bond rose."])
    p = Proposal(id="p1", rank=1, smiles="Clc1ccc(I)cc1", name="4-chloroiodobenzene", transformation="Br->Cl",
                 description="d", discrimination=0.7, sa_score=1.5, heavy_atoms=8, rank_score=0.6, coverage=1.0,
                 basis_kind={"halogen_bond": "proxy"}, positions={"halogen_bond": 0.9}, values={"ie": -2.345, "n": 3},
                 experiment="grow it", predictions={"halogen_bond": "packs like the target"},
                 evidence_refs=["0123456789abcdef"],
                 rigorous={"halogen_bond": RigorousCalc(observable="ie_type_ii_halogen", tier=3, status="running")})
    design = DesignState(hypotheses=[DesignHypothesis(id="halogen_bond", role="cause", observable="ie_type_ii_halogen",
                                                      tier=1, evidence="ie@t1")], notes=["a note"])
    return _view(series, [ResultRef(id="x", observable="ie_type_ii_halogen", tier=1, molecule="iodobenzene",
                                    success=False, error="engine_missing: no openmm", wall_time_s=1.5)],
                 hypotheses=[h, m, r], evidence=[e], conclusion=c, proposals=[p], design=design,
                 escalations=[Escalation(tier=1, reason="why not", n_calcs=2, estimate_s=12.0)],
                 transcript=[Utterance(speaker="scientist", text="why")])


def test_markdown_and_html_come_from_the_same_sections(series):
    v = _full_view(series)
    figures = {"mol:iodobenzene": report.FigureFile("molecule_1.svg", "iodobenzene (target)", b"<svg/>",
                                                    "image/svg+xml")}
    doc = report.document(v, None, figures)
    md = doc.markdown()
    for text in ("# Investigation: iodobenzene", "## Conclusion", "- **Root cause** (`halogen_bond`, halogen_bond): XB",
                 "  - Evidence: ie", "**What changed:** halogen_bond rose.", "## Hypothesis board",
                 "| halogen_bond | halogen_bond | cause | root-cause | 0.80 | 1 | 1 | built-in |",
                 "### Tier 1: classical (OpenMM, GAFF2/AM1-BCC) [", "iodobenzene: -3.21 `abcdef012345`",
                 "bromobenzene: -1.5 `—`<br>x \\| y: n/a `—`", "no: fixed charges", "## Confirmatory molecules",
                 "| 1 | 4-chloroiodobenzene `Clc1ccc(I)cc1` | Br->Cl | 0.70 | 1.5 | 0.60 | 0.90* |",
                 "- Computed: ie = -2.35, n = 3 (results `0123456789ab`)", "running in the background",
                 "| 1 | 1 | 12 | 1.5 | why not |", "**Skipped or failed calculations**", "## Steering",
                 "![iodobenzene (target)](figures/molecule_1.svg)", "## References", "1. **RDKit.**"):
        assert text in md, text
    page = report.to_html(doc, "tierchem: iodobenzene")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "figures/" not in page
    assert "src='data:image/svg+xml;base64," in page and "<figcaption>iodobenzene (target)</figcaption>" in page
    assert "<section id='conclusion' class='conclusion'>" in page and "<nav><a href='#conclusion'>" in page
    assert "<span class='badge st-root-cause'>root-cause</span>" in page
    assert "<span class='badge v-separates'>separates</span>" in page
    assert "<div class='tablewrap'><table>" in page and "x | y: n/a" in page and "<br />" in page
    assert "the sigma hole &amp; friends" in page and "<a href=\"https://www.rdkit.org\">" in page
    # the navigation names every section the Markdown has
    assert re.findall(r"^## (.+)$", md, re.M) == [html_title for html_title in
                                                  re.findall(r"<a href='#[^']+'>([^<]+)</a>", page)]
    data = report.conclusion_json(v)
    assert list(data["root_cause"]) == ["category", "id", "statement", "confidence", "evidence"]
    assert data["mechanism"][0]["mechanism_of"] == "halogen_bond" and data["rejected"][0]["reason"] == "shared"
    assert data["proposals"][0]["rigorous"]["halogen_bond"]["status"] == "running"
    json.dumps(data)


def test_html_escapes_what_the_user_wrote():
    doc = Document("t <b>", [Paragraph("**Question.** <script>alert(1)</script>")],
                   [Section("S", [Table(["a"], [["<img src=x onerror=alert(1)>"]])])])
    page = doc.html("t")
    assert "<script>" not in page and "<img src=x" not in page and "&lt;script&gt;" in page


def test_one_formatter_and_the_board_rows(series):
    assert fmt_value(None) == "n/a" and fmt_value(-3.2149) == "-3.21" and fmt_value(3) == "3"
    v = _full_view(series)
    rows = board_rows(v)
    assert [r.id for r in rows][0] == "halogen_bond" and len(rows[0].cells()) == len(BOARD_HEAD)
    from tierchem.agent.notebook import Board, EvidenceTable

    board = Board(v)
    assert "halogen_bond" in board and "| root-cause |" in board._repr_markdown_()
    table = EvidenceTable(v)
    assert table.rows()[0][3] == "bromobenzene: -1.5; x | y: n/a" and "x \\| y" in table._repr_markdown_()
