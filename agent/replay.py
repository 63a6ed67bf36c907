"""Replays of finished investigations: a run whose every input is the same as an earlier finished one's is
not run again; the earlier run's files are copied into the new run directory.

Why: over a warm store a re-run recomputes nothing, yet it spends seconds importing LangGraph (1.6 s) and
driving the graph over stored results (1.8 s) to reach the state it reached before (issue 17:
``benchmarks/warm_rerun.py``). When nothing that decides the outcome can differ, the graph need not run.

What decides the outcome, and so the key (:func:`replay_key`, a sha256):

- the series file (its bytes and its path as ``Series.source`` records it) and every file its ``cif``
  column names (bytes, or that it is missing);
- the question and every setting of the run as ``settings.json`` holds it (planner, budget, tier cap,
  background on/off and tier, wait, executor, store file);
- the ``TIERCHEM_*`` environment (the LLM default, devices, threads, data folders; never a key) and
  ``AMBERHOME``;
- tierchem's own files: every file of its four packages (code and data tables), by content;
- the versions of every distribution tierchem depends on and of Python, from package metadata (no engine
  is imported).

Only the built-in planner is deterministic: a run driven by an LLM is never kept nor replayed.

Kept (:func:`keep`, at the end of :meth:`Investigation.run`): a run that went from its start to the end in
one ``run()`` with no steering (no request, no directive, no inbox), no failure that a rerun might not
repeat (only ``input`` and ``engine_missing`` failures come out the same), and a budget that never bound
(nothing skipped as over budget, the design's own limit below what was left). It goes to
``<store dir>/replays/<key>/`` (written to a temporary folder, then renamed): the checkpoint (a copy by
SQLite's backup API), every file the run wrote (conclusion.json, reports, figures, log), and
``manifest.json`` (each file's sha256, the store keys its results and background calculations have,
its conclusion's first line).

Replayed (:func:`restore`, from :meth:`Investigation.create` or the command line, before LangGraph,
matplotlib, RDKit or any engine is imported) when the key matches and all of this holds: each kept file
has its recorded sha256; the store still holds every result the run's state refers to (the notebook,
the report and ``tierchem resume`` read them there); and no background calculation the run left pending
has a result in the store now. A pending one that has since finished (``tierchem resume`` of the first
run, ``--wait``) would be picked up at once by a normal run and change its conclusion, so its replay
would not be identical: the normal path runs. A pending one still missing is what a normal run would
start again and, without ``--wait``, leave pending: the replayed directory holds it as pending and
``tierchem resume`` finishes it as it would any other. Else the normal path runs.

The copy's text files have the old run directory's absolute path rewritten to the new one's. The
checkpoint is copied as it is: the state holds no run directory (a run whose checkpoint does is not
kept), and its LangGraph thread id is the fixed ``session.THREAD``. The kept report and transcript are the
first run's: its timings, its "computed" counts.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

FORMAT = 1                      # of the key and the kept copy; bump when either changes meaning
REPLAYS = "replays"             # beside results.sqlite
MANIFEST = "manifest.json"
CHECKPOINTS = "checkpoints.sqlite"
PACKAGES = ("tierchem", "tierchem.chem", "tierchem.tiers", "tierchem.agent")
TEXT_SUFFIXES = {".json", ".jsonl", ".md", ".html", ".log", ".txt", ".svg", ".csv", ".mmd"}
NOT_COPIED = {"run.lock", CHECKPOINTS, CHECKPOINTS + "-wal", CHECKPOINTS + "-shm", MANIFEST}
STABLE_FAILURES = {"input", "engine_missing"}   # tiers.errors.ErrorKind values a rerun repeats
BUDGET_MARKERS = ("over budget", "exceeds the budget left")   # calculations.fit_budget, causality, candidates
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")


@dataclass(frozen=True)
class Replayed:
    """A run directory filled from a kept copy: what the command line prints of it."""

    run_dir: Path
    key: str
    source: str          # the run directory the copy was kept from
    summary: str
    provisional: bool

    def conclusion_text(self) -> str:
        return (self.run_dir / "conclusion.json").read_text()


# ------------------------------------------------------------------ the key
def replay_key(settings: dict) -> str | None:
    """The sha256 of everything that decides a run's outcome (module docstring); None where that cannot
    be told (an LLM planner, no package metadata, an unreadable series)."""
    llm = settings.get("llm") or os.environ.get("TIERCHEM_LLM") or None
    if llm not in (None, "built-in"):
        return None
    try:
        series, versions = _series_digest(Path(settings["series"])), _versions()
        if series is None or versions is None:
            return None
        options = {k: v for k, v in settings.items() if k not in ("series", "store_path", "llm")}
        parts = {"format": FORMAT, "series": series, "settings": options, "store": str(store_file(settings)),
                 "environment": _environment(), "source": _source_digest(), "versions": versions}
    except OSError as exc:  # a package file or the store's folder unreadable: no key, the run is run
        log.info("no replay key: %s", exc)
        return None
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _series_digest(path: Path) -> dict | None:
    """The series file's path and bytes and those of the files its ``cif`` column names."""
    from .series import series_file

    try:
        found = series_file(path)
        data = found.read_bytes()
    except (OSError, ValueError):
        return None
    base = found.parent
    refs = {}
    for rel in _cif_cells(found, data):
        ref = Path(rel) if Path(rel).is_absolute() else base / rel
        refs[rel] = _file_sha(ref) if ref.is_file() else None
    return {"path": str(found), "sha256": hashlib.sha256(data).hexdigest(), "cif": refs}


