"""Views of an investigation that the report (agent/report.py) and the notebook
(agent/notebook.py) share: the rows of its tables, its figures, one value formatter,
and a small document model whose sections render to Markdown and to HTML alike.

- Formatting: :func:`fmt_value` (every number a table shows), :func:`short_key`,
  :func:`clip`, :func:`cite` (reference numbers from ``tiers.levels.REFERENCES``).
- Rows: :func:`board_rows` (:class:`BoardRow`), :func:`evidence_items` and
  :func:`evidence_cells` (one comparison as table cells).
- Figures: :func:`evidence_figure` and :func:`ladder_figure` (matplotlib, as a
  :class:`Plot`), and :class:`FigureFile` (a picture as bytes: a file next to
  report.md, a data URI in report.html). Built on ``matplotlib.figure.Figure``, not
  pyplot: no global state, safe in threads.
- Documents: a :class:`Document` of :class:`Section` objects holding blocks
  (:class:`Paragraph`, :class:`Bullets`, :class:`Table`, :class:`Figures`,
  :class:`MarkdownText`). ``markdown()`` writes report.md's text; ``html()`` renders
  the same blocks through markdown-it-py (figures as data URIs, statuses and verdicts
  in table cells as badges); no script, no external resource.

Tier names and short labels come from the one tier table, ``tiers.levels``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import base64
import html
import importlib
import io
import os
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Sequence, Union, get_args

from ..tiers.levels import REFERENCES, TIERS
from .state import HypStatus, Verdict

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from .state import Evidence, Hypothesis, InvestigationView


# ====================================================================== formatting
def fmt_value(x: Any) -> str:
    """A value as the tables show it: floats to 3 significant figures, ``n/a`` when missing.

    No exponents: numerical noise such as a dipole of 1.22e-06 D (zero by symmetry) prints as 0.00,
    and values from 1000 on as whole numbers."""
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if abs(x) < 5e-3:
            return "0.00"
        return f"{x:.0f}" if abs(x) >= 1000 else f"{x:.3g}"
    return str(x)


def short_key(key: str | None) -> str:
    """A result-store key cut to 12 characters (``—`` for none: a value known without a calculation)."""
    return key[:12] if key else "—"


def clip(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters at a word boundary, with an ellipsis when cut."""
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def cite(*keys: str) -> str:
    """``[i, j]``: the numbers of the referenced keys in ``tiers.levels.REFERENCES`` (their order)."""
    index = {key: i for i, key in enumerate(REFERENCES, start=1)}
    nums = sorted({index[k] for k in keys if k in index})
    return f"[{', '.join(map(str, nums))}]" if nums else ""


def as_view(obj) -> "InvestigationView":
    """An InvestigationView from a view or an Investigation."""
    return obj.state if hasattr(obj, "run_dir") else obj


def require(module: str, pip_name: str):
    """Import an optional display dependency, with an error that says what to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{module} is needed for this display: pip install {pip_name} "
                          "(or pip install 'tierchem[notebook]')") from None


# ====================================================================== rows
@dataclass(frozen=True)
class BoardRow:
    """One hypothesis on the board."""

    id: str
    category: str
    kind: str
    status: str
    confidence: float
    evidence: int
    tier: int
    source: str
    priority: int

    def cells(self) -> list[str]:
        """The row's cells under :data:`BOARD_HEAD`."""
        return [self.id, self.category, self.kind, self.status, f"{self.confidence:.2f}", str(self.evidence),
                str(self.tier) if self.tier >= 0 else "—", self.source]


BOARD_HEAD = ("id", "category", "kind", "status", "confidence", "evidence", "tier reached", "source")
EVIDENCE_HEAD = ("observable", "target", "analogs", "±σ", "effect (z)", "verdict", "adequate")


def evidence_count(v: "InvestigationView", h: "Hypothesis") -> int:
    """How many evidence items (observable x tier) bear on a hypothesis."""
    names = {u.observable for u in h.observables}
    return sum(1 for e in v.evidence if e.observable in names and e.verdict != "not_computed")


