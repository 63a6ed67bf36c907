"""A benchmark of investigations: the built-in planner over literature series with known answers.

Each folder in ``benchmarks/series/`` holds a series (``series.csv``: name,smiles,role), its question
(``question.txt``) and ``meta.json``: ``expected`` (a root-cause category of
``tierchem.agent.hypotheses.CATEGORIES``, or ``"undetermined"``), ``expected_mechanism`` where the
literature names one, ``source`` (the references that establish the answer), ``why`` and ``uncertain``
(what the references do not pin down). Every series runs as its own ``tierchem investigate`` process
(a run directory per series under ``--work``, one result store shared by all), with background
calculations excluded by default (``--no-wait``: the conclusion is the one the foreground reached).

Prints one line per series::

    NAME: right|wrong|undetermined ROOT CONFIDENCE tiers=T,... wall=S.Ss

(``tiers``: the tiers of the stored results the conclusion cites; ``timeout`` or ``failed`` instead of
the score when the run did not finish), the cause-and-consequence rows where two or more hypotheses were
supported, and a last line ``right N/M, wrong-with-confidence K`` (K: wrong answers at medium or high
confidence). Scoring: ``right`` when the root-cause category equals ``expected`` at a confidence other
than ``undetermined`` (for an expected ``undetermined``: when the conclusion declines to name one);
``undetermined`` when the planner declined to name one (not counted as wrong).

    python benchmarks/investigations.py [--only NAME ...] [--tier-cap 3] [--budget-s S] [--timeout-s 900]
                                        [--work DIR] [--cache-dir DIR] [--wait] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SERIES_DIR = Path(__file__).resolve().parent / "series"
CONFIDENT = ("medium", "high")  # a wrong answer at these levels counts against the planner
FINISHED = ("right", "wrong", "undetermined")


@dataclass(frozen=True)
class Case:
    """One literature series: where it lives, its question and the answer the literature gives."""

    name: str
    folder: Path
    question: str
    expected: str
    expected_mechanism: str = ""


@dataclass
class Outcome:
    """What one investigation concluded, scored against the literature."""

    name: str
    expected: str
    status: str                      # right | wrong | undetermined | timeout | failed
    root: str = "-"
    confidence: str = "-"
    tiers: list[int] = field(default_factory=list)
    wall_s: float = 0.0
    mechanism: str = "-"
    supported: list[str] = field(default_factory=list)
    causal_rows: list[str] = field(default_factory=list)
    note: str = ""
    run_dir: str = ""


# ------------------------------------------------------------------ series
def load_cases(only: list[str] | None = None, folder: Path = SERIES_DIR) -> list[Case]:
    """The series under ``folder`` (all, or those named in ``only``; an unknown name is an error)."""
    available = {p.name: p for p in sorted(folder.iterdir()) if (p / "meta.json").is_file()}
    names = only or list(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"unknown series {', '.join(unknown)}; available: {', '.join(available)}")
    cases = []
    for name in names:
        meta = json.loads((available[name] / "meta.json").read_text())
        cases.append(Case(name, available[name], (available[name] / "question.txt").read_text().strip(),
                          meta["expected"], meta.get("expected_mechanism", "")))
    return cases


# ------------------------------------------------------------------ scoring (pure)
def declined(conclusion: dict) -> bool:
    """Whether the conclusion declines to name a root cause (none, or one at confidence 'undetermined')."""
    return conclusion.get("root_cause") is None or conclusion.get("confidence") == "undetermined"


def score(conclusion: dict, expected: str) -> str:
    """right | wrong | undetermined for a conclusion.json dict against the expected category."""
    if expected == "undetermined":
        return "right" if declined(conclusion) else "wrong"
    if declined(conclusion):
        return "undetermined"
    return "right" if conclusion["root_cause"]["category"] == expected else "wrong"


def supported_hypotheses(conclusion: dict) -> list[str]:
    """The causes the evidence supported: the root cause, open ones marked supported, and every member of a
    cause-and-consequence pair (the planner only pairs supported causes)."""
    out = []
    if conclusion.get("root_cause"):
        out.append(conclusion["root_cause"]["id"])
    out += [o["id"] for o in conclusion.get("open", []) if o.get("status") == "supported"]
    out += [h for p in conclusion.get("cause_and_consequence", []) for h in p.get("pair", [])]
    return list(dict.fromkeys(out))


def _num(x) -> str:
    return "-" if x is None else f"{x:.3g}" if isinstance(x, (int, float)) else str(x)


def causal_rows(conclusion: dict) -> list[str]:
    """The cause-and-consequence table of conclusion.json, one line per counterfactual test."""
    rows = []
    for p in conclusion.get("cause_and_consequence", []):
        head = f"{' / '.join(p.get('pair', []))}: {p.get('verdict')}"
        if p.get("root"):
            head += f" (root {p['root']}, consequence {p.get('consequence')})"
        rows.append(head + (f"; prior {p['prior']}" if p.get("prior") not in (None, "none") else ""))
        for t in p.get("tests", []):
            analogs = ", ".join(f"{k} {_num(v)}" for k, v in (t.get("analogs") or {}).items())
            rows.append(f"  {t.get('tested')}'s {t.get('observable')} at tier {t.get('tier')} without "
                        f"{t.get('removed')}: target {_num(t.get('target'))} -> {_num(t.get('counterfactual'))} "
                        f"{t.get('unit') or ''} (analogs {analogs or '-'}; {t.get('status')}, survives "
                        f"{t.get('survives')})")
    return rows


_TIER_IN_TEXT = re.compile(r"\bat tier (\d)\b")


def evidence_tiers(conclusion: dict, store_path: Path | None = None) -> list[int]:
    """The tiers of the results the conclusion rests on: from the store by cache key (``evidence_refs``)
    when it can be read, else from the 'at tier N' of the verdicts' evidence text."""
    tiers: set[int] = set()
    refs = conclusion.get("evidence_refs") or []
    if store_path is not None and store_path.exists() and refs:
        from tierchem.tiers import ResultStore

        store = ResultStore(store_path)
        for key in refs:
            result = store.get(key)
            if result is not None:
                tiers.add(int(result.spec.tier))
    if not tiers:
        texts = [(conclusion.get("root_cause") or {}).get("evidence", "")]
        texts += [m.get("evidence", "") for m in conclusion.get("mechanism", [])]
        texts += [r.get("reason", "") for r in conclusion.get("rejected", [])]
        tiers = {int(t) for text in texts for t in _TIER_IN_TEXT.findall(text or "")}
    return sorted(tiers)


