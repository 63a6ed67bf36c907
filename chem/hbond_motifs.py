"""H-bond motifs of a molecule with copies of itself: the cyclic doubly H-bonded dimer and the chain.

- **cyclic dimer**: where the molecule has a *syn* donor/acceptor pair, D-H and X=A on one atom X with H
  and A on the same side (H-D-X-A torsion within 45° of 0: a carboxylic acid's syn O-H and C=O, a primary
  amide's cis N-H and C=O, 2-pyridone's N-H and C=O, 2-hydroxypyridine's syn O-H and ring N), the
  centrosymmetric R2,2(8) dimer: the partner is the molecule turned 180° about the normal of that
  pair's plane, so both D-H···A bonds are equivalent. Without a syn pair (a trans secondary amide, a
  phenol) the best it can do is one D-H···A bond: the open dimer.
- **chain**: a trimer A-B-C in which the central molecule B accepts an H-bond from A and donates one to C
  (the same donor H and acceptor in each link), each link placed linearly (D-H···A along the D-H bond,
  A's lone pair facing H) and spun about the bond to stay clear of the other molecules.

Donors are the polar H atoms free of intramolecular H-bonds in the lowest MMFF94 conformer
(:func:`chem.hbonds.free_polar_hydrogens`); acceptors are :func:`chem.hbonds.acceptor_atoms`. Geometry:
each copy at that conformer, the H···A set to a crystal-typical distance (:data:`HBOND_CONTACT_ANGSTROM`),
then the whole complex MMFF94-relaxed with every atom free (MMFF94 was fitted to H-bonded complexes). The
relaxed complex is kept when every intended H-bond is still formed (chem.hbonds criterion) and no new
one closes between the chain's ends; otherwise the rule-built one is. A complex whose atoms clash
(chem.dimers.closest_contact) is refused with :class:`MoleculeError`: it is not fit to be evidence.

Per-molecule energies (what the agent's observables read; E_int from a supermolecular
``interaction_energy``, negative = bound):

- dimer: E_dimer = E_int(A, B) / 2 (in a crystal of dimers each molecule owns half of its one pair);
- chain: E_chain = E_int(B; A + C) / 2, the central molecule's interaction with its two neighbours,
  halved (in an infinite chain each molecule makes two links and owns half of each: one link per
  molecule, with the trimer's cooperativity);
- preference = E_dimer - E_chain (negative: the dimer is preferred), both from one calculation;
- network: every free donor H used once (:func:`network_pairs`): E_cyclic / 2 (else the first open link's
  E_int) plus E_int of one open link per further donor H, as far as the acceptors' lone pairs allow.
"""

from __future__ import annotations

import functools

import numpy as np

from .errors import MoleculeError
from .hbonds import acceptor_atoms, free_polar_hydrogens, hbonds_formed
from .molecule import Molecule

# Crystal-typical H···A starting distances (Å) by donor and acceptor element, close to the contacts of acid
# dimers and amide ribbons (O···O about 2.65-2.7, N···O about 2.9 Å: approximately, from crystal-structure
# surveys); the MMFF94 relaxation sets the final value.
HBOND_CONTACT_ANGSTROM = {("O", "O"): 1.75, ("N", "O"): 1.90, ("O", "N"): 1.85, ("N", "N"): 2.00,
                          ("O", "F"): 1.95, ("N", "F"): 2.05}
SYN_TORSION_DEG = 45.0
ACCEPTOR_SLOTS = {"O": 2}  # lone pairs an acceptor can point at donors at once; N and F take one
FAR_ANGSTROM = 30.0  # a monomer this far from a complex does not interact with it


# ------------------------------------------------------------------ the monomer and its sites
@functools.lru_cache(maxsize=64)
def lowest_conformer(m: Molecule) -> Molecule:
    """The lowest MMFF94 conformer (polar-H rotamers kept apart, seeded), the geometry every copy starts from."""
    from .conformers import conformer_ensemble

    return conformer_ensemble(m, n_conformers=12, polar_hydrogens=True, rmsd_threshold=0.3,
                              energy_window_kcal_mol=30.0)[0][0]


def donors(m: Molecule) -> list[tuple[int, int]]:
    """(H, donor atom) of the polar H atoms free of intramolecular H-bonds in ``m``'s geometry."""
    nb = m.neighbours()
    return [(h, nb[h][0]) for h in free_polar_hydrogens(m)]


def syn_sites(m: Molecule) -> list[tuple[int, int, int, int]]:
    """(H, D, X, A) with D-H, D-X and X-A bonded and H-D-X-A within 45° of syn: the pairs that can close a
    cyclic R2,2(8) dimer; O acceptors first, then N."""
    from rdkit.Chem import rdMolTransforms

    conf = m.to_rdkit().GetConformer()
    nb = m.neighbours()
    acc = set(acceptor_atoms(m))
    out = []
    for h, d in donors(m):
        for x in nb[d]:
            for a in nb[x]:
                if a in acc and a != d and abs(rdMolTransforms.GetDihedralDeg(conf, h, d, x, a)) < SYN_TORSION_DEG:
                    out.append((h, d, x, a))
    return sorted(out, key=lambda s: (m.symbols[s[3]] != "O", s))


