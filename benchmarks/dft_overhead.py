"""Overhead of tierchem's DFT harness over PySCF used directly.

The same B3LYP-D3(BJ)/def2-SVP single point (density fitting, PySCF's default
grid, conv_tol 1e-9, D3(BJ) from simple-dftd3) of the S22 parallel-displaced
benzene dimer, once through ``tierchem.tiers.compute`` (no store) and once with
PySCF directly. Prints both times, the ratio and the energy difference.
Target: overhead <= 5 %.

    python benchmarks/dft_overhead.py
"""

from __future__ import annotations

import time

import numpy as np


def main() -> None:
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

    e_direct, t_direct = direct()
    print(f"PySCF direct : {t_direct:8.2f} s   E = {e_direct:.8f} Eh   (max_memory {max_memory} MB)")

    # --- through tierchem (one Molecule for the whole dimer: a single SCF)
    t0 = time.perf_counter()
    dimer = Molecule(name=name, symbols=tuple(symbols), coords_angstrom=xyz)
    result = compute(make_spec("energy", dimer, level="dft"), store=None)
    t_tier = time.perf_counter() - t0
    if not result.success:
        raise SystemExit(f"tierchem failed: {result.error}")
    e_tier = result.values["energy_hartree"]
    print(f"tierchem     : {t_tier:8.2f} s   E = {e_tier:.8f} Eh")
    print(f"ratio tierchem/direct = {t_tier / t_direct:.3f}  (overhead {100 * (t_tier / t_direct - 1):+.1f} %)")
    print(f"|dE| = {abs(e_tier - e_direct):.2e} Eh")


if __name__ == "__main__":
    main()
