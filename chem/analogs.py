"""Confirmatory analogs: molecules generated from a target that would test a hypothesis.

``generate_analogs`` applies a fixed set of medicinal-chemistry edits to the target
(each an RDKit atom edit on the sanitised molecule, never a hard-coded list of
products), keeps the products that sanitise, removes duplicates (canonical SMILES and
InChIKey), drops anything already in the series, honours element exclusions and
returns at most ``max_candidates``, picked round-robin over the transformations so
that no single edit crowds out the others.

Transformations (the ``transformation`` id of an :class:`Analog`):

``replace_halogen``
    A halogen becomes another halogen (heavier or lighter) or H: one symmetry class at
    a time and all atoms of that element at once (I→Br gives 1-bromo-4-iodobenzene and
    1,4-dibromobenzene). Tunes or removes the sigma hole.
``replace_substituent``
    The chloro–methyl exchange (halogen Cl/Br/I → CH3, and aryl CH3 → Cl/Br): a methyl group
    has about the volume of Cl/Br but cannot donate a halogen bond, so it separates a
    halogen bond from a purely steric role (Desiraju and co-workers).
``fluorinate_ortho_to_halogen``
    F on the aromatic CH positions ortho to a Cl/Br/I (each single position, both
    ortho positions of one halogen, all ortho positions of all of them) and the
    perfluorinated ring: electron withdrawal deepens the sigma hole (C6F4I2, C6F5I).
``swap_substituent_position``
    A ring substituent moves to another aromatic CH of its ring (para→meta/ortho), or
    two different substituents of one ring exchange places: same composition, other
    geometry.
``block_donor``
    N-, O- or S-methylation of each X–H donor (a carboxylic acid becomes its methyl
    ester), and all donors at once.
``ring_ch_to_n``
    Each symmetry-unique aromatic CH becomes aromatic N (aza analog).
``rigidify_rotor``
    A rotatable ring–substituent bond ``ring–X–Y`` is tied back to the free ortho CH
    through one CH2, giving a fused five-membered ring (anisole → 2,3-dihydrobenzofuran,
    benzoic acid → phthalide, biphenyl → fluorene). Applied only when both ends carry
    an H to give up; nothing else is attempted, because more ambitious ring closures
    often give strained or unrealistic products.

Each analog carries its RDKit SA score (Ertl & Schuffenhauer, J. Cheminf. 1, 8 (2009);
1 easy … 10 hard), heavy-atom count and molecular weight for ranking; the agent
scores the hypotheses' discrimination separately.

Names: substituted benzenes, benzoic acids/esters, phenols, anilines, benzaldehydes
and pyridines with simple substituents get an IUPAC-style name (lowest locants, then
the alphabetically first prefix lowest, e.g. ``1,2,4,5-tetrafluoro-3,6-diiodobenzene``,
``methyl 4-iodobenzoate``, ``2,5-diiodopyridine``); anything else gets a generated
name that says what changed (``target: I→Br at atom 0``, atoms numbered from 0 in the
order of the target SMILES).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from functools import lru_cache
from typing import Callable, Iterable, Iterator

from pydantic import BaseModel, ConfigDict

from .elements import ATOMIC_NUMBER, HALOGENS, SIGMA_HOLE_HALOGENS
from .errors import MoleculeError
from .molecule import Molecule, parse_smiles

TRANSFORMATIONS = (
    "replace_halogen",
    "fluorinate_ortho_to_halogen",
    "replace_substituent",
    "ring_ch_to_n",
    "block_donor",
    "swap_substituent_position",
    "rigidify_rotor",
)

# Halogens lightest first: the rank orders sigma-hole depth, and ties in the order of
# replacements go to the lighter halogen.
_LIGHTEST_FIRST = HALOGENS[::-1]
_HALOGEN_RANK = {s: k for k, s in enumerate(_LIGHTEST_FIRST)}

# Where SA scores come from: "rdkit-contrib" (sascorer) or "fallback" (see _sa_fallback).
SA_SCORE_SOURCE: str | None = None


class Analog(BaseModel):
    """One generated candidate molecule and what it would test."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    smiles: str  # canonical RDKit SMILES
    inchikey: str
    name: str
    transformation: str  # one of TRANSFORMATIONS
    description: str  # one sentence: what changed, and why that is informative
    sa_score: float  # synthetic accessibility, 1 (easy) … 10 (hard)
    heavy_atoms: int
    molecular_weight: float  # g/mol, average isotopic masses

    def to_molecule(self) -> Molecule:
        """The analog as a 3-D :class:`Molecule` (embedded on demand)."""
        return Molecule.from_smiles(self.smiles, name=self.name)


