"""Rich displays for Jupyter, and the figures the report shares with them.

Everything here reads an :class:`~tierchem.agent.state.InvestigationView` (or an
:class:`~tierchem.agent.session.Investigation`); nothing changes the investigation
except :class:`Chat`, which acts only through ``Investigation.ask`` and ``run``.

- :class:`Board`: the hypothesis board (status, confidence, evidence count, tier
  reached). A ``str`` (plain text for the CLI and ``print``) that also renders as
  HTML and Markdown in a notebook.
- :class:`EvidenceTable`: evidence per tier with verdicts and uncertainties.
- :func:`evidence_figure` (each observable per molecule per tier, with ±σ bars) and
  :func:`ladder_figure` (interaction energies across tiers), wrapped in :class:`Plot`
  (inline PNG in a notebook; :meth:`Plot.png` for the report). Built on
  ``matplotlib.figure.Figure`` directly, not pyplot: no global state, safe in threads.
- :func:`show_molecules`, :func:`show_dimer`, :func:`show_crystal_contacts`: 3-D views (py3Dmol).
- :class:`Chat`: an ipywidgets chat that queues steering requests and runs the
  investigation to its next steering point in a thread, streaming the transcript
  and calculation progress without freezing the notebook.

matplotlib, py3Dmol and ipywidgets are the ``notebook`` extra; each is imported
where it is needed, with an error that says what to install.
"""

from __future__ import annotations

import html
import io
import logging
import threading
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from ..chem.molecule import Molecule
    from .session import Investigation
    from .state import Evidence, InvestigationView

log = logging.getLogger(__name__)

TIER_SHORT = {0: "MMFF94", 1: "GAFF2", 2: "GFN2-xTB", 3: "B3LYP-D3", 4: "MP2/CC"}
TIER_COLORS = {0: "#7f7f7f", 1: "#1f77b4", 2: "#2ca02c", 3: "#d62728", 4: "#9467bd"}
STATUS_COLORS = {"root-cause": "#1b7837", "mechanism-of": "#5aae61", "supported": "#a6dba0",
                 "open": "#f7f7f7", "rejected": "#d9d9d9"}


def _need(module: str, pip_name: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{module} is needed for this display: pip install {pip_name} "
                          "(or pip install 'tierchem[notebook]')") from None


def _view(obj) -> "InvestigationView":
    """An InvestigationView from a view or an Investigation."""
    return obj.state if hasattr(obj, "run_dir") else obj


def _member(v: "InvestigationView", name: str):
    for m in v.series.members:
        if m.name == name:
            return m
    raise KeyError(f"no molecule {name!r} in the series; known: {', '.join(m.name for m in v.series.members)}")


def _table_html(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "tierchem") -> str:
    """An HTML table; cells are already escaped HTML."""
    return (f"<table class='{cls}'><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</tbody></table>")


