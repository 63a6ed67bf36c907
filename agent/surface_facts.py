"""Hirshfeld surfaces of the series' crystals: which atoms touch which, as shares of the surface.

For each crystal the crystal step read (agent.crystal_facts), :func:`fill_surfaces` computes the
Hirshfeld surface of its first symmetry-unique molecule (occpy's promolecule isosurface, about a
second a crystal: tiers.crystal_energies.hirshfeld_fingerprint) and keeps the share of the surface
by element pair (I···I, H···O, C···H, ...), percent, and one side-by-side fingerprint picture
(d_i/d_e, area-weighted; agent.crystal_views.fingerprint_figure) beside the store. A contact the
target's surface has and its analogs' lack (:func:`surface_facts`: a share differing from every
analog's by at least :data:`SHARE_DIFFERENCE_PERCENT` points) is a fact the hypotheses must explain;
the shares are geometry, not energy, so they move no confidence.
"""

from __future__ import annotations

import logging

from .state import CrystalFacts

log = logging.getLogger(__name__)

# Shares differ between polymorphs of one molecule by a few points (up to 6: Cl···H 71.5-77.8 % over the
# four 1,1,2-trichloroethane polymorphs of tiers/data/cod); ten points is a different contact pattern.
SHARE_DIFFERENCE_PERCENT = 10.0


def fill_surfaces(out: CrystalFacts, crystals: dict, store=None) -> None:
    """``out.surface_shares`` per crystal and ``out.fingerprint_png`` (all crystals side by side); a crystal
    whose surface fails becomes a warning, and no occpy means no surfaces (said once)."""
    from ..tiers.crystal_energies import hirshfeld_fingerprint
    from ..tiers.errors import EngineMissingError

    fingerprints = []
    for name, crystal in crystals.items():
        try:
            fp = hirshfeld_fingerprint(crystal)
        except EngineMissingError as exc:
            out.warnings.append(f"no Hirshfeld surfaces: {exc}")
            return
        except Exception as exc:  # one crystal's surface failing leaves the others standing
            out.warnings.append(f"{name}: Hirshfeld surface failed ({exc})")
            log.warning("%s: Hirshfeld surface failed: %s", name, exc)
            continue
        fp.crystal = name
        fingerprints.append(fp)
    if not fingerprints:
        return
    from .crystal_views import element_pair_table

    out.surface_shares = element_pair_table(fingerprints)
    out.fingerprint_png = _fingerprint_png(fingerprints, crystals, store)


def _fingerprint_png(fingerprints: list, crystals: dict, store) -> str | None:
    """The side-by-side fingerprints as a PNG kept beside the store by what it shows; None without
    matplotlib or a store folder (a picture is decoration)."""
    try:
        import hashlib
        from importlib.metadata import version

        from .crystal_views import fingerprint_figure
        from .views import cached_png

        def digest(cr) -> str:  # what the surface is made from: the cell and every atom
            h = hashlib.sha256(cr.cell_matrix.tobytes())
            for m in cr.molecules:
                h.update("".join(m.symbols).encode() + m.coords.tobytes())
            return h.hexdigest()

        content = [[fp.crystal, digest(crystals[fp.crystal])] for fp in fingerprints] + [
            version("matplotlib"), version("occpy")]
        return str(cached_png(store.content_dir, "fingerprints", content,
                              lambda: fingerprint_figure(fingerprints).png(dpi=90)))
    except Exception as exc:
        log.info("no fingerprint picture: %s", exc)
        return None


def surface_facts(c: CrystalFacts) -> list[str]:
    """Element-pair contacts whose share of the target's surface differs from every analog's by at least
    :data:`SHARE_DIFFERENCE_PERCENT` points."""
    mine = c.surface_shares.get(c.target)
    others = {n: s for n, s in c.surface_shares.items() if n != c.target}
    if mine is None or not others:
        return []
    out = []
    for pair in dict.fromkeys([*mine, *(k for s in others.values() for k in s)]):
        t = mine.get(pair, 0.0)
        if all(abs(t - s.get(pair, 0.0)) >= SHARE_DIFFERENCE_PERCENT for s in others.values()):
            vs = ", ".join(f"{s.get(pair, 0.0):.0f} % in {n}'s" for n, s in others.items())
            out.append(f"{pair} contacts cover {t:.0f} % of {c.target}'s Hirshfeld surface, against {vs}.")
    return out


def surface_markdown(c: CrystalFacts) -> list[str]:
    """The report's table of surface shares, one column per crystal."""
    if not c.surface_shares:
        return []
    names = list(c.surface_shares)
    pairs = list(dict.fromkeys(k for s in c.surface_shares.values() for k in s))
    out = ["**Hirshfeld surface contacts** (share of each molecule's surface by the element pair across it, %; "
           "promolecule surface, occpy)", "", "| contact | " + " | ".join(names) + " |",
           "|---|" + "---|" * len(names)]
    out += [f"| {p} | " + " | ".join(f"{c.surface_shares[n].get(p, 0.0):.1f}" for n in names) + " |" for p in pairs]
    return out + [""]
