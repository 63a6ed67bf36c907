"""The report: ``report.md`` with its figures in ``figures/``, a self-contained
``report.html`` (the same text, figures embedded as data URIs), and ``conclusion.json``.

Order: the question, the conclusion first, the series (RDKit depictions), the
hypothesis board, the evidence per tier (every number with the cache key of the
stored result it came from) with its figures, crystal facts and confirmatory
molecules, the escalation path with costs, steering, method details read from the
stored results (engines, versions, methods, bases, dispersion, settings, decision
thresholds), and numbered references.

:func:`document` builds the report once as sections (agent.views); report.md and
report.html are two renderings of them. Tier names and references come from the
one tier table, ``tiers.levels``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..chem.depict import depict_svg
from ..tiers.levels import REFERENCES, TIERS, method_references
from .state import InvestigationView
from .views import (
    BOARD_HEAD, EVIDENCE_HEAD, Block, Bullets, Document, FigureFile, Figures, MarkdownText, Paragraph, Section,
    Table, board_rows, cached_figure, cite, clip, evidence_cells, evidence_items, fmt_value, short_key,
)

log = logging.getLogger(__name__)


def _pick(model, keys: tuple[str, ...]) -> dict:
    return {k: getattr(model, k) for k in keys}


# ====================================================================== conclusion.json
def conclusion_json(v: InvestigationView) -> dict:
    c = v.conclusion
    if c is None:
        return {"question": v.question, "status": "no conclusion yet"}
    return {
        "question": v.question,
        "target": v.series.target.name,
        "analogs": [a.name for a in v.series.analogs],
        "provisional": c.provisional,
        "summary": c.summary,
        "root_cause": _pick(c.root_cause, ("category", "id", "statement", "confidence", "evidence"))
        if c.root_cause else None,
        "mechanism": [_pick(m, ("category", "id", "statement", "mechanism_of", "evidence")) for m in c.mechanism],
        "rejected": [_pick(r, ("category", "id", "reason")) for r in c.rejected],
        "open": [o.model_dump(mode="json") for o in c.open],
        "confidence": c.confidence,
        "confidence_reason": c.confidence_reason,
        "deciding_calculation": c.deciding_calculation,
        "caveats": c.caveats,
        "predictions": c.predictions,
        "evidence_refs": c.evidence_refs,
        "changes": c.changes,
        "pending": c.pending,
        "cause_and_consequence": causal_json(c),
        **_design_json(v),
        "tierchem": __version__,
    }


def causal_json(c) -> list[dict]:
    """Stable keys: per pair ``pair``, ``verdict``, ``root``, ``consequence``, ``reason``, ``prior``,
    ``larger`` (the cause worth clearly more in energy when neither is a consequence) and its
    ``tests`` (``tested``, ``removed``, ``observable``, ``tier``, ``target``, ``counterfactual``, ``analogs``,
    ``z_target``, ``z_counterfactual``, ``survives``, ``status``, ``changes``, ``note``)."""
    tests = {t.id: t for t in c.causal_tests}
    keys = ("tested", "removed", "observable", "tier", "unit", "target", "counterfactual", "z_target",
            "z_counterfactual", "survives", "status", "changes", "note")
    return [{**_pick(p, ("pair", "verdict", "root", "consequence", "reason", "prior", "larger")),
             "tests": [{**_pick(tests[i], keys), "analogs": {a.molecule: a.value for a in tests[i].analogs}}
                       for i in p.tests if i in tests]} for p in c.cause_and_consequence]


def causal_section(v: InvestigationView) -> Section | None:
    """Cause and consequence: each supported pair's counterfactual tests and verdict (agent.causality)."""
    c = v.conclusion
    if c is None or not c.cause_and_consequence:
        return None
    tests = {t.id: t for t in c.causal_tests}
    rows = []
    for p in c.cause_and_consequence:
        for t in (tests[i] for i in p.tests if i in tests):
            analogs = ", ".join(f"{a.molecule} {fmt_value(a.value)}" for a in t.analogs)
            cf = fmt_value(t.counterfactual) + (f" ({t.z_counterfactual:.1f} σ)" if t.z_counterfactual is not None
                                                else f" ({t.status})")
            rows.append([" / ".join(p.pair), f"{t.observable} at tier {t.tier} ({t.tested})",
                         fmt_value(t.target) + (f" ({t.z_target:.1f} σ)" if t.z_target is not None else ""),
                         f"without {t.removed}: {cf}", analogs, p.verdict])
    blocks = [Paragraph("Each supported cause's decisive observable computed on the target with the other's "
                        "feature removed (the counterfactual), at the tier of its verdict; a separation at or "
                        "under 1 sigma of a difference has vanished."),
              Table(["pair", "observable", "target", "counterfactual", "analogs", "verdict"], rows),
              Bullets([f"**{' / '.join(p.pair)}: {p.verdict}.** {p.reason}"
                       + (f" (the template prior was {p.prior})" if p.prior != "none" else "")
                       for p in c.cause_and_consequence]
                      + [f"{t.id}: {t.changes or t.note}" for t in c.causal_tests if t.changes or t.note])]
    return Section("Cause and consequence", blocks)


