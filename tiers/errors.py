"""Calculation errors, grouped by what a caller can do about them (as in QCEngine).

A harness raises one of these; :func:`tierchem.tiers.compute` turns it into a
failed :class:`CalcResult` carrying the kind and message, and the caller (a
person, the CLI, the planner) decides what to do next.
"""

from enum import Enum


class ErrorKind(str, Enum):
    INPUT = "input"  # the input is wrong or outside the engine's reach: do not retry as is
    CONVERGENCE = "convergence"  # change keywords (level shift, more steps) and retry
    RESOURCE = "resource"  # too big for this machine: smaller model, basis, or other hardware
    RANDOM = "random"  # a transient failure: retrying may work
    ENGINE_MISSING = "engine_missing"  # the engine is not installed here
    UNKNOWN = "unknown"  # a bug or an unexpected engine failure


class CalcError(Exception):
    kind: ErrorKind = ErrorKind.UNKNOWN


class InputError(CalcError):
    kind = ErrorKind.INPUT


class ConvergenceError(CalcError):
    kind = ErrorKind.CONVERGENCE


class ResourceError(CalcError):
    kind = ErrorKind.RESOURCE


class RandomError(CalcError):
    kind = ErrorKind.RANDOM


class EngineMissingError(CalcError):
    kind = ErrorKind.ENGINE_MISSING
