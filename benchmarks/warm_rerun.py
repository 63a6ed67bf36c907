"""A warm re-run of the demo against a cold one.

``tierchem demo`` into a fresh store (cold: every calculation runs), then the same demo into a new run
directory with that store (warm). The cold run finished with nothing steered, so it was kept in the
store's folder (``agent/replay.py``), and nothing that decides the outcome differs (series, question,
settings, environment, tierchem's files, engine versions): the warm run is a replay, its files copied
into the new run directory with nothing run, not even the graph (no LangGraph, RDKit, matplotlib or
engine is imported). A third arm, ``demo --fresh``, drives the graph over the warm store instead (every
finished calculation, figure and depiction from the store's directory): the path a replay avoids.
All are whole processes (``python -m tierchem.agent demo``), timed from start to exit, in one
invocation of this script so that they see the same machine load (printed); the three conclusion.json
must be the same. Target (issue 17): cold / warm >= 100.

    python benchmarks/warm_rerun.py [--keep DIR] [--profile]

``--profile`` runs the warm arm once more under cProfile and prints its top entries.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_demo(run_dir: Path, store_dir: Path, profile: Path | None = None, *extra: str) -> tuple[float, bool]:
    """Seconds from start to exit of one ``tierchem demo`` process, and whether it said it was replayed."""
    env = {**os.environ, "TIERCHEM_CACHE_DIR": str(store_dir)}
    cmd = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []),
           "-m", "tierchem.agent", "demo", str(run_dir), *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"demo into {run_dir} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds, "Replayed from an identical earlier run" in proc.stdout


def conclusion(run_dir: Path) -> str:
    """conclusion.json with the run directory's own path taken out."""
    return (run_dir / "conclusion.json").read_text().replace(str(run_dir), "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work here (kept) instead of a temporary folder")
    parser.add_argument("--profile", action="store_true", help="profile one more warm run (cProfile)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tierchem-warm-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        store = work / "store"
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; work in {work}")
        cold, _ = run_demo(work / "cold", store)
        print(f"cold  demo (fresh store):                     {cold:8.1f} s")
        warm, replayed = run_demo(work / "warm", store)
        print(f"warm  demo (new run dir, warm store):         {warm:8.1f} s (replayed: {replayed})")
        graph, _ = run_demo(work / "fresh", store, None, "--fresh")
        print(f"fresh demo (--fresh: the graph, warm store):  {graph:8.1f} s")
        same = conclusion(work / "cold") == conclusion(work / "warm") == conclusion(work / "fresh")
        print(f"load average after: {os.getloadavg()[0]:.2f}; same conclusion.json: {same}")
        print(f"ratio cold/warm: {cold / warm:.1f} (target >= 100); cold/fresh: {cold / graph:.1f}")
        if args.profile:
            prof = work / "warm.prof"
            run_demo(work / "warm_profiled", store, prof)
            import pstats

            pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