def _design_json(v: InvestigationView) -> dict:
    """conclusion.json's ``proposals`` and ``crystal_facts`` (agent.crystal_facts)."""
    from .crystal_facts import crystal_json

    return {"proposals": proposals_json(v), "crystal_facts": crystal_json(v)}


# ====================================================================== confirmatory molecules
PROPOSAL_KEYS = ("rank", "smiles", "name", "transformation", "description", "discrimination", "sa_score",
                 "heavy_atoms", "coverage", "basis_kind", "rank_score", "experiment", "predictions", "positions",
                 "values", "evidence_refs", "basis", "rigorous")

RIGOROUS = {  # the best candidate's calculation beyond the design budget, by status
    "computed": "computed in the background for the best candidate; the prediction above rests on it",
    "failed": "computed in the background for the best candidate, but it failed; the prediction above does not "
              "rest on it",
    "running": "running in the background; until it finishes the prediction above rests on a cheap proxy (or on "
               "nothing), and the ranking is updated when it does (`tierchem resume RUN_DIR` picks it up)",
}

SCORING = ("Position s of a candidate on each hypothesis's observable: 1 = target-like (should pack like the "
           "target), 0 = analog-like, 0.5 = no prediction; distances padded by the tier's uncertainty. "
           "Discrimination D = max(s) - min(s) (0 when all hypotheses agree); rank = D x accessibility "
           "(1 - (SA - 1)/18) x size (1/(1 + extra heavy atoms/10)) x coverage (share of hypotheses with a "
           "computed prediction; one from a cheap proxy, marked *, counts half).")


def proposals_json(v: InvestigationView) -> list[dict]:
    """conclusion.json's ``proposals``: each ranked candidate as plain JSON."""
    out = []
    for p in v.proposals:
        data = p.model_dump(mode="json")
        out.append({k: data[k] for k in PROPOSAL_KEYS})
    return out


def _proposal_table(v: InvestigationView) -> Table:
    hyps = v.design.hypotheses
    rows = []
    for p in v.proposals:
        s = ["—" if p.positions.get(h.id) is None else
             f"{p.positions[h.id]:.2f}{'*' if p.basis_kind.get(h.id) == 'proxy' else ''}" for h in hyps]
        rows.append([str(p.rank), f"{p.name} `{p.smiles}`", p.transformation, f"{p.discrimination:.2f}",
                     f"{p.sa_score:.1f}", f"{p.rank_score:.2f}", *s])
    return Table(["#", "molecule", "change", "D", "SA", "rank", *(f"s({h.id})" for h in hyps)], rows)


