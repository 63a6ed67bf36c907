"""Background calculations: a queue that runs them one at a time, and the one pickup that turns
finished ones into result refs.

A background calculation is recorded in the state as a :class:`PendingCalc` with the store key its
result will have, so that a later process (``tierchem resume``) finds it in the store even when the
process that started it is gone.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from ..tiers.errors import ErrorKind
from ..tiers.harness import installed_cache_key
from ..tiers.spec import CalcFailure, CalcResult, CalcSpec
from ..tiers.store import ResultStore
from .state import PendingCalc, PlannedCalc, ResultRef

log = logging.getLogger(__name__)


@dataclass
class BackgroundQueue:
    """Runs specs through ``executor`` in a daemon thread, one at a time, in order: leaving the process
    does not wait for them; a calculation cut short is found missing on resume and run again."""

    executor: Any
    futures: dict[str, Future] = field(default_factory=dict)   # PendingCalc.id -> its future
    _queue: list = field(default_factory=list)
    _worker: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, key: str, spec: CalcSpec) -> Future:
        fut: Future = Future()
        with self._lock:
            self.futures[key] = fut
            self._queue.append((spec, fut))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._drain, name="tierchem-bg", daemon=True)
                self._worker.start()
        return fut

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                spec, fut = self._queue.pop(0)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(self.executor.submit(spec).result())
            except BaseException as exc:  # reported through the future
                fut.set_exception(exc)

    def close(self) -> None:
        with self._lock:
            for _, fut in self._queue:
                fut.cancel()
            self._queue.clear()


def stored_result(store: ResultStore | None, spec: CalcSpec) -> CalcResult | None:
    """The stored result of ``spec`` with the engines installed here, if any."""
    key = installed_cache_key(spec)
    return store.get(key) if (store is not None and key) else None


def start(queue: BackgroundQueue, store: ResultStore, p: PlannedCalc,
          purpose: str = "verdict") -> tuple[ResultRef | None, PendingCalc | None]:
    """Send ``p`` to the background: (its ref if the store already has its result, else None; else its
    pending entry, with the key under which resume looks for it)."""
    spec = CalcSpec.model_validate(p.spec)
    key = installed_cache_key(spec)
    hit = store.get(key) if key else None
    if hit is not None:
        return ResultRef.of(p, hit), None
    entry = PendingCalc.of(p, key, purpose)
    queue.submit(entry.id, spec)
    return None, entry


def run_specs(executor: Any, specs: list[CalcSpec],
              progress: Callable[[CalcResult], None] | None = None) -> list[CalcResult]:
    """Run specs through the executor; an executor-level crash becomes a failed result, not a dead run."""
    if not specs:
        return []
    try:  # the executor runs each distinct spec once (several observables may read one result)
        return executor.map(specs, progress=progress)
    except Exception as exc:
        log.warning("executor failed on a batch (%s); running one by one", exc)
    out = []
    for spec in specs:
        try:
            out.append(executor.submit(spec).result())
        except Exception as exc:
            out.append(CalcResult(spec=spec, cache_key=spec.content_hash(), success=False,
                                  error=CalcFailure(kind=ErrorKind.UNKNOWN, message=f"{type(exc).__name__}: {exc}")))
    return out


def pickup(pending: list[PendingCalc], queue: BackgroundQueue, store: ResultStore,
           wait: bool) -> tuple[list[tuple[PendingCalc, CalcResult]], list[PendingCalc]]:
    """Split pending calculations into (finished, with their results) and still missing. A result comes
    from this process's future (waited for when ``wait``), else from the store (finished by an earlier
    process)."""
    done, missing = [], []
    for entry in pending:
        fut = queue.futures.get(entry.id)
        result = None
        if fut is not None and (wait or fut.done()):
            try:
                result = fut.result()
            except Exception as exc:
                log.warning("background calculation %s died: %s", entry.id, exc)
            queue.futures.pop(entry.id, None)
        if result is None and entry.cache_key:
            result = store.get(entry.cache_key)
        if result is None:
            missing.append(entry)
        else:
            done.append((entry, result))
    return done, missing
