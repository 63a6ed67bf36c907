"""Structural features of one molecule, as comparable values: two molecules with equal values
share the feature (the hypothesis library rejects a cause the target shares with an analog).

Each function takes a :class:`Molecule` and returns a string, an int or a bool; '' or 0 means
the feature is absent.
"""

from __future__ import annotations

from .elements import SIGMA_HOLE_HALOGENS
from .molecule import Molecule


def heavy_halogen_feature(m: Molecule) -> str:
    """The heaviest C-bound Cl/Br/I and how many there are, e.g. 'I x2'; '' if none."""
    nb = m.neighbours()
    for el in SIGMA_HOLE_HALOGENS:          # heaviest first
        n = sum(1 for i, s in enumerate(m.symbols) if s == el and any(m.symbols[j] == "C" for j in nb[i]))
        if n:
            return f"{el} x{n}"
    return ""


def _polar_hydrogens(m: Molecule) -> list[tuple[int, int]]:
    """(H, donor atom) for every H bonded to N or O (chem.hbonds, the one definition)."""
    from .hbonds import polar_hydrogens

    return polar_hydrogens(m)


def polar_hydrogen_count(m: Molecule) -> int:
    """Polar hydrogens (H bonded to N or O): each can donate one H-bond, so NH2 counts 2 where RDKit's
    NumHDonors counts 1 donor atom (primary amide 2, N-methyl 1, N,N-dimethyl 0)."""
    return len(_polar_hydrogens(m))


def donor_feature(m: Molecule) -> str:
    """Polar hydrogens by donor element, e.g. 'O-H x1'; '' if none."""
    counts: dict[str, int] = {}
    for _, donor in _polar_hydrogens(m):
        key = f"{m.symbols[donor]}-H"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))


def rotor_feature(m: Molecule) -> int:
    """Rotatable bonds (RDKit Lipinski definition, heavy-atom graph)."""
    from rdkit.Chem import Lipinski, RemoveHs

    return int(Lipinski.NumRotatableBonds(RemoveHs(m.to_rdkit())))


def intramolecular_pair_feature(m: Molecule) -> int:
    """Donor H / acceptor pairs placed to close a 5- or 6-membered H-bonded ring (A 3-4 bonds from D,
    acceptors as :mod:`chem.hbonds` defines them: O, F, N with a free lone pair)."""
    from .hbonds import ring_closing_triples

    return len(ring_closing_triples(m))


def tautomer_feature(m: Molecule) -> int:
    """Number of tautomers the RDKit enumerator finds."""
    from rdkit import Chem
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return len(rdMolStandardize.TautomerEnumerator().Enumerate(Chem.RemoveHs(m.to_rdkit())))


def is_aromatic(m: Molecule) -> bool:
    """Whether the molecule has an aromatic ring."""
    from rdkit.Chem import rdMolDescriptors

    return rdMolDescriptors.CalcNumAromaticRings(m.to_rdkit()) > 0


def has_n_o_or_s(m: Molecule) -> bool:
    """Whether the molecule has an N, O or S atom (a possible halogen-bond acceptor)."""
    return any(s in ("N", "O", "S") for s in m.symbols)
