"""Observed crystal structures as facts the hypotheses must explain.

A series CSV may carry a ``cif`` column (a path relative to the series file) per
molecule. :func:`read_crystals` reads each CIF with :func:`tierchem.chem.crystal.read_cif`,
checks that the crystal holds the molecule of its row, compares the target's crystal
with the analogs' (:func:`tierchem.chem.crystal_contacts.compare_crystals`) and turns
the comparison into sentences ("type II X···X C-I···I-C contacts only in the target's
crystal"). Corrupt, partial or mismatched CIFs become warnings; the investigation goes
on with the crystals that were read.

:func:`check` says whether a hypothesis is consistent with what the target's crystal
shows. Each hypothesis with a crystal signature names the contact kinds it predicts in
the target's crystal (a halogen-bond hypothesis predicts C-X···A halogen bonds or type
II X···X contacts; a type II mechanism predicts type II contacts); a hypothesis is

- ``consistent`` when the target's crystal shows them,
- ``inconsistent`` when the target's crystal was read and shows none (the hypothesis
  then loses confidence: :data:`INCONSISTENT_FACTOR`, with the reason in its status),
- ``not_applicable`` when there is no target crystal or the hypothesis has no
  signature the contact analysis can check (dipole, shape, dispersion ...).
"""

from __future__ import annotations

import logging
from pathlib import Path

from .state import CrystalCheck, CrystalFacts, Hypothesis, Series

log = logging.getLogger(__name__)

INCONSISTENT_FACTOR = 0.5  # an inconsistent hypothesis keeps half its confidence

# (hypothesis id or category) -> (feature-key prefixes that count, what they are in words)
SIGNATURES: dict[str, tuple[tuple[str, ...], str]] = {
    "halogen_bond": (("type II X···X", "halogen bond"), "C-X···A halogen bonds or type II C-X···X-C contacts"),
    "halogen_bond.type_ii_contact": (("type II X···X",), "type II C-X···X-C contacts"),
    "halogen_bond.type_i_contact": (("type I X···X",), "type I C-X···X-C contacts"),
    "halogen_bond.xb_acceptor": (("halogen bond",), "C-X···A halogen bonds"),
    "hbond_motif": (("hbond ",), "D-H···A hydrogen bonds"),
    "hbond_motif.hbond_dimer": (("motif R", "motif C"), "an H-bonded ring (dimer) or chain motif"),
    "pi_stacking_quadrupole": (("pi-stacking",), "aromatic pi-stacking"),
}


def _signature(h: Hypothesis) -> tuple[tuple[str, ...], str] | None:
    return SIGNATURES.get(h.id) or (SIGNATURES.get(h.category) if h.kind == "cause" else None)


def read_crystals(series: Series) -> CrystalFacts | None:
    """Read the series' CIFs (``observed['cif']``) and compare them; None when the series has none."""
    from ..chem.crystal import read_cif
    from ..chem.crystal_contacts import compare_crystals, crystal_features, match_molecule

    rows = [(m, m.observed.get("cif")) for m in series.members if m.observed.get("cif")]
    if not rows:
        return None
    base = Path(series.source).parent if Path(series.source).suffix else Path(series.source)
    crystals, warnings, summaries = {}, [], {}
    for member, rel in rows:
        path = Path(rel) if Path(rel).is_absolute() else base / rel
        try:
            cr = read_cif(path, name=member.name)
        except Exception as exc:  # corrupt, truncated, missing: a warning, not a dead run
            warnings.append(f"{member.name}: could not read {rel}: {exc}")
            log.warning("%s: could not read %s: %s", member.name, rel, exc)
            continue
        for w in cr.warnings:
            warnings.append(f"{member.name} ({rel}): {w}")
        try:
            if not match_molecule(cr, member.mol()):
                warnings.append(f"{member.name} ({rel}): the crystal's molecules do not match the row's SMILES; "
                                "its contacts are used with caution")
        except Exception as exc:
            warnings.append(f"{member.name} ({rel}): could not match the molecule ({exc})")
        try:
            feats = dict(crystal_features(cr))
        except Exception as exc:
            warnings.append(f"{member.name} ({rel}): contact analysis failed ({exc}); crystal not used")
            continue
        crystals[member.name] = cr
        summaries[member.name] = {"cif": rel, "z": cr.z, "space_group": cr.space_group,
                                  "density": cr.density, "packing_coefficient": cr.packing_coefficient,
                                  "features": feats, "n_warnings": len(cr.warnings)}
    out = CrystalFacts(crystals=summaries, warnings=warnings)
    target = series.target.name
    if target not in crystals:
        if any(m.name == target for m, _ in rows):
            out.facts.append(f"The target's crystal ({target}) could not be used; no crystal facts about it.")
        return out
    out.target_read = True
    analogs = [crystals[a.name] for a in series.analogs if a.name in crystals]
    cmp = compare_crystals(crystals[target], analogs)
    out.comparison = {k: cmp[k] for k in ("only_in_target", "absent_from_target", "per_analog")}
    out.target_features = sorted(cmp["features"][target])
    names = ", ".join(a.name for a in analogs)
    if analogs:
        for f in cmp["only_in_target"]:
            out.facts.append(f"{f} contacts in {target}'s crystal, absent from {names}'.")
        for f in cmp["absent_from_target"]:
            out.facts.append(f"{f} contacts in every analog's crystal ({names}), absent from {target}'s.")
        if not cmp["only_in_target"] and not cmp["absent_from_target"]:
            out.facts.append(f"{target}'s crystal shows the same kinds of contacts as {names}'.")
    else:
        kinds = ", ".join(out.target_features) or "no contact shorter than the vdW sum"
        out.facts.append(f"{target}'s crystal shows {kinds} (no analog crystal to compare with).")
    return out


