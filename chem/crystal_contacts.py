"""Contacts and motifs in a :class:`~.crystal.Crystal`, and the comparison across a series.

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

import numpy as np

from .crystal import (Crystal, _angle, _angle_between, _generic_rdkit, _graph_key, _neighbours,
                      _normalised_coords)
from .dimers import VDW_RADII, vdw_radius
from .molecule import Molecule

HBOND_ELEMENTS = ("N", "O")
XB_DONORS = ("Cl", "Br", "I")
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


def _rings(mol: Molecule, xyz: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray, np.ndarray]]:
    """Aromatic rings (RDKit; planar 5/6-rings of <=3-connected atoms where bond orders are
    absent) as (atoms, centroid, unit normal)."""
    try:
        rd = mol.to_rdkit()
        aromatic = [tuple(r) for r in rd.GetRingInfo().AtomRings() if all(rd.GetAtomWithIdx(i).GetIsAromatic() for i in r)]
    except Exception:
        rd = _generic_rdkit(mol)
        aromatic = []
        nb = _neighbours(mol)
        for r in rd.GetRingInfo().AtomRings():
            if len(r) in (5, 6) and all(len(nb[i]) <= 3 for i in r):
                p = xyz[list(r)] - xyz[list(r)].mean(axis=0)
                if np.linalg.svd(p, compute_uv=False)[-1] / math.sqrt(len(r)) < 0.1:
                    aromatic.append(tuple(r))
    out = []
    for r in aromatic:
        p = xyz[list(r)]
        c = p.mean(axis=0)
        normal = np.linalg.svd(p - c)[2][2]
        out.append((r, c, normal))
    return out


# ====================================================================== contacts
def find_contacts(crystal: Crystal, hbond_max: float | None = 2.6, hbond_angle: float = 120.0,
                  xb_angle: float = 140.0, stack_distance: float = 4.2, stack_angle: float = 20.0,
                  short_margin: float = 0.0) -> list[Contact]:
    """Every contact between distinct molecules (home cell vs all periodic images), each
    symmetry-distinct-by-translation contact once. ``hbond_max=None`` uses vdW sum - 0.12 Å."""
    from scipy.spatial.distance import cdist

    mols = crystal.molecules
    xyz = [_normalised_coords(m) for m in mols]
    nbrs = [_neighbours(m) for m in mols]
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
            contacts += _pair_contacts(crystal, (i, j), t, xyz[i], xj, d, nbrs, hbond_max, hbond_angle, xb_angle,
                                       short_margin)
            for ra, ca, na in rings[i]:
                for rb, cb, nb in rings[j]:
                    cb = cb + shift
                    dist = float(np.linalg.norm(cb - ca))
                    tilt = _angle_between(na, nb)
                    tilt = min(tilt, 180 - tilt)
                    if dist < stack_distance and tilt < stack_angle:
                        perp = abs(float(np.dot(cb - ca, na)))
                        contacts.append(Contact("pi_stack", "ring···ring", (i, j), t,
                                                tuple((i, a) for a in ra) + tuple((j, b) for b in rb), dist,
                                                {"interplanar": tilt, "offset": math.sqrt(max(0.0, dist**2 - perp**2)),
                                                 "perpendicular": perp}))
    _mark_bifurcated(contacts)
    return contacts


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


def _pair_contacts(crystal, mols, t, xi, xj, d, nbrs, hbond_max, hbond_angle, xb_angle, margin) -> list[Contact]:
    i, j = mols
    si, sj = crystal.molecules[i].symbols, crystal.molecules[j].symbols
    neg = tuple(-x for x in t)
    out, used = [], set()

    def hb(donor_side):
        # donor side 0: H in i, acceptor in j (image t); side 1: H in j, acceptor in i
        (sd, xd, nd, md), (sa, xa, ma) = ((si, xi, nbrs[i], i), (sj, xj, j)) if donor_side == 0 else \
            ((sj, xj, nbrs[j], j), (si, xi, i))
        dd = d if donor_side == 0 else d.T
        for h in np.nonzero([s == "H" for s in sd])[0]:
            if len(nd[h]) != 1 or sd[nd[h][0]] not in HBOND_ELEMENTS:
                continue
            dn = nd[h][0]
            for a in np.nonzero(dd[h] < 3.2)[0]:
                if sa[a] not in HBOND_ELEMENTS:
                    continue
                limit = hbond_max if hbond_max is not None else VDW_RADII["H"] + vdw_radius(sa[a]) - 0.12
                ang = _angle(xd[dn], xd[h], xa[a])
                if dd[h, a] < limit and ang > hbond_angle:
                    image = t if donor_side == 0 else neg
                    out.append(Contact("hbond", f"{sd[dn]}-H···{sa[a]}", (md, ma), image,
                                       ((md, int(dn)), (md, int(h)), (ma, int(a))), float(dd[h, a]),
                                       {"D-H···A": ang, "D···A": float(np.linalg.norm(xd[dn] - xa[a]))}))
                    pair = (h, a) if donor_side == 0 else (a, h)
                    used.update({pair, (dn, a) if donor_side == 0 else (a, dn)})

    hb(0)
    hb(1)
    # halogen bonds and X···X
    for a, b in zip(*np.nonzero(d < 4.2)):
        ea, eb = si[a], sj[b]
        vdw = vdw_radius(ea) + vdw_radius(eb)
        if d[a, b] >= vdw:
            continue
        if ea in XB_DONORS and eb in XB_DONORS and len(nbrs[i][a]) == 1 and len(nbrs[j][b]) == 1:
            ca, cb = nbrs[i][a][0], nbrs[j][b][0]
            t1, t2 = _angle(xi[ca], xi[a], xj[b]), _angle(xi[a], xj[b], xj[cb])
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
                (a, b, xi, xj, nbrs[i], si, sj, i, j, t), (b, a, xj, xi, nbrs[j], sj, si, j, i, neg)):
            if sx[x] in XB_DONORS and sa[acc] in XB_ACCEPTORS and len(nx[x]) == 1:
                c = nx[x][0]
                ang = _angle(xs[c], xs[x], xa[acc])
                if ang > xb_angle:
                    out.append(Contact("halogen_bond", f"{sx[c]}-{sx[x]}···{sa[acc]}", (mx, ma), img,
                                       ((mx, c), (mx, int(x)), (ma, int(acc))), float(d[a, b]), {"C-X···A": ang}))
                    used.add((a, b))
    for a, b in zip(*np.nonzero(d < 4.2)):
        if (a, b) in used:
            continue
        vdw = vdw_radius(si[a]) + vdw_radius(sj[b])
        if d[a, b] < vdw - margin:
            out.append(Contact("short", f"{si[a]}···{sj[b]}", (i, j), t, ((i, int(a)), (j, int(b))),
                               float(d[a, b]), {"vdw_sum": vdw}))
    return out


# ====================================================================== motifs
def _path_atoms(mol: Molecule, a: int, b: int) -> int:
    """Atoms on the shortest bond path from a to b, both included."""
    if a == b:
        return 1
    nb = _neighbours(mol)
    seen, queue = {a: 1}, deque([a])
    while queue:
        u = queue.popleft()
        for v in nb[u]:
            if v not in seen:
                seen[v] = seen[u] + 1
                if v == b:
                    return seen[v]
                queue.append(v)
    return 0   # not connected (should not happen within one molecule)


def _hbond_classes(crystal: Crystal, hbs: list[Contact]) -> list[tuple]:
    """Symmetry class of each H-bond by molecule graph and canonical atom ranks."""
    from rdkit import Chem

    ranks, keys = {}, {}
    for m in {c.molecules[0] for c in hbs} | {c.molecules[1] for c in hbs}:
        g = _generic_rdkit(crystal.molecules[m])
        ranks[m] = list(Chem.CanonicalRankAtoms(g, breakTies=False))
        keys[m] = _graph_key(crystal.molecules[m])
    return [(keys[c.atoms[1][0]], ranks[c.atoms[1][0]][c.atoms[1][1]], keys[c.atoms[2][0]],
             ranks[c.atoms[2][0]][c.atoms[2][1]]) for c in hbs]


def hbond_motifs(crystal: Crystal, max_chain: int = 6) -> list[HBondMotif]:
    """First-level graph-set motifs of the H-bonds: rings between pairs of molecules, chains
    through lattice translations, discrete otherwise. Sets ``Contact.motif`` on the H-bonds."""
    every = crystal.hbonds()
    keep = [k for k, c in enumerate(every) if c.subtype != "bifurcated (minor)"]
    hbs = [every[k] for k in keep]
    if not hbs:
        return []
    cls = _hbond_classes(crystal, hbs)
    mol = crystal.molecules
    motifs: list[HBondMotif] = []
    assigned: dict[int, str] = {}
    # rings: two H-bonds joining the same pair of molecule images
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
                size += _path_atoms(mol[side], ends[0], ends[1])
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
    # chains: directed cycles with a non-zero net translation among the H-bonds not in rings
    edges = defaultdict(list)
    for k, c in enumerate(hbs):
        if k not in assigned:
            edges[c.molecules[0]].append(k)
    seen_cycles = set()
    for k0 in [k for k in range(len(hbs)) if k not in assigned]:
        cycle = _shortest_chain(hbs, edges, k0, max_chain)
        if cycle is None:
            continue
        n_total = sum(_path_atoms(mol[hbs[e].molecules[1]], hbs[e].atoms[2][1], hbs[f].atoms[1][1])
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
    for k in range(len(hbs)):
        if k not in assigned:
            assigned[k] = "D"
            motifs.append(HBondMotif("D", "discrete", (k,), hbs[k].molecules))
    for k, c in enumerate(hbs):
        c.motif = assigned[k]
    for m in motifs:          # indices into Crystal.hbonds(), minor components included
        m.hbonds = tuple(keep[k] for k in m.hbonds)
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


def hbond_network_dimensionality(crystal: Crystal) -> int:
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
def match_molecule(crystal: Crystal, molecule: Molecule, heavy_atoms_only: bool = True) -> bool:
    """Whether one of the crystal's molecules has the same graph as ``molecule`` (heavy-atom
    graph by default, so missing hydrogens, tautomers and bond-order perception do not matter)."""
    key = _graph_key(molecule, heavy_only=heavy_atoms_only)
    return any(_graph_key(m, heavy_only=heavy_atoms_only) == key for m in crystal.unique_molecules)


def crystal_features(crystal: Crystal) -> Counter:
    """Counts of contact and motif kinds: the vocabulary of :func:`compare_crystals`."""
    feats: Counter = Counter()
    for c in crystal.contacts():
        if c.kind == "hbond":
            feats[f"hbond {c.label}"] += 1
        elif c.kind == "halogen_bond":
            feats[f"halogen bond {c.label}"] += 1
        elif c.kind == "halogen_halogen":
            feats[f"{c.subtype} X···X {c.label}"] += 1
        elif c.kind == "pi_stack":
            feats["pi-stacking"] += 1
        else:
            feats[f"short {'···'.join(sorted(c.label.split('···')))}"] += 1
    for m in crystal.motifs():
        feats[f"motif {m.descriptor}"] += 1
    if feats and any(k.startswith("hbond") for k in feats):
        feats[f"hbond network {hbond_network_dimensionality(crystal)}-D"] += 1
    return feats


def compare_crystals(target: Crystal, analogs: list[Crystal]) -> dict:
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


def contact_table(crystal: Crystal, kinds: tuple[str, ...] | None = None) -> str:
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