# =================================================================== public API
ANALOGS_RECIPE = "1"  # bump when an edit or the scoring changes what generate_analogs returns


def generate_analogs(
    target_smiles: str,
    series_smiles: Iterable[str] = (),
    exclude_elements: Iterable[str] = frozenset(),
    max_candidates: int = 50,
    cache_dir: str | os.PathLike | None = None,
) -> list[Analog]:
    """Confirmatory analogs of ``target_smiles``: valid, unique, new and allowed.

    ``series_smiles`` are molecules already in hand (dropped if generated);
    ``exclude_elements`` are element symbols no candidate may contain (``{"I"}`` is a
    scientist's "no iodine"); at most ``max_candidates`` are returned, chosen
    round-robin over the transformations in the order of ``TRANSFORMATIONS``.
    ``cache_dir``: where a pool is kept by its inputs (with RDKit's version), so that a
    re-run reads it instead of scoring every candidate again (the SA table alone takes ~2 s).
    """
    if isinstance(series_smiles, str):  # one SMILES given instead of a list
        series_smiles = [series_smiles]
    series_smiles = list(series_smiles)
    exclude_elements = sorted(exclude_elements)
    if cache_dir is None:
        return _generate_analogs(target_smiles, series_smiles, exclude_elements, max_candidates)
    import hashlib
    import json
    from importlib.metadata import version
    from pathlib import Path

    inputs = [target_smiles, series_smiles, exclude_elements, max_candidates, version("rdkit"), ANALOGS_RECIPE]
    key = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:32]
    path = Path(cache_dir) / f"analogs-{key}.json"
    if path.exists():
        return [Analog.model_validate(a) for a in json.loads(path.read_text())]
    out = _generate_analogs(target_smiles, series_smiles, exclude_elements, max_candidates)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps([a.model_dump() for a in out]))
    os.replace(tmp, path)  # whole or absent, with writers side by side
    return out


def _generate_analogs(target_smiles: str, series_smiles: list[str], exclude_elements: list[str],
                      max_candidates: int) -> list[Analog]:
    from rdkit import Chem

    if max_candidates < 0:
        raise ValueError(f"max_candidates must be >= 0, not {max_candidates}")
    excluded = _normalise_elements(exclude_elements)
    target = parse_smiles(target_smiles, "target")
    target_key = _identity(target)
    known = {target_key}
    for k, smi in enumerate(series_smiles):
        known.add(_identity(parse_smiles(smi, f"series member {k + 1}")))
    target_name = name_molecule(target) or "target"

    per_transformation: dict[str, list[Analog]] = defaultdict(list)
    seen: set[tuple[str, str]] = set(known)
    seen_smiles = {key[0] for key in seen}
    seen_keys = {key[1] for key in seen}
    for transformation, product, detail, description in _all_edits(target):
        mol = _finish(product)
        if mol is None:
            continue
        smiles, key = _identity(mol)
        if smiles in seen_smiles or key in seen_keys:
            continue
        seen_smiles.add(smiles)
        seen_keys.add(key)
        if excluded and excluded & {a.GetSymbol() for a in Chem.AddHs(mol).GetAtoms()}:
            continue
        per_transformation[transformation].append(
            _make_analog(mol, smiles, key, transformation, detail, description, target_name)
        )

    out: list[Analog] = []
    queues = [list(reversed(per_transformation[t])) for t in TRANSFORMATIONS]
    while len(out) < max_candidates and any(queues):
        for queue in queues:
            if queue and len(out) < max_candidates:
                out.append(queue.pop())
    return out


def sa_score(mol_or_smiles) -> float:
    """Synthetic-accessibility score (1 easy … 10 hard) of an RDKit Mol or a SMILES.

    Uses RDKit's Contrib ``sascorer`` (Ertl & Schuffenhauer 2009). Where a wheel ships
    without Contrib, a documented fallback is used instead (``SA_SCORE_SOURCE`` says
    which): the same complexity penalties without the fragment-frequency term.
    """
    from rdkit import Chem

    mol = Chem.MolFromSmiles(mol_or_smiles) if isinstance(mol_or_smiles, str) else mol_or_smiles
    if mol is None:
        raise MoleculeError(f"invalid SMILES {mol_or_smiles!r}")
    scorer = _sascorer()
    if scorer is not None:
        return round(float(scorer.calculateScore(mol)), 3)
    return round(_sa_fallback(mol), 3)


