"""Contacts and motifs in a :class:`~.crystal.Crystal`, and the comparison across a series.

This module reads a crystal through :class:`CrystalLike` (what it needs of a ``Crystal``)
and does not import :mod:`.crystal`, which imports it for the ``Crystal`` methods.

Contacts (between distinct molecules, periodic images included)
---------------------------------------------------------------
Geometry uses H positions normalised along the X-H bond to neutron lengths
(C-H 1.089, N-H 1.015, O-H 0.993 Å; Allen & Bruno, Acta Cryst. B66, 380 (2010),
the CSD/Mercury default), because X-ray X-H bonds are ~0.1-0.15 Å short.

* hydrogen bond D-H···A, D and A in {N, O}: H···A < 2.6 Å (or, with
  ``hbond_max=None``, < vdW sum - 0.12 Å) and D-H···A > 120°.
* graph-set motifs (Etter, Acc. Chem. Res. 23, 120 (1990); Bernstein, Davis,
  Shimoni & Chang, Angew. Chem. Int. Ed. 34, 1555 (1995)): two H-bonds joining the
  same pair of molecules close a ring R^a_d(n) (written ``R2,2(8)`` for the
  carboxylic-acid dimer); H-bonds that carry a molecule onto a lattice-translated
  copy of itself (a directed cycle in the quotient graph of molecules with a
  non-zero net translation) form a chain C(n), n = atoms in the repeat; the rest
  are discrete D. The dimensionality of the whole H-bond network (0 molecules /
  finite aggregates, 1 chains or ribbons, 2 sheets, 3 frameworks) is the rank of
  the translations of its cycles.
* halogen bond C-X···A (X = Cl, Br, I; A = N, O, S, Se, P): X···A < vdW sum and
  C-X···A > 140° (IUPAC definition, Desiraju et al., Pure Appl. Chem. 85, 1711
  (2013); Cavallo, Metrangolo et al., Chem. Rev. 116, 2478 (2016)).
* X···X contacts below the vdW sum, with θ1 >= θ2 the two C-X···X angles: type I
  if |θ1 - θ2| < 15°, type II if |θ1 - θ2| > 30° (θ1 ≈ 180°, θ2 ≈ 90°), else
  intermediate (Desiraju & Parthasarathy, JACS 111, 8725 (1989); Metrangolo &
  Resnati, Cryst. Growth Des. 12, 5835 (2012)).
* pi-stacking between aromatic rings: centroid distance < 4.2 Å and interplanar
  angle < 20°; the offset (slip) is reported.
* other short contacts: any other atom pair closer than the Bondi vdW sum.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np

from .elements import HBOND_ELEMENTS, NEUTRON_XH_LENGTHS, SIGMA_HOLE_HALOGENS, vdw_radius
from .geometry import angle, angle_between, plane_frame
from .graphs import element_graph, graph_key
from .molecule import Molecule

XB_ACCEPTORS = ("N", "O", "S", "Se", "P")


# ====================================================================== records
@dataclass
class Contact:
    """One intermolecular contact. Molecule ``molecules[0]`` sits in the home cell; molecule
    ``molecules[1]`` is translated by ``image`` (lattice vectors). ``atoms`` are
    (molecule, atom) pairs: (D, H, A) for H-bonds, (C, X, A) for halogen bonds,
    (C1, X1, X2, C2) for X···X, ring atoms for stacks, the two atoms otherwise."""

    kind: str                                  # hbond, halogen_bond, halogen_halogen, pi_stack, short
    label: str                                 # e.g. "O-H···O", "C-I···I-C", "ring···ring"
    molecules: tuple[int, int]
    image: tuple[int, int, int]
    atoms: tuple[tuple[int, int], ...]
    distance: float                            # H···A, X···A, X···X, centroid-centroid, or d
    angles: dict[str, float] = field(default_factory=dict)
    subtype: str = ""                          # type I / type II / intermediate for X···X
    motif: str = ""                            # graph-set descriptor for H-bonds


@dataclass
class HBondMotif:
    """A first-level graph-set motif: ``kind`` ring, chain or discrete."""

    descriptor: str                            # e.g. "R2,2(8)", "C(4)", "D"
    kind: str
    hbonds: tuple[int, ...]                    # indices into Crystal.hbonds()
    molecules: tuple[int, ...]
    translation: tuple[int, int, int] | None = None   # repeat vector of a chain


class CrystalLike(Protocol):
    """What the functions here read of a crystal; :class:`~.crystal.Crystal` is one."""

    name: str
    molecules: list[Molecule]
    unique_molecules: list[Molecule]
    cell_matrix: np.ndarray | None             # rows a, b, c in Å
    space_group: str | None
    z: int
    z_prime: float | None
    density: float | None
    packing_coefficient: float | None
    warnings: list[str]

    @property
    def volume(self) -> float | None: ...

    def contacts(self) -> list[Contact]: ...

    def hbonds(self) -> list[Contact]: ...

    def motifs(self) -> list[HBondMotif]: ...


def normalised_coords(mol: Molecule) -> np.ndarray:
    """Coordinates (Å) with each H on C, N or O moved along its X-H bond to the neutron
    X-H length (X-ray X-H bonds are ~0.1-0.15 Å short)."""
    xyz = mol.coords.copy()
    for h, nbrs in enumerate(mol.neighbours()):
        if mol.symbols[h] == "H" and len(nbrs) == 1 and mol.symbols[nbrs[0]] in NEUTRON_XH_LENGTHS:
            x = xyz[nbrs[0]]
            v = xyz[h] - x
            xyz[h] = x + v / np.linalg.norm(v) * NEUTRON_XH_LENGTHS[mol.symbols[nbrs[0]]]
    return xyz


def _rings(mol: Molecule, xyz: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray, np.ndarray]]:
    """Aromatic rings (RDKit; planar 5/6-rings of <=3-connected atoms where bond orders are
    absent) as (atoms, centroid, unit normal)."""
    try:
        rd = mol.to_rdkit()
        aromatic = [tuple(r) for r in rd.GetRingInfo().AtomRings() if all(rd.GetAtomWithIdx(i).GetIsAromatic() for i in r)]
    except Exception:
        rd = element_graph(mol)
        aromatic = []
        nb = mol.neighbours()
        for r in rd.GetRingInfo().AtomRings():
            if len(r) in (5, 6) and all(len(nb[i]) <= 3 for i in r):
                p = xyz[list(r)] - xyz[list(r)].mean(axis=0)
                if np.linalg.svd(p, compute_uv=False)[-1] / math.sqrt(len(r)) < 0.1:
                    aromatic.append(tuple(r))
    out = []
    for r in aromatic:
        p = xyz[list(r)]
        out.append((r, p.mean(axis=0), plane_frame(p)[2]))
    return out


# ====================================================================== contacts
def find_contacts(crystal: CrystalLike, hbond_max: float | None = 2.6, hbond_angle: float = 120.0,
                  xb_angle: float = 140.0, stack_distance: float = 4.2, stack_angle: float = 20.0,
                  short_margin: float = 0.0) -> list[Contact]:
    """Every contact between distinct molecules (home cell vs all periodic images), each
    symmetry-distinct-by-translation contact once. ``hbond_max=None`` uses vdW sum - 0.12 Å."""
    from scipy.spatial.distance import cdist

    mols = crystal.molecules
    xyz = [normalised_coords(m) for m in mols]
    nbrs = [m.neighbours() for m in mols]
    rings = [_rings(m, x) for m, x in zip(mols, xyz)]
    cent = [x.mean(axis=0) for x in xyz]
    rad = [float(np.max(np.linalg.norm(x - c, axis=1))) for x, c in zip(xyz, cent)]
    elements = {s for m in mols for s in m.symbols}
    cutoff = max(2 * max(vdw_radius(s) for s in elements), stack_distance)
    reach = 2 * max(rad) + cutoff + 0.5
    if crystal.cell_matrix is not None:
        L = crystal.cell_matrix
        spacing = crystal.volume / np.linalg.norm(np.cross(L[[1, 2, 0]], L[[2, 0, 1]]), axis=1)
        ranges = [range(-int(math.ceil(reach / s)) - 1, int(math.ceil(reach / s)) + 2) for s in spacing]
        images = [t for t in itertools.product(*ranges)]
    else:
        L, images = np.zeros((3, 3)), [(0, 0, 0)]
    contacts: list[Contact] = []
    for i, j in itertools.combinations_with_replacement(range(len(mols)), 2):
        for t in images:
            if i == j and t <= (0, 0, 0):
                continue   # self, or the mirror of a contact already enumerated
            shift = np.asarray(t, float) @ L
            if np.linalg.norm(cent[j] + shift - cent[i]) > rad[i] + rad[j] + cutoff:
                continue
            xj = xyz[j] + shift
            d = cdist(xyz[i], xj)
            if d.min() > cutoff:
                continue
            pair = _Pair(i, j, t, mols[i].symbols, mols[j].symbols, xyz[i], xj, nbrs[i], nbrs[j], d)
            contacts += _pair_contacts(pair, hbond_max, hbond_angle, xb_angle, short_margin)
            contacts += _stacks(rings[i], rings[j], shift, (i, j), t, stack_distance, stack_angle)
    _mark_bifurcated(contacts)
    return contacts


def _stacks(rings_i, rings_j, shift, mols, t, stack_distance, stack_angle) -> list[Contact]:
    """pi-stacks between the aromatic rings of two molecules, the second shifted by ``shift`` (Å)."""
    i, j = mols
    out = []
    for ra, ca, na in rings_i:
        for rb, cb, nb in rings_j:
            cb = cb + shift
            dist = float(np.linalg.norm(cb - ca))
            tilt = angle_between(na, nb)
            tilt = min(tilt, 180 - tilt)
            if dist < stack_distance and tilt < stack_angle:
                perp = abs(float(np.dot(cb - ca, na)))
                out.append(Contact("pi_stack", "ring···ring", (i, j), t,
                                   tuple((i, a) for a in ra) + tuple((j, b) for b in rb), dist,
                                   {"interplanar": tilt, "offset": math.sqrt(max(0.0, dist**2 - perp**2)),
                                    "perpendicular": perp}))
    return out


def _mark_bifurcated(contacts: list[Contact]) -> None:
    """Where one H has several acceptors (a three-centre bond), the shortest H···A is the H-bond
    of the motifs; the others are tagged 'bifurcated (minor)' and left out of graph sets."""
    by_h = defaultdict(list)
    for c in contacts:
        if c.kind == "hbond":
            by_h[c.atoms[1]].append(c)
    for group in by_h.values():
        if len(group) > 1:
            group.sort(key=lambda c: c.distance)
            group[0].subtype = "bifurcated (major)"
            for c in group[1:]:
                c.subtype = "bifurcated (minor)"


class _Pair(NamedTuple):
    """Two molecules in contact: ``i`` in the home cell, ``j`` translated by lattice ``image``;
    symbols, (normalised) coordinates and neighbour lists of each, and their atom distances."""

    i: int
    j: int
    image: tuple[int, int, int]
    si: tuple[str, ...]
    sj: tuple[str, ...]
    xi: np.ndarray
    xj: np.ndarray
    ni: list[list[int]]
    nj: list[list[int]]
    d: np.ndarray                              # d[a, b]: atom a of i to atom b of j, Å

    @property
    def back(self) -> tuple[int, int, int]:
        """The image of i seen from j."""
        return tuple(-x for x in self.image)


def _pair_contacts(pair: _Pair, hbond_max, hbond_angle, xb_angle, margin) -> list[Contact]:
    """H-bonds (both directions), halogen contacts, then the other short contacts of a pair;
    each atom pair is reported once, in the first of those kinds it belongs to."""
    out: list[Contact] = []
    used: set[tuple[int, int]] = set()         # (atom of i, atom of j) already in a contact
    _hbonds(pair, False, hbond_max, hbond_angle, out, used)
    _hbonds(pair, True, hbond_max, hbond_angle, out, used)
    _halogen_contacts(pair, xb_angle, out, used)
    _short_contacts(pair, margin, out, used)
    return out


def _hbonds(pair: _Pair, reverse: bool, hbond_max, hbond_angle, out: list[Contact], used: set) -> None:
    """D-H···A with the H in i and A in j (``reverse``: H in j, A in i)."""
    i, j, t, si, sj, xi, xj, ni, nj, d = pair
    (sd, xd, nd, md), (sa, xa, ma) = ((sj, xj, nj, j), (si, xi, i)) if reverse else ((si, xi, ni, i), (sj, xj, j))
    dd = d.T if reverse else d
    for h in np.nonzero([s == "H" for s in sd])[0]:
        if len(nd[h]) != 1 or sd[nd[h][0]] not in HBOND_ELEMENTS:
            continue
        dn = nd[h][0]
        for a in np.nonzero(dd[h] < 3.2)[0]:
            if sa[a] not in HBOND_ELEMENTS:
                continue
            limit = hbond_max if hbond_max is not None else vdw_radius("H") + vdw_radius(sa[a]) - 0.12
            ang = angle(xd[dn], xd[h], xa[a])
            if dd[h, a] < limit and ang > hbond_angle:
                out.append(Contact("hbond", f"{sd[dn]}-H···{sa[a]}", (md, ma), pair.back if reverse else t,
                                   ((md, int(dn)), (md, int(h)), (ma, int(a))), float(dd[h, a]),
                                   {"D-H···A": ang, "D···A": float(np.linalg.norm(xd[dn] - xa[a]))}))
                used.update({(a, h), (a, dn)} if reverse else {(h, a), (dn, a)})


def _halogen_contacts(pair: _Pair, xb_angle, out: list[Contact], used: set) -> None:
    """X···X contacts (type I / II / intermediate) and C-X···A halogen bonds below the vdW sum."""
    i, j, t, si, sj, xi, xj, ni, nj, d = pair
    neg = pair.back
    for a, b in zip(*np.nonzero(d < 4.2)):
        ea, eb = si[a], sj[b]
        vdw = vdw_radius(ea) + vdw_radius(eb)
        if d[a, b] >= vdw:
            continue
        if ea in SIGMA_HOLE_HALOGENS and eb in SIGMA_HOLE_HALOGENS and len(ni[a]) == 1 and len(nj[b]) == 1:
            ca, cb = ni[a][0], nj[b][0]
            t1, t2 = angle(xi[ca], xi[a], xj[b]), angle(xi[a], xj[b], xj[cb])
            sub = "type I" if abs(t1 - t2) < 15 else "type II" if abs(t1 - t2) > 30 else "intermediate"
            if t1 >= t2:
                rec = ((i, ca), (i, int(a)), (j, int(b)), (j, cb)), (i, j), t, f"{si[ca]}-{ea}···{eb}-{sj[cb]}"
            else:
                rec = ((j, cb), (j, int(b)), (i, int(a)), (i, ca)), (j, i), neg, f"{sj[cb]}-{eb}···{ea}-{si[ca]}"
            out.append(Contact("halogen_halogen", rec[3], rec[1], rec[2], rec[0], float(d[a, b]),
                               {"theta1": max(t1, t2), "theta2": min(t1, t2)}, subtype=sub))
            used.add((a, b))
            continue
        for (x, acc, xs, xa, nx, sx, sa, mx, ma, img) in (
                (a, b, xi, xj, ni, si, sj, i, j, t), (b, a, xj, xi, nj, sj, si, j, i, neg)):
            if sx[x] in SIGMA_HOLE_HALOGENS and sa[acc] in XB_ACCEPTORS and len(nx[x]) == 1:
                c = nx[x][0]
                ang = angle(xs[c], xs[x], xa[acc])
                if ang > xb_angle:
                    out.append(Contact("halogen_bond", f"{sx[c]}-{sx[x]}···{sa[acc]}", (mx, ma), img,
                                       ((mx, c), (mx, int(x)), (ma, int(acc))), float(d[a, b]), {"C-X···A": ang}))
                    used.add((a, b))


def _short_contacts(pair: _Pair, margin, out: list[Contact], used: set) -> None:
    """Any other atom pair closer than its vdW sum (less ``margin``)."""
    i, j, t, si, sj, _, _, _, _, d = pair
    for a, b in zip(*np.nonzero(d < 4.2)):
        if (a, b) in used:
            continue
        vdw = vdw_radius(si[a]) + vdw_radius(sj[b])
        if d[a, b] < vdw - margin:
            out.append(Contact("short", f"{si[a]}···{sj[b]}", (i, j), t, ((i, int(a)), (j, int(b))),
                               float(d[a, b]), {"vdw_sum": vdw}))


# ====================================================================== motifs
def _hbond_classes(crystal: CrystalLike, hbs: list[Contact]) -> list[tuple]:
    """Symmetry class of each H-bond by molecule graph and canonical atom ranks."""
    from rdkit import Chem

    ranks, keys = {}, {}
    for m in {c.molecules[0] for c in hbs} | {c.molecules[1] for c in hbs}:
        g = element_graph(crystal.molecules[m])
        ranks[m] = list(Chem.CanonicalRankAtoms(g, breakTies=False))
        keys[m] = graph_key(crystal.molecules[m])
    return [(keys[c.atoms[1][0]], ranks[c.atoms[1][0]][c.atoms[1][1]], keys[c.atoms[2][0]],
             ranks[c.atoms[2][0]][c.atoms[2][1]]) for c in hbs]


def hbond_motifs(crystal: CrystalLike, max_chain: int = 6) -> list[HBondMotif]:
    """First-level graph-set motifs of the H-bonds: rings between pairs of molecules, chains
    through lattice translations, discrete otherwise. Sets ``Contact.motif`` on the H-bonds."""
    every = crystal.hbonds()
    keep = [k for k, c in enumerate(every) if c.subtype != "bifurcated (minor)"]
    hbs = [every[k] for k in keep]
    if not hbs:
        return []
    assigned: dict[int, str] = {}              # H-bond -> descriptor of its motif
    motifs = _ring_motifs(hbs, crystal.molecules, assigned)
    motifs += _chain_motifs(hbs, crystal.molecules, _hbond_classes(crystal, hbs), assigned, max_chain)
    for k in range(len(hbs)):
        if k not in assigned:
            assigned[k] = "D"
            motifs.append(HBondMotif("D", "discrete", (k,), hbs[k].molecules))
    for k, c in enumerate(hbs):
        c.motif = assigned[k]
    for m in motifs:          # indices into Crystal.hbonds(), minor components included
        m.hbonds = tuple(keep[k] for k in m.hbonds)
    return motifs


def _ring_motifs(hbs: list[Contact], mol: list[Molecule], assigned: dict[int, str]) -> list[HBondMotif]:
    """Rings R^a_d(n): two H-bonds joining the same pair of molecule images (each H-bond in
    its smallest ring). Records the H-bonds placed in ``assigned``."""
    motifs = []
    pairs = defaultdict(list)
    for k, c in enumerate(hbs):
        fwd = (c.molecules[0], c.molecules[1], c.image)
        rev = (c.molecules[1], c.molecules[0], tuple(-x for x in c.image))
        pairs[min(fwd, rev)].append(k)
    for key, ks in pairs.items():
        best = {}
        for k1, k2 in itertools.combinations(ks, 2):
            c1, c2 = hbs[k1], hbs[k2]
            size = 0
            for first, side in ((True, key[0]), (False, key[1])):
                # the end atom of each H-bond in this molecule: H if it donates, A if it accepts
                ends = []
                for c in (c1, c2):
                    forward = c.molecules[0] == key[0] and c.image == key[2]
                    ends.append(c.atoms[1][1] if first == forward else c.atoms[2][1])
                size += len(mol[side].bond_path(ends[0], ends[1]))
            acceptors = len({hbs[k].atoms[2] for k in (k1, k2)})
            donors = len({hbs[k].atoms[1] for k in (k1, k2)})
            desc = f"R{acceptors},{donors}({size})"
            for k in (k1, k2):
                if k not in best or size < best[k][0]:
                    best[k] = (size, desc, (k1, k2))
        for ring in {v[2]: v[1] for v in best.values()}.items():
            (k1, k2), desc = ring
            motifs.append(HBondMotif(desc, "ring", (k1, k2), (key[0], key[1])))
            assigned.update({k1: desc, k2: desc})
    return motifs


def _chain_motifs(hbs: list[Contact], mol: list[Molecule], cls: list[tuple], assigned: dict[int, str],
                  max_chain: int) -> list[HBondMotif]:
    """Chains C(n): directed cycles with a non-zero net translation among the H-bonds not in
    rings (``assigned``, to which the chain members are added)."""
    motifs = []
    edges = defaultdict(list)
    for k, c in enumerate(hbs):
        if k not in assigned:
            edges[c.molecules[0]].append(k)
    seen_cycles = set()
    for k0 in [k for k in range(len(hbs)) if k not in assigned]:
        cycle = _shortest_chain(hbs, edges, k0, max_chain)
        if cycle is None:
            continue
        n_total = sum(len(mol[hbs[e].molecules[1]].bond_path(hbs[e].atoms[2][1], hbs[f].atoms[1][1]))
                      for e, f in zip(cycle, cycle[1:] + cycle[:1]))
        kinds = {cls[e] for e in cycle}
        if len(kinds) == 1:
            desc = f"C({n_total // len(cycle)})"
        else:
            desc = f"C{len({(x[2], x[3]) for x in kinds})},{len({(x[0], x[1]) for x in kinds})}({n_total})"
        tvec = tuple(int(x) for x in np.sum([hbs[e].image for e in cycle], axis=0))
        if frozenset(cycle) not in seen_cycles:
            seen_cycles.add(frozenset(cycle))
            motifs.append(HBondMotif(desc, "chain", tuple(cycle), tuple(hbs[e].molecules[0] for e in cycle), tvec))
        for e in cycle:
            assigned.setdefault(e, desc)
    return motifs


def _shortest_chain(hbs, edges, k0, max_len):
    """The shortest directed cycle of H-bonds through ``k0`` whose net translation is non-zero."""
    start = hbs[k0].molecules[0]
    queue = deque([(hbs[k0].molecules[1], np.array(hbs[k0].image), [k0])])
    while queue:
        node, total, path = queue.popleft()
        if node == start and total.any():
            return path
        if len(path) >= max_len:
            continue
        for e in edges[node]:
            if e not in path:
                queue.append((hbs[e].molecules[1], total + hbs[e].image, path + [e]))
    return None


def hbond_network_dimensionality(crystal: CrystalLike) -> int:
    """0 (finite aggregates), 1 (chains, ribbons), 2 (sheets) or 3 of the H-bond network:
    the rank of the lattice translations of its cycles."""
    hbs = [c for c in crystal.hbonds() if c.subtype != "bifurcated (minor)"]
    if not hbs or crystal.cell_matrix is None:
        return 0
    adj = defaultdict(list)
    for c in hbs:
        i, j, t = c.molecules[0], c.molecules[1], np.array(c.image)
        adj[i].append((j, t))
        adj[j].append((i, -t))
    pos, best = {}, 0
    for root in adj:          # each connected set of molecules: rank of its cycle translations
        if root in pos:
            continue
        pos[root] = np.zeros(3, int)
        queue, loops = deque([root]), [np.zeros(3, int)]
        while queue:
            u = queue.popleft()
            for v, t in adj[u]:
                if v not in pos:
                    pos[v] = pos[u] + t
                    queue.append(v)
                else:
                    loops.append(pos[u] + t - pos[v])
        best = max(best, int(np.linalg.matrix_rank(np.array(loops))))
    return best


# ====================================================================== comparison
def match_molecule(crystal: CrystalLike, molecule: Molecule, heavy_atoms_only: bool = True) -> bool:
    """Whether one of the crystal's molecules has the same graph as ``molecule`` (heavy-atom
    graph by default, so missing hydrogens, tautomers and bond-order perception do not matter)."""
    key = graph_key(molecule, heavy_only=heavy_atoms_only)
    return any(graph_key(m, heavy_only=heavy_atoms_only) == key for m in crystal.unique_molecules)


def contact_feature(c: Contact) -> str:
    """A contact's name in the vocabulary of :func:`compare_crystals` ("hbond O-H···O",
    "type II X···X C-I···I-C", "pi-stacking", "short C···H", ...)."""
    if c.kind == "hbond":
        return f"hbond {c.label}"
    if c.kind == "halogen_bond":
        return f"halogen bond {c.label}"
    if c.kind == "halogen_halogen":
        return f"{c.subtype} X···X {c.label}"
    if c.kind == "pi_stack":
        return "pi-stacking"
    return f"short {'···'.join(sorted(c.label.split('···')))}"


def crystal_features(crystal: CrystalLike) -> Counter:
    """Counts of contact and motif kinds: the vocabulary of :func:`compare_crystals`."""
    feats: Counter = Counter(contact_feature(c) for c in crystal.contacts())
    for m in crystal.motifs():
        feats[f"motif {m.descriptor}"] += 1
    if feats and any(k.startswith("hbond") for k in feats):
        feats[f"hbond network {hbond_network_dimensionality(crystal)}-D"] += 1
    return feats


def compare_crystals(target: CrystalLike, analogs: list[CrystalLike]) -> dict:
    """What the target's crystal has that the analogs' lack (and the reverse), by contact
    kind, H-bond motif and network dimensionality, with Z, density and packing coefficient."""
    names = [target.name] + [a.name for a in analogs]
    feats = {c.name: crystal_features(c) for c in [target, *analogs]}
    tset = set(feats[target.name])
    aset = [set(feats[a.name]) for a in analogs]
    only = sorted(tset - set().union(*aset)) if analogs else sorted(tset)
    absent = sorted(set.intersection(*aset) - tset) if analogs else []
    per = {a.name: {"only_in_target": sorted(tset - s), "only_in_analog": sorted(s - tset)}
           for a, s in zip(analogs, aset)}
    props = {c.name: {"z": c.z, "z_prime": c.z_prime, "space_group": c.space_group, "density": c.density,
                      "packing_coefficient": c.packing_coefficient, "warnings": len(c.warnings)}
             for c in [target, *analogs]}
    summary = [f"{target.name} has {', '.join(only) if only else 'no contact or motif kind'} absent from "
               f"{', '.join(names[1:]) or 'the (empty) analog set'}"]
    if absent:
        summary.append(f"every analog has {', '.join(absent)}, which {target.name} lacks")
    return {"target": target.name, "analogs": names[1:], "features": {k: dict(v) for k, v in feats.items()},
            "only_in_target": only, "absent_from_target": absent, "per_analog": per,
            "properties": props, "summary": summary}


def contact_table(crystal: CrystalLike, kinds: tuple[str, ...] | None = None) -> str:
    """A plain-text table of the contacts (one line each)."""
    head = f"{'kind':16s} {'label':14s} {'mols':>7s} {'image':>10s} {'d/Å':>6s}  angles / motif"
    lines = [f"# {crystal.name}: Z={crystal.z} sg={crystal.space_group} rho={crystal.density or float('nan'):.3f} "
             f"PC={crystal.packing_coefficient or float('nan'):.3f}", head]
    crystal.motifs()
    for c in crystal.contacts():
        if kinds and c.kind not in kinds:
            continue
        ang = " ".join(f"{k}={v:.1f}" for k, v in c.angles.items())
        extra = " ".join(x for x in (c.subtype, c.motif) if x)
        lines.append(f"{c.kind:16s} {c.label:14s} {c.molecules[0]:>3d}-{c.molecules[1]:<3d} "
                     f"{str(c.image):>10s} {c.distance:6.3f}  {ang} {extra}".rstrip())
    return "\n".join(lines)
