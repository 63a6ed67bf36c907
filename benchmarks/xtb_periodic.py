"""Is tblite's periodic xTB energy sound for molecular crystals? Two checks, fixed X23 geometries.

1. Cell size. tblite samples the Brillouin zone at Gamma only, so a narrow cell couples
   each molecule to its own periodic image. Prints E(cell)/Z - E(gas molecule, same
   geometry) for the unit cell, for the supercell tierchem uses (every face-to-face
   width >= tiers.xtb.DEFAULT_SUPERCELL_WIDTH) and for one a cell longer along its
   narrowest direction: the last two must agree.
2. Periodic vs molecular. The same quantity from half the sum of molecular (non-periodic)
   dimer energies of one molecule with all neighbours within 12 Å (the two-body
   lattice energy; many-body terms of ammonia clusters are +2-3 % at both GFN levels).
   Periodic and two-body values should agree to about that.
3. With ``--clusters``: the bulk limit of [E(cluster) - N E(molecule)]/N over spherical
   clusters of ammonia (R = 8, 10, 12, 14 Å; 68-336 molecules), linear in N^(-1/3).
   Molecular and periodic tblite share no code path for the lattice sums, so agreement
   validates the periodic energy. Slow: about 17 min for GFN1-xTB on 2 cores. Measured with
   tblite 0.8.0: GFN1 periodic -7.61 vs cluster limit -7.57; GFN2 periodic -4.84 vs -7.88
   (R <= 12 Å): periodic GFN2 is the outlier.

    python benchmarks/xtb_periodic.py [--data REFDATA] [--crystals ammonia,adamantane] [--clusters]

Needs the X23 CIFs of the refdata folder; exits 0 with a message without them.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from tierchem.tiers.refdata import refdata_dir

DEFAULT_DATA = refdata_dir()  # the copy shipped in tiers/data, or $TIERCHEM_REFDATA
KCAL = 627.509474
BOHR = 1 / 0.529177210903


def energy(method: str, molecules, cell=None) -> float:
    """Total energy (Eh) of the molecules with tblite, periodic when a cell is given."""
    from tblite.interface import Calculator

    numbers = np.array([z for m in molecules for z in m.atomic_numbers])
    xyz = np.vstack([m.coords for m in molecules]) * BOHR
    periodic = {} if cell is None else {"lattice": np.asarray(cell) * BOHR, "periodic": np.array([True] * 3)}
    calc = Calculator(method, numbers, xyz, **periodic)
    calc.set("verbosity", 0)
    return float(calc.singlepoint().get("energy"))


def cell_sizes(crystal, method: str) -> None:
    from tierchem.tiers.periodic import perpendicular_widths, replicate, supercell_repeats
    from tierchem.tiers.xtb import DEFAULT_SUPERCELL_WIDTH

    cell, mols = np.asarray(crystal.cell_matrix), crystal.molecules
    e_gas = sum(energy(method, [m]) for m in mols) / len(mols)
    chosen = supercell_repeats(cell, DEFAULT_SUPERCELL_WIDTH)
    widths = perpendicular_widths(cell) * chosen
    wider = tuple(n + (i == int(np.argmin(widths))) for i, n in enumerate(chosen))  # one more along the narrowest
    for reps in dict.fromkeys([(1, 1, 1), chosen, wider]):
        t0 = time.perf_counter()
        images = replicate(mols, cell, reps)
        e = energy(method, images, cell * np.array(reps)[:, None]) / len(images) - e_gas
        label = " (tierchem's)" if reps == chosen else ""
        print(f"  {method} {'x'.join(map(str, reps)):>6}{label:14s} {len(images):4d} molecules  "
              f"E/mol - E_gas = {e * KCAL:8.3f} kcal/mol  ({time.perf_counter() - t0:.1f} s)", flush=True)


def two_body(crystal, method: str, cutoff: float = 12.0) -> float:
    """Half the sum of molecular dimer interaction energies (kcal/mol), averaged over the Z molecules."""
    cell, mols = np.asarray(crystal.cell_matrix), crystal.molecules
    mono = [energy(method, [m]) for m in mols]
    total = 0.0
    for i, centre in enumerate(mols):
        for j, other in enumerate(mols):
            for img in itertools.product(range(-3, 4), repeat=3):
                if i == j and img == (0, 0, 0):
                    continue
                moved = other.with_coords(other.coords + np.array(img) @ cell)
                if np.linalg.norm(moved.coords.mean(0) - centre.coords.mean(0)) <= cutoff:
                    total += energy(method, [centre, moved]) - mono[i] - mono[j]
    return 0.5 * total * KCAL / len(mols)


def cluster_limit(crystal, method: str, radii=(8.0, 10.0, 12.0, 14.0)) -> None:
    cell, mols = np.asarray(crystal.cell_matrix), crystal.molecules
    mono = [energy(method, [m]) for m in mols]
    centre = np.mean([m.coords.mean(0) for m in mols], axis=0)
    xs, ys = [], []
    for radius in radii:
        t0 = time.perf_counter()
        members = [(j, m.with_coords(m.coords + np.array(img) @ cell))
                   for j, m in enumerate(mols) for img in itertools.product(range(-5, 6), repeat=3)
                   if np.linalg.norm(m.coords.mean(0) + np.array(img) @ cell - centre) <= radius]
        e = (energy(method, [m for _, m in members]) - sum(mono[j] for j, _ in members)) / len(members)
        xs.append(len(members) ** (-1 / 3))
        ys.append(e * KCAL)
        print(f"  {method} cluster R = {radius:4.1f} Å  {len(members):4d} molecules  [E - N E_mol]/N = "
              f"{ys[-1]:8.3f} kcal/mol  ({time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"  {method} bulk limit (linear in N^-1/3)                 E/mol - E_gas = "
          f"{np.polyfit(xs, ys, 1)[1]:8.3f} kcal/mol", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--crystals", default="ammonia,adamantane")
    parser.add_argument("--methods", default="GFN2-xTB,GFN1-xTB")
    parser.add_argument("--clusters", action="store_true", help="also the bulk limit of ammonia clusters (slow)")
    args = parser.parse_args()
    folder = args.data / "25_x23" / "expt"
    if not folder.is_dir():
        print(f"no X23 CIFs under {folder}: figures missing")
        return 0
    from tierchem.chem.crystal import read_cif

    for name in args.crystals.split(","):
        crystal = read_cif(folder / f"{name}.cif")
        print(f"{name}: Z = {len(crystal.molecules)}, fixed geometry")
        for method in args.methods.split(","):
            cell_sizes(crystal, method)
            if name == "ammonia":  # small enough for the dimer sum in seconds (adamantane: a minute)
                t0 = time.perf_counter()
                print(f"  {method} two-body sum of molecular dimers (12 Å)   E/mol - E_gas = "
                      f"{two_body(crystal, method):8.3f} kcal/mol  ({time.perf_counter() - t0:.1f} s)", flush=True)
                if args.clusters:
                    cluster_limit(crystal, method)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
