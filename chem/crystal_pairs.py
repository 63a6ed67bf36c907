"""Symmetry-unique molecular pairs of a crystal: what energy frameworks and pair-sum lattice
energies are built from.

Around each molecule of a :class:`~.crystal.Crystal` every neighbour (periodic images
included) whose closest atom lies within ``contact_cutoff`` (3.8 Å, CrystalExplorer's default
shell) is a pair of the close-contact shell; with ``radius`` every neighbour whose centroid lies
within that distance is added, for lattice sums.

Equivalence is found from the geometry, so a P1-expanded CIF (X23's) gives the same classes
as one with its operators: two pairs are the same class when their intermolecular atom-atom
distances, sorted element pair by element pair, agree within ``PAIR_MATCH_TOLERANCE``. A
space-group operation preserves them; so does a mirror, and a pair and its mirror image have
the same energy at every tier. Molecules of the cell whose neighbour classes and
multiplicities agree are symmetry-equivalent; one of each (the *home* molecules) is listed, with
the number of cell molecules it stands for.

Each pair carries the operation that takes its home molecule onto the partner (``x,y,z``
notation, lattice translation included): one of the CIF's operators where the CIF gives them,
else one from the lattice's metric symmetry that maps the atoms within
``OPERATION_TOLERANCE``; and its contacts from :mod:`.crystal_contacts`.

The pair sum per molecule is ``1/2 Σ multiplicity × E_pair`` over a home's pairs, averaged over
the cell's molecules: the lattice energy relative to monomers at their crystal geometry.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Mapping

import numpy as np

from .crystal_contacts import Contact, CrystalLike, contact_feature, normalised_coords
from .graphs import graph_key
from .molecule import Molecule

PAIR_CUTOFF_ANGSTROM = 3.8          # closest atom-atom distance of the shell (CrystalExplorer's default)
PAIR_MATCH_TOLERANCE = 0.02         # Å, on each sorted intermolecular distance
OPERATION_TOLERANCE = 0.1           # Å, atom positions under a symmetry operation (X-ray H included)
# Contact kinds from the most to the least specific: a pair is coloured by the first it has.
CONTACT_PRIORITY = ("hbond", "halogen_bond", "halogen_halogen", "pi_stack", "short")

__all__ = ["MolecularPair", "PairSet", "molecular_pairs", "space_group_operations", "asymmetric_unit_cif",
           "PAIR_CUTOFF_ANGSTROM", "CONTACT_PRIORITY"]


@dataclass
class MolecularPair:
    """One class of congruent pairs seen from a home molecule: ``home`` in the home cell and
    ``partner`` translated by lattice ``image``, with ``multiplicity`` copies around the home."""

    id: int                                    # row in PairSet.pairs
    pair_class: int                            # congruence class, shared by the homes that have it
    home: int                                  # indices into Crystal.molecules
    partner: int
    image: tuple[int, int, int]
    centroid_distance: float                   # Å, between geometric centroids
    closest_distance: float                    # Å, closest atom pair (H normalised)
    multiplicity: int
    in_shell: bool                             # closest_distance <= the contact cut-off
    operation: str = ""                        # e.g. "-x+1/2,y+1/2,-z+1/2"; "" when none was found
    relation: str = ""                         # translation, inversion, 2-fold screw, glide, ...
    contacts: list[Contact] = field(default_factory=list, repr=False)

    @property
    def features(self) -> list[str]:
        """The contacts' kinds, once each, in the vocabulary of ``compare_crystals``."""
        return sorted({contact_feature(c) for c in self.contacts})

    @property
    def contact_type(self) -> str:
        """The most specific contact kind of the pair (see CONTACT_PRIORITY), or "none"."""
        kinds = {c.kind for c in self.contacts}
        return next((k for k in CONTACT_PRIORITY if k in kinds), "none")

    def molecules(self, crystal: CrystalLike) -> tuple[Molecule, Molecule]:
        """The home molecule and the partner at its image's position (Å)."""
        a = crystal.molecules[self.home]
        b = crystal.molecules[self.partner]
        shift = np.asarray(self.image, float) @ crystal.cell_matrix
        return (a.model_copy(update={"name": f"{crystal.name}#{self.home}"}),
                b.with_coords(b.coords + shift).model_copy(
                    update={"name": f"{crystal.name}#{self.partner}{'+' + str(self.image) if any(self.image) else ''}"}))

    def as_dict(self) -> dict:
        return {"id": self.id, "pair_class": self.pair_class, "home": self.home, "partner": self.partner,
                "image": list(self.image), "operation": self.operation, "relation": self.relation,
                "centroid_distance_angstrom": round(self.centroid_distance, 3),
                "closest_distance_angstrom": round(self.closest_distance, 3), "multiplicity": self.multiplicity,
                "in_shell": self.in_shell, "contact_type": self.contact_type, "contacts": self.features}


