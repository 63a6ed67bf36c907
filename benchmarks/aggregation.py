"""Aggregation motifs of the dihalobenzene demo (issue 12): type II X···X propensity with and without the
sigma-hole extra point.

For 1,4-diiodo-, 1,4-dibromo- and 1,4-dichlorobenzene (examples/dihalobenzenes), tierchem's ``md_aggregation``
task: ``--n`` copies placed dilute and at random in a sphere (1000 Å^3 per molecule, a weak flat-bottom wall),
annealed 400 K -> 250 K (Langevin, 2 fs with hydrogen masses repartitioned), ``--replicas`` seeded replicas,
once with GAFF2-EP (a positive extra point on each C-X axis) and once with plain GAFF2/AM1-BCC. Contact
motifs over each replica's last 10 frames, with the criteria of chem.crystal_contacts, per molecule (contacts
/ molecules); the table shows mean ± sample standard deviation over the replicas, the largest aggregate's
share of the molecules, and each series' wall time (parameters cached before timing). "type II" is
chem.crystal_contacts' |theta1 - theta2| > 30°; "II linear" its subset near the ideal geometry (theta1 >= 150°,
theta2 60-120°), the sigma hole meeting the other halogen's belt.

    python benchmarks/aggregation.py [--n 12] [--steps 20000] [--replicas 6] [--methods GAFF2-EP GAFF2/AM1-BCC]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dihalobenzenes" / "series.csv"
COLUMNS = (("type_ii_xx", "type II"), ("type_ii_linear_xx", "II linear"), ("type_i_xx", "type I"),
           ("intermediate_xx", "interm."), ("pi_stack", "stacks"), ("t_contact", "T"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="copies per run")
    ap.add_argument("--steps", type=int, default=20000, help="steps of 2 fs per replica")
    ap.add_argument("--replicas", type=int, default=6)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--methods", nargs="+", default=["GAFF2-EP", "GAFF2/AM1-BCC"])
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="tierchem-agg-") as tmp:
        os.environ.setdefault("TIERCHEM_CACHE_DIR", tmp)
        from tierchem.chem.molecule_set import read_molecule_set
        from tierchem.tiers.amber import parameters
        from tierchem.tiers.catalogue import make_spec
        from tierchem.tiers.compute import compute

        series = [e.molecule for e in read_molecule_set(EXAMPLE)]
        for m in series:
            parameters(m)  # AM1-BCC once, before timing
        rows, totals = [], {}
        for method in args.methods:
            t0 = time.perf_counter()
            for m in series:
                spec = make_spec("md_aggregation", [m], level="classical", method=method, n_molecules=args.n,
                                 steps=args.steps, replicas=args.replicas, seed=args.seed)
                r = compute(spec, use_cache=False, raise_error=True)
                rows.append((m.label, method, r.values, r.artifacts["platform"]))
            totals[method] = time.perf_counter() - t0

    v0 = rows[0][2]
    print(f"{args.n} copies in a sphere of {v0['sphere_radius_angstrom']:.1f} Å, {v0['simulated_time_ps']:.0f} ps "
          f"annealed {v0['temperature_start_k']:.0f} -> {v0['temperature_end_k']:.0f} K, {args.replicas} replicas "
          f"(seeds {args.seed}...), platform {rows[0][3]}; contacts per molecule over the last "
          f"{v0['replicas'][0]['frames_analysed']} frames, mean ± sd over replicas")
    head = f"{'molecule':22s} {'method':14s} " + " ".join(f"{c:>12s}" for _, c in COLUMNS) + f" {'aggregate':>11s}"
    print(head)
    for name, method, v, _ in rows:
        mean, sd = v["motifs_per_molecule_mean"], v["motifs_per_molecule_std"]
        cells = " ".join(f"{mean[k]:6.2f}±{sd[k]:<5.2f}" for k, _ in COLUMNS)
        print(f"{name:22s} {method:14s} {cells} {v['largest_aggregate_fraction_mean']:6.2f}±"
              f"{v['largest_aggregate_fraction_std']:.2f}")
    for method, t in totals.items():
        print(f"wall time {method}: {t:.0f} s for the series ({len(rows) // len(totals)} molecules x "
              f"{args.replicas} replicas)")


if __name__ == "__main__":
    main()
