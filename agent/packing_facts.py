"""The target in its analogs' packings (and they in its): the swap experiment as evidence.

When the target's crystal and analogs' crystals were read (agent.crystal_facts), :func:`fill_swaps`
puts the target's molecule into each analog's packing and each analog's into the target's, relaxed
alike (tiers.packing_swap: atoms relaxed, the cell's size walked in 2 % steps), against each
molecule in its own packing, at the classical tier (GAFF2/AM1-BCC: seconds a cell), within a wall
budget. The penalty ΔE_swap (kcal/mol per molecule, positive when the molecule prefers its own
packing) splits there into a Coulomb part and the rest (van der Waals and strain).

It tests the shape hypothesis by energy. "The target's shape keeps it out of the analogs' packing"
predicts a penalty for the target in their packing, carried by the non-Coulomb part. With σ the
uncertainty of a penalty (:data:`SIGMA_SWAP_KCAL_MOL`), :func:`swap_check` says

- ``supports``: the penalty in every analog's packing is at least 2σ and its non-Coulomb part is
  at least 2σ and larger than the Coulomb part (a steric misfit);
- ``carries_nothing``: the target fits some analog's packing within σ/2 (nothing in the energy
  keeps it out, so shape does not explain why it packs otherwise), or every penalty's non-Coulomb
  part is under σ/2 (the preference is electrostatic, not steric);
- ``weak`` otherwise; ``not_applicable`` without a target swap.

agent.crystal_facts applies it like its pair-energy checks (a raise capped at its SUPPORT_CAP; a
lowering by its INCONSISTENT_FACTOR).
"""

from __future__ import annotations

import logging
import time

from .state import CrystalEnergyCheck, CrystalFacts, Hypothesis, PackingSwap

log = logging.getLogger(__name__)

SWAP_LEVEL = "classical"
SWAP_BUDGET_S = 180.0          # wall time for all swaps (each ~5-20 s on 2 busy cores); the rest is skipped, said so
# A penalty is the difference of two GAFF2 lattice energies of one molecule. One GAFF2 lattice energy is off
# X23b by 2.0 kcal/mol on average (benzene, urea, acetic acid, naphthalene; benchmarks/crystal_x23.py); the
# errors of one molecule in two packings partly cancel, so taking the whole 2.0 is conservative.
SIGMA_SWAP_KCAL_MOL = 2.0
CLEAR_SIGMAS = 2.0        # a clear difference (a crystal share, a packing penalty): 2σ
NEGLIGIBLE_SIGMAS = 0.5   # carries ~nothing (a share above -σ/2; a penalty under σ/2 'fits')
SWAP_CATEGORIES = ("shape_sterics",)


def fill_swaps(out: CrystalFacts, crystals: dict, series, store=None, budget_s: float = SWAP_BUDGET_S) -> None:
    """``out.swaps``: the target in each analog's packing, then each analog in the target's, while
    ``budget_s`` lasts; a failed or skipped swap becomes a warning."""
    from ..tiers.packing_swap import swap_energy

    target = series.target.name
    if target not in crystals:
        return
    members = {m.name: m for m in series.members}
    pairs = [(target, a) for a in crystals if a != target] + [(a, target) for a in crystals if a != target]
    own: dict[str, object] = {}
    t0 = time.perf_counter()
    for k, (name, packing) in enumerate(pairs, start=1):
        if time.perf_counter() - t0 >= budget_s:
            rest = ", ".join(f"{n} in {p}'s" for n, p in pairs[k - 1:])
            out.warnings.append(f"packing swaps not computed ({rest}): the swap step's {budget_s:.0f} s were spent")
            break
        log.info("packing swap %d/%d: %s in %s's packing (%s)", k, len(pairs), name, packing, SWAP_LEVEL)
        try:
            sw = swap_energy(members[name].mol(), crystals[name], crystals[packing], SWAP_LEVEL, store,
                             own=own.get(name))
        except Exception as exc:  # one swap's failure leaves the others standing
            out.warnings.append(f"{name} in {packing}'s packing: swap failed ({exc})")
            log.warning("%s in %s's packing: swap failed: %s", name, packing, exc)
            continue
        own[name] = sw.own
        out.swaps.append(PackingSwap(
            molecule=name, packing=packing, tier=sw.swapped.tier, method=sw.swapped.method,
            penalty_kcal_mol=round(sw.penalty_kcal_mol, 3),
            coulomb_kcal_mol=None if sw.coulomb_penalty_kcal_mol is None else round(sw.coulomb_penalty_kcal_mol, 3),
            scale=sw.swapped.scale, own_scale=sw.own.scale, sigma_kcal_mol=SIGMA_SWAP_KCAL_MOL,
            cache_keys=[k for k in (sw.swapped.cache_key, sw.own.cache_key) if k],
            warnings=list(dict.fromkeys(sw.swapped.warnings + sw.own.warnings))))
        log.info("  %s in %s's packing: %+.2f kcal/mol per molecule", name, packing, sw.penalty_kcal_mol)
    out.swap_seconds = round(time.perf_counter() - t0, 2)