def _table_md(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


# ====================================================================== the board
def evidence_count(v: "InvestigationView", h) -> int:
    """How many evidence items (observable x tier) bear on a hypothesis."""
    names = {u.observable for u in h.observables}
    return sum(1 for e in v.evidence if e.observable in names and e.verdict != "not_computed")


def board_rows(v: "InvestigationView") -> list[dict]:
    """The board's rows, in priority order: id, category, kind, status, confidence, evidence, tier."""
    rows = []
    for h in sorted(v.hypotheses, key=lambda h: (h.priority, h.id)):
        rows.append({"id": h.id, "category": h.category,
                     "kind": h.kind + (f" of {h.mechanism_of}" if h.mechanism_of else ""),
                     "status": h.status, "confidence": h.confidence, "evidence": evidence_count(v, h),
                     "tier": h.tier_reached, "source": h.source, "priority": h.priority})
    return rows


class Board(str):
    """The hypothesis board: plain text as a ``str``; HTML and Markdown in a notebook."""

    HEAD = ("id", "category", "kind", "status", "confidence", "evidence", "tier reached", "source")

    def __new__(cls, v: "InvestigationView"):
        rows = board_rows(v)
        lines = [f"{'id':34s} {'status':13s} {'conf':>5s} {'evid':>4s} {'tier':>4s}  category"]
        for r in rows:
            lines.append(f"{r['id']:34s} {r['status']:13s} {r['confidence']:5.2f} {r['evidence']:4d} "
                         f"{r['tier']:4d}  {r['category']}")
        obj = super().__new__(cls, "\n".join(lines))
        obj.rows = rows
        return obj

    def _cells(self, r: dict) -> list[str]:
        return [r["id"], r["category"], r["kind"], r["status"], f"{r['confidence']:.2f}", str(r["evidence"]),
                str(r["tier"]) if r["tier"] >= 0 else "—", r["source"]]

    def _repr_html_(self) -> str:
        rows = []
        for r in self.rows:
            cells = [html.escape(c) for c in self._cells(r)]
            color = STATUS_COLORS.get(r["status"], "#fff")
            cells[3] = f"<span style='background:{color};padding:1px 6px;border-radius:3px'>{cells[3]}</span>"
            rows.append(cells)
        return "<div><b>Hypothesis board</b>" + _table_html(self.HEAD, rows) + "</div>"

    def _repr_markdown_(self) -> str:
        return "**Hypothesis board**\n\n" + _table_md(self.HEAD, [self._cells(r) for r in self.rows])

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain: the table, not a quoted string
        p.text(str(self))


# ====================================================================== evidence
def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


class EvidenceTable:
    """Evidence per tier: target and analog values, ±σ, effect (z), verdict, adequacy."""

    HEAD = ("tier", "observable", "target", "analogs", "±σ", "effect (z)", "verdict", "adequate")

    def __init__(self, v: "InvestigationView", tier: int | None = None, observable: str | None = None):
        self.items: list["Evidence"] = sorted(
            (e for e in v.evidence
             if (tier is None or e.tier == tier) and (observable is None or e.observable == observable)),
            key=lambda e: (e.tier, e.observable))

    def rows(self) -> list[list[str]]:
        out = []
        for e in self.items:
            eff = "—" if e.effect is None else f"{e.effect:.3g} ({e.z:.1f})"
            out.append([str(e.tier), f"{e.observable} [{e.unit}]", f"{e.target.molecule}: {_fmt(e.target.value)}",
                        "; ".join(f"{a.molecule}: {_fmt(a.value)}" for a in e.analogs), f"{e.sigma:.2g}", eff,
                        e.verdict, "yes" if e.adequate else f"no: {e.adequacy_note}"])
        return out

    def __str__(self) -> str:
        return "\n".join("  ".join(r[:7]) for r in self.rows()) or "no evidence yet"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return _table_html(self.HEAD, [[html.escape(c) for c in r] for r in self.rows()])

    def _repr_markdown_(self) -> str:
        return _table_md(self.HEAD, self.rows())


# ====================================================================== figures
class Plot:
    """A matplotlib figure that shows itself as an inline PNG (no pyplot needed)."""

    def __init__(self, figure, caption: str = ""):
        self.figure = figure
        self.caption = caption

    def png(self, dpi: int = 110) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        return buf.getvalue()

    def save(self, path, dpi: int = 110):
        from pathlib import Path

        Path(path).write_bytes(self.png(dpi))
        return path

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return f"<Plot: {self.caption or 'figure'}>"


def _figure(n_panels: int, ncols: int = 3, panel=(3.6, 2.9)):
    from matplotlib.figure import Figure

    _need("matplotlib", "matplotlib")
    ncols = max(1, min(ncols, n_panels))
    nrows = (n_panels + ncols - 1) // ncols
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _values(e: "Evidence") -> list[tuple[str, float | None]]:
    return [(e.target.molecule, e.target.value)] + [(a.molecule, a.value) for a in e.analogs]


def _short_name(name: str, width: int = 22) -> str:
    return name if len(name) <= width else name[:width - 1] + "…"


def plotted_observables(v: "InvestigationView") -> list[str]:
    """Observables with at least one number, those that tested more hypotheses first."""
    uses: dict[str, int] = {}
    for h in v.hypotheses:
        for u in h.observables:
            uses[u.observable] = uses.get(u.observable, 0) + 1
    have = {e.observable for e in v.evidence if any(x is not None for _, x in _values(e))}
    return sorted(have, key=lambda o: (-uses.get(o, 0), o))


def evidence_figure(v, observables: Sequence[str] | None = None, max_panels: int = 9) -> Plot | None:
    """Each observable per molecule per tier, with ±σ bars (filled: adequate tier; hollow: not).

    ``v``: an InvestigationView or Investigation. None when there is nothing to plot.
    """
    v = _view(v)
    names = list(observables) if observables is not None else plotted_observables(v)[:max_panels]
    names = [n for n in names if any(e.observable == n for e in v.evidence)]
    if not names:
        return None
    fig, axes = _figure(len(names))
    mols = [m.name for m in v.series.members if m.role != "proposed"]
    tiers_seen: set[int] = set()
    for ax, name in zip(axes, names):
        items = sorted((e for e in v.evidence if e.observable == name), key=lambda e: e.tier)
        n = len(items)
        for k, e in enumerate(items):
            vals = dict(_values(e))
            xs = [i + (k - (n - 1) / 2) * 0.18 for i, m in enumerate(mols) if vals.get(m) is not None]
            ys = [vals[m] for m in mols if vals.get(m) is not None]
            if not ys:
                continue
            c = TIER_COLORS.get(e.tier, "k")
            tiers_seen.add(e.tier)
            ax.errorbar(xs, ys, yerr=[e.sigma] * len(ys) if e.sigma < 1e6 else None, fmt="o", ms=6, capsize=3,
                        color=c, mfc=c if e.adequate else "white", mec=c, lw=1.2)
        unit = items[0].unit
        best = max(items, key=lambda e: (e.adequate, e.tier))
        ax.set_title(f"{name}" + (f" [{unit}]" if unit else ""), fontsize=9)
        ax.text(0.02, 0.97, f"t{best.tier}: {best.verdict.replace('_', ' ')}", transform=ax.transAxes,
                fontsize=7, va="top", color="#444")
        ax.set_xticks(range(len(mols)))
        ax.set_xticklabels([_short_name(m) for m in mols], fontsize=7, rotation=20, ha="right")
        ax.set_xlim(-0.6, len(mols) - 0.4)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
        ax.get_xticklabels()[0].set_fontweight("bold")  # the target comes first
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color=TIER_COLORS[t], label=f"tier {t} ({TIER_SHORT[t]})")
               for t in sorted(tiers_seen)]
    handles.append(Line2D([], [], marker="o", ls="", color="k", mfc="white", label="tier not adequate"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize=8, frameon=False)
    return Plot(fig, "Each observable per molecule (target first, in bold) and tier; bars ±σ per molecule "
                     "(the tier's comparison uncertainty); hollow markers: the tier is not adequate for a verdict.")


def ladder_figure(v, observables: Sequence[str] | None = None) -> Plot | None:
    """Interaction energies across the tier ladder, one line per molecule (±σ bars). None if nothing to show."""
    v = _view(v)
    names = list(observables) if observables is not None else sorted(
        {e.observable for e in v.evidence if e.observable.startswith("ie_")})
    names = [n for n in names if any(e.observable == n and any(x is not None for _, x in _values(e))
                                     for e in v.evidence)]
    if not names:
        return None
    fig, axes = _figure(len(names), ncols=min(3, len(names)))
    mols = [m.name for m in v.series.members if m.role != "proposed"]
    styles = ["-o", "--s", ":^", "-.D", "-v", "--P"]
    for ax, name in zip(axes, names):
        items = sorted((e for e in v.evidence if e.observable == name), key=lambda e: e.tier)
        for i, mol in enumerate(mols):
            pts = [(e.tier, dict(_values(e)).get(mol), e.sigma) for e in items]
            pts = [p for p in pts if p[1] is not None]
            if not pts:
                continue
            ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], fmt=styles[i % len(styles)],
                        capsize=3, ms=5, lw=1.5 if i == 0 else 1.0, label=_short_name(mol, 22),
                        color="#d62728" if i == 0 else None)
        tiers = sorted({e.tier for e in items})
        ax.set_xticks(tiers)
        ax.set_xticklabels([f"{t}\n{TIER_SHORT[t]}" for t in tiers], fontsize=7)
        ax.set_xlim(min(tiers) - 0.5, max(tiers) + 0.5)
        ax.axhline(0, color="#999", lw=0.6)
        ax.set_title(f"{name} [kcal/mol]", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False)
    return Plot(fig, "Energy ladder: contact interaction energies (kcal/mol; negative binds) at each tier, "
                     "one line per molecule (the target in red), bars ±σ.")


