"""The result store (content-addressed, multi-process safe) and executor equivalence."""

import multiprocessing
import sqlite3

import pytest
from pydantic import ValidationError

from tierchem.chem import Molecule
from tierchem.tiers import ResultStore, compute, make_spec
from tierchem.tiers.errors import ErrorKind
from tierchem.tiers.executors import make_executor, threads_per_worker

SMILES = ["CCO", "CC(=O)O", "c1ccccc1", "CCN", "OCCO", "CC#N"]


def _specs():
    return [make_spec("energy", Molecule.from_smiles(s, name=s), "mmff") for s in SMILES]


def test_hash_is_stable_and_content_based(water):
    a = make_spec("energy", water, "mmff")
    b = make_spec("energy", Molecule.from_smiles("O", name="water"), "mmff")
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != make_spec("energy", water, "mmff", gradient=True).content_hash()
    assert a.cache_key({"rdkit": "1"}) != a.cache_key({"rdkit": "2"})  # engine version is in the key


def test_spec_is_frozen_and_strict(water):
    spec = make_spec("energy", water, "mmff")
    with pytest.raises(ValidationError, match="frozen"):
        spec.task = "md"
    with pytest.raises(ValueError, match="unknown task"):
        make_spec("dance", water, "mmff")


def test_store_serves_repeat_and_keeps_input_failures(store, water):
    first = compute(make_spec("energy", water, "mmff"), store=store)
    again = compute(make_spec("energy", water, "mmff"), store=store)
    assert first.success and not first.from_cache and again.from_cache
    assert again.values == first.values
    # An input failure is an answer worth keeping; it is served again without rerunning.
    bad = compute(make_spec("md", water, "mmff"), store=store)
    assert not bad.success and bad.error.kind == ErrorKind.INPUT
    assert compute(make_spec("md", water, "mmff"), store=store).from_cache
    assert len(store) == 2
    info = store.info()
    assert info["count"] == 2 and {g["task"] for g in info["groups"]} == {"energy", "md"}
    assert store.clear() == 2 and len(store) == 0


def test_store_is_wal(store):
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _hammer(path: str, offset: int, n: int) -> None:
    from tierchem.chem import Molecule
    from tierchem.tiers import ResultStore, compute, make_spec

    st = ResultStore(path)
    for k in range(n):
        smiles = "C" * (1 + (offset + k) % 12)
        compute(make_spec("energy", Molecule.from_smiles(smiles), "mmff"), store=st)
        compute(make_spec("descriptors", Molecule.from_smiles(smiles), "mmff"), store=st)


def test_store_under_two_concurrent_processes(tmp_path):
    path = str(tmp_path / "shared.sqlite")
    ResultStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(path, off, 24)) for off in (0, 6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    # 12 alkanes x 2 tasks, written by both processes without loss or corruption
    assert len(ResultStore(path)) == 24
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("executor", ["pool:2", "dask-local:2"])
def test_executors_give_the_same_results(tmp_path, executor):
    local = make_executor("local", ResultStore(tmp_path / "a.sqlite")).map(_specs())
    with make_executor(executor, ResultStore(tmp_path / "b.sqlite")) as ex:
        other = ex.map(_specs())
    assert [r.cache_key for r in other] == [r.cache_key for r in local]
    for x, y in zip(local, other):
        assert y.success and y.values["energy_kcal_mol"] == pytest.approx(x.values["energy_kcal_mol"], abs=1e-9)
    # Workers wrote to the store: a second pass is served from it in this process.
    with make_executor(executor, ResultStore(tmp_path / "b.sqlite")) as ex:
        assert all(r.from_cache for r in ex.map(_specs()))


def test_threads_never_oversubscribe(monkeypatch):
    monkeypatch.delenv("TIERCHEM_THREADS", raising=False)
    monkeypatch.setattr("tierchem.tiers.executors.available_cores", lambda: 2)
    assert threads_per_worker(2) == 1 and threads_per_worker(1) == 2 and threads_per_worker(8) == 1
    monkeypatch.setenv("TIERCHEM_THREADS", "3")
    assert threads_per_worker(2) == 3


def test_missing_engine_is_a_failed_result(water):
    spec = make_spec("energy", water, "mmff", engine="nonexistent")
    result = compute(spec)
    assert not result.success and result.error.kind == ErrorKind.ENGINE_MISSING


def test_identical_specs_in_one_batch_run_once(monkeypatch, water):
    import tierchem.tiers.executors as ex_mod

    calls = []
    real = ex_mod.compute
    monkeypatch.setattr(ex_mod, "compute", lambda spec, store=None: calls.append(spec) or real(spec, store=store))
    spec = make_spec("energy", water, "mmff")
    results = make_executor("local").map([spec, spec, spec])
    assert len(calls) == 1 and len(results) == 3 and results[0] == results[2]


def test_unimportable_harness_is_engine_missing(water, monkeypatch):
    from tierchem.tiers import harness

    monkeypatch.setitem(harness._REGISTRY, "broken", "tierchem.tiers.no_such_module:Nothing")
    result = compute(make_spec("energy", water, "mmff", engine="broken"))
    assert not result.success and result.error.kind == ErrorKind.ENGINE_MISSING
