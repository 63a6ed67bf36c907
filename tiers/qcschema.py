"""Stored results as QCSchema (MolSSI's ``qcelemental`` models), the field's interchange format.

:func:`to_qcschema` turns a :class:`CalcResult` into the fields of a QCSchema ``AtomicResult``
(schema ``qcschema_output`` v1): the molecule (all fragments, geometry in Bohr, with fragment
charges and multiplicities and the Kekulé bonds as connectivity), the driver, the model
(method, basis), the keywords, the properties (Hartree, Bohr), ``return_result``, success and
provenance. A failed result becomes a ``FailedOperation``. tierchem's own record (task, tier,
engine versions, every value with its unit in its name) rides along in ``extras["tierchem"]``.

QCSchema has no interaction- or lattice-energy driver: those are ``driver="energy"`` with
``return_result`` the interaction (lattice, per molecule) energy in Hartree, and
``extras["tierchem"]["task"]`` saying which it is. :func:`atomic_result` validates the fields
with ``qcelemental`` and returns its model.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import __version__
from .harness import KCAL_PER_HARTREE
from .spec import CalcResult

BOHR_PER_ANGSTROM = 1.0 / 0.529177210903  # CODATA 2018

# task -> (the value that is the task's answer, in kcal/mol); gradients are decided by the values present
_RETURN_ENERGY = {"energy": "energy_kcal_mol", "optimize": "energy_kcal_mol",
                  "interaction_energy": "interaction_energy_kcal_mol", "lattice_energy": "lattice_energy_kcal_mol"}


def qcschema_molecule(result: CalcResult) -> dict[str, Any]:
    """The spec's fragments as one QCSchema molecule (geometry in Bohr)."""
    mols = result.spec.molecules
    symbols, geometry, fragments, bonds, start = [], [], [], [], 0
    for m in mols:
        symbols += list(m.symbols)
        geometry += (np.asarray(m.coords_angstrom, float) * BOHR_PER_ANGSTROM).ravel().tolist()
        fragments.append(list(range(start, start + m.n_atoms)))
        bonds += [(i + start, j + start, float(order)) for i, j, order in m.bonds]
        start += m.n_atoms
    charge = sum(m.charge for m in mols)
    unpaired = sum(m.multiplicity - 1 for m in mols)  # high-spin coupling of the fragments
    out = {"schema_name": "qcschema_molecule", "schema_version": 2, "symbols": symbols, "geometry": geometry,
           "name": " + ".join(m.label for m in mols)[:200] or "molecule",
           "molecular_charge": float(charge), "molecular_multiplicity": unpaired + 1,
           "fix_com": True, "fix_orientation": True}
    if len(mols) > 1:
        out.update(fragments=fragments, fragment_charges=[float(m.charge) for m in mols],
                   fragment_multiplicities=[m.multiplicity for m in mols])
    if bonds:
        out["connectivity"] = bonds
    return out


def _driver_and_return(result: CalcResult) -> tuple[str, Any, dict[str, Any]]:
    """(driver, return_result, properties) of a successful result, in Hartree and Bohr."""
    values, task = result.values, result.spec.task
    n_atoms = result.spec.n_atoms
    props: dict[str, Any] = {"calcinfo_natom": n_atoms}
    energy_key = _RETURN_ENERGY.get(task, "energy_kcal_mol")
    energy = values.get(energy_key)
    if energy is not None:
        props["return_energy"] = float(energy) / KCAL_PER_HARTREE
    if "gradient_kcal_mol_angstrom" in values:
        gradient = (np.asarray(values["gradient_kcal_mol_angstrom"], float).reshape(n_atoms, 3)
                    / (KCAL_PER_HARTREE * BOHR_PER_ANGSTROM))
        props["return_gradient"] = gradient.tolist()
        return "gradient", gradient.tolist(), props
    if energy is not None:
        return "energy", props["return_energy"], props
    # properties, esp, descriptors...: tierchem's values are the answer (units in their names)
    return "properties", {k: v for k, v in values.items() if isinstance(v, (int, float, bool, str, list))}, props


def to_qcschema(result: CalcResult) -> dict[str, Any]:
    """The QCSchema fields of ``result``: an ``AtomicResult`` if it succeeded, else a ``FailedOperation``."""
    spec = result.spec
    model = {"method": spec.method, "basis": spec.basis or None}
    tierchem = {"task": spec.task, "tier": spec.tier, "engine": spec.engine, "cache_key": result.cache_key,
                "engine_versions": dict(result.engine_versions), "wall_time_s": result.wall_time_s,
                "warnings": list(result.warnings), "converged": result.converged,
                "values": json.loads(json.dumps(result.values, default=str)),
                "settings": result.provenance.get("settings", {})}
    record = {"schema_name": "qcschema_input", "schema_version": 1, "molecule": qcschema_molecule(result),
              "model": model, "keywords": dict(spec.keywords), "extras": {"tierchem": tierchem}}
    if not result.success:
        error = result.error
        record["driver"] = "energy"
        return {"input_data": record, "success": False,
                "error": {"error_type": f"{error.kind.value}_error" if error else "unknown_error",
                          "error_message": error.message if error else "failed"}}
    driver, returned, props = _driver_and_return(result)
    engine = ", ".join(f"{k} {v}" for k, v in result.engine_versions.items())
    record.update(schema_name="qcschema_output", driver=driver, return_result=returned, properties=props,
                  success=True, provenance={"creator": "tierchem", "version": __version__,
                                            "routine": f"tierchem.tiers.{spec.engine} ({engine})",
                                            "wall_time": result.wall_time_s})
    return record


def atomic_result(result: CalcResult):
    """``result`` as a validated ``qcelemental`` model (``AtomicResult``, or ``FailedOperation``)."""
    from qcelemental.models import AtomicResult, FailedOperation

    data = to_qcschema(result)
    return AtomicResult(**data) if data.get("success") else FailedOperation(**data)


def qcschema_json(result: CalcResult, indent: int | None = 2) -> str:
    """``result`` as QCSchema JSON, validated by ``qcelemental`` first."""
    text = atomic_result(result).json()  # qcelemental's own encoding (arrays as lists)
    return json.dumps(json.loads(text), indent=indent)