# ====================================================================== 3-D structures
def _py3dmol_view(width: int, height: int):
    py3Dmol = _need("py3Dmol", "py3Dmol")
    return py3Dmol.view(width=width, height=height)


CARBONS = ("greenCarbon", "cyanCarbon", "orangeCarbon", "magentaCarbon", "yellowCarbon", "purpleCarbon")


def _add_fragments(view, fragments: Sequence[tuple["Molecule", Any]]):
    """Add (molecule, coords or None) fragments as separate models, each with its own carbon colour."""
    for k, (mol, xyz) in enumerate(fragments):
        m = mol if xyz is None else mol.with_coords(xyz)
        view.addModel(m.to_molblock(), "mol")
        view.setStyle({"model": k}, {"stick": {"radius": 0.15, "colorscheme": CARBONS[k % len(CARBONS)]},
                                     "sphere": {"scale": 0.22, "colorscheme": CARBONS[k % len(CARBONS)]}})


def _dashed(view, a, b, label: str | None = None, color: str = "#cc00cc"):
    import numpy as np

    a, b = np.asarray(a, float), np.asarray(b, float)
    view.addCylinder({"start": dict(zip("xyz", map(float, a))), "end": dict(zip("xyz", map(float, b))),
                      "radius": 0.06, "dashed": True, "color": color, "fromCap": 1, "toCap": 1})
    if label:
        mid = (a + b) / 2
        view.addLabel(label, {"position": dict(zip("xyz", map(float, mid))), "fontSize": 11,
                              "backgroundColor": "white", "fontColor": "black", "backgroundOpacity": 0.7})


