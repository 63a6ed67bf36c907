"""Errors raised by the chem layer."""


class MoleculeError(ValueError):
    """A molecule or structure that cannot be used as given; the message says why."""
