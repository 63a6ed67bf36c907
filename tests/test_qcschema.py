"""QCSchema export: stored results as qcelemental AtomicResults, validated and read back."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

qcel = pytest.importorskip("qcelemental")
from qcelemental.models import AtomicResult, FailedOperation  # noqa: E402

from tierchem.agent.cli import app  # noqa: E402
from tierchem.chem.dimers import split_by_connectivity  # noqa: E402
from tierchem.tiers import compute, make_spec  # noqa: E402
from tierchem.tiers.harness import KCAL_PER_HARTREE  # noqa: E402
from tierchem.tiers.qcschema import BOHR_PER_ANGSTROM, atomic_result, qcschema_json, to_qcschema  # noqa: E402

DIMER = "6\nwater dimer\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\nO 2.9 0 0\nH 3.86 0 0\nH 2.66 0.93 0\n"


def _round_trip(result) -> AtomicResult:
    back = AtomicResult.parse_raw(qcschema_json(result))  # qcelemental validates on the way in
    assert back.success and back.provenance.creator == "tierchem"
    assert back.model.method == result.spec.method
    assert back.extras["tierchem"]["cache_key"] == result.cache_key
    return back


def test_energy(water, store):
    r = compute(make_spec("energy", water, "xtb"), store=store)
    back = _round_trip(r)
    assert back.driver == "energy" and back.schema_name == "qcschema_output"
    assert back.return_result == pytest.approx(r.values["energy_kcal_mol"] / KCAL_PER_HARTREE, rel=1e-12)
    assert back.properties.return_energy == pytest.approx(back.return_result)
    assert back.molecule.symbols.tolist() == list(water.symbols)
    assert back.molecule.geometry.ravel() == pytest.approx(water.coords.ravel() * BOHR_PER_ANGSTROM, abs=1e-6)


def test_gradient(water, store):
    r = compute(make_spec("energy", water, "xtb", gradient=True), store=store)
    back = _round_trip(r)
    assert back.driver == "gradient" and back.return_result.shape == (3, 3)
    expected = [g / (KCAL_PER_HARTREE * BOHR_PER_ANGSTROM) for g in r.values["gradient_kcal_mol_angstrom"]]
    assert back.return_result.ravel() == pytest.approx(expected, rel=1e-10)
    assert back.keywords == {"gradient": True}


def test_interaction_energy_keeps_its_fragments(store):
    a, b = split_by_connectivity(DIMER)
    r = compute(make_spec("interaction_energy", [a, b], "xtb"), store=store)
    back = _round_trip(r)
    assert back.driver == "energy" and back.extras["tierchem"]["task"] == "interaction_energy"
    assert back.return_result == pytest.approx(r.values["interaction_energy_kcal_mol"] / KCAL_PER_HARTREE)
    assert [f.tolist() for f in back.molecule.fragments] == [[0, 1, 2], [3, 4, 5]]
    assert back.molecule.molecular_charge == 0 and back.molecule.fragment_multiplicities == [1, 1]


def test_a_failure_is_a_failed_operation(water):
    r = compute(make_spec("energy", water, "xtb", frobnicate=1))
    model = atomic_result(r)
    assert isinstance(model, FailedOperation) and model.error.error_type == "input_error"
    assert "frobnicate" in model.error.error_message and to_qcschema(r)["success"] is False


def test_cache_export_on_the_command_line(tmp_path):
    cache = str(tmp_path / "c")
    r = CliRunner().invoke(app, ["calc", "energy", "-s", "O", "--tier", "xtb", "--json", "--cache-dir", cache])
    key = json.loads(r.stdout)["cache_key"]
    out = tmp_path / "water.qcschema.json"
    r = CliRunner().invoke(app, ["cache", "export", key[:12], "--qcschema", "--out", str(out), "--cache-dir", cache])
    assert r.exit_code == 0, r.output
    assert AtomicResult.parse_file(out).properties.calcinfo_natom == 3
    r = CliRunner().invoke(app, ["cache", "export", key, "--cache-dir", cache])
    assert json.loads(r.stdout)["cache_key"] == key  # without --qcschema: tierchem's own record
