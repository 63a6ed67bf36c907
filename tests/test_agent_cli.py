"""The investigation commands of the ``tierchem`` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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
    r = runner.invoke(app, ["resume", str(run), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["target"] == "iodobenzene"  # --json: conclusion.json on stdout, the rest on stderr
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


class _Captured(ValueError):
    pass


@pytest.fixture
def captured(monkeypatch):
    """Investigation.create records its arguments and stops the command (exit 2, one line)."""
    from tierchem.agent.session import Investigation

    calls = []

    def create(*args, **kwargs):
        calls.append((args, kwargs))
        raise _Captured("captured")

    monkeypatch.setattr(Investigation, "create", create)
    return calls


def test_investigate_options_reach_the_investigation(tmp_path, captured):
    args = ["investigate", "s.csv", "--question", "Why?", "--run-dir", str(tmp_path / "r"), "--tier-cap", "1",
            "--budget-s", "60", "--executor", "pool:2", "--llm", "built-in"]
    r = runner.invoke(app, [*args, "--store", str(tmp_path / "s.sqlite")])
    assert r.exit_code == 2 and "captured" in r.output
    (series, question, run_dir), kw = captured[-1]
    assert (str(series), question, run_dir) == ("s.csv", "Why?", tmp_path / "r")
    assert kw == {"llm": "built-in", "tier_cap": 1, "cpu_budget_s": 60.0, "executor": "pool:2",
                  "wait_background": True, "store_path": tmp_path / "s.sqlite", "fresh": False}
    runner.invoke(app, [*args, "--cache-dir", str(tmp_path / "c")])
    assert captured[-1][1]["store_path"] == tmp_path / "c" / "results.sqlite"
    r = runner.invoke(app, [*args, "--cache-dir", str(tmp_path / "c"), "--store", str(tmp_path / "s.sqlite")])
    assert r.exit_code == 2 and "not both" in r.output and len(captured) == 2


def test_demo_takes_its_run_directory_as_argument_or_option(tmp_path, captured):
    for args in (["demo", str(tmp_path / "d")], ["demo", "--run-dir", str(tmp_path / "d")]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and "captured" in r.output
        assert Path(captured[-1][0][2]) == tmp_path / "d"
    r = runner.invoke(app, ["demo", str(tmp_path / "a"), "--run-dir", str(tmp_path / "b")])
    assert r.exit_code == 2 and "two run directories" in r.output and len(captured) == 2