def _cif_cells(path: Path, data: bytes) -> list[str]:
    """The ``cif`` entries of a CSV (read as chem.molecule_set reads it) or an SDF (``> <cif>`` fields);
    what RDKit would read, found without it."""
    text = data.decode("utf-8", errors="replace")
    if path.suffix.lower() in (".sdf", ".mol"):
        lines = text.splitlines()
        return [lines[i + 1].strip() for i, ln in enumerate(lines[:-1])
                if re.match(r"^>.*<\s*cif\s*>", ln, re.IGNORECASE) and lines[i + 1].strip()]
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[cell.strip() for cell in row] for row in csv.reader(lines, dialect=dialect)]
    header = [h.lower() for h in rows[0]]
    if "cif" not in header:
        return []
    col = header.index("cif")
    return [row[col] for row in rows[1:] if col < len(row) and row[col]]


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _environment() -> dict[str, str]:
    """The environment the code reads that may change a result: TIERCHEM_* less the store location (the
    key names the store file) and anything secret."""
    return {k: v for k, v in os.environ.items()
            if (k.startswith("TIERCHEM_") and k != "TIERCHEM_CACHE_DIR" and not any(w in k for w in SECRET_WORDS))
            or k == "AMBERHOME"}


@lru_cache(maxsize=1)
def _source_digest() -> str:
    """Every file of tierchem's packages (code, data tables, static files) by path and content; found
    through the import system (editable or installed alike) without importing the subpackages."""
    h, seen = hashlib.sha256(), set()
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        for root in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(root).rglob("*")):
                if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc" or path in seen:
                    continue
                seen.add(path)
                h.update(f"{name}/{path.relative_to(root).as_posix()}\0".encode())
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _versions() -> dict[str, str] | None:
    """Python's version and that of each distribution tierchem requires (its core and ``gpu``
    dependencies: the engines, the graph, the figures), from package metadata; None without tierchem's."""
    try:
        requires = importlib.metadata.requires("tierchem") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for req in requires:
        marker = req.partition(";")[2]
        if "extra" in marker and "gpu" not in marker:
            continue
        name = re.match(r"[A-Za-z0-9._-]+", req)[0]
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def store_file(settings: dict) -> Path:
    """The result store's file, as tiers.store.default_store_path finds it: found here without importing
    tiers (its package imports NumPy and the task catalogue, a fifth of a replay's time)."""
    if settings.get("store_path"):
        return Path(settings["store_path"]).expanduser().resolve()
    env = os.environ.get("TIERCHEM_CACHE_DIR")
    if env:
        return (Path(env).expanduser() / "results.sqlite").resolve()
    from platformdirs import user_cache_dir

    return (Path(user_cache_dir("tierchem")) / "results.sqlite").resolve()


