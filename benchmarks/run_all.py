"""`make bench`: run every benchmark script in this folder and the S22 benchmarks per tier.

Prints figures; asserts nothing (speed and accuracy targets are read, not enforced).
Scripts that need hardware that is absent (a CUDA GPU) say so and exit 0.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
CLI = [sys.executable, "-m", "tierchem"]
# x40 and x23 read the reference data shipped in tiers/data (or $TIERCHEM_REFDATA).
COMMANDS = [CLI + ["benchmark", dataset, "--tier", tier, "--no-cache"]
            for dataset, tier in (("s22", "mmff"), ("s22", "classical"), ("s22", "xtb"),
                                  ("x40", "xtb"), ("x23", "classical"), ("x23", "xtb"))]


def main() -> int:
    failures = 0
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run_all.py")
    for cmd in COMMANDS + [[sys.executable, str(p)] for p in scripts]:
        print(f"\n$ {' '.join(str(c) for c in cmd[1:])}", flush=True)
        failures += subprocess.run(cmd).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
