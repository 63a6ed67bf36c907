"""Executors: where calculations run. One interface, three kinds.

- ``local``: in this process, one after another, using all threads.
- ``pool[:N]``: N worker processes on this machine.
- ``dask://HOST:PORT`` (a running Dask scheduler) or ``dask-local[:N]`` (a local
  Dask cluster), from the ``cluster`` extra.

Threads: each worker gets ``cores // workers`` BLAS/OpenMP threads (at least
one), so a pool never oversubscribes the machine; a peer project saw tblite run
150x slower on 2 cores when it did. Set ``TIERCHEM_THREADS`` to override the
per-calculation thread count.

The store is consulted in the calling process first, so cached results return at
once; workers write their results to the same store (SQLite WAL is safe for that).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Callable, Iterable, Sequence

from .compute import compute
from .harness import installed_cache_key
from .spec import CalcResult, CalcSpec
from .store import ResultStore

ProgressFn = Callable[[CalcResult], None]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYSCF_MAX_MEMORY_THREADS")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_worker(n_workers: int) -> int:
    env = os.environ.get("TIERCHEM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, available_cores() // max(1, n_workers))


@contextmanager
def limited_threads(n: int):
    """Limit BLAS/OpenMP threads of already-imported libraries to ``n`` (threadpoolctl)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n):
        yield


def _set_thread_env(n: int) -> None:
    # Set before the engines are imported in a fresh worker process.
    for var in _THREAD_VARS[:3]:
        os.environ[var] = str(n)


def _worker_compute(spec_json: str, store_path: str | None, threads: int) -> str:
    """Run in a worker: JSON in, JSON out (cheap, version-safe pickling)."""
    _set_thread_env(threads)
    spec = CalcSpec.model_validate_json(spec_json)
    store = ResultStore(store_path) if store_path else None
    with limited_threads(threads):
        return compute(spec, store=store).model_dump_json()


class Executor:
    """Runs specs; ``map`` returns results in the order of the specs."""

    n_workers: int = 1

    def __init__(self, store: ResultStore | None = None):
        self.store = store

    def submit(self, spec: CalcSpec) -> Future:
        raise NotImplementedError

    def _cached(self, spec: CalcSpec) -> CalcResult | None:
        if self.store is None:
            return None
        key = installed_cache_key(spec)
        return self.store.get(key) if key else None

    def map(self, specs: Sequence[CalcSpec], progress: ProgressFn | None = None) -> list[CalcResult]:
        """Results in the order of ``specs``; identical specs are computed once."""
        results: list[CalcResult | None] = [None] * len(specs)
        pending: dict[Future, list[int]] = {}
        by_hash: dict[str, Future] = {}
        for i, spec in enumerate(specs):
            hit = self._cached(spec)
            if hit is not None:
                results[i] = hit
                if progress:
                    progress(hit)
                continue
            key = spec.content_hash()
            if key not in by_hash:
                by_hash[key] = self.submit(spec)
                pending[by_hash[key]] = []
            pending[by_hash[key]].append(i)
        for fut in self._as_completed(pending):
            res = fut.result()
            for i in pending[fut]:
                results[i] = res
                if progress:
                    progress(res)
        return results  # type: ignore[return-value]

    def _as_completed(self, futures: Iterable[Future]):
        return as_completed(list(futures))

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalExecutor(Executor):
    """In this process, one calculation at a time."""

    def submit(self, spec: CalcSpec) -> Future:
        fut: Future = Future()
        fut.set_result(compute(spec, store=self.store))
        return fut


class _JsonFuture(Future):
    """Wraps a worker's JSON reply into a CalcResult."""

    def __init__(self, inner):
        super().__init__()
        self._inner = inner
        inner.add_done_callback(self._done)

    def _done(self, inner) -> None:
        try:
            self.set_result(CalcResult.model_validate_json(inner.result()))
        except BaseException as exc:  # a worker died: report it as the future's error
            self.set_exception(exc)


class PoolExecutor(Executor):
    """N local worker processes (spawned, so engines start clean in each)."""

    def __init__(self, store: ResultStore | None = None, n_workers: int | None = None):
        super().__init__(store)
        import multiprocessing

        self.n_workers = n_workers or available_cores()
        self.threads = threads_per_worker(self.n_workers)
        self._pool = ProcessPoolExecutor(self.n_workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, spec: CalcSpec) -> Future:
        inner = self._pool.submit(_worker_compute, spec.model_dump_json(),
                                  str(self.store.path) if self.store is not None else None, self.threads)
        return _JsonFuture(inner)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask distributed cluster: a scheduler address, or a local cluster when None.

    The store path must be reachable from the workers (a shared filesystem).
    """

    def __init__(self, store: ResultStore | None = None, address: str | None = None,
                 n_workers: int | None = None):
        super().__init__(store)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ImportError("Dask executors need the 'cluster' extra: pip install 'tierchem[cluster]'") from None
        if address:
            self._cluster = None
            self._client = Client(address)
            self.n_workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        else:
            self.n_workers = n_workers or available_cores()
            self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        self.threads = threads_per_worker(self.n_workers) if not address else 1

    def submit(self, spec: CalcSpec) -> Future:
        dfut = self._client.submit(_worker_compute, spec.model_dump_json(),
                                   str(self.store.path) if self.store is not None else None, self.threads, pure=False)
        fut: Future = Future()

        def _done(d):
            try:
                fut.set_result(CalcResult.model_validate_json(d.result()))
            except BaseException as exc:
                fut.set_exception(exc)

        dfut.add_done_callback(_done)
        fut._dask = dfut  # keep a reference so Dask does not release the task
        return fut

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(name: str = "local", store: ResultStore | None = None) -> Executor:
    """An executor from a short name: ``local``, ``pool[:N]``, ``dask-local[:N]``, ``dask://HOST:PORT``."""
    kind, _, arg = name.partition(":")
    if name.startswith(("dask://", "tcp://")):
        return DaskExecutor(store, address=name.replace("dask://", "tcp://", 1))
    n = int(arg) if arg else None
    if kind == "local":
        return LocalExecutor(store)
    if kind == "pool":
        return PoolExecutor(store, n_workers=n)
    if kind == "dask-local":
        return DaskExecutor(store, n_workers=n)
    raise ValueError(f"unknown executor {name!r}; use local, pool[:N], dask-local[:N] or dask://HOST:PORT")