def show_molecules(mols: Sequence["Molecule"] | "Molecule", width: int = 640, height: int = 360, grid: bool = True):
    """3-D views of molecules (side by side with ``grid``; else overlaid as given)."""
    mols = [mols] if hasattr(mols, "symbols") else list(mols)
    if grid and len(mols) > 1:
        py3Dmol = _need("py3Dmol", "py3Dmol")
        view = py3Dmol.view(width=width, height=height, viewergrid=(1, len(mols)), linked=False)
        for k, m in enumerate(mols):
            view.addModel(m.to_molblock(), "mol", viewer=(0, k))
            view.setStyle({"stick": {"radius": 0.15}, "sphere": {"scale": 0.22}}, viewer=(0, k))
            view.addLabel(m.label, {"position": {"x": 0, "y": 0, "z": 0}, "fontSize": 10, "useScreen": True,
                                    "backgroundOpacity": 0.0, "fontColor": "black"}, viewer=(0, k))
        view.zoomTo()
        return view
    view = _py3dmol_view(width, height)
    _add_fragments(view, [(m, None) for m in mols])
    view.zoomTo()
    return view


def show_series(v, width: int = 900, height: int = 300):
    """The series' molecules side by side (target first)."""
    v = _view(v)
    return show_molecules([m.mol() for m in v.series.members], width=width, height=height)