def board_rows(v: "InvestigationView") -> list[BoardRow]:
    """The board's rows, in priority order."""
    return [BoardRow(id=h.id, category=h.category, kind=h.kind + (f" of {h.mechanism_of}" if h.mechanism_of else ""),
                     status=h.status, confidence=h.confidence, evidence=evidence_count(v, h), tier=h.tier_reached,
                     source=h.source, priority=h.priority)
            for h in sorted(v.hypotheses, key=lambda h: (h.priority, h.id))]


def evidence_items(v: "InvestigationView", tier: int | None = None,
                   observable: str | None = None) -> list["Evidence"]:
    """The evidence (optionally of one tier or observable), by tier then observable."""
    return sorted((e for e in v.evidence
                   if (tier is None or e.tier == tier) and (observable is None or e.observable == observable)),
                  key=lambda e: (e.tier, e.observable))


def evidence_cells(e: "Evidence", keys: bool = False) -> list["Cell"]:
    """One comparison's cells under :data:`EVIDENCE_HEAD`; the analogs cell is a list (one line each).
    ``keys``: each value followed by the short key of the stored result it was read from."""
    def value(r) -> str:
        return f"{r.molecule}: {fmt_value(r.value)}" + (f" `{short_key((r.cache_keys or [None])[0])}`" if keys else "")

    effect = "—" if e.effect is None else f"{e.effect:.3g} ({e.z:.1f})"
    return [f"{e.observable} [{e.unit}]", value(e.target), [value(a) for a in e.analogs], f"{e.sigma:.2g}", effect,
            e.verdict, "yes" if e.adequate else f"no: {e.adequacy_note}"]


def plain_cells(cells: Sequence["Cell"], sep: str = "; ") -> list[str]:
    """Cells as single strings (a list cell joined by ``sep``)."""
    return [c if isinstance(c, str) else sep.join(c) for c in cells]


# ====================================================================== figures
TIER_COLORS = {0: "#7f7f7f", 1: "#1f77b4", 2: "#2ca02c", 3: "#d62728", 4: "#9467bd"}