def _proposal_details(p) -> list[Block]:
    items = [f"Experiment: {p.experiment}"]
    items += [f"If `{hid}` holds: {text}" for hid, text in p.predictions.items()]
    items += [f"`{hid}` at its adequate tier ({r.observable} at tier {r.tier}): {RIGOROUS.get(r.status, r.status)}."
              for hid, r in p.rigorous.items()]
    vals = ", ".join(f"{k} = {fmt_value(x)}" for k, x in p.values.items())
    keys = ", ".join(f"`{short_key(k)}`" for k in p.evidence_refs)
    items.append(f"Computed: {vals or 'nothing'}" + (f" (results {keys})" if keys else ""))
    return [Paragraph(f"**{p.rank}. {p.name}** (`{p.smiles}`, {p.transformation}): {p.description}"),
            Bullets(items)]


def proposals_section(v: InvestigationView, figures: dict[str, FigureFile]) -> Section | None:
    """"Confirmatory molecules": how candidates were scored, the ranking, their depictions, each one's experiment."""
    info = v.design
    if not v.proposals and not info.hypotheses:
        return None
    blocks: list[Block] = []
    if info.hypotheses:
        excluded = f"; excluded elements: {', '.join(info.exclude)}" if info.exclude else ""
        blocks += [Paragraph(f"Candidates generated from the target (chem.analogs{excluded}) and scored by how "
                             "differently these hypotheses predict they will crystallise: " + "; ".join(
                                 f"`{h.id}` ({h.role}, read through {h.observable} at tier {h.tier})"
                                 for h in info.hypotheses) + "."), Paragraph(SCORING)]
    if info.notes:
        blocks.append(Bullets(info.notes))
    pictures = [f for k, f in figures.items() if k.startswith("proposal:")]
    if not v.proposals:
        blocks.append(Paragraph("No confirmatory molecule could be proposed."))
    else:
        blocks.append(_proposal_table(v))
    if pictures:
        blocks.append(Figures(pictures))
    for p in v.proposals:
        blocks += _proposal_details(p)
    return Section("Confirmatory molecules", blocks)


# ====================================================================== sections
def conclusion_section(v: InvestigationView) -> Section:
    c = v.conclusion
    sec = Section("Conclusion" + (" (provisional)" if c and c.provisional else ""), css_class="conclusion")
    if c is None:
        sec.blocks.append(Paragraph("No conclusion yet."))
        return sec
    items: list = []
    if c.root_cause:
        r = c.root_cause
        items.append((f"**Root cause** (`{r.category}`, {r.id}): {r.statement}", [f"Evidence: {r.evidence}"]))
    items += [(f"**Mechanism** (`{m.category}`, {m.id}, mechanism of {m.mechanism_of}): {m.statement}",
               [f"Evidence: {m.evidence}"]) for m in c.mechanism]
    items.append(f"**Confidence:** {c.confidence}")
    sec.blocks += [Paragraph(c.summary), Bullets(items)]
    if c.changes:
        sec.blocks.append(Paragraph("**What changed:** " + " ".join(c.changes)))
    lists = [("Rejected hypotheses", [f"`{r.category}` ({r.id}): {r.reason}" for r in c.rejected]),
             ("Still open", [f"`{o.category}` ({o.id}, {o.status}): {o.reason}" for o in c.open]),
             ("Testable predictions", c.predictions), ("Caveats", c.caveats)]
    for title, lines in lists:
        if lines or title == "Caveats":
            sec.blocks += [Paragraph(f"**{title}**"), Bullets(lines)]
    return sec


def series_section(v: InvestigationView, figures: dict[str, FigureFile]) -> Section:
    sec = Section("The series", [Paragraph(
        f"Target **{v.series.target.name}**; analogs {', '.join(a.name for a in v.series.analogs)} "
        f"(from `{Path(v.series.source).name}`).")])
    pictures = [f for k, f in figures.items() if k.startswith("mol:")]
    if pictures:
        sec.blocks.append(Figures(pictures))
    return sec


