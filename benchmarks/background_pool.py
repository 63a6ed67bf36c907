"""The background pool against one worker: ``tierchem resume --wait`` of the same unfinished demo.

``tierchem demo RUN --no-wait`` into a fresh store (cold; the slow DFT confirmations and the tier-4
check of the decisive contact are left pending), then two copies of the run directory and of its store
(a demo's ``settings.json`` records no store path: each copy finds its own through
``TIERCHEM_CACHE_DIR``), each finished by a whole ``tierchem resume RUN --wait`` process, timed from start
to exit, in one invocation of this script so that both arms see the same machine load (printed):

- serial: ``TIERCHEM_BACKGROUND_WORKERS=1`` (one background worker with all threads);
- pool: the default (one background worker per core, ``cores // workers`` threads each).

Printed per arm: wall time, CPU time of the process tree (and CPU / wall, the cores busy on average),
how often two or more processes of the tree computed at once, the background calculations it ran
(from its state's transcript and from the results its store gained). For the pool arm: whether the final
conclusion has the tier-4 (CCSD(T) focal-point) row for the contact model and the sentence comparing
it with DFT (quoted). Target (issue 17): pool / serial <= 0.60.

    python benchmarks/background_pool.py [--keep DIR]

Measured (2026-12-02, 2 cores, load 2.5-2.9 at each arm's start; after resume's missing calculations
were sent to the pool): cold demo 135.8 s, 6 calculations pending (3 DFT contacts, 3 polarisabilities),
then the tier-4 check; serial 1028.8 s (CPU/wall 1.88: one worker's two threads already keep both cores
busy), pool 858.2 s (CPU/wall 1.64, two or more processes busy in 65 % of the samples): ratio 0.83.
The pool's tier-4 row and sentence are there. The 0.60 target presumes a serial queue on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET = 0.60
TICK = os.sysconf("SC_CLK_TCK")

_STATE = r"""
import json, sys
from tierchem.agent.session import saved_state
v = saved_state(sys.argv[1])
c = v.conclusion
print(json.dumps({
    "pending": [{"observable": p.observable, "tier": p.tier, "molecule": p.molecule, "purpose": p.purpose}
                for p in v.pending],
    "transcript": [t.text for t in v.transcript],
    "model_rows": [{"id": e.id, "tier": e.tier, "target": e.target.value, "summary": e.summary}
                   for e in v.evidence if e.observable == "halogen_contact_model"],
    "provisional": None if c is None else c.provisional,
    "summary": None if c is None else c.summary,
}))
"""


def state_of(run_dir: Path, cwd: Path) -> dict:
    """The run's last saved state, read-only (in a subprocess, from ``cwd``: not the source tree)."""
    proc = subprocess.run([sys.executable, "-c", _STATE, str(run_dir)], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"reading the state of {run_dir} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def store_rows(store_dir: Path, since: float = 0.0) -> list[tuple]:
    """(task, tier, engine, method) of the store's results written after ``since``."""
    db = sqlite3.connect(f"file:{store_dir / 'results.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT task, tier, engine, method FROM results WHERE created > ? ORDER BY created",
                          (since,)).fetchall()
    finally:
        db.close()


def _tree_ticks(root: int) -> dict[int, int]:
    """utime + stime (ticks) of ``root`` and its live descendants."""
    parent, ticks = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(d)], ticks[int(d)] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grew = {root}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in tree and p not in tree}
        tree |= new
        grew = bool(new)
    return {p: ticks[p] for p in tree if p in ticks}


class Sampler(threading.Thread):
    """Every ``interval`` s: how many processes of the tree used at least half a core meanwhile."""

    def __init__(self, pid: int, interval: float = 2.0):
        super().__init__(daemon=True)
        self.pid, self.interval, self.busy, self.max_procs = pid, interval, [], 0
        self.stop = threading.Event()

    def run(self) -> None:
        last = _tree_ticks(self.pid)
        while not self.stop.wait(self.interval):
            now = _tree_ticks(self.pid)
            self.max_procs = max(self.max_procs, len(now))
            self.busy.append(sum(1 for p, t in now.items() if t - last.get(p, 0) >= 0.5 * self.interval * TICK))
            last = now


def run_cli(args: list[str], env: dict, cwd: Path, log: Path) -> dict:
    """One whole ``tierchem`` process: wall s, CPU s of its tree, and the sampler's figures."""
    before = os.times()
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tierchem.agent", *args], env=env, cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT)
        sampler = Sampler(proc.pid)
        sampler.start()
        rc = proc.wait()
    seconds = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    after = os.times()
    if rc != 0:
        sys.exit(f"`tierchem {' '.join(args)}` failed ({rc}); see {log}:\n{log.read_text()[-3000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    busy = sampler.busy
    return {"wall": seconds, "cpu": cpu, "max_procs": sampler.max_procs,
            "two_busy": sum(b >= 2 for b in busy) / len(busy) if busy else 0.0}


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1/5/15 min) on {os.cpu_count()} cores"


