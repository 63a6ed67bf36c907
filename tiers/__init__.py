"""Calculations: typed specs and results, engine harnesses, the task catalogue,
the result store and executors. Knows nothing of hypotheses.
"""

from .catalogue import LEVELS, make_spec, resolve_level
from .compute import compute
from .errors import ErrorKind
from .spec import CalcResult, CalcSpec
from .store import ResultStore

__all__ = ["CalcResult", "CalcSpec", "ErrorKind", "LEVELS", "ResultStore", "compute", "make_spec", "resolve_level"]
