"""A crystal structure as evidence, for people: the summary, the pair table, energy frameworks
and Hirshfeld fingerprints.

:func:`crystal_report` gathers what ``tierchem crystal`` shows (JSON-ready: summary, pairs with
energies per tier, pair sums, the periodic comparison, CE-1p); :func:`print_report` prints it;
:func:`framework_figure` draws an energy framework (lines between molecular centroids, width by
pair energy, colour by the pair's most specific contact); :func:`fingerprint_figure` a Hirshfeld
d_i/d_e fingerprint (area-weighted 2-D histogram) with the surface share of each element pair.
Figures are ``matplotlib.figure.Figure`` (Agg, no pyplot), imported only when drawn.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from .views import Plot, require

# The pair's most specific contact (chem.crystal_pairs.CONTACT_PRIORITY) -> colour and legend text.
CONTACT_COLOURS = {"hbond": ("#1f77b4", "H-bond"), "halogen_bond": ("#9467bd", "C-X···A halogen bond"),
                   "halogen_halogen": ("#d62728", "X···X"), "pi_stack": ("#2ca02c", "π-stack"),
                   "short": ("#ff7f0e", "other short contact"), "none": ("#7f7f7f", "no short contact")}
FRAMEWORK_MIN_FRACTION = 0.1     # pairs weaker than this share of the strongest are left out
# Contact classes of the lattice-energy split the evidence reads (agent.crystal_facts): the pair's
# most specific contact, X···X split by geometry (type I / type II, chem.crystal_contacts' subtypes),
# pairs with only short or no contacts as "other", pairs outside the close-contact shell apart.
CONTACT_CLASSES = {"hbond": "H-bond", "halogen_bond": "C-X···A halogen bond", "type_ii_xx": "type II X···X",
                   "type_i_xx": "type I X···X", "halogen_halogen": "other X···X", "pi_stack": "π-stack",
                   "other": "other shell pair (short or no contact)",
                   "beyond_shell": "beyond the close-contact shell"}


# ====================================================================== gathering
def crystal_summary(crystal) -> dict:
    """Space group, Z, Z' (from the CIF, else from the operations found in the geometry), density,
    packing coefficient, contacts and H-bond motifs."""
    from ..chem.crystal_pairs import space_group_operations

    ops = space_group_operations(crystal) if crystal.cell_matrix is not None else []
    found = crystal.z_prime is None and len(ops) > 1
    z_prime = crystal.z_prime if crystal.z_prime is not None else (round(crystal.z / len(ops), 3) if found else None)
    s = crystal.summary()
    return {"name": crystal.name, "space_group": crystal.space_group, "operations": len(ops),
            "operations_from_geometry": found, "z": crystal.z, "z_prime": z_prime, "density_g_cm3": crystal.density,
            "packing_coefficient": crystal.packing_coefficient, "cell_lengths_angstrom": s["cell_lengths"],
            "cell_angles_deg": s["cell_angles"], "composition": s["composition"], "contacts": s["contacts"],
            "motifs": s["motifs"],
            # the reader's "Z' not known" for a P1-expanded cell is answered by the operations found
            "warnings": [w for w in s["warnings"] if not (found and w.startswith("the structure is in P1"))]}


def crystal_report(crystal, levels: list[str], store=None, contact_cutoff: float = 3.8, radius: float | None = 20.0,
                   periodic: bool = True, ce_model: bool = False) -> dict:
    """Everything ``tierchem crystal`` shows, as plain data. Pair energies at ``levels`` (tiers 1-2
    summed to ``radius``, DFT on the strongest shell pairs; "ce-1p" for occ's CE-1p model)."""
    from ..chem.crystal_pairs import molecular_pairs
    from ..tiers.crystal_energies import CE_MODEL, ce_model_energies, ce_pair_energies, crystal_energies

    ce_model = ce_model or any(lv.lower() in ("ce-1p", "ce1p") for lv in levels)
    levels = [lv for lv in levels if lv.lower() not in ("ce-1p", "ce1p")]
    out = {"summary": crystal_summary(crystal), "levels": {}, "level_tiers": {}}
    if levels:
        energies = crystal_energies(crystal, levels, store, contact_cutoff, radius, compare_periodic=periodic)
        pair_set, by_level, keys = energies.pairs, dict(energies.energies), energies.keys
        out.update(levels={lv.name: lv.label for lv in energies.levels},
                   level_tiers={lv.name: lv.tier for lv in energies.levels},
                   pair_sums={k: v.as_dict() for k, v in energies.sums.items()},
                   periodic={k: v.as_dict() for k, v in energies.periodic.items()}, notes=energies.notes)
    else:
        pair_set, by_level, keys = molecular_pairs(crystal, contact_cutoff), {}, {}
    if ce_model:
        ce = ce_model_energies(crystal, store=store)
        out["ce_model"] = ce.as_dict()
        # its pair energies beside ours, by pair class (matched by distances; see ce_pair_energies)
        by_level[CE_MODEL] = ce_pair_energies(pair_set, ce)
        out["levels"][CE_MODEL] = f"{CE_MODEL.replace('ce', 'CE')} ({ce.wavefunction})"
    out["pairs"] = [dict(p.as_dict(), energies_kcal_mol={k: e.get(p.pair_class) for k, e in by_level.items()})
                    for p in pair_set.shell()]
    out["lattice_energy_by_contact"] = {k: lattice_energy_by_contact(pair_set, by_level[k])
                                        for k in out.get("pair_sums", {})}
    out["lattice_energy_by_contact_class"] = {k: lattice_energy_by_contact(pair_set, by_level[k], contact_class)
                                              for k in out.get("pair_sums", {})}
    out["homes"] = {"molecules": pair_set.homes, "counts": pair_set.home_counts}
    out["_pair_set"], out["_energies"], out["_keys"] = pair_set, by_level, keys
    return out


def swap_report(crystal, others: list, levels: list[str], store=None) -> list[dict]:
    """``crystal``'s molecule in each of ``others``' packings against itself in its own (tiers.packing_swap),
    at each of ``levels`` that has a periodic model (classical, xtb): one row per packing and level."""
    from ..tiers.crystal_energies import CHEAP_TIERS, crystal_level
    from ..tiers.packing_swap import swap_energies

    kinds = {m.inchikey for m in crystal.molecules}
    if len(kinds) > 1:
        raise ValueError(f"{crystal.name} holds {len(kinds)} different molecules: a swap needs one")
    periodic = [lv for lv in levels if crystal_level(lv).tier in CHEAP_TIERS] or ["classical"]
    rows = []
    for other in others:
        for name, sw in swap_energies(crystal.molecules[0], crystal, other, periodic, store).items():
            rows.append({"molecule": crystal.name, "packing": other.name, "level": name, "method": sw.swapped.method,
                         "penalty_kcal_mol": sw.penalty_kcal_mol, "coulomb_kcal_mol": sw.coulomb_penalty_kcal_mol,
                         "scale": sw.swapped.scale, "own_scale": sw.own.scale,
                         "cache_keys": [sw.swapped.cache_key, sw.own.cache_key],
                         "warnings": sw.swapped.warnings + sw.own.warnings})
    return rows


def lattice_energy_by_contact(pair_set, energies: dict[int, float | None], key=None) -> dict[str, float]:
    """The pair-sum lattice energy per molecule (kcal/mol) split by each pair's most specific
    contact (``MolecularPair.contact_type``; pairs outside the close-contact shell as "beyond the
    shell"), or by ``key(pair)`` (e.g. :func:`contact_class`), over the pairs that have an energy:
    which kind of pair carries how much of it (the surface term of a polar crystal is not split)."""
    groups = pairs_by_contact(pair_set, energies, key)
    return {k: pair_set.pair_sum(energies, pairs=v) for k, v in groups.items()}


def pairs_by_contact(pair_set, energies: dict[int, float | None], key=None) -> dict[str, list]:
    """The pairs that have an energy, grouped by ``key(pair)`` (default: the contact type, or
    "beyond the shell")."""
    key = key or (lambda p: p.contact_type if p.in_shell else "beyond the shell")
    groups: dict[str, list] = {}
    for p in pair_set.pairs:
        if energies.get(p.pair_class) is not None:
            groups.setdefault(key(p), []).append(p)
    return groups


def contact_class(pair) -> str:
    """The pair's class in :data:`CONTACT_CLASSES`: its most specific contact, an X···X pair by its
    geometry (type II if any of its X···X contacts is, else type I, else "halogen_halogen"),
    short-only and contact-free shell pairs as "other", pairs outside the shell as "beyond_shell"."""
    if not pair.in_shell:
        return "beyond_shell"
    kind = pair.contact_type
    if kind == "halogen_halogen":
        subtypes = {c.subtype for c in pair.contacts if c.kind == "halogen_halogen"}
        return "type_ii_xx" if "type II" in subtypes else "type_i_xx" if "type I" in subtypes else kind
    return kind if kind in CONTACT_CLASSES else "other"


def public(report: dict) -> dict:
    """The report without the objects kept for drawing (what --json prints)."""
    return {k: v for k, v in report.items() if not k.startswith("_")}


# ====================================================================== printing
def print_report(report: dict, console, show_pairs: bool = True) -> None:
    """The summary, the pair table and the sums, as Rich text on ``console``."""
    from rich.table import Table

    s = report["summary"]
    zp = "?" if s["z_prime"] is None else f"{s['z_prime']:g}"
    origin = f" ({s['operations']} operations found in the geometry)" if s["operations_from_geometry"] else ""
    console.print(f"[bold]{s['name']}[/]  {s['space_group'] or '?'}{origin}  Z = {s['z']}  Z' = {zp}  "
                  f"ρ = {s['density_g_cm3']:.3f} g/cm³  packing coefficient {s['packing_coefficient']:.3f}",
                  highlight=False)
    console.print(f"contacts {s['contacts'] or 'none'}; H-bond motifs {s['motifs'] or 'none'}", highlight=False)
    for w in s["warnings"]:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    levels = report.get("levels", {})
    if show_pairs:
        table = Table(title="symmetry-unique pairs of the close-contact shell (energies kcal/mol)")
        for col in ("#", "N", "operation", "relation", "R / Å", "d_min / Å", "contacts", *levels.values()):
            table.add_column(col, justify="left" if col in ("operation", "relation", "contacts") else "right")
        for p in report["pairs"]:
            e = p["energies_kcal_mol"]
            table.add_row(str(p["id"]), str(p["multiplicity"]), p["operation"], p["relation"],
                          f"{p['centroid_distance_angstrom']:.2f}", f"{p['closest_distance_angstrom']:.2f}",
                          ", ".join(p["contacts"]) or "-",
                          *[f"{e[k]:.2f}" if e.get(k) is not None else "-" for k in levels])
        console.print(table)
    for name, ps in report.get("pair_sums", {}).items():
        line = (f"pair-sum lattice energy {ps['method']}: {ps['lattice_energy_kcal_mol']:.2f} kcal/mol per molecule "
                f"({ps['n_pair_classes']} pair classes to {ps['radius_angstrom']:g} Å")
        line += (f"; surface term {ps['surface_term_kcal_mol']:.2f} taken off)" if abs(ps["surface_term_kcal_mol"]) >= 0.005
                 else ")")
        console.print(line, highlight=False)
        split = report.get("lattice_energy_by_contact", {}).get(name, {})
        if split:
            console.print("  by pair: " + ", ".join(f"{CONTACT_COLOURS.get(k, (None, k))[1]} {v:.2f}"
                                                    for k, v in sorted(split.items(), key=lambda kv: kv[1])),
                          highlight=False)
        cmp = report.get("periodic", {}).get(name)
        if cmp:
            what = "difference" if report["level_tiers"][name] == 1 else "many-body part"
            console.print(f"  periodic {cmp['periodic_kcal_mol']:.2f} at the same geometry and monomers: {what} "
                          f"{cmp['difference_kcal_mol']:+.2f}; monomer deformation {cmp['monomer_deformation_kcal_mol']:.2f}"
                          f" (periodic with relaxed gas molecules {cmp['periodic_relaxed_monomers_kcal_mol']:.2f})",
                          highlight=False)
    if "ce_model" in report:
        ce = report["ce_model"]
        console.print(f"{ce['model'].replace('ce', 'CE')} ({ce['wavefunction']}, occpy {ce['occpy_version']}): "
                      f"{ce['lattice_energy_kj_mol']:.1f} kJ/mol = {ce['lattice_energy_kcal_mol']:.2f} kcal/mol per "
                      f"molecule (pairs to {ce['radius_angstrom']:g} Å{'' if ce['converged'] else ', not converged'})",
                      highlight=False)
    for sw in report.get("swaps", []):
        split = "" if sw["coulomb_kcal_mol"] is None else f" (Coulomb {sw['coulomb_kcal_mol']:+.2f})"
        console.print(f"{sw['molecule']} in {sw['packing']}'s packing, relaxed ({sw['method']}): "
                      f"{sw['penalty_kcal_mol']:+.2f} kcal/mol per molecule against its own packing{split}; "
                      f"cell scale {sw['scale']:.2f} (own {sw['own_scale']:.2f})", highlight=False)
        for w in sw["warnings"]:
            console.print(f"  [yellow]warning:[/] {w}", highlight=False)
    for note in report.get("notes", []):
        console.print(f"[dim]{note}[/]", highlight=False)


# ====================================================================== figures
def framework_figure(crystal, pair_set, energies: dict[int, float | None], title: str = "",
                     cells: tuple[int, int, int] = (2, 2, 2)) -> Plot:
    """An energy framework over ``cells`` unit cells: a line between the centroids of each pair in
    the shell, width by |E|, colour by contact type; pairs weaker than FRAMEWORK_MIN_FRACTION of
    the strongest are left out, repulsive ones dashed."""
    require("matplotlib", "matplotlib")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    cell = np.asarray(crystal.cell_matrix, float)
    cent = np.array([m.coords.mean(axis=0) for m in crystal.molecules])
    shell = {p.pair_class: p.contact_type for p in pair_set.shell()}
    values = {c: e for c, e in energies.items() if e is not None and c in shell}
    strongest = max((abs(e) for e in values.values()), default=0.0) or 1.0
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    drawn, kinds = set(), set()
    for shift in itertools.product(*(range(n) for n in cells)):
        for k, l, image, cls in pair_set.neighbours:
            end = np.add(shift, image)
            if cls not in values or abs(values[cls]) < FRAMEWORK_MIN_FRACTION * strongest \
                    or not all(0 <= e < n for e, n in zip(end, cells)):
                continue
            key = frozenset({(k, tuple(shift)), (l, tuple(int(x) for x in end))})
            if key in drawn:
                continue
            drawn.add(key)
            a, b = cent[k] + np.asarray(shift) @ cell, cent[l] + end @ cell
            colour, _ = CONTACT_COLOURS[shell[cls]]
            kinds.add(shell[cls])
            ax.plot(*zip(a, b), color=colour, lw=0.6 + 7.0 * abs(values[cls]) / strongest,
                    ls="-" if values[cls] < 0 else "--", solid_capstyle="round", alpha=0.85)
    points = np.array([cent[k] + np.asarray(s) @ cell for s in itertools.product(*(range(n) for n in cells))
                       for k in range(len(cent))])
    ax.scatter(*points.T, s=14, color="black", depthshade=False)
    _cell_edges(ax, cell * np.asarray(cells)[:, None])
    corners = np.array(list(itertools.product((0, 1), repeat=3)), float) @ (cell * np.asarray(cells)[:, None])
    ax.set_box_aspect(np.ptp(np.vstack([points, corners]), axis=0) + 1e-6)
    ax.set_axis_off()
    ax.set_title(title or f"{crystal.name}: energy framework", fontsize=10)
    handles = [Line2D([], [], color=CONTACT_COLOURS[k][0], lw=3, label=CONTACT_COLOURS[k][1]) for k in
               sorted(kinds, key=list(CONTACT_COLOURS).index)]
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    return Plot(fig, caption=f"energy framework of {crystal.name}: line width by |E_pair| "
                             f"(strongest {strongest:.1f} kcal/mol), colour by contact type")


def _cell_edges(ax, box: np.ndarray) -> None:
    for corner in itertools.product((0, 1), repeat=3):
        for axis in range(3):
            if corner[axis] == 0:
                start = np.asarray(corner, float)
                end = start.copy()
                end[axis] = 1
                ax.plot(*zip(start @ box, end @ box), color="0.6", lw=0.6)


def fingerprint_figure(fingerprints: list, bin_angstrom: float = 0.025) -> Plot:
    """Hirshfeld d_i/d_e fingerprints side by side (area-weighted histograms, 0.4-2.6 Å), each
    with the surface shares of its element pairs."""
    require("matplotlib", "matplotlib")
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    n = len(fingerprints)
    fig = Figure(figsize=(3.6 * n, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)).ravel()
    edges = np.arange(0.4, 2.6 + 1e-9, bin_angstrom)
    for ax, fp in zip(axes, fingerprints):
        hist, _, _ = np.histogram2d(fp.d_i, fp.d_e, bins=[edges, edges], weights=fp.area)
        hist = np.ma.masked_less_equal(hist.T / fp.surface_area, 0)
        ax.pcolormesh(edges, edges, hist, cmap="turbo", norm=LogNorm(vmin=max(hist.min(), 1e-5), vmax=hist.max()))
        ax.set(xlim=(0.4, 2.6), ylim=(0.4, 2.6), xlabel="d_i / Å", ylabel="d_e / Å", aspect="equal")
        ax.set_title(f"{fp.crystal}\n{fp.surface_area:.0f} Å²", fontsize=9)
        shares = "\n".join(f"{k} {100 * v:.0f}%" for k, v in list(fp.shares().items())[:6])
        ax.text(2.55, 0.45, shares, ha="right", va="bottom", fontsize=7, family="monospace")
    return Plot(fig, caption="Hirshfeld surface fingerprints (d_i/d_e, area-weighted) with element-pair shares")


def element_pair_table(fingerprints: list) -> dict[str, dict[str, float]]:
    """Surface share (%) of each element pair, per crystal: the difference between polymorphs or a
    target and its analogs at a glance."""
    keys = Counter()
    for fp in fingerprints:
        keys.update(fp.shares())
    return {fp.crystal: {k: round(100 * fp.shares().get(k, 0.0), 1) for k, _ in keys.most_common()}
            for fp in fingerprints}
