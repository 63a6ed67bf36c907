"""benchmarks/investigations.py: scoring on fixed conclusions (fast), and small literature series run end to
end through `tierchem investigate` at tier cap 2 (slow)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LINE = re.compile(r"^(?P<name>[\w-]+): (?P<status>right|wrong|undetermined) (?P<root>[\w-]+) "
                  r"(?P<confidence>high|medium|low|undetermined|-) tiers=(?P<tiers>[\d,]+|-) wall=\d+\.\ds")


def _bench():
    """benchmarks/ is not a package: load the script as a module (registered, as dataclasses need)."""
    name = "investigations_bench"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "investigations.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _conclusion(category=None, confidence="medium", **extra):
    root = None if category is None else {"category": category, "id": category, "evidence": "x at tier 3: ..."}
    return {"root_cause": root, "confidence": confidence, "open": [], "cause_and_consequence": [], **extra}


@pytest.mark.parametrize("conclusion, expected, status", [
    (_conclusion("tautomerism"), "tautomerism", "right"),
    (_conclusion("dipole_antiparallel", "high"), "intramolecular_hbond", "wrong"),
    (_conclusion("tautomerism", "undetermined"), "tautomerism", "undetermined"),   # named, but declined
    (_conclusion(None, "undetermined"), "halogen_bond", "undetermined"),
    (_conclusion(None, "undetermined"), "undetermined", "right"),
    (_conclusion("shape_sterics", "undetermined"), "undetermined", "right"),
    (_conclusion("shape_sterics", "low"), "undetermined", "wrong"),
])
def test_score(conclusion, expected, status):
    assert _bench().score(conclusion, expected) == status


def test_summary_counts_only_confident_wrong_answers():
    b = _bench()
    outcomes = [b.Outcome("a", "x", "right", confidence="high"), b.Outcome("b", "x", "wrong", confidence="low"),
                b.Outcome("c", "x", "wrong", confidence="medium"), b.Outcome("d", "x", "undetermined"),
                b.Outcome("e", "x", "timeout")]
    assert b.summary_line(outcomes) == "right 1/5, wrong-with-confidence 1"


def test_line_tiers_and_cause_and_consequence_rows():
    b = _bench()
    case = b.Case("nitrophenol_vs_phenols", REPO, "q", "intramolecular_hbond")
    pair = {"pair": ["intramolecular_hbond", "dipole_antiparallel"], "verdict": "consequence",
            "root": "intramolecular_hbond", "consequence": "dipole_antiparallel", "prior": "agrees",
            "tests": [{"tested": "dipole_antiparallel", "removed": "intramolecular_hbond", "observable": "dipole",
                       "tier": 2, "unit": "D", "target": 4.3, "counterfactual": 1.2, "analogs": {"phenol": 1.5},
                       "status": "computed", "survives": False}]}
    c = _conclusion("intramolecular_hbond", "low", cause_and_consequence=[pair],
                    rejected=[{"reason": "asphericity at tier 0: ..."}])
    o = b.outcome_from_conclusion(case, c, 12.34)
    assert o.tiers == [0, 3]  # no store given: read from the verdicts' 'at tier N'
    assert LINE.match(b.format_line(o)).group("status") == "right"
    assert o.supported == ["intramolecular_hbond", "dipole_antiparallel"]
    assert "without intramolecular_hbond: target 4.3 -> 1.2 D" in o.causal_rows[1]
    alone = b.outcome_from_conclusion(case, _conclusion("intramolecular_hbond"), 1.0)
    assert alone.causal_rows == []


def test_every_series_is_complete():
    """Each literature series has one target, 2-4 analogs, a question and a cited expected answer."""
    from tierchem.agent.hypotheses import CATEGORIES
    from tierchem.agent.series import read_series

    b = _bench()
    cases = b.load_cases()
    assert len(cases) >= 12
    expected = {c.expected for c in cases}
    assert len(expected - {"undetermined"}) >= 6 and "undetermined" in expected
    for c in cases:
        assert c.expected in (*CATEGORIES, "undetermined"), c.name
        series = read_series(c.folder)  # the loader `tierchem investigate` uses: every SMILES parses
        assert len(series.analogs) in range(2, 5) and not series.skipped, c.name
        meta = json.loads((c.folder / "meta.json").read_text())
        assert meta["source"] and meta["why"], c.name


def test_unknown_series_is_one_line_and_exit_2(capsys):
    assert _bench().main(["--only", "no_such_series"]) == 2
    assert "unknown series no_such_series" in capsys.readouterr().err


@pytest.mark.slow
def test_small_series_end_to_end(tmp_path, capsys):
    """Two small series through `tierchem investigate` at tier cap 2 (about 2-5 minutes each on 2 cores):
    the line format; 2-hydroxypyridine's lactam tautomer named (tautomer_energy_polar at GFN2-xTB/ALPB
    water, its analogs without an alternative tautomer), and the isotopologues (which differ in nothing the
    library computes) left undetermined."""
    b = _bench()
    names = ["hydroxypyridine_lactam", "pyridine_isotopologues"]
    assert b.main(["--only", *names, "--tier-cap", "2", "--budget-s", "300", "--timeout-s", "900",
                   "--work", str(tmp_path), "--json", str(tmp_path / "t.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {m.group("name"): m for m in map(LINE.match, lines) if m}
    assert set(rows) == set(names), lines
    assert rows["hydroxypyridine_lactam"].group("root") == "tautomerism", lines
    assert rows["pyridine_isotopologues"].group("confidence") == "undetermined", lines
    assert lines[-1] == "right 2/2, wrong-with-confidence 0", lines
    table = json.loads((tmp_path / "t.json").read_text())
    assert [s["name"] for s in table["series"]] == names
    assert all(s["wall_s"] > 0 and s["tiers"] for s in table["series"])
