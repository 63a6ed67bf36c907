"""Speed where a scientist waits (issue 17): engine versions without importing engines, figures cached
by their content, reports rewritten only when they change, SCFs that resume after an interruption."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tierchem.chem.molecule import Molecule
from tierchem.tiers.catalogue import make_spec
from tierchem.tiers.compute import compute
from tierchem.tiers.store import ResultStore

WATER = Molecule(name="water", symbols=("O", "H", "H"),
                 coords_angstrom=((0.0, 0.0, 0.1173), (0.0, 0.7572, -0.4692), (0.0, -0.7572, -0.4692)),
                 bonds=((0, 1, 1), (0, 2, 1)))


def test_versions_and_found_import_no_engine():
    """Every harness's found() and versions() come from package metadata: no engine is imported, and
    the strings are those the engines report themselves (cache keys do not change)."""
    code = ("import sys\n"
            "from tierchem.tiers.harness import get_harness, harness_names\n"
            "v = {n: (get_harness(n).found(), get_harness(n).versions()) for n in harness_names()}\n"
            "heavy = {'rdkit', 'openmm', 'parmed', 'pyscf', 'dftd3', 'tblite'} & set(sys.modules)\n"
            "print(repr((v, sorted(heavy))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    versions, heavy = eval(out)  # noqa: S307 - our own repr
    assert heavy == []
    import openmm
    import parmed
    import pyscf
    import rdkit

    assert versions["rdkit"][1] == {"rdkit": rdkit.__version__}
    assert versions["pyscf"][1]["pyscf"] == versions["pyscf-cc"][1]["pyscf"] == pyscf.__version__
    assert versions["openmm"][1]["openmm"] == openmm.__version__
    assert versions["openmm"][1]["parmed"] == parmed.__version__
    assert all(found for found, _ in versions.values())


def test_module_present_without_import():
    from tierchem.tiers.harness import module_present

    assert module_present("json") and module_present("dftd3.interface")
    assert not module_present("no_such_engine_here") and not module_present("json.no_such_module")


def test_depiction_cached_by_content(tmp_path):
    from tierchem.chem.depict import depict_svg

    first = depict_svg("Ic1ccc(I)cc1", "target", cache_dir=tmp_path)
    (cached,) = tmp_path.glob("depict-*.svg")
    cached.write_bytes(b"<svg/>")  # what the cache holds is what comes back: no drawing
    assert depict_svg("Ic1ccc(I)cc1", "target", cache_dir=tmp_path) == b"<svg/>"
    assert depict_svg("Ic1ccc(I)cc1", "other", cache_dir=tmp_path) != b"<svg/>"
    assert first.startswith(b"<?xml") or b"<svg" in first


def test_report_written_only_when_changed(tmp_path):
    from tierchem.agent.report import _write_if_changed

    path = tmp_path / "report.md"
    assert _write_if_changed(path, b"one")
    mtime = path.stat().st_mtime_ns
    assert not _write_if_changed(path, b"one") and path.stat().st_mtime_ns == mtime
    assert _write_if_changed(path, b"two") and path.read_bytes() == b"two"


# ------------------------------------------------------------------ SCF restart
def _counting(monkeypatch, stop_after: int | None = None) -> list[int]:
    """Count SCF cycles (PySCF's per-cycle callback); raise KeyboardInterrupt (a kill: not stored, the
    scratch stays) after ``stop_after`` cycles."""
    from pyscf.scf import hf

    cycles: list[int] = []

    def callback(env):
        cycles.append(env["cycle"])
        if stop_after is not None and len(cycles) >= stop_after:
            raise KeyboardInterrupt("interrupted mid-SCF")

    monkeypatch.setattr(hf.SCF, "callback", staticmethod(callback))
    return cycles


def test_interrupted_scf_resumes_from_checkpoint(tmp_path, monkeypatch):
    """Water B3LYP/def2-SVP: an SCF interrupted after some cycles restarts from its chkfile (in the
    scratch next to the store) and converges in fewer cycles to the same energy; the scratch is
    removed once the result is stored."""
    pytest.importorskip("pyscf")
    spec = make_spec("energy", WATER, level="dft", basis="def2-SVP")
    with monkeypatch.context() as m:
        cold_cycles = _counting(m)
        cold = compute(spec, store=ResultStore(tmp_path / "cold" / "results.sqlite"))
    assert cold.success and len(cold_cycles) >= 6
    store = ResultStore(tmp_path / "warm" / "results.sqlite")
    with monkeypatch.context() as m:
        _counting(m, stop_after=len(cold_cycles) - 2)
        with pytest.raises(KeyboardInterrupt):
            compute(spec, store=store)
    assert list((tmp_path / "warm" / "scf_scratch").rglob("*.chk"))
    with monkeypatch.context() as m:
        rerun_cycles = _counting(m)
        rerun = compute(spec, store=store)
    assert rerun.success and len(rerun_cycles) < len(cold_cycles) - 2
    assert abs(rerun.values["energy_hartree"] - cold.values["energy_hartree"]) < 1e-8
    assert not list((tmp_path / "warm" / "scf_scratch").rglob("*.chk"))