def outcome_from_conclusion(case: Case, conclusion: dict, wall_s: float, store_path: Path | None = None,
                            run_dir: str = "") -> Outcome:
    """Score one finished investigation and gather what its line and rows show."""
    root = conclusion.get("root_cause") or {}
    supported = supported_hypotheses(conclusion)
    return Outcome(case.name, case.expected, score(conclusion, case.expected), root.get("category", "-"),
                   conclusion.get("confidence", "-"), evidence_tiers(conclusion, store_path), wall_s,
                   (conclusion.get("mechanism") or [{}])[0].get("id", "-"), supported,
                   _pair_rows(conclusion, supported), run_dir=run_dir)


def _pair_rows(conclusion: dict, supported: list[str]) -> list[str]:
    if len(supported) < 2:
        return []
    return causal_rows(conclusion) or [f"{' / '.join(supported)} supported, but conclusion.json has no "
                                       "cause-and-consequence rows"]


def format_line(o: Outcome) -> str:
    tiers = ",".join(str(t) for t in o.tiers) or "-"
    line = f"{o.name}: {o.status} {o.root} {o.confidence} tiers={tiers} wall={o.wall_s:.1f}s"
    if o.status == "wrong" or o.status not in FINISHED:
        line += f" (expected {o.expected}{'; ' + o.note if o.note else ''})"
    return line


def summary_line(outcomes: list[Outcome]) -> str:
    right = sum(o.status == "right" for o in outcomes)
    confident_wrong = sum(o.status == "wrong" and o.confidence in CONFIDENT for o in outcomes)
    return f"right {right}/{len(outcomes)}, wrong-with-confidence {confident_wrong}"