@dataclass
class PairSet:
    """The pair classes around each symmetry-distinct (home) molecule of a crystal."""

    crystal_name: str
    contact_cutoff: float
    radius: float | None
    homes: list[int]                           # one molecule of each symmetry-distinct kind
    home_counts: list[int]                     # cell molecules each home stands for
    pairs: list[MolecularPair]                 # every home's classes, each home by centroid distance
    # every pair found around every molecule of the cell: (molecule, partner, image, pair class)
    neighbours: list[tuple[int, int, tuple[int, int, int], int]] = field(default_factory=list, repr=False)

    @property
    def n_molecules(self) -> int:
        return sum(self.home_counts)

    def shell(self) -> list[MolecularPair]:
        """The close-contact shell: pairs whose closest atoms lie within the contact cut-off."""
        return [p for p in self.pairs if p.in_shell]

    def representatives(self) -> dict[int, MolecularPair]:
        """One pair per congruence class (the first listed): what an energy is computed on."""
        out: dict[int, MolecularPair] = {}
        for p in self.pairs:
            out.setdefault(p.pair_class, p)
        return out

    def pair_sum(self, energies: Mapping[int, float], radius: float | None = None,
                 pairs: list[MolecularPair] | None = None) -> float:
        """1/2 Σ multiplicity × E per molecule (E by pair class, any unit), over the pairs within
        ``radius`` (centroid distance) or the given ``pairs``; a KeyError names a missing class."""
        chosen = pairs if pairs is not None else [p for p in self.pairs
                                                  if radius is None or p.centroid_distance <= radius + 1e-9]
        weight = dict(zip(self.homes, self.home_counts))
        total = sum(weight[p.home] * 0.5 * p.multiplicity * energies[p.pair_class] for p in chosen)
        return total / self.n_molecules

    def as_dict(self) -> dict:
        return {"crystal": self.crystal_name, "contact_cutoff_angstrom": self.contact_cutoff,
                "radius_angstrom": self.radius, "homes": self.homes, "home_counts": self.home_counts,
                "pairs": [p.as_dict() for p in self.pairs]}


