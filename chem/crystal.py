"""Crystal structures: read a CIF, rebuild whole molecules, and describe the packing.

Reader
------
CIFs are tokenised with ASE's own CIF parser (``ase.io.cif.parse_cif``), already a
dependency of tierchem, rather than gemmi or pymatgen. ASE gives the raw data items
(including ``_atom_site_occupancy`` and ``_atom_site_disorder_group``, which
``ase.io.read`` would fold away) and its space-group tables for CIFs that give a
symbol but no operators; the symmetry expansion, de-duplication of special
positions and the disorder policy are done here so that every atom keeps its CIF
site and occupancy. gemmi would be faster and stricter, but the X23-sized
structures of a series do not need the speed, and one dependency fewer is worth it.

Molecules
---------
Atoms within r_cov(i) + r_cov(j) + 0.4 Å (Cordero covalent radii, the CSD
convention) are bonded, over periodic images (``ase.neighborlist``); each connected
set is unwrapped into one whole molecule whose centroid lies in the cell. Bond
orders and charges come from RDKit ``rdDetermineBonds.DetermineBondOrders`` on that
connectivity, once per element graph (symmetry copies are mapped onto the first by canonical
atom ranks), with nitro groups set beforehand (N+ with N=O and N-O-: xyz2mol otherwise
enumerates their resonance combinations, 29 s for each CL-20 molecule); where it fails the
molecule keeps single bonds and a warning says so.
Hydrogens RDKit would still have to add (implicit H) are *missing* hydrogens.

Contacts, H-bond graph sets, halogen contacts and the comparison across a series are in
:mod:`.crystal_contacts` (re-exported here).

Packing coefficient = Σ molecular vdW volumes / cell volume (Kitaigorodskii), the
volumes by a 0.2 Å grid over the union of Bondi spheres (``elements.BONDI_ROWLAND_TAYLOR_VDW_RADII``).
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .crystal_contacts import (Contact, HBondMotif, compare_crystals, contact_table, crystal_features,
                               find_contacts, hbond_motifs, hbond_network_dimensionality, match_molecule,
                               normalised_coords)
from .elements import ATOMIC_NUMBER, vdw_radius
from .errors import MoleculeError
from .geometry import angle_between, kabsch, superposed_rmsd
from .graphs import element_graph, graph_key
from .molecule import Molecule, rdkit_quiet

log = logging.getLogger(__name__)

BOND_TOLERANCE = 0.4            # Å added to the covalent-radius sum
AMU_A3_TO_G_CM3 = 1.66053907

__all__ = ["Crystal", "read_cif", "crystal_from_molecules", "swap_into_packing",
           # from crystal_contacts
           "Contact", "HBondMotif", "find_contacts", "hbond_motifs", "hbond_network_dimensionality",
           "match_molecule", "crystal_features", "compare_crystals", "contact_table"]


# ====================================================================== records
@dataclass
class Crystal:
    """A crystal structure and its whole molecules (the ``z`` molecules of one cell, each with
    its centroid in the cell; ``image_coords`` places their periodic copies)."""

    name: str
    molecules: list[Molecule]
    cell_matrix: np.ndarray | None             # rows a, b, c in Å; None when unreadable
    space_group: str | None = None
    space_group_number: int | None = None
    n_symmetry_ops: int | None = None
    # (R, t) acting on fractional column vectors, f' = R f + t, as the CIF gives them (empty when unknown)
    symmetry_operations: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)
    z: int = 0
    z_prime: float | None = None
    density: float | None = None               # g/cm3, from the occupancy-weighted cell contents
    packing_coefficient: float | None = None
    unique_molecules: list[Molecule] = field(default_factory=list)
    composition: dict[str, int] = field(default_factory=dict)
    site_indices: list[tuple[int, ...]] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    hydrogens_normalised: bool = False         # X-H at neutron lengths (read_cif's default)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ----------------------------------------------------------------- cell
    @property
    def cell_lengths(self) -> tuple[float, float, float] | None:
        if self.cell_matrix is None:
            return None
        return tuple(float(x) for x in np.linalg.norm(self.cell_matrix, axis=1))

    @property
    def cell_angles(self) -> tuple[float, float, float] | None:
        if self.cell_matrix is None:
            return None
        a, b, c = self.cell_matrix
        return tuple(angle_between(u, v) for u, v in ((b, c), (a, c), (a, b)))

    @property
    def volume(self) -> float | None:
        return None if self.cell_matrix is None else float(abs(np.linalg.det(self.cell_matrix)))

    def image_coords(self, molecule: int, image=(0, 0, 0)) -> np.ndarray:
        """Cartesian coordinates (Å) of molecule ``molecule`` translated by lattice ``image``."""
        shift = np.zeros(3) if self.cell_matrix is None else np.asarray(image, float) @ self.cell_matrix
        return self.molecules[molecule].coords + shift

    # ------------------------------------------------------------- analysis
    def contacts(self, **criteria) -> list[Contact]:
        """All intermolecular contacts (cached for the default criteria); see :func:`find_contacts`."""
        if criteria:
            return find_contacts(self, **criteria)
        if "contacts" not in self._cache:
            self._cache["contacts"] = find_contacts(self)
        return self._cache["contacts"]

    def hbonds(self) -> list[Contact]:
        return [c for c in self.contacts() if c.kind == "hbond"]

    def motifs(self) -> list[HBondMotif]:
        if "motifs" not in self._cache:
            self._cache["motifs"] = hbond_motifs(self)
        return self._cache["motifs"]

    def hbond_dimensionality(self) -> int:
        return hbond_network_dimensionality(self)

    def summary(self) -> dict:
        kinds = Counter(c.kind for c in self.contacts())
        return {
            "name": self.name, "space_group": self.space_group, "z": self.z, "z_prime": self.z_prime,
            "cell_lengths": self.cell_lengths, "cell_angles": self.cell_angles, "volume": self.volume,
            "density": self.density, "packing_coefficient": self.packing_coefficient,
            "composition": self.composition, "contacts": dict(kinds),
            "motifs": dict(Counter(m.descriptor for m in self.motifs())),
            "hbond_network_dimensionality": self.hbond_dimensionality() if kinds.get("hbond") else None,
            "warnings": list(self.warnings),
        }

    def table(self, kinds: tuple[str, ...] | None = None) -> str:
        return contact_table(self, kinds)


# ====================================================================== reading
def read_cif(source: str | Path, name: str = "", block: int | str = 0, normalise_hydrogens: bool = True) -> Crystal:
    """Read a CIF (path or text) into a :class:`Crystal`; warnings on the result say what was
    doubtful (truncation, disorder, missing H, ...), a MoleculeError when nothing is usable.
    With ``normalise_hydrogens`` (the default) X-H bonds are set to neutron lengths as read
    (:func:`normalise_hydrogen_positions`), so contacts, pair and lattice energies and surfaces
    all see one geometry; ``False`` keeps the CIF's H positions."""
    from ase.io.cif import parse_cif

    text, where = _read_text(source)
    name = name or (Path(where).stem if where != "CIF text" else "")
    warnings: list[str] = []
    blocks = _parse_tolerant(text, where, parse_cif, warnings)
    blocks = [b for b in blocks if _has_sites(b)]
    if not blocks:
        raise MoleculeError(f"{where}: no atom sites (_atom_site_fract_* or _atom_site_Cartn_*) could be read; "
                            "the file is empty, truncated before the atom list, or not a CIF")
    if isinstance(block, str):
        match = [b for b in blocks if b.name == block]
        if not match:
            raise MoleculeError(f"{where}: no data block {block!r} (have {[b.name for b in blocks]})")
        cif = match[0]
    else:
        cif = blocks[block]
    if len(blocks) > 1:
        warnings.append(f"{len(blocks)} structure blocks; read {cif.name!r}")
    crystal = _crystal_from_block(cif, name or cif.name, where, warnings)
    if normalise_hydrogens:
        normalise_hydrogen_positions(crystal)
    return crystal