# ============================================================ RDKit helpers
@lru_cache(maxsize=1)
def _sascorer():
    """The Contrib sascorer module, or None (then the fallback is used)."""
    global SA_SCORE_SOURCE
    from rdkit import RDConfig

    path = os.path.join(RDConfig.RDContribDir, "SA_Score")
    if os.path.isfile(os.path.join(path, "sascorer.py")):
        if path not in sys.path:
            sys.path.append(path)
        try:
            import sascorer  # type: ignore[import-not-found]

            SA_SCORE_SOURCE = "rdkit-contrib"
            return sascorer
        except Exception:  # a broken Contrib install: use the fallback
            pass
    SA_SCORE_SOURCE = "fallback"
    return None


def _sa_fallback(mol) -> float:
    """Complexity part of the SA score (size, stereo, spiro/bridgehead, macrocycles).

    Without the fragment-frequency term this is only a rough guide; it maps a benzene
    derivative to about 1-2 and penalises what the real score penalises.
    """
    import math

    from rdkit import Chem
    from rdkit.Chem import rdMolDescriptors

    n = mol.GetNumAtoms()
    chiral = len(Chem.FindMolChiralCenters(mol, includeUnassigned=True))
    spiro = rdMolDescriptors.CalcNumSpiroAtoms(mol)
    bridge = rdMolDescriptors.CalcNumBridgeheadAtoms(mol)
    macro = sum(1 for ring in mol.GetRingInfo().AtomRings() if len(ring) > 8)
    penalty = (n**1.005 - n) + math.log10(chiral + 1) + math.log10(spiro + 1)
    penalty += math.log10(bridge + 1) + (math.log10(2) if macro else 0.0)
    raw = 1.0 + penalty + 0.05 * n
    return min(10.0, max(1.0, raw))


def _normalise_elements(elements: Iterable[str]) -> frozenset[str]:
    out = set()
    for e in elements or ():
        symbol = str(e).strip().capitalize()
        if symbol not in ATOMIC_NUMBER:
            raise MoleculeError(f"exclude_elements: unknown element symbol {e!r}")
        out.add(symbol)
    return frozenset(out)


def _identity(mol) -> tuple[str, str]:
    from rdkit import Chem

    smiles = Chem.MolToSmiles(mol)
    key = Chem.MolToInchiKey(mol) or smiles
    return smiles, key


def _finish(rw):
    """Sanitise an edited molecule; None if it is not one valid closed-shell molecule."""
    from rdkit import Chem

    try:
        mol = rw.GetMol()
        mol.UpdatePropertyCache(strict=False)
        Chem.SanitizeMol(mol)
        smiles = Chem.MolToSmiles(mol)
        again = Chem.MolFromSmiles(smiles)  # round trip: kekulisable, valences valid
    except Exception:
        return None
    if again is None or len(Chem.GetMolFrags(again)) != 1:
        return None
    if any(a.GetNumRadicalElectrons() for a in again.GetAtoms()):
        return None
    return again


def _make_analog(mol, smiles, key, transformation, detail, description, target_name) -> Analog:
    from rdkit.Chem import Descriptors

    name = name_molecule(mol) or f"{target_name}: {detail}"
    return Analog(
        smiles=smiles,
        inchikey=key,
        name=name,
        transformation=transformation,
        description=description,
        sa_score=sa_score(mol),
        heavy_atoms=mol.GetNumHeavyAtoms(),
        molecular_weight=round(Descriptors.MolWt(mol), 3),
    )


def _rw(mol):
    from rdkit import Chem

    return Chem.RWMol(mol)


def _take_h(atom) -> None:
    """The atom loses one hydrogen (it gains a bond)."""
    if atom.GetNumExplicitHs():
        atom.SetNumExplicitHs(atom.GetNumExplicitHs() - 1)
    atom.SetChiralTag(atom.GetChiralTag().__class__.CHI_UNSPECIFIED)


def _give_h(atom) -> None:
    """The atom gains one hydrogen (it loses a bond)."""
    if atom.GetNoImplicit() or atom.GetNumExplicitHs():
        atom.SetNumExplicitHs(atom.GetNumExplicitHs() + 1)
    atom.SetChiralTag(atom.GetChiralTag().__class__.CHI_UNSPECIFIED)


def _set_element(atom, symbol: str) -> None:
    atom.SetAtomicNum(ATOMIC_NUMBER[symbol])
    atom.SetNumExplicitHs(0)
    atom.SetNoImplicit(False)
    atom.SetFormalCharge(0)
    if symbol in HALOGENS:
        atom.SetIsAromatic(False)


def _add_atom(rw, symbol: str, to: int) -> int:
    from rdkit import Chem

    idx = rw.AddAtom(Chem.Atom(ATOMIC_NUMBER[symbol]))
    rw.AddBond(to, idx, Chem.BondType.SINGLE)
    _take_h(rw.GetAtomWithIdx(to))
    return idx


