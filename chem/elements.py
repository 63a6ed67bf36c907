"""Element data: symbols and atomic numbers, van der Waals radii, halogen sets, X-H lengths.

Two van der Waals radius tables are kept on purpose; they differ only in hydrogen:

* :data:`BONDI_1964_VDW_RADII`: Bondi, J. Phys. Chem. 68, 441 (1964), H 1.20 Å. The
  conventional molecular surface, used for the electrostatic-potential surface and the
  Merz-Kollman shells of the DFT tier.
* :data:`BONDI_ROWLAND_TAYLOR_VDW_RADII`: Bondi's radii with hydrogen from Rowland & Taylor,
  J. Phys. Chem. 100, 7384 (1996), H 1.10 Å, fitted to intermolecular contact
  distances in the CSD. Used for contacts, dimer placement and molecular volumes.

Elements absent from a table get 2.0 Å (:func:`vdw_radius`, :func:`bondi_vdw_radius`).
"""

from __future__ import annotations

ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn "
    "Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce "
    "Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn"
).split()
"""Element symbols in order of atomic number (H ... Rn)."""
ATOMIC_NUMBER = {symbol: z for z, symbol in enumerate(ELEMENTS, start=1)}

# Halogens, heaviest first: where one is chosen, the strongest sigma-hole (halogen-bond)
# donor comes first.
HALOGENS = ("I", "Br", "Cl", "F")
# The halogens with a sigma hole deep enough to donate a halogen bond (fluorine's is
# practically absent), heaviest first.
SIGMA_HOLE_HALOGENS = ("I", "Br", "Cl")

# Donor (with their H) and acceptor atoms of the hydrogen bonds counted here: D-H···A, D, A in N, O.
HBOND_ELEMENTS = ("N", "O")

DEFAULT_VDW_RADIUS = 2.0   # Å, for elements missing from a table

BONDI_1964_VDW_RADII = {
    "H": 1.20, "He": 1.40, "Li": 1.82, "B": 1.92, "C": 1.70, "N": 1.55, "O": 1.52, "F": 1.47,
    "Ne": 1.54, "Na": 2.27, "Mg": 1.73, "Si": 2.10, "P": 1.80, "S": 1.80, "Cl": 1.75, "Ar": 1.88,
    "K": 2.75, "Se": 1.90, "Br": 1.85, "Kr": 2.02, "Te": 2.06, "I": 1.98, "Xe": 2.16,
}
"""Bondi (1964) van der Waals radii, Å, H 1.20: molecular (ESP) surfaces."""

BONDI_ROWLAND_TAYLOR_VDW_RADII = {
    "H": 1.10, "C": 1.70, "N": 1.55, "O": 1.52, "F": 1.47, "P": 1.80, "S": 1.80,
    "Cl": 1.75, "Br": 1.85, "I": 1.98, "Se": 1.90, "Si": 2.10,
}
"""Bondi (1964) radii with H 1.10 from Rowland & Taylor (1996), Å: intermolecular contacts."""

# X-H bond lengths (Å) from neutron diffraction, to which X-ray H positions are normalised
# (Allen & Bruno, Acta Cryst. B66, 380 (2010), the CSD/Mercury default).
NEUTRON_XH_LENGTHS = {"C": 1.089, "N": 1.015, "O": 0.993}


def vdw_radius(symbol: str) -> float:
    """Contact van der Waals radius (Å) of an element, from :data:`BONDI_ROWLAND_TAYLOR_VDW_RADII`."""
    return BONDI_ROWLAND_TAYLOR_VDW_RADII.get(symbol, DEFAULT_VDW_RADIUS)


def bondi_vdw_radius(symbol: str) -> float:
    """Bondi (1964) van der Waals radius (Å) of an element, from :data:`BONDI_1964_VDW_RADII`."""
    return BONDI_1964_VDW_RADII.get(symbol, DEFAULT_VDW_RADIUS)
