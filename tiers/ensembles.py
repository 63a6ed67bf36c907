"""Conformer ensembles and isomer energies at a tier: the tasks ``conformers`` and ``isomer_energies``
shared by the xTB and DFT harnesses.

``conformers`` (one molecule): ETKDG conformers, MMFF94-minimised and pruned (chem.conformers, polar
hydrogens counted so that O-H/N-H rotamers stay apart), then each relaxed (``relax=True``) or
single-pointed (``relax=False``: at the MMFF94 geometry) at the tier, duplicates merged after
relaxation. Values, lowest first: ``energies_kcal_mol``, ``relative_energies_kcal_mol``,
``dipoles_debye`` (magnitudes) and ``n_conformers``; the conformers are ``artifacts['molecules']``.

With ``open_rotamers=True`` the lowest H-bonded MMFF94 conformer's open rotamer (its donor H turned away:
chem.counterfactuals.break_intramolecular_hbond) joins the ensemble and is relaxed at the tier like the
rest, so that a lock energy has both sides even where ETKDG finds only the H-bonded form (2-nitrophenol);
when the tier's relaxation closes the H-bond again the result says so in a warning. With ``embed=False``
the input geometry is the one starting conformer (a built complex such as an H-bonded dimer, whose
geometry an ETKDG embedding of its graph would lose).

``isomer_energies`` (several molecules, each a separate species of the same formula, e.g.
tautomers; *not* fragments of one system): each species' lowest conformer as above.
Values: ``energies_kcal_mol`` and ``relative_energies_kcal_mol`` (to the first species), per
species in input order; the lowest conformer of each is in ``artifacts['molecules']``.

A harness supplies ``relax_one(molecule, spec) -> Conformer`` (its energy, dipole and geometry at
the tier, with its settings: solvent, optimiser...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..chem.conformers import conformer_ensemble, distinct_conformers
from ..chem.counterfactuals import open_rotamers
from ..chem.embedding import DEFAULT_SEED
from ..chem.errors import MoleculeError
from ..chem.hbonds import is_hbonded
from ..chem.molecule import Molecule
from .errors import InputError
from .harness import Outcome
from .spec import CalcSpec

# Keywords of both tasks (declared in each harness's task_parameters). Small and seeded: a few
# ETKDG embeddings find the rotamers of the small molecules an investigation compares.
ENSEMBLE_PARAMETERS = {
    "n_conformers": 12,  # ETKDG embeddings before pruning
    "rmsd_threshold": 0.3,  # Å, heavy atoms and polar hydrogens
    "energy_window_kcal_mol": 30.0,  # MMFF94 window: open rotamers of strong H-bonds lie ~10 above
    "seed": DEFAULT_SEED,
    "max_conformers": 8,  # the lowest MMFF94 ones go on to the tier
    "polar_hydrogens": True,  # O-H/N-H rotamers kept apart (an intramolecular H-bond made or broken)
    "open_rotamers": False,  # add the lowest H-bonded conformer's open rotamer (a lock energy's other side)
    "embed": True,  # False: the input geometry is the ensemble (a built complex)
}


@dataclass
class Conformer:
    energy_kcal_mol: float
    molecule: Molecule
    dipole_debye: float | None = None
    converged: bool = True
    warnings: list[str] = field(default_factory=list)


RelaxOne = Callable[[Molecule, CalcSpec], Conformer]


def _ensemble(molecule: Molecule, settings: dict) -> tuple[list[Molecule], list[Molecule]]:
    """(the MMFF94 conformers that go on to the tier, the open rotamers added to them)."""
    if not settings.get("embed", True):
        return [molecule], []
    try:
        confs, _ = conformer_ensemble(molecule, n_conformers=int(settings["n_conformers"]),
                                      rmsd_threshold=float(settings["rmsd_threshold"]),
                                      energy_window_kcal_mol=float(settings["energy_window_kcal_mol"]),
                                      seed=int(settings["seed"]),
                                      polar_hydrogens=bool(settings["polar_hydrogens"]))
    except MoleculeError as exc:
        if molecule.n_atoms < 3:  # nothing to embed or prune: the input geometry is the ensemble
            return [molecule], []
        raise InputError(str(exc)) from None
    confs = confs[: int(settings["max_conformers"] or len(confs))]
    return confs, (open_rotamers(confs) if settings.get("open_rotamers") else [])


def relaxed_conformers(molecule: Molecule, spec: CalcSpec, settings: dict, relax_one: RelaxOne) -> list[Conformer]:
    """The molecule's distinct conformers at the tier, lowest first."""
    confs, opened = _ensemble(molecule, settings)
    done = [relax_one(c, spec) for c in confs]
    for c in opened:
        r = relax_one(c, spec)
        if is_hbonded(r.molecule):
            r.warnings.append(f"{molecule.label}: the open rotamer (donor H turned away) closed its intramolecular "
                              f"H-bond again when relaxed at {spec.method}: no open minimum there")
        done.append(r)
    keep = distinct_conformers([c.molecule for c in done], [c.energy_kcal_mol for c in done])
    kept = [done[i] for i in keep]
    kept[0].warnings.extend(w for i, c in enumerate(done) if i not in keep for w in c.warnings)  # merged away
    return kept


