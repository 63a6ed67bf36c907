"""Replays of finished investigations (agent/replay.py): the same inputs into a new run directory copy the
earlier run's files instead of running it again; anything that could differ runs it normally.

One small tier-0 run (iodobenzene against bromobenzene, a few seconds) is made once and kept in a store
shared by the tests here; each test then runs or replays beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierchem.agent import replay
from tierchem.agent.cli import app
from tierchem.agent.session import Investigation

runner = CliRunner()
REPLAYED = "Replayed from an identical earlier run"
QUESTION = "Why does iodobenzene differ?"


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """(folder, series file, store folder, the first run's directory): the first run, finished and kept."""
    tmp = tmp_path_factory.mktemp("replay")
    series = tmp / "series.csv"
    series.write_text("name,smiles,role\niodobenzene,Ic1ccccc1,target\nbromobenzene,Brc1ccccc1,analog\n")
    first = tmp / "first"
    r = investigate(series, first, tmp / "store")
    assert r.exit_code == 0 and REPLAYED not in r.output, r.output
    assert len(list((tmp / "store" / replay.REPLAYS).iterdir())) == 1
    return tmp, series, tmp / "store", first


def investigate(series: Path, run_dir: Path, store: Path, *extra: str, question: str = QUESTION):
    return runner.invoke(app, ["investigate", str(series), "-q", question, "--run-dir", str(run_dir),
                               "--tier-cap", "0", "--cache-dir", str(store), *extra])


def kept_copy(first: Path) -> Path:
    """Where the first run's copy is kept (the key of its settings)."""
    settings = json.loads((first / "settings.json").read_text())
    return replay.kept_dir(settings, replay.replay_key(settings))


def test_the_same_inputs_into_a_new_run_directory_replay(kept):
    tmp, series, store, first = kept
    r = investigate(series, tmp / "second", store, "--json")
    assert r.exit_code == 0, r.output
    squashed = "".join(r.output.split())  # Rich wraps long lines
    assert REPLAYED in r.output and "--fresh" in r.output and str(first.resolve()) in squashed
    assert json.loads(r.stdout) == json.loads((first / "conclusion.json").read_text())
    assert f"Report:{tmp / 'second' / 'report.md'}" in squashed
    same = ["conclusion.json", "report.md", "report.html", *(f"figures/{p.name}" for p in (first / "figures").iterdir())]
    assert all((tmp / "second" / f).read_bytes() == (first / f).read_bytes() for f in same)
    assert json.loads((tmp / "second" / "settings.json").read_text()) == json.loads((first / "settings.json").read_text())
    with Investigation.create(series, QUESTION, tmp / "third", tier_cap=0, store_path=store / "results.sqlite") as inv:
        assert inv.replayed_from is not None and inv.replayed_from.source == str(first.resolve())
        assert inv.run().conclusion.summary == inv.replayed_from.summary  # its state as it was: nothing runs


def test_a_replay_imports_no_graph_engine_or_figure_library(kept):
    tmp, series, store, _ = kept
    code = ("import sys\nfrom tierchem.agent.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    assert not e.code, e.code\nheavy = ('langgraph', 'langchain_core', 'matplotlib', 'rdkit', 'numpy', "
            "'pyscf', 'openmm', 'tblite')\nprint('HEAVY', sorted(m for m in heavy if m in sys.modules))\n")
    args = ["investigate", str(series), "-q", QUESTION, "--run-dir", str(tmp / "sub"), "--tier-cap", "0",
            "--cache-dir", str(store)]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert REPLAYED in proc.stdout and "HEAVY []" in proc.stdout, proc.stdout


@pytest.mark.parametrize("change", ["question", "series", "fresh"])
def test_a_changed_question_or_series_or_fresh_runs_it(kept, change):
    tmp, series, store, first = kept
    args, question = [], QUESTION
    if change == "question":
        question = QUESTION + " Really?"
    elif change == "series":  # the same molecules, other bytes
        series = tmp / "other.csv"
        series.write_text(f"# a comment\n{(tmp / 'series.csv').read_text()}")
    else:
        args = ["--fresh"]
    r = investigate(series, tmp / f"changed_{change}", store, *args, question=question)
    assert r.exit_code == 0 and REPLAYED not in r.output and "onclusion" in r.output, r.output


def test_resume_steering_and_the_notebook_on_a_replayed_directory(kept):
    tmp, series, store, first = kept
    run = tmp / "resumed"
    source = Path(json.loads((kept_copy(first) / replay.MANIFEST).read_text())["run_dir"])
    assert REPLAYED in investigate(series, run, store).output
    with Investigation.open(source) as a, Investigation.open(run) as b:  # as on the directory it came from
        assert str(a.board()) == str(b.board()) and a.conclusion() == b.conclusion()
        assert str(run) in b._repr_markdown_() and str(source) not in b._repr_markdown_()
        assert b.plot("evidence") is not None
    r = runner.invoke(app, ["resume", str(run), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["target"] == "iodobenzene"
    with Investigation.open(run) as inv:
        target = next(h.id for h in inv.state.hypotheses if h.status == "open")
        inv.ask(f"priority {target} 1")
        v = inv.run()
    assert all(q.status == "done" for q in v.requests) and v.hypothesis(target).priority == 1
    assert not any(str(source) in p.read_text() for p in run.iterdir() if p.suffix in (".md", ".html", ".json"))
    mentions = [ln for ln in (run / "investigation.log").read_text().splitlines() if str(source) in ln]
    assert len(mentions) == 1 and "replayed from the identical earlier run" in mentions[0]  # the rest rewritten


def test_a_corrupted_kept_copy_falls_back_and_is_kept_again(kept):
    tmp, series, store, first = kept
    checkpoint = kept_copy(first) / replay.CHECKPOINTS
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    r = investigate(series, tmp / "after_corruption", store)
    assert r.exit_code == 0 and REPLAYED not in r.output, r.output
    assert REPLAYED in investigate(series, tmp / "after_rekeeping", store).output  # the normal run kept a whole copy


def test_a_pending_calculation_finished_since_falls_back(kept):
    tmp, series, store, first = kept
    manifest = kept_copy(first) / replay.MANIFEST
    saved = manifest.read_text()
    m = json.loads(saved)
    assert m["results"]
    manifest.write_text(json.dumps({**m, "pending": m["results"][:1]}))  # as if it had been left pending
    try:
        settings = json.loads((first / "settings.json").read_text())
        assert replay.restore(settings, tmp / "pending", "settings.json") is None
        assert not (tmp / "pending").exists()
    finally:
        manifest.write_text(saved)


def test_the_key_covers_the_cif_files_and_the_settings(tmp_path, monkeypatch):
    series = tmp_path / "s.csv"
    series.write_text("name,smiles,role,cif\na,CI,target,a.cif\nb,CBr,analog,\n")
    settings = {"question": "q", "series": str(series), "llm": None, "tier_cap": 0, "store_path": None}
    first = replay.replay_key(settings)
    (tmp_path / "a.cif").write_text("data_a\n")
    second = replay.replay_key(settings)
    (tmp_path / "a.cif").write_text("data_a\n_cell_length_a 5\n")
    assert len({first, second, replay.replay_key(settings)}) == 3
    assert replay.replay_key({**settings, "tier_cap": 1}) != replay.replay_key(settings)
    assert replay.replay_key({**settings, "llm": "openai:gpt-4o"}) is None
    monkeypatch.setenv("TIERCHEM_LLM", "ollama:llama3")
    assert replay.replay_key(settings) is None


def test_the_store_file_is_where_the_store_puts_it(tmp_path, monkeypatch):
    from tierchem.tiers.store import default_store_path

    monkeypatch.setenv("TIERCHEM_CACHE_DIR", str(tmp_path / "c"))
    assert replay.store_file({"store_path": None}) == default_store_path().resolve()