def show_dimer(v, molecule: str, observable: str = "ie_type_ii_halogen", width: int = 640, height: int = 400):
    """The model dimer an interaction-energy observable computes for one molecule, with its closest
    intermolecular heavy-atom contact drawn dashed (distance in Å)."""
    import numpy as np

    from .observables import OBSERVABLES

    v = _view(v)
    obs = OBSERVABLES.get(observable)
    if obs is None or obs.task != "interaction_energy":
        raise ValueError(f"{observable!r} is not an interaction-energy observable; use one of "
                         + ", ".join(n for n, o in OBSERVABLES.items() if o.task == "interaction_energy"))
    a, b = obs.build(_member(v, molecule).mol())
    view = _py3dmol_view(width, height)
    _add_fragments(view, [(a, None), (b, None)])
    heavy_a = [i for i, s in enumerate(a.symbols) if s != "H"]
    heavy_b = [j for j, s in enumerate(b.symbols) if s != "H"]
    d = np.linalg.norm(a.coords[heavy_a][:, None, :] - b.coords[heavy_b][None, :, :], axis=-1)
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    _dashed(view, a.coords[heavy_a[i]], b.coords[heavy_b[j]], f"{d[i, j]:.2f} Å")
    view.zoomTo()
    return view


def _contact_pair(c) -> tuple[int, int] | None:
    """Indices into ``c.atoms`` of the two atoms a contact joins (None for ring stacks)."""
    if c.kind == "halogen_halogen":
        return 1, 2
    if c.kind in ("hbond", "halogen_bond", "short"):
        return len(c.atoms) - 2, len(c.atoms) - 1
    return None


def crystal_of(v, molecule: str):
    """The observed crystal (``tierchem.chem.crystal.Crystal``) of a series member, from its ``cif`` column."""
    from pathlib import Path

    from ..chem.crystal import read_cif

    v = _view(v)
    rel = _member(v, molecule).observed.get("cif")
    if not rel:
        raise FileNotFoundError(f"{molecule} has no crystal structure in the series (add a 'cif' column)")
    src = Path(v.series.source)
    path = Path(rel) if Path(rel).is_absolute() else (src if src.is_dir() else src.parent) / rel
    return read_cif(path, name=molecule)


def show_crystal_contacts(crystal, kinds: Sequence[str] | None = ("halogen_halogen", "halogen_bond", "hbond"),
                          max_contacts: int = 4, width: int = 640, height: int = 420):
    """Contacts of a crystal (a ``Crystal``, or (view, molecule name) via :func:`crystal_of`): each pair of
    molecules in 3-D with the contact dashed and labelled (kind, subtype, distance)."""
    if isinstance(crystal, tuple):
        crystal = crystal_of(*crystal)
    contacts = [c for c in crystal.contacts() if kinds is None or c.kind in kinds]
    contacts = sorted(contacts, key=lambda c: c.distance)[:max_contacts]
    if not contacts:
        raise ValueError(f"{crystal.name}: no contacts of kind {', '.join(kinds or ['any'])} in the crystal")
    view = _py3dmol_view(width, height)
    placed: dict[tuple[int, tuple[int, int, int]], int] = {}
    frags = []

    def place(mol_index: int, image) -> None:
        key = (mol_index, tuple(image))
        if key not in placed:
            placed[key] = len(frags)
            frags.append((crystal.molecules[mol_index], crystal.image_coords(mol_index, image)))

    for c in contacts:
        place(c.molecules[0], (0, 0, 0))
        place(c.molecules[1], c.image)
    _add_fragments(view, frags)
    for c in contacts:
        pair = _contact_pair(c)
        if pair is None:
            continue
        (m0, a0), (m1, a1) = c.atoms[pair[0]], c.atoms[pair[1]]
        x0 = crystal.image_coords(c.molecules[0], (0, 0, 0))[a0]
        x1 = crystal.image_coords(c.molecules[1], c.image)[a1]
        _dashed(view, x0, x1, f"{c.label} {c.subtype} {c.distance:.2f} Å".replace("  ", " "))
    view.zoomTo()
    return view


