"""The four 1,1,2-trichloroethane polymorphs side by side: symmetry-unique pairs and their
contacts, classical pair energies and the pair-sum lattice energy against the periodic one,
energy frameworks and Hirshfeld fingerprints.

    python examples/trichloroethane_polymorphs/compare.py [OUT_DIR] [--tier classical] [--radius 20]

Reads the COD CIFs shipped in tierchem/tiers/data/cod; writes comparison.md, comparison.json,
framework_<COD>.png and fingerprints.png to OUT_DIR (default: runs/trichloroethane_polymorphs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tierchem.agent import crystal_views as views
from tierchem.chem.crystal import read_cif
from tierchem.tiers import ResultStore
from tierchem.tiers.refdata import cod_dir

POLYMORPHS = ("7103362", "7103363", "7103364", "7103365")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="runs/trichloroethane_polymorphs", type=Path)
    ap.add_argument("--tier", default="classical", help="pair-energy level (classical or xtb)")
    ap.add_argument("--radius", type=float, default=20.0, help="centroid radius of the pair sums (Å)")
    ap.add_argument("--no-fingerprints", action="store_true", help="skip the Hirshfeld surfaces (occpy)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(args.out / "results.sqlite")
    rows, fingerprints, report, splits = [], [], {}, []
    for code in POLYMORPHS:
        crystal = read_cif(cod_dir() / f"112-trichloroethane_COD{code}.cif", name=f"COD {code}")
        r = views.crystal_report(crystal, [args.tier], store, radius=args.radius)
        views.framework_figure(crystal, r["_pair_set"], r["_energies"][args.tier],
                               title=f"1,1,2-trichloroethane, COD {code}").save(args.out / f"framework_{code}.png")
        s, ps, cmp = r["summary"], r["pair_sums"][args.tier], r["periodic"].get(args.tier)
        kinds = sorted({f for p in r["pairs"] for f in p["contacts"]})
        strongest = min(r["pairs"], key=lambda p: p["energies_kcal_mol"][args.tier])
        rows.append((code, s["space_group"], s["density_g_cm3"], s["packing_coefficient"], len(r["pairs"]),
                     ps["lattice_energy_kcal_mol"], cmp["periodic_kcal_mol"] if cmp else None,
                     f"{strongest['energies_kcal_mol'][args.tier]:.2f} ({strongest['relation']}, "
                     f"{', '.join(strongest['contacts']) or 'no short contact'})", kinds))
        splits.append((code, r["lattice_energy_by_contact"][args.tier]))
        report[code] = views.public(r)
        if not args.no_fingerprints:
            from tierchem.tiers.crystal_energies import hirshfeld_fingerprint

            fingerprints.append(hirshfeld_fingerprint(crystal))
    lines = ["# 1,1,2-Trichloroethane: four polymorphs", "",
             f"Pair energies at {args.tier}; lattice energies per molecule (kcal/mol), pairs to {args.radius:g} Å, "
             "at the CIF geometry with crystal-geometry monomers.", "",
             "| COD | space group | ρ / g cm⁻³ | PC | shell pairs | pair sum | periodic | strongest pair | contact kinds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for code, sg, rho, pc, n, e_pairs, e_periodic, strong, kinds in rows:
        lines.append(f"| {code} | {sg} | {rho:.3f} | {pc:.3f} | {n} | {e_pairs:.2f} | "
                     f"{e_periodic:.2f} | {strong} | {'; '.join(kinds)} |" if e_periodic is not None else
                     f"| {code} | {sg} | {rho:.3f} | {pc:.3f} | {n} | {e_pairs:.2f} | - | {strong} | {'; '.join(kinds)} |")
    kinds = [k for k in (*views.CONTACT_COLOURS, "beyond the shell") if any(k in sp for _, sp in splits)]
    label = {k: views.CONTACT_COLOURS[k][1] if k in views.CONTACT_COLOURS else k for k in kinds}
    lines += ["", "The pair sum split by the pairs' most specific contact (kcal/mol per molecule):", "",
              "| COD | " + " | ".join(label[k] for k in kinds) + " |", "|---|" + "---|" * len(kinds)]
    lines += [f"| {code} | " + " | ".join(f"{sp.get(k, 0.0):.2f}" for k in kinds) + " |" for code, sp in splits]
    if fingerprints:
        views.fingerprint_figure(fingerprints).save(args.out / "fingerprints.png")
        table = views.element_pair_table(fingerprints)
        pairs = list(next(iter(table.values())))
        lines += ["", "Hirshfeld surface shares (%):", "", "| COD | " + " | ".join(pairs) + " |",
                  "|---|" + "---|" * len(pairs)]
        lines += [f"| {name.split()[-1]} | " + " | ".join(f"{v[k]:.1f}" for k in pairs) + " |" for name, v in table.items()]
        for code, fp in zip(POLYMORPHS, fingerprints):
            report[code]["fingerprint_shares"] = fp.shares()
    (args.out / "comparison.md").write_text("\n".join(lines) + "\n")
    (args.out / "comparison.json").write_text(json.dumps(report, indent=1, default=str))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