def mmff_relax_one(molecule: Molecule, spec: CalcSpec) -> Conformer:
    """One conformer relaxed at MMFF94 (tier 0), every non-bonded pair counted; no dipole."""
    from rdkit.Chem import AllChem

    mol = molecule.to_rdkit()
    props = AllChem.MMFFGetMoleculeProperties(mol)
    if props is None:
        raise InputError(f"{molecule.label}: MMFF94 has no parameters for this molecule")
    ff = AllChem.MMFFGetMoleculeForceField(mol, props, nonBondedThresh=1000.0, ignoreInterfragInteractions=False)
    not_converged = ff.Minimize(maxIts=2000)
    return Conformer(float(ff.CalcEnergy()), molecule.with_coords(mol.GetConformer().GetPositions()),
                     converged=not not_converged)


def _warnings(confs: list[Conformer]) -> list[str]:
    out = [w for c in confs for w in c.warnings]
    n_bad = sum(1 for c in confs if not c.converged)
    if n_bad:
        out.append(f"{n_bad} of {len(confs)} conformer relaxations did not converge")
    return list(dict.fromkeys(out))


def conformers_task(spec: CalcSpec, settings: dict, relax_one: RelaxOne) -> Outcome:
    if len(spec.molecules) != 1:
        raise InputError(f"conformers takes one molecule, got {len(spec.molecules)}")
    confs = relaxed_conformers(spec.molecules[0], spec, settings, relax_one)
    e0 = confs[0].energy_kcal_mol
    values = {"n_conformers": len(confs), "energies_kcal_mol": [c.energy_kcal_mol for c in confs],
              "relative_energies_kcal_mol": [c.energy_kcal_mol - e0 for c in confs],
              "dipoles_debye": [c.dipole_debye for c in confs], "relaxed": bool(settings["relax"])}
    return Outcome(values=values, artifacts={"molecules": [c.molecule.model_dump(mode="json") for c in confs]},
                   converged=all(c.converged for c in confs), warnings=_warnings(confs))


def isomer_energies_task(spec: CalcSpec, settings: dict, relax_one: RelaxOne) -> Outcome:
    formulas = {m.formula for m in spec.molecules}
    if len(formulas) > 1:
        raise InputError(f"isomer_energies compares isomers; got formulas {', '.join(sorted(formulas))}")
    best = [relaxed_conformers(m, spec, settings, relax_one)[0] for m in spec.molecules]
    e0 = best[0].energy_kcal_mol
    values = {"energies_kcal_mol": [b.energy_kcal_mol for b in best],
              "relative_energies_kcal_mol": [b.energy_kcal_mol - e0 for b in best],
              "n_species": len(best), "relaxed": bool(settings["relax"])}
    return Outcome(values=values, artifacts={"molecules": [b.molecule.model_dump(mode="json") for b in best]},
                   converged=all(b.converged for b in best), warnings=_warnings(best))
