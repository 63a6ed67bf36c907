"""The result store: content-addressed, on SQLite in WAL mode, shared across runs.

Keyed by :meth:`CalcSpec.cache_key` (spec content + engine versions). Several
processes may read and write at once: WAL lets readers run beside one writer,
and a busy timeout makes writers wait their turn instead of failing.

Location: ``$TIERCHEM_CACHE_DIR/results.sqlite`` if set, else the user's cache
directory (``platformdirs.user_cache_dir("tierchem")``); or pass a path.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from .errors import ErrorKind
from .spec import CalcResult

# Failures that would fail the same way again are worth keeping as answers.
_CACHEABLE_FAILURES = {ErrorKind.INPUT}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    tier INTEGER NOT NULL,
    engine TEXT NOT NULL,
    method TEXT NOT NULL,
    success INTEGER NOT NULL,
    created REAL NOT NULL,
    result TEXT NOT NULL
)
"""


def default_store_path() -> Path:
    env = os.environ.get("TIERCHEM_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "results.sqlite"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tierchem")) / "results.sqlite"


class StoreError(OSError):
    """The store's folder or file cannot be created, written or read."""


class ResultStore:
    """Get and put :class:`CalcResult` objects by cache key."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db, db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(f"cannot use the result store {self.path}: {reason}; give a writable folder "
                             "(--cache-dir DIR or TIERCHEM_CACHE_DIR)") from None

    def _connect(self) -> sqlite3.Connection:
        # A connection per operation: cheap, and safe across fork/spawn and threads.
        db = sqlite3.connect(self.path, timeout=60.0)
        db.execute("PRAGMA busy_timeout=60000")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"

    @property
    def content_dir(self) -> Path:
        """Where derived content (figures, depictions, analog pools) is kept by what it holds, beside
        the results it is drawn from: a new run over a warm store recomputes none of it."""
        return self.path.parent / "figures"

    def get(self, key: str) -> CalcResult | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT result FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return CalcResult.model_validate_json(row[0]).model_copy(update={"from_cache": True})

    def find(self, prefix: str) -> CalcResult:
        """The result whose key starts with ``prefix`` (the 12 characters ``tierchem calc`` prints will
        do); KeyError naming what matched when none or several do."""
        prefix = prefix.strip().lower()
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            raise KeyError(f"{prefix!r} is not a result key (hexadecimal, as `tierchem calc` prints it)")
        with closing(self._connect()) as db:
            rows = db.execute("SELECT key FROM results WHERE key >= ? AND key < ? LIMIT 3",
                              (prefix, prefix + "g")).fetchall()
        if not rows:
            raise KeyError(f"no stored result has a key starting {prefix!r} in {self.path}")
        if len(rows) > 1:
            raise KeyError(f"{len(rows)}+ stored results have keys starting {prefix!r}; give more characters")
        return self.get(rows[0][0])

    def put(self, result: CalcResult) -> bool:
        """Store a result; transient failures are not stored. Returns whether it was."""
        if not result.success and (result.error is None or result.error.kind not in _CACHEABLE_FAILURES):
            return False
        spec = result.spec
        payload = result.model_copy(update={"from_cache": False}).model_dump_json()
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (result.cache_key, spec.task, spec.tier, spec.engine, spec.method,
                 int(result.success), time.time(), payload),
            )
        return True

    def __contains__(self, key: str) -> bool:
        with closing(self._connect()) as db:
            return db.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        with closing(self._connect()) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def info(self) -> dict:
        """Location, size on disk, and counts per engine and task."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT engine, task, COUNT(*), SUM(success) FROM results GROUP BY engine, task ORDER BY engine, task"
            ).fetchall()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())
        return {
            "path": str(self.path),
            "size_bytes": size,
            "count": sum(r[2] for r in rows),
            "groups": [{"engine": e, "task": t, "count": n, "succeeded": int(s or 0)} for e, t, n, s in rows],
        }

    def clear(self) -> int:
        """Delete every stored result; returns how many there were."""
        with closing(self._connect()) as db, db:
            n = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            db.execute("DELETE FROM results")
        with closing(self._connect()) as db:
            db.execute("VACUUM")
        return n
