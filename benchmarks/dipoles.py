"""Conformer-averaged dipoles per tier against measured gas-phase dipoles, with heavy halogens in the set.

Each molecule's dipole is tierchem's ``dipole`` observable (sqrt of the Boltzmann-weighted <mu^2> over
the tier's conformer ensemble, 298 K). Reference values: measured gas-phase dipole moments from the CRC
Handbook of Chemistry and Physics, "Dipole Moments" table (microwave / Stark / dielectric), as listed in
NIST CCCBDB (cccbdb.nist.gov, experimental dipoles). Prints one line per molecule, then the MAE per tier
over all molecules, over those with Br or I, and over the rest: what the adequacy table's per-element
trust (``TierUse.distrusted_elements``) rests on.

    python benchmarks/dipoles.py [--tiers 2 3] [--quick]   # --quick: skip the DFT tier's slowest
"""

from __future__ import annotations

import argparse

# name, SMILES, measured gas-phase dipole (D), CRC Handbook / NIST CCCBDB
MEASURED = [
    ("fluorobenzene", "Fc1ccccc1", 1.60),
    ("chlorobenzene", "Clc1ccccc1", 1.69),
    ("bromobenzene", "Brc1ccccc1", 1.70),
    ("iodobenzene", "Ic1ccccc1", 1.70),
    ("chloromethane", "CCl", 1.892),
    ("bromomethane", "CBr", 1.822),
    ("iodomethane", "CI", 1.62),
    ("water", "O", 1.8546),
    ("ammonia", "N", 1.4718),
    ("formaldehyde", "C=O", 2.332),
    ("acetone", "CC(C)=O", 2.88),
    ("acetonitrile", "CC#N", 3.92519),
    ("pyridine", "c1ccncc1", 2.215),
    ("methanol", "CO", 1.70),
    ("ethanol", "CCO", 1.69),
]
HEAVY = ("Br", "I")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--quick", action="store_true", help="at tier 3 only molecules of up to 7 heavy atoms")
    args = parser.parse_args()

    from measured import tier_values
    from tierchem.chem import Molecule
    from tierchem.tiers import ResultStore

    store = ResultStore()
    errors: dict[int, list[tuple[str, float, bool]]] = {t: [] for t in args.tiers}
    for name, smiles, ref in MEASURED:
        mol = Molecule.from_smiles(smiles, name=name)
        heavy = any(s in HEAVY for s in mol.symbols)
        cells = []
        for tv in tier_values("dipole", mol, args.tiers, store, 7 if args.quick else None):
            if tv.value is None:
                cells.append(f"t{tv.tier}   {tv.note}")
                continue
            errors[tv.tier].append((name, tv.value - ref, heavy))
            cells.append(f"t{tv.tier} {tv.value:5.2f} D ({tv.value - ref:+.2f}, {tv.seconds:5.1f} s)")
        print(f"{name:14s} measured {ref:5.2f} D  " + "  ".join(cells))
    for tier, errs in errors.items():
        def mae(sel):
            vals = [abs(e) for _, e, h in errs if sel(h)]
            return f"{sum(vals) / len(vals):.2f} ({len(vals)})" if vals else "-"
        print(f"tier {tier}: MAE {mae(lambda h: True)} D; with Br/I {mae(lambda h: h)}; "
              f"without {mae(lambda h: not h)}")


if __name__ == "__main__":
    main()
