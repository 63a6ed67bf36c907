"""Intramolecular hydrogen bonds as geometry: which D-H···A triples the graph allows, and which of them
are formed in a geometry or in every frame of a trajectory.

The criterion (the one place for it: conformer observables, features, counterfactuals and MD occupancies
all call this module):

- **donor**: an H bonded to N or O;
- **acceptor**: O, F, or an N with a lone pair to give (formally neutral or negative, and not a
  pyrrole-type aromatic N whose lone pair is in the ring's pi sextet): a nitro N+ is not an acceptor, its
  O atoms are;
- **graph**: the acceptor three or more bonds from the donor atom, i.e. a pseudo-ring of five atoms or
  more (D-H···A closing O-C-C-O in guaiacol or catechol: 5; salicylaldehyde's O-H···O=C: 6). A
  four-membered "ring" (the syn O-H and C=O of one carboxylic acid, an amide's N-H and O) is geometry,
  not an H-bond: its D-H···A angle is 65-90°;
- **geometry**: H···A shorter than ``HBOND_MAX_H_ACCEPTOR`` (2.5 Å) and the D-H···A angle wider than
  ``HBOND_MIN_ANGLE`` (100°). Six-membered rings are nearly linear (salicylaldehyde 143°, H···O 1.77 Å at
  MMFF94 and GFN2-xTB); five-membered ones are bent and long (GFN2-xTB/MMFF94 2-fluorophenol H···F
  2.25/2.22 Å at 111/113°, guaiacol H···O 2.12/2.07 Å at 114/117°, catechol 2.16/2.11 Å at 114/118°), so
  the angle must admit about 110°; 100° leaves margin below them and stays far above the 65-90° of the
  four-membered contacts. IUPAC's definition asks for D-H···A "preferably above 110°" (E. Arunan et al.,
  Pure Appl. Chem. 83, 1637 (2011)); the margin below it is for the bent five-membered rings.

Cl, Br and I are not counted as acceptors here: their contacts are longer than 2.5 Å in a five-ring and
one distance cut-off would not serve both.
"""

from __future__ import annotations

import numpy as np

from .molecule import Molecule

HBOND_MAX_H_ACCEPTOR = 2.5  # Å
HBOND_MIN_ANGLE = 100.0  # degrees, D-H···A
HBOND_DONORS = ("N", "O")
HBOND_ACCEPTORS = ("N", "O", "F")
MIN_BONDS_DONOR_ACCEPTOR = 3  # a 5-membered pseudo-ring (guaiacol: O-C-C-O) or larger
MAX_RING_BONDS_DONOR_ACCEPTOR = 4  # a 6-membered pseudo-ring: the largest a rigid ortho pair closes
CRITERION = (f"D-H···A with D = N/O, A = O, F or an N with a free lone pair, A {MIN_BONDS_DONOR_ACCEPTOR}+ bonds "
             f"from D; H···A < {HBOND_MAX_H_ACCEPTOR} Å and D-H···A > {HBOND_MIN_ANGLE:.0f}°")


def polar_hydrogens(m: Molecule) -> list[tuple[int, int]]:
    """(H, donor atom) for every H bonded to N or O."""
    nb = m.neighbours()
    return [(h, nb[h][0]) for h, s in enumerate(m.symbols)
            if s == "H" and len(nb[h]) == 1 and m.symbols[nb[h][0]] in HBOND_DONORS]


def acceptor_atoms(m: Molecule) -> list[int]:
    """Atoms that can accept an H-bond: O, F, and N with a lone pair to give (not N+, not pyrrole-type)."""
    charges = m.formal_charges or (0,) * m.n_atoms
    out = []
    aromatic = None
    for a, s in enumerate(m.symbols):
        if s not in HBOND_ACCEPTORS:
            continue
        if s == "N":
            if charges[a] > 0:
                continue
            if aromatic is None:
                aromatic = [atom.GetIsAromatic() for atom in m.to_rdkit().GetAtoms()]
            if aromatic[a] and len(m.neighbours()[a]) == 3:
                continue
        out.append(a)
    return out