def _symmetry_representatives(mol, indices: Iterable[int]) -> list[int]:
    """One atom per symmetry class (RDKit canonical ranks without tie breaking)."""
    from rdkit import Chem

    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    seen, out = set(), []
    for i in indices:
        if ranks[i] not in seen:
            seen.add(ranks[i])
            out.append(i)
    return out


def _aromatic_ch(atom) -> bool:
    return atom.GetIsAromatic() and atom.GetSymbol() == "C" and atom.GetTotalNumHs() >= 1


def _ring_substituents(mol):
    """(ring atom, substituent atom) pairs for single, non-ring bonds leaving an aromatic ring."""
    from rdkit import Chem

    out = []
    for bond in mol.GetBonds():
        if bond.IsInRing() or bond.GetBondType() != Chem.BondType.SINGLE:
            continue
        for a, b in ((bond.GetBeginAtom(), bond.GetEndAtom()), (bond.GetEndAtom(), bond.GetBeginAtom())):
            if a.GetIsAromatic() and a.IsInRing():
                out.append((a.GetIdx(), b.GetIdx()))
    return out


def _label(mol, idx: int) -> str:
    return f"{mol.GetAtomWithIdx(idx).GetSymbol()}{idx}"


# ============================================================ transformations
Edit = tuple[str, object, str, str]  # (transformation, RWMol, short detail, description)


def _all_edits(mol) -> Iterator[Edit]:
    generators: tuple[Callable[[object], Iterator[Edit]], ...] = (
        _replace_halogen,
        _fluorinate,
        _replace_substituent,
        _ring_ch_to_n,
        _block_donor,
        _swap_position,
        _rigidify,
    )
    for gen in generators:
        yield from gen(mol)


def _halogen_reason(old: str, new: str) -> str:
    if new == "H":
        return "removes the halogen altogether, the baseline without any halogen contact"
    if new == "F":
        return "fluorine has practically no sigma hole, so it keeps a halogen's place and polarity but not its halogen-bond donor ability"
    if _HALOGEN_RANK[new] < _HALOGEN_RANK[old]:
        return f"a lighter halogen has a smaller, shallower sigma hole, so a halogen-bond-driven effect should weaken in the order I > Br > Cl while dispersion and size change more smoothly"
    return f"a heavier halogen has a larger, deeper sigma hole, so a halogen-bond-driven effect should strengthen in the order Cl < Br < I"


def _replace_halogen(mol) -> Iterator[Edit]:
    halogens = [a.GetIdx() for a in mol.GetAtoms() if a.GetSymbol() in HALOGENS and a.GetDegree() == 1]
    by_element: dict[str, list[int]] = defaultdict(list)
    for i in halogens:
        by_element[mol.GetAtomWithIdx(i).GetSymbol()].append(i)
    for old, sites in by_element.items():
        groups = [[i] for i in _symmetry_representatives(mol, sites)]
        if len(sites) > 1:
            groups.append(sites)
        swaps = sorted((h for h in _LIGHTEST_FIRST if h != old),
                       key=lambda h: (h == "F", abs(_HALOGEN_RANK[h] - _HALOGEN_RANK[old])))
        for new in swaps + ["H"]:
            for group in groups:
                rw = _rw(mol)
                for i in sorted(group, reverse=True):
                    if new == "H":
                        _give_h(rw.GetAtomWithIdx(rw.GetAtomWithIdx(i).GetNeighbors()[0].GetIdx()))
                        rw.RemoveAtom(i)
                    else:
                        _set_element(rw.GetAtomWithIdx(i), new)
                where = "all " + old if len(group) > 1 else f"atom {group[0]}"
                detail = f"{old}→{new} at {where}"
                what = f"every {old}" if len(group) > 1 else f"the {old} at atom {group[0]}"
                description = f"Replaces {what} by {new}: {_halogen_reason(old, new)}."
                yield "replace_halogen", rw, detail, description


