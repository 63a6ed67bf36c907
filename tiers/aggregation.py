"""Aggregation runs (task ``md_aggregation``): copies of one molecule condensing in a sphere, and the contact
motifs they form.

Pure functions of molecules and frames (Å), no engine; the dynamics are in :mod:`tierchem.tiers.classical`.

* :func:`place_copies`: ``n`` copies at random orientations and positions inside a sphere (seeded), no two
  atoms of different copies closer than ``min_distance`` Å.
* :func:`frame_motifs`: the contact motifs of one frame, with the geometric criteria of
  :mod:`tierchem.chem.crystal_contacts` (the frame is a :class:`~tierchem.chem.crystal.Crystal` with no cell, so
  ``find_contacts`` sees each pair of molecules once and no periodic images): type I / type II / intermediate
  X···X (and the type II ones near the ideal 180°/90°, ``type_ii_linear_xx``), C-X···A halogen bonds, pi stacks
  (those slipped by ``OFFSET_STACK_MIN_ANGSTROM`` or more counted as offset stacks), H-bonded cyclic dimers (ring
  motifs joining two molecules) and open H-bonds (chain links: H-bonds in no ring). T (edge-to-face) contacts,
  which ``crystal_contacts`` does not classify, follow :func:`t_contacts`.
* :func:`replica_summary` and :func:`summarise_replicas`: motifs per molecule averaged over a replica's final
  frames, then mean ± spread (sample standard deviation) over replicas.
* :func:`write_final_frames` / :func:`read_final_frames`: the final frames as a compressed ``.npz``;
  :func:`final_frame` and :func:`contact_segments`: a frame and its contacts to draw (the notebook's snapshot).

A count *per molecule* is the number of contacts of that kind in the frame divided by the number of molecules
(each contact counted once, though it joins two).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from ..chem.geometry import plane_frame
from ..chem.molecule import Molecule
from .errors import InputError

MOTIFS = ("type_i_xx", "type_ii_xx", "type_ii_linear_xx", "intermediate_xx", "halogen_bond", "pi_stack",
          "offset_stack", "t_contact", "hbond_cyclic_dimer", "hbond_chain")
XX_SUBTYPES = {"type I": "type_i_xx", "type II": "type_ii_xx", "intermediate": "intermediate_xx"}
# The type II subset near the ideal geometry (theta1 ~ 180°, theta2 ~ 90°: one halogen's sigma hole on the other's
# belt). crystal_contacts' |theta1 - theta2| > 30° alone also takes in the halogens of an offset stack (a stacked
# 1,4-diiodobenzene pair shows two "type II" I···I contacts at theta1 ~ 110°); these windows are this module's.
TYPE_II_LINEAR_MIN_THETA1_DEG = 150.0
TYPE_II_LINEAR_THETA2_DEG = (60.0, 120.0)
# A stack slipped by this much or more is offset (parallel-displaced): the benzene dimer's minimum is slipped by
# about 1.6-1.8 Å, a face-to-face sandwich by 0.
OFFSET_STACK_MIN_ANGSTROM = 1.0
# T (edge-to-face) contact: a ring C-H of one molecule over the face of another's aromatic ring, the rings nearly
# perpendicular. H···centroid and the H's angle off the ring normal as in CH/pi surveys of crystal structures
# (approximately, from that literature: H···centroid up to about 3 Å, within about 30° of the normal).
T_MAX_H_CENTROID_ANGSTROM = 3.0
T_MAX_NORMAL_ANGLE_DEG = 30.0
T_MIN_INTERPLANAR_DEG = 50.0
# Two molecules with atoms this close belong to one aggregate (the largest-aggregate diagnostic).
AGGREGATE_CONTACT_ANGSTROM = 4.0


# ====================================================================== placement
def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix uniform over SO(3) (Shoemake's unit quaternion from three uniforms)."""
    u1, u2, u3 = rng.random(3)
    a, b = math.sqrt(1.0 - u1), math.sqrt(u1)
    x, y, z, w = a * math.sin(2 * math.pi * u2), a * math.cos(2 * math.pi * u2), \
        b * math.sin(2 * math.pi * u3), b * math.cos(2 * math.pi * u3)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def sphere_radius(n: int, volume_per_molecule_angstrom3: float) -> float:
    """Radius (Å) of the sphere that gives each of ``n`` molecules that volume."""
    return (3.0 * n * volume_per_molecule_angstrom3 / (4.0 * math.pi)) ** (1.0 / 3.0)