# ====================================================================== the investigation at a glance
def investigation_html(inv: "Investigation") -> str:
    """The facade's notebook display: question, where it stands, conclusion, board, queue."""
    v = inv.state
    esc = html.escape
    if not v.series:
        return (f"<div><b>tierchem investigation</b> in <code>{esc(str(inv.run_dir))}</code>: "
                "not started yet; <code>inv.run(until='steer')</code> starts it.</div>")
    nxt = inv.next_steps
    where = (f"paused before <code>{esc(', '.join(nxt))}</code>" if nxt else
             "finished" if v.conclusion else "not started")
    parts = [f"<div><b>tierchem investigation</b> in <code>{esc(str(inv.run_dir))}</code> — {where}; "
             f"tier {max(v.tier, 0)} of cap {v.budget.tier_cap}, {v.budget.cpu_s_used:.0f} s of "
             f"{v.budget.cpu_s_limit:.0f} s used.</div>",
             f"<p><b>Question.</b> {esc(v.question)}<br><b>Target</b> {esc(v.series.target.name)}; analogs "
             f"{esc(', '.join(a.name for a in v.series.analogs))}.</p>"]
    if v.conclusion:
        tag = " (provisional)" if v.conclusion.provisional else ""
        parts.append(f"<p><b>Conclusion{tag}.</b> {esc(v.conclusion.summary)}</p>")
    parts.append(Board(v)._repr_html_())
    parts.append(queue_html(inv.queue()))
    return "<div class='tierchem'>" + "".join(parts) + "</div>"


def investigation_markdown(inv: "Investigation") -> str:
    v = inv.state
    if not v.series:
        return f"**tierchem investigation** in `{inv.run_dir}`: not started yet."
    out = [f"**tierchem investigation** in `{inv.run_dir}`", "", f"**Question.** {v.question}", ""]
    if v.conclusion:
        out += [f"**Conclusion.** {v.conclusion.summary}", ""]
    out += [Board(v)._repr_markdown_(), "", queue_text(inv.queue())]
    return "\n".join(out)


def queue_text(queue: list[dict]) -> str:
    if not queue:
        return "Queue: empty."
    return "Queue (honoured in this order at the next steering point):\n" + "\n".join(
        f"{k}. {q['text']} (priority {q['priority']}, request {q['id']})" for k, q in enumerate(queue, start=1))


def queue_html(queue: list[dict]) -> str:
    if not queue:
        return "<p><b>Queue:</b> empty.</p>"
    return ("<p><b>Queue</b> (honoured in this order at the next steering point):</p><ol>"
            + "".join(f"<li><code>{html.escape(q['text'])}</code> — priority {q['priority']}, "
                      f"request {html.escape(q['id'])}</li>" for q in queue) + "</ol>")


