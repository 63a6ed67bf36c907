"""`make bench`: run every benchmark script in this folder and the S22 benchmarks per tier.

Prints figures; asserts nothing (speed and accuracy targets are read, not enforced).
Scripts that need hardware that is absent (a CUDA GPU) say so and exit 0.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
REFDATA = HERE.parent.parent / "shared" / "data" / "refdata"

CLI = [sys.executable, "-m", "tierchem"]
COMMANDS = [
    CLI + ["benchmark", "s22", "--tier", "mmff", "--no-cache"],
    CLI + ["benchmark", "s22", "--tier", "classical", "--no-cache"],
    CLI + ["benchmark", "s22", "--tier", "xtb", "--no-cache"],
]
if REFDATA.is_dir():
    COMMANDS += [
        CLI + ["benchmark", "x40", "--tier", "xtb", "--data", str(REFDATA), "--no-cache"],
        CLI + ["benchmark", "x23", "--tier", "classical", "--data", str(REFDATA), "--no-cache"],
        CLI + ["benchmark", "x23", "--tier", "xtb", "--data", str(REFDATA), "--no-cache"],
    ]


def main() -> int:
    failures = 0
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run_all.py")
    for cmd in COMMANDS + [[sys.executable, str(p)] for p in scripts]:
        print(f"\n$ {' '.join(str(c) for c in cmd[1:])}", flush=True)
        failures += subprocess.run(cmd).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