@dataclass(frozen=True)
class FigureFile:
    """A picture of the report: written to ``figures/<name>`` next to report.md, embedded in report.html."""

    name: str
    caption: str
    data: bytes
    mime: str = "image/png"

    @property
    def path(self) -> str:
        return f"figures/{self.name}"

    def data_uri(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode()

    def captioned(self, caption: str) -> "FigureFile":
        return replace(self, caption=caption)


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

    def file(self, name: str) -> FigureFile:
        """The plot as a PNG :class:`FigureFile` called ``name``."""
        return FigureFile(name, self.caption, self.png())

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return f"<Plot: {self.caption or 'figure'}>"


def _figure(n_panels: int, ncols: int = 3, panel=(3.6, 2.9)):
    require("matplotlib", "matplotlib")
    from matplotlib.figure import Figure

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


def _evidence_panel(ax, name: str, items: list["Evidence"], mols: list[str], tiers_seen: set[int]) -> None:
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


EVIDENCE_CAPTION = ("Each observable per molecule (target first, in bold) and tier; bars ±σ per molecule "
                    "(the tier's comparison uncertainty); hollow markers: the tier is not adequate for a verdict.")
LADDER_CAPTION = ("Energy ladder: contact interaction energies (kcal/mol; negative binds) at each tier, "
                  "one line per molecule (the target in red), bars ±σ.")
FIGURE_RECIPE = "1"  # bump when the drawing code changes what a cached figure looks like


def _evidence_names(v: "InvestigationView", observables: Sequence[str] | None = None,
                    max_panels: int = 9) -> list[str]:
    names = list(observables) if observables is not None else plotted_observables(v)[:max_panels]
    return [n for n in names if any(e.observable == n for e in v.evidence)]


def _ladder_names(v: "InvestigationView", observables: Sequence[str] | None = None) -> list[str]:
    names = list(observables) if observables is not None else sorted(
        {e.observable for e in v.evidence if e.observable.startswith("ie_")})
    return [n for n in names if any(e.observable == n and any(x is not None for _, x in _values(e))
                                    for e in v.evidence)]


def figure_content(kind: str, v, observables: Sequence[str] | None = None) -> dict | None:
    """What figure ``kind`` ('evidence' or 'ladder') shows, as JSON data: its panels, molecules and
    every number, σ, tier, verdict and adequacy drawn (None: nothing to plot). Equal content, equal
    picture: its hash names the cached PNG (:func:`cached_figure`)."""
    v = as_view(v)
    names = (_ladder_names if kind == "ladder" else _evidence_names)(v, observables)
    if not names:
        return None
    drawn = [[e.observable, e.tier, e.unit, e.sigma, e.adequate, e.verdict, _values(e)]
             for e in v.evidence if e.observable in names]
    return {"kind": kind, "names": names, "mols": [m.name for m in v.series.members if m.role != "proposed"],
            "evidence": drawn, "recipe": FIGURE_RECIPE}


def cached_figure(kind: str, v, name: str, cache_dir=None) -> FigureFile | None:
    """Figure ``kind`` of ``v`` as the PNG :class:`FigureFile` ``name``, drawn only when no picture of
    the same content (:func:`figure_content`, with matplotlib's version) is in ``cache_dir``."""
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    v = as_view(v)
    content = figure_content(kind, v)
    if content is None:
        return None
    caption = LADDER_CAPTION if kind == "ladder" else EVIDENCE_CAPTION
    try:
        content["matplotlib"] = version("matplotlib")
    except PackageNotFoundError:
        raise ImportError("matplotlib is not installed (pip install matplotlib)") from None
    def draw() -> bytes:
        return (ladder_figure if kind == "ladder" else evidence_figure)(v).png()

    data = draw() if cache_dir is None else cached_png(Path(cache_dir), kind, content, draw).read_bytes()
    return FigureFile(name, caption, data)


def cached_png(cache_dir, stem: str, content, draw) -> "Path":
    """The PNG of ``content`` (JSON data: what the picture shows) in ``cache_dir``, named by its hash;
    ``draw()`` (its bytes) runs only when no picture of that content is there yet."""
    import hashlib
    import json
    from pathlib import Path

    key = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]
    path = Path(cache_dir) / f"{stem}-{key}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(draw())
        os.replace(tmp, path)  # whole or absent, with writers side by side
    return path


