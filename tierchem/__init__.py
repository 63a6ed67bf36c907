"""tierchem: an AI collaborator for computational chemistry.

The code lives in three packages with one-way dependencies,
``tierchem.agent -> tierchem.tiers -> tierchem.chem``. Importing this package is
cheap: engines are imported by the harness that needs them, and the names below
are imported on first use (``from tierchem import Investigation``).
"""

__version__ = "0.1.0"

# name -> module that defines it; loaded lazily so `import tierchem` (and `tierchem --help`) stays fast
_LAZY = {
    "Investigation": "tierchem.agent.session",
    "investigate": "tierchem.agent.session",
    "example_path": "tierchem.agent.session",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'tierchem' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
