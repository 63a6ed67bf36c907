"""One observable per tier against measured values: the loop shared by benchmarks/dipoles.py and
benchmarks/polarisabilities.py (each script keeps its own reference table and summary)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class TierValue:
    tier: int
    value: float | None = None   # None: skipped or failed (``note`` says which)
    seconds: float = 0.0
    note: str = ""


def tier_values(observable: str, mol, tiers: list[int], store, max_heavy_at_tier3: int | None = None,
                basis_at_tier3: str | None = None) -> list[TierValue]:
    """``observable`` on ``mol`` at each tier, through tierchem's observables and ``store``; tier 3 is skipped
    for molecules over ``max_heavy_at_tier3`` heavy atoms, and runs in ``basis_at_tier3`` when given."""
    from tierchem.agent.observables import read_value, specs_for
    from tierchem.tiers import compute

    out = []
    for tier in tiers:
        if tier == 3 and max_heavy_at_tier3 is not None and sum(s != "H" for s in mol.symbols) > max_heavy_at_tier3:
            out.append(TierValue(tier, note="skipped"))
            continue
        t0 = time.perf_counter()
        spec = specs_for(observable, mol, tier)[0]
        if tier == 3 and basis_at_tier3:
            spec = spec.model_copy(update={"basis": basis_at_tier3})
        result = compute(spec, store=store)
        if not result.success:
            out.append(TierValue(tier, note=f"failed: {result.error}"))
            continue
        out.append(TierValue(tier, read_value(observable, mol, [result]), time.perf_counter() - t0))
    return out