# ====================================================================== finding pairs
def molecular_pairs(crystal: CrystalLike, contact_cutoff: float = PAIR_CUTOFF_ANGSTROM,
                    radius: float | None = None) -> PairSet:
    """The pair classes around each symmetry-distinct molecule: the close-contact shell
    (closest atoms within ``contact_cutoff`` Å) and, with ``radius``, every pair whose centroids
    lie within ``radius`` Å."""
    if crystal.cell_matrix is None:
        raise ValueError(f"{crystal.name}: no unit cell, so no periodic neighbours")
    mols = crystal.molecules
    cell = np.asarray(crystal.cell_matrix, float)
    raw = [m.coords for m in mols]
    norm = [normalised_coords(m) for m in mols]
    cent = np.array([x.mean(axis=0) for x in raw])
    rad = np.array([float(np.max(np.linalg.norm(x - c, axis=1))) for x, c in zip(norm, cent)])
    reach = max(radius or 0.0, 2 * rad.max() + contact_cutoff) + 0.5
    images = _images(cell, reach)
    shifts = images @ cell
    species = [graph_key(m) for m in mols]
    classes = _Classes(mols, species)
    found = defaultdict(list)                  # home -> [(class, partner, image, d_centroid, d_closest)]
    for i, j in itertools.product(range(len(mols)), repeat=2):
        d_cent = np.linalg.norm(cent[j] + shifts - cent[i], axis=1)
        near = d_cent <= max(radius or 0.0, rad[i] + rad[j] + contact_cutoff)
        for k in np.nonzero(near)[0]:
            if i == j and not images[k].any():
                continue
            closest = float(_cdist(norm[i], norm[j] + shifts[k]).min())
            in_radius = radius is not None and d_cent[k] <= radius
            if closest > contact_cutoff and not in_radius:
                continue
            cls = classes.assign(i, j, raw[i], raw[j] + shifts[k], float(d_cent[k]))
            found[i].append((cls, j, tuple(int(x) for x in images[k]), float(d_cent[k]), closest))
    homes, counts = _distinct_molecules(len(mols), found, species)
    contacts = _contacts_by_pair(crystal.contacts())
    finder = _OperationFinder(crystal)
    pairs: list[MolecularPair] = []
    for home in homes:
        by_class: dict[int, list] = defaultdict(list)
        for rec in found[home]:
            by_class[rec[0]].append(rec)
        rows = sorted(by_class.values(), key=lambda recs: (min(r[3] for r in recs), recs[0][0]))
        for recs in rows:
            cls, partner, image, d_cent, closest = min(recs, key=lambda r: (r[3], r[1], r[2]))
            op, relation = finder.find(home, partner, image)
            pairs.append(MolecularPair(len(pairs), cls, home, partner, image, d_cent, closest, len(recs),
                                       closest <= contact_cutoff, op, relation,
                                       contacts.get((home, partner, image), [])))
    every = [(i, rec[1], rec[2], rec[0]) for i in sorted(found) for rec in found[i]]
    return PairSet(crystal.name, contact_cutoff, radius, homes, counts, pairs, every)


def _images(cell: np.ndarray, reach: float) -> np.ndarray:
    """Lattice translations (integer triples) that can bring a molecule within ``reach`` Å."""
    volume = abs(np.linalg.det(cell))
    spacing = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    ranges = [range(-int(math.ceil(reach / s)) - 1, int(math.ceil(reach / s)) + 2) for s in spacing]
    return np.array(list(itertools.product(*ranges)), int)


def _cdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)


class _Classes:
    """Congruence classes of pairs by their sorted intermolecular distances per element pair."""

    def __init__(self, mols: list[Molecule], species: list[str]):
        self.mols, self.species = mols, species
        self.types: dict[tuple[int, int], tuple[np.ndarray, list]] = {}
        self.n = 0
        # (species pair, centroid distance bin) -> [(class, centroid distance, fingerprint)]
        self.bins: dict[tuple, list[tuple[int, float, np.ndarray]]] = defaultdict(list)

    def _layout(self, i: int, j: int):
        """Atom-pair order grouping the distance matrix of molecules i, j by element pair."""
        if (i, j) not in self.types:
            si, sj = self.mols[i].symbols, self.mols[j].symbols
            labels = np.array(["-".join(sorted((a, b))) for a in si for b in sj])
            order = np.argsort(labels, kind="stable")
            self.types[(i, j)] = (order, labels[order])
        return self.types[(i, j)]

    def fingerprint(self, i: int, j: int, xi: np.ndarray, xj: np.ndarray) -> np.ndarray:
        order, labels = self._layout(i, j)
        d = _cdist(xi, xj).ravel()[order]
        out = np.empty_like(d)
        bounds = np.flatnonzero(labels[1:] != labels[:-1]) + 1
        for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(d)]):
            out[lo:hi] = np.sort(d[lo:hi])
        return out

    def assign(self, i: int, j: int, xi: np.ndarray, xj: np.ndarray, d_cent: float) -> int:
        key = tuple(sorted((self.species[i], self.species[j])))
        fp = self.fingerprint(i, j, xi, xj) if key[0] == self.species[i] else self.fingerprint(j, i, xj, xi)
        slot = int(d_cent / (2 * PAIR_MATCH_TOLERANCE))
        for near in (slot - 1, slot, slot + 1):
            for k, other_d, other_fp in self.bins.get((key, near), ()):
                if abs(other_d - d_cent) < PAIR_MATCH_TOLERANCE and len(other_fp) == len(fp) \
                        and np.max(np.abs(other_fp - fp)) < PAIR_MATCH_TOLERANCE:
                    return k
        self.bins[(key, slot)].append((self.n, d_cent, fp))
        self.n += 1
        return self.n - 1


