"""Confirmatory analog generation (chem/analogs.py): transformations, filters, SA scores, names."""

from __future__ import annotations

import pytest

from tierchem.chem import MoleculeError
from tierchem.chem.analogs import TRANSFORMATIONS, Analog, generate_analogs, name_molecule, sa_score

DIIODO = "Ic1ccc(I)cc1"
IODOBENZOIC = "OC(=O)c1ccc(I)cc1"


def canon(smiles: str) -> str:
    from rdkit import Chem

    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


@pytest.fixture(scope="module")
def diiodo() -> list[Analog]:
    return generate_analogs(DIIODO, max_candidates=200)


def by_smiles(analogs: list[Analog]) -> dict[str, Analog]:
    return {a.smiles: a for a in analogs}


def test_halogen_swaps_of_diiodobenzene(diiodo):
    found = by_smiles(diiodo)
    one = found[canon("Brc1ccc(I)cc1")]
    assert one.transformation == "replace_halogen"
    assert one.name == "1-bromo-4-iodobenzene"
    assert found[canon("Brc1ccc(Br)cc1")].transformation == "replace_halogen"
    assert canon("Ic1ccccc1") in found  # I -> H


def test_series_members_and_target_are_not_candidates(diiodo):
    series = ["Brc1ccc(Br)cc1", "BrC1=CC=C(I)C=C1"]  # a Kekulé spelling must still match
    fresh = by_smiles(generate_analogs(DIIODO, series_smiles=series, max_candidates=200))
    assert canon("Brc1ccc(Br)cc1") in by_smiles(diiodo)  # generated when not in the series ...
    assert canon("Brc1ccc(Br)cc1") not in fresh  # ... and dropped when it is
    assert canon("Brc1ccc(I)cc1") not in fresh
    assert canon(DIIODO) not in fresh and canon(DIIODO) not in by_smiles(diiodo)
    assert canon("Clc1ccc(Cl)cc1") in fresh


def test_fluorination_gives_tetrafluorodiiodobenzene(diiodo):
    found = by_smiles(diiodo)
    tetra = found[canon("Fc1c(F)c(I)c(F)c(F)c1I")]
    assert tetra.transformation == "fluorinate_ortho_to_halogen"
    assert tetra.name == "1,2,4,5-tetrafluoro-3,6-diiodobenzene"
    mono = found[canon("Fc1cc(I)ccc1I")]
    assert mono.transformation == "fluorinate_ortho_to_halogen"
    assert "sigma hole" in mono.description


def test_aza_analog_and_methyl_isostere(diiodo):
    found = by_smiles(diiodo)
    aza = found["Ic1ccc(I)nc1"]  # canonical SMILES of 2,5-diiodopyridine
    assert aza.transformation == "ring_ch_to_n"
    assert aza.name == "2,5-diiodopyridine"
    # all CH of 1,4-diiodobenzene are equivalent: one aza analog only
    assert sum(a.transformation == "ring_ch_to_n" for a in diiodo) == 1
    toluene = found[canon("Cc1ccc(I)cc1")]  # 4-iodotoluene via I -> CH3
    assert toluene.transformation == "replace_substituent"
    assert "chloro-methyl" in toluene.description
    assert found[canon("Ic1cccc(I)c1")].transformation == "swap_substituent_position"


def test_every_candidate_is_valid_unique_and_described(diiodo):
    from rdkit import Chem

    assert len(diiodo) >= 10
    smiles = [a.smiles for a in diiodo]
    keys = [a.inchikey for a in diiodo]
    assert len(set(smiles)) == len(smiles) and len(set(keys)) == len(keys)
    for a in diiodo:
        mol = Chem.MolFromSmiles(a.smiles)  # sanitises: valences checked
        assert mol is not None
        assert Chem.MolToSmiles(mol) == a.smiles
        assert Chem.MolToInchiKey(mol) == a.inchikey
        assert a.transformation in TRANSFORMATIONS
        assert a.description.endswith(".") and len(a.description) > 40
        assert a.heavy_atoms == mol.GetNumHeavyAtoms()
        assert 70 < a.molecular_weight < 500
    with pytest.raises(Exception):
        diiodo[0].smiles = "C"  # frozen


