"""The report: ``report.md`` with its figures in ``figures/``, a self-contained
``report.html`` (the same text, figures embedded as data URIs), and ``conclusion.json``.

Order: the question, the conclusion first, the series (RDKit depictions), the
hypothesis board, the evidence per tier (every number with the cache key of the
stored result it came from) with its figures, crystal facts and confirmatory
molecules (agent.design), the escalation path with costs, steering, method
details read from the stored results (engines, versions, methods, bases,
dispersion, settings, decision thresholds), and numbered references.

The Markdown is the one source of the text; :func:`to_html` renders it.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from .state import InvestigationView

log = logging.getLogger(__name__)

TIER_NAMES = {0: "cheminformatics (RDKit, MMFF94)", 1: "classical (OpenMM, GAFF2/AM1-BCC)",
              2: "semi-empirical (GFN2-xTB, tblite)", 3: "DFT (PySCF, B3LYP-D3(BJ)/def2-SVP)",
              4: "correlated (PySCF, DF-MP2/CCSD(T))"}

REFERENCES = [
    ("RDKit", "RDKit: Open-source cheminformatics, https://www.rdkit.org; MMFF94: T. A. Halgren, "
              "J. Comput. Chem. 17, 490 (1996)."),
    ("OpenMM", "P. Eastman et al., OpenMM 8: Molecular Dynamics Simulation with Machine Learning Potentials, "
               "J. Phys. Chem. B 128, 109 (2024)."),
    ("GAFF2", "J. Wang, R. M. Wolf, J. W. Caldwell, P. A. Kollman, D. A. Case, Development and testing of a general "
              "Amber force field, J. Comput. Chem. 25, 1157 (2004) (GAFF; GAFF2 in AmberTools)."),
    ("AM1-BCC", "A. Jakalian, D. B. Jack, C. I. Bayly, Fast, efficient generation of high-quality atomic charges. "
                "AM1-BCC model: II, J. Comput. Chem. 23, 1623 (2002)."),
    ("GFN2-xTB", "C. Bannwarth, S. Ehlert, S. Grimme, GFN2-xTB, J. Chem. Theory Comput. 15, 1652 (2019); "
                 "tblite, https://github.com/tblite/tblite."),
    ("B3LYP", "A. D. Becke, J. Chem. Phys. 98, 5648 (1993); P. J. Stephens et al., J. Phys. Chem. 98, 11623 (1994)."),
    ("D3(BJ)", "S. Grimme, S. Ehrlich, L. Goerigk, Effect of the damping function in dispersion corrected density "
               "functional theory, J. Comput. Chem. 32, 1456 (2011)."),
    ("def2", "F. Weigend, R. Ahlrichs, Balanced basis sets of split valence, triple zeta valence and quadruple zeta "
             "valence quality for H to Rn, Phys. Chem. Chem. Phys. 7, 3297 (2005)."),
    ("Counterpoise", "S. F. Boys, F. Bernardi, Mol. Phys. 19, 553 (1970)."),
    ("PySCF", "Q. Sun et al., Recent developments in the PySCF program package, J. Chem. Phys. 153, 024109 (2020)."),
    ("Sigma hole", "T. Clark, M. Hennemann, J. S. Murray, P. Politzer, Halogen bonding: the sigma-hole, "
                   "J. Mol. Model. 13, 291 (2007)."),
    ("Desiraju & Parthasarathy", "G. R. Desiraju, R. Parthasarathy, The nature of halogen···halogen interactions: "
                                 "are short halogen contacts due to specific attractive forces or due to close "
                                 "packing of nonspherical atoms?, J. Am. Chem. Soc. 111, 8725 (1989) "
                                 "(data source for the dihalobenzene example)."),
    ("LangGraph", "LangGraph, https://github.com/langchain-ai/langgraph (agent graph and checkpoints)."),
    ("ETKDG", "S. Riniker, G. A. Landrum, Better informed distance geometry: using what we know to improve "
              "conformation generation, J. Chem. Inf. Model. 55, 2562 (2015)."),
    ("simple-dftd3", "S. Ehlert, simple-dftd3, https://github.com/dftd3/simple-dftd3 (D3(BJ) energies and gradients)."),
    ("def2 ECP", "K. A. Peterson, D. Figgen, E. Goll, H. Stoll, M. Dolg, J. Chem. Phys. 119, 11113 (2003) "
                 "(the def2 effective core potential of iodine)."),
    ("ESP isosurface", "R. F. W. Bader, M. T. Carroll, J. R. Cheeseman, C. Chang, Properties of atoms in molecules: "
                       "atomic volumes, J. Am. Chem. Soc. 109, 7968 (1987) (the 0.001 au density isosurface)."),
    ("S22", "P. Jurečka, J. Šponer, J. Černý, P. Hobza, Benchmark database of accurate (MP2 and CCSD(T) complete "
            "basis set limit) interaction energies of small model complexes, DNA base pairs, and amino acid pairs, "
            "Phys. Chem. Chem. Phys. 8, 1985 (2006) (benchmark behind the interaction-energy uncertainties)."),
    ("X40", "J. Řezáč, K. E. Riley, P. Hobza, Benchmark calculations of noncovalent interactions of halogenated "
            "molecules, J. Chem. Theory Comput. 8, 4285 (2012)."),
    ("MP2/CCSD(T)", "C. Møller, M. S. Plesset, Phys. Rev. 46, 618 (1934); K. Raghavachari, G. W. Trucks, J. A. Pople, "
                    "M. Head-Gordon, Chem. Phys. Lett. 157, 479 (1989)."),
]


def _short(key: str | None) -> str:
    return key[:12] if key else "—"


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def _clip(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters at a word boundary, with an ellipsis when cut."""
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0].rstrip(",;:") + " …"


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
        "root_cause": ({k: c.root_cause[k] for k in ("category", "id", "statement")} | {
            "confidence": c.root_cause.get("confidence"), "evidence": c.root_cause.get("evidence")})
        if c.root_cause else None,
        "mechanism": [{k: m[k] for k in ("category", "id", "statement", "mechanism_of")} | {"evidence": m["evidence"]}
                      for m in c.mechanism],
        "rejected": [{"category": r["category"], "id": r["id"], "reason": r["reason"]} for r in c.rejected],
        "open": c.open,
        "confidence": c.confidence,
        "caveats": c.caveats,
        "predictions": c.predictions,
        "evidence_refs": c.evidence_refs,
        "changes": c.changes,
        "pending": c.pending,
        **_design_json(v),
        "tierchem": __version__,
    }