def _distinct_molecules(n: int, found: dict, species: list[str]) -> tuple[list[int], list[int]]:
    """Molecules of the cell grouped by species and neighbour classes with multiplicities:
    (the first of each group, the group sizes)."""
    groups: dict[tuple, list[int]] = {}
    for m in range(n):
        signature = (species[m], tuple(sorted(Counter(r[0] for r in found[m]).items())))
        groups.setdefault(signature, []).append(m)
    firsts = sorted(groups.values(), key=lambda g: g[0])
    return [g[0] for g in firsts], [len(g) for g in firsts]


def _contacts_by_pair(contacts: list[Contact]) -> dict[tuple, list[Contact]]:
    """Contacts keyed by (molecule, other molecule, image of the other), both ways round."""
    out: dict[tuple, list[Contact]] = defaultdict(list)
    for c in contacts:
        (a, b), t = c.molecules, tuple(c.image)
        out[(a, b, t)].append(c)
        if (b, a, tuple(-x for x in t)) != (a, b, t):
            out[(b, a, tuple(-x for x in t))].append(c)
    return out


# ====================================================================== symmetry relations
def space_group_operations(crystal: CrystalLike) -> list[tuple[np.ndarray, np.ndarray]]:
    """The operations (R, t) on fractional coordinates, t in [0, 1), that map the cell's atoms onto
    themselves: the CIF's where it gives more than one, else found from the geometry among the
    lattice's metric symmetry (so a P1-expanded cell, as X23's, gets its space group back).
    Identity first."""
    given = [(np.rint(r), np.asarray(t, float) % 1.0) for r, t in getattr(crystal, "symmetry_operations", [])]
    if len(given) > 1:
        return _identity_first([(r, _snap(t)) for r, t in given])
    cell = np.asarray(crystal.cell_matrix, float)
    symbols = np.array([s for m in crystal.molecules for s in m.symbols])
    frac = np.vstack([m.coords for m in crystal.molecules]) @ np.linalg.inv(cell) % 1.0
    rarest = min(set(symbols), key=lambda e: (int(np.sum(symbols == e)), e))
    a0 = int(np.flatnonzero(symbols == rarest)[0])
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for rot in _lattice_point_group(cell):
        rotated = frac @ rot.T
        for b in np.flatnonzero(symbols == rarest):
            w = (frac[b] - rotated[a0]) % 1.0
            if any(np.allclose(rot, r) and np.allclose(_wrap(w - t), 0, atol=1e-3) for r, t in found):
                continue
            if _maps_onto(rotated + w, frac, symbols, cell):
                found.append((rot, _snap(w)))
    return _identity_first(found)


def _snap(w: np.ndarray) -> np.ndarray:
    """A translation on the 1/12 grid where it is within 0.002 of it (crystallographic ones are), in [0, 1)."""
    grid = np.rint(w * 12) / 12
    return np.where(np.abs(w - grid) < 2e-3, grid, w) % 1.0


