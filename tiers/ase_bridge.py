"""The one bridge from a harness to ASE: a calculator on a function, and a relaxation.

A harness that can give energy and forces for a whole system's coordinates
(``evaluate(positions_angstrom) -> (energy_ev, forces_ev_per_angstrom)``, in
ASE's units) gets ASE's optimisers through :func:`relax`; the fragments come back
each at its new coordinates. ASE is imported inside the functions, so importing
this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..chem.molecule import Molecule
from .harness import combined_geometry, split_coords

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray]]  # positions Å -> (eV, eV/Å)
OPTIMIZERS = ("BFGS", "LBFGS")


@dataclass
class Relaxation:
    """The end of :func:`relax`: energies in eV, forces in eV/Å."""

    molecules: list[Molecule]
    initial_energy_ev: float
    energy_ev: float
    forces_ev_angstrom: np.ndarray  # (N, 3) at the final geometry
    n_steps: int
    n_calls: int  # evaluate() calls, the first geometry included
    fmax_ev_angstrom: float

    @property
    def max_force_ev_angstrom(self) -> float:
        """The largest force on an atom (its norm), ASE's convergence measure."""
        return float(np.linalg.norm(self.forces_ev_angstrom, axis=1).max())

    @property
    def converged(self) -> bool:
        return self.max_force_ev_angstrom <= self.fmax_ev_angstrom


def calculator(evaluate: Evaluate):
    """An ASE calculator whose energy and forces come from ``evaluate``; ``n_calls`` counts them."""
    from ase.calculators.calculator import Calculator, all_changes

    class FunctionCalculator(Calculator):
        implemented_properties = ["energy", "forces"]

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.n_calls = 0

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            energy, forces = evaluate(self.atoms.get_positions())
            self.n_calls += 1
            self.results["energy"] = float(energy)
            self.results["forces"] = np.asarray(forces, float).reshape(-1, 3)

    return FunctionCalculator()


def relax(fragments: Sequence[Molecule], evaluate: Evaluate, fmax_ev_angstrom: float, max_steps: int,
          optimizer: str = "BFGS", cell: np.ndarray | None = None) -> Relaxation:
    """Relax the fragments together (one system; in a fixed periodic ``cell`` when given) with
    ASE's BFGS or LBFGS until the largest force is at most ``fmax_ev_angstrom`` or ``max_steps``
    steps are done (0: no step, the first geometry's energy and forces)."""
    from ase import Atoms
    from ase.optimize import BFGS, LBFGS

    symbols, xyz = combined_geometry(fragments)
    periodic = {} if cell is None else {"cell": np.asarray(cell, float), "pbc": True}
    atoms = Atoms(symbols=symbols, positions=xyz, **periodic)
    atoms.calc = calculator(evaluate)
    e0 = atoms.get_potential_energy()
    n_steps = 0
    if max_steps > 0:
        opt = {"BFGS": BFGS, "LBFGS": LBFGS}[optimizer.upper()](atoms, logfile=None)
        opt.run(fmax=fmax_ev_angstrom, steps=max_steps)
        n_steps = int(opt.nsteps)
    return Relaxation(molecules=split_coords(fragments, atoms.get_positions()), initial_energy_ev=e0,
                      energy_ev=atoms.get_potential_energy(), forces_ev_angstrom=atoms.get_forces(),
                      n_steps=n_steps, n_calls=atoms.calc.n_calls, fmax_ev_angstrom=fmax_ev_angstrom)
