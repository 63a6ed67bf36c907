"""The report: Markdown and a simple HTML page, plus ``conclusion.json``.

Order: the question, the conclusion first, the hypothesis board, the evidence per
tier (every number with the cache key of the stored result it came from), the
escalation path with costs, the transcript of steering, and references.
"""

from __future__ import annotations

import html
import json
import logging
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
]


def _short(key: str | None) -> str:
    return key[:12] if key else "—"


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"


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
        "tierchem": __version__,
    }


def markdown(v: InvestigationView) -> str:
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
    out += ["## Hypothesis board", "", "| id | category | kind | status | confidence | tier reached | source |",
            "|---|---|---|---|---|---|---|"]
    for h in sorted(v.hypotheses, key=lambda h: (h.priority, h.id)):
        out.append(f"| {h.id} | {h.category} | {h.kind}{' of ' + h.mechanism_of if h.mechanism_of else ''} | "
                   f"{h.status} | {h.confidence:.2f} | {h.tier_reached if h.tier_reached >= 0 else '—'} | {h.source} |")
    out += [""]
    out += ["## Evidence per tier", "",
            "Values per molecule; the short key after each value is the cache key of the stored result "
            "it was read from (`—`: a structural fact, e.g. no donor, no calculation needed).", ""]
    for tier in sorted({e.tier for e in v.evidence}):
        out += [f"### Tier {tier}: {TIER_NAMES.get(tier, '')}", "",
                "| observable | target | analogs | ±σ | effect (z) | verdict | adequate |", "|---|---|---|---|---|---|---|"]
        for e in sorted((e for e in v.evidence if e.tier == tier), key=lambda e: e.observable):
            t = f"{e.target.molecule}: {_fmt(e.target.value)} `{_short((e.target.cache_keys or [None])[0])}`"
            an = "<br>".join(f"{a.molecule}: {_fmt(a.value)} `{_short((a.cache_keys or [None])[0])}`"
                             for a in e.analogs)
            eff = "—" if e.effect is None else f"{e.effect:.3g} ({e.z:.1f})"
            out.append(f"| {e.observable} [{e.unit}] | {t} | {an} | {e.sigma:.2g} | {eff} | {e.verdict} | "
                       f"{'yes' if e.adequate else 'no: ' + e.adequacy_note} |")
        out += [""]
    out += ["## Escalation path and costs", "", "| tier | calculations | estimated s | used s | why |",
            "|---|---|---|---|---|"]
    used = {}
    for r in v.results:
        if not r.get("from_cache"):
            used[r["tier"]] = used.get(r["tier"], 0.0) + float(r.get("wall_time_s") or 0.0)
    for esc in v.escalations:
        n = sum(1 for r in v.results if r["tier"] == esc["tier"])
        out.append(f"| {esc['tier']} | {n} | {esc['estimate_s']} | {used.get(esc['tier'], 0.0):.1f} | "
                   f"{esc['reason'][:300]} |")
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
    out += ["## Methods and references", "",
            "Calculations through tierchem's task catalogue and result store; levels: " +
            "; ".join(f"tier {k}: {n}" for k, n in TIER_NAMES.items()) + ".", ""]
    out += [f"{i}. **{name}.** {text}" for i, (name, text) in enumerate(REFERENCES, start=1)]
    return "\n".join(out) + "\n"


def to_html(md: str, title: str) -> str:
    """A small Markdown-to-HTML rendering (headings, lists, tables, bold, code) without dependencies."""
    import re

    def inline(s: str) -> str:
        s = html.escape(s).replace("&lt;br&gt;", "<br>")
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", s)

    lines, body, i = md.splitlines(), [], 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            head, data = rows[0], [r for r in rows[2:]]
            body.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr></thead><tbody>"
                        + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in data)
                        + "</tbody></table>")
            continue
        m = re.match(r"^(#{1,3}) (.*)", ln)
        if m:
            n = len(m.group(1))
            body.append(f"<h{n}>{inline(m.group(2))}</h{n}>")
        elif re.match(r"^(\s*)- ", ln):
            items = []
            while i < len(lines) and re.match(r"^\s*- ", lines[i]):
                items.append(f"<li>{inline(lines[i].strip()[2:])}</li>")
                i += 1
            body.append("<ul>" + "".join(items) + "</ul>")
            continue
        elif re.match(r"^\d+\. ", ln):
            items = []
            while i < len(lines) and re.match(r"^\d+\. ", lines[i]):
                items.append(f"<li>{inline(lines[i].split('. ', 1)[1])}</li>")
                i += 1
            body.append("<ol>" + "".join(items) + "</ol>")
            continue
        elif ln.strip():
            body.append(f"<p>{inline(ln)}</p>")
        i += 1
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;line-height:1.45}"
             "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:4px 6px;"
             "vertical-align:top}th{background:#f3f3f3}code{font-size:0.85em;color:#555}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_all(v: InvestigationView, run_dir: Path, store=None) -> dict[str, Path]:
    run_dir = Path(run_dir)
    md = markdown(v)
    paths = {"md": run_dir / "report.md", "html": run_dir / "report.html", "json": run_dir / "conclusion.json"}
    paths["md"].write_text(md)
    paths["html"].write_text(to_html(md, f"tierchem: {v.series.target.name}"))
    paths["json"].write_text(json.dumps(conclusion_json(v), indent=2))
    log.info("report written to %s", run_dir)
    return paths