def board_section(v: InvestigationView) -> Section:
    return Section("Hypothesis board", [
        Table(BOARD_HEAD, [r.cells() for r in board_rows(v)]),
        Paragraph("Evidence: the number of observable × tier comparisons bearing on the hypothesis.")])


def evidence_section(v: InvestigationView, figures: dict[str, FigureFile]) -> Section:
    sec = Section("Evidence per tier", [Paragraph(
        "Values per molecule; the short key after each value is the cache key of the stored result "
        "it was read from (`—`: a structural fact, e.g. no donor, no calculation needed).")])
    plots = [figures[k] for k in ("evidence", "ladder") if k in figures]
    sec.blocks += [Figures([f.captioned(f"Figure {n}. {f.caption}")]) for n, f in enumerate(plots, start=1)]
    for tier in sorted({e.tier for e in v.evidence}):
        info = TIERS[tier]
        sec.subsections.append(Section(
            f"Tier {tier}: {info.label} {cite(*info.references)}",
            [Table(EVIDENCE_HEAD, [evidence_cells(e, keys=True) for e in evidence_items(v, tier)])], level=3))
    return sec


def crystal_section(v: InvestigationView, figures: dict[str, FigureFile] | None = None) -> Section | None:
    """agent.crystal_facts' section (written there as Markdown lines: facts, each crystal's lattice energy
    split by contact class, the checks), as a section, with the energy frameworks and the fingerprints among
    ``figures`` (``framework:<member>``, ``fingerprints``: agent.crystal_facts.crystal_figures)."""
    from .crystal_facts import crystal_markdown

    lines = crystal_markdown(v)
    if not lines:
        return None
    blocks: list[Block] = [MarkdownText("\n".join(lines[1:]))]
    pictures = [f for k, f in (figures or {}).items() if k.startswith("framework:") or k == "fingerprints"]
    if pictures:
        blocks.append(Figures(pictures))
    return Section(lines[0].removeprefix("## "), blocks)


def escalation_section(v: InvestigationView) -> Section:
    used: dict[int, float] = {}
    for r in v.results:
        if not r.from_cache:
            used[r.tier] = used.get(r.tier, 0.0) + float(r.wall_time_s or 0.0)
    rows = [[str(esc.tier), str(sum(1 for r in v.results if r.tier == esc.tier)), f"{esc.estimate_s:g}",
             f"{used.get(esc.tier, 0.0):.1f}", clip(esc.reason, 300)] for esc in v.escalations]
    sec = Section("Escalation path and costs", [
        Table(["tier", "calculations", "estimated s", "used s", "why"], rows),
        Paragraph(f"Budget: {v.budget.cpu_s_used:.1f} s used of {v.budget.cpu_s_limit:.0f} s; tier cap "
                  f"{v.budget.tier_cap}.")])
    failed = [r for r in v.results if not r.success]
    if failed:
        sec.blocks += [Paragraph("**Skipped or failed calculations**"), Bullets(
            [f"{r.observable} at tier {r.tier} for {r.molecule}: {r.error}" for r in failed])]
    return sec


def steering_section(v: InvestigationView) -> Section | None:
    if not v.requests and not any(t.speaker == "scientist" for t in v.transcript):
        return None
    blocks = []  # the conversation, in the order it was held: the scientist's words, then the reply
    for r in sorted(v.requests, key=lambda r: r.seq):
        said = " ".join(r.text.split())
        reply = r.response if len(r.response) <= 1200 else r.response[:1200] + " ..."
        blocks.append(Paragraph(f"> **Scientist:** {said}\n\n**tierchem** ({r.status}): "
                                + reply.replace("\n", "  \n")))
    return Section("Steering", blocks)


def input_section(v: InvestigationView) -> Section | None:
    return Section("Input notes", [Bullets(v.series.skipped)]) if v.series.skipped else None