def normalise_hydrogen_positions(crystal: Crystal) -> None:
    """Move each H on C, N or O along its bond to the neutron X-H length (:func:`normalised_coords`),
    in place. X-ray H positions sit 0.1-0.15 Å short (the electron density's centre, not the proton's):
    an O-H···O pair energy of acetic acid's catemer moves by 1.4 kcal/mol (GAFF2) when they are
    normalised, as CrystalExplorer does before its model energies and Hirshfeld surfaces."""
    index = {id(m): k for k, m in enumerate(crystal.molecules)}
    crystal.molecules = [m.with_coords(normalised_coords(m)) for m in crystal.molecules]
    crystal.unique_molecules = [crystal.molecules[index[id(m)]] for m in crystal.unique_molecules]
    crystal.hydrogens_normalised = True
    crystal._cache.clear()


def crystal_from_molecules(molecules: list[Molecule], cell, name: str = "") -> Crystal:
    """A P1 crystal from molecules placed in Cartesian Å and a cell: 3x3 rows (Å) or the six
    parameters (a, b, c, alpha, beta, gamma). Useful for synthetic packings."""
    from ase.geometry import cellpar_to_cell

    cell = np.asarray(cell, float)
    matrix = cellpar_to_cell(cell) if cell.shape == (6,) else cell.reshape(3, 3)
    symbols = [s for m in molecules for s in m.symbols]
    xyz = np.vstack([m.coords for m in molecules])
    frac = xyz @ np.linalg.inv(matrix)
    sites = _Sites(symbols, frac % 1.0, np.ones(len(symbols)), [f"{s}{k}" for k, s in enumerate(symbols)])
    charges = [m.charge for m in molecules]
    return _assemble(sites, matrix, name or "crystal", "molecules", [], space_group="P 1", sg_number=1,
                     n_ops=1, known_charges=charges if any(charges) else None)


