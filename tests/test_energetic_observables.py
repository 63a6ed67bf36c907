"""Energetic observables (issue 11): intramolecular H-bond lock energy, tautomer energies in the gas phase
and a polar continuum, conformer-averaged dipoles with per-element adequacy.

Reference numbers (each test names its own):
- 2-pyridone / 2-hydroxypyridine. Gas phase: the hydroxy (lactim) form is the more stable by about
  0.3 kcal/mol (P. Beak, F. S. Fry, J. Lee, F. Steele, J. Am. Chem. Soc. 98, 171 (1976)) to 0.8 kcal/mol
  (3.2 kJ/mol from microwave intensities: E. Hatherley et al., J. Phys. Chem. 97, 46 (1993)). Water: the
  pyridone (lactam) form dominates, K_T ~ 900, Delta G ~ -4 kcal/mol (P. Beak, Acc. Chem. Res. 10, 186
  (1977)).
- Salicylaldehyde: the intramolecularly H-bonded planar conformer is the global minimum, all four planar
  rotamers being minima (C. Chen, S.-F. Shyu, F.-S. Hsu, Int. J. Quantum Chem. 74, 395 (1999),
  B3LYP/6-31G**); gas-phase electron diffraction sees the closed form
  (K. B. Borisenko, C. W. Bock, I. Hargittai, J. Phys. Chem. 100, 7426 (1996)). The range asserted
  here (4-10 kcal/mol to the best open rotamer) is the spread of those DFT/MP2 studies, not one pinned figure.
- Gas-phase dipoles: CRC Handbook of Chemistry and Physics, "Dipole moments" (iodobenzene 1.70 D,
  chlorobenzene 1.69 D); benchmarks/dipoles.py holds the full set.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tierchem.agent.observables import OBSERVABLES, NotApplicable, read_value, specs_for
from tierchem.chem import Molecule
from tierchem.tiers import compute
from tierchem.tiers.harness import get_harness


def _value(name: str, mol: Molecule, tier: int, store) -> float:
    spec = specs_for(name, mol, tier)[0]
    get_harness(spec.engine).check(spec)  # keywords declared where the harness validates them
    result = compute(spec, store=store)
    assert result.success, result.error
    return read_value(name, mol, [result])


# ------------------------------------------------------------------ lock energy
@pytest.mark.parametrize("tier, low, high", [(0, 2.0, 10.0), (2, 4.0, 10.0)])
def test_salicylaldehyde_lock_energy(store, tier, low, high):
    """Closed (O-H···O=C) vs best open rotamer; GFN2-xTB gives 6.0, MMFF94 3.4 kcal/mol (tier 0 is not
    adequate: a force-field look)."""
    sal = Molecule.from_smiles("O=Cc1ccccc1O", name="salicylaldehyde")
    t0 = time.perf_counter()
    lock = _value("hbond_lock_energy", sal, tier, store)
    assert low <= lock <= high, lock
    assert time.perf_counter() - t0 < 30


def test_lock_energy_absent_feature_costs_nothing():
    """3-hydroxybenzaldehyde cannot close the ring: 0 kcal/mol with the reason, before any calculation."""
    meta = Molecule.from_smiles("O=Cc1cccc(O)c1", name="3-hydroxybenzaldehyde")
    for tier in OBSERVABLES["hbond_lock_energy"].computable_tiers():
        with pytest.raises(NotApplicable) as info:
            specs_for("hbond_lock_energy", meta, tier)
        assert info.value.value == 0.0 and "ring" in str(info.value)


def test_lock_energy_no_hbonded_conformer_reads_zero(store):
    """An anisole-phenol whose OH···OMe ring is five-membered (A three bonds from D) has no conformer
    counted H-bonded: the lock reads 0 with the reason."""
    guaiacol = Molecule.from_smiles("COc1ccccc1O", name="guaiacol")
    with pytest.raises(NotApplicable) as info:
        _value("hbond_lock_energy", guaiacol, 0, store)
    assert info.value.value == 0.0


# ------------------------------------------------------------------ tautomers
def test_sensible_tautomers():
    from tierchem.chem.tautomers import tautomer_smiles

    assert tautomer_smiles(Molecule.from_smiles("O=c1cccc[nH]1")) == ("O=c1cccc[nH]1", ["Oc1ccccn1"])
    assert tautomer_smiles(Molecule.from_smiles("Oc1ccccc1"))[1] == []  # the dienones lose the ring
    assert tautomer_smiles(Molecule.from_smiles("Ic1ccc(I)cc1"))[1] == []


def test_pyridone_tautomers_xtb(store):
    """E(2-pyridone) - E(2-hydroxypyridine): published +0.3 to +0.8 (gas), about -4 (water).
    GFN2-xTB: +0.86 gas, -0.86 in ALPB(water): the orderings right, the water gap too small."""
    pyridone = Molecule.from_smiles("O=c1cccc[nH]1", name="2-pyridone")
    gas = _value("tautomer_energy", pyridone, 2, store)
    polar = _value("tautomer_energy_polar", pyridone, 2, store)
    assert 0.0 < gas < 2.0, gas
    assert polar < 0.0, polar
    hydroxy = Molecule.from_smiles("Oc1ccccn1", name="2-hydroxypyridine")
    assert _value("tautomer_energy", hydroxy, 2, store) == pytest.approx(-gas, abs=1e-6)


@pytest.mark.slow
def test_pyridone_tautomers_dft(store):
    """B3LYP-D3(BJ)/def2-SVP single points at MMFF94 geometries (about 30 s per phase here).

    Gas phase: measured +0.3 to +0.8 kcal/mol (2-hydroxypyridine favoured; Beak et al., JACS 98, 171
    (1976)); B3LYP is known to overstabilise the oxo form and gives -0.66 here (run 2026-12-01), so the
    test pins the value within 1.5 kcal/mol of experiment, not its sign. In the C-PCM water continuum the
    pyridone must be favoured by more than in the gas phase (measured in water: about -4)."""
    pyridone = Molecule.from_smiles("O=c1cccc[nH]1", name="2-pyridone")
    gas = _value("tautomer_energy", pyridone, 3, store)
    assert -1.2 < gas < 2.3, gas
    polar = _value("tautomer_energy_polar", pyridone, 3, store)
    assert polar < gas - 1.0 and polar < 0.0, (gas, polar)


def test_no_alternative_tautomer_is_the_cap():
    from tierchem.agent.observables import TAUTOMER_CAP_KCAL_MOL

    with pytest.raises(NotApplicable) as info:
        specs_for("tautomer_energy_polar", Molecule.from_smiles("Oc1ccccc1", name="phenol"), 2)
    assert info.value.value == -TAUTOMER_CAP_KCAL_MOL


# ------------------------------------------------------------------ dipoles
def test_dipole_adequacy_per_element():
    """GFN2-xTB gives iodobenzene 3.6 D (measured 1.70): the tier-2 dipole is not adequate with I or Br."""
    use = OBSERVABLES["dipole"].use(2)
    iodo = Molecule.from_smiles("Ic1ccccc1", name="iodobenzene")
    chloro = Molecule.from_smiles("Clc1ccccc1", name="chlorobenzene")
    assert use.for_molecules([chloro]).adequate
    flagged = use.for_molecules([chloro, iodo])
    assert not flagged.adequate and "I" in flagged.note
    assert OBSERVABLES["dipole"].use(3).for_molecules([iodo]).adequate


def test_dipole_xtb_iodobenzene_is_the_known_failure(store):
    iodo = Molecule.from_smiles("Ic1ccccc1", name="iodobenzene")
    chloro = Molecule.from_smiles("Clc1ccccc1", name="chlorobenzene")
    assert _value("dipole", iodo, 2, store) > 3.0  # measured 1.70 D (CRC)
    assert _value("dipole", chloro, 2, store) == pytest.approx(1.69, abs=0.3)  # measured 1.69 D (CRC)


def test_boltzmann_dipole_reader():
    from tierchem.agent.observables import BOLTZMANN_KCAL_MOL, _boltzmann_dipole

    class R:
        values = {"relative_energies_kcal_mol": [0.0, 1.0], "dipoles_debye": [1.0, 3.0]}

        def value(self, key):
            return self.values[key]

    w = np.exp(-1.0 / BOLTZMANN_KCAL_MOL)
    assert _boltzmann_dipole(None, R()) == pytest.approx(np.sqrt((1.0 + 9.0 * w) / (1.0 + w)))


def test_distinct_conformers_merges_one_minimum():
    from tierchem.chem.conformers import distinct_conformers

    m = Molecule.from_smiles("CCO")
    shifted = m.with_coords(m.coords + 1.0)  # the same geometry, translated
    assert distinct_conformers([m, shifted], [0.0, 0.01]) == [0]
    assert distinct_conformers([m, shifted], [0.0, 1.0]) == [0, 1]


def test_dft_solvent_keywords_validate():
    from tierchem.tiers import make_spec
    from tierchem.tiers.errors import InputError

    dft = get_harness("pyscf")
    water = Molecule.from_smiles("O", name="water")
    dft.check(make_spec("energy", [water], "dft", solvent="water"))
    with pytest.raises(InputError, match="unknown solvent"):
        dft.check(make_spec("energy", [water], "dft", solvent="lava"))
    with pytest.raises(InputError, match="continuum"):
        dft.check(make_spec("esp", [water], "dft", solvent="water"))


def test_tier2_dipole_distrusted_with_iodine_unless_it_vanishes_by_symmetry():
    from tierchem.agent.observables import OBSERVABLES
    from tierchem.chem import Molecule

    use = OBSERVABLES["dipole"].use(2)
    iodo = [Molecule.from_smiles("Ic1ccccc1"), Molecule.from_smiles("Clc1ccccc1")]
    assert use.for_molecules([Molecule.from_smiles("Clc1ccccc1")], [1.9]).adequate
    assert not use.for_molecules(iodo, [3.68, 1.9]).adequate          # GFN2-xTB: iodobenzene 3.68 D vs 1.70
    para = [Molecule.from_smiles("Ic1ccc(I)cc1"), Molecule.from_smiles("Brc1ccc(Br)cc1")]
    sym = use.for_molecules(para, [1e-6, 2e-6])
    assert sym.adequate and "vanishes" in sym.note                    # zero by symmetry at every tier
    assert not use.for_molecules(para, [1e-6, None]).adequate          # a missing value proves nothing