def can_form_motif(m: Molecule) -> tuple[bool, str]:
    """Whether ``m`` can make an intermolecular H-bond with itself (a polar H free in its lowest MMFF94
    conformer, and an acceptor), and if not, why (the reason an absent motif is shown with)."""
    from .hbonds import polar_hydrogens

    if not polar_hydrogens(m):
        return False, f"{m.label} has no N-H or O-H donor"
    if not acceptor_atoms(m):
        return False, f"{m.label} has no O, F or lone-pair N acceptor"
    if not donors(lowest_conformer(m)):
        return False, f"every polar H of {m.label} is locked in an intramolecular H-bond (lowest MMFF94 conformer)"
    return True, ""


def _contact(m: Molecule, h: int, a: int) -> float:
    d = m.neighbours()[h][0]
    return HBOND_CONTACT_ANGSTROM.get((m.symbols[d], m.symbols[a]), 1.95)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


# ------------------------------------------------------------------ relaxing and checking a complex
def union(parts: list[Molecule], name: str) -> Molecule:
    """Several molecules as one Molecule (disconnected components), atoms in order."""
    symbols, xyz, bonds, charges, offset = [], [], [], [], 0
    for p in parts:
        symbols += p.symbols
        xyz.append(p.coords)
        bonds += [(i + offset, j + offset, o) for i, j, o in p.bonds]
        charges += list(p.formal_charges or (0,) * p.n_atoms)
        offset += p.n_atoms
    return Molecule(name=name, symbols=tuple(symbols), coords_angstrom=np.vstack(xyz), bonds=tuple(bonds),
                    formal_charges=tuple(charges), charge=sum(p.charge for p in parts))


def _split(whole: np.ndarray, parts: list[Molecule]) -> list[Molecule]:
    out, k = [], 0
    for p in parts:
        out.append(p.with_coords(whole[k:k + p.n_atoms]))
        k += p.n_atoms
    return out


def _mmff_relaxed(parts: list[Molecule]) -> list[Molecule]:
    from rdkit.Chem import AllChem

    mol = union(parts, "complex").to_rdkit()
    props = AllChem.MMFFGetMoleculeProperties(mol)
    if props is None:
        return parts
    ff = AllChem.MMFFGetMoleculeForceField(mol, props, nonBondedThresh=1000.0, ignoreInterfragInteractions=False)
    ff.Minimize(maxIts=5000)
    return _split(np.asarray(mol.GetConformer().GetPositions()), parts)


Link = tuple[int, int, int, int]  # (donor molecule, H, acceptor molecule, A): an intermolecular H-bond


def _formed(parts: list[Molecule], links: list[Link]) -> list[bool]:
    starts = np.cumsum([0] + [p.n_atoms for p in parts])
    xyz = np.vstack([p.coords for p in parts])
    nb = [p.neighbours() for p in parts]
    triples = [(starts[i] + nb[i][h][0], starts[i] + h, starts[j] + a) for i, h, j, a in links]
    return list(hbonds_formed(xyz, triples)[0])


def _ends_bonded(parts: list[Molecule]) -> bool:
    """Whether the first and last molecule of a chain H-bond each other (the chain closed on itself)."""
    first, last = parts[0], parts[-1]
    ends = [(0, h, len(parts) - 1, a) for h, _ in donors(first) for a in acceptor_atoms(last)]
    ends += [(len(parts) - 1, h, 0, a) for h, _ in donors(last) for a in acceptor_atoms(first)]
    return any(_formed(parts, ends))


def _check_no_clash(parts: list[Molecule], label: str) -> None:
    from .dimers import closest_contact

    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            a, b, d, frac = closest_contact(parts[i], parts[j])
            if frac < 1.0:
                raise MoleculeError(f"{label}: atoms clash ({parts[i].symbols[a]}{a}···{parts[j].symbols[b]}{b} "
                                    f"at {d:.2f} Å between copies {i + 1} and {j + 1})")


def _settle(parts: list[Molecule], links: list[Link], label: str) -> list[Molecule]:
    """The MMFF94-relaxed complex when it keeps every intended link and does not close the chain, else the
    rule-built one; either checked for clashes."""
    relaxed = _mmff_relaxed(parts)
    keep = all(_formed(relaxed, links)) and (len(parts) < 3 or not _ends_bonded(relaxed))
    out = relaxed if keep else parts
    _check_no_clash(out, label)
    names = [f"{label} {k + 1}" for k in range(len(out))]
    return [p.model_copy(update={"name": n}) for p, n in zip(out, names)]