@dataclass
class _Sites:
    symbols: list[str]
    coords: np.ndarray          # fractional (or Cartesian when the cell is None)
    occupancy: np.ndarray
    labels: list[str]


def _read_text(source) -> tuple[str, str]:
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and len(source) < 1000):
        path = Path(source)
        if not path.exists():
            raise MoleculeError(f"{path}: no such file")
        try:
            return path.read_text(errors="replace"), str(path)
        except OSError as exc:
            raise MoleculeError(f"{path}: cannot read ({exc})") from None
    return str(source), "CIF text"


def _parse_tolerant(text, where, parse_cif, warnings):
    """Parse; on failure drop trailing lines (a truncated file) until what is left parses."""
    lines = text.splitlines()
    if not any(line.strip().lower().startswith("data_") for line in lines):
        raise MoleculeError(f"{where}: not a CIF (no 'data_' block header)")
    first_error = None
    for dropped in range(0, min(len(lines), 40)):
        body = "\n".join(lines[: len(lines) - dropped]) + "\n"
        try:
            blocks = list(parse_cif(io.StringIO(body)))
        except Exception as exc:  # ASE raises RuntimeError, IndexError, AssertionError, ValueError
            first_error = first_error or exc
            continue
        if dropped:
            warnings.append(f"CIF is corrupt or truncated ({type(first_error).__name__}: {first_error}); "
                            f"read it without its last {dropped} line(s): atoms may be missing")
        return blocks
    raise MoleculeError(f"{where}: could not parse the CIF ({type(first_error).__name__}: {first_error})")


def _has_sites(block) -> bool:
    try:
        return bool(block.has_structure())
    except Exception:
        return False


