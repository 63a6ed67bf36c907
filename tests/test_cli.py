"""The command line: bad input gives one clear line and a non-zero exit; start-up stays lazy."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

TIERCHEM = [sys.executable, "-m", "tierchem"]


def run(*args, cwd=None):
    return subprocess.run([*TIERCHEM, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_does_not_import_engines():
    code = ("import sys; sys.argv=['tierchem','--help']\n"
            "from tierchem.agent import cli\n"
            "try:\n    cli.app()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('rdkit', 'openmm', 'pyscf', 'tblite', 'langgraph', 'ase', 'parmed', 'distributed')"
            " if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert "HEAVY []" in out


@pytest.mark.parametrize("module", ["tierchem", "tierchem.agent"])
def test_python_m_runs_the_one_cli(module):
    r = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for command in ("investigate", "resume", "demo", "calc", "report"):
        assert command in r.stdout


def test_investigate_a_missing_series_is_one_line(tmp_path):
    r = run("investigate", "/nonexistent", "--question", "q", "--run-dir", str(tmp_path / "x"))
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:") and "/nonexistent" in lines[0] and "no such file" in lines[0]
    assert not (tmp_path / "x").exists()


# The console script itself, in a subprocess, on a few cases; the corpus of 60+ runs in-process in
# test_bad_input.py.
@pytest.mark.parametrize("args, message", [
    (["calc", "energy", "-s", "C1CC"], "unclosed ring"),
    (["calc", "energy", "-f", "missing.xyz"], "no such file"),
    (["benchmark", "x41"], "unknown dimer dataset"),
    (["benchmark", "s22", "--tier", "xtb", "--cbs"], "--cbs extrapolates correlated"),
])
def test_bad_input_is_one_clear_line(args, message):
    r = run(*args)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:") and message in lines[0]
    assert "Traceback" not in r.stderr


def test_calc_json_and_store(tmp_path):
    env_args = ["--cache-dir", str(tmp_path)]
    first = json.loads(run("calc", "energy", "-s", "CCO", "--json", *env_args).stdout)
    second = json.loads(run("calc", "energy", "-s", "CCO", "--json", *env_args).stdout)
    assert first["success"] and not first["from_cache"] and second["from_cache"]
    assert first["values"]["energy_kcal_mol"] == second["values"]["energy_kcal_mol"]


def test_calc_interaction_energy_of_an_xyz_dimer(tmp_path):
    from ase.data import s22

    atoms = s22.create_s22_system("Water_dimer")
    xyz = tmp_path / "water_dimer.xyz"
    xyz.write_text(f"{len(atoms)}\nwater dimer\n" + "".join(
        f"{s} {x} {y} {z}\n" for s, (x, y, z) in zip(atoms.get_chemical_symbols(), atoms.positions)))
    r = run("calc", "interaction_energy", "-f", str(xyz), "--json", "--cache-dir", str(tmp_path))
    values = json.loads(r.stdout)["values"]
    # MMFF94 binds the S22 water dimer; CCSD(T)/CBS gives -4.92 kcal/mol (Jurecka et al. 2006).
    assert -7.0 < values["interaction_energy_kcal_mol"] < -3.0


def test_batch_reports_bad_rows_and_completes_the_rest(tmp_path):
    csv = tmp_path / "set.csv"
    csv.write_text("name,smiles\nethanol,CCO\nbroken,C1CC\nbenzene,c1ccccc1\nsalt,[Na+].[Cl-]\n")
    out = tmp_path / "out"
    r = run("batch", str(csv), "--task", "energy", "--out", str(out), "--cache-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "broken" in r.stderr and "unclosed ring" in r.stderr and "salt" in r.stderr
    rows = json.loads((out / "results.json").read_text())
    assert {row["name"]: row["success"] for row in rows} == {"ethanol": True, "broken": False,
                                                               "benzene": True, "salt": False}
    assert (out / "results.csv").read_text().startswith("name,")
    again = run("batch", str(csv), "--task", "energy", "--out", str(out), "--cache-dir", str(tmp_path))
    assert "(2 from the store)" in again.stdout


def test_batch_folder_of_xyz(tmp_path):
    from tierchem.chem import Molecule

    folder = tmp_path / "xyz"
    folder.mkdir()
    for name, smi in [("water", "O"), ("methane", "C")]:
        (folder / f"{name}.xyz").write_text(Molecule.from_smiles(smi).to_xyz())
    (folder / "bad.xyz").write_text("2\n\nO 0 0 0\n")
    r = run("batch", str(folder), "--task", "descriptors", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path))
    assert r.returncode == 0
    rows = {row["name"]: row for row in json.loads((tmp_path / "o" / "results.json").read_text())}
    assert rows["water"]["success"] and rows["methane"]["n_heavy_atoms"] == 1 and not rows["bad"]["success"]


def test_cache_info_and_clear(tmp_path):
    run("calc", "energy", "-s", "CC", "--cache-dir", str(tmp_path))
    assert "1 results" in run("cache", "info", "--cache-dir", str(tmp_path)).stdout
    assert "deleted 1 results" in run("cache", "clear", "--yes", "--cache-dir", str(tmp_path)).stdout


def test_calc_lattice_energy_from_a_cif(refdata, tmp_path):
    r = run("calc", "lattice_energy", "-f", str(refdata / "25_x23" / "expt" / "co2.cif"), "--tier", "classical",
            "--json", "--cache-dir", str(tmp_path))
    values = json.loads(r.stdout)["values"]
    # X23b: CO2 lattice energy 7.03 kcal/mol (Dolgonos et al. 2019); GAFF2/AM1-BCC within 2.
    assert values["z"] == 4 and abs(values["lattice_energy_kcal_mol"] + 7.03) < 2.0


def test_corrupt_cif_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\n_cell_length_a 5.0\nloop_\n_atom_site_label\n")
    r = run("calc", "lattice_energy", "-f", str(bad), "--tier", "classical")
    assert r.returncode != 0 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