def _bonds_apart(m: Molecule, i: int, j: int) -> int:
    path = m.bond_path(i, j)
    return len(path) - 1 if path else 10 ** 6


def intramolecular_hbond_triples(m: Molecule, max_bonds: int | None = None) -> list[tuple[int, int, int]]:
    """(donor, hydrogen, acceptor) triples the molecular graph allows: A at least
    ``MIN_BONDS_DONOR_ACCEPTOR`` bonds from D (and at most ``max_bonds``, when given)."""
    acceptors = acceptor_atoms(m)
    triples = []
    for h, donor in polar_hydrogens(m):
        for a in acceptors:
            if a == donor:
                continue
            n = _bonds_apart(m, donor, a)
            if n >= MIN_BONDS_DONOR_ACCEPTOR and (max_bonds is None or n <= max_bonds):
                triples.append((donor, h, a))
    return triples


def ring_closing_triples(m: Molecule) -> list[tuple[int, int, int]]:
    """The triples that close a 5- or 6-membered pseudo-ring (A 3-4 bonds from D): the donor/acceptor
    pairs placed to lock an intramolecular H-bond whatever the rest of the molecule does."""
    return intramolecular_hbond_triples(m, MAX_RING_BONDS_DONOR_ACCEPTOR)


def hbond_geometry(frames: np.ndarray, triples: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(H···A distances in Å, D-H···A angles in degrees), each (n_frames, n_triples)."""
    xyz = np.asarray(frames, float)
    if xyz.ndim == 2:
        xyz = xyz[None]
    if not triples:
        return np.zeros((len(xyz), 0)), np.zeros((len(xyz), 0))
    d, h, a = (np.array(col) for col in zip(*triples))
    hd = xyz[:, d] - xyz[:, h]
    ha = xyz[:, a] - xyz[:, h]
    r_ha = np.linalg.norm(ha, axis=-1)
    cos = np.einsum("fti,fti->ft", hd, ha) / (np.linalg.norm(hd, axis=-1) * r_ha)
    return r_ha, np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def hbonds_formed(frames: np.ndarray, triples: list[tuple[int, int, int]],
                  max_h_acceptor: float = HBOND_MAX_H_ACCEPTOR,
                  min_angle_deg: float = HBOND_MIN_ANGLE) -> np.ndarray:
    """Boolean array (n_frames, n_triples): whether each triple is an H-bond in each frame.

    ``frames`` is (n_frames, n_atoms, 3) or one (n_atoms, 3) geometry, in Å."""
    r_ha, angle = hbond_geometry(frames, triples)
    return (r_ha < max_h_acceptor) & (angle > min_angle_deg)


def intramolecular_hbonds_in(m: Molecule, max_h_acceptor: float = HBOND_MAX_H_ACCEPTOR,
                             min_angle_deg: float = HBOND_MIN_ANGLE) -> list[tuple[int, int, int]]:
    """The (donor, hydrogen, acceptor) triples formed in ``m``'s own geometry."""
    triples = intramolecular_hbond_triples(m)
    formed = hbonds_formed(m.coords, triples, max_h_acceptor, min_angle_deg)[0]
    return [t for t, ok in zip(triples, formed) if ok]


def is_hbonded(m: Molecule) -> bool:
    """Whether any intramolecular H-bond is formed in ``m``'s geometry."""
    return bool(intramolecular_hbonds_in(m))


def free_polar_hydrogens(m: Molecule) -> list[int]:
    """Polar H atoms not donating an intramolecular H-bond in ``m``'s geometry (free for an intermolecular one)."""
    locked = {h for _, h, _ in intramolecular_hbonds_in(m)}
    return [h for h, _ in polar_hydrogens(m) if h not in locked]