def _fluorinate(mol) -> Iterator[Edit]:
    donors = [a for a in mol.GetAtoms() if a.GetSymbol() in SIGMA_HOLE_HALOGENS and a.GetDegree() == 1
              and a.GetNeighbors()[0].GetIsAromatic()]
    if not donors:
        return
    ortho: dict[int, list[int]] = {}
    for x in donors:
        ipso = x.GetNeighbors()[0]
        ortho[x.GetIdx()] = [n.GetIdx() for n in ipso.GetNeighbors() if _aromatic_ch(n)]
    why = ("electron withdrawal next to the halogen deepens its sigma hole (as in C6F4I2 or C6F5I, much "
           "stronger halogen-bond donors than their H analogs) with little change in shape, so a "
           "halogen-bond-driven effect should strengthen")
    site_sets: list[tuple[tuple[int, ...], str]] = []
    singles = _symmetry_representatives(mol, sorted({c for cs in ortho.values() for c in cs}))
    site_sets += [((c,), f"F at atom {c}, ortho to the halogen") for c in singles]
    for x, cs in ortho.items():
        if len(cs) > 1:
            site_sets.append((tuple(cs), f"F on both positions ortho to atom {x} ({mol.GetAtomWithIdx(x).GetSymbol()})"))
    all_ortho = tuple(sorted({c for cs in ortho.values() for c in cs}))
    if all_ortho:
        site_sets.append((all_ortho, "F on every position ortho to a halogen"))
    ring_info = mol.GetRingInfo()
    for x in donors:
        ipso = x.GetNeighbors()[0].GetIdx()
        for ring in ring_info.AtomRings():
            if ipso in ring:
                chs = tuple(i for i in ring if _aromatic_ch(mol.GetAtomWithIdx(i)))
                if chs:
                    site_sets.append((chs, f"ring bearing atom {x.GetIdx()} perfluorinated"))
    done = set()
    for sites, detail in site_sets:
        if sites in done:
            continue
        done.add(sites)
        rw = _rw(mol)
        for c in sites:
            _add_atom(rw, "F", c)
        n = len(sites)
        what = "one fluorine" if n == 1 else f"{n} fluorines"
        yield "fluorinate_ortho_to_halogen", rw, detail, f"Adds {what} ({detail}): {why}."


_VOLUME_NOTE = {
    "Cl": "of about the same volume",
    "Br": "of about the same volume",
    "I": "somewhat smaller",
}


def _replace_substituent(mol) -> Iterator[Edit]:
    halogens = [a.GetIdx() for a in mol.GetAtoms()
                if a.GetSymbol() in SIGMA_HOLE_HALOGENS and a.GetDegree() == 1 and a.GetNeighbors()[0].GetSymbol() == "C"]
    by_element: dict[str, list[int]] = defaultdict(list)
    for i in halogens:
        by_element[mol.GetAtomWithIdx(i).GetSymbol()].append(i)
    for old, sites in by_element.items():
        groups = [[i] for i in _symmetry_representatives(mol, sites)] + ([sites] if len(sites) > 1 else [])
        for group in groups:
            rw = _rw(mol)
            for i in group:
                _set_element(rw.GetAtomWithIdx(i), "C")
            where = "all " + old if len(group) > 1 else f"atom {group[0]}"
            description = (
                f"Replaces {'every ' + old if len(group) > 1 else 'the ' + old + ' at atom ' + str(group[0])} by a "
                f"methyl group {_VOLUME_NOTE[old]} (chloro-methyl exchange): CH3 cannot donate a halogen bond, so an "
                "effect that survives is steric or shape-driven and one that vanishes points to the halogen bond."
            )
            yield "replace_substituent", rw, f"{old}→CH3 at {where}", description
    methyls = [a.GetIdx() for a in mol.GetAtoms()
               if a.GetSymbol() == "C" and a.GetDegree() == 1 and a.GetTotalNumHs() == 3 and not a.GetIsAromatic()
               and a.GetNeighbors()[0].GetIsAromatic() and a.GetFormalCharge() == 0]  # aryl methyls only
    for new in ("Cl", "Br"):
        for i in _symmetry_representatives(mol, methyls):
            rw = _rw(mol)
            _set_element(rw.GetAtomWithIdx(i), new)
            description = (
                f"Replaces the methyl at atom {i} by {new}, a near-isosteric group (chloro-methyl exchange) that adds a "
                "sigma hole: a change in packing or binding then reflects halogen bonding rather than size."
            )
            yield "replace_substituent", rw, f"CH3→{new} at atom {i}", description


def _ring_ch_to_n(mol) -> Iterator[Edit]:
    sites = [a.GetIdx() for a in mol.GetAtoms()
             if _aromatic_ch(a) and a.GetDegree() == 2 and a.GetFormalCharge() == 0 and a.GetTotalNumHs() == 1]
    for i in _symmetry_representatives(mol, sites):
        rw = _rw(mol)
        atom = rw.GetAtomWithIdx(i)
        atom.SetAtomicNum(7)
        atom.SetNumExplicitHs(0)
        atom.SetNoImplicit(False)
        description = (
            f"Replaces the aromatic CH at atom {i} by N: same shape, but a new acceptor that competes for "
            "halogen- and hydrogen-bond donors and a changed ring electrostatic potential."
        )
        yield "ring_ch_to_n", rw, f"CH→N at atom {i}", description


def _is_acid_oh(mol, o) -> bool:
    if o.GetSymbol() != "O":
        return False
    for c in o.GetNeighbors():
        if c.GetSymbol() == "C" and any(
            b.GetBondTypeAsDouble() == 2 and b.GetOtherAtom(c).GetSymbol() == "O" for b in c.GetBonds()
        ):
            return True
    return False