def kept_dir(settings: dict, key: str) -> Path:
    return store_file(settings).parent / REPLAYS / key


def _stored(store: Path, keys: list[str]) -> set[str]:
    """Which of ``keys`` the store's results table holds (tiers.store's schema; read-only)."""
    if not keys or not store.exists():
        return set()
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=60.0)
    try:
        found = set()
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = db.execute(f"SELECT key FROM results WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update(r[0] for r in rows)
        return found
    finally:
        db.close()


# ------------------------------------------------------------------ replay
def restore(settings: dict, run_dir: Path, settings_name: str) -> Replayed | None:
    """Fill ``run_dir`` (new or empty) from the kept copy of an identical finished run, with ``settings``
    written as ``settings_name``; None (and nothing written) when there is none that can be trusted."""
    key = replay_key(settings)
    manifest = _trusted(kept_dir(settings, key), key, store_file(settings)) if key else None
    if manifest is None:
        return None
    _copy_into(kept_dir(settings, key), manifest, Path(run_dir), json.dumps(settings, indent=2), settings_name)
    log.info("%s replayed from the identical earlier run %s (key %s)", run_dir, manifest["run_dir"], key[:12])
    return Replayed(run_dir=Path(run_dir), key=key, source=manifest["run_dir"], summary=manifest["summary"],
                    provisional=manifest["provisional"])


def _trusted(kept: Path, key: str, store: Path) -> dict | None:
    """The kept copy's manifest if the copy is whole and the store still answers as it did (docstring)."""
    try:
        manifest = json.loads((kept / MANIFEST).read_text())
    except (OSError, ValueError):
        return None  # nothing kept under this key (or a torn manifest)
    why = None
    if manifest.get("format") != FORMAT or manifest.get("key") != key:
        why = "it was kept in another format"
    elif any(not (kept / rel).is_file() or _file_sha(kept / rel) != sha for rel, sha in manifest["files"].items()):
        why = "a kept file is missing or changed"
    elif len(_stored(store, manifest["results"])) < len(set(manifest["results"])):
        why = "the store no longer holds all of its results"
    elif _stored(store, manifest["pending"]):
        why = "a background calculation it left pending has finished since"
    if why:
        log.info("the earlier run kept under %s is not replayed: %s", key[:12], why)
        return None
    return manifest


def _copy_into(kept: Path, manifest: dict, run_dir: Path, settings_text: str, settings_name: str) -> None:
    """The kept files into ``run_dir`` (the old run directory's path rewritten), the settings, and the
    checkpoint last (by rename), so that a copy cut short is no investigation ``create`` would refuse."""
    from . import runlock

    run_dir.mkdir(parents=True, exist_ok=True)
    lock = runlock.acquire(run_dir)
    try:
        old, new = manifest["run_dir"], str(run_dir.resolve())
        for rel in manifest["files"]:
            if rel != CHECKPOINTS:
                _copy_file(kept / rel, run_dir / rel, old, new)
        (run_dir / settings_name).write_text(settings_text)
        _note_in_log(run_dir, old, manifest["key"])
        part = run_dir / (CHECKPOINTS + ".part")
        shutil.copyfile(kept / CHECKPOINTS, part)
        os.replace(part, run_dir / CHECKPOINTS)
    finally:
        runlock.release(lock)


def _note_in_log(run_dir: Path, old: str, key: str) -> None:
    """A line in the copied investigation.log (in its format) saying where the run came from."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now * 1000) % 1000:03d}"
    with open(run_dir / "investigation.log", "a") as fh:
        fh.write(f"{stamp} INFO {__name__}: replayed from the identical earlier run {old} (key {key[:12]}); "
                 "nothing was computed again\n")


def _copy_file(src: Path, dst: Path, old: str, new: str) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix.lower() in TEXT_SUFFIXES:
        dst.write_bytes(src.read_bytes().replace(old.encode(), new.encode()))
    else:
        shutil.copyfile(src, dst)


# ------------------------------------------------------------------ keep
def keep(run_dir: Path, settings: dict, key: str, v, conn: sqlite3.Connection, inbox: str,
         settings_name: str) -> Path | None:
    """Keep a finished run for replay under ``key`` (from :func:`replay_key` when it was created); ``v``
    its final state (an InvestigationView), ``conn`` its open checkpoint database. None when the run is
    not one whose outcome a rerun would repeat (the reason is logged)."""
    run_dir = Path(run_dir)
    why = _not_repeatable(run_dir, v, inbox)
    if why:
        log.info("%s is not kept for replay: %s", run_dir, why)
        return None
    dest = kept_dir(settings, key)
    tmp = dest.parent / f".tmp-{key[:16]}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if not _backup(conn, tmp / CHECKPOINTS, str(run_dir.resolve())):
            log.info("%s is not kept for replay: its checkpoint holds the run directory's path", run_dir)
            return None
        files = {CHECKPOINTS: _file_sha(tmp / CHECKPOINTS)}
        for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(run_dir).as_posix()
            if rel not in NOT_COPIED and rel != settings_name and not rel.startswith(CHECKPOINTS):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, tmp / rel)
                files[rel] = _file_sha(tmp / rel)
        (tmp / MANIFEST).write_text(json.dumps(_manifest(key, run_dir, v, files), indent=2))
        _install(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("%s kept for replay in %s", run_dir, dest)
    return dest


def _not_repeatable(run_dir: Path, v, inbox: str) -> str | None:
    """Why a rerun with the same inputs might not reach ``v`` (None: it would)."""
    if v.conclusion is None:
        return "it reached no conclusion"
    if v.requests or v.directives or v.asked or (run_dir / inbox).exists():
        return "it was steered"
    flaky = [r.id for r in v.results if not r.success and r.cache_key and _kind(r.error) not in STABLE_FAILURES]
    if flaky:
        return f"{len(flaky)} calculation(s) failed in a way a rerun might not repeat ({flaky[0]})"
    text = v.model_dump_json(include={"results", "proposals", "design", "causal_tests"})
    if any(m in text for m in BUDGET_MARKERS) or v.budget.left_s < v.budget.design_s_limit:
        return "its budget bound (a rerun over stored results spends less of it and could afford more)"
    return None


def _kind(error: str | None) -> str:
    return (error or "").partition(":")[0].strip()


def _backup(conn: sqlite3.Connection, dest: Path, run_dir: str) -> bool:
    """A consistent single-file copy of the checkpoint database (SQLite's backup API: the WAL included);
    False if it holds ``run_dir`` (bytes in LangGraph's msgpack are not rewritten blindly)."""
    out = sqlite3.connect(dest)
    try:
        conn.backup(out)
        out.execute("PRAGMA journal_mode=DELETE")
    finally:
        out.close()
    return run_dir.encode() not in dest.read_bytes()


def _manifest(key: str, run_dir: Path, v, files: dict[str, str]) -> dict:
    results = sorted({r.cache_key for r in v.results if r.cache_key and (r.success or _kind(r.error) == "input")})
    return {"format": FORMAT, "key": key, "run_dir": str(run_dir.resolve()), "created": time.time(),
            "summary": v.conclusion.summary, "provisional": bool(v.conclusion.provisional), "files": files,
            "results": results, "pending": sorted({p.cache_key for p in v.pending if p.cache_key})}


def _install(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``, replacing an older copy (renamed away first: a rename cannot replace a
    folder that holds files)."""
    old = dest.parent / f".old-{dest.name[:16]}-{os.getpid()}"
    if dest.exists():
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError as exc:  # another process kept the same run at the same moment: theirs stays
        log.info("kept copy %s not installed: %s", dest, exc)
    shutil.rmtree(old, ignore_errors=True)
