"""The investigation commands of the ``tierchem`` CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tierchem.agent.cli import app

runner = CliRunner()


def test_investigate_report_resume_graph(tmp_path):
    series = tmp_path / "series.csv"
    series.write_text("name,smiles,role\niodobenzene,Ic1ccccc1,target\nbromobenzene,Brc1ccccc1,analog\n")
    run = tmp_path / "run"
    r = runner.invoke(app, ["investigate", str(series), "-q", "Why?", "--run-dir", str(run), "--tier-cap", "0",
                            "--cache-dir", str(tmp_path / "cache")])
    assert r.exit_code == 0, r.output
    assert "onclusion" in r.output and (run / "conclusion.json").exists()
    r = runner.invoke(app, ["report", str(run), "--format", "html"])
    assert r.exit_code == 0 and r.output.strip().endswith("report.html")
    r = runner.invoke(app, ["resume", str(run)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "graph.mmd"
    r = runner.invoke(app, ["graph", "--out", str(out)])
    assert r.exit_code == 0 and "await_background" in out.read_text()
    assert json.loads((run / "conclusion.json").read_text())["target"] == "iodobenzene"


def test_investigate_bad_input(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,smiles,role\na,CC,analog\n")
    r = runner.invoke(app, ["investigate", str(bad), "-q", "Why?", "--run-dir", str(tmp_path / "run")])
    assert r.exit_code == 2 and "target" in r.output
    r = runner.invoke(app, ["resume", str(tmp_path / "nowhere")])
    assert r.exit_code == 2 and "not an investigation" in r.output