# ====================================================================== methods and references
@dataclass
class LevelUsed:
    """One level of theory the stored results ran at, with what they recorded."""

    tier: int
    engine: str
    method: str
    basis: str
    versions: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    settings: dict[str, list[str]] = field(default_factory=dict)  # name -> the distinct values, as text
    recorded: bool = False  # settings recorded by the harness (else only the spec's keywords are known)
    notes: list[str] = field(default_factory=list)
    counterpoise: set[bool] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)

    def add(self, result) -> None:
        s = result.spec
        self.versions.update(result.engine_versions)
        self.tasks[s.task] = self.tasks.get(s.task, 0) + 1
        settings = result.provenance.get("settings")
        self.recorded |= settings is not None
        for name, x in (s.keywords if settings is None else settings).items():
            text = _setting_text(x)
            if text not in self.settings.setdefault(name, []):
                self.settings[name].append(text)
        note = result.provenance.get("model_notes")
        if note and note not in self.notes:
            self.notes.append(note)
        if "counterpoise" in result.values:
            self.counterpoise.add(bool(result.values["counterpoise"]))
        if result.values.get("device"):
            self.devices.add(str(result.values["device"]))

    def settings_text(self) -> str:
        parts = list(self.notes)
        if self.settings:
            parts.append(("settings " if self.recorded else "keywords ") + ", ".join(
                f"{k}={'/'.join(x)}" if x != ["…"] else f"{k} per calculation"
                for k, x in sorted(self.settings.items())))
        if self.counterpoise:
            parts.append("counterpoise " + ("on" if self.counterpoise == {True} else
                                            "off" if self.counterpoise == {False} else "mixed"))
        if self.devices:
            parts.append("device " + ", ".join(sorted(self.devices)))
        return "; ".join(parts) or "engine defaults"


def _setting_text(x) -> str:
    """A setting's value in a table cell; a structure-sized value (a cell, a geometry) as ``…``."""
    text = x if isinstance(x, str) else json.dumps(x)
    return text if len(text) <= 40 else "…"


def levels_used(v: InvestigationView, store=None) -> list[LevelUsed]:
    """One entry per level of theory used (tier, engine, method, basis), read from the stored results."""
    rows: dict[tuple, LevelUsed] = {}
    for ref in v.results:
        result = store.get(ref.cache_key) if (store is not None and ref.cache_key) else None
        if result is None:
            continue
        s = result.spec
        rows.setdefault((s.tier, s.engine, s.method, s.basis or ""),
                        LevelUsed(s.tier, s.engine, s.method, s.basis or "—")).add(result)
    return [rows[k] for k in sorted(rows)]


def _dispersion(method: str, versions: dict[str, str]) -> str:
    m = method.upper()
    if "D3BJ" in m or "D3(BJ)" in m:
        return "D3(BJ)" + (f" (simple-dftd3 {versions['dftd3']})" if "dftd3" in versions else "")
    if "D4" in m:
        return "D4"
    if m.startswith("GFN1"):
        return "D3(BJ) (built into GFN1-xTB)"
    if m.startswith("GFN"):
        return "D4 (built into GFN2-xTB)"
    if "GAFF" in m or "MMFF" in m:
        return "Lennard-Jones (force field)"
    return "none"


def _methods_table(rows: list[LevelUsed]) -> Table:
    cells = []
    for r in rows:
        versions = ", ".join(f"{k} {x}" for k, x in sorted(r.versions.items()))
        tasks = ", ".join(f"{t} ×{n}" for t, n in sorted(r.tasks.items()))
        cells.append([str(r.tier), f"{r.engine} ({versions or 'version not recorded'})", r.method, r.basis,
                      _dispersion(r.method, r.versions), tasks, r.settings_text(),
                      cite(*method_references(r.tier, r.method))])
    return Table(["tier", "engine (versions)", "method", "basis", "dispersion", "calculations", "settings", "refs"],
                 cells)


