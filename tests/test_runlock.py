"""A run directory belongs to one process at a time; a holder killed with SIGKILL leaves no lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from typer.testing import CliRunner

from tierchem.agent.cli import app
from tierchem.agent.runlock import RunDirLocked, acquire, release

runner = CliRunner()

HOLDER = textwrap.dedent("""
    import sys, time
    from tierchem.agent.session import Investigation, example_path
    inv = Investigation.create(example_path("dihalobenzenes"), "Why?", sys.argv[1], tier_cap=0,
                               store_path=sys.argv[2], background=False)
    inv.run(until="steer")  # checkpoints written: what a kill -9 mid-run leaves
    print("holding", flush=True)
    time.sleep(120)
""")


def test_second_process_exits_2_naming_the_holder_and_sigkill_frees_the_directory(tmp_path):
    run, store = tmp_path / "run", tmp_path / "store.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run), str(store)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        for args in (["resume", str(run)], ["investigate", "examples/dihalobenzenes", "-q", "Why?",
                                            "--run-dir", str(run)], ["report", str(run)]):
            r = runner.invoke(app, args)
            lines = [ln for ln in r.output.splitlines() if ln.strip()]
            assert r.exit_code == 2 and len(lines) == 1, r.output
            assert f"in use by process {holder.pid}" in lines[0] and "Traceback" not in r.output
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    t0 = time.perf_counter()
    release(acquire(run))  # at once: the kernel dropped the lock with its holder
    assert time.perf_counter() - t0 < 1.0
    r = runner.invoke(app, ["resume", str(run), "--no-wait"])
    assert r.exit_code == 0, r.output
    assert (run / "conclusion.json").exists()


def test_the_lock_is_shared_within_one_process(tmp_path):
    key = acquire(tmp_path)
    again = acquire(tmp_path)  # e.g. Investigation.open beside an open one in a notebook
    release(again)
    release(key)
    probe = subprocess.run([sys.executable, "-c", "import sys; from tierchem.agent.runlock import acquire; "
                            "acquire(sys.argv[1])", str(tmp_path)], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr  # released: another process may take it
    assert issubclass(RunDirLocked, RuntimeError)