def _wrap(f: np.ndarray) -> np.ndarray:
    return f - np.rint(f)


def _maps_onto(mapped: np.ndarray, frac: np.ndarray, symbols: np.ndarray, cell: np.ndarray) -> bool:
    """Whether every mapped atom lands within OPERATION_TOLERANCE of an atom of its element (mod lattice)."""
    for element in set(symbols):
        pick = symbols == element
        d = _wrap(mapped[pick][:, None, :] - frac[pick][None, :, :]) @ cell
        if float(np.linalg.norm(d, axis=-1).min(axis=1).max()) > OPERATION_TOLERANCE:
            return False
    return True


def _identity_first(ops):
    return sorted(ops, key=lambda op: (not (np.allclose(op[0], np.eye(3)) and np.allclose(op[1] % 1.0, 0)),
                                       not np.allclose(op[0], -np.eye(3)), np.linalg.det(op[0]) < 0,
                                       -np.trace(op[0])))


def asymmetric_unit_cif(crystal: CrystalLike, operations: list | None = None,
                        normalise_hydrogens: bool = False) -> str:
    """The crystal as CIF text with its operations and only the atoms they do not generate (the
    asymmetric unit), for programs that work by symmetry (occ's CE model energies). Atoms keep
    their whole molecules' coordinates (not wrapped into the cell); with ``normalise_hydrogens``
    X-H bonds take the neutron lengths of :func:`normalised_coords`."""
    from ase.geometry import cell_to_cellpar

    ops = operations or space_group_operations(crystal)
    cell = np.asarray(crystal.cell_matrix, float)
    symbols = [s for m in crystal.molecules for s in m.symbols]
    xyz = [normalised_coords(m) if normalise_hydrogens else m.coords for m in crystal.molecules]
    frac = np.vstack(xyz) @ np.linalg.inv(cell)
    kept: list[int] = []
    images = np.zeros((0, 3))
    for k, f in enumerate(frac):
        if len(images) and float(np.linalg.norm(_wrap(images - f) @ cell, axis=1).min()) < OPERATION_TOLERANCE:
            continue
        kept.append(k)
        images = np.vstack([images, [(rot @ f + t) % 1.0 for rot, t in ops]])
    a, b, c, alpha, beta, gamma = cell_to_cellpar(cell)
    block = re.sub(r"[^A-Za-z0-9_.-]", "_", crystal.name or "crystal")       # CIF block names have no spaces
    lines = [f"data_{block}", f"_cell_length_a {a:.6f}", f"_cell_length_b {b:.6f}",
             f"_cell_length_c {c:.6f}", f"_cell_angle_alpha {alpha:.6f}", f"_cell_angle_beta {beta:.6f}",
             f"_cell_angle_gamma {gamma:.6f}", "loop_", "_symmetry_equiv_pos_as_xyz"]
    lines += [f"'{_symop_string(rot, t % 1.0)}'" for rot, t in ops]
    lines += ["loop_", "_atom_site_label", "_atom_site_type_symbol", "_atom_site_fract_x", "_atom_site_fract_y",
              "_atom_site_fract_z"]
    lines += [f"{symbols[k]}{n + 1} {symbols[k]} {frac[k][0]:.6f} {frac[k][1]:.6f} {frac[k][2]:.6f}"
              for n, k in enumerate(kept)]
    return "\n".join(lines) + "\n"


