"""Kill a running investigation with SIGKILL mid-compute, resume it: same conclusion, no finished
calculation repeated, no steering request lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tierchem.agent.inbox import write_inbox
from tierchem.agent.session import Investigation

REPO = Path(__file__).resolve().parents[1]


def store_rows(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    with sqlite3.connect(path) as db:
        try:
            return dict(db.execute("SELECT key, created FROM results").fetchall())
        except sqlite3.OperationalError:
            return {}


def test_sigkill_and_resume(tmp_path):
    run, store = tmp_path / "run", tmp_path / "store.sqlite"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "tierchem", "investigate", str(REPO / "examples" / "dihalobenzenes"),
           "--question", "Why does 1,4-diiodobenzene pack differently?", "--run-dir", str(run),
           "--tier-cap", "2", "--store", str(store)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    request = None
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            rows = store_rows(store)
            if request is None and (run / "checkpoints.sqlite").exists():
                request = write_inbox(run, "priority shape_sterics 2")  # a request while it runs
            if len(rows) >= 5:  # tier 0 done and tier 1 under way: mid-compute
                break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    before = store_rows(store)
    assert before and not (run / "conclusion.json").exists()

    fresh = []
    with Investigation.open(run, progress=lambda r: fresh.append(r) if not r.from_cache else None) as inv:
        v = inv.run()
        resumed = inv.conclusion()
    after = store_rows(store)
    # no finished calculation repeated: none recomputed, none rewritten
    assert not {r.cache_key for r in fresh} & set(before)
    assert all(after[k] == t for k, t in before.items())
    # no steering request lost
    req = next(r for r in v.requests if r.id == request.id)
    assert req.status == "done" and v.hypothesis("shape_sterics").priority == 2

    # the same conclusion as an uninterrupted run (same store: all from cache)
    with Investigation.create(REPO / "examples" / "dihalobenzenes", "q", tmp_path / "ref", tier_cap=2,
                              store_path=store) as ref:
        ref.run()
        expected = ref.conclusion()
    strip = lambda c: (c["root_cause"], [m["id"] for m in c["mechanism"]], sorted(r["id"] for r in c["rejected"]))
    assert strip(resumed) == strip(expected)
    assert json.loads((run / "conclusion.json").read_text())["question"].startswith("Why does")


@pytest.mark.slow
def test_kill_during_a_background_dft_calculation_resumes_it_from_its_checkpoint(tmp_path):
    """Iodomethane against chloromethane at tier cap 3: the DFT contact energies run in the background. The whole process group (foreground and background workers) is killed with SIGKILL while a
    background SCF is writing its chkfile; the resumed run reruns the unfinished calculations, each SCF
    starting from the density the killed one left (said in the result's warnings), ends non-provisional,
    and cleans the scratch."""
    series = tmp_path / "s"
    series.mkdir()
    (series / "series.csv").write_text("name,smiles,role\niodomethane,CI,target\nchloromethane,CCl,analog\n")
    run, store = tmp_path / "run", tmp_path / "store.sqlite"
    scratch = tmp_path / "scf_scratch"
    cmd = [sys.executable, "-m", "tierchem", "investigate", str(series), "--question", "Why?", "--run-dir",
           str(run), "--tier-cap", "3", "--store", str(store), "--wait"]
    proc = subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline, seen = time.time() + 600, None
        while time.time() < deadline and proc.poll() is None:
            chks = [p for p in scratch.rglob("*.chk") if p.stat().st_size > 0] if scratch.exists() else []
            seen = seen or (time.time() if chks else None)
            if seen and time.time() - seen > 1.0:  # a few SCF cycles into a background calculation
                break
            time.sleep(0.1)
        assert proc.poll() is None, f"the run ended before a background SCF began: {proc.stderr.read()[-2000:]}"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    left = {p.parent.name for p in scratch.rglob("*.chk")}
    assert left, "the killed run left no SCF checkpoint"

    fresh = []
    with Investigation.open(run, wait_background=True, progress=fresh.append) as inv:
        v = inv.run()
    resumed = [r for r in fresh if not r.from_cache and any("SCF resumed" in w for w in r.warnings)]
    assert resumed and {r.cache_key[:40] for r in resumed} <= left
    assert all(r.success for r in resumed)
    assert not v.pending and not v.conclusion.provisional
    assert not list(scratch.rglob("*.chk"))  # cleaned once stored