def _block_donor(mol) -> Iterator[Edit]:
    donors = [a.GetIdx() for a in mol.GetAtoms()
              if a.GetSymbol() in ("N", "O", "S") and a.GetTotalNumHs() >= 1 and a.GetFormalCharge() == 0]
    reps = _symmetry_representatives(mol, donors)
    for i in reps:
        rw = _rw(mol)
        _add_atom(rw, "C", i)
        atom = mol.GetAtomWithIdx(i)
        symbol = atom.GetSymbol()
        if _is_acid_oh(mol, atom):
            description = (
                f"Converts the carboxylic acid (O atom {i}) into its methyl ester: removes the acid O-H donor, "
                "so no acid dimer or catemer can form, testing whether the effect rests on that hydrogen bond."
            )
        else:
            description = (
                f"Methylates the {symbol}-H donor at atom {i}: removes one hydrogen-bond donor while keeping the "
                "acceptor, so an effect that needs that hydrogen bond should vanish."
            )
        yield "block_donor", rw, f"{symbol}-methylation at atom {i}", description
    if len(donors) > 1:
        rw = _rw(mol)
        for i in donors:
            for _ in range(mol.GetAtomWithIdx(i).GetTotalNumHs()):
                _add_atom(rw, "C", i)
        yield ("block_donor", rw, "every N-H/O-H/S-H methylated",
               "Methylates every N-H, O-H and S-H: no hydrogen-bond donor is left, so any effect that survives "
               "cannot come from hydrogen bonding.")


def _ring_position_relation(mol, ring: tuple[int, ...], a: int, b: int) -> str:
    if len(ring) != 6:
        return f"{abs(ring.index(a) - ring.index(b))} ring bonds apart"
    d = abs(ring.index(a) - ring.index(b))
    return {1: "ortho", 2: "meta", 3: "para"}[min(d, 6 - d)]


def _swap_position(mol) -> Iterator[Edit]:
    from rdkit import Chem

    ring_info = mol.GetRingInfo()
    subs = _ring_substituents(mol)
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    for ring in ring_info.AtomRings():
        if not all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
            continue
        in_ring = [(a, b) for a, b in subs if a in ring]
        seen = set()
        for a, b in in_ring:
            if (ranks[a], ranks[b]) in seen:
                continue
            seen.add((ranks[a], ranks[b]))
            others = [x for x, _ in in_ring if x != a]
            for c in ring:
                if c == a or not _aromatic_ch(mol.GetAtomWithIdx(c)):
                    continue
                rw = _rw(mol)
                rw.RemoveBond(a, b)
                rw.AddBond(c, b, Chem.BondType.SINGLE)
                _give_h(rw.GetAtomWithIdx(a))
                _take_h(rw.GetAtomWithIdx(c))
                if others:
                    ref = others[0]
                    rel = (f" ({_ring_position_relation(mol, ring, a, ref)}→{_ring_position_relation(mol, ring, c, ref)}"
                           f" to atom {ref})")
                else:
                    rel = ""
                sub = _label(mol, b)
                description = (
                    f"Moves the substituent at {sub} from ring atom {a} to ring atom {c}{rel}: same composition, "
                    "different geometry, so an effect that needs the original direction of the contact should change."
                )
                yield "swap_substituent_position", rw, f"{sub} moved from atom {a} to atom {c}", description
        # exchange two different substituents of the same ring
        for k, (a1, b1) in enumerate(in_ring):
            for a2, b2 in in_ring[k + 1:]:
                if _fragment_smiles(mol, a1, b1) == _fragment_smiles(mol, a2, b2):
                    continue
                rw = _rw(mol)
                rw.RemoveBond(a1, b1)
                rw.RemoveBond(a2, b2)
                rw.AddBond(a1, b2, Chem.BondType.SINGLE)
                rw.AddBond(a2, b1, Chem.BondType.SINGLE)
                description = (
                    f"Exchanges the substituents at {_label(mol, b1)} and {_label(mol, b2)} on the ring: same "
                    "composition, the two groups trade their contact directions."
                )
                yield ("swap_substituent_position", rw, f"{_label(mol, b1)} and {_label(mol, b2)} exchanged",
                       description)