class _OperationFinder:
    """The operation (R, w) on fractional coordinates that carries one molecule onto another."""

    def __init__(self, crystal: CrystalLike):
        self.crystal = crystal
        self.cell = np.asarray(crystal.cell_matrix, float)
        self.to_frac = np.linalg.inv(self.cell)
        ops = space_group_operations(crystal)
        if len(ops) > 1:
            self.candidates = [(r, t) for r, t in ops]
        else:                                  # no symmetry found: any isometry of the lattice
            self.candidates = [(r, None) for r in _lattice_point_group(self.cell)]

    def find(self, home: int, partner: int, image) -> tuple[str, str]:
        a = self.crystal.molecules[home]
        b = self.crystal.molecules[partner]
        target = b.coords + np.asarray(image, float) @ self.cell
        fa = a.coords @ self.to_frac
        ca, cb = fa.mean(axis=0), target.mean(axis=0) @ self.to_frac
        for rot, trans in self.candidates:
            w = cb - rot @ ca                  # an affine map takes centroid to centroid
            if trans is not None:
                if np.max(np.abs(w - trans - np.rint(w - trans))) > 0.02:
                    continue
                w = trans + np.rint(w - trans)
            mapped = (fa @ rot.T + w) @ self.cell
            if _same_atoms(mapped, a.symbols, target, b.symbols):
                return _symop_string(rot, w), _relation(rot, w, self.cell)
        return "", ""


def _lattice_point_group(cell: np.ndarray) -> list[np.ndarray]:
    """Integer matrices R (entries -1, 0, 1) that preserve the metric (R^T G R = G): the lattice's
    point symmetry, identity first, then inversion, then the rest."""
    metric = cell @ cell.T
    mats = np.array(list(itertools.product((-1, 0, 1), repeat=9)), float).reshape(-1, 3, 3)
    mats = mats[np.abs(np.abs(np.linalg.det(mats)) - 1) < 1e-6]
    transformed = np.einsum("nji,jk,nkl->nil", mats, metric, mats)
    ok = np.all(np.abs(transformed - metric) < 2e-3 * np.abs(metric).max(), axis=(1, 2))
    found = list(mats[ok])
    return sorted(found, key=lambda r: (not np.allclose(r, np.eye(3)), not np.allclose(r, -np.eye(3)),
                                        np.linalg.det(r) < 0, -np.trace(r)))


def _same_atoms(xa: np.ndarray, sa, xb: np.ndarray, sb) -> bool:
    if len(xa) != len(xb):
        return False
    d = _cdist(xa, xb)
    nearest = d.argmin(axis=1)
    return (len(set(nearest.tolist())) == len(xa) and float(d.min(axis=1).max()) < OPERATION_TOLERANCE
            and all(sa[k] == sb[m] for k, m in enumerate(nearest)))


def _symop_string(rot: np.ndarray, w: np.ndarray) -> str:
    """'x,y,z' notation: '-x+1/2,y+1/2,-z+1'."""
    rows = []
    for k in range(3):
        text = ""
        for coef, var in zip(np.rint(rot[k]).astype(int), "xyz"):
            if coef:
                sign = "-" if coef < 0 else "+" if text else ""
                text += f"{sign}{'' if abs(coef) == 1 else abs(coef)}{var}"
        frac = Fraction(float(w[k])).limit_denominator(12)
        if frac:
            text += f"{'+' if frac > 0 else '-'}{abs(frac)}"
        rows.append(text or "0")
    return ",".join(rows)


def _relation(rot: np.ndarray, w: np.ndarray, cell: np.ndarray) -> str:
    """The kind of operation: translation, inversion, n-fold rotation or screw, mirror or glide,
    rotoinversion (screw and glide when the operation's intrinsic translation is non-zero)."""
    det, trace = round(float(np.linalg.det(rot))), round(float(np.trace(rot)))
    if det > 0 and trace == 3:
        return "translation"
    if det < 0 and trace == -3:
        return "inversion"
    order, power = 1, rot.copy()
    while not np.allclose(power, np.eye(3)) and order < 12:
        power, order = power @ rot, order + 1
    intrinsic = sum(np.linalg.matrix_power(rot, k) for k in range(order)) @ w / order
    moves = float(np.linalg.norm(intrinsic @ cell)) > 1e-3
    if det > 0:
        return f"{order}-fold {'screw' if moves else 'rotation'}"
    if trace == 1:
        return "glide" if moves else "mirror"
    return "rotoinversion"