def _num(value) -> float | None:
    """A CIF number, dropping a standard uncertainty '1.234(5)'; None for '?', '.' or junk."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    m = re.match(r"^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)(\(\d+\))?\s*$", str(value))
    return float(m.group(1)) if m else None


def _column(cif, key, n):
    values = cif.get(key)
    if values is None:
        return None
    if not isinstance(values, list):
        values = [values]
    return values if len(values) == n else None


def _crystal_from_block(cif, name, where, warnings) -> Crystal:
    from ase.geometry import cellpar_to_cell

    symbols = cif.get_symbols()
    n = len(symbols)
    unknown = sorted({s for s in symbols if s not in ATOMIC_NUMBER})
    if unknown:
        raise MoleculeError(f"{where}: unknown element(s) {unknown} in _atom_site_type_symbol")
    coord_type, raw = cif._get_site_coordinates()
    raw = np.array([[_num(v) if _num(v) is not None else np.nan for v in row] for row in raw], float)
    labels = [str(x) for x in (_column(cif, "_atom_site_label", n) or [f"{s}{k}" for k, s in enumerate(symbols)])]
    bad = ~np.all(np.isfinite(raw), axis=1)
    if bad.any():
        warnings.append(f"{int(bad.sum())} site(s) without numeric coordinates skipped: "
                        f"{', '.join(np.array(labels)[bad][:5])}")
    occ = np.array([_num(v) if _num(v) is not None else 1.0 for v in (_column(cif, "_atom_site_occupancy", n) or [1.0] * n)])
    keep = ~bad
    keep &= _disorder_policy(cif, n, labels, occ, warnings)
    if not keep.any():
        raise MoleculeError(f"{where}: no usable atom sites")

    cellpar = [_num(cif.get(tag)) for tag in cif.cell_tags]
    matrix = None
    if None not in cellpar and all(x > 0 for x in cellpar):
        try:
            matrix = cellpar_to_cell(cellpar)
            if not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 1.0:
                matrix = None
        except Exception:
            matrix = None
    if matrix is None:
        if coord_type != "cartesian":
            raise MoleculeError(f"{where}: the cell ({dict(zip(cif.cell_tags, cellpar))}) is missing or "
                                "unreadable and the atoms are fractional: nothing usable")
        warnings.append("unreadable cell: molecules read from Cartesian coordinates without periodicity; "
                        "no density, packing coefficient or contacts to periodic images")
    else:
        stated = _num(cif.get("_cell_volume"))
        vol = abs(np.linalg.det(matrix))
        if stated and abs(stated - vol) > 0.01 * vol:
            warnings.append(f"_cell_volume {stated:.1f} Å3 disagrees with the cell parameters ({vol:.1f} Å3)")
    if coord_type == "cartesian" and matrix is not None:
        raw = raw @ np.linalg.inv(matrix)
    sites = _Sites([s for s, k in zip(symbols, keep) if k], raw[keep], occ[keep],
                   [lab for lab, k in zip(labels, keep) if k])

    sg_name, sg_number, ops = _symmetry(cif, warnings)
    if matrix is not None:
        sites = _expand(sites, ops, matrix, warnings)
    crystal = _assemble(sites, matrix, name, where, warnings, space_group=sg_name, sg_number=sg_number,
                        n_ops=len(ops) if ops is not None else None)
    crystal.symmetry_operations = [(np.asarray(r, float), np.asarray(t, float)) for r, t in (ops or [])]
    _check_formula(cif, crystal)
    return crystal


def _disorder_policy(cif, n, labels, occ, warnings) -> np.ndarray:
    """Keep ordered sites and the major part of each disorder assembly; warn about the rest."""
    keep = np.ones(n, bool)
    groups = _column(cif, "_atom_site_disorder_group", n)
    if groups is not None:
        groups = [str(g).strip() for g in groups]
        assemblies = _column(cif, "_atom_site_disorder_assembly", n) or ["."] * n
        disordered = [k for k, g in enumerate(groups) if g not in (".", "?", "0", "")]
        if disordered:
            by_assembly = defaultdict(lambda: defaultdict(list))
            for k in disordered:
                by_assembly[str(assemblies[k])][groups[k]].append(k)
            dropped = []
            for asm, parts in by_assembly.items():
                positive = {g: ks for g, ks in parts.items() if not g.startswith("-")}
                if len(positive) < 2:
                    continue
                major = max(sorted(positive), key=lambda g: float(np.mean(occ[positive[g]])))
                for g, ks in positive.items():
                    if g != major:
                        keep[ks] = False
                        dropped += [labels[k] for k in ks]
            warnings.append(f"disorder: {len(disordered)} site(s) in disorder groups "
                            f"{sorted({groups[k] for k in disordered})}; kept the major part of each assembly"
                            + (f", dropped {len(dropped)} minor site(s) ({', '.join(dropped[:6])})" if dropped else ""))
    partial = [labels[k] for k in range(n) if occ[k] < 0.999 and keep[k]]
    if partial:
        warnings.append(f"partial occupancy: {len(partial)} kept site(s) with occupancy < 1 "
                        f"({', '.join(partial[:6])}); overlapping alternatives are resolved by occupancy")
    return keep


def _symmetry(cif, warnings):
    """(space-group name, number, [(R, t), ...]) with None where not known."""
    from ase.spacegroup import Spacegroup
    from ase.spacegroup.spacegroup import parse_sitesym

    name = cif._get_spacegroup_name()
    number = cif._get_spacegroup_number()
    number = int(_num(number)) if _num(number) is not None else None
    name = str(name).strip() if name not in (None, "?", ".") else None
    sitesym = cif._get_sitesym()
    if sitesym:
        try:
            rots, trans = parse_sitesym([str(s) for s in sitesym])
            return name, number, list(zip(rots, trans))
        except Exception as exc:
            warnings.append(f"symmetry operators unreadable ({exc}); trying the space-group symbol")
    for key in (number, name):
        if key is None:
            continue
        try:
            sg = Spacegroup(key)
            return name or sg.symbol, number or sg.no, list(sg.get_symop())
        except Exception:
            continue
    warnings.append("no symmetry operators or recognisable space group: the sites are taken as the whole cell (P1)")
    return name, number, None


def _expand(sites: _Sites, ops, matrix, warnings) -> _Sites:
    """Apply the symmetry operators, drop coincident images (special positions), and resolve
    overlapping partial sites by occupancy."""
    if ops is None:
        ops = [(np.eye(3), np.zeros(3))]
    sym, frac, occ, lab = [], [], [], []
    for s, f, o, label in zip(sites.symbols, sites.coords, sites.occupancy, sites.labels):
        for rot, tr in ops:
            sym.append(s), occ.append(o), lab.append(label)
            frac.append((rot @ f + tr) % 1.0)
    frac = np.array(frac)
    occ = np.array(occ)
    keep = np.ones(len(sym), bool)
    order = np.argsort(-occ, kind="stable")          # higher occupancy wins an overlap
    dup = clash = 0
    for a_pos, a in enumerate(order):
        if not keep[a]:
            continue
        rest = order[a_pos + 1:]
        rest = rest[keep[rest]]
        if not len(rest):
            continue
        d = frac[rest] - frac[a]
        d -= np.round(d)
        dist = np.linalg.norm(d @ matrix, axis=1)
        for b, db in zip(rest[dist < 0.7], dist[dist < 0.7]):
            if db < 0.2 and sym[b] == sym[a]:
                keep[b] = False
                dup += 1
            elif occ[a] < 0.999 or occ[b] < 0.999:
                keep[b] = False
                clash += 1
    if clash:
        warnings.append(f"{clash} partially occupied site(s) overlapping a better-occupied one were dropped")
    if dup:
        log.debug("dropped %d symmetry duplicates (special positions)", dup)
    return _Sites([s for s, k in zip(sym, keep) if k], frac[keep], occ[keep], [x for x, k in zip(lab, keep) if k])


# ====================================================================== molecules
def _assemble(sites: _Sites, matrix, name, where, warnings, space_group=None, sg_number=None, n_ops=None,
              known_charges=None) -> Crystal:
    from ase.data import atomic_masses

    frags, cart = _fragments(sites, matrix, warnings)
    molecules, missing_h, unordered = [], 0, {}
    perceived: dict = {}  # bond orders by element graph: symmetry copies are perceived once
    for k, idx in enumerate(frags):
        charge = known_charges[k] if known_charges and k < len(known_charges) else 0
        mol, n_missing, problem = _to_molecule([sites.symbols[i] for i in idx], cart[k], f"{name}_{k + 1}", charge,
                                               perceived)
        molecules.append(mol)
        missing_h += n_missing
        if problem:
            unordered.setdefault(problem, []).append(mol.formula)
    for problem, formulas in unordered.items():
        warnings.append(f"bond orders not determined for {len(formulas)} molecule(s) "
                        f"({', '.join(sorted(set(formulas)))}: {problem}); kept their connectivity with single bonds")
    if missing_h:
        heavy = sum(1 for s in sites.symbols if s != "H")
        bound = " at most" if unordered else ""
        warnings.append(f"missing hydrogens:{bound} {missing_h} H atom(s) implied by valence are absent from the cell "
                        f"({sum(1 for s in sites.symbols if s == 'H')} H for {heavy} heavy atoms); "
                        "H-bond donors on those atoms cannot be seen and density is underestimated")
    crystal = Crystal(name=name, molecules=molecules, cell_matrix=matrix, space_group=space_group,
                      space_group_number=sg_number, n_symmetry_ops=n_ops, site_indices=[tuple(f) for f in frags],
                      warnings=warnings, source=where)
    keys = [graph_key(m) for m in molecules]
    counts = Counter(keys)
    crystal.unique_molecules = [molecules[keys.index(k)] for k in counts]
    crystal.composition = {molecules[keys.index(k)].formula: c for k, c in counts.items()}
    crystal.z = math.gcd(*counts.values()) if counts else 0
    if len(counts) > 1:
        warnings.append(f"{len(counts)} distinct species {crystal.composition}: Z counts formula units")
    if missing_h:
        crystal.flags.add("missing_hydrogens")
    for flag, word in (("disorder", "disorder:"), ("partial_occupancy", "partial"), ("truncated", "truncated")):
        if any(w.startswith(word) or word in w for w in warnings):
            crystal.flags.add(flag)
    if matrix is not None:
        vol = crystal.volume
        mass = float(sum(atomic_masses[ATOMIC_NUMBER[s]] * o for s, o in zip(sites.symbols, sites.occupancy)))
        crystal.density = mass * AMU_A3_TO_G_CM3 / vol
        if missing_h:
            corrected = (mass + missing_h * atomic_masses[1]) * AMU_A3_TO_G_CM3 / vol
            warnings.append(f"density {crystal.density:.3f} g/cm3 from the atoms present; "
                            f"{corrected:.3f} g/cm3 with the implied hydrogens")
        vols = {k: _vdw_volume(molecules[keys.index(k)]) for k in counts}
        crystal.packing_coefficient = sum(vols[k] * c for k, c in counts.items()) / vol
        _z_prime(crystal, keys)
    return crystal


def _fragments(sites: _Sites, matrix, warnings):
    """Connected atom sets and their unwrapped Cartesian coordinates (centroid inside the cell)."""
    from ase import Atoms
    from ase.data import covalent_radii
    from ase.neighborlist import neighbor_list

    n = len(sites.symbols)
    cutoffs = [covalent_radii[ATOMIC_NUMBER[s]] + BOND_TOLERANCE / 2 for s in sites.symbols]
    if matrix is not None:
        atoms = Atoms(sites.symbols, scaled_positions=sites.coords, cell=matrix, pbc=True)
    else:
        atoms = Atoms(sites.symbols, positions=sites.coords)
    ii, jj, ss = neighbor_list("ijS", atoms, cutoffs, self_interaction=False)
    adj = defaultdict(list)
    for i, j, s in zip(ii, jj, ss):
        if sites.symbols[i] == "H" and sites.symbols[j] == "H":
            continue
        adj[i].append((j, s))
    shift = np.full((n, 3), np.iinfo(np.int32).min)
    frags, out, polymeric = [], [], 0
    frac = sites.coords
    for start in range(n):
        if shift[start, 0] != np.iinfo(np.int32).min:
            continue
        shift[start] = 0
        queue, members = deque([start]), [start]
        while queue:
            i = queue.popleft()
            for j, s in adj[i]:
                target = shift[i] + s
                if shift[j, 0] == np.iinfo(np.int32).min:
                    shift[j] = target
                    members.append(j)
                    queue.append(j)
                elif matrix is not None and not np.array_equal(shift[j], target):
                    polymeric += 1
        members.sort()
        if matrix is None:
            xyz = frac[members]
        else:
            f = frac[members] + shift[members]
            f -= np.floor(f.mean(axis=0))
            xyz = f @ matrix
        frags.append(members)
        out.append(xyz)
    if polymeric:
        warnings.append("covalent network: some bonded sets connect to their own periodic images "
                        "(a polymer, or atoms wrongly bonded through disorder); each is cut at the cell")
    return frags, out


def _to_molecule(symbols, xyz, name, charge, perceived: dict | None = None) -> tuple[Molecule, int, str]:
    """A Molecule with RDKit bond orders on our connectivity: (molecule, implied missing H,
    why bond orders failed or ''). ``perceived`` caches the perception by element graph, so the
    symmetry copies of a molecule reuse the first copy's bond orders (xyz2mol takes 30 s on CL-20)."""
    rdkit_quiet()
    n = len(symbols)
    pairs = _covalent_pairs(symbols, xyz)
    ranks, key = _canonical_graph(symbols, pairs)
    cache_key = (key, charge)
    if perceived is not None and cache_key in perceived:
        by_rank, fc_by_rank, missing, problem = perceived[cache_key]
    else:
        orders, fc_local, missing, problem = _perceive_bond_orders(symbols, xyz, pairs, charge)
        by_rank = {tuple(sorted((ranks[i], ranks[j]))): o for (i, j), o in orders.items()}
        fc_by_rank = {ranks[i]: q for i, q in enumerate(fc_local)}
        if perceived is not None:
            perceived[cache_key] = (by_rank, fc_by_rank, missing, problem)
    ordered = not problem
    bonds = tuple(sorted((i, j, by_rank[tuple(sorted((ranks[i], ranks[j])))]) for i, j in pairs))
    fc = tuple(fc_by_rank[ranks[i]] for i in range(n)) if ordered else (0,) * n
    q = sum(fc) if ordered else charge
    electrons = sum(ATOMIC_NUMBER[s] for s in symbols) - q
    try:
        molecule = Molecule(name=name, symbols=tuple(symbols), coords_angstrom=xyz, bonds=bonds,
                            formal_charges=fc, charge=q, multiplicity=1 + electrons % 2)
    except ValueError as exc:
        raise MoleculeError(f"{name}: {exc}") from None
    return molecule, missing, problem