def swap_facts(c: CrystalFacts) -> list[str]:
    """The swaps as sentences for the facts list."""
    out = []
    for s in c.swaps:
        split = ("" if s.coulomb_kcal_mol is None else
                 f" (Coulomb {s.coulomb_kcal_mol:+.2f}, van der Waals and strain {s.steric_kcal_mol:+.2f})")
        out.append(f"{s.molecule} in {s.packing}'s packing, relaxed: {s.penalty_kcal_mol:+.2f} kcal/mol per molecule "
                   f"against its own packing{split} at {s.method}, σ {s.sigma_kcal_mol:.1f}.")
    return out


def swap_check(h: Hypothesis, c: CrystalFacts | None) -> CrystalEnergyCheck:
    """What the target's swap penalties say about a shape hypothesis (rule: module docstring)."""
    if c is None or h.category not in SWAP_CATEGORIES:
        return CrystalEnergyCheck(status="not_applicable", reason="no packing swap speaks to this hypothesis")
    mine = [s for s in c.swaps if s.molecule == c.target]
    if not mine:
        return CrystalEnergyCheck(status="not_applicable", reason="the target was not put in an analog's packing "
                                  "(no analog crystal, or see the crystal warnings)")
    sig = mine[0].sigma_kcal_mol
    base = dict(contacts=["packing_swap"], tier=mine[0].tier, sigma_kcal_mol=sig,
                target_kcal_mol=round(min(s.penalty_kcal_mol for s in mine), 2),
                analogs_kcal_mol={s.packing: round(s.penalty_kcal_mol, 2) for s in mine})
    said = "; ".join(f"in {s.packing}'s {s.penalty_kcal_mol:+.2f}" + (
        "" if s.steric_kcal_mol is None else f" (van der Waals and strain {s.steric_kcal_mol:+.2f})") for s in mine)
    where = f"{c.target}'s swap penalties at {mine[0].method}: {said} kcal/mol per molecule"
    fits = [s for s in mine if s.penalty_kcal_mol < NEGLIGIBLE_SIGMAS * sig]
    if fits:
        return CrystalEnergyCheck(status="carries_nothing", **base, reason=(
            f"{where}: it fits {', '.join(s.packing for s in fits)}'s packing within σ/2 = {NEGLIGIBLE_SIGMAS * sig:.1f}, "
            "so its shape does not keep it out of the analogs' packing"))
    steric = [s.steric_kcal_mol for s in mine]
    if all(v is not None and v < NEGLIGIBLE_SIGMAS * sig for v in steric):
        return CrystalEnergyCheck(status="carries_nothing", **base, reason=(
            f"{where}: the penalty is electrostatic; its van der Waals and strain part is under σ/2 = "
            f"{NEGLIGIBLE_SIGMAS * sig:.1f} in every analog's packing, so the misfit is not one of shape"))
    if all(s.penalty_kcal_mol >= CLEAR_SIGMAS * sig and s.steric_kcal_mol is not None
           and s.steric_kcal_mol >= max(CLEAR_SIGMAS * sig, s.coulomb_kcal_mol) for s in mine):
        return CrystalEnergyCheck(status="supports", **base, reason=(
            f"{where}: at least 2σ = {CLEAR_SIGMAS * sig:.1f} in every analog's packing, mostly van der Waals "
            "and strain (a steric misfit)"))
    return CrystalEnergyCheck(status="weak", **base, reason=f"{where}: not a clear steric misfit (rule: 2σ = "
                              f"{CLEAR_SIGMAS * sig:.1f}, mostly van der Waals and strain), no verdict")


def swap_markdown(c: CrystalFacts) -> list[str]:
    """The report's swap table."""
    from .views import short_key

    if not c.swaps:
        return []
    out = ["**Each molecule in the other's packing** (swapped onto every site by the common skeleton, atoms and "
           "cell size relaxed; penalty = E_cell/Z there - in its own packing, kcal/mol per molecule)", "",
           "| molecule | in the packing of | penalty | Coulomb part | van der Waals and strain | cell scale | "
           "stored results |", "|---|---|---|---|---|---|---|"]
    for s in c.swaps:
        coul = "—" if s.coulomb_kcal_mol is None else f"{s.coulomb_kcal_mol:+.2f}"
        rest = "—" if s.steric_kcal_mol is None else f"{s.steric_kcal_mol:+.2f}"
        keys = ", ".join(f"`{short_key(k)}`" for k in s.cache_keys)
        out.append(f"| {s.molecule} | {s.packing} | {s.penalty_kcal_mol:+.2f} | {coul} | {rest} | "
                   f"{s.scale:.2f} (own {s.own_scale:.2f}) | {keys} |")
    warned = [f"- {s.molecule} in {s.packing}'s: {w}" for s in c.swaps for w in s.warnings]
    return out + [""] + warned + ([""] if warned else [])