def place_copies(m: Molecule, n: int, radius_angstrom: float, seed: int, min_distance: float = 3.0,
                 max_tries: int = 2000) -> list[Molecule]:
    """``n`` rigid copies of ``m`` at random orientations, their atoms inside a sphere of ``radius_angstrom``
    about the origin, no two atoms of different copies closer than ``min_distance`` Å (InputError when the
    sphere is too crowded for that)."""
    rng = np.random.default_rng(seed)
    xyz0 = m.coords - m.coords.mean(axis=0)
    reach = float(np.max(np.linalg.norm(xyz0, axis=1)))
    room = radius_angstrom - reach
    if room <= 0:
        raise InputError(f"{m.label} ({2 * reach:.1f} Å across) does not fit in a sphere of radius "
                         f"{radius_angstrom:.1f} Å; give a larger volume_per_molecule_angstrom3")
    placed: list[np.ndarray] = []
    for k in range(n):
        for _ in range(max_tries):
            direction = rng.normal(size=3)
            centre = direction / np.linalg.norm(direction) * room * rng.random() ** (1.0 / 3.0)
            xyz = xyz0 @ random_rotation(rng).T + centre
            if all(np.min(np.linalg.norm(xyz[:, None] - other[None], axis=-1)) >= min_distance for other in placed):
                placed.append(xyz)
                break
        else:
            raise InputError(f"could not place copy {k + 1} of {n} of {m.label} in a sphere of radius "
                             f"{radius_angstrom:.1f} Å without atoms closer than {min_distance} Å; give a larger "
                             "volume_per_molecule_angstrom3 or fewer n_molecules")
    return [m.with_coords(xyz) for xyz in placed]


# ====================================================================== motifs of one frame
def aromatic_rings(m: Molecule) -> list[tuple[int, ...]]:
    """Atom indices of the aromatic rings of ``m`` (RDKit's aromaticity)."""
    rd = m.to_rdkit()
    return [tuple(r) for r in rd.GetRingInfo().AtomRings() if all(rd.GetAtomWithIdx(i).GetIsAromatic() for i in r)]


def t_contacts(molecules: Sequence[Molecule], rings: Sequence[Sequence[tuple[int, ...]]] | None = None) -> list[dict]:
    """Edge-to-face (T) contacts: a C-H on an aromatic ring of one molecule within
    ``T_MAX_H_CENTROID_ANGSTROM`` of another molecule's ring centroid, within ``T_MAX_NORMAL_ANGLE_DEG`` of that
    ring's normal, the two rings at least ``T_MIN_INTERPLANAR_DEG`` apart. One per (edge ring, face ring) pair;
    ``rings`` (per molecule, from :func:`aromatic_rings`) saves perceiving them again."""
    rings = [aromatic_rings(m) for m in molecules] if rings is None else rings
    frames = []
    for m, rs in zip(molecules, rings):
        xyz, nb = m.coords, m.neighbours()
        out = []
        for r in rs:
            members = set(r)
            hs = [h for h, s in enumerate(m.symbols) if s == "H" and len(nb[h]) == 1 and nb[h][0] in members]
            out.append((r, xyz[list(r)].mean(axis=0), plane_frame(xyz[list(r)])[2], xyz[hs] if hs else None))
        frames.append(out)
    found = []
    for i, j in ((i, j) for i in range(len(molecules)) for j in range(len(molecules)) if i != j):
        for ra, ca, na, h_edge in frames[i]:
            if h_edge is None:
                continue
            for rb, cb, nb_, _ in frames[j]:
                tilt = math.degrees(math.acos(min(1.0, abs(float(np.dot(na, nb_))))))
                if tilt < T_MIN_INTERPLANAR_DEG:
                    continue
                v = h_edge - cb
                dist = np.linalg.norm(v, axis=1)
                off = np.degrees(np.arccos(np.clip(np.abs(v @ nb_) / np.maximum(dist, 1e-9), 0.0, 1.0)))
                ok = (dist < T_MAX_H_CENTROID_ANGSTROM) & (off < T_MAX_NORMAL_ANGLE_DEG)
                if ok.any():
                    k = int(np.argmin(np.where(ok, dist, np.inf)))
                    found.append({"molecules": (i, j), "h_centroid_angstrom": float(dist[k]),
                                  "interplanar_deg": tilt, "edge_ring": ra, "face_ring": rb})
    return found


