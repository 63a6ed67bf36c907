"""Dimer builders: split a dimer into monomers, and place two molecules in a contact motif.

Each builder returns two :class:`Molecule` objects positioned as a dimer, ready to
be the fragments of an ``interaction_energy`` spec (or a starting point for an
optimisation). Geometries are idealised starting points, not minima: distances
default to typical crystal-contact values (fractions of Bondi van der Waals sums).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .elements import HALOGENS, HBOND_ELEMENTS, vdw_radius
from .errors import MoleculeError
from .geometry import angle, axis_rotation, plane_frame, rotation_between
from .molecule import Molecule, parse_xyz_text


# ------------------------------------------------------------------ splitting
def split_by_connectivity(source: Molecule | str | Path, charge: int = 0,
                          fragment_charges: list[int] | None = None) -> list[Molecule]:
    """Split an XYZ dimer (file, text or Molecule) into its connected monomers.

    Fragments are neutral unless ``fragment_charges`` says otherwise; a non-zero
    total ``charge`` needs ``fragment_charges``.
    """
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    where = "XYZ input"
    if isinstance(source, Molecule):
        symbols, coords = list(source.symbols), source.coords.tolist()
        title = source.name
    else:
        text = source
        if isinstance(source, Path) or "\n" not in str(source):
            path = Path(source)
            if not path.exists():
                raise MoleculeError(f"{path}: no such file")
            text, where = path.read_text(), str(path)
        symbols, coords, title = parse_xyz_text(str(text), where)
    block = f"{len(symbols)}\n\n" + "\n".join(f"{s} {x:.8f} {y:.8f} {z:.8f}" for s, (x, y, z) in zip(symbols, coords))
    mol = Chem.MolFromXYZBlock(block)
    rdDetermineBonds.DetermineConnectivity(mol)
    frags = Chem.GetMolFrags(mol)
    if fragment_charges is None:
        if charge and len(frags) > 1:
            raise MoleculeError(f"{where}: a total charge of {charge:+d} over {len(frags)} fragments does not say "
                                f"which fragment carries it; give one charge per fragment in file order "
                                f"(fragment_charges, or --fragment-charges {','.join([str(charge)] + ['0'] * (len(frags) - 1))})")
        fragment_charges = [charge] if len(frags) == 1 else [0] * len(frags)
    if len(fragment_charges) != len(frags):
        raise MoleculeError(f"{where}: {len(frags)} fragments but {len(fragment_charges)} fragment charges "
                            f"({', '.join(map(str, fragment_charges))}); give one per fragment in file order")
    out = []
    for k, (idx, q) in enumerate(zip(frags, fragment_charges), start=1):
        text = f"{len(idx)}\n\n" + "\n".join(
            f"{symbols[i]} {coords[i][0]:.8f} {coords[i][1]:.8f} {coords[i][2]:.8f}" for i in idx)
        stem = title or (Path(where).stem if where != "XYZ input" else "")
        name = f"{stem or 'fragment'}_{k}" if len(frags) > 1 else stem
        out.append(Molecule.from_xyz(text, charge=q, name=name))
    return out


# ------------------------------------------------------------------ geometry
def _min_distance(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.min(np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)))


def _place(mol: Molecule, anchor: int, direction_in_mol: np.ndarray, target_direction: np.ndarray,
           target_position: np.ndarray, partner: np.ndarray, exclude_anchor: bool = True) -> Molecule:
    """Rotate ``mol`` so ``direction_in_mol`` points along ``target_direction``, put atom
    ``anchor`` at ``target_position``, and spin about that direction to avoid clashes."""
    xyz = mol.coords - mol.coords[anchor]
    xyz = xyz @ rotation_between(direction_in_mol, target_direction).T
    best, best_d = None, -1.0
    for spin in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        trial = xyz @ axis_rotation(target_direction, spin).T + target_position
        others = np.delete(trial, anchor, axis=0) if exclude_anchor and len(trial) > 1 else trial
        d = _min_distance(others, partner)
        if d > best_d:
            best, best_d = trial, d
    return mol.with_coords(best)


def _lone_pair_direction(mol: Molecule, i: int) -> np.ndarray:
    """Outward direction at atom i: opposite to the mean of its bond vectors."""
    nbrs = mol.neighbours()[i]
    if not nbrs:
        return np.array([0.0, 0.0, 1.0])
    v = -np.mean([mol.coords[j] - mol.coords[i] for j in nbrs], axis=0)
    if np.linalg.norm(v) < 1e-6:  # linear environment: any perpendicular
        v = np.cross(mol.coords[nbrs[0]] - mol.coords[i], [1.0, 0.0, 0.0])
        if np.linalg.norm(v) < 1e-6:
            v = np.cross(mol.coords[nbrs[0]] - mol.coords[i], [0.0, 1.0, 0.0])
    return v / np.linalg.norm(v)


def find_halogen(mol: Molecule, halogen: int | None = None) -> tuple[int, int]:
    """(halogen index, bonded carbon index): the given one or the heaviest C-bound halogen."""
    candidates = [halogen] if halogen is not None else [
        i for el in HALOGENS for i, s in enumerate(mol.symbols) if s == el]
    nb = mol.neighbours()
    for i in candidates:
        if mol.symbols[i] in HALOGENS and len(nb[i]) == 1:
            return i, nb[i][0]
    raise MoleculeError(f"{mol.label}: no halogen bonded to one atom, needed for a halogen contact")


def find_acceptor(mol: Molecule, acceptor: int | None = None) -> int:
    """The given acceptor, else the first N, then O, then S, then halogen with a lone pair."""
    if acceptor is not None:
        return acceptor
    nb = mol.neighbours()
    for el in ("N", "O", "S", *HALOGENS):
        for i, s in enumerate(mol.symbols):
            if s == el and (el != "N" or len(nb[i]) < 4):
                return i
    raise MoleculeError(f"{mol.label}: no hydrogen- or halogen-bond acceptor atom")


def find_polar_hydrogen(mol: Molecule) -> tuple[int, int]:
    """(H index, donor index) of the first H on N or O."""
    nb = mol.neighbours()
    for i, s in enumerate(mol.symbols):
        if s == "H" and nb[i] and mol.symbols[nb[i][0]] in HBOND_ELEMENTS:
            return i, nb[i][0]
    raise MoleculeError(f"{mol.label}: no N-H or O-H donor")


def aromatic_ring_normal(m: Molecule) -> np.ndarray | None:
    """The unit normal of the molecule's largest aromatic ring (its atoms' least-squares plane), or None
    when it has no aromatic ring: the axis of a ring quadrupole and of a face-to-face stack."""
    mol = m.to_rdkit()
    rings = [r for r in mol.GetRingInfo().AtomRings() if all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in r)]
    if not rings:
        return None
    ring = max(rings, key=len)
    n = plane_frame(m.coords[list(ring)])[2]
    return n / np.linalg.norm(n)


# ------------------------------------------------------------------ motifs
def stacked_dimer(a: Molecule, b: Molecule, distance: float = 3.6, offset: float = 1.5) -> tuple[Molecule, Molecule]:
    """Parallel-displaced stack: planes parallel, ``distance`` apart, slipped by ``offset`` (Å)."""
    fa, fb = plane_frame(a.coords), plane_frame(b.coords)
    xa = (a.coords - a.coords.mean(axis=0)) @ fa.T
    xb = (b.coords - b.coords.mean(axis=0)) @ fb.T + np.array([offset, 0.0, distance])
    return a.with_coords(xa), b.with_coords(xb)


def t_shaped_dimer(a: Molecule, b: Molecule, distance: float | None = None,
                   vdw_fraction: float = 0.9) -> tuple[Molecule, Molecule]:
    """Edge-to-face (T) dimer: b's plane perpendicular to a's, b's short in-plane axis (its
    C-H edge, for a rod like a para-disubstituted benzene) pointing at a's centroid.

    ``distance`` fixes the centroid separation (Å); by default b is slid along a's
    normal until no atom pair is closer than ``vdw_fraction`` of its Bondi vdW sum
    (0.9 puts benzene's H 2.5 Å from the other ring's carbons' plane, as in the
    T-shaped S22 benzene dimer).
    """
    fa, fb = plane_frame(a.coords), plane_frame(b.coords)
    xa = (a.coords - a.coords.mean(axis=0)) @ fa.T
    xb = (b.coords - b.coords.mean(axis=0)) @ fb.T  # b in its own xy plane, long axis along x
    xb = xb @ rotation_between(np.array([0, 1.0, 0]), np.array([0, 0, 1.0])).T  # short axis up: plane xz
    if distance is None:
        radii_sum = vdw_fraction * (np.array([vdw_radius(s) for s in a.symbols])[:, None]
                                    + np.array([vdw_radius(s) for s in b.symbols])[None, :])
        z = float(xb[:, 2].max() - xb[:, 2].min()) / 2
        while np.any(np.linalg.norm(xa[:, None] - (xb + [0.0, 0.0, z])[None], axis=-1) < radii_sum):
            z += 0.02
        distance = z
    return a.with_coords(xa), b.with_coords(xb + np.array([0.0, 0.0, distance]))


DEBYE_PER_E_ANGSTROM = 4.80320  # one elementary charge times one Å, in Debye
NEAR_ZERO_DIPOLE_DEBYE = 0.3
"""A charge-model dipole below this has no direction worth orienting by (benzene, 1,4-diiodobenzene, CCl4:
0 by symmetry; toluene ~0.3 D measured): the molecule has no dipole to pair antiparallel."""


def charge_dipole(m: Molecule) -> np.ndarray:
    """The dipole vector (Debye) of MMFF94 partial charges at the molecule's geometry, about its
    centroid (Gasteiger charges where MMFF94 cannot type the molecule): a direction to orient by, not a
    dipole to report (the tiers compute those)."""
    from rdkit.Chem import AllChem

    mol = m.to_rdkit()
    props = AllChem.MMFFGetMoleculeProperties(mol)
    if props is not None:
        q = np.array([props.GetMMFFPartialCharge(i) for i in range(m.n_atoms)])
    else:
        AllChem.ComputeGasteigerCharges(mol)
        q = np.array([a.GetDoubleProp("_GasteigerCharge") for a in mol.GetAtoms()])
    q = np.nan_to_num(q)
    x = m.coords - m.coords.mean(axis=0)
    return (q[:, None] * x).sum(axis=0) * DEBYE_PER_E_ANGSTROM


def _dipole_frame(m: Molecule) -> np.ndarray:
    """Rows (x, y, z): x along the charge dipole, z along the molecule's thinnest direction perpendicular
    to it (the plane normal of a planar molecule), right-handed."""
    mu = charge_dipole(m)
    if np.linalg.norm(mu) < 1e-3:
        raise MoleculeError(f"{m.label}: no dipole to orient by (charge-model dipole {np.linalg.norm(mu):.3f} D)")
    ex = mu / np.linalg.norm(mu)
    axes = plane_frame(m.coords) if m.n_atoms > 2 else np.eye(3)
    for cand in (axes[2], axes[1], axes[0], np.eye(3)[np.argmin(np.abs(ex))]):
        ez = cand - (cand @ ex) * ex
        if np.linalg.norm(ez) > 0.3:  # far enough from the dipole axis to define a side
            break
    ez = ez / np.linalg.norm(ez)
    return np.array([ex, np.cross(ez, ex), ez])


def antiparallel_dimer(a: Molecule, b: Molecule | None = None, contact_fraction: float = 1.0,
                       step: float = 0.02) -> tuple[Molecule, Molecule]:
    """Two molecules with their dipoles antiparallel, side by side along the direction perpendicular to
    the dipole in which ``a`` is thinnest (stacked, for a planar molecule whose dipole lies in its plane).

    Each is put in its own dipole frame (charge dipole along x, thin axis along z, :func:`charge_dipole`);
    ``b`` (a copy of ``a`` by default) is then turned 180° about y (dipole to -x) and slid out along z until
    no pair of atoms is closer than ``contact_fraction`` of its van der Waals sum (1.0: none inside contact).
    A molecule with no charge dipole raises MoleculeError.
    """
    b = a if b is None else b
    xa = (a.coords - a.coords.mean(axis=0)) @ _dipole_frame(a).T
    xb = (b.coords - b.coords.mean(axis=0)) @ _dipole_frame(b).T * np.array([-1.0, 1.0, -1.0])  # C2 about y
    contact = contact_fraction * (np.array([vdw_radius(s) for s in a.symbols])[:, None]
                                  + np.array([vdw_radius(s) for s in b.symbols])[None, :])
    z = 0.0
    while np.any(np.linalg.norm(xa[:, None] - (xb + [0.0, 0.0, z])[None], axis=-1) < contact):
        z += step
    return a.with_coords(xa), b.with_coords(xb + np.array([0.0, 0.0, z]))


def hbond_dimer(a: Molecule, b: Molecule, distance: float = 1.95,
                acceptor: int | None = None) -> tuple[Molecule, Molecule]:
    """Linear D-H···A hydrogen bond from a's first polar H to b's acceptor, H···A = ``distance`` Å."""
    h, d = find_polar_hydrogen(a)
    acc = find_acceptor(b, acceptor)
    u = a.coords[h] - a.coords[d]
    u /= np.linalg.norm(u)
    placed = _place(b, acc, _lone_pair_direction(b, acc), -u, a.coords[h] + u * distance, a.coords)
    return a, placed


def halogen_bond_dimer(a: Molecule, b: Molecule, halogen: int | None = None, acceptor: int | None = None,
                       distance: float | None = None) -> tuple[Molecule, Molecule]:
    """Linear C-X···A halogen bond; X···A defaults to 90% of the vdW sum (a typical XB)."""
    x, c = find_halogen(a, halogen)
    acc = find_acceptor(b, acceptor)
    u = a.coords[x] - a.coords[c]
    u /= np.linalg.norm(u)
    d = distance or 0.90 * (vdw_radius(a.symbols[x]) + vdw_radius(b.symbols[acc]))
    placed = _place(b, acc, _lone_pair_direction(b, acc), -u, a.coords[x] + u * d, a.coords)
    return a, placed


def type_ii_halogen_contact(a: Molecule, b: Molecule, halogen: int | None = None, distance: float | None = None
                            ) -> tuple[Molecule, Molecule]:
    """Type II X···X contact: C1-X1···X2 = 180°, X1···X2-C2 = 90° (X1's sigma hole meets X2's belt)."""
    x1, c1 = find_halogen(a, halogen)
    x2, c2 = find_halogen(b)
    u = a.coords[x1] - a.coords[c1]
    u /= np.linalg.norm(u)
    d = distance or 0.95 * (vdw_radius(a.symbols[x1]) + vdw_radius(b.symbols[x2]))
    # X2's C2-X2 bond lies perpendicular to u, in a's molecular plane, so b does not fold
    # back onto a; b then spins about that bond to avoid clashes.
    v = np.cross(u, plane_frame(a.coords)[2])
    v /= np.linalg.norm(v)
    placed = _place(b, x2, b.coords[c2] - b.coords[x2], v, a.coords[x1] + u * d, a.coords)
    return a, placed


def type_i_halogen_contact(a: Molecule, b: Molecule, angle_deg: float = 150.0, halogen: int | None = None,
                           distance: float | None = None) -> tuple[Molecule, Molecule]:
    """Type I X···X contact: C1-X1···X2 = X1···X2-C2 = ``angle_deg`` (centrosymmetric arrangement)."""
    x1, c1 = find_halogen(a, halogen)
    x2, c2 = find_halogen(b)
    u = a.coords[x1] - a.coords[c1]
    u /= np.linalg.norm(u)
    d = distance or 0.95 * (vdw_radius(a.symbols[x1]) + vdw_radius(b.symbols[x2]))
    normal = plane_frame(a.coords)[2]
    axis = np.cross(u, normal)
    w = axis_rotation(axis / np.linalg.norm(axis), np.radians(180.0 - angle_deg)) @ u
    # Centrosymmetric: X2->C2 is parallel to u, which makes both angles equal.
    placed = _place(b, x2, b.coords[c2] - b.coords[x2], u, a.coords[x1] + w * d, a.coords)
    return a, placed


def contact_angles(a: Molecule, b: Molecule, i: int, j: int) -> tuple[float, float, float]:
    """(distance Å, theta1, theta2 in degrees) of the contact between atom i of a and atom j of b,
    with theta = the angle at the contact atom from its single bonded neighbour."""
    xi, xj = a.coords[i], b.coords[j]
    ni, nj = a.coords[a.neighbours()[i][0]], b.coords[b.neighbours()[j][0]]
    return float(np.linalg.norm(xi - xj)), angle(ni, xi, xj), angle(xi, xj, nj)


# ------------------------------------------------------------------ fitness of a built contact
CLASH_RATIO = 0.70
"""A pair of atoms closer than this fraction of their contact vdW sum clashes (H···H at 1.54 Å,
C···C at 2.38 Å)."""
HBOND_CLASH_RATIO = 0.60
"""The same for a polar H and an N/O acceptor, whose H-bond sits at about 0.74 of the sum (1.95 Å for H···O)."""


def closest_contact(a: Molecule, b: Molecule) -> tuple[int, int, float, float]:
    """(i in a, j in b, distance Å, the fraction of the pair's clash threshold it reaches) of the pair
    of atoms that is furthest inside its van der Waals contact (radii: :func:`vdw_radius`); a
    fraction below 1 means the two molecules clash (:data:`CLASH_RATIO`, :data:`HBOND_CLASH_RATIO`)."""
    d = np.linalg.norm(a.coords[:, None, :] - b.coords[None, :, :], axis=-1)
    sums = np.array([[vdw_radius(x) + vdw_radius(y) for y in b.symbols] for x in a.symbols])
    polar_a = _polar_h_mask(a)
    polar_b = _polar_h_mask(b)
    acc_a = np.array([s in HBOND_ELEMENTS for s in a.symbols])
    acc_b = np.array([s in HBOND_ELEMENTS for s in b.symbols])
    hbond = (polar_a[:, None] & acc_b[None, :]) | (acc_a[:, None] & polar_b[None, :])
    frac = d / (sums * np.where(hbond, HBOND_CLASH_RATIO, CLASH_RATIO))
    i, j = np.unravel_index(int(np.argmin(frac)), frac.shape)
    return int(i), int(j), float(d[i, j]), float(frac[i, j])


def _polar_h_mask(m: Molecule) -> np.ndarray:
    nb = m.neighbours()
    return np.array([s == "H" and bool(nb[k]) and m.symbols[nb[k][0]] in HBOND_ELEMENTS
                     for k, s in enumerate(m.symbols)])


def clear_clash(a: Molecule, b: Molecule, max_shift: float = 1.5, step: float = 0.1) -> tuple[Molecule, float]:
    """``b`` moved away from ``a`` along the line of their centroids by the least multiple of ``step`` Å
    that leaves no pair of atoms clashing (:func:`closest_contact`), and the shift; (b, 0.0) when
    nothing clashes. Raises MoleculeError, with the worst pair, when ``max_shift`` does not clear it."""
    axis = b.coords.mean(axis=0) - a.coords.mean(axis=0)
    axis = axis / np.linalg.norm(axis) if np.linalg.norm(axis) > 1e-6 else np.array([0.0, 0.0, 1.0])
    for k in range(int(round(max_shift / step)) + 1):
        moved = b.with_coords(b.coords + axis * k * step) if k else b
        i, j, d, frac = closest_contact(a, moved)
        if frac >= 1.0:
            return moved, k * step
    i, j, d, _ = closest_contact(a, b)
    raise MoleculeError(f"atoms clash: {a.symbols[i]}{i}···{b.symbols[j]}{j} at {d:.2f} Å against a vdW contact of "
                        f"{vdw_radius(a.symbols[i]) + vdw_radius(b.symbols[j]):.2f} Å, and moving the partner "
                        f"{max_shift:.1f} Å apart does not clear it")


def settle_separation(a: Molecule, b: Molecule, closer: float = 0.4, farther: float = 1.2,
                      step: float = 0.05) -> tuple[Molecule, float]:
    """``b`` slid along the line of the centroids to the MMFF94 minimum of the rigid complex (from
    ``closer`` Å nearer to ``farther`` Å farther than built, in ``step`` Å), and the shift. A rule-built
    contact sets every atom pair at a fixed fraction of its vdW sum, which for a long C-H edge facing a
    ring (anthracene's T) puts three H atoms at once too close; the motif is kept, only the distance
    found. The monomers are rigid, so the complex's energy differs from E_int by a constant."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    axis = b.coords.mean(axis=0) - a.coords.mean(axis=0)
    if np.linalg.norm(axis) < 1e-6:
        return b, 0.0
    axis = axis / np.linalg.norm(axis)
    mol = Chem.CombineMols(a.to_rdkit(), b.to_rdkit())
    props = AllChem.MMFFGetMoleculeProperties(mol)
    if props is None:  # MMFF94 cannot type it: keep the rule-built distance
        return b, 0.0
    ff = AllChem.MMFFGetMoleculeForceField(mol, props, nonBondedThresh=100.0, ignoreInterfragInteractions=False)
    shifts = np.arange(-closer, farther + step / 2, step)
    energies = [ff.CalcEnergy(np.vstack([a.coords, b.coords + axis * s]).ravel().tolist()) for s in shifts]
    best = float(shifts[int(np.argmin(energies))])
    return b.with_coords(b.coords + axis * best), round(best, 3)
