"""Rich displays for Jupyter.

Everything here reads an :class:`~tierchem.agent.state.InvestigationView` (or an
:class:`~tierchem.agent.session.Investigation`, passed in as ``inv``: the facade imports
this module, never the other way round); nothing changes the investigation
except :class:`Chat`, which acts only through ``Investigation.ask`` and ``run``.
The rows, figures and formatting are the report's too (agent.views); this module
adds how a notebook shows them.

- :class:`Board`: the hypothesis board (status, confidence, evidence count, tier
  reached). A ``str`` (plain text for the CLI and ``print``) that also renders as
  HTML and Markdown in a notebook.
- :class:`EvidenceTable`: evidence per tier with verdicts and uncertainties.
- :func:`evidence_figure` and :func:`ladder_figure` (agent.views), each a :class:`Plot`
  (inline PNG in a notebook).
- :func:`show_molecules`, :func:`show_dimer`, :func:`show_crystal_contacts`: 3-D views (py3Dmol).
- :class:`Chat`: an ipywidgets chat that queues steering requests and runs the
  investigation to its next steering point in a thread, streaming the transcript
  and calculation progress without freezing the notebook.

matplotlib, py3Dmol and ipywidgets are the ``notebook`` extra; each is imported
where it is needed, with an error that says what to install.
"""

from __future__ import annotations

import base64
import html
import logging
import re
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .views import (  # noqa: F401  (Plot, the figures and board_rows are this module's API too)
    BOARD_HEAD, EVIDENCE_HEAD, Plot, Table, as_view, board_rows, evidence_cells, evidence_count, evidence_figure,
    evidence_items, ladder_figure, plain_cells, plotted_observables, require,
)

if TYPE_CHECKING:
    from ..chem.molecule import Molecule
    from .state import InvestigationView

log = logging.getLogger(__name__)

STATUS_COLORS = {"root-cause": "#1b7837", "mechanism-of": "#5aae61", "supported": "#a6dba0",
                 "open": "#f7f7f7", "rejected": "#d9d9d9"}


def _member(v: "InvestigationView", name: str):
    for m in v.series.members:
        if m.name == name:
            return m
    raise KeyError(f"no molecule {name!r} in the series; known: {', '.join(m.name for m in v.series.members)}")


def _table_html(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "tierchem") -> str:
    """An HTML table with inline styles (a notebook has no stylesheet); cells are already escaped HTML."""
    return (f"<table class='{cls}'><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</tbody></table>")


# ====================================================================== the board
class Board(str):
    """The hypothesis board: plain text as a ``str``; HTML and Markdown in a notebook."""

    HEAD = BOARD_HEAD

    def __new__(cls, v: "InvestigationView"):
        rows = board_rows(v)
        lines = [f"{'id':34s} {'status':13s} {'conf':>5s} {'evid':>4s} {'tier':>4s}  category"]
        for r in rows:
            lines.append(f"{r.id:34s} {r.status:13s} {r.confidence:5.2f} {r.evidence:4d} {r.tier:4d}  {r.category}")
        obj = super().__new__(cls, "\n".join(lines))
        obj.rows = rows
        return obj

    def _repr_html_(self) -> str:
        rows = []
        for r in self.rows:
            cells = [html.escape(c) for c in r.cells()]
            color = STATUS_COLORS.get(r.status, "#fff")
            cells[3] = f"<span style='background:{color};padding:1px 6px;border-radius:3px'>{cells[3]}</span>"
            rows.append(cells)
        return "<div><b>Hypothesis board</b>" + _table_html(self.HEAD, rows) + "</div>"

    def _repr_markdown_(self) -> str:
        return "**Hypothesis board**\n\n" + Table(self.HEAD, [r.cells() for r in self.rows]).markdown()

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text/plain: the table, not a quoted string
        p.text(str(self))


# ====================================================================== evidence
class EvidenceTable:
    """Evidence per tier: target and analog values, ±σ, effect (z), verdict, adequacy."""

    HEAD = ("tier", *EVIDENCE_HEAD)

    def __init__(self, v: "InvestigationView", tier: int | None = None, observable: str | None = None):
        self.items = evidence_items(v, tier, observable)

    def rows(self) -> list[list[str]]:
        return [[str(e.tier), *plain_cells(evidence_cells(e))] for e in self.items]

    def __str__(self) -> str:
        return "\n".join("  ".join(r[:7]) for r in self.rows()) or "no evidence yet"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return _table_html(self.HEAD, [[html.escape(c) for c in r] for r in self.rows()])

    def _repr_markdown_(self) -> str:
        return Table(self.HEAD, self.rows()).markdown()