# ------------------------------------------------------------------ motifs
def cyclic_dimer(m: Molecule) -> tuple[Molecule, Molecule]:
    """The centrosymmetric doubly H-bonded R2,2(8) dimer through the first syn site (raises
    MoleculeError when there is none)."""
    mono = lowest_conformer(m)
    sites = syn_sites(mono)
    if not sites:
        raise MoleculeError(f"{m.label} has no syn donor/acceptor pair (H-D-X=A): no cyclic dimer")
    h, d, x, a = sites[0]
    xyz = mono.coords
    e_dh, u_xa = _unit(xyz[h] - xyz[d]), _unit(xyz[a] - xyz[x])
    normal = _unit(np.cross(xyz[d] - xyz[x], xyz[a] - xyz[x]))
    # the partner's acceptor on the bisector of the D-H and X=A directions, so both angles share the strain
    a_partner = xyz[h] + _contact(mono, h, a) * _unit(e_dh + u_xa)
    centre = (a_partner + xyz[a]) / 2
    turn = 2 * np.outer(normal, normal) - np.eye(3)  # 180° about the normal through the centre
    partner = mono.with_coords((xyz - centre) @ turn.T + centre)
    links = [(0, h, 1, a), (1, h, 0, a)]
    return tuple(_settle([mono, partner], links, f"{m.label} cyclic dimer"))


def _lone_pairs(m: Molecule, a: int) -> list[np.ndarray]:
    """Directions an H-bond can come in to acceptor ``a``: opposite its bonds' mean, and for a
    terminal sp2 acceptor (C=O, C=N) also its two in-plane lone pairs, 120° from the X=A bond."""
    nb = m.neighbours()[a]
    if not nb:
        return [np.array([0.0, 0.0, 1.0])]
    out = [_unit(-np.mean([m.coords[j] - m.coords[a] for j in nb], axis=0))]
    others = [y for y in m.neighbours()[nb[0]] if y != a] if len(nb) == 1 else []
    if others:
        u = out[0]
        n = np.cross(u, m.coords[others[0]] - m.coords[nb[0]])
        if np.linalg.norm(n) > 1e-6:
            perp = _unit(np.cross(_unit(n), u))
            out += [0.5 * u + np.sqrt(0.75) * perp, 0.5 * u - np.sqrt(0.75) * perp]
    return out


def _accepting(donor: Molecule, h: int, copy: Molecule, a: int, n_spins: int = 36) -> list[Molecule]:
    """``copy`` placed with its acceptor ``a`` on the D-H axis of ``donor``'s H ``h`` at the contact
    distance, one of its lone pairs facing H: one placement per lone pair and spin about that axis."""
    from .geometry import axis_rotation, rotation_between

    d = donor.neighbours()[h][0]
    e = _unit(donor.coords[h] - donor.coords[d])
    target = donor.coords[h] + _contact(donor, h, a) * e
    out = []
    for lone_pair in _lone_pairs(copy, a):
        xyz = (copy.coords - copy.coords[a]) @ rotation_between(lone_pair, -e).T
        out += [copy.with_coords(xyz @ axis_rotation(e, spin).T + target)
                for spin in np.linspace(0.0, 2 * np.pi, n_spins, endpoint=False)]
    return out


def _room(parts: list[Molecule]) -> float:
    """The closest approach between copies as a fraction of its clash threshold (chem.dimers.closest_contact,
    which allows an H-bond its short H···A): above 1, nothing clashes."""
    from .dimers import closest_contact

    return min(closest_contact(parts[i], parts[j])[3] for i in range(len(parts)) for j in range(i + 1, len(parts)))


def _spread(parts: list[Molecule], h: int, a: int) -> float:
    """The shortest distance between copies, leaving out the linking H and acceptor atoms."""
    keep = np.setdiff1d(np.arange(parts[0].n_atoms), [h, a])
    return min(float(np.min(np.linalg.norm(parts[i].coords[keep][:, None] - parts[j].coords[keep][None], axis=-1)))
               for i in range(len(parts)) for j in range(i + 1, len(parts)))


def _link_site(mono: Molecule, h: int | None = None) -> tuple[int, int]:
    """(H, acceptor) of a single link: donor ``h``, or a free donor H not needed for a cyclic dimer where
    there is one (a primary amide's anti N-H); an O acceptor before N, the farthest in the graph from the
    donor so that the link does not also close a ring (the molecule's own donor atom only if nothing else)."""
    syn_h = {s[0] for s in syn_sites(mono)}
    free = dict(donors(mono))
    if h is None:
        h = min(free, key=lambda k: (k in syn_h, k))
    elif h not in free:
        raise MoleculeError(f"{mono.label}: atom {h} is not a free polar H")
    d = free[h]
    acc = [a for a in acceptor_atoms(mono) if a != d] or acceptor_atoms(mono)
    return h, max(acc, key=lambda k: (mono.symbols[k] == "O", len(mono.bond_path(d, k)), -k))


