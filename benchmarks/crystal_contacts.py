"""How long reading a CIF and analysing its contacts and pairs takes (issue 14, done-means 4: CL-20,
a 36-atom molecule with Z = 4, in under 5 s), for the COD structures shipped in tiers/data/cod.

    python benchmarks/crystal_contacts.py [--repeat 3]

Per structure: read_cif (cell, molecules, bonds), contacts (chem.crystal_contacts, with
H-bond motifs in the summary), molecular_pairs (the 3.8 Å shell with symmetry operations), each
the best of ``--repeat`` runs (a new read each time), and the whole in-process analysis.
Measured on a shared, loaded core: CL-20 (144 atoms in the cell) 0.57 s in all (read 0.23,
contacts 0.13, pairs 0.19); `tierchem crystal gamma-CL20_COD2300020.cif --pairs` 3.0 s wall
including Python start-up and imports.
"""

from __future__ import annotations

import argparse
import time

from tierchem.tiers.refdata import cod_dir


def analyse(path) -> dict[str, float]:
    from tierchem.chem.crystal import read_cif
    from tierchem.chem.crystal_pairs import molecular_pairs

    t0 = time.perf_counter()
    crystal = read_cif(path)
    t1 = time.perf_counter()
    crystal.contacts()
    crystal.summary()
    t2 = time.perf_counter()
    pairs = molecular_pairs(crystal)
    t3 = time.perf_counter()
    return {"read": t1 - t0, "contacts": t2 - t1, "pairs": t3 - t2, "total": t3 - t0,
            "atoms": sum(len(m.symbols) for m in crystal.molecules), "z": crystal.z, "shell": len(pairs.shell())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    analyse(sorted(cod_dir().glob("*.cif"))[0])       # imports and first-call set-up out of the timings
    print("| structure | atoms in cell | Z | read / s | contacts / s | pairs / s | total / s | shell classes |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sorted(cod_dir().glob("*.cif")):
        runs = [analyse(path) for _ in range(max(1, args.repeat))]
        best = {k: min(r[k] for r in runs) for k in ("read", "contacts", "pairs", "total")}
        r = runs[0]
        print(f"| {path.stem} | {r['atoms']} | {r['z']} | {best['read']:.2f} | {best['contacts']:.2f} | "
              f"{best['pairs']:.2f} | {best['total']:.2f} | {r['shell']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