# ====================================================================== 3-D structures
STATIC = __import__("pathlib").Path(__file__).with_name("static")
JS_3DMOL = STATIC / "3Dmol-min.js"  # 3Dmol.js 2.5.5 from the npm package ``3dmol`` (BSD-3, 3Dmol-LICENSE.txt)


@lru_cache(maxsize=1)
def _3dmol_src() -> str:
    """3Dmol.js as a ``data:`` URL (shipped with tierchem: the viewers need no network), else the CDN."""
    if not JS_3DMOL.is_file():
        return "https://cdn.jsdelivr.net/npm/3dmol@2.5.5/build/3Dmol-min.js"
    return "data:text/javascript;base64," + base64.b64encode(JS_3DMOL.read_bytes()).decode()


VIEWER_NOTE = ("3-D view of {what}: waiting for 3Dmol.js (shipped with tierchem, no network needed). If this "
               "line stays, the notebook's JavaScript did not run here: trust the notebook (File ▸ Trust "
               "Notebook) or run the cell again.")


class Viewer:
    """A py3Dmol view that displays once, with a line that says why it would be blank.

    py3Dmol's own ``_repr_html_`` publishes the view and returns None, so a notebook also printed
    ``<py3Dmol.view at 0x...>`` under it. Every other attribute (``addModel``, ``zoomTo``, ...) is the view's."""

    def __init__(self, view, what: str):
        self.view, self.what = view, what

    def __getattr__(self, name: str):
        return getattr(self.view, name)

    def html(self) -> str:
        note_id = "tcnote_UNIQUEID"
        note = f"<p id='{note_id}' style='color:#666;font-size:12px'>{html.escape(VIEWER_NOTE.format(what=self.what))}</p>"
        head, sep, tail = self.view.endjs.rpartition("});")
        end = f"{head}var n = document.getElementById('{note_id}'); if (n) n.remove();\n{sep}{tail}"
        uid = str(time.time_ns())
        self.view.uniqueid = uid
        return (note + self.view.startjs + end).replace("UNIQUEID", uid)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), "text/plain": f"3-D view of {self.what} (py3Dmol)"}


def _py3dmol_view(width: int, height: int, **kwargs):
    py3Dmol = require("py3Dmol", "py3Dmol")
    return py3Dmol.view(width=width, height=height, js=_3dmol_src(), **kwargs)


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
        view = _py3dmol_view(width, height, viewergrid=(1, len(mols)), linked=False)
        for k, m in enumerate(mols):
            view.addModel(m.to_molblock(), "mol", viewer=(0, k))
            view.setStyle({"stick": {"radius": 0.15}, "sphere": {"scale": 0.22}}, viewer=(0, k))
            view.addLabel(m.label, {"position": {"x": 0, "y": 0, "z": 0}, "fontSize": 10, "useScreen": True,
                                    "backgroundOpacity": 0.0, "fontColor": "black"}, viewer=(0, k))
        view.zoomTo()
        return Viewer(view, ", ".join(m.label for m in mols))
    view = _py3dmol_view(width, height)
    _add_fragments(view, [(m, None) for m in mols])
    view.zoomTo()
    return Viewer(view, ", ".join(m.label for m in mols))


def show_series(v, width: int = 900, height: int = 300):
    """The series' molecules side by side (target first)."""
    v = as_view(v)
    return show_molecules([m.mol() for m in v.series.members], width=width, height=height)


def show_dimer(v, molecule: str, observable: str = "ie_type_ii_halogen", width: int = 640, height: int = 400):
    """The model dimer an interaction-energy observable computes for one molecule, with its closest
    intermolecular heavy-atom contact drawn dashed (distance in Å)."""
    import numpy as np

    from .observables import OBSERVABLES

    v = as_view(v)
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
    return Viewer(view, f"the {observable} dimer of {molecule}, closest contact {d[i, j]:.2f} Å")


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

    v = as_view(v)
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
    return Viewer(view, f"contacts in the crystal of {crystal.name}")