def arm(name: str, work: Path, workers: str | None) -> dict:
    """Copy the cold run and its store, and finish the copy with ``tierchem resume --wait``."""
    run, store = work / f"run_{name}", work / f"store_{name}"
    shutil.copytree(work / "cold", run)
    shutil.copytree(work / "store", store)
    env = {k: v for k, v in os.environ.items() if k != "TIERCHEM_BACKGROUND_WORKERS"}
    env["TIERCHEM_CACHE_DIR"] = str(store)
    if workers is not None:
        env["TIERCHEM_BACKGROUND_WORKERS"] = workers
    start = state_of(run, work)
    print(f"[{name}] load before: {load()}", flush=True)
    t0 = time.time()
    fig = run_cli(["resume", str(run), "--wait"], env, work, work / f"resume_{name}.log")
    end = state_of(run, work)
    new_lines = end["transcript"][len(start["transcript"]):]
    fig.update(run=run, state=end, pending_at_start=start["pending"],
               finished=[t for t in new_lines if t.startswith("Background calculations finished")],
               new_results=store_rows(store, t0))
    bg = sum(int(m.group(1)) for t in fig["finished"] if (m := re.search(r"finished: (\d+) result", t)))
    rerun = sum(int(m.group(1)) for t in fig["finished"] if (m := re.search(r"\((\d+) rerun", t)))
    print(f"[{name}] wall {fig['wall']:.1f} s; CPU {fig['cpu']:.1f} s (CPU/wall {fig['cpu'] / fig['wall']:.2f}); "
          f"up to {fig['max_procs']} processes; >=2 busy in {100 * fig['two_busy']:.0f}% of 2-s samples", flush=True)
    print(f"[{name}] pending at start: {len(start['pending'])} "
          f"({', '.join(sorted({p['observable'] + '@t' + str(p['tier']) for p in start['pending']}))}); "
          f"background calculations finished: {bg} ({rerun} of them rerun in the foreground after the restart); "
          f"results new in its store: {len(fig['new_results'])} "
          f"(by tier: {dict(sorted(_count(r[1] for r in fig['new_results']).items()))})", flush=True)
    for t in fig["finished"]:
        print(f"[{name}]   transcript: {t}", flush=True)
    return fig


def _count(xs) -> dict:
    out: dict = {}
    for x in xs:
        out[x] = out.get(x, 0) + 1
    return out


def tier4(fig: dict) -> None:
    """Whether the final conclusion has the contact model's tier-4 row and its sentence on DFT."""
    s, run = fig["state"], fig["run"]
    rows = {r["tier"]: r for r in s["model_rows"]}
    concl = json.loads((run / "conclusion.json").read_text())
    summary = concl.get("summary") or ""
    m = re.search(r"Tier-4 check of the .*?\.(?=\s+[A-Z]|$)", summary)
    report = (run / "report.md").read_text() if (run / "report.md").exists() else ""
    print(f"[pool] conclusion provisional: {concl.get('provisional')}; pending left: {len(s['pending'])}")
    print(f"[pool] tier-4 row for the contact model in the state: {4 in rows}"
          + (f" (target {rows[4]['target']} kcal/mol; the DFT row: "
             f"{rows[min(rows)]['target'] if min(rows) < 4 else None})" if 4 in rows else "")
          + f"; halogen_contact_model in report.md: {'halogen_contact_model' in report}")
    print(f"[pool] conclusion.json's sentence comparing it with DFT: {bool(m)}")
    if m:
        print(f'[pool]   "{m.group(0)}"')
    for c in concl.get("changes") or []:
        if "tier 4" in c.lower():
            print(f"[pool]   changes: {c}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work here (kept) instead of a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tierchem-bgpool-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        for old in ("cold", "store", "run_serial", "store_serial", "run_pool", "store_pool"):
            if (work / old).exists():
                sys.exit(f"{work / old} exists; give a new --keep DIR")
        print(f"load average before: {load()}; work in {work}", flush=True)
        env = {**os.environ, "TIERCHEM_CACHE_DIR": str(work / "store")}
        cold = run_cli(["demo", str(work / "cold"), "--no-wait"], env, work, work / "demo_cold.log")
        settings = json.loads((work / "cold" / "settings.json").read_text())
        pending = state_of(work / "cold", work)["pending"]
        print(f"cold demo --no-wait (fresh store): {cold['wall']:.1f} s; {len(pending)} calculation(s) left "
              f"pending; settings.json store_path: {settings.get('store_path')}", flush=True)
        serial = arm("serial", work, "1")
        pool = arm("pool", work, None)
        print(f"load average after: {load()}")
        print(f"wall: serial {serial['wall']:.1f} s, pool {pool['wall']:.1f} s; "
              f"ratio pool/serial: {pool['wall'] / serial['wall']:.2f} (target <= {TARGET:.2f})")
        tier4(pool)


if __name__ == "__main__":
    main()