def check(h: Hypothesis, crystal: CrystalFacts | None) -> CrystalCheck:
    """Whether a hypothesis is consistent with the target's crystal (consistent | inconsistent | not_applicable)."""
    if crystal is None or not crystal.target_read:
        return CrystalCheck(status="not_applicable", reason="no crystal structure of the target was read")
    sig = _signature(h)
    if sig is None:
        return CrystalCheck(status="not_applicable",
                            reason="the hypothesis has no contact signature that the crystal analysis can check")
    prefixes, words = sig
    feats = crystal.target_features
    seen = [f for f in feats if f.startswith(prefixes)]
    if not seen:
        return CrystalCheck(status="inconsistent",
                            reason=f"it predicts {words} in the target's crystal, and the observed crystal has none")
    only = set(crystal.comparison.get("only_in_target", []))
    tail = ("; only the target's crystal has them" if seen and all(f in only for f in seen)
            else "; analog crystals have them too, so they alone do not explain the difference"
            if len(crystal.crystals) > 1 else "")
    return CrystalCheck(status="consistent", reason=f"the target's crystal shows {', '.join(seen)}{tail}")


def apply_checks(hypotheses: list[Hypothesis], crystal: CrystalFacts | None) -> None:
    """Lower the confidence of hypotheses inconsistent with the target's crystal (in place), with the reason."""
    if crystal is None or not crystal.target_read:
        return
    for h in hypotheses:
        if h.status == "rejected" or h.pinned:
            continue
        c = check(h, crystal)
        if c.status == "inconsistent":
            note = f"inconsistent with the observed crystal: {c.reason} (confidence x{INCONSISTENT_FACTOR})"
            if note not in h.reason:  # once per verdict: a reason left unchanged keeps its lowered confidence
                h.confidence = round(h.confidence * INCONSISTENT_FACTOR, 2)
                h.reason = f"{h.reason} [{note}]" if h.reason else note


# ------------------------------------------------------------------ report
def crystal_json(v) -> dict | None:
    c = v.crystal
    if c is None:
        return None
    return {"facts": c.facts, "warnings": c.warnings, "crystals": c.crystals,
            "checks": {h.id: check(h, c).model_dump() for h in v.hypotheses}}


def crystal_markdown(v) -> list[str]:
    """The report's crystal section: observed facts, warnings, and each hypothesis's consistency with them."""
    c = v.crystal
    if c is None:
        return []
    out = ["## Observed crystal structures", ""]
    rows = c.crystals
    if rows:
        out += ["| molecule | CIF | space group | Z | density g/cm3 | packing coeff. | contacts |", "|---|---|---|---|---|---|---|"]
        for name, r in rows.items():
            feats = "<br>".join(f"{k} ×{n}" for k, n in sorted(r.get("features", {}).items())) or "—"
            dens = "—" if r.get("density") is None else f"{r['density']:.3f}"
            pc = "—" if r.get("packing_coefficient") is None else f"{r['packing_coefficient']:.3f}"
            out.append(f"| {name} | `{r['cif']}` | {r.get('space_group') or '—'} | {r.get('z')} | {dens} | {pc} | {feats} |")
        out += [""]
    if c.facts:
        out += ["**Facts to explain**", ""] + [f"- {f}" for f in c.facts] + [""]
    if c.warnings:
        out += ["**Crystal warnings** (the analysis went on with what was sound)", ""] + [
            f"- {w}" for w in c.warnings] + [""]
    out += ["**Consistency of each hypothesis with the target's crystal**", "",
            "| hypothesis | status | check | why |", "|---|---|---|---|"]
    for h in sorted(v.hypotheses, key=lambda h: (h.priority, h.id)):
        ck = check(h, c)
        out.append(f"| {h.id} | {h.status} | {ck.status} | {ck.reason} |")
    return out + [""]
