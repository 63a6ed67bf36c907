"""The design's words: each hypothesis's predicted crystal outcome for a candidate, the experiment that
would test it, and what to look for in the structure."""

from __future__ import annotations

from ..chem.molecule import Molecule
from .state import Hypothesis

LIKE_TARGET, LIKE_ANALOGS = 0.6, 0.4   # s thresholds for the outcome sentences
STRONGER = 1.25                         # beyond the target by 25% of the target-analog gap: "strengthened"


OUTCOMES: dict[str, tuple[str, str]] = {
    # key: hypothesis id or category -> (like the target, like the analogs)
    "halogen_bond": ("short C-X···X-C / C-X···A halogen contacts as in {target}'s crystal",
                     "no sigma-hole-driven halogen contacts; packs like {analogs}"),
    "halogen_bond.type_ii_contact": ("type II C-X···X-C contacts (C-X···X near 180° and 90°) as in {target}",
                                     "no type II X···X contacts; isostructural with {analogs} or another packing"),
    "halogen_bond.type_i_contact": ("type I (symmetric) C-X···X-C contacts as in {target}",
                                    "no type I X···X contacts"),
    "halogen_bond.xb_acceptor": ("linear C-X···A halogen bonds as in {target}", "no C-X···A halogen bonds"),
    "hbond_motif": ("the D-H···A motif of {target} (same dimer or chain)", "no such H-bond motif; packs like {analogs}"),
    "hbond_motif.hbond_dimer": ("the H-bonded dimer/chain of {target}", "no H-bonded dimer or chain"),
    "pi_stacking_quadrupole": ("offset face-to-face stacks as in {target}", "no stacks; packs like {analogs}"),
    "dispersion_polarisability": ("packs like {target} (similar polarisability): isostructural with {target}",
                                  "packs like {analogs} (polarisability like theirs)"),
    "dipole_antiparallel": ("antiparallel dipole pairs as in {target}", "no antiparallel dipole pairing"),
    "shape_sterics": ("packs like {target} (target-like shape)", "packs like {analogs} (analog-like shape)"),
    "conformational_flexibility": ("packs like {target} (comparable flexibility)", "packs like {analogs}"),
}
LOOK_FOR: dict[str, str] = {
    "halogen_bond": "C-X···X-C and C-X···A contacts shorter than the vdW sum and their C-X···X angles "
                    "(type II: ~180°/~90°; type I: equal)",
    "hbond_motif": "the D-H···A graph-set motif (R2,2(8) dimer vs C(n) chain)",
    "intramolecular_hbond": "whether the donor's H-bond is intra- or intermolecular",
    "pi_stacking_quadrupole": "face-to-face stacks (centroid distance, offset, interplanar angle)",
    "dispersion_polarisability": "density and packing coefficient, and whether the cell is isostructural with "
                                 "{target}'s or with the analogs' ({analogs})",
    "shape_sterics": "whether the cell is isostructural with {target}'s or with the analogs' ({analogs})",
    "dipole_antiparallel": "antiparallel dipole pairs",
    "conformational_flexibility": "the conformer adopted in the crystal",
}


def outcome(h: Hypothesis, s: float | None, rel: float | None, fmt: dict, note: str = "") -> str:
    if s is None:
        return "no prediction (not computed" + (f": {note}" if note else "") + ")"
    like, unlike = OUTCOMES.get(h.id) or OUTCOMES.get(h.category) or (
        "packs like {target}", "packs like {analogs}")
    if s >= LIKE_TARGET:
        text = like.format(**fmt)
        if rel is not None and rel >= STRONGER:
            text += ", strengthened (shorter, more linear contacts)" if h.category == "halogen_bond" \
                else ", more pronounced than in {target}".format(**fmt)
    elif s <= LIKE_ANALOGS:
        text = unlike.format(**fmt)
    else:
        text = "intermediate: no clear prediction (the value lies between the target's and the analogs')"
    return f"{text} (s = {s:.2f}{'; ' + note if note else ''})"


def experiment(smiles: str, name: str, mol: Molecule | None, look_for: list[str], fmt: dict) -> str:
    nb = mol.neighbours() if mol else []
    donors = any(s == "H" and any(mol.symbols[j] in ("N", "O") for j in nb[i]) for i, s in enumerate(mol.symbols)) \
        if mol else False
    heavy = sum(1 for s in (mol.symbols if mol else []) if s != "H")
    if donors:
        grow = "by slow evaporation from ethanol or ethyl acetate"
    else:
        grow = "by sublimation or slow evaporation from hexane/dichloromethane"
    if mol is not None and heavy <= 9 and not donors:
        grow += " (if it is liquid at room temperature: in situ cryo-crystallisation on the diffractometer)"
    what = "; ".join(dict.fromkeys(x.format(**fmt) for x in look_for)) or "the contacts and packing"
    return (f"Make or buy {name} ({smiles}); grow single crystals {grow}; solve the structure by single-crystal "
            f"X-ray diffraction (low temperature); look for: {what}; compare the cell with {fmt['target']}'s.")


def pass_text(target: str, n_pool: int, exclude: list[str], preds, used_s: float, notes: list[str],
              proposals, launch) -> list[str]:
    """The transcript lines of one design pass."""
    text = [f"Design: {n_pool} candidate(s) generated from {target}"
            + (f" (excluding {', '.join(exclude)})" if exclude else "")
            + f"; predictions of {', '.join(f'{p.hypothesis.id} ({p.role}, {p.observable} at tier {p.tier})' for p in preds)}"
            + f"; {used_s:.1f} s of new calculations."]
    text += notes
    if proposals:
        text.append("Top confirmatory molecules: " + "; ".join(
            f"{d.rank}. {d.name} (D = {d.discrimination:.2f}, rank {d.rank_score:.2f})" for d in proposals[:3]) + ".")
    else:
        text.append("No candidate could be generated" + (f" without {', '.join(exclude)}" if exclude else "") + ".")
    if launch:
        what = " and ".join(f"{p.observable} at tier {p.tier}" for p in launch)
        text.append(f"Launched {what} on the best candidate {launch[0].molecule} in the background; "
                    "the ranking will be updated when it finishes.")
    return text