def _design_json(v: InvestigationView) -> dict:
    """conclusion.json's ``proposals`` and ``crystal_facts`` (agent.design, agent.crystal_facts)."""
    from .crystal_facts import crystal_json
    from .design import proposals_json

    return {"proposals": proposals_json(v), "crystal_facts": crystal_json(v)}


def _design_markdown(v: InvestigationView) -> list[str]:
    """The crystal-facts and "Confirmatory molecules" sections (Markdown lines)."""
    from .crystal_facts import crystal_markdown
    from .design import proposals_markdown

    return crystal_markdown(v) + proposals_markdown(v)


def markdown(v: InvestigationView, store=None, figures: dict | None = None) -> str:
    """report.md's text. ``store``: the result store (method details); ``figures``: from :func:`make_figures`."""
    from .notebook import board_rows

    figures = figures or {}
    c = v.conclusion
    out = [f"# Investigation: {v.series.target.name}", "", f"**Question.** {v.question}", ""]
    out += ["## Conclusion" + (" (provisional)" if c and c.provisional else ""), ""]
    if c is None:
        out += ["No conclusion yet.", ""]
    else:
        out += [c.summary, ""]
        if c.root_cause:
            out += [f"- **Root cause** (`{c.root_cause['category']}`, {c.root_cause['id']}): "
                    f"{c.root_cause['statement']}", f"  - Evidence: {c.root_cause['evidence']}"]
        for m in c.mechanism:
            out += [f"- **Mechanism** (`{m['category']}`, {m['id']}, mechanism of {m['mechanism_of']}): "
                    f"{m['statement']}", f"  - Evidence: {m['evidence']}"]
        out += [f"- **Confidence:** {c.confidence}", ""]
        if c.changes:
            out += ["**What changed:** " + " ".join(c.changes), ""]
        if c.rejected:
            out += ["**Rejected hypotheses**", ""] + [f"- `{r['category']}` ({r['id']}): {r['reason']}"
                                                      for r in c.rejected] + [""]
        if c.open:
            out += ["**Still open**", ""] + [f"- `{o['category']}` ({o['id']}, {o['status']}): {o['reason']}"
                                             for o in c.open] + [""]
        if c.predictions:
            out += ["**Testable predictions**", ""] + [f"- {p}" for p in c.predictions] + [""]
        out += ["**Caveats**", ""] + [f"- {x}" for x in c.caveats] + [""]
    out += ["## The series", "", f"Target **{v.series.target.name}**; analogs "
            f"{', '.join(a.name for a in v.series.analogs)} (from `{Path(v.series.source).name}`).", ""]
    out += _depictions(figures, "mol:")
    out += ["## Hypothesis board", "",
            "| id | category | kind | status | confidence | evidence | tier reached | source |",
            "|---|---|---|---|---|---|---|---|"]
    for r in board_rows(v):
        out.append(f"| {r['id']} | {r['category']} | {r['kind']} | {r['status']} | {r['confidence']:.2f} | "
                   f"{r['evidence']} | {r['tier'] if r['tier'] >= 0 else '—'} | {r['source']} |")
    out += ["", "Evidence: the number of observable × tier comparisons bearing on the hypothesis.", ""]
    out += ["## Evidence per tier", "",
            "Values per molecule; the short key after each value is the cache key of the stored result "
            "it was read from (`—`: a structural fact, e.g. no donor, no calculation needed).", ""]
    plots = [(k, figures[k]) for k in ("evidence", "ladder") if k in figures]
    for n, (_, fig) in enumerate(plots, start=1):
        out += [_figure_line(fig, f"Figure {n}. {fig.caption}"), ""]
    for tier in sorted({e.tier for e in v.evidence}):
        out += [f"### Tier {tier}: {TIER_NAMES.get(tier, '')} {cite(*TIER_REFS.get(tier, ()))}", "",
                "| observable | target | analogs | ±σ | effect (z) | verdict | adequate |", "|---|---|---|---|---|---|---|"]
        for e in sorted((e for e in v.evidence if e.tier == tier), key=lambda e: e.observable):
            t = f"{e.target.molecule}: {_fmt(e.target.value)} `{_short((e.target.cache_keys or [None])[0])}`"
            an = "<br>".join(f"{a.molecule}: {_fmt(a.value)} `{_short((a.cache_keys or [None])[0])}`"
                             for a in e.analogs)
            eff = "—" if e.effect is None else f"{e.effect:.3g} ({e.z:.1f})"
            out.append(f"| {e.observable} [{e.unit}] | {t} | {an} | {e.sigma:.2g} | {eff} | {e.verdict} | "
                       f"{'yes' if e.adequate else 'no: ' + e.adequacy_note} |")
        out += [""]
    out += _with_depictions(_design_markdown(v), figures)
    out += ["## Escalation path and costs", "", "| tier | calculations | estimated s | used s | why |",
            "|---|---|---|---|---|"]
    used = {}
    for r in v.results:
        if not r.get("from_cache"):
            used[r["tier"]] = used.get(r["tier"], 0.0) + float(r.get("wall_time_s") or 0.0)
    for esc in v.escalations:
        n = sum(1 for r in v.results if r["tier"] == esc["tier"])
        out.append(f"| {esc['tier']} | {n} | {esc['estimate_s']} | {used.get(esc['tier'], 0.0):.1f} | "
                   f"{_clip(esc['reason'], 300)} |")
    out += ["", f"Budget: {v.budget.cpu_s_used:.1f} s used of {v.budget.cpu_s_limit:.0f} s; tier cap "
            f"{v.budget.tier_cap}.", ""]
    failed = [r for r in v.results if not r["success"]]
    if failed:
        out += ["**Skipped or failed calculations**", ""] + [
            f"- {r['observable']} at tier {r['tier']} for {r['molecule']}: {r['error']}" for r in failed] + [""]
    steering = [t for t in v.transcript if t["speaker"] == "scientist"]
    if steering or v.requests:
        out += ["## Steering", ""] + [f"- `{r.text}` ({r.status}): {r.response[:300]}" for r in
                                      sorted(v.requests, key=lambda r: r.seq)] + [""]
    if v.series.skipped:
        out += ["## Input notes", ""] + [f"- {s}" for s in v.series.skipped] + [""]
    out += methods_markdown(v, store)
    out += references_markdown()
    return "\n".join(out) + "\n"