# ------------------------------------------------------------------ running
def investigate_command(case: Case, run_dir: Path, cache_dir: Path, tier_cap: int, budget_s: float | None,
                        wait: bool) -> list[str]:
    cmd = [sys.executable, "-m", "tierchem", "investigate", str(case.folder), "--question", case.question,
           "--run-dir", str(run_dir), "--tier-cap", str(tier_cap), "--cache-dir", str(cache_dir),
           "--wait" if wait else "--no-wait"]
    return cmd + (["--budget-s", str(budget_s)] if budget_s is not None else [])


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def run_case(case: Case, work: Path, cache_dir: Path, tier_cap: int = 3, budget_s: float | None = None,
             timeout_s: float = 900.0, wait: bool = False) -> Outcome:
    """Investigate one series in a fresh run directory under ``work``; a timeout or a failed run is an
    outcome, not an exception."""
    run_dir = work / case.name
    shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run each time; finished calculations stay in the store
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    cmd = investigate_command(case, run_dir, cache_dir, tier_cap, budget_s, wait)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    t0 = time.perf_counter()
    # a session of its own, so a timeout ends the background workers with it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return _timed_out(case, run_dir, cache_dir, time.perf_counter() - t0, timeout_s)
    except BaseException:  # Ctrl-C or SIGTERM: the investigation (its own session) goes too
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    wall = time.perf_counter() - t0
    path = run_dir / "conclusion.json"
    if proc.returncode != 0 or not path.is_file():
        return Outcome(case.name, case.expected, "failed", wall_s=wall, run_dir=str(run_dir),
                       note=f"exit {proc.returncode}: {_last_line(err) or 'no conclusion.json'}")
    return outcome_from_conclusion(case, json.loads(path.read_text()), wall, cache_dir / "results.sqlite",
                                   str(run_dir))


def _timed_out(case: Case, run_dir: Path, cache_dir: Path, wall: float, timeout_s: float) -> Outcome:
    """A timeout, with what the checkpoint had concluded by then (the design step runs after the
    conclusion): `tierchem report` writes it from the checkpoint; the status stays ``timeout``."""
    out = Outcome(case.name, case.expected, "timeout", wall_s=wall, run_dir=str(run_dir),
                  note=f"not finished within {timeout_s:.0f} s")
    try:
        subprocess.run([sys.executable, "-m", "tierchem", "report", str(run_dir)], capture_output=True,
                       timeout=300, check=True)
        conclusion = json.loads((run_dir / "conclusion.json").read_text())
    except (subprocess.SubprocessError, OSError, ValueError):
        return out
    if "root_cause" not in conclusion:  # {"status": "no conclusion yet"}
        return out
    scored = outcome_from_conclusion(case, conclusion, wall, cache_dir / "results.sqlite", str(run_dir))
    return Outcome(**{**asdict(scored), "status": "timeout",
                      "note": f"{out.note}; the checkpointed conclusion scores {scored.status}"})


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", metavar="NAME", help="run only these series (folder names)")
    p.add_argument("--tier-cap", type=int, default=3, choices=range(0, 5))
    p.add_argument("--budget-s", type=float, default=None, help="calculation budget per series (default: tierchem's)")
    p.add_argument("--timeout-s", type=float, default=900.0, help="wall-clock limit per series")
    p.add_argument("--work", type=Path, default=Path("runs/investigations"), help="run directories go here")
    p.add_argument("--cache-dir", type=Path, default=None, help="shared result store (default: WORK/cache)")
    p.add_argument("--wait", action="store_true", help="wait for background calculations (default: excluded)")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the table as JSON")
    p.add_argument("--list", action="store_true", help="list the series with their expected answers and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # SIGTERM unwinds run_case, which ends the running investigation with it
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        cases = load_cases(args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for c in cases:
            print(f"{c.name}: {c.expected}{' / ' + c.expected_mechanism if c.expected_mechanism else ''}")
        return 0
    cache_dir = args.cache_dir or args.work / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for case in cases:
        o = run_case(case, args.work, cache_dir, args.tier_cap, args.budget_s, args.timeout_s, args.wait)
        outcomes.append(o)
        print(format_line(o), flush=True)
        for row in o.causal_rows:
            print(f"    {row}", flush=True)
        if args.json:  # after every series, so that a sweep cut short leaves its table so far
            args.json.write_text(json.dumps({"tier_cap": args.tier_cap, "budget_s": args.budget_s,
                                             "wait": args.wait, "summary": summary_line(outcomes),
                                             "series": [asdict(o) for o in outcomes]}, indent=2) + "\n")
    print(summary_line(outcomes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