def _fragment_smiles(mol, ring_atom: int, sub_atom: int) -> str:
    """Canonical SMILES of the substituent hanging from ring_atom via sub_atom, '*' marking the attachment."""
    from rdkit import Chem

    branch = _branch_atoms(mol, ring_atom, sub_atom)
    rw = Chem.RWMol()
    mapping = {}
    for i in sorted(branch):
        atom = mol.GetAtomWithIdx(i)
        new = Chem.Atom(atom.GetAtomicNum())
        new.SetFormalCharge(atom.GetFormalCharge())
        new.SetIsAromatic(atom.GetIsAromatic())
        new.SetNumExplicitHs(atom.GetTotalNumHs())
        new.SetNoImplicit(True)
        mapping[i] = rw.AddAtom(new)
    star = rw.AddAtom(Chem.Atom(0))
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        if i in mapping and j in mapping:
            rw.AddBond(mapping[i], mapping[j], b.GetBondType())
    rw.AddBond(star, mapping[sub_atom], Chem.BondType.SINGLE)
    return Chem.MolToSmiles(rw.GetMol())


def _branch_atoms(mol, ring_atom: int, start: int) -> set[int]:
    seen = {start}
    stack = [start]
    while stack:
        i = stack.pop()
        for n in mol.GetAtomWithIdx(i).GetNeighbors():
            j = n.GetIdx()
            if j != ring_atom and j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def _rigidify(mol) -> Iterator[Edit]:
    from rdkit import Chem

    for a, x in _ring_substituents(mol):
        ring_atom, xa = mol.GetAtomWithIdx(a), mol.GetAtomWithIdx(x)
        if xa.GetDegree() < 2 or xa.GetSymbol() in HALOGENS:
            continue
        orthos = [n.GetIdx() for n in ring_atom.GetNeighbors()
                  if n.GetIdx() != x and n.IsInRing() and n.GetTotalNumHs() >= 1 and n.GetSymbol() == "C"]
        partners = [n.GetIdx() for n in xa.GetNeighbors()
                    if n.GetIdx() != a and n.GetTotalNumHs() >= 1 and n.GetSymbol() in ("C", "N", "O", "S")
                    and mol.GetBondBetweenAtoms(x, n.GetIdx()).GetBondType() in (Chem.BondType.SINGLE, Chem.BondType.AROMATIC)]
        for o in _symmetry_representatives(mol, orthos):
            for y in _symmetry_representatives(mol, partners):
                rw = _rw(mol)
                bridge = rw.AddAtom(Chem.Atom(6))
                rw.AddBond(o, bridge, Chem.BondType.SINGLE)
                rw.AddBond(y, bridge, Chem.BondType.SINGLE)
                _take_h(rw.GetAtomWithIdx(o))
                _take_h(rw.GetAtomWithIdx(y))
                description = (
                    f"Ties the rotatable bond between ring atom {a} and {_label(mol, x)} into a fused five-membered "
                    f"ring (CH2 bridge from atom {o} to {_label(mol, y)}): the conformation is locked, so an effect "
                    "that reflects conformational freedom or a particular torsion should change."
                )
                yield "rigidify_rotor", rw, f"rotor {a}-{x} tied to atom {o} via CH2", description


# ================================================================== naming
_SUBSTITUENT_SMILES = {
    "*F": "fluoro",
    "*Cl": "chloro",
    "*Br": "bromo",
    "*I": "iodo",
    "*C": "methyl",
    "*CC": "ethyl",
    "*OC": "methoxy",
    "*C(F)(F)F": "trifluoromethyl",
    "*C#N": "cyano",
    "*[N+](=O)[O-]": "nitro",
    "*C(C)=O": "acetyl",
    "*O": "hydroxy",
    "*N": "amino",
    "*NC": "methylamino",
    "*N(C)C": "dimethylamino",
    "*C=O": "formyl",
    "*C(=O)O": "carboxy",
    "*C(=O)OC": "methoxycarbonyl",
}
# Principal characteristic groups on benzene, most senior first: (prefix name, parent, ester?)
_SUFFIX_PARENTS = (
    ("carboxy", "benzoic acid"),
    ("methoxycarbonyl", "benzoate"),
    ("formyl", "benzaldehyde"),
    ("hydroxy", "phenol"),
    ("amino", "aniline"),
)
_COMPOUND_PREFIXES = {"trifluoromethyl", "methoxycarbonyl", "methylamino", "dimethylamino"}
_MULTIPLIERS = {1: "", 2: "di", 3: "tri", 4: "tetra", 5: "penta", 6: "hexa"}
_COMPOUND_MULTIPLIERS = {1: "", 2: "bis", 3: "tris", 4: "tetrakis", 5: "pentakis", 6: "hexakis"}


@lru_cache(maxsize=1)
def _substituent_table() -> dict[str, str]:
    from rdkit import Chem

    return {Chem.MolToSmiles(Chem.MolFromSmiles(s)): name for s, name in _SUBSTITUENT_SMILES.items()}