def frame_contacts(molecules: Sequence[Molecule]):
    """(the frame as a cell-less Crystal, its contacts from chem.crystal_contacts, its H-bond motifs)."""
    from ..chem.crystal import Crystal
    from ..chem.crystal_contacts import hbond_motifs

    cluster = Crystal(name="cluster", molecules=list(molecules), cell_matrix=None, z=len(molecules))
    return cluster, cluster.contacts(), hbond_motifs(cluster)


def frame_motifs(molecules: Sequence[Molecule], rings: Sequence[Sequence[tuple[int, ...]]] | None = None
                 ) -> dict[str, int]:
    """Counts of each motif in :data:`MOTIFS` among the molecules of one frame."""
    cluster, contacts, motifs = frame_contacts(molecules)
    counts = Counter({k: 0 for k in MOTIFS})
    for c in contacts:
        if c.kind == "halogen_halogen":
            counts[XX_SUBTYPES.get(c.subtype, "intermediate_xx")] += 1
            lo, hi = TYPE_II_LINEAR_THETA2_DEG
            counts["type_ii_linear_xx"] += (c.subtype == "type II" and lo <= c.angles["theta2"] <= hi
                                            and c.angles["theta1"] >= TYPE_II_LINEAR_MIN_THETA1_DEG)
        elif c.kind == "halogen_bond":
            counts["halogen_bond"] += 1
        elif c.kind == "pi_stack":
            counts["pi_stack"] += 1
            counts["offset_stack"] += c.angles.get("offset", 0.0) >= OFFSET_STACK_MIN_ANGSTROM
    hbonds = cluster.hbonds()
    in_rings = {k for mo in motifs if mo.kind == "ring" for k in mo.hbonds}
    counts["hbond_cyclic_dimer"] = sum(1 for mo in motifs if mo.kind == "ring" and len(set(mo.molecules)) == 2)
    counts["hbond_chain"] = sum(1 for k, c in enumerate(hbonds)
                                if k not in in_rings and c.subtype != "bifurcated (minor)")
    counts["t_contact"] = len(t_contacts(molecules, rings))
    return dict(counts)


def largest_aggregate(molecules: Sequence[Molecule], contact: float = AGGREGATE_CONTACT_ANGSTROM) -> int:
    """How many molecules the largest aggregate holds (molecules joined when any two atoms are within
    ``contact`` Å, transitively)."""
    from scipy.spatial.distance import cdist

    n = len(molecules)
    parent = list(range(n))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i in range(n):
        for j in range(i + 1, n):
            if cdist(molecules[i].coords, molecules[j].coords).min() < contact:
                parent[root(i)] = root(j)
    return max(Counter(root(k) for k in range(n)).values()) if n else 0


# ====================================================================== summaries
def split_frame(m: Molecule, n: int, frame_angstrom: np.ndarray) -> list[Molecule]:
    """The ``n`` copies of ``m`` at their rows of one frame (n * m.n_atoms, 3)."""
    frame = np.asarray(frame_angstrom, float).reshape(n, m.n_atoms, 3)
    return [m.with_coords(x) for x in frame]


def replica_summary(m: Molecule, n: int, frames_angstrom: np.ndarray) -> dict:
    """Motifs per molecule (mean over the frames given, the final ones of a run) and the largest aggregate's
    share of the molecules."""
    rings = [aromatic_rings(m)] * n
    per_frame, largest = [], []
    for frame in frames_angstrom:
        mols = split_frame(m, n, frame)
        per_frame.append(frame_motifs(mols, rings))
        largest.append(largest_aggregate(mols))
    motifs = {k: float(np.mean([f[k] for f in per_frame])) / n for k in MOTIFS}
    return {"motifs_per_molecule": motifs, "largest_aggregate_fraction": float(np.mean(largest)) / n,
            "frames_analysed": len(per_frame)}


def _spread(x: Sequence[float]) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else 0.0


def summarise_replicas(replicas: Sequence[dict]) -> dict:
    """Mean and spread (sample standard deviation, 0 for one replica) over replicas of every motif per molecule
    and of the largest aggregate's share (JSON values)."""
    mean = {k: float(np.mean([r["motifs_per_molecule"][k] for r in replicas])) for k in MOTIFS}
    spread = {k: _spread([r["motifs_per_molecule"][k] for r in replicas]) for k in MOTIFS}
    agg = [r["largest_aggregate_fraction"] for r in replicas]
    return {"motifs_per_molecule_mean": mean, "motifs_per_molecule_std": spread,
            "type_ii_per_molecule": mean["type_ii_xx"], "type_ii_per_molecule_std": spread["type_ii_xx"],
            "type_ii_linear_per_molecule": mean["type_ii_linear_xx"],
            "type_ii_linear_per_molecule_std": spread["type_ii_linear_xx"],
            "largest_aggregate_fraction_mean": float(np.mean(agg)), "largest_aggregate_fraction_std": _spread(agg),
            "n_replicas": len(replicas)}