# ====================================================================== the chat widget
class Chat:
    """A chat with a live investigation (ipywidgets).

    Type a steering command (``help`` lists them) and press Send: it is queued at once
    (durable in the run's inbox) and its place in the queue is shown; ``why`` and
    ``help`` are answered at once. "Next steering point" runs the investigation in a
    background thread until it next pauses for steering (queued requests are honoured
    first), streaming the transcript and each finished calculation to the output area;
    the notebook stays responsive. The same actions from code: :meth:`send`,
    :meth:`step`, :meth:`run_to_end`, :meth:`wait`.
    """

    def __init__(self, inv: "Investigation"):
        w = _need("ipywidgets", "ipywidgets")
        self.inv = inv
        self.lines: list[str] = []
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.text = w.Text(placeholder="why halogen_bond · pushback <id> <reason> · calc sigma_hole 3 · help",
                           layout=w.Layout(width="60%"))
        self.send_button = w.Button(description="Send", button_style="primary")
        self.step_button = w.Button(description="Next steering point")
        self.end_button = w.Button(description="Run to the end")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="calcs", layout=w.Layout(width="40%"))
        self.status = w.HTML()
        self.queue_view = w.HTML()
        self.output = w.Output(layout=w.Layout(max_height="320px", overflow="auto", border="1px solid #ddd"))
        self.send_button.on_click(lambda _: self.send(self.text.value))
        self.text.on_submit(lambda _: self.send(self.text.value))
        self.step_button.on_click(lambda _: self.step())
        self.end_button.on_click(lambda _: self.run_to_end())
        self.widget = w.VBox([w.HBox([self.text, self.send_button]), w.HBox([self.step_button, self.end_button,
                                                                              self.progress]),
                              self.status, self.queue_view, self.output])
        self._refresh()

    # -------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _emit(self, speaker: str, text: str) -> None:
        line = f"{speaker}: {text}"
        with self._lock:
            self.lines.append(line)
        self.output.append_stdout(line + "\n")

    def _refresh(self, note: str | None = None) -> None:
        busy = self.running
        nxt = self.inv.next_steps
        where = "running…" if busy else (f"paused before {', '.join(nxt)}" if nxt else
                                         "finished" if self.inv.state.conclusion else "not started")
        self.status.value = f"<b>Status:</b> {html.escape(where)}" + (f" — {html.escape(note)}" if note else "")
        self.queue_view.value = queue_html(self.inv.queue())
        self.step_button.disabled = self.end_button.disabled = busy

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -------------------------------------------------------------- actions
    def send(self, message: str) -> str:
        """Queue a steering request (or get an answer to why/help); returns the reply."""
        message = (message or "").strip()
        if not message:
            return ""
        self.text.value = ""
        self._emit("scientist", message)
        try:
            reply = self.inv.ask(message)
        except Exception as exc:  # a bad request must not break the widget
            log.exception("request %r failed", message)
            reply = f"could not queue it: {exc}"
        self._emit("agent", reply)
        self._refresh()
        return reply

    def step(self) -> threading.Thread | None:
        """Run to the next steering point in a thread."""
        return self._start("steer")

    def run_to_end(self) -> threading.Thread | None:
        return self._start("end")

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running step finishes (for scripts and tests); re-raise its error."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            err, self.error = self.error, None
            raise err

    def _start(self, until: str) -> threading.Thread | None:
        if self.running:
            self._refresh("already running: requests you send now are queued for the next steering point")
            return None
        self.error = None
        self.progress.value, self.progress.max = 0, 1
        self._thread = threading.Thread(target=self._work, args=(until,), name="tierchem-chat", daemon=True)
        self._thread.start()
        self._refresh()
        return self._thread

    def _work(self, until: str) -> None:
        ctx = self.inv.context
        before = ctx.progress
        ctx.progress = self._on_calc
        try:
            self.inv.run(until=until, on_update=self._on_update)
        except BaseException as exc:  # reported in the widget and by wait()
            log.exception("investigation step failed")
            self.error = exc
            self._emit("error", f"{type(exc).__name__}: {exc}")
        finally:
            ctx.progress = before
            self._refresh()

    def _on_update(self, node: str, update: dict) -> None:
        plan = update.get("plan")
        if node == "plan" and plan:
            self.progress.value, self.progress.max = 0, max(1, sum(1 for p in plan if not p.get("background")))
        for t in update.get("transcript") or []:
            self._emit(t.get("speaker", "agent"), t.get("text", ""))

    def _on_calc(self, result) -> None:
        self.progress.value = min(self.progress.max, self.progress.value + 1)
        where = "from the store" if result.from_cache else f"{result.wall_time_s:.1f} s"
        state = "done" if result.success else f"failed ({result.error.kind.value})"
        self._emit("calc", f"{state}: {result.spec.label} ({where})")
