"""Static polarisabilities per tier against measured gas-phase values.

Each molecule's number is tierchem's ``polarizability`` observable (isotropic mean, Å^3: GFN2-xTB finite
field on the dipole at tier 2, B3LYP/def2-SVP analytic CPKS response at tier 3; the six-SCF finite field
it replaced agreed to 1e-4 Å^3), at the MMFF94 geometry from the SMILES.
Reference values: measured mean static (or long-wavelength-extrapolated) polarisabilities, approximately
as tabulated in the CRC Handbook of Chemistry and Physics, "Atomic and molecular polarizabilities"
(T. M. Miller); where that table lists several measurements the one used is noted. They were not
re-checked against the printed table when this script was written, and differ between measurements by a
few per cent (benzene 10.0-10.7), which is small beside the errors measured here. Prints one line per
molecule, then per tier the MAE, the mean signed relative error and the MAE over the halogen-bearing
molecules: what the adequacy table (agent/observables.py, ``polarizability``) rests on.

    python benchmarks/polarisabilities.py [--tiers 2 3] [--quick] [--basis def2-SVPD] [--only NAME ...]
    # --quick: tier 3 only up to 6 heavy atoms; --basis: another basis at tier 3 (diffuse functions matter)
"""

from __future__ import annotations

import argparse
import sys

# name, SMILES, measured gas-phase mean polarisability (Å^3), approximately from the CRC Handbook table
MEASURED = [
    ("water", "O", 1.45),
    ("methane", "C", 2.593),
    ("carbon dioxide", "O=C=O", 2.911),
    ("methanol", "CO", 3.29),
    ("ethane", "CC", 4.47),
    ("chloromethane", "CCl", 4.72),
    ("acetone", "CC(C)=O", 6.33),  # the table also lists 6.4
    ("chloroform", "ClC(Cl)Cl", 8.23),  # the table also lists 9.5
    ("benzene", "c1ccccc1", 10.32),  # the table lists 10.0, 10.32 and 10.74
    ("carbon tetrachloride", "ClC(Cl)(Cl)Cl", 11.2),
    ("chlorobenzene", "Clc1ccccc1", 12.3),
    ("iodobenzene", "Ic1ccccc1", 15.5),
]
HALOGENS = ("Cl", "Br", "I")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--quick", action="store_true", help="at tier 3 only molecules of up to 6 heavy atoms")
    parser.add_argument("--basis", help="the basis at tier 3 instead of the tier's def2-SVP")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these molecules (names as printed)")
    args = parser.parse_args()
    if any(t not in (2, 3) for t in args.tiers):
        sys.exit("polarisabilities are computed at tiers 2 (xTB) and 3 (DFT) only")
    unknown = sorted(set(args.only or ()) - {name for name, _, _ in MEASURED})
    if unknown:
        sys.exit(f"unknown molecule(s) {', '.join(unknown)}; known: {', '.join(n for n, _, _ in MEASURED)}")

    from measured import tier_values
    from tierchem.chem import Molecule
    from tierchem.tiers import ResultStore

    store = ResultStore()
    rows: dict[int, list[tuple[str, float, float, bool]]] = {t: [] for t in args.tiers}
    for name, smiles, ref in MEASURED:
        if args.only and name not in args.only:
            continue
        mol = Molecule.from_smiles(smiles, name=name)
        halo = any(s in HALOGENS for s in mol.symbols)
        cells = []
        for tv in tier_values("polarizability", mol, args.tiers, store, 6 if args.quick else None, args.basis):
            if tv.value is None:
                cells.append(f"t{tv.tier}   {tv.note}")
                continue
            rows[tv.tier].append((name, tv.value, ref, halo))
            cells.append(f"t{tv.tier} {tv.value:6.2f} ({tv.value - ref:+6.2f}, {100 * (tv.value - ref) / ref:+4.0f}%, "
                         f"{tv.seconds:5.1f} s)")
        print(f"{name:21s} measured {ref:6.2f} Å^3  " + "  ".join(cells))
    for tier, got in rows.items():
        if not got:
            continue
        mae = sum(abs(a - r) for _, a, r, _ in got) / len(got)
        rel = 100 * sum((a - r) / r for _, a, r, _ in got) / len(got)
        halo = [abs(a - r) for _, a, r, h in got if h]
        plain = [abs(a - r) for _, a, r, h in got if not h]
        print(f"tier {tier}: MAE {mae:.2f} Å^3 ({len(got)}), mean signed error {rel:+.0f}%; "
              f"with Cl/I {sum(halo) / len(halo) if halo else float('nan'):.2f} ({len(halo)}), "
              f"without {sum(plain) / len(plain) if plain else float('nan'):.2f} ({len(plain)})")


if __name__ == "__main__":
    main()
