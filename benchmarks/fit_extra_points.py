"""The sigma-hole extra points of GAFF2-EP fitted to the DFT electrostatic potential.

For each of Cl, Br, I: the halomethane, the halobenzene and the 1,4-dihalobenzene (MMFF94 geometries),
their GAFF2/AM1-BCC charges, and the B3LYP/def2-SVP potential (tier 3; def2 ECP on I) on their
Merz-Kollman points (shells at 1.4-2.0 x vdW radii), every calculation stored. The fit
(:func:`tierchem.tiers.extra_point_fit.fit_extra_point`) moves a charge q from the halogen to a site d
beyond it on the C-X axis and picks the (d, q) that brings the force field's potential closest to the
DFT one on the points nearest the halogens. Prints per halogen the fitted d and q, the RMS error of V
there before and after (kcal/mol/e), and the same per molecule; with ``--json`` writes them too. What
tiers.classical.EXTRA_POINTS holds comes from this script's output.

    python benchmarks/fit_extra_points.py [--basis def2-SVP] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

# (name, SMILES) per halogen: sp3 and aromatic C-X, and the demo's dihalobenzene
MOLECULES = {x: [(f"{n}methane", f"C{x}"), (f"{n}benzene", f"{x}c1ccccc1"), (f"1,4-di{n}benzene", f"{x}c1ccc({x})cc1")]
             for x, n in (("Cl", "chloro"), ("Br", "bromo"), ("I", "iodo"))}


def samples(halogen: str, basis: str, store):
    import numpy as np

    from tierchem.chem import Molecule
    from tierchem.tiers import CalcSpec, compute
    from tierchem.tiers.amber import parameters
    from tierchem.tiers.extra_point_fit import EspSample

    out = []
    for name, smiles in MOLECULES[halogen]:
        mol = Molecule.from_smiles(smiles, name=name)
        spec = CalcSpec(task="properties", tier=3, engine="pyscf", method="B3LYP-D3BJ", basis=basis,
                        molecules=(mol,), keywords={"keep_esp_points": True})
        res = compute(spec, store, raise_error=True)
        charges = np.array([a.charge for a in parameters(mol).structure.atoms])
        out.append(EspSample(mol, charges, np.array(res.artifacts["esp_points_angstrom"]),
                             np.array(res.artifacts["esp_potential_au"])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basis", default="def2-SVP")
    parser.add_argument("--json", help="write the fits here")
    args = parser.parse_args()

    from tierchem.tiers import ResultStore
    from tierchem.tiers.extra_point_fit import fit_extra_point

    store, fits = ResultStore(), []
    for halogen in MOLECULES:
        data = samples(halogen, args.basis, store)
        fit = fit_extra_point(data, halogen)
        fits.append(asdict(fit))
        print(f"{halogen:2s} d = {fit.distance_angstrom:.2f} Å  q = {fit.charge_e:+.4f} e  RMS(V) near {halogen}: "
              f"plain {fit.rms_plain_kcal_mol:.2f} -> fitted {fit.rms_fitted_kcal_mol:.2f} kcal/mol/e "
              f"({fit.n_points} points)")
        for one in data:  # each molecule with the joint fit, and alone
            alone = fit_extra_point([one], halogen)
            print(f"   {one.molecule.label:22s} alone d = {alone.distance_angstrom:.2f} q = {alone.charge_e:+.4f}  "
                  f"RMS plain {alone.rms_plain_kcal_mol:.2f} -> {alone.rms_fitted_kcal_mol:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"basis": args.basis, "method": "B3LYP-D3BJ", "fits": fits}, fh, indent=1)


if __name__ == "__main__":
    main()
