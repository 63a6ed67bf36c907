"""Run one calculation: look it up in the store, or run its harness and store it.

Failure is data: every exception a harness raises becomes a failed
:class:`CalcResult` with an error kind, unless ``raise_error=True``.
"""

from __future__ import annotations

import json
import logging
import platform
import time
import traceback

from .. import __version__
from ..chem.errors import MoleculeError
from .errors import CalcError, EngineMissingError, ErrorKind
from .harness import Harness, get_harness
from .spec import CalcFailure, CalcResult, CalcSpec
from .store import ResultStore

log = logging.getLogger(__name__)


def _provenance(harness: Harness | None, spec: CalcSpec) -> dict:
    """Where and how a result was made: the settings that ran (the harness's defaults merged with
    the spec's keywords) and the model choices no keyword changes, once a harness is known."""
    out = {"tierchem": __version__, "host": platform.node(), "python": platform.python_version()}
    if harness is not None:
        out["settings"] = json.loads(json.dumps(harness.settings(spec), default=str))
        out["model_notes"] = harness.model_notes
    return out


def _failure(spec: CalcSpec, key: str, kind: ErrorKind, message: str, versions: dict, t0: float,
             harness: Harness | None = None) -> CalcResult:
    return CalcResult(
        spec=spec, cache_key=key, success=False, error=CalcFailure(kind=kind, message=message),
        wall_time_s=time.perf_counter() - t0, engine_versions=versions, provenance=_provenance(harness, spec),
    )


def compute(spec: CalcSpec, store: ResultStore | None = None, raise_error: bool = False,
            use_cache: bool = True) -> CalcResult:
    """The result of ``spec``: from ``store`` when it holds it, else computed (and stored).

    The store key is the spec as given (with the engine versions), never its defaults filled in,
    so :func:`tiers.harness.installed_cache_key` finds it.
    """
    t0 = time.perf_counter()
    harness = None
    try:
        harness = get_harness(spec.engine)
        if not harness.found():
            raise EngineMissingError(f"engine {spec.engine!r} is not installed here (tier {spec.tier})")
        versions = harness.versions()
    except CalcError as exc:
        if raise_error:
            raise
        return _failure(spec, spec.content_hash(), exc.kind, str(exc), {}, t0, harness)

    key = spec.cache_key(versions)
    if store is not None and use_cache:
        hit = store.get(key)
        if hit is not None:
            log.debug("cache hit %s", spec.label)
            return hit

    # engine-side caches (AmberTools parameters) live next to the store they serve
    harness.cache_dir = store.path.parent if store is not None else None
    log.info("running %s", spec.label)
    try:
        outcome = harness.run(spec)
    except CalcError as exc:
        result = _failure(spec, key, exc.kind, str(exc), versions, t0, harness)
    except MoleculeError as exc:
        result = _failure(spec, key, ErrorKind.INPUT, str(exc), versions, t0, harness)
    except MemoryError:
        result = _failure(spec, key, ErrorKind.RESOURCE, "ran out of memory", versions, t0, harness)
    except Exception as exc:  # an engine failing in a way we did not foresee
        log.debug("unexpected failure in %s\n%s", spec.label, traceback.format_exc())
        result = _failure(spec, key, ErrorKind.UNKNOWN, f"{type(exc).__name__}: {exc}", versions, t0, harness)
    else:
        result = CalcResult(
            spec=spec, cache_key=key, success=True, values=outcome.values, artifacts=outcome.artifacts,
            converged=outcome.converged, warnings=tuple(outcome.warnings),
            wall_time_s=time.perf_counter() - t0, engine_versions=versions,
            provenance=_provenance(harness, spec),
        )
    if raise_error and not result.success:
        raise CalcError(f"{spec.label}: {result.error.kind.value}: {result.error.message}")
    if store is not None:
        store.put(result)
    return result