# ====================================================================== final frames on disk
def write_final_frames(path: Path, m: Molecule, n: int, frames_by_replica: Sequence[np.ndarray],
                       seeds: Sequence[int]) -> Path:
    """The final frames of every replica, (replicas, frames, n * atoms, 3) float32 Å, with the molecule (JSON)
    and the copy count, as one compressed ``.npz`` (written then renamed, so a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez_compressed(tmp, frames_angstrom=np.asarray(frames_by_replica, np.float32), n_molecules=n,
                        seeds=np.asarray(seeds), molecule=m.model_dump_json())
    tmp.replace(path)
    return path


def read_final_frames(path: Path) -> tuple[Molecule, int, np.ndarray]:
    """(the molecule, copies per frame, frames (replicas, frames, n * atoms, 3) Å) from :func:`write_final_frames`."""
    with np.load(Path(path)) as data:
        m = Molecule.model_validate(json.loads(str(data["molecule"])))
        return m, int(data["n_molecules"]), np.asarray(data["frames_angstrom"], float)


# ====================================================================== a frame to look at
def final_frame(result, replica: int = 0) -> list[Molecule]:
    """The molecules of a replica's last frame: from the run's ``.npz`` (a CalcResult of ``md_aggregation`` or the
    file's path), else from the coordinates the result keeps (``artifacts['final_frames_angstrom']``)."""
    path = Path(result) if isinstance(result, (str, Path)) else Path(result.artifacts.get("trajectory_npz", ""))
    if path.is_file():
        m, n, frames = read_final_frames(path)
        if not 0 <= replica < len(frames):
            raise IndexError(f"replica must be 0-{len(frames) - 1}, got {replica}")
        return split_frame(m, n, frames[replica][-1])
    if isinstance(result, (str, Path)):
        raise FileNotFoundError(f"{path}: no such aggregation trajectory")
    finals = result.artifacts.get("final_frames_angstrom") or []
    if not 0 <= replica < len(finals):
        raise IndexError(f"the result keeps {len(finals)} final frames; replica {replica} is not one")
    return split_frame(result.spec.molecules[0], int(result.values["n_molecules"]), np.asarray(finals[replica]))


def contact_segments(molecules: Sequence[Molecule]) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(motif, short label, start, end) in Å for drawing each motif contact of a frame: the two atoms of an
    X···X contact, a C-X···A halogen bond or an H-bond (H···A), the two ring centroids of a stack, the H and
    the ring centroid of a T contact."""
    cluster, contacts, _ = frame_contacts(molecules)
    xyz = [m.coords for m in molecules]
    out = []
    for c in contacts:
        if c.kind == "halogen_halogen":
            (i, a), (j, b) = c.atoms[1], c.atoms[2]
            tag = {"type I": "I", "type II": "II"}.get(c.subtype, "i")
            out.append((XX_SUBTYPES.get(c.subtype, "intermediate_xx"), f"{tag} {c.distance:.1f}", xyz[i][a], xyz[j][b]))
        elif c.kind in ("halogen_bond", "hbond"):
            (i, a), (j, b) = c.atoms[-2], c.atoms[-1]
            out.append((c.kind, f"{c.label} {c.distance:.1f}", xyz[i][a], xyz[j][b]))
        elif c.kind == "pi_stack":
            ends = [np.mean([xyz[i][a] for i, a in c.atoms if i == mol], axis=0) for mol in c.molecules]
            out.append(("pi_stack", f"stack {c.distance:.1f}", ends[0], ends[1]))
    for t in t_contacts(molecules):
        i, j = t["molecules"]
        centre = xyz[j][list(t["face_ring"])].mean(axis=0)
        hs = [h for h in range(molecules[i].n_atoms) if molecules[i].symbols[h] == "H"]
        h = min(hs, key=lambda h: np.linalg.norm(xyz[i][h] - centre))
        out.append(("t_contact", f"T {t['h_centroid_angstrom']:.1f}", xyz[i][h], centre))
    return out