def methods_section(v: InvestigationView, store=None) -> Section:
    """Method details: the levels of theory, engine versions, settings and the decision thresholds."""
    from .evidence import NOT_SEPARATE_Z, SEPARATES_Z, SETTLED_Z

    sec = Section("Method details", [Paragraph(
        "Every number above comes from tierchem's task catalogue and content-addressed result store (the short "
        "keys in the evidence tables); each level of theory used, as recorded with its results:")])
    rows = levels_used(v, store)
    if rows:
        sec.blocks.append(_methods_table(rows))
    else:
        sec.blocks.append(Paragraph(
            "(The result store was not available when this report was written: levels of theory by tier: "
            + "; ".join(f"tier {k}: {t.label}" for k, t in TIERS.items()) + ".)"))
    sec.blocks.append(Paragraph(
        f"**Decision thresholds.** A difference between two molecules carries σ_d = √2·σ, σ the tier's "
        f"per-molecule uncertainty (half the benchmark MAE against CCSD(T)/CBS {cite('S22', 'X40')}, listed as ±σ "
        f"in the evidence tables). The target *separates* from its analogs when its lead over the nearest analog, "
        f"in the direction a hypothesis predicts, exceeds {SEPARATES_Z:g} σ_d; it *does not separate* at or below "
        f"{NOT_SEPARATE_Z:g} σ_d; in between the verdict is *inconclusive*. A verdict is settled (no escalation) "
        f"at z ≥ {SETTLED_Z:g} or z ≤ 0. Verdicts rest only on tiers marked adequate for the observable "
        f"(tierchem {__version__})."))
    return sec


def references_section() -> Section:
    return Section("References", [Bullets([f"**{key}.** {text}" for key, text in REFERENCES.items()], ordered=True)])


# ====================================================================== the document
def document(v: InvestigationView, store=None, figures: dict[str, FigureFile] | None = None) -> Document:
    """The report as sections. ``store``: the result store (method details); ``figures``: :func:`make_figures`."""
    figures = figures or {}
    sections = [conclusion_section(v), causal_section(v), series_section(v, figures), board_section(v),
                evidence_section(v, figures),
                crystal_section(v, figures), proposals_section(v, figures), escalation_section(v), steering_section(v),
                input_section(v), methods_section(v, store), references_section()]
    return Document(f"Investigation: {v.series.target.name}", [Paragraph(f"**Question.** {v.question}")],
                    [s for s in sections if s is not None])


def markdown(v: InvestigationView, store=None, figures: dict[str, FigureFile] | None = None) -> str:
    """report.md's text."""
    return document(v, store, figures).markdown()


def figure_cache_dir(run_dir: Path, store=None) -> Path:
    """Where pictures are kept by the content they show: next to the result store they draw on
    (so a new run over a warm store draws nothing), else in the run directory."""
    return getattr(store, "content_dir", None) or Path(run_dir) / ".figure_cache"


def make_figures(v: InvestigationView, cache_dir: Path | None = None) -> dict[str, FigureFile]:
    """The report's figures: depictions of the series and of the proposals (RDKit SVG), the
    evidence per molecule per tier and the energy ladder (matplotlib PNG, when installed).
    ``cache_dir``: pictures kept by their content (:func:`figure_cache_dir`); only new content is drawn."""
    figs: dict[str, FigureFile] = {}
    for i, m in enumerate(v.series.members, start=1):
        try:
            figs[f"mol:{m.name}"] = FigureFile(f"molecule_{i}.svg", f"{m.name} ({m.role})",
                                               depict_svg(m.smiles, cache_dir=cache_dir), "image/svg+xml")
        except Exception as exc:  # a depiction is decoration: never fail the report for it
            log.warning("no depiction of %s: %s", m.name, exc)
    for p in v.proposals:
        label = f"{p.rank}. {p.name}"
        try:
            figs[f"proposal:{p.rank}"] = FigureFile(f"proposal_{p.rank}.svg", label,
                                                    depict_svg(p.smiles, label, cache_dir=cache_dir), "image/svg+xml")
        except Exception as exc:
            log.warning("no depiction of proposal %s: %s", p.name, exc)
    try:
        for key, name in (("evidence", "evidence.png"), ("ladder", "ladder.png")):
            figure = cached_figure(key, v, name, cache_dir)
            if figure is not None:
                figs[key] = figure
    except ImportError as exc:
        log.info("report without plots: %s", exc)
    try:
        from .crystal_facts import crystal_figures

        figs.update(crystal_figures(v))  # the energy frameworks and fingerprints the crystal step drew
    except Exception as exc:
        log.warning("no energy-framework pictures: %s", exc)
    return figs


