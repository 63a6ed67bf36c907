"""Speed-up of a repeated `tierchem batch` run served from the result store.

Runs the same batch twice through the CLI on a fresh store and prints both wall
times and the ratio. Usage: python benchmarks/batch_cache.py [--task energy --tier classical]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMILES = ["CCO", "CC(=O)O", "c1ccccc1", "Clc1ccccc1", "Brc1ccccc1", "Ic1ccccc1", "CC(=O)Nc1ccccc1",
          "OC(=O)c1ccccc1", "c1ccncc1", "CCOC(C)=O", "Oc1ccccc1", "Cc1ccccc1"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", default="energy")
    ap.add_argument("--tier", default="classical")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tierchem-batch-bench-"))
    csv = work / "set.csv"
    csv.write_text("name,smiles\n" + "".join(f"m{i},{s}\n" for i, s in enumerate(SMILES)))
    cmd = [sys.executable, "-m", "tierchem", "batch", str(csv), "--task", args.task,
           "--tier", args.tier, "--out", str(work / "out"), "--cache-dir", str(work / "cache")]
    times = []
    for label in ("first (computed)", "second (from the store)"):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
        print(f"{label:26s} {times[-1]:8.2f} s")
    # Both runs pay the same interpreter start-up; report the ratio with and without it.
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tierchem", "--help"], check=True, capture_output=True)
    startup = time.perf_counter() - t0
    print(f"{'CLI start-up (--help)':26s} {startup:8.2f} s")
    print(f"speed-up, whole command:   {times[0] / times[1]:8.1f}x")
    print(f"speed-up, beyond start-up: {(times[0] - startup) / max(times[1] - startup, 1e-3):8.1f}x")


if __name__ == "__main__":
    main()
