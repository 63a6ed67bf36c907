"""Intramolecular hydrogen bonds as geometry: which D-H···A triples the graph allows, and which of them
are formed in a geometry or in every frame of a trajectory.

Criterion (one place, used by the conformer observables and by MD occupancies): a polar H (on N or O)
and an acceptor (N, O or F) four or more bonds from the donor, with H···A shorter than
``HBOND_MAX_H_ACCEPTOR`` (2.5 Å) and the D-H···A angle wider than ``HBOND_MIN_ANGLE`` (120°).
"""

from __future__ import annotations

import numpy as np

from .molecule import Molecule

HBOND_MAX_H_ACCEPTOR = 2.5  # Å
HBOND_MIN_ANGLE = 120.0  # degrees, D-H···A
HBOND_DONORS = ("N", "O")
HBOND_ACCEPTORS = ("N", "O", "F")
MIN_BONDS_DONOR_ACCEPTOR = 4  # a 6-membered pseudo-ring (salicylaldehyde: O-C-C-C=O) or larger


def intramolecular_hbond_triples(m: Molecule) -> list[tuple[int, int, int]]:
    """(donor, hydrogen, acceptor) triples the molecular graph allows (A four or more bonds from D)."""
    adj = m.neighbours()
    triples = []
    for h, s in enumerate(m.symbols):
        if s != "H" or len(adj[h]) != 1:
            continue
        donor = next(iter(adj[h]))
        if m.symbols[donor] not in HBOND_DONORS:
            continue
        for a, sa in enumerate(m.symbols):
            if sa not in HBOND_ACCEPTORS or a == donor:
                continue
            path = m.bond_path(donor, a)
            if path and len(path) - 1 >= MIN_BONDS_DONOR_ACCEPTOR:
                triples.append((donor, h, a))
    return triples


def hbonds_formed(frames: np.ndarray, triples: list[tuple[int, int, int]],
                  max_h_acceptor: float = HBOND_MAX_H_ACCEPTOR,
                  min_angle_deg: float = HBOND_MIN_ANGLE) -> np.ndarray:
    """Boolean array (n_frames, n_triples): whether each triple is an H-bond in each frame.

    ``frames`` is (n_frames, n_atoms, 3) or one (n_atoms, 3) geometry, in Å."""
    xyz = np.asarray(frames, float)
    if xyz.ndim == 2:
        xyz = xyz[None]
    if not triples:
        return np.zeros((len(xyz), 0), bool)
    d, h, a = (np.array(col) for col in zip(*triples))
    hd = xyz[:, d] - xyz[:, h]
    ha = xyz[:, a] - xyz[:, h]
    r_ha = np.linalg.norm(ha, axis=-1)
    cos = np.einsum("fti,fti->ft", hd, ha) / (np.linalg.norm(hd, axis=-1) * r_ha)
    angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return (r_ha < max_h_acceptor) & (angle > min_angle_deg)


def intramolecular_hbonds_in(m: Molecule, max_h_acceptor: float = HBOND_MAX_H_ACCEPTOR,
                             min_angle_deg: float = HBOND_MIN_ANGLE) -> list[tuple[int, int, int]]:
    """The triples formed in ``m``'s own geometry."""
    triples = intramolecular_hbond_triples(m)
    formed = hbonds_formed(m.coords, triples, max_h_acceptor, min_angle_deg)[0]
    return [t for t, ok in zip(triples, formed) if ok]