def open_dimer(m: Molecule, h: int | None = None) -> tuple[Molecule, Molecule]:
    """One linear D-H···A bond between two copies (through donor H ``h``, by default the first free one
    not needed for a cyclic dimer; the acceptor as :func:`_link_site` picks it), for a molecule that cannot
    close a cyclic dimer, or for a donor left over by one."""
    mono = lowest_conformer(m)
    h, a = _link_site(mono, h)
    partner = max(_accepting(mono, h, mono, a), key=lambda b: _room([mono, b]))
    return tuple(_settle([mono, partner], [(0, h, 1, a)], f"{m.label} open dimer"))


def best_dimer(m: Molecule) -> tuple[Molecule, Molecule]:
    """The cyclic R2,2(8) dimer where the molecule allows it, else the open (singly H-bonded) dimer; raises
    MoleculeError when the molecule cannot H-bond itself (:func:`can_form_motif`)."""
    ok, why = can_form_motif(m)
    if not ok:
        raise MoleculeError(why)
    if syn_sites(lowest_conformer(m)):  # seeded: the same conformer every call
        return cyclic_dimer(m)
    return open_dimer(m)


def acceptor_slots(m: Molecule) -> int:
    """How many H-bonds ``m``'s acceptors can take at once: two per O (two lone pairs), one per N or F."""
    return sum(ACCEPTOR_SLOTS.get(m.symbols[a], 1) for a in acceptor_atoms(m))


def network_pairs(m: Molecule) -> tuple[bool, list[tuple[Molecule, Molecule]]]:
    """The H-bonds one molecule makes when every free donor H is used: (cyclic, pairs), the first pair the
    best dimer (cyclic R2,2(8) when ``cyclic``, else an open link), then one open dimer per further free
    donor H (a primary amide's anti N-H: the link that joins its dimers into ribbons), as many as the
    acceptors have lone pairs left. Per molecule the network's H-bond energy is E(cyclic) / 2 (else
    E(first link)) plus each further link's E: in the crystal each molecule donates through each H once."""
    ok, why = can_form_motif(m)
    if not ok:
        raise MoleculeError(why)
    mono = lowest_conformer(m)
    sites = syn_sites(mono)
    first = cyclic_dimer(m) if sites else open_dimer(m)
    used = {sites[0][0]} if sites else {_link_site(mono)[0]}
    room = acceptor_slots(mono) - 1
    extra = [h for h, _ in donors(mono) if h not in used][:max(room, 0)]
    return bool(sites), [first, *(open_dimer(m, h) for h in extra)]


def donates_both_ways(a: Molecule, b: Molecule) -> bool:
    """Whether each of two molecules donates an H-bond to the other (a cyclic dimer, not an open link)."""
    ways = [[(i, h, j, x) for h, _ in donors(p) for x in acceptor_atoms(q)]
            for i, j, p, q in ((0, 1, a, b), (1, 0, b, a))]
    return all(links and any(_formed([a, b], links)) for links in ways)


def chain_trimer(m: Molecule) -> tuple[Molecule, Molecule, Molecule]:
    """A-B-C: B accepts from A and donates to C through the same donor H and acceptor atom in each link
    (:func:`_link_site`)."""
    ok, why = can_form_motif(m)
    if not ok:
        raise MoleculeError(why)
    mono = lowest_conformer(m)
    h, a = _link_site(mono)
    # B's spin decides where its donor H points, so B and C are chosen together: the pair that keeps
    # the three copies furthest apart (a chain, not a ring folded back onto A)
    trials = [[mono, b, c] for b in _accepting(mono, h, mono, a, 12) for c in _accepting(b, h, mono, a, 12)]
    spread = [_spread(t, h, a) for t in trials]  # cheap first cut, then the clash measure on the best few
    parts = max((trials[k] for k in np.argsort(spread)[-12:]), key=_room)
    return tuple(_settle(parts, [(0, h, 1, a), (1, h, 2, a)], f"{m.label} chain"))


def far_apart(parts: list[Molecule], extra: Molecule, distance: float = FAR_ANGSTROM) -> Molecule:
    """``parts`` as one complex plus ``extra`` ``distance`` Å from its centroid (no interaction): the same
    formula as a larger cluster, for comparing motifs of different size in one calculation."""
    centre = np.vstack([p.coords for p in parts]).mean(axis=0)
    moved = extra.with_coords(extra.coords - extra.coords.mean(axis=0) + centre + np.array([distance, 0.0, 0.0]))
    return union([*parts, moved], f"{parts[0].name} + far monomer")
