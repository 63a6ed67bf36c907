"""`tierchem benchmark`: the S22 set end to end through the CLI, per tier."""

import json
import subprocess
import sys

import pytest


def bench(*args):
    r = subprocess.run([sys.executable, "-m", "tierchem", "benchmark", *args, "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_s22_mmff_all_systems_run():
    report = bench("s22", "--tier", "mmff")
    assert report["n"] == 22 and report["n_failed"] == 0
    # MMFF94 underbinds S22 (its buffered electrostatics); regression pin with RDKit 2026.09: 3.05.
    assert report["mae_kcal_mol"] == pytest.approx(3.05, abs=0.3)


def test_s22_classical_gaff2_am1bcc():
    # GAFF2/AM1-BCC against S22 CCSD(T)/CBS: 1.28 kcal/mol MAE with the raw tools (DESIGN.md).
    report = bench("s22", "--tier", "classical")
    assert report["n_failed"] == 0
    assert report["mae_kcal_mol"] == pytest.approx(1.27, abs=0.15)


def test_x40_xtb(refdata):
    report = bench("x40", "--tier", "xtb", "--data", str(refdata))
    assert report["n"] == 40 and report["n_failed"] == 0
    assert report["mae_kcal_mol"] <= 0.90  # raw tblite GFN2-xTB gives 0.86 here


# X40 C-X entries, MAE/MSE kcal/mol against CCSD(T)/CBS (Rezac, Riley, Hobza, JCTC 8, 4285 (2012)); measured with
# OpenMM 8.6.1, AmberTools 26.0.0, GAFF2 params v3 (the parmchk2 fix left them unchanged). Pins at 0.05 kcal/mol:
# a change here moves the adequacy notes in agent/observables.py and the README. GAFF2-EP's extra points are
# fitted to these very entries (tiers.classical.EXTRA_POINTS), so its pins are in-sample regression figures; the
# leave-one-out MAE (Cl 0.87, Br 0.42, I 0.67) is the one the notes quote.
X40_C_BOUND = {
    "GAFF2/AM1-BCC": {"Cl": (9, 1.56, 1.52), "Br": (7, 3.37, 3.37), "I": (7, 5.50, 5.50)},
    "GAFF2-EP": {"Cl": (9, 0.72, 0.56), "Br": (7, 0.35, 0.02), "I": (7, 0.49, 0.04)},
}


@pytest.mark.slow  # a benchmark run (two X40 passes, ~30 s); make test-slow
def test_x40_classical_c_bound_halogens(refdata, tmp_path):
    for method, pins in X40_C_BOUND.items():  # one store: the second run reuses the GAFF2 parameters
        report = bench("x40", "--tier", "classical", "--method", method, "--data", str(refdata),
                       "--cache-dir", str(tmp_path))
        assert report["n"] == 40 and report["n_failed"] == 0 and report["level"] == method
        for el, (n, mae, mse) in pins.items():
            got = report["by_halogen_c_bound"][el]
            assert got["n"] == n
            assert got["mae_kcal_mol"] == pytest.approx(mae, abs=0.05), (method, el, got)
            assert got["mse_kcal_mol"] == pytest.approx(mse, abs=0.05), (method, el, got)


def test_subset_by_names_and_unknown_name():
    from tierchem.tiers.benchmark import load_dataset

    names = [e.name for e in load_dataset("s22", subset="Water_dimer, Ammonia_dimer")]
    assert names == ["Water_dimer", "Ammonia_dimer"]
    with pytest.raises(ValueError, match="no system named Wter_dimer"):
        load_dataset("s22", subset="Wter_dimer")
    report = bench("s22", "--tier", "xtb", "--subset", "Water_dimer", "--no-cache")
    assert report["n"] == 1 and report["n_failed"] == 0
    # GFN2-xTB water dimer vs S22 CCSD(T)/CBS -4.92 kcal/mol: within the method's 0.8 MAE
    assert abs(report["rows"][0]["deviation_kcal_mol"]) < 0.8
