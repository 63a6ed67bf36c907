"""An interrupted DFT calculation resumes mid-SCF.

The DFT ESP of 1,4-diiodobenzene (the demo's sigma-hole calculation: B3LYP-D3(BJ)/def2-SVP,
tier 3) three times, each in its own process: cold into a fresh store (counting SCF cycles);
into a second store, killed with SIGKILL after about 80 % of the cold run's cycles; then rerun
into that store, which starts from the chkfile the killed run left in the store's scf_scratch.
Prints the times (the calculation alone and the whole process), the cycles, the ratio
rerun / cold and the energy difference. Target (issue 17): ratio <= 0.5, |dE| <= 1e-8 Eh.

    python benchmarks/scf_restart.py [--fraction 0.8] [--smiles SMILES]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HARTREE_PER_KCAL = 1 / 627.509474


def child(store_dir: str, smiles: str, kill_after: int) -> None:
    """One calculation; a JSON line (seconds, cycles, energy) on stdout, or SIGKILL after ``kill_after`` cycles."""
    from pyscf.scf import hf

    from tierchem.chem.molecule import Molecule
    from tierchem.tiers.catalogue import make_spec
    from tierchem.tiers.compute import compute
    from tierchem.tiers.store import ResultStore

    cycles = []

    def callback(env):  # after PySCF has written this cycle's chkfile
        cycles.append(env["cycle"])
        if kill_after and len(cycles) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    hf.SCF.callback = staticmethod(callback)
    spec = make_spec("esp", Molecule.from_smiles(smiles, name="target"), level="dft")
    t0 = time.perf_counter()
    result = compute(spec, store=ResultStore(Path(store_dir) / "results.sqlite"))
    seconds = time.perf_counter() - t0
    if not result.success:
        sys.exit(f"calculation failed: {result.error}")
    print(json.dumps({"seconds": seconds, "cycles": len(cycles),
                      "energy_hartree": result.values["energy_kcal_mol"] * HARTREE_PER_KCAL}))


def arm(store_dir: Path, smiles: str, kill_after: int = 0) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", str(store_dir), "--smiles", smiles,
                           "--kill-after", str(kill_after)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if kill_after:
        if proc.returncode != -signal.SIGKILL:
            sys.exit(f"the run to kill ended otherwise ({proc.returncode}): {proc.stderr[-2000:]}")
        return {"process_s": wall}
    if proc.returncode != 0:
        sys.exit(f"run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.8, help="of the cold run's SCF cycles before the kill")
    parser.add_argument("--smiles", default="Ic1ccc(I)cc1")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--kill-after", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.smiles, args.kill_after)
    with tempfile.TemporaryDirectory(prefix="tierchem-scf-") as tmp:
        print(f"DFT ESP of {args.smiles}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        cold = arm(Path(tmp) / "cold", args.smiles)
        print(f"cold:   {cold['seconds']:7.1f} s calculation, {cold['process_s']:7.1f} s process, "
              f"{cold['cycles']} SCF cycles")
        kill_after = max(1, round(args.fraction * cold["cycles"]))
        killed = arm(Path(tmp) / "resumed", args.smiles, kill_after)
        scratch = list((Path(tmp) / "resumed" / "scf_scratch").rglob("*.chk"))
        print(f"killed: after {kill_after} cycles ({killed['process_s']:.1f} s); chkfiles left: {len(scratch)}")
        rerun = arm(Path(tmp) / "resumed", args.smiles)
        left = list((Path(tmp) / "resumed" / "scf_scratch").rglob("*.chk"))
        print(f"rerun:  {rerun['seconds']:7.1f} s calculation, {rerun['process_s']:7.1f} s process, "
              f"{rerun['cycles']} SCF cycles; scratch cleaned: {not left}")
        de = abs(rerun["energy_hartree"] - cold["energy_hartree"])
        print(f"ratio rerun/cold: {rerun['seconds'] / cold['seconds']:.2f} (calculation), "
              f"{rerun['process_s'] / cold['process_s']:.2f} (process); target <= 0.5")
        print(f"|dE| = {de:.2e} Eh (target <= 1e-8); load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