def evidence_figure(v, observables: Sequence[str] | None = None, max_panels: int = 9) -> Plot | None:
    """Each observable per molecule per tier, with ±σ bars (filled: adequate tier; hollow: not).

    ``v``: an InvestigationView or Investigation. None when there is nothing to plot.
    """
    v = as_view(v)
    names = _evidence_names(v, observables, max_panels)
    if not names:
        return None
    fig, axes = _figure(len(names))
    mols = [m.name for m in v.series.members if m.role != "proposed"]
    tiers_seen: set[int] = set()
    for ax, name in zip(axes, names):
        items = sorted((e for e in v.evidence if e.observable == name), key=lambda e: e.tier)
        _evidence_panel(ax, name, items, mols, tiers_seen)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color=TIER_COLORS[t], label=f"tier {t} ({TIERS[t].short})")
               for t in sorted(tiers_seen)]
    handles.append(Line2D([], [], marker="o", ls="", color="k", mfc="white", label="tier not adequate"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize=8, frameon=False)
    return Plot(fig, EVIDENCE_CAPTION)


def ladder_figure(v, observables: Sequence[str] | None = None) -> Plot | None:
    """Interaction energies across the tier ladder, one line per molecule (±σ bars). None if nothing to show."""
    v = as_view(v)
    names = _ladder_names(v, observables)
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
        ax.set_xticklabels([f"{t}\n{TIERS[t].short}" for t in tiers], fontsize=7)
        ax.set_xlim(min(tiers) - 0.5, max(tiers) + 0.5)
        ax.axhline(0, color="#999", lw=0.6)
        ax.set_title(f"{name} [kcal/mol]", fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, frameon=False)
    return Plot(fig, LADDER_CAPTION)


# ====================================================================== documents
Cell = Union[str, Sequence[str]]  # a table cell: text, or lines (one per item)


class Block(ABC):
    """A piece of a section. ``markdown()`` is its report.md text; ``html(md)`` renders it (markdown-it)."""

    @abstractmethod
    def markdown(self) -> str:
        """The block as Markdown."""

    def html(self, md: "MarkdownIt") -> str:
        return md.render(self.markdown())


@dataclass
class Paragraph(Block):
    text: str

    def markdown(self) -> str:
        return self.text


@dataclass
class MarkdownText(Block):
    """Markdown written elsewhere (e.g. agent.crystal_facts), kept as it is."""

    text: str

    def markdown(self) -> str:
        return self.text.strip("\n")


@dataclass
class Bullets(Block):
    """A list; an item is its text, or (text, sub-items)."""

    items: Sequence[Union[str, tuple[str, Sequence[str]]]]
    ordered: bool = False

    def markdown(self) -> str:
        out = []
        for k, item in enumerate(self.items, start=1):
            text, sub = (item, ()) if isinstance(item, str) else item
            marker = f"{k}. " if self.ordered else "- "
            out.append(marker + text)
            out += [" " * len(marker) + f"- {s}" for s in sub]
        return "\n".join(out)


@dataclass
class Table(Block):
    head: Sequence[str]
    rows: Sequence[Sequence[Cell]]

    @staticmethod
    def _cell(c: Cell) -> str:
        text = c if isinstance(c, str) else "<br>".join(c)
        return text.replace("\n", " ").replace("|", "\\|")

    def markdown(self) -> str:
        out = ["| " + " | ".join(self.head) + " |", "|" + "---|" * len(self.head)]
        return "\n".join(out + ["| " + " | ".join(map(self._cell, r)) + " |" for r in self.rows])


@dataclass
class Figures(Block):
    """Pictures side by side, each with its caption."""

    figures: Sequence[FigureFile]

    def markdown(self) -> str:
        return "\n".join(f"![{f.caption}]({f.path})" for f in self.figures)

    def html(self, md: "MarkdownIt") -> str:
        return "<div class='figrow'>" + "".join(_figure_html(f, md) for f in self.figures) + "</div>\n"


def _figure_html(f: FigureFile, md: "MarkdownIt") -> str:
    """One picture, embedded (a data URI); plots (PNG) take a whole row."""
    cls = " class='plot'" if f.mime == "image/png" else ""
    return (f"<figure{cls}><img src='{f.data_uri()}' alt='{html.escape(f.caption, quote=True)}'>"
            f"<figcaption>{md.renderInline(f.caption)}</figcaption></figure>")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Section:
    """A titled part of a document: its blocks, then its subsections (one heading level down)."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list["Section"] = field(default_factory=list)
    level: int = 2
    css_class: str = ""

    @property
    def anchor(self) -> str:
        return slug(self.title)

    def markdown(self) -> str:
        parts = [f"{'#' * self.level} {self.title}"] + [b.markdown() for b in self.blocks]
        return "\n\n".join([p for p in parts if p] + [s.markdown() for s in self.subsections])

    def html(self, md: "MarkdownIt") -> str:
        inner = [f"<h{self.level}>{md.renderInline(self.title)}</h{self.level}>"]
        inner += [b.html(md) for b in self.blocks] + [s.html(md) for s in self.subsections]
        if self.level != 2:
            return "\n".join(inner)
        cls = f" class='{self.css_class}'" if self.css_class else ""
        return f"<section id='{self.anchor}'{cls}>\n" + "\n".join(inner) + "</section>"


@dataclass
class Document:
    """A title, the blocks before the first section, and the sections."""

    title: str
    lead: list[Block]
    sections: list[Section]

    def markdown(self) -> str:
        parts = [f"# {self.title}"] + [b.markdown() for b in self.lead] + [s.markdown() for s in self.sections]
        return "\n\n".join(p for p in parts if p) + "\n"

    def html(self, page_title: str, style: str = "", footer: str = "") -> str:
        """A self-contained page: the sections with a navigation line after the lead blocks."""
        md = markdown_renderer()
        nav = "<nav>" + "".join(f"<a href='#{s.anchor}'>{html.escape(s.title)}</a>" for s in self.sections) + "</nav>"
        body = [f"<h1>{md.renderInline(self.title)}</h1>"] + [b.html(md) for b in self.lead] + [nav]
        body += [s.html(md) for s in self.sections]
        return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
                f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<title>{html.escape(page_title)}</title><style>{style}</style></head><body>\n" + "\n".join(body)
                + (f"\n<footer>{footer}</footer>" if footer else "") + "\n</body></html>\n")


# ---------------------------------------------------------------------- markdown-it rules
STATUS_WORDS = get_args(HypStatus)
VERDICT_WORDS = get_args(Verdict)
BARE_URL = re.compile(r"https?://[^\s<>)\],]+[^\s<>)\].,;]")


def _br_tag(state, silent: bool) -> bool:
    """``<br>`` (a line break inside a table cell) with raw HTML otherwise off."""
    if not state.src.startswith("<br>", state.pos):
        return False
    if not silent:
        state.push("hardbreak", "br", 0)
    state.pos += 4
    return True


def _text_token(content: str):
    from markdown_it.token import Token

    return Token("text", "", 0, content=content)


def _linked(child) -> list:
    """A text token split into text and links around its bare http(s) URLs."""
    from markdown_it.token import Token

    out, pos = [], 0
    for m in BARE_URL.finditer(child.content):
        if m.start() > pos:
            out.append(_text_token(child.content[pos:m.start()]))
        out += [Token("link_open", "a", 1, attrs={"href": m.group()}), _text_token(m.group()),
                Token("link_close", "a", -1)]
        pos = m.end()
    if pos < len(child.content):
        out.append(_text_token(child.content[pos:]))
    return out


def _bare_urls(state) -> None:
    """Core rule: bare URLs become links (what linkify does, without its extra dependency)."""
    for tok in state.tokens:
        if tok.type != "inline" or not tok.children:
            continue
        out, depth = [], 0
        for child in tok.children:
            depth += {"link_open": 1, "link_close": -1}.get(child.type, 0)
            out += _linked(child) if child.type == "text" and not depth else [child]
        tok.children = out


def _badges(state) -> None:
    """Core rule: a table cell that is exactly a hypothesis status or a verdict becomes a badge."""
    from markdown_it.token import Token

    in_cell = False
    for tok in state.tokens:
        if tok.type in ("td_open", "td_close"):
            in_cell = tok.type == "td_open"
        elif in_cell and tok.type == "inline":
            word = tok.content.strip()
            if word in STATUS_WORDS:
                badge = f"<span class='badge st-{word}'>{word}</span>"
            elif word in VERDICT_WORDS:
                badge = f"<span class='badge v-{word}'>{word.replace('_', ' ')}</span>"
            else:
                continue
            tok.children = [Token("html_inline", "", 0, content=badge)]


def markdown_renderer() -> "MarkdownIt":
    """CommonMark with tables, raw HTML off (names and reasons come from the user: escaped), ``<br>`` in
    cells, bare URLs linked, status and verdict badges, and tables in a scrolling wrapper."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.inline.ruler.before("html_inline", "br_tag", _br_tag)
    md.core.ruler.push("bare_urls", _bare_urls)
    md.core.ruler.push("badges", _badges)
    md.add_render_rule("table_open", lambda self, tokens, idx, options, env: "<div class='tablewrap'><table>\n")
    md.add_render_rule("table_close", lambda self, tokens, idx, options, env: "</table></div>\n")
    return md
