"""CPU vs GPU (gpu4pyscf) for tierchem's DFT harness: energy agreement and timings.

Runs B3LYP-D3(BJ)/def2-SVP single points through ``tierchem.tiers.compute`` with
TIERCHEM_DEVICE=cpu and =gpu and checks that energies agree to 1e-6 Eh. Where
gpu4pyscf or a CUDA device is missing it says so and exits 0.

    python benchmarks/gpu_dft.py [--systems Water_dimer Benzene_dimer_parallel_displaced]
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> int:
    from tierchem.tiers.pyscf_common import gpu_available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=["Water_dimer", "Benzene_dimer_parallel_displaced"])
    parser.add_argument("--tolerance", type=float, default=1e-6, help="Eh")
    args = parser.parse_args()
    if not gpu_available():
        print("no CUDA GPU here (or gpu4pyscf/cupy not installed): figures missing")
        return 0

    from ase.data.s22 import create_s22_system

    from tierchem.chem.molecule import Molecule
    from tierchem.tiers.catalogue import make_spec
    from tierchem.tiers.compute import compute

    worst = 0.0
    print(f"{'system':40s} {'E cpu / Eh':>18s} {'E gpu / Eh':>18s} {'|dE|':>9s} {'t cpu':>8s} {'t gpu':>8s}")
    for name in args.systems:
        atoms = create_s22_system(name)
        mol = Molecule(name=name, symbols=tuple(atoms.get_chemical_symbols()), coords_angstrom=atoms.get_positions())
        spec = make_spec("energy", mol, level="dft")
        out = {}
        for device in ("cpu", "gpu", "gpu"):  # the second GPU run is timed without CUDA warm-up
            os.environ["TIERCHEM_DEVICE"] = device
            t0 = time.perf_counter()
            r = compute(spec, store=None)
            if not r.success:
                print(f"{name}: {device} failed: {r.error}")
                return 1
            out[device] = (r.values["energy_hartree"], time.perf_counter() - t0, r.values["device"])
        (e_c, t_c, d_c), (e_g, t_g, d_g) = out["cpu"], out["gpu"]
        if d_g != "gpu":
            print(f"{name}: the GPU run fell back to {d_g}")
            return 1
        worst = max(worst, abs(e_c - e_g))
        print(f"{name:40s} {e_c:18.8f} {e_g:18.8f} {abs(e_c - e_g):9.1e} {t_c:7.1f}s {t_g:7.1f}s")
    ok = worst <= args.tolerance
    print(f"max |E_cpu - E_gpu| = {worst:.2e} Eh: {'OK' if ok else 'FAIL'} (tolerance {args.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