# ====================================================================== HTML
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1150px;margin:1.5em auto;padding:0 1em;
     line-height:1.45;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #e5e5e5;padding-bottom:.2em;margin-top:1.6em}
nav{font-size:.9em;margin:.6em 0 1.2em;color:#555}nav a{margin-right:.9em;color:#2a5db0;text-decoration:none}
section.conclusion{background:#f3f8f2;border:1px solid #b9d8b2;border-left:6px solid #1b7837;border-radius:4px;
     padding:.2em 1.2em .6em;margin:1em 0}
section.conclusion h2{border:none}
.tablewrap{overflow-x:auto}
table{border-collapse:collapse;margin:.8em 0;font-size:.86em}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f3f3f3}
code{font-size:.85em;color:#555}
.badge{display:inline-block;padding:0 .45em;border-radius:3px;font-size:.92em;white-space:nowrap}
.st-root-cause{background:#1b7837;color:#fff}.st-mechanism-of{background:#5aae61;color:#fff}
.st-supported{background:#a6dba0}.st-open{background:#fff3c4}.st-rejected{background:#e0e0e0;color:#555}
.v-separates{background:#a6dba0}.v-opposite{background:#f4a582}.v-inconclusive{background:#fff3c4}
.v-does_not_separate{background:#eee}
.figrow{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}
figure{margin:0;text-align:center}figure img{max-width:100%;border:1px solid #eee;background:#fff}
figure.plot{flex-basis:100%}figure.plot figcaption{text-align:left}
figcaption{font-size:.85em;color:#444;max-width:1100px}
footer{margin-top:2em;font-size:.8em;color:#777}
@media print{nav{display:none}section.conclusion{break-inside:avoid}}
"""


def to_html(doc: Document, title: str) -> str:
    """The report as a self-contained HTML page: the same sections as report.md, figures embedded as data
    URIs, statuses and verdicts as badges, the conclusion boxed, and a navigation line. No scripts, no
    external resources."""
    return doc.html(title, STYLE, f"Written by tierchem {__version__}. report.md holds the same text; "
                                  "conclusion.json the conclusion as data.")


def write_all(v: InvestigationView, run_dir: Path, store=None) -> dict[str, Path]:
    """report.md (with its figures in ``figures/``), report.html (self-contained) and conclusion.json."""
    run_dir = Path(run_dir)
    figures = make_figures(v, figure_cache_dir(run_dir, store))
    if figures:
        (run_dir / "figures").mkdir(exist_ok=True)
        for f in figures.values():
            _write_if_changed(run_dir / f.path, f.data)
    doc = document(v, store, figures)
    paths = {"md": run_dir / "report.md", "html": run_dir / "report.html", "json": run_dir / "conclusion.json"}
    changed = [_write_if_changed(paths["md"], doc.markdown().encode()),
               _write_if_changed(paths["html"], to_html(doc, f"tierchem: {v.series.target.name}").encode()),
               _write_if_changed(paths["json"], json.dumps(conclusion_json(v), indent=2).encode())]
    log.info("report %s in %s", "written" if any(changed) else "unchanged", run_dir)
    return paths


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly that (its time stamp then says
    when the content last changed); whether it wrote."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.write_bytes(data)
    return True
