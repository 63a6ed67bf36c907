"""Pair energies from the real crystal on X23 (issue 14, done-means 1-2): per crystal, the
classical pair sum against the periodic classical lattice energy at the same geometry (they must
agree: GAFF2 is pairwise additive), the GFN1-xTB many-body part (periodic minus pair sum), and
CE-1p's lattice energy (occpy) beside the X23b reference; with ``--dft`` the DFT-CP energies of
the three strongest pairs beside CE-1p and xTB.

    python benchmarks/crystal_x23.py [--crystals benzene,urea] [--levels classical,xtb,ce-1p] [--dft]
                                     [--cache-dir DIR] [--json OUT.json]

Lattice energies per molecule, kcal/mol, negative = bound. The CIFs are read with X-H bonds at
neutron lengths (``read_cif``'s default), so every level sees one geometry. The pair sums and the
periodic values use monomers at that crystal geometry; X23b (Dolgonos et al., PCCP 21, 24333 (2019))
is relative to relaxed gas molecules, so CE-1p - X23b includes the monomer deformation energy CE-1p
leaves out (small for rigid molecules). Needs the X23 CIFs of the refdata folder; exits 0 with a
message without them.

Measured (2026-12-04; OpenMM 8.6.1, tblite 0.8.0; 2 cores, a niced job beside it; ``--levels
classical,xtb`` into an empty store, 48 s for the four):

| crystal | GAFF2 pair sum | GAFF2 periodic | diff | deformation | GFN1 pair sum | GFN1 periodic | many-body | deformation | X23b |
|---|---|---|---|---|---|---|---|---|---|
| benzene | -12.40 | -12.45 | -0.06 | 0.62 | -11.56 | -9.78 | +1.78 | 0.37 | -13.10 |
| urea | -21.83 | -21.78 | +0.05 | 2.69 | -26.85 | -25.67 | +1.18 | 2.76 | -24.40 |
| acetic acid | -14.44 | -14.54 | -0.10 | 2.16 | -17.12 | -16.37 | +0.75 | 2.27 | -17.59 |
| naphthalene | -19.27 | -19.34 | -0.07 | 2.40 | -17.92 | -14.74 | +3.18 | 0.67 | -19.43 |

"deformation" is the monomer deformation energy (crystal-geometry monomer minus relaxed gas
molecule) that the lattice_energy task's own value includes. The GAFF2 residue is mostly the r^-6
tail beyond 20 Å that the PME run's long-range correction includes (-2π n C6 / 3R³ ≈ -0.06 kcal/mol
for benzene). With the CIFs' own H positions (acetic acid's and naphthalene's are X-ray: C-H
0.95-0.98 Å, O-H 0.83 Å) the deformation was 34-50 kcal/mol and acetic acid's GAFF2 pair sum -13.09:
X-ray H positions made those crystals' lattice_energy values meaningless and their H-bond pairs too
weak.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from tierchem.tiers.refdata import parse_din, refdata_dir

CRYSTALS = ("benzene", "urea", "acetic_acid", "naphthalene")


def x23_references(data: Path) -> dict[str, float]:
    """X23b lattice energies per molecule (kcal/mol, negative = bound; din value = E_mol - E_cell/Z)."""
    out = {}
    for block in parse_din(data / "10_din" / "x23.din"):
        (_, cell), = [t for t in block.terms if not t[1].startswith("mol_")]
        out[cell] = -block.value
    return out


def run_one(name: str, data: Path, levels: list[str], store, dft: bool) -> dict:
    from tierchem.agent import crystal_views as views
    from tierchem.chem.crystal import read_cif

    crystal = read_cif(data / "25_x23" / "expt" / f"{name}.cif", name=name)
    t0 = time.perf_counter()
    report = views.crystal_report(crystal, levels + (["dft"] if dft else []), store)
    report["wall_s"] = round(time.perf_counter() - t0, 1)
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=refdata_dir())
    ap.add_argument("--crystals", default=",".join(CRYSTALS))
    ap.add_argument("--levels", default="classical,xtb,ce-1p")
    ap.add_argument("--dft", action="store_true", help="DFT-CP (tier 3) on the three strongest shell pairs")
    ap.add_argument("--cache-dir", type=Path, default=None, help="result store folder (default: the user's)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not (args.data / "25_x23" / "expt").is_dir():
        print(f"no X23 CIFs under {args.data}; nothing to do")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from tierchem.tiers import ResultStore

    store = ResultStore(args.cache_dir / "results.sqlite" if args.cache_dir else None)   # None: the user's store
    refs = x23_references(args.data)
    levels = [lv for lv in args.levels.split(",") if lv]
    reports = {}
    print("| crystal | level | pair sum | periodic | periodic - pair sum | CE-1p | X23b | wall / s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.crystals.split(","):
        r = run_one(name, args.data, levels, store, args.dft)
        reports[name] = {k: v for k, v in r.items() if not k.startswith("_")}
        for lv, ps in r.get("pair_sums", {}).items():
            cmp = r.get("periodic", {}).get(lv, {})
            print(f"| {name} | {ps['method']} | {ps['lattice_energy_kcal_mol']:.2f} | "
                  f"{cmp.get('periodic_kcal_mol', float('nan')):.2f} | {cmp.get('difference_kcal_mol', float('nan')):+.2f} "
                  f"| | {refs[name]:.2f} | {r['wall_s']} |")
        if "ce_model" in r:
            ce = r["ce_model"]
            print(f"| {name} | CE-1p ({ce['radius_angstrom']:g} Å{'' if ce['converged'] else ', not converged'}) "
                  f"| | | | {ce['lattice_energy_kcal_mol']:.2f} | {refs[name]:.2f} | {ce['seconds']:.0f} |")
        if args.dft:
            strongest = [p for p in r["pairs"] if p["energies_kcal_mol"].get("dft") is not None]
            for p in strongest:
                e = p["energies_kcal_mol"]
                print(f"|   {name} pair {p['id']} ({p['relation']}, R {p['centroid_distance_angstrom']:.2f} Å, "
                      f"N {p['multiplicity']}) | " + ", ".join(f"{r['levels'].get(k, k)} {v:.2f}" for k, v in e.items()
                                                            if v is not None) + " | | | | | | |")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