def test_exclude_iodine():
    analogs = generate_analogs(DIIODO, exclude_elements={"I"}, max_candidates=200)
    assert analogs, "excluding iodine must still leave candidates"
    assert all("I" not in a.smiles for a in analogs)
    assert canon("Brc1ccc(Br)cc1") in by_smiles(analogs)
    # lower-case symbols are accepted; nonsense is an error
    assert generate_analogs(DIIODO, exclude_elements={"i", "f"}, max_candidates=200)
    assert all("F" not in a.smiles for a in generate_analogs(DIIODO, exclude_elements={"f"}))
    with pytest.raises(MoleculeError):
        generate_analogs(DIIODO, exclude_elements={"Xx"})


def test_donor_blocking_gives_methyl_ester():
    analogs = generate_analogs(IODOBENZOIC, max_candidates=200)
    ester = by_smiles(analogs)[canon("COC(=O)c1ccc(I)cc1")]
    assert ester.transformation == "block_donor"
    assert ester.name == "methyl 4-iodobenzoate"
    assert "ester" in ester.description


def test_max_candidates_is_a_fair_round_robin():
    everything = generate_analogs(IODOBENZOIC, max_candidates=200)
    assert {a.transformation for a in everything} == set(TRANSFORMATIONS)
    seven = generate_analogs(IODOBENZOIC, max_candidates=7)
    assert len(seven) == 7
    assert {a.transformation for a in seven} == set(TRANSFORMATIONS)
    assert len(generate_analogs(IODOBENZOIC, max_candidates=3)) == 3
    assert generate_analogs(IODOBENZOIC, max_candidates=0) == []
    with pytest.raises(ValueError):
        generate_analogs(IODOBENZOIC, max_candidates=-1)


def test_rigidify_rotor_on_anisole():
    found = by_smiles(generate_analogs("COc1ccccc1"))
    assert found[canon("C1Cc2ccccc2O1")].transformation == "rigidify_rotor"  # 2,3-dihydrobenzofuran


def test_bad_input_is_a_clear_error():
    with pytest.raises(MoleculeError):
        generate_analogs("c1ccc")
    with pytest.raises(MoleculeError, match="series member 2"):
        generate_analogs(DIIODO, series_smiles=["c1ccccc1", "C(("])


def test_sa_scores_use_rdkit_and_rank_sensibly(diiodo):
    from tierchem.chem import analogs

    benzenes = [a for a in diiodo if "n" not in a.smiles]
    assert benzenes and all(1.0 <= a.sa_score < 3.5 for a in benzenes)
    assert analogs.SA_SCORE_SOURCE == "rdkit-contrib"
    # a stereo-rich natural product (strychnine) is far harder than a simple benzene
    strychnine = "O=C1C[C@H]2OCC=C3CN4CC[C@@]56[C@@H]4C[C@@H]3[C@@H]2[C@@H]6N1c1ccccc15"
    assert sa_score(strychnine) > 4.5 > sa_score("Cc1ccc(I)cc1")


def test_names():
    assert name_molecule("Cc1ccc(I)cc1") == "1-iodo-4-methylbenzene"
    assert name_molecule("Oc1ccc(Br)cc1") == "4-bromophenol"
    assert name_molecule("FC(F)(F)c1ccc(I)cc1") == "1-iodo-4-(trifluoromethyl)benzene"
    assert name_molecule("Clc1ccccc1") == "chlorobenzene"
    assert name_molecule("c1ccc2ccccc2c1") is None  # out of scope: generated name instead


def test_pool_kept_by_its_inputs(tmp_path, monkeypatch):
    """A second call with the same inputs reads the pool from cache_dir and scores nothing."""
    import tierchem.chem.analogs as analogs

    first = generate_analogs(DIIODO, ["Brc1ccc(Br)cc1"], {"F"}, max_candidates=12, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("analogs-*.json"))) == 1

    def no_scoring(*args, **kwargs):
        raise AssertionError("the pool was generated again")

    monkeypatch.setattr(analogs, "_generate_analogs", no_scoring)
    assert generate_analogs(DIIODO, ["Brc1ccc(Br)cc1"], {"F"}, max_candidates=12, cache_dir=tmp_path) == first
    with pytest.raises(AssertionError):  # other inputs: another pool
        generate_analogs(DIIODO, ["Brc1ccc(Br)cc1"], {"F"}, max_candidates=13, cache_dir=tmp_path)
