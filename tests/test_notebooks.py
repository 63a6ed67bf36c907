"""The shipped notebooks run top to bottom (nbclient, the venv's python3 kernel) and say what they should;
a scientist's session survives a kernel restart with its conversation, queue and results."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"

MISSING = "the notebook extra is not installed (pip install 'tierchem[notebook]')"
nbformat = pytest.importorskip("nbformat", reason=MISSING)
nbclient = pytest.importorskip("nbclient", reason=MISSING)
pytest.importorskip("ipykernel", reason="ipykernel is needed to run the notebooks")


def execute(name: str, runs: Path, monkeypatch) -> "nbformat.NotebookNode":
    monkeypatch.setenv("TIERCHEM_NOTEBOOK_RUNS", str(runs))
    monkeypatch.setenv("TIERCHEM_NOTEBOOK_FULL", "0")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # kernel "python3": jupyter_client runs it with this interpreter (the venv's) when ipykernel is installed
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(runs)}})
    client.execute()
    return nb


def cell(nb, tag: str):
    found = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    assert len(found) == 1, f"no single cell tagged {tag!r}"
    return found[0]


def text(c) -> str:
    """A code cell's printed output and plain/Markdown/HTML representations, joined."""
    parts = []
    for out in c.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            for mime in ("text/plain", "text/markdown", "text/html"):
                if mime in out.data:
                    parts.append(out.data[mime])
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "\n".join(parts)


def plain(c) -> str:
    """The text/plain of a cell's result (e.g. the board as a table)."""
    return "\n".join(out.data["text/plain"] for out in c.get("outputs", [])
                     if out.output_type == "execute_result" and "text/plain" in out.data)


def has_png(c) -> bool:
    return any(out.output_type in ("execute_result", "display_data") and "image/png" in out.data
               for out in c.get("outputs", []))


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        dirty = [k for k, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


def test_guided_investigation(tmp_path, monkeypatch):
    nb = execute("guided_investigation.ipynb", tmp_path, monkeypatch)
    assert "1,4-diiodobenzene" in text(cell(nb, "setup"))
    start = text(cell(nb, "start"))
    assert "paused before" in start and "Hypothesis board" in start and "halogen_bond" in start
    # steering: each request's place in the queue, then the queue in order
    steer = text(cell(nb, "steer"))
    assert "place 1 of 1 in the queue" in steer and "place 2 of 2 in the queue" in steer
    assert steer.index("1. add hypothesis") < steer.index("2. pushback pi_stacking_quadrupole")
    assert "shape_sterics" in text(cell(nb, "why")) and "Why:" in text(cell(nb, "why"))
    # the chat ran a step in its thread: the queued requests were honoured and calculations streamed
    chat = text(cell(nb, "chat"))
    assert "scientist: priority halogen_bond 1" in chat and "Added S1 (dispersion_polarisability)" in chat
    assert "Reopened pi_stacking_quadrupole" in chat and "calc: done: interaction_energy" in chat
    assert "application/vnd.jupyter.widget-view+json" in cell(nb, "chat-widget").outputs[0].data
    # the board at the end (tier cap 2): the halogen bond is the cause left standing, the rest rejected
    board = plain(cell(nb, "board-final"))
    rows = {ln.split()[0]: ln.split()[1] for ln in board.splitlines()[1:] if ln.strip()}
    assert rows.get("halogen_bond") == "open", board
    for hid in ("shape_sterics", "dipole_antiparallel", "pi_stacking_quadrupole"):
        assert rows.get(hid) == "rejected", (hid, board)
    # dispersion (the library's and S1, the scientist's): the polarisability is adequate only at DFT (tier 3)
    assert rows.get("dispersion_polarisability") == "open" and rows.get("S1") == "open", board
    assert "ie_type_ii_halogen" in text(cell(nb, "evidence"))
    assert has_png(cell(nb, "plot-evidence")) and has_png(cell(nb, "plot-ladder"))
    report = text(cell(nb, "report"))
    html_path = Path(report.splitlines()[0].strip())
    assert html_path.name == "report.html" and html_path.is_file() and "evidence.png" in report
    assert (html_path.parent / "report.md").is_file() and (html_path.parent / "conclusion.json").is_file()
    reopen = text(cell(nb, "reopen"))
    n_before, n_after = [int(w) for w in reopen.split("transcript lines: ")[1].split()[0:3:2]]
    assert n_before == n_after > 10 and "1. reopen shape_sterics" in reopen


def test_bring_your_own_molecules(tmp_path, monkeypatch):
    nb = execute("bring_your_own_molecules.ipynb", tmp_path, monkeypatch)
    assert (tmp_path / "my_molecules" / "series.csv").is_file()
    assert "Root cause (hbond_motif)" in text(cell(nb, "board"))
    board = plain(cell(nb, "board"))
    line = next(ln for ln in board.splitlines() if ln.startswith("hbond_motif "))
    assert "root-cause" in line
    assert has_png(cell(nb, "plot"))
    assert Path(text(cell(nb, "report")).strip()).is_file()


def test_kernel_restart_keeps_conversation_queue_and_results(tmp_path):
    """A kernel dies (os._exit: nothing closed) with requests queued; reopening continues them."""
    run, store = tmp_path / "run", tmp_path / "store.sqlite"
    script = textwrap.dedent(f"""
        import os
        from tierchem import Investigation, example_path
        inv = Investigation.create(example_path("dihalobenzenes"), "q", {str(run)!r}, tier_cap=0,
                                   store_path={str(store)!r})
        inv.run(until="steer")
        inv.run(until="steer")
        print(inv.ask("priority shape_sterics 2"))
        print(inv.ask("reject dipole_antiparallel 'no dipole in a centrosymmetric molecule'", priority=1))
        print(len(inv.state.transcript), len(inv.state.results))
        os._exit(0)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert "place 1 of 1" in lines[0] and "place 1 of 2" in lines[1]  # priority 1 goes first
    n_transcript, n_results = map(int, lines[2].split())

    from tierchem import Investigation

    with sqlite3.connect(store) as db:
        stored = {k for (k,) in db.execute("SELECT key FROM results")}
    fresh = []
    with Investigation.open(run, progress=lambda r: fresh.append(r) if not r.from_cache else None) as inv:
        assert len(inv.state.transcript) == n_transcript and len(inv.state.results) == n_results
        assert [q["text"].split()[0] for q in inv.queue()] == ["reject", "priority"]
        v = inv.run(until="steer")
        assert not inv.queue()
        assert all(r.status == "done" for r in v.requests)
        assert v.hypothesis("dipole_antiparallel").status == "rejected" and v.hypothesis("shape_sterics").priority == 2
        said = [t.text for t in v.transcript[n_transcript:]]
        assert said[0].startswith("reject dipole_antiparallel") and said[2] == "priority shape_sterics 2"
        inv.run()
        assert inv.conclusion() is not None
    assert stored and not {r.cache_key for r in fresh} & stored  # nothing finished before the restart is redone