def _covalent_pairs(symbols, xyz) -> list[tuple[int, int]]:
    """Bonded atom pairs (i < j): within the covalent-radius sum + BOND_TOLERANCE, no H-H."""
    from ase.data import covalent_radii

    d = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    r = np.array([covalent_radii[ATOMIC_NUMBER[s]] for s in symbols])
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(d < r[:, None] + r[None] + BOND_TOLERANCE, 1)))
            if not (symbols[i] == "H" and symbols[j] == "H")]


def _canonical_graph(symbols, pairs) -> tuple[list[int], tuple]:
    """Canonical atom ranks of the element graph and a key equal for isomorphic graphs (so
    ranks map one copy's atoms onto another's)."""
    from rdkit import Chem

    rw = Chem.RWMol()
    for s in symbols:
        atom = Chem.Atom(s)
        atom.SetNoImplicit(True)
        rw.AddAtom(atom)
    for i, j in pairs:
        rw.AddBond(i, j, Chem.BondType.SINGLE)
    graph = rw.GetMol()
    graph.UpdatePropertyCache(strict=False)
    ranks = list(Chem.CanonicalRankAtoms(graph, breakTies=True))
    nbrs = defaultdict(list)
    for i, j in pairs:
        nbrs[ranks[i]].append(ranks[j])
        nbrs[ranks[j]].append(ranks[i])
    by_rank = {r: symbols[i] for i, r in enumerate(ranks)}
    return ranks, tuple((by_rank[r], tuple(sorted(nbrs[r]))) for r in range(len(symbols)))


