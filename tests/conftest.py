"""Shared fixtures: a throw-away result store per test, the reference-data folder, small molecules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's cache: every test gets its own store folder."""
    monkeypatch.setenv("TIERCHEM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def store(tmp_path):
    from tierchem.tiers import ResultStore

    return ResultStore(tmp_path / "results.sqlite")


@pytest.fixture(scope="session")
def refdata() -> Path:
    """The reference data (X40, S66, XB18, X23): the copy shipped in tiers/data, or $TIERCHEM_REFDATA.
    It ships with the project, so a missing folder is a failure, not a skip."""
    from tierchem.tiers.refdata import refdata_dir

    path = refdata_dir()
    assert (path / "10_din").is_dir(), f"reference data not found at {path} (TIERCHEM_REFDATA={os.environ.get('TIERCHEM_REFDATA')})"
    return path


@pytest.fixture(scope="session")
def cod() -> Path:
    """The COD crystal structures shipped in tiers/data/cod (or $TIERCHEM_COD)."""
    from tierchem.tiers.refdata import cod_dir

    return cod_dir()


@pytest.fixture(scope="session")
def water():
    from tierchem.chem import Molecule

    return Molecule.from_smiles("O", name="water")


def _series_maker(cif_dir: Path):
    """``make(folder, rows)``: a series folder of ``rows`` (CIF stem in ``cif_dir``, SMILES, role), each
    with its CIF beside series.csv."""
    import csv
    import shutil

    def make(folder: Path, rows: list[tuple[str, str, str]]) -> Path:
        folder.mkdir(parents=True)
        for name, _, _ in rows:
            shutil.copy(cif_dir / f"{name}.cif", folder / f"{name}.cif")
        with (folder / "series.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([("name", "smiles", "role", "cif"),
                                      *((n, s, r, f"{n}.cif") for n, s, r in rows)])
        return folder

    return make


@pytest.fixture(scope="session")
def x23_series(refdata):
    """A series maker (:func:`_series_maker`) over the X23 CIFs, by crystal name."""
    return _series_maker(refdata / "25_x23" / "expt")


@pytest.fixture(scope="session")
def cod_series(cod):
    """A series maker (:func:`_series_maker`) over the COD CIFs, by file stem."""
    return _series_maker(cod)
