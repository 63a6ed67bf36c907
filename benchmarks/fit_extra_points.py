"""The sigma-hole extra points of GAFF2-EP fitted to the DFT electrostatic potential, or to X40.

For each of Cl, Br, I: the halomethane, the halobenzene and the 1,4-dihalobenzene (MMFF94 geometries),
their GAFF2/AM1-BCC charges, and the B3LYP/def2-SVP potential (tier 3; def2 ECP on I) on their
Merz-Kollman points (shells at 1.4-2.0 x vdW radii), every calculation stored. The fit
(:func:`tierchem.tiers.extra_point_fit.fit_extra_point`) moves a charge q from the halogen to a site d
beyond it on the C-X axis and picks the (d, q) that brings the force field's potential closest to the
DFT one on the points nearest the halogens. Prints per halogen the fitted d and q, the RMS error of V
there before and after (kcal/mol/e), and the same per molecule; with ``--json`` writes them too.

``--target x40``: the (d, q) per halogen that best reproduce the CCSD(T)/CBS interaction energies of X40's
C-bound Cl, Br, I dimers (Řezáč, Riley & Hobza, J. Chem. Theory Comput. 8, 4285 (2012)), rigid, from the
plain GAFF2 energies (stored) and the closed-form Coulomb change of the extra point
(:func:`tierchem.tiers.extra_point_fit.fit_extra_point_to_energies`). Prints per halogen the fit, the MAE
of plain GAFF2, of the fit, of leave-one-out refits (each dimer predicted by a fit to the others), and of
the extra points in use (tiers.classical.EXTRA_POINTS), with a check that the closed form reproduces the
engine's GAFF2-EP energies for those.

    python benchmarks/fit_extra_points.py [--target esp|x40] [--basis def2-SVP] [--json FILE]
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


def x40_samples(store):
    """EnergySample per C-bound Cl/Br/I X40 dimer, and the engine's GAFF2-EP energy for each (kcal/mol)."""
    import numpy as np

    from tierchem.tiers import compute
    from tierchem.tiers.amber import parameters
    from tierchem.tiers.benchmark import heaviest_halogen, load_dataset
    from tierchem.tiers.catalogue import make_spec
    from tierchem.tiers.classical import EP_METHOD
    from tierchem.tiers.extra_point_fit import EnergySample

    samples, engine_ep = [], {}
    for e in load_dataset("x40"):
        halogen, partner = heaviest_halogen(e)
        if halogen not in MOLECULES or partner != "C":
            continue
        frags = list(e.fragments)
        plain = compute(make_spec("interaction_energy", frags, "classical"), store, raise_error=True)
        ep = compute(make_spec("interaction_energy", frags, "classical", method=EP_METHOD), store, raise_error=True)
        charges = tuple(np.array([a.charge for a in parameters(m).structure.atoms]) for m in frags)
        samples.append(EnergySample(e.name, tuple(frags), charges, e.reference_kcal_mol,
                                    plain.values["interaction_energy_kcal_mol"]))
        engine_ep[e.name] = ep.values["interaction_energy_kcal_mol"]
    return samples, engine_ep


def fit_x40(store) -> list[dict]:
    import numpy as np

    from tierchem.tiers.classical import EXTRA_POINTS
    from tierchem.tiers.extra_point_fit import extra_point_shift, fit_extra_point_to_energies

    samples, engine_ep = x40_samples(store)
    closed = {s.name: s.plain_kcal_mol + extra_point_shift(s, EXTRA_POINTS) for s in samples}
    worst = max(abs(closed[n] - engine_ep[n]) for n in closed)
    print(f"closed form vs engine GAFF2-EP at the extra points in use: max |diff| {worst:.2e} kcal/mol "
          f"over {len(samples)} dimers")
    fits = []
    for halogen in MOLECULES:
        fit = fit_extra_point_to_energies(samples, halogen)
        used = [abs(engine_ep[n] - s.reference_kcal_mol) for s in samples for n in [s.name] if n in fit.names]
        d0, q0 = EXTRA_POINTS[halogen]
        print(f"{halogen:2s} n={len(fit.names)}  fitted d = {fit.distance_angstrom:.2f} Å  q = {fit.charge_e:+.4f} e   "
              f"MAE plain {fit.mae_plain_kcal_mol:.2f}, fitted {fit.mae_fitted_kcal_mol:.2f}, "
              f"leave-one-out {fit.mae_leave_one_out_kcal_mol:.2f}; in use ({d0:.2f} Å, {q0:+.3f} e) "
              f"{float(np.mean(used)):.2f} kcal/mol")
        fits.append({**asdict(fit), "mae_in_use_kcal_mol": float(np.mean(used)), "in_use": [d0, q0]})
    return fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("esp", "x40"), default="esp")
    parser.add_argument("--basis", default="def2-SVP")
    parser.add_argument("--json", help="write the fits here")
    args = parser.parse_args()

    from tierchem.tiers import ResultStore
    from tierchem.tiers.extra_point_fit import fit_extra_point

    store, fits = ResultStore(), []
    if args.target == "x40":
        fits = fit_x40(store)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"target": "x40", "fits": fits}, fh, indent=1)
        return
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