def _nitro_groups(symbols, pairs) -> list[tuple[int, int, int]]:
    """(N, O, O) of each nitro group: an N with three neighbours, two of them terminal O. Its
    bond orders are fixed (N+ with one N=O and one N-O-), so xyz2mol need not enumerate them."""
    nbrs = defaultdict(list)
    for i, j in pairs:
        nbrs[i].append(j)
        nbrs[j].append(i)
    out = []
    for n_atom, partners in nbrs.items():
        if symbols[n_atom] != "N" or len(partners) != 3:
            continue
        oxygens = sorted(o for o in partners if symbols[o] == "O" and len(nbrs[o]) == 1)
        if len(oxygens) == 2:
            out.append((n_atom, *oxygens))
    return out


def _perceive_bond_orders(symbols, xyz, pairs, charge, nitro=None):
    """({(i, j): order}, formal charges, implicit H count, problem or '') by RDKit's
    DetermineBondOrders on the connectivity. Nitro groups are set first and each is replaced by an
    H on its N's site, which leaves xyz2mol the same valence problem without their resonance
    combinations (CL-20's twelve nitro oxygens took it 29 s per molecule)."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds
    from rdkit.Geometry import Point3D

    nitro = _nitro_groups(symbols, pairs) if nitro is None else nitro
    dropped = {o for _, o1, o2 in nitro for o in (o1, o2)}
    capped = {n_atom for n_atom, _, _ in nitro}
    keep = [i for i in range(len(symbols)) if i not in dropped]
    index = {old: new for new, old in enumerate(keep)}
    rw = Chem.RWMol()
    for i in keep:
        rw.AddAtom(Chem.Atom("H" if i in capped else symbols[i]))
    for i, j in pairs:
        if i in index and j in index:
            rw.AddBond(index[i], index[j], Chem.BondType.SINGLE)
    mol = rw.GetMol()
    conf = Chem.Conformer(len(keep))
    for new, old in enumerate(keep):
        conf.SetAtomPosition(new, Point3D(*map(float, xyz[old])))
    mol.AddConformer(conf, assignId=True)
    try:
        rdDetermineBonds.DetermineBondOrders(mol, charge=charge, allowChargedFragments=True, embedChiral=False)
        Chem.Kekulize(mol, clearAromaticFlags=True)
    except Exception as exc:
        if nitro:  # the presets did not fit: the whole problem, as xyz2mol alone would see it
            return _perceive_bond_orders(symbols, xyz, pairs, charge, nitro=[])
        problem = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        probe = rw.GetMol()  # single bonds: the hydrogens that valence implies are missing
        probe.UpdatePropertyCache(strict=False)
        missing = sum(a.GetNumImplicitHs() for a in probe.GetAtoms())
        return {pair: 1 for pair in pairs}, [0] * len(symbols), missing, problem
    orders, fc = {}, [0] * len(symbols)
    missing = 0
    for new, old in enumerate(keep):
        atom = mol.GetAtomWithIdx(new)
        if old not in capped:
            fc[old] = atom.GetFormalCharge()
            missing += atom.GetNumImplicitHs()
    for bond in mol.GetBonds():
        i, j = keep[bond.GetBeginAtomIdx()], keep[bond.GetEndAtomIdx()]
        orders[(min(i, j), max(i, j))] = max(1, min(3, int(round(bond.GetBondTypeAsDouble()))))
    for n_atom, o1, o2 in nitro:
        # the shorter N-O is the double bond (the two are equal by resonance; either is a valid Kekule form)
        double, single = sorted((o1, o2), key=lambda o: (float(np.linalg.norm(xyz[o] - xyz[n_atom])), o))
        orders[(min(n_atom, double), max(n_atom, double))] = 2
        orders[(min(n_atom, single), max(n_atom, single))] = 1
        fc[n_atom], fc[single] = 1, -1
    return orders, fc, missing, ""



def _vdw_volume(mol: Molecule, spacing: float = 0.2) -> float:
    """Volume (Å3) of the union of Bondi spheres on a grid, H positions normalised. Each sphere
    marks only the grid block around it (the same points as testing the whole grid, 10x faster)."""
    xyz = normalised_coords(mol)
    radii = np.array([vdw_radius(s) for s in mol.symbols])
    lo, hi = xyz.min(axis=0) - radii.max(), xyz.max(axis=0) + radii.max()
    axes = [np.arange(a + spacing / 2, b, spacing) for a, b in zip(lo, hi)]
    inside = np.zeros([len(ax) for ax in axes], bool)
    for p, r in zip(xyz, radii):
        block = []
        for ax, c in zip(axes, p):
            first, last = np.searchsorted(ax, c - r), np.searchsorted(ax, c + r, side="right")
            block.append(slice(first, last))
        dx, dy, dz = ((ax[s] - c) ** 2 for ax, s, c in zip(axes, block, p))
        inside[tuple(block)] |= (dx[:, None, None] + dy[None, :, None] + dz[None, None, :]) < r * r
    return float(inside.sum()) * spacing ** 3


def _z_prime(crystal: Crystal, keys: list[str]) -> None:
    ops = crystal.n_symmetry_ops
    if not ops:
        return
    if ops == 1 and crystal.z > 1 and _all_congruent(crystal.molecules, keys):
        crystal.warnings.append(
            f"the structure is in P1 but its {len(crystal.molecules)} molecules are congruent: probably a "
            "symmetry-expanded cell, so Z' and the true space group are not known")
        return
    crystal.z_prime = round(crystal.z / ops, 3)


def _all_congruent(molecules: list[Molecule], keys: list[str], tol: float = 0.15) -> bool:
    """Whether every molecule matches the first of its species after rotation or reflection."""
    first: dict[str, Molecule] = {}
    for mol, key in zip(molecules, keys):
        ref = first.setdefault(key, mol)
        if ref is not mol and _best_rmsd(ref, mol) > tol:
            return False
    return True


def _best_rmsd(a: Molecule, b: Molecule) -> float:
    """Smallest RMSD (Å) of b onto a over the element-graph matches, mirror images allowed."""
    pa, pb = element_graph(a), element_graph(b)
    best = math.inf
    for match in pb.GetSubstructMatches(pa, uniquify=False, maxMatches=48):
        best = min(best, superposed_rmsd(a.coords, b.coords[list(match)], reflection=True))
    return best


def _check_formula(cif, crystal: Crystal) -> None:
    """Compare the H count of _chemical_formula_sum x Z with the hydrogens in the cell."""
    formula, z = cif.get("_chemical_formula_sum"), _num(cif.get("_cell_formula_units_z"))
    if not formula or not z:
        return
    m = re.search(r"\bH\s*(\d*\.?\d*)", str(formula))
    expected = (float(m.group(1)) if m and m.group(1) else (1.0 if m else 0.0)) * z
    found = sum(s == "H" for mol in crystal.molecules for s in mol.symbols)
    if abs(expected - found) > 0.5:
        crystal.warnings.append(f"_chemical_formula_sum x Z gives {expected:g} H per cell but {found} H atoms were read")
        if found < expected:
            crystal.flags.add("missing_hydrogens")


# ====================================================================== swap experiment
def swap_into_packing(crystal: Crystal, molecule: Molecule, scale_cell: bool = True) -> tuple[list[Molecule], np.ndarray]:
    """Put ``molecule`` at every molecular site of ``crystal`` (the "swap" experiment).

    Each site's molecule and ``molecule`` are matched on their maximum common heavy-atom
    skeleton (any element: a C-I maps onto a C-Cl), and ``molecule`` is superposed on
    the site by those atoms (Kabsch). With ``scale_cell`` the cell is scaled isotropically
    by the ratio of the molecules' van der Waals volumes, keeping the packing coefficient,
    so a bigger molecule is not forced into a too-small cell before relaxation.

    Returns the placed molecules and the (scaled) cell matrix; relax them before comparing
    lattice energies.
    """
    from rdkit import Chem
    from rdkit.Chem import rdFMCS

    if crystal.cell_matrix is None:
        raise MoleculeError(f"{crystal.name}: no cell, so no packing to swap into")
    new_heavy = Chem.RemoveHs(molecule.to_rdkit())
    factor = (_vdw_volume(molecule) / _vdw_volume(crystal.molecules[0])) ** (1 / 3) if scale_cell else 1.0
    cell = crystal.cell_matrix * factor
    placed = []
    for k, site in enumerate(crystal.molecules):
        site_heavy = Chem.RemoveHs(site.to_rdkit())
        mcs = rdFMCS.FindMCS([site_heavy, new_heavy], atomCompare=rdFMCS.AtomCompare.CompareAny,
                             bondCompare=rdFMCS.BondCompare.CompareAny, ringMatchesRingOnly=True, timeout=10)
        if mcs.numAtoms < 3:
            raise MoleculeError(f"{molecule.label} and {site.label} share fewer than 3 skeleton atoms: "
                                "no sensible superposition")
        pattern = Chem.MolFromSmarts(mcs.smartsString)
        site_idx = _heavy_to_full(site, site_heavy.GetSubstructMatch(pattern))
        new_idx = _heavy_to_full(molecule, new_heavy.GetSubstructMatch(pattern))
        # The site's centroid moves with the scaled cell (same fractional position).
        target = site.coords[site_idx] - site.coords.mean(0) + site.coords.mean(0) @ np.linalg.inv(crystal.cell_matrix) @ cell
        rotation, shift = kabsch(molecule.coords[new_idx], target)
        placed.append(molecule.with_coords(molecule.coords @ rotation.T + shift).model_copy(
            update={"name": f"{molecule.label}@{crystal.name}#{k}"}))
    return placed, cell


def _heavy_to_full(mol: Molecule, heavy_match) -> list[int]:
    """Indices in the full molecule (with H) of atoms matched in its heavy-atom graph."""
    heavy = [i for i, s in enumerate(mol.symbols) if s != "H"]
    return [heavy[i] for i in heavy_match]
