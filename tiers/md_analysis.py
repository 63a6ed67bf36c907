"""What an MD trajectory of one molecule says: intramolecular H-bond occupancy and conformer populations.

Pure functions of a molecule (its graph) and frames (n_frames, n_atoms, 3) in Å; the geometric
H-bond criterion lives in :mod:`tierchem.chem.hbonds`. Conformer families are the combinations of
torsion states (syn |phi| < 60°, gauche+/-, anti |phi| > 120°) about the molecule's rotors: acyclic
single bonds whose ends both carry another atom, except symmetric tops (CH3, NH2, CF3...); an O-H
counts, so salicylaldehyde's OH syn/anti to the carbonyl is a family of its own.
"""

from __future__ import annotations

import numpy as np

from ..chem.hbonds import (HBOND_MAX_H_ACCEPTOR, HBOND_MIN_ANGLE, MIN_BONDS_DONOR_ACCEPTOR, hbonds_formed,
                           intramolecular_hbond_triples)
from ..chem.molecule import Molecule

MIN_POPULATION = 0.01  # families below this fraction of frames are folded into "other"


def hbond_occupancy(m: Molecule, frames: np.ndarray, max_h_acceptor: float = HBOND_MAX_H_ACCEPTOR,
                    min_angle_deg: float = HBOND_MIN_ANGLE) -> dict:
    """Fraction of frames with any intramolecular H-bond formed, and per D-H···A triple."""
    triples = intramolecular_hbond_triples(m)
    formed = hbonds_formed(frames, triples, max_h_acceptor, min_angle_deg)
    per_pair = {f"{m.symbols[d]}{d}-H{h}···{m.symbols[a]}{a}": float(col.mean()) for (d, h, a), col
                in zip(triples, formed.T)}
    return {"hbond_occupancy": float(formed.any(axis=1).mean()) if len(formed) else 0.0,
            "hbond_pair_occupancy": per_pair,
            "hbond_criterion": f"H···A < {max_h_acceptor} Å, D-H···A > {min_angle_deg}°, "
                               f"A {MIN_BONDS_DONOR_ACCEPTOR}+ bonds from D (chem.hbonds)"}


def rotors(m: Molecule) -> list[tuple[int, int, int, int]]:
    """Torsions (a, b, c, d) about the rotors of ``m``: b-c an acyclic single bond, a and d the heaviest
    other neighbours of b and c (lowest index on ties)."""
    from rdkit import Chem

    ring = Chem.GetSymmSSSR(m.to_rdkit())
    in_ring = {frozenset((r[k], r[(k + 1) % len(r)])) for r in ring for k in range(len(r))}
    nb = m.neighbours()
    z = m.atomic_numbers
    out = []
    for b, c, order in m.bonds:
        if order != 1 or frozenset((b, c)) in in_ring:
            continue
        ends = []
        for here, there in ((b, c), (c, b)):
            others = [x for x in nb[here] if x != there]
            if not others or _symmetric_top(m, others):
                break
            ends.append(min(others, key=lambda x: (-z[x], x)))
        if len(ends) == 2:
            out.append((ends[0], b, c, ends[1]))
    return out


def _symmetric_top(m: Molecule, others: list[int]) -> bool:
    """Two or three identical terminal substituents (CH3, NH2, CF3, CCl3): rotating them changes nothing."""
    nb = m.neighbours()
    return len(others) >= 2 and len({m.symbols[x] for x in others}) == 1 and all(len(nb[x]) == 1 for x in others)


def _dihedrals(frames: np.ndarray, quads: np.ndarray) -> np.ndarray:
    """Dihedral angles (n_frames, n_quads) in degrees."""
    p = [frames[:, quads[:, k]] for k in range(4)]
    b0, b1, b2 = p[0] - p[1], p[2] - p[1], p[3] - p[2]
    b1n = b1 / np.linalg.norm(b1, axis=-1, keepdims=True)
    v = b0 - np.sum(b0 * b1n, axis=-1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, axis=-1, keepdims=True) * b1n
    x = np.sum(v * w, axis=-1)
    y = np.sum(np.cross(b1n, v) * w, axis=-1)
    return np.degrees(np.arctan2(y, x))


def _state(phi: float) -> str:
    if abs(phi) < 60.0:
        return "syn"
    if abs(phi) > 120.0:
        return "anti"
    return "g+" if phi > 0 else "g-"


def conformer_populations(m: Molecule, frames: np.ndarray) -> dict:
    """Populations of the conformer families (torsion-state combinations) over the frames."""
    quads = rotors(m)
    frames = np.asarray(frames, float)
    if not quads or not len(frames):
        return {"conformer_rotors": [], "conformer_populations": {"rigid": 1.0}}
    phi = _dihedrals(frames, np.array(quads))
    names = [f"{m.symbols[b]}{b}-{m.symbols[c]}{c}" for _, b, c, _ in quads]
    counts: dict[str, int] = {}
    for row in phi:
        key = ",".join(f"{n}:{_state(x)}" for n, x in zip(names, row))
        counts[key] = counts.get(key, 0) + 1
    total = len(frames)
    pops = {k: v / total for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}
    kept = {k: p for k, p in pops.items() if p >= MIN_POPULATION}
    if len(kept) < len(pops):
        kept["other"] = 1.0 - sum(kept.values())
    return {"conformer_rotors": [list(q) for q in quads], "conformer_populations": kept}


def summarise_single_molecule(m: Molecule, frames: np.ndarray, max_h_acceptor: float = HBOND_MAX_H_ACCEPTOR,
                              min_angle_deg: float = HBOND_MIN_ANGLE) -> dict:
    """Occupancies and conformer populations of one molecule's trajectory (JSON values)."""
    return {**hbond_occupancy(m, frames, max_h_acceptor, min_angle_deg), **conformer_populations(m, frames)}
