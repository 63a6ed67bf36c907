"""tierchem: an AI collaborator for computational chemistry.

The code lives in three packages with one-way dependencies,
``tierchem.agent -> tierchem.tiers -> tierchem.chem``. Importing this package is
cheap: engines are imported by the harness that needs them.
"""

__version__ = "0.1.0"
