"""The tier table: one place for what each rung of the ladder is.

Everything that names a tier reads it from here: the task catalogue (default
engine, method and basis), the harness registry, the report (labels and
references) and the notebook (short labels on plots).

A *tier* is a number 0-4; a *level* is a named way of asking for one
(``mmff``, ``classical``, ``xtb``, ``dft``, ``mp2``, ``ccsd(t)``); tier 4 has two.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TierInfo:
    """One rung: its number, words for people, and what runs there unless told otherwise."""

    tier: int
    name: str                 # "classical"
    label: str                # "classical (OpenMM, GAFF2/AM1-BCC)": report headings
    short: str                # "GAFF2": plot ticks and legends
    engine: str               # the harness registry name (tiers.harness)
    method: str
    basis: str | None
    references: tuple[str, ...]  # keys of REFERENCES

    @property
    def level(self) -> Level:
        """What a bare tier number asks for."""
        return Level(self.tier, self.engine, self.method, self.basis)


@dataclass(frozen=True)
class Level:
    """A named way of asking for a tier, with the method it runs by default."""

    tier: int
    engine: str
    method: str
    basis: str | None = None


TIERS: dict[int, TierInfo] = {t.tier: t for t in (
    TierInfo(0, "cheminformatics", "cheminformatics (RDKit, MMFF94)", "MMFF94", "rdkit", "MMFF94", None,
             ("RDKit", "ETKDG")),
    TierInfo(1, "classical", "classical (OpenMM, GAFF2/AM1-BCC)", "GAFF2", "openmm", "GAFF2/AM1-BCC", None,
             ("OpenMM", "GAFF2", "AM1-BCC")),
    TierInfo(2, "semi-empirical", "semi-empirical (GFN2-xTB, tblite)", "GFN2-xTB", "xtb", "GFN2-xTB", None,
             ("GFN2-xTB",)),
    TierInfo(3, "DFT", "DFT (PySCF, B3LYP-D3(BJ)/def2-SVP)", "B3LYP-D3", "pyscf", "B3LYP-D3BJ", "def2-SVP",
             ("PySCF", "B3LYP", "D3(BJ)", "simple-dftd3", "def2", "def2 ECP", "Counterpoise", "ESP isosurface")),
    TierInfo(4, "correlated", "correlated (PySCF, DF-MP2/CCSD(T))", "MP2/CC", "pyscf-cc", "DF-MP2", "def2-SVP",
             ("PySCF", "MP2/CCSD(T)", "def2", "Counterpoise")),
)}

# Named levels; a tier number means its TIERS row (the first level listed for it).
LEVELS: dict[str, Level] = {
    "mmff": Level(0, "rdkit", "MMFF94"),
    "classical": Level(1, "openmm", "GAFF2/AM1-BCC"),
    "gaff2-ep": Level(1, "openmm", "GAFF2-EP"),   # GAFF2 with sigma-hole extra points on C-bound Cl, Br, I
    "xtb": Level(2, "xtb", "GFN2-xTB"),
    "dft": Level(3, "pyscf", "B3LYP-D3BJ", "def2-SVP"),
    "mp2": Level(4, "pyscf-cc", "DF-MP2", "def2-SVP"),
    "ccsd(t)": Level(4, "pyscf-cc", "CCSD(T)", "def2-SVP"),
}

# A level's default method replaced for one task: (task, engine, method) -> method.
TASK_METHODS = {
    # periodic GFN2-xTB in tblite 0.8 underbinds X23 (MSE +3.9 kcal/mol on 11 crystals vs +1.5 for
    # GFN1-xTB, MAE 3.9 vs 2.2; GFN1 MAE 2.65 on all 22): GFN1 unless GFN2 is asked for by name
    ("lattice_energy", "xtb", "GFN2-xTB"): "GFN1-xTB",
    # aggregation motifs of halogenated molecules need a sigma hole: GAFF2-EP (X40 C-X MAE, leave-one-out,
    # Cl 0.87, Br 0.42, I 0.67 kcal/mol vs plain GAFF2's 1.56, 3.37, 5.50; agent/observables.py); plain GAFF2
    # when asked for by name
    ("md_aggregation", "openmm", "GAFF2/AM1-BCC"): "GAFF2-EP",
}

# References cited by key; the report numbers them in this order.
REFERENCES: dict[str, str] = {
    "RDKit": "RDKit: Open-source cheminformatics, https://www.rdkit.org; MMFF94: T. A. Halgren, "
             "J. Comput. Chem. 17, 490 (1996).",
    "OpenMM": "P. Eastman et al., OpenMM 8: Molecular Dynamics Simulation with Machine Learning Potentials, "
              "J. Phys. Chem. B 128, 109 (2024).",
    "GAFF2": "J. Wang, R. M. Wolf, J. W. Caldwell, P. A. Kollman, D. A. Case, Development and testing of a general "
             "Amber force field, J. Comput. Chem. 25, 1157 (2004) (GAFF; GAFF2 in AmberTools).",
    "AM1-BCC": "A. Jakalian, D. B. Jack, C. I. Bayly, Fast, efficient generation of high-quality atomic charges. "
               "AM1-BCC model: II, J. Comput. Chem. 23, 1623 (2002).",
    "GFN2-xTB": "C. Bannwarth, S. Ehlert, S. Grimme, GFN2-xTB, J. Chem. Theory Comput. 15, 1652 (2019); "
                "tblite, https://github.com/tblite/tblite.",
    "GFN1-xTB": "S. Grimme, C. Bannwarth, P. Shushkov, A robust and accurate tight-binding quantum chemical method "
                "for structures, vibrational frequencies, and noncovalent interactions of large molecular systems "
                "parametrized for all spd-block elements (Z = 1-86), J. Chem. Theory Comput. 13, 1989 (2017).",
    "B3LYP": "A. D. Becke, J. Chem. Phys. 98, 5648 (1993); P. J. Stephens et al., J. Phys. Chem. 98, 11623 (1994).",
    "D3(BJ)": "S. Grimme, S. Ehrlich, L. Goerigk, Effect of the damping function in dispersion corrected density "
              "functional theory, J. Comput. Chem. 32, 1456 (2011).",
    "def2": "F. Weigend, R. Ahlrichs, Balanced basis sets of split valence, triple zeta valence and quadruple zeta "
            "valence quality for H to Rn, Phys. Chem. Chem. Phys. 7, 3297 (2005).",
    "Counterpoise": "S. F. Boys, F. Bernardi, Mol. Phys. 19, 553 (1970).",
    "PySCF": "Q. Sun et al., Recent developments in the PySCF program package, J. Chem. Phys. 153, 024109 (2020).",
    "Sigma hole": "T. Clark, M. Hennemann, J. S. Murray, P. Politzer, Halogen bonding: the sigma-hole, "
                  "J. Mol. Model. 13, 291 (2007).",
    "Desiraju & Parthasarathy": "G. R. Desiraju, R. Parthasarathy, The nature of halogen···halogen interactions: "
                                "are short halogen contacts due to specific attractive forces or due to close "
                                "packing of nonspherical atoms?, J. Am. Chem. Soc. 111, 8725 (1989) "
                                "(data source for the dihalobenzene example).",
    "LangGraph": "LangGraph, https://github.com/langchain-ai/langgraph (agent graph and checkpoints).",
    "ETKDG": "S. Riniker, G. A. Landrum, Better informed distance geometry: using what we know to improve "
             "conformation generation, J. Chem. Inf. Model. 55, 2562 (2015).",
    "simple-dftd3": "S. Ehlert, simple-dftd3, https://github.com/dftd3/simple-dftd3 (D3(BJ) energies and gradients).",
    "def2 ECP": "K. A. Peterson, D. Figgen, E. Goll, H. Stoll, M. Dolg, J. Chem. Phys. 119, 11113 (2003) "
                "(the def2 effective core potential of iodine).",
    "ESP isosurface": "R. F. W. Bader, M. T. Carroll, J. R. Cheeseman, C. Chang, Properties of atoms in molecules: "
                      "atomic volumes, J. Am. Chem. Soc. 109, 7968 (1987) (the 0.001 au density isosurface).",
    "S22": "P. Jurečka, J. Šponer, J. Černý, P. Hobza, Benchmark database of accurate (MP2 and CCSD(T) complete "
           "basis set limit) interaction energies of small model complexes, DNA base pairs, and amino acid pairs, "
           "Phys. Chem. Chem. Phys. 8, 1985 (2006) (benchmark behind the interaction-energy uncertainties).",
    "X40": "J. Řezáč, K. E. Riley, P. Hobza, Benchmark calculations of noncovalent interactions of halogenated "
           "molecules, J. Chem. Theory Comput. 8, 4285 (2012).",
    "MP2/CCSD(T)": "C. Møller, M. S. Plesset, Phys. Rev. 46, 618 (1934); K. Raghavachari, G. W. Trucks, "
                   "J. A. Pople, M. Head-Gordon, Chem. Phys. Lett. 157, 479 (1989).",
}


def tier_info(tier: int) -> TierInfo:
    """The row of ``tier`` (0-4), with a clear error otherwise."""
    try:
        return TIERS[int(tier)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"tier must be 0-4, got {tier!r}") from None


def method_references(tier: int, method: str) -> tuple[str, ...]:
    """Reference keys for a level of theory that ran: the tier's, with the method's own paper where it is
    not the tier's default (GFN1-xTB for lattice energies at tier 2)."""
    refs = tier_info(tier).references
    if method in REFERENCES and method not in refs:
        refs = tuple(r for r in refs if r != tier_info(tier).method) + (method,)
    return refs
