"""Overhead of tierchem's DFT harness over PySCF used directly.

The same B3LYP-D3(BJ)/def2-SVP single point (density fitting, PySCF's default
grid, conv_tol 1e-9, D3(BJ) from simple-dftd3) of the S22 parallel-displaced
benzene dimer, once through ``tierchem.tiers.compute`` (no store) and once with
PySCF directly. Runs the two alternately (``--repeat`` pairs, default 3) so that drift in the
machine's load hits both, and prints every time, the median ratio and the
energy difference. Target: overhead <= 5 %.

    python benchmarks/dft_overhead.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs (direct, tierchem), alternating")
    repeat = parser.parse_args().repeat
    from ase.data.s22 import create_s22_system, s22
    from dftd3.interface import DispersionModel, RationalDampingParam
    from pyscf import dft, gto, lib

    from tierchem.chem.molecule import Molecule
    from tierchem.tiers.catalogue import make_spec
    from tierchem.tiers.compute import compute

    name = "Benzene_dimer_parallel_displaced"
    assert name in s22
    atoms = create_s22_system(name)
    symbols, xyz = atoms.get_chemical_symbols(), atoms.get_positions()
    print(f"{name}: {len(symbols)} atoms, B3LYP-D3BJ/def2-SVP, density fitting, {lib.num_threads()} threads")

    from tierchem.tiers.pyscf_common import default_max_memory_mb

    # tierchem gives PySCF 80 % of the free memory (DF tensors stay in core); the
    # direct run gets the same max_memory so that only the overhead differs.
    max_memory = default_max_memory_mb()

    def direct() -> tuple[float, float]:
        t0 = time.perf_counter()
        mol = gto.M(atom=[(s, tuple(p)) for s, p in zip(symbols, xyz)], basis="def2-SVP", unit="Angstrom",
                    verbose=0, max_memory=max_memory)
        mf = dft.RKS(mol)
        mf.xc = "B3LYP"
        mf = mf.density_fit()
        mf.conv_tol = 1e-9
        mf.max_cycle = 100
        e_scf = mf.kernel()
        numbers = np.array([gto.charge(s) for s in symbols])
        disp = DispersionModel(numbers, xyz / 0.52917721092).get_dispersion(RationalDampingParam(method="b3lyp"),
                                                                            grad=False)
        return e_scf + disp["energy"], time.perf_counter() - t0

    dimer = Molecule(name=name, symbols=tuple(symbols), coords_angstrom=xyz)

    def through_tierchem() -> tuple[float, float]:
        t0 = time.perf_counter()
        result = compute(make_spec("energy", dimer, level="dft"), store=None)
        if not result.success:
            raise SystemExit(f"tierchem failed: {result.error}")
        return result.values["energy_hartree"], time.perf_counter() - t0

    ratios = []
    for i in range(repeat):
        e_direct, t_direct = direct()
        e_tier, t_tier = through_tierchem()
        ratios.append(t_tier / t_direct)
        print(f"pair {i + 1}: PySCF direct {t_direct:7.2f} s   tierchem {t_tier:7.2f} s   ratio {ratios[-1]:.3f}"
              f"   |dE| = {abs(e_tier - e_direct):.1e} Eh  (max_memory {max_memory} MB)")
    median = statistics.median(ratios)
    print(f"median ratio tierchem/direct = {median:.3f}  (overhead {100 * (median - 1):+.1f} %), "
          f"range {min(ratios):.3f}-{max(ratios):.3f} over {repeat} pairs")


if __name__ == "__main__":
    main()
