"""Background calculations: a queue that runs them side by side in local worker processes (one
per core, each with its share of threads, at a lower priority so the foreground keeps a core when
it computes), and the one pickup that turns finished ones into result refs.

A background calculation is recorded in the state as a :class:`PendingCalc` with the store key its
result will have, so that a later process (``tierchem resume``) finds it in the store even when the
process that started it is gone.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

from ..tiers.errors import ErrorKind
from ..tiers.executors import LocalExecutor, PoolExecutor, _JsonFuture, _worker_compute, available_cores
from ..tiers.harness import installed_cache_key
from ..tiers.spec import CalcFailure, CalcResult, CalcSpec
from ..tiers.store import ResultStore
from .state import PendingCalc, PlannedCalc, ResultRef

log = logging.getLogger(__name__)


BACKGROUND_NICENESS = 10  # the foreground (niceness 0) gets a core back whenever it computes


def _background_compute(spec_json: str, store_path: str | None, threads: int) -> str:
    """A background worker's calculation: the pool's, at a lower CPU priority than the foreground."""
    if not getattr(_background_compute, "niced", False):
        try:
            os.nice(BACKGROUND_NICENESS)
        except (AttributeError, OSError):  # not on this platform: the same priority
            pass
        _background_compute.niced = True
    return _worker_compute(spec_json, store_path, threads)


class BackgroundPool(PoolExecutor):
    """The local pool (:class:`tiers.executors.PoolExecutor`: spawned workers, ``cores // workers``
    threads each) whose workers run at :data:`BACKGROUND_NICENESS`; leaving the process ends them
    (a calculation cut short resumes from its SCF checkpoint on the next run)."""

    def submit(self, spec: CalcSpec) -> Future:
        inner = self._pool.submit(_background_compute, spec.model_dump_json(),
                                  str(self.store.path) if self.store is not None else None, self.threads)
        # the workers, kept: a shut-down pool forgets them but still waits for them at exit
        self.workers = {**getattr(self, "workers", {}), **(getattr(self._pool, "_processes", None) or {})}
        return _JsonFuture(inner)

    def abandon(self) -> None:
        """End the workers now, running or not (the interpreter would otherwise wait for them)."""
        if self._pool is None:
            return
        for proc in {**getattr(self, "workers", {}), **(getattr(self._pool, "_processes", None) or {})}.values():
            proc.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)  # quick: the workers are gone
        self._pool = None  # let it go while the interpreter is whole (its finaliser logs)


def _pool_for(executor: Any) -> BackgroundPool | None:
    """A background pool beside an in-process foreground executor with a store on disk (the workers
    share it), of ``TIERCHEM_BACKGROUND_WORKERS`` workers (default: one per core; 0: none, one at a
    time in a thread, e.g. for a script without an ``if __name__ == "__main__":`` guard, which spawned
    workers would run again); None where the foreground executor is itself a pool or cluster."""
    store = getattr(executor, "store", None)
    workers = int(os.environ.get("TIERCHEM_BACKGROUND_WORKERS", available_cores()))
    if type(executor) is not LocalExecutor or getattr(store, "path", None) is None or workers < 1:
        return None
    return BackgroundPool(store, n_workers=workers)


@dataclass
class BackgroundQueue:
    """Runs specs side by side in a :class:`BackgroundPool` sized to the cores (beside a local
    foreground executor; else through ``executor`` in a daemon thread, one at a time, in order).
    Leaving the process does not wait for them; a calculation cut short is found missing on resume and
    run again, from its SCF checkpoint."""

    executor: Any
    futures: dict[str, Future] = field(default_factory=dict)   # PendingCalc.id -> its future
    _queue: list = field(default_factory=list)
    _worker: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: BackgroundPool | None = None

    def submit(self, key: str, spec: CalcSpec) -> Future:
        with self._lock:
            if self._pool is None:
                self._pool = _pool_for(self.executor)
                if self._pool is not None:
                    _abandon_at_exit(self._pool)
            if self._pool is not None:
                fut = self.futures[key] = self._pool.submit(spec)
                return fut
            fut: Future = Future()
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
            if self._pool is not None and self._pool._pool is not None:  # no new work; what runs
                self._pool._pool.shutdown(wait=False, cancel_futures=True)  # finishes unless the process leaves
                self._pool = None


def _abandon_at_exit(pool: BackgroundPool) -> None:
    """End ``pool``'s workers when the interpreter leaves: before concurrent.futures' own exit hook,
    which would wait for running calculations (threading's exit hooks run last-registered first)."""
    register = getattr(threading, "_register_atexit", None)
    if register is None:
        import atexit

        register = atexit.register
    register(pool.abandon)


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
