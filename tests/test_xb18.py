"""XB18 (Kozuch & Martin, J. Chem. Theory Comput. 9, 1918 (2013), CCSD(T)/CBS): loading the shipped
copy, and one dimer at the classical tier with and without the GAFF2-EP sigma hole."""

from __future__ import annotations

import pytest

from tierchem.tiers.catalogue import make_spec
from tierchem.tiers.compute import compute

from tierchem.tiers import classical


def test_xb18_loads_all_18_dimers(refdata):
    from tierchem.tiers.benchmark import heaviest_halogen, load_dataset
    from tierchem.tiers.refdata import load_din_dataset

    entries = load_dataset("xb18", str(refdata))
    assert len(entries) == 18 and load_din_dataset.last_skipped == []
    by_name = {e.name: e for e in entries}
    i2 = by_name["I2NCH"]
    # xb18.din stores +4.03 (bound); the loader turns it round. Monomer files are relaxed apart, so the
    # dimer is split in file order: I2 first, then HCN.
    assert i2.reference_kcal_mol == pytest.approx(-4.03)
    assert [tuple(f.symbols) for f in i2.fragments] == [("I", "I"), ("N", "C", "H")]
    assert all(e.reference_kcal_mol < 0 for e in entries)
    assert heaviest_halogen(by_name["FBrOCH2"]) == ("Br", "F") and heaviest_halogen(by_name["HINCH"]) == ("I", "H")
    # Its donors are dihalogens and hydrogen halides: no C-bound halogen, so GAFF2-EP has no site to place.
    assert all(not classical.halogen_extra_point_sites(e.fragments) for e in entries)


def test_xb18_i2_hcn_gaff2_and_ep():
    """I2···NCH, reference -4.03 kcal/mol (CCSD(T)/CBS). GAFF2/AM1-BCC gives +3.60 (I···N 3.03 Å, well inside
    the Lennard-Jones contact of about 4.0 Å, and no sigma hole); GAFF2-EP the same, since I2 has no C-I bond.
    Regression pin, OpenMM 8.6.1, AmberTools 26.0.0, GAFF2 params v3; the whole set: MAE Br 15.41, I 16.28
    (`tierchem benchmark xb18 --tier classical [--method GAFF2-EP]`)."""
    from tierchem.tiers.benchmark import load_dataset

    (entry,) = load_dataset("xb18", subset="I2NCH")
    fragments = list(entry.fragments)
    plain = compute(make_spec("interaction_energy", fragments, "classical"), raise_error=True)
    ep = compute(make_spec("interaction_energy", fragments, "classical", method="GAFF2-EP"), raise_error=True)
    assert plain.spec.method == "GAFF2/AM1-BCC" and ep.spec.method == "GAFF2-EP"
    e_plain = plain.value("interaction_energy_kcal_mol")
    e_ep = ep.value("interaction_energy_kcal_mol")
    assert e_plain == pytest.approx(3.60, abs=0.05)
    assert e_ep == pytest.approx(e_plain, abs=1e-6)