# ====================================================================== figures
@dataclass
class ReportFigure:
    """A figure of the report: written to ``figures/<name>`` next to report.md, embedded in report.html."""

    name: str
    caption: str
    data: bytes
    mime: str = "image/png"

    @property
    def path(self) -> str:
        return f"figures/{self.name}"

    def data_uri(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode()


def depict_svg(smiles: str, legend: str = "", size: tuple[int, int] = (240, 170)) -> bytes:
    """An RDKit 2-D depiction (SVG) of a SMILES string."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"cannot depict {smiles!r}")
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    drawer.drawOptions().legendFontSize = 14
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol, legend=legend)
    drawer.FinishDrawing()
    return drawer.GetDrawingText().encode()


def make_figures(v: InvestigationView) -> dict[str, ReportFigure]:
    """The report's figures: depictions of the series and of the proposals (RDKit SVG), the
    evidence per molecule per tier and the energy ladder (matplotlib PNG, when installed)."""
    figs: dict[str, ReportFigure] = {}
    for i, m in enumerate(v.series.members, start=1):
        try:
            figs[f"mol:{m.name}"] = ReportFigure(f"molecule_{i}.svg", f"{m.name} ({m.role})",
                                                 depict_svg(m.smiles), "image/svg+xml")
        except Exception as exc:  # a depiction is decoration: never fail the report for it
            log.warning("no depiction of %s: %s", m.name, exc)
    for p in v.proposals or []:
        try:
            figs[f"proposal:{p['rank']}"] = ReportFigure(
                f"proposal_{p['rank']}.svg", f"{p['rank']}. {p['name']}",
                depict_svg(p["smiles"], f"{p['rank']}. {p['name']}"), "image/svg+xml")
        except Exception as exc:
            log.warning("no depiction of proposal %s: %s", p.get("name"), exc)
    try:
        from .notebook import evidence_figure, ladder_figure

        for key, make, name in (("evidence", evidence_figure, "evidence.png"), ("ladder", ladder_figure, "ladder.png")):
            plot = make(v)
            if plot is not None:
                figs[key] = ReportFigure(name, plot.caption, plot.png())
    except ImportError as exc:
        log.info("report without plots: %s", exc)
    return figs


def _figure_line(fig: ReportFigure, caption: str | None = None) -> str:
    return f"![{caption or fig.caption}]({fig.path})"


def _depictions(figures: dict[str, ReportFigure], prefix: str) -> list[str]:
    lines = [_figure_line(f) for k, f in figures.items() if k.startswith(prefix)]
    return lines + [""] if lines else []


def _with_depictions(section: list[str], figures: dict[str, ReportFigure]) -> list[str]:
    """The design section with the proposals' depictions before the per-molecule details."""
    pics = _depictions(figures, "proposal:")
    if not pics:
        return section
    at = next((k for k, ln in enumerate(section) if re.match(r"^\*\*\d+\. ", ln)), None)
    if at is None:
        at = next((k for k, ln in enumerate(section) if ln.startswith("## ") and k > 0
                   and "Confirmatory" not in ln), len(section))
    return section[:at] + pics + section[at:]


# ====================================================================== methods and references
TIER_REFS = {0: ("RDKit", "ETKDG"), 1: ("OpenMM", "GAFF2", "AM1-BCC"), 2: ("GFN2-xTB",),
             3: ("PySCF", "B3LYP", "D3(BJ)", "simple-dftd3", "def2", "def2 ECP", "Counterpoise", "ESP isosurface"),
             4: ("PySCF", "MP2/CCSD(T)", "def2", "Counterpoise")}

# Settings each engine's harness uses unless a spec's keywords say otherwise (see the harness docstrings).
ENGINE_SETTINGS = {
    "rdkit": "ETKDG embedding, MMFF94 minimisation; descriptors from the lowest MMFF94 conformer",
    "openmm": "GAFF2 types and AM1-BCC charges (antechamber/sqm, grms_tol 0.01), parmchk2, tleap; vacuum, "
              "no cut-off, no constraints; rigid dimers at rule-built geometries",
    "xtb": "tblite accuracy 1.0, at most 250 SCC cycles, electronic temperature 300 K, gas phase; supermolecular "
           "interaction energies without counterpoise (minimal basis)",
    "pyscf": "SCF conv_tol 1e-9 Eh, max_cycle 100 (level shift 0.3 on failure), grid level 3, density fitting; "
             "def2 ECP on I; Boys-Bernardi counterpoise for interaction energies; ESP on the 0.001 au density "
             "isosurface, 200 rays per atom",
}


def cite(*names: str) -> str:
    """``[i, j]``: the numbers of the named references in :data:`REFERENCES`."""
    index = {name: i for i, (name, _) in enumerate(REFERENCES, start=1)}
    nums = sorted({index[n] for n in names if n in index})
    return f"[{', '.join(map(str, nums))}]" if nums else ""


def _dispersion(method: str, versions: dict[str, str]) -> str:
    m = method.upper()
    if "D3BJ" in m or "D3(BJ)" in m:
        return "D3(BJ)" + (f" (simple-dftd3 {versions['dftd3']})" if "dftd3" in versions else "")
    if "D4" in m:
        return "D4"
    if m.startswith("GFN"):
        return "D4 (built into GFN2-xTB)"
    if "GAFF" in m or "MMFF" in m:
        return "Lennard-Jones (force field)"
    return "none"


def method_rows(v: InvestigationView, store=None) -> list[dict]:
    """One row per level of theory used (tier, engine, method, basis), read from the stored results."""
    rows: dict[tuple, dict] = {}
    for ref in v.results:
        key = ref.get("cache_key")
        result = store.get(key) if (store is not None and key) else None
        if result is None:
            continue
        s = result.spec
        row = rows.setdefault((s.tier, s.engine, s.method, s.basis or ""), {
            "tier": s.tier, "engine": s.engine, "method": s.method, "basis": s.basis or "—", "versions": {},
            "tasks": {}, "keywords": {}, "counterpoise": set(), "devices": set()})
        row["versions"].update(result.engine_versions)
        row["tasks"][s.task] = row["tasks"].get(s.task, 0) + 1
        row["keywords"].update(s.keywords)
        if "counterpoise" in result.values:
            row["counterpoise"].add(bool(result.values["counterpoise"]))
        if result.values.get("device"):
            row["devices"].add(str(result.values["device"]))
    return [rows[k] for k in sorted(rows)]


def methods_markdown(v: InvestigationView, store=None) -> list[str]:
    """Method details: the levels of theory, engine versions, settings and the decision thresholds."""
    from .evidence import NOT_SEPARATE_Z, SEPARATES_Z, SETTLED_Z

    out = ["## Method details", "",
           "Every number above comes from tierchem's task catalogue and content-addressed result store (the short "
           "keys in the evidence tables); each level of theory used, as recorded with its results:", ""]
    rows = method_rows(v, store)
    if rows:
        out += ["| tier | engine (versions) | method | basis | dispersion | calculations | settings | refs |",
                "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            versions = ", ".join(f"{k} {x}" for k, x in sorted(r["versions"].items()))
            tasks = ", ".join(f"{t} ×{n}" for t, n in sorted(r["tasks"].items()))
            settings = ENGINE_SETTINGS.get(r["engine"], "engine defaults")
            if r["keywords"]:
                settings += "; keywords " + ", ".join(f"{k}={x}" for k, x in sorted(r["keywords"].items()))
            if r["counterpoise"] and r["engine"] in ("pyscf", "xtb"):
                settings += "; counterpoise " + ("on" if r["counterpoise"] == {True} else
                                                 "off" if r["counterpoise"] == {False} else "mixed")
            if r["devices"]:
                settings += "; device " + ", ".join(sorted(r["devices"]))
            out.append(f"| {r['tier']} | {r['engine']} ({versions or 'version not recorded'}) | {r['method']} | "
                       f"{r['basis']} | {_dispersion(r['method'], r['versions'])} | {tasks} | {settings} | "
                       f"{cite(*TIER_REFS.get(r['tier'], ()))} |")
        out += [""]
    else:
        out += ["(The result store was not available when this report was written: levels of theory by tier: "
                + "; ".join(f"tier {k}: {n}" for k, n in TIER_NAMES.items()) + ".)", ""]
    out += [f"**Decision thresholds.** A difference between two molecules carries σ_d = √2·σ, σ the tier's "
            f"per-molecule "
            f"uncertainty (half the benchmark MAE against CCSD(T)/CBS {cite('S22', 'X40')}, listed as ±σ in the "
            f"evidence tables). The target *separates* from its analogs when its lead over the nearest analog, in "
            f"the direction a hypothesis predicts, exceeds {SEPARATES_Z:g} σ_d; it *does not separate* at or below "
            f"{NOT_SEPARATE_Z:g} σ_d; in between the verdict is *inconclusive*. A verdict is settled (no escalation) "
            f"at z ≥ {SETTLED_Z:g} or z ≤ 0. Verdicts rest only on tiers marked adequate for the observable "
            f"(tierchem {__version__}).", ""]
    return out


def references_markdown() -> list[str]:
    return ["## References", ""] + [f"{i}. **{name}.** {text}" for i, (name, text) in enumerate(REFERENCES, start=1)]


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

STATUS_WORDS = ("root-cause", "mechanism-of", "supported", "open", "rejected")
VERDICT_WORDS = ("separates", "does_not_separate", "inconclusive", "opposite", "not_computed")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _inline(s: str) -> str:
    s = html.escape(s, quote=False).replace("&lt;br&gt;", "<br>")
    s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
    s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)
    s = re.sub(r"`(.+?)`", r"<code>\1</code>", s)
    return re.sub(r"(https?://[^\s<),]+[^\s<).,;])", r"<a href='\1'>\1</a>", s)


def _cell(s: str) -> str:
    word = s.strip()
    if word in STATUS_WORDS:
        return f"<span class='badge st-{word}'>{word}</span>"
    if word in VERDICT_WORDS:
        return f"<span class='badge v-{word}'>{word.replace('_', ' ')}</span>"
    return _inline(s)


def _img(src: str, alt: str, figures: dict[str, ReportFigure], base: Path | None, plot: bool) -> str:
    fig = next((f for f in figures.values() if f.path == src), None)
    if fig is not None:
        uri = fig.data_uri()
    elif base is not None and (base / src).is_file():
        data = (base / src).read_bytes()
        mime = "image/svg+xml" if src.endswith(".svg") else "image/png"
        uri = f"data:{mime};base64," + base64.b64encode(data).decode()
    else:
        uri = html.escape(src)
    cls = " class='plot'" if plot else ""
    return (f"<figure{cls}><img src='{uri}' alt='{html.escape(alt, quote=True)}'>"
            f"<figcaption>{_inline(alt)}</figcaption></figure>")


def _list_html(items: list[tuple[int, str]], ordered: bool) -> str:
    """Items as (indent, text); deeper items nest under the previous one."""
    tag = "ol" if ordered else "ul"
    out, depth = [f"<{tag}>"], [items[0][0]]
    for k, (ind, text) in enumerate(items):
        if ind > depth[-1]:
            out.append("<ul>")
            depth.append(ind)
        while ind < depth[-1]:
            out.append("</ul></li>")
            depth.pop()
        nxt = items[k + 1][0] if k + 1 < len(items) else -1
        out.append(f"<li>{_inline(text)}" + ("" if nxt > ind else "</li>"))
    while len(depth) > 1:
        out.append("</ul></li>")
        depth.pop()
    return "".join(out) + f"</{tag}>"


IMAGE_LINE = re.compile(r"^!\[(.*)\]\(([^)\s]+)\)\s*$")


def to_html(md: str, title: str, figures: dict[str, ReportFigure] | None = None, base: Path | None = None) -> str:
    """report.md as a self-contained HTML page: the same text, with figures embedded as data URIs
    (``figures``, else read from ``base``), statuses and verdicts as badges, the conclusion boxed,
    and a navigation line. No scripts, no external resources."""
    figures = figures or {}
    lines, body, nav, i = md.splitlines(), [], [], 0
    open_section = False
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip().strip("|"))])
                i += 1
            head, data = rows[0], rows[2:]
            body.append("<div class='tablewrap'><table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head)
                        + "</tr></thead><tbody>" + "".join(
                            "<tr>" + "".join(f"<td>{_cell(c.replace(chr(92) + '|', '|'))}</td>" for c in r) + "</tr>"
                            for r in data) + "</tbody></table></div>")
            continue
        if IMAGE_LINE.match(ln):
            pics = []
            while i < len(lines) and IMAGE_LINE.match(lines[i]):
                alt, src = IMAGE_LINE.match(lines[i]).groups()
                pics.append(_img(src, alt, figures, base, plot=src.endswith(".png")))
                i += 1
            body.append("<div class='figrow'>" + "".join(pics) + "</div>")
            continue
        m = re.match(r"^(#{1,3}) (.*)", ln)
        if m:
            n, text = len(m.group(1)), m.group(2)
            if n == 2:
                if open_section:
                    body.append("</section>")
                sid = _slug(text)
                cls = " class='conclusion'" if text.startswith("Conclusion") else ""
                body.append(f"<section id='{sid}'{cls}>")
                open_section = True
                nav.append(f"<a href='#{sid}'>{html.escape(text)}</a>")
            body.append(f"<h{n}>{_inline(text)}</h{n}>")
        elif re.match(r"^\s*- ", ln):
            items = []
            while i < len(lines) and re.match(r"^\s*- ", lines[i]):
                items.append((len(lines[i]) - len(lines[i].lstrip()), lines[i].strip()[2:]))
                i += 1
            body.append(_list_html(items, ordered=False))
            continue
        elif re.match(r"^\d+\. ", ln):
            items = []
            while i < len(lines) and re.match(r"^\d+\. ", lines[i]):
                items.append((0, lines[i].split(". ", 1)[1]))
                i += 1
            body.append(_list_html(items, ordered=True))
            continue
        elif ln.strip():
            body.append(f"<p>{_inline(ln)}</p>")
        i += 1
    if open_section:
        body.append("</section>")
    # the navigation line goes after the title and question, before the first section
    first = next((k for k, b in enumerate(body) if b.startswith("<section")), len(body))
    body.insert(first, "<nav>" + "".join(nav) + "</nav>")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n" + "\n".join(body)
            + f"\n<footer>Written by tierchem {__version__}. report.md holds the same text; conclusion.json the "
              "conclusion as data.</footer>\n</body></html>\n")


def write_all(v: InvestigationView, run_dir: Path, store=None) -> dict[str, Path]:
    """report.md (with its figures in ``figures/``), report.html (self-contained) and conclusion.json."""
    run_dir = Path(run_dir)
    figures = make_figures(v)
    fig_dir = run_dir / "figures"
    if figures:
        fig_dir.mkdir(exist_ok=True)
        for f in figures.values():
            (run_dir / f.path).write_bytes(f.data)
    md = markdown(v, store=store, figures=figures)
    paths = {"md": run_dir / "report.md", "html": run_dir / "report.html", "json": run_dir / "conclusion.json"}
    paths["md"].write_text(md)
    paths["html"].write_text(to_html(md, f"tierchem: {v.series.target.name}", figures, run_dir))
    paths["json"].write_text(json.dumps(conclusion_json(v), indent=2))
    log.info("report written to %s", run_dir)
    return paths
