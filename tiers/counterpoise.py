"""The Boys-Bernardi counterpoise scheme for a dimer, once for every harness that offers it.

E_int(CP) = E(AB) - E(A in the AB basis) - E(B in the AB basis): each monomer is
computed with its partner present as ghost atoms (basis functions, no nuclei or
electrons). The uncorrected E(AB) - E(A) - E(B) uses each monomer in its own
basis. Energies here are whatever the harness's ``energy_of`` returns (an SCF
energy, or its parts); the harness turns them into values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Sequence, TypeVar

from ..chem.molecule import Molecule

E = TypeVar("E")
# energy_of(fragments, ghosts (one flag per fragment, or None), label) -> an energy
EnergyOf = Callable[[Sequence[Molecule], "Sequence[bool] | None", str], E]


@dataclass
class CounterpoiseEnergies(Generic[E]):
    """The calculations of one interaction energy, in the order they ran."""

    dimer: E
    monomers_dimer_basis: tuple[E, E] | None  # A, B each with its partner as ghosts; None without CP
    monomers: tuple[E, E] | None  # A, B in their own basis; None when not asked for

    @property
    def counterpoise(self) -> bool:
        return self.monomers_dimer_basis is not None


def counterpoise_energies(energy_of: EnergyOf, a: Molecule, b: Molecule, counterpoise: bool = True,
                          uncorrected: bool = False) -> CounterpoiseEnergies:
    """The dimer, then (with ``counterpoise``) each monomer in the dimer basis, then (with
    ``uncorrected``, or always without counterpoise) each monomer in its own basis."""
    dimer = energy_of([a, b], None, f"{a.label}+{b.label}")
    cp = unc = None
    if counterpoise:
        cp = (energy_of([a, b], [False, True], f"{a.label} in dimer basis"),
              energy_of([a, b], [True, False], f"{b.label} in dimer basis"))
    if uncorrected or not counterpoise:
        unc = (energy_of([a], None, a.label), energy_of([b], None, b.label))
    return CounterpoiseEnergies(dimer, cp, unc)


def choose_interaction(values: dict, counterpoise: bool) -> dict:
    """Set ``counterpoise`` and ``interaction_energy_kcal_mol`` (the corrected one when computed)
    from ``interaction_energy_cp_kcal_mol`` / ``interaction_energy_uncorrected_kcal_mol``."""
    values["counterpoise"] = counterpoise
    values["interaction_energy_kcal_mol"] = values["interaction_energy_cp_kcal_mol" if counterpoise
                                                   else "interaction_energy_uncorrected_kcal_mol"]
    return values