def name_molecule(mol) -> str | None:
    """IUPAC-style name of a simply substituted benzene or pyridine, else None.

    Handles one six-membered aromatic ring (all carbon, or one N numbered 1) with the
    substituents of ``_SUBSTITUENT_SMILES``; on benzene one principal group (acid, methyl
    ester, aldehyde, OH, NH2) becomes the parent (benzoic acid, methyl …benzoate,
    benzaldehyde, phenol, aniline). Numbering: principal group (or ring N) at 1, lowest
    locant set, then lowest locants to the prefix cited first alphabetically.
    """
    from rdkit import Chem

    if isinstance(mol, str):
        mol = Chem.MolFromSmiles(mol)
        if mol is None:
            return None
    ring = _single_aromatic_ring(mol)
    if ring is None:
        return None
    subs = _named_substituents(mol, ring)
    if subs is None:
        return None
    ring_symbols = [mol.GetAtomWithIdx(i).GetSymbol() for i in ring]
    n_count = ring_symbols.count("N")
    parent = _parent(subs, ring_symbols)
    if parent is None:
        return None
    anchor, parent_name, ester = parent
    prefixes = {p: name for p, name in subs.items() if p != anchor or n_count}
    locant = _lowest_locants(prefixes, anchor)
    groups: dict[str, list[int]] = defaultdict(list)
    for p, name in prefixes.items():
        groups[name].append(locant[p])
    omit_locants = parent_name == "benzene" and len(prefixes) == 1
    parts = []
    for name in sorted(groups):
        locs = sorted(groups[name])
        if name in _COMPOUND_PREFIXES:
            text = f"{_COMPOUND_MULTIPLIERS[len(locs)]}({name})"
        else:
            text = _MULTIPLIERS[len(locs)] + name
        parts.append(text if omit_locants else ",".join(map(str, locs)) + "-" + text)
    body = "-".join(parts) + parent_name
    if ester:
        body = "methyl " + body
    return body


def _single_aromatic_ring(mol) -> tuple[int, ...] | None:
    """The atoms of the molecule's one ring when it is a neutral benzene or mono-aza ring."""
    from rdkit import Chem

    rings = mol.GetRingInfo().AtomRings()
    if len(rings) != 1 or len(rings[0]) != 6 or Chem.GetFormalCharge(mol) != 0:
        return None
    ring = rings[0]
    if not all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring):
        return None
    ring_symbols = [mol.GetAtomWithIdx(i).GetSymbol() for i in ring]
    if set(ring_symbols) - {"C", "N"} or ring_symbols.count("N") > 1:
        return None
    return ring


def _named_substituents(mol, ring) -> dict[int, str] | None:
    """Ring position -> prefix name of each substituent; None if one is unknown, a position
    carries two, or atoms are left over."""
    table = _substituent_table()
    subs: dict[int, str] = {}
    covered = set(ring)
    for pos, i in enumerate(ring):
        for nb in mol.GetAtomWithIdx(i).GetNeighbors():
            j = nb.GetIdx()
            if j in ring:
                continue
            if pos in subs:
                return None
            name = table.get(_fragment_smiles(mol, i, j))
            if name is None:
                return None
            subs[pos] = name
            covered |= _branch_atoms(mol, i, j)
    if len(covered) != mol.GetNumAtoms():
        return None
    return subs


def _parent(subs: dict[int, str], ring_symbols: list[str]) -> tuple[int | None, str, bool] | None:
    """(ring position numbered 1 or None, parent name, methyl ester?); None when out of scope."""
    if "N" in ring_symbols:
        if any(name in {p for p, _ in _SUFFIX_PARENTS} for name in subs.values()):
            return None  # pyridine acids, pyridinols … are out of scope
        return ring_symbols.index("N"), "pyridine", False
    for prefix, parent_name in _SUFFIX_PARENTS:
        at = [p for p, name in subs.items() if name == prefix]
        if len(at) > 1:
            return None
        if at:
            return at[0], parent_name, prefix == "methoxycarbonyl"
    return None, "benzene", False


def _lowest_locants(prefixes: dict[int, str], anchor: int | None) -> dict[int, int]:
    """Ring position -> locant: start at ``anchor`` (any atom if None), lowest locant set, then
    lowest locants to the prefix cited first alphabetically."""
    best = None
    starts = [anchor] if anchor is not None else range(6)
    for start in starts:
        for step in (1, -1):
            locant = {(start + step * k) % 6: k + 1 for k in range(6)}
            locs = sorted(locant[p] for p in prefixes)
            alpha = [locant[p] for p in sorted(prefixes, key=lambda p: (prefixes[p], locant[p]))]
            key = (locs, alpha)
            if best is None or key < best[0]:
                best = (key, locant)
    return best[1]
