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

import html
import logging
import threading
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
def _py3dmol_view(width: int, height: int):
    py3Dmol = require("py3Dmol", "py3Dmol")
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
        py3Dmol = require("py3Dmol", "py3Dmol")
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
    return view


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

    def __init__(self, inv: Any):
        w = require("ipywidgets", "ipywidgets")
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
