"""Molecules and structures: parsing, validation, embedding, conformers, dimers.

Imports only RDKit, ASE and NumPy (lazily where they are heavy).
"""

from .errors import MoleculeError
from .molecule import Molecule

__all__ = ["Molecule", "MoleculeError"]
