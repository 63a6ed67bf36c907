"""Tier 0: RDKit with MMFF94 — energies, optimisation, conformers, descriptors, torsion scans."""

from __future__ import annotations

from typing import Sequence

from ..chem.conformers import conformer_ensemble
from ..chem.molecule import Molecule
from .errors import InputError
from .harness import Harness, Outcome, engine_version
from .spec import CalcSpec


def _combined(fragments: Sequence[Molecule]):
    from rdkit import Chem

    mol = fragments[0].to_rdkit()
    for frag in fragments[1:]:
        mol = Chem.CombineMols(mol, frag.to_rdkit())
    Chem.SanitizeMol(mol)  # CombineMols leaves ring information uninitialised
    return mol


def _mmff(mol, label: str):
    from rdkit.Chem import AllChem

    props = AllChem.MMFFGetMoleculeProperties(mol)
    if props is None:
        raise InputError(f"{label}: MMFF94 has no parameters for this molecule")
    # No cut-off: every non-bonded pair, as needed for dimer energies.
    ff = AllChem.MMFFGetMoleculeForceField(mol, props, nonBondedThresh=1000.0, ignoreInterfragInteractions=False)
    return ff


class RDKitHarness(Harness):
    name = "rdkit"
    tier = 0
    methods = ("MMFF94",)
    tasks = frozenset({"energy", "optimize", "conformers", "descriptors", "interaction_energy", "torsion_scan"})
    supports_open_shell = False
    engine_modules = ("rdkit",)
    default_parameters = {
        "gradient": False,
        "max_steps": 2000,  # optimize: MMFF94 minimiser iterations
        "n_conformers": 30,  # conformers: ETKDG embeddings
        "rmsd_threshold": 0.5,  # Å, duplicates pruned below this
        "energy_window_kcal_mol": 10.0,
        "seed": 0xF00D,
        "polar_hydrogens": False,  # conformers: O-H/N-H rotamers kept apart (RMSD counts polar H)
        "max_conformers": None,  # conformers: keep at most this many, lowest first (None: all)
        "open_rotamers": False,  # conformers: add the H-bonded conformer's open rotamer (tiers.ensembles)
        "step_deg": 30.0,  # torsion_scan
    }
    model_notes = ("ETKDG embedding, MMFF94 minimisation with no non-bonded cut-off; descriptors from the "
                   "lowest MMFF94 conformer")

    def estimate_seconds(self, spec: CalcSpec) -> float:
        return 0.05 if spec.task == "descriptors" else 0.5

    @classmethod
    def versions(cls) -> dict[str, str]:
        return {"rdkit": engine_version("rdkit")}

    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        mol = _combined(fragments)
        ff = _mmff(mol, "+".join(f.label for f in fragments))
        values = {"energy_kcal_mol": ff.CalcEnergy()}
        if self.settings(spec)["gradient"]:
            values["gradient_kcal_mol_angstrom"] = list(ff.CalcGrad())
        return Outcome(values=values)

    def task_optimize(self, spec: CalcSpec) -> Outcome:
        if len(spec.molecules) != 1:
            raise InputError("MMFF94 optimisation takes one molecule")
        mol = spec.molecules[0].to_rdkit()
        ff = _mmff(mol, spec.molecules[0].label)
        not_converged = ff.Minimize(maxIts=int(self.settings(spec)["max_steps"]))
        relaxed = spec.molecules[0].with_coords(mol.GetConformer().GetPositions())
        return Outcome(values={"energy_kcal_mol": ff.CalcEnergy()},
                       artifacts={"molecules": [relaxed.model_dump(mode="json")]},
                       converged=not not_converged)

    def task_conformers(self, spec: CalcSpec) -> Outcome:
        kw = self.settings(spec)
        if kw["open_rotamers"]:  # the ensemble of tiers 2-3 (tiers.ensembles), each member relaxed at MMFF94
            from .ensembles import conformers_task, mmff_relax_one

            return conformers_task(spec, {**kw, "relax": True, "embed": True}, mmff_relax_one)
        confs, rel = conformer_ensemble(
            spec.molecules[0], n_conformers=int(kw["n_conformers"]), rmsd_threshold=float(kw["rmsd_threshold"]),
            energy_window_kcal_mol=float(kw["energy_window_kcal_mol"]), seed=int(kw["seed"]),
            polar_hydrogens=bool(kw["polar_hydrogens"]),
        )
        if kw["max_conformers"] is not None:
            confs, rel = confs[: int(kw["max_conformers"])], rel[: int(kw["max_conformers"])]
        return Outcome(values={"n_conformers": len(confs), "relative_energies_kcal_mol": rel},
                       artifacts={"molecules": [c.model_dump(mode="json") for c in confs]})

    def task_descriptors(self, spec: CalcSpec) -> Outcome:
        from ..chem.descriptors import descriptors

        return Outcome(values=descriptors(spec.molecules[0]))

    def task_torsion_scan(self, spec: CalcSpec) -> Outcome:
        """Relaxed MMFF94 scan of the dihedral ``keywords['dihedral']`` (four atom indices)."""
        from rdkit import Chem
        from rdkit.Chem import rdMolTransforms

        dihedral = spec.keywords.get("dihedral")
        if not dihedral or len(dihedral) != 4:
            raise InputError("torsion_scan needs keywords={'dihedral': [i, j, k, l]}")
        step = float(self.settings(spec)["step_deg"])
        label = spec.molecules[0].label
        start = spec.molecules[0].to_rdkit()
        previous = None
        angles, energies = [], []
        for k in range(int(round(360.0 / step))):
            angle = -180.0 + k * step
            # Relax from the input geometry and from the previous point; keep the lower,
            # so a methyl rotor trapped in one start does not make the profile jagged.
            best = None
            for seed in [start] + ([previous] if previous is not None else []):
                mol = Chem.Mol(seed)
                rdMolTransforms.SetDihedralDeg(mol.GetConformer(), *dihedral, angle)
                ff = _mmff(mol, label)
                ff.MMFFAddTorsionConstraint(*dihedral, False, angle, angle, 1.0e4)
                ff.Initialize()
                for _ in range(20):  # Minimize returns 0 once converged
                    if ff.Minimize(maxIts=1000) == 0:
                        break
                energy = _mmff(mol, label).CalcEnergy()  # without the restraint term
                if best is None or energy < best[0]:
                    best = (energy, mol)
            previous = best[1]
            angles.append(angle)
            energies.append(best[0])
        e0 = min(energies)
        return Outcome(values={"angles_deg": angles, "relative_energies_kcal_mol": [e - e0 for e in energies],
                               "barrier_kcal_mol": max(energies) - e0})