MOTIF_COLORS = {"type_ii_xx": "#cc00cc", "type_i_xx": "#2166ac", "intermediate_xx": "#7f7f7f",
                "halogen_bond": "#d6604d", "hbond": "#1b7837", "pi_stack": "#e08214", "t_contact": "#35978f"}


def show_aggregation(result, replica: int = 0, width: int = 640, height: int = 480):
    """The last frame of an ``md_aggregation`` run (its CalcResult, or the path of its ``.npz``) with each motif
    contact dashed and labelled (II/I X···X, C-X···A, H-bonds, stacks, T contacts) in py3Dmol; a matplotlib
    picture (:class:`Plot`) where py3Dmol is not installed."""
    from ..tiers.aggregation import contact_segments, final_frame

    mols = final_frame(result, replica)
    segments = contact_segments(mols)
    what = f"replica {replica} of {len(mols)} {mols[0].label}: {len(segments)} contacts marked"
    try:
        view = _py3dmol_view(width, height)
    except ImportError:
        return _aggregation_png(mols, segments, what)
    _add_fragments(view, [(m, None) for m in mols])
    for kind, label, a, b in segments:
        _dashed(view, a, b, label, color=MOTIF_COLORS.get(kind, "#cc00cc"))
    view.zoomTo()
    return Viewer(view, what)


def _aggregation_png(mols, segments, caption: str) -> Plot:
    """The frame as a matplotlib 3-D picture: bonds grey, contacts dashed in their motif's colour."""
    require("matplotlib", "matplotlib")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    for m in mols:
        for i, j, _ in m.bonds:
            ax.plot(*zip(m.coords[i], m.coords[j]), color="#999999", lw=1.2)
        heavy = [k for k, s in enumerate(m.symbols) if s != "H"]
        ax.scatter(*m.coords[heavy].T, s=12, color="#444444")
    for kind, label, a, b in segments:
        ax.plot(*zip(a, b), ls="--", lw=1.5, color=MOTIF_COLORS.get(kind, "#cc00cc"))
        ax.text(*((a + b) / 2), label, fontsize=7)
    ax.set_axis_off()
    ax.set_title(caption, fontsize=9)
    return Plot(fig, caption)


# ====================================================================== what a step would cost
def step_estimate(v, observable: str, tier: int) -> float:
    """Rough seconds (this machine's cost model) to compute ``observable`` at ``tier`` for the whole series."""
    from .observables import estimate_seconds, specs_for

    v = as_view(v)
    return sum(estimate_seconds(s) for m in v.series.members for s in specs_for(observable, m.mol(), tier))


# ====================================================================== the investigation at a glance
def investigation_html(inv: Any) -> str:
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


def investigation_markdown(inv: Any) -> str:
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
UNDERSTOOD = re.compile(r"Understood as ((?:`[^`]*`(?:; )?)+)\.\s*")

CHAT_CSS = """<style>
.tc-chat {max-height: 360px; overflow-y: auto; display: flex; flex-direction: column-reverse;
  border: 1px solid #ddd; padding: 6px; font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px}
.tc-msg {margin: 4px 0; padding: 6px 10px; border-radius: 8px; max-width: 85%; line-height: 1.4}
.tc-msg p {margin: 2px 0}
.tc-scientist {align-self: flex-end; margin-left: auto; background: #dbeafe; border: 1px solid #bfdbfe}
.tc-agent {background: #f3f4f6; border: 1px solid #e5e7eb}
.tc-error {background: #fee2e2; border: 1px solid #fca5a5}
.tc-calc {color: #6b7280; font-size: 11px; font-family: var(--jp-code-font-family, monospace); margin: 1px 0}
.tc-who {font-size: 11px; color: #6b7280; font-weight: bold}
.tc-understood {font-size: 11px; color: #374151; background: #fef9c3; border-radius: 4px; padding: 1px 6px;
  margin: 2px 0 0 auto; width: fit-content}
.tc-msg table {border-collapse: collapse; margin: 4px 0} .tc-msg th, .tc-msg td {border: 1px solid #d1d5db;
  padding: 2px 6px; text-align: left}
.tc-msg code {background: rgba(0,0,0,.06); padding: 0 3px; border-radius: 3px}
</style>"""


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")


