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
    """The shared reference data (X40, S66, XB18, X23); tests using it skip where it is absent."""
    path = Path(os.environ.get("TIERCHEM_REFDATA", REPO.parent / "shared" / "data" / "refdata"))
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path} (set TIERCHEM_REFDATA)")
    return path


@pytest.fixture(scope="session")
def water():
    from tierchem.chem import Molecule

    return Molecule.from_smiles("O", name="water")