def message_html(speaker: str, text: str) -> str:
    """One chat line as HTML: the scientist's and the agent's messages as distinct bubbles (Markdown,
    tables included), the interpreter's reading ("Understood as `...`") as a tag of its own."""
    if speaker == "calc":
        return f"<div class='tc-calc'>⚙ {html.escape(text)}</div>"
    if speaker == "understood":
        return f"<div class='tc-understood'>understood as {_markdown().renderInline(text)}</div>"
    cls = {"scientist": "tc-scientist", "error": "tc-error"}.get(speaker, "tc-agent")
    who = {"scientist": "you", "error": "error"}.get(speaker, "tierchem" if speaker == "agent" else speaker)
    return f"<div class='tc-msg {cls}'><div class='tc-who'>{html.escape(who)}</div>{_markdown().render(text)}</div>"


def split_understood(reply: str) -> tuple[list[str], str]:
    """The interpreter's readings (``Understood as `cmd`.``) out of a reply, and the rest of it."""
    readings = [m.group(1) for m in UNDERSTOOD.finditer(reply)]
    return readings, UNDERSTOOD.sub("", reply).strip()


def _kernel_loop():
    """The IPython kernel's event loop (thread-safe ``add_callback``), or None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return getattr(getattr(get_ipython(), "kernel", None), "io_loop", None)


class Chat:
    """A chat with a live investigation (ipywidgets).

    Type a request in your own words or as a command (``help`` lists them) and press Send: it is
    queued at once (durable in the run's inbox); the reply says how it was understood and its place
    in the queue; questions are answered at once. "Next steering point" runs the investigation in a
    background thread until it next pauses for steering (queued requests are honoured first),
    streaming the transcript and each finished calculation into the conversation; the notebook stays
    responsive. Widgets are only touched on the kernel's own thread (ipywidgets is not thread-safe):
    the worker hands its updates to the kernel's event loop. If the investigation was closed (a later
    cell's ``inv.close()``), the chat reopens its run directory. The same from code: :meth:`send`,
    :meth:`step`, :meth:`run_to_end`, :meth:`wait`.
    """

    def __init__(self, inv: Any):
        w = require("ipywidgets", "ipywidgets")
        self.inv = inv
        self.lines: list[str] = []  # "speaker: text", as said
        self._html: list[str] = []  # the same, rendered
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._busy = False
        self._lock = threading.Lock()
        self._main = threading.current_thread()
        self._loop = _kernel_loop()
        self.text = w.Text(placeholder="e.g. how sure are you about the halogen bond? · check the dipole at DFT · help",
                           layout=w.Layout(width="60%"))
        self.send_button = w.Button(description="Send", button_style="primary")
        self.step_button = w.Button(description="Next steering point")
        self.end_button = w.Button(description="Run to the end")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="calcs", layout=w.Layout(width="40%"))
        self.status = w.HTML()
        self.queue_view = w.HTML()
        self.output = w.HTML(CHAT_CSS + "<div class='tc-chat'><div></div></div>")
        self.send_button.on_click(lambda _: self.send(self.text.value))
        self.text.on_submit(lambda _: self.send(self.text.value))
        self.step_button.on_click(lambda _: self.step())
        self.end_button.on_click(lambda _: self.run_to_end())
        self.widget = w.VBox([w.HBox([self.text, self.send_button]), w.HBox([self.step_button, self.end_button,
                                                                              self.progress]),
                              self.status, self.queue_view, self.output])
        self.widget.add_class("tierchem-chat")
        self._refresh()

    # -------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _ui(self, fn, *args) -> None:
        """Run ``fn`` on the kernel's thread: at once there, else handed to the kernel's event loop."""
        if self._loop is None or threading.current_thread() is self._main:
            fn(*args)
        else:
            self._loop.add_callback(fn, *args)

    def _emit(self, speaker: str, text: str) -> None:
        with self._lock:
            self.lines.append(f"{speaker}: {text}")
            if speaker == "agent":
                readings, rest = split_understood(text)
                self._html.extend(message_html("understood", r) for r in readings)
                if rest or not readings:
                    self._html.append(message_html(speaker, rest or text))
            else:
                self._html.append(message_html(speaker, text))
        self._ui(self._render)

    def _render(self) -> None:
        with self._lock:
            body = "".join(self._html)
        # column-reverse: the box stays scrolled to its newest message
        self.output.value = CHAT_CSS + f"<div class='tc-chat'><div>{body}</div></div>"

    def _refresh(self, note: str | None = None) -> None:
        busy = self._busy
        try:
            inv = self._live()
            nxt = inv.next_steps
            where = "running…" if busy else (f"paused before {', '.join(nxt)}" if nxt else
                                             "finished" if inv.state.conclusion else "not started")
            self.queue_view.value = queue_html(inv.queue())
        except Exception as exc:  # the status line must not break the widget
            log.exception("chat status")
            where = f"unknown ({type(exc).__name__}: {exc})"
        self.status.value = f"<b>Status:</b> {html.escape(where)}" + (f" — {html.escape(note)}" if note else "")
        self.step_button.disabled = self.end_button.disabled = busy

    @property
    def running(self) -> bool:
        return self._busy

    def _live(self):
        """The investigation, reopened from its run directory if it was closed meanwhile."""
        if getattr(self.inv, "closed", False):
            log.info("chat: %s was closed; reopening it", self.inv.run_dir)
            self.inv = type(self.inv).open(self.inv.run_dir)
        return self.inv

    # -------------------------------------------------------------- actions
    def send(self, message: str) -> str:
        """Send a message (queued as requests, or answered at once); returns the reply."""
        message = (message or "").strip()
        if not message:
            return ""
        self.text.value = ""
        self._emit("scientist", message)
        from .inbox import read_inbox

        seen: set[str] | None = None
        try:
            inv = self._live()
            seen = {r.id for r in read_inbox(inv.run_dir)}
            reply = inv.ask(message)
        except Exception as exc:  # a bad request must not break the widget; say only what is true
            log.exception("request %r failed", message)
            kept = [] if seen is None else [r for r in read_inbox(self.inv.run_dir) if r.id not in seen]
            reply = (f"Recorded as request {kept[0].id}: it will be honoured at the next steering point, but "
                     f"I could not read the queue back ({exc})." if kept else f"I could not take this request: {exc}")
        if "Understood as" not in reply:  # a question answered at once: say how it was read all the same
            reply = self._reading(message) + reply
        self._emit("agent", reply)
        self._ui(self._refresh)
        return reply

    def _reading(self, message: str) -> str:
        """``Understood as `cmd`. `` for a message (the interpreter's dry run), or "" if it has no reading."""
        try:
            from .interpret import read_message

            cmds = read_message(message, self.inv.state).commands
        except Exception:  # the reading is a courtesy; the reply stands without it
            log.debug("no reading for %r", message, exc_info=True)
            return ""
        return f"Understood as {'; '.join(f'`{c}`' for c in cmds)}. " if cmds else ""

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
        if self._busy:
            self._refresh("already running: requests you send now are queued for the next steering point")
            return None
        self.error = None
        self._busy = True
        self.progress.value, self.progress.max = 0, 1
        self._refresh()
        self._thread = threading.Thread(target=self._work, args=(until,), name="tierchem-chat", daemon=True)
        self._thread.start()
        return self._thread

    def _work(self, until: str) -> None:
        try:
            inv = self._live()
            ctx = inv.context
            before, ctx.progress = ctx.progress, self._on_calc
            try:
                inv.run(until=until, on_update=self._on_update)
            finally:
                ctx.progress = before
        except BaseException as exc:  # reported in the widget and by wait()
            log.exception("investigation step failed")
            self.error = exc
            self._emit("error", f"{type(exc).__name__}: {exc}")
        finally:
            self._busy = False
            self._ui(self._refresh)

    def _set_progress(self, value: int, maximum: int | None = None) -> None:
        if maximum is not None:
            self.progress.max = maximum
        self.progress.value = min(self.progress.max, value)

    def _on_update(self, node: str, update: dict) -> None:
        plan = update.get("plan")
        if node == "plan" and plan:
            self._calcs = 0
            self._ui(self._set_progress, 0, max(1, sum(1 for p in plan if not p.get("background"))))
        for t in update.get("transcript") or []:
            self._emit(t.get("speaker", "agent"), t.get("text", ""))

    def _on_calc(self, result) -> None:
        self._calcs = getattr(self, "_calcs", 0) + 1
        self._ui(self._set_progress, self._calcs)
        where = "from the store" if result.from_cache else f"{result.wall_time_s:.1f} s"
        state = "done" if result.success else f"failed ({result.error.kind.value})"
        self._emit("calc", f"{state}: {result.spec.label} ({where})")
