"""Tier 4: correlated wavefunction methods with PySCF — (DF-/SCS-)MP2, CCSD, CCSD(T).

Closed-shell only (RHF reference), frozen core by default (noble-gas cores, net
of ECP cores), counterpoise on by default for interaction energies, and an
optional two-point X^-3 extrapolation of the correlation energy (Helgaker et
al., J. Chem. Phys. 106, 9639 (1997)) with HF taken at the larger basis.

A higher rung is not more rigorous by itself: in def2-SVP these methods are
worse than B3LYP-D3(BJ)/def2-SVP with counterpoise (see the design notes); they
earn their cost with large bases / CBS on small model systems. A cost model
(:func:`estimate_cost`) runs in :meth:`check`, before any SCF, and refuses jobs
that would not fit this machine's memory or ``keywords['max_time_s']``.

Keywords (defaults in :attr:`PySCFCorrelatedHarness.default_parameters`):
``counterpoise``, ``uncorrected``, ``cbs`` (e.g. ["def2-TZVP", "def2-QZVP"] or
["cc-pVTZ", "cc-pVQZ"]; overrides the basis), ``frozen_core``, ``max_time_s``,
``max_cycle`` / ``conv_tol`` / ``level_shift`` (HF), ``cc_max_cycle``,
``density_fit_hf``, ``focal_point``, ``delta_basis``.

Focal point (CCSD or CCSD(T) with ``cbs``, unless ``focal_point`` is false): the
HF energy in the larger basis, plus the DF-MP2 correlation energy extrapolated
from the ``cbs`` pair, plus [E_corr(CC) - E_corr(MP2)] in ``delta_basis`` (by
default the double-zeta member of the pair's family: aug-cc-pVTZ/aug-cc-pVQZ ->
aug-cc-pVDZ). The higher-order correlation converges far faster with the basis
than the MP2 part (Jurecka, Sponer, Cerny & Hobza, Phys. Chem. Chem. Phys. 8,
1985 (2006), the S22 paper, computed its references this way). A basis named
``heavy-aug-cc-pVXZ`` puts aug-cc-pVXZ on heavy atoms and cc-pVXZ on hydrogen.

SCS-MP2 scales the DF-MP2 opposite-/same-spin components (6/5, 1/3; Grimme
2003). HF is conventional (exact integrals) unless ``density_fit_hf`` is true, or it is
"auto" (the default) and a DF-MP2 leg has more than ``DF_HF_ABOVE_NAO`` functions:
there exact four-index integrals would cost hours (aug-cc-pVQZ water dimer: 344
functions) while the JKFIT error in an interaction energy is ~0.01 kcal/mol.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Sequence

from ..chem.molecule import Molecule
from .counterpoise import choose_interaction, counterpoise_energies
from .errors import CalcError, ConvergenceError, InputError, ResourceError
from .harness import KCAL_PER_HARTREE, Harness, Outcome, engine_version
from .pyscf_common import (
    SCF_DEFAULTS, SCFScratch, available_memory_mb, build_mole, default_max_memory_mb, n_frozen_core, run_resumable,
    run_scf, scf_seconds,
)
from .spec import CalcSpec

log = logging.getLogger(__name__)

SCS_OS, SCS_SS = 6.0 / 5.0, 1.0 / 3.0  # Grimme's SCS-MP2 scaling factors

# Cost model: seconds per unit of work on this machine (2 cores, PySCF 2.14),
# calibrated by timing each step separately on the S22 water dimer/def2-TZVP
# (86 functions) and benzene/def2-SVP (114 functions; o = 15, v = 93: RHF 7.5 s,
# DF-MP2 0.85 s, MP2 1.0 s, CCSD 50 s in 10 iterations, (T) 52 s), taking the
# larger system's rate (the small one is overhead-dominated). Conservative:
# HF and DF-MP2 scale better than the powers used here.
SECONDS_PER_UNIT = {
    "hf": 4.5e-8,  # per nao^4 (conventional RHF, all iterations)
    "mp2": 4.5e-10,  # per o * nao^4 (conventional integral transformation)
    "df-mp2": 1.7e-8,  # per o * v^2 * naux
    "ccsd": 3.0e-9,  # per o^2 * v^4 (all iterations, ~10)
    "(t)": 2.1e-10,  # per o^3 * v^4
    # DF-HF, all iterations, per naux * nao^2 * n_docc with the JKFIT set (naux ~1.7 nao): the
    # aug-cc-pVQZ water dimer (344 functions, 588 auxiliary) took 46 s at a load of 10 on 2 cores
    "df-hf": 2.5e-8,
}
FIXED_OVERHEAD_S = 0.5
DF_HF_ABOVE_NAO = 200


def cardinal_number(basis: str) -> int:
    """X of a correlation-consistent-like basis: def2-TZVP -> 3, cc-pVQZ -> 4."""
    b = basis.lower()
    if b.startswith("def2-"):
        if b.startswith("def2-sv"):
            return 2
        if b.startswith("def2-tzv"):
            return 3
        if b.startswith("def2-qzv"):
            return 4
    m = re.search(r"cc-p(?:w)?c?v([dtq56])z", b)
    if m:
        return {"d": 2, "t": 3, "q": 4, "5": 5, "6": 6}[m.group(1)]
    raise InputError(f"cannot tell the cardinal number of basis {basis!r} for CBS extrapolation; "
                     "use def2-TZVP/def2-QZVP or cc-pVXZ pairs")


def double_zeta_of(basis: str) -> str:
    """The double-zeta member of ``basis``'s family: aug-cc-pVQZ -> aug-cc-pVDZ, def2-TZVP -> def2-SVP."""
    if basis.lower().startswith("def2-"):
        return "def2-SVP"
    out, n = re.subn(r"(?i)(cc-p(?:w)?c?v)[dtq56](z)", r"\1D\2", basis)
    if not n:
        raise InputError(f"no double-zeta member known for basis {basis!r}; give delta_basis")
    return out


def helgaker_cbs(e_small: float, x_small: int, e_large: float, x_large: int) -> float:
    """Two-point X^-3 extrapolation of a correlation energy."""
    if x_large <= x_small:
        raise InputError("CBS bases must have increasing cardinal numbers")
    return (x_large ** 3 * e_large - x_small ** 3 * e_small) / (x_large ** 3 - x_small ** 3)


@dataclass
class Cost:
    method: str
    basis: str
    nao: int
    n_occ: int  # active occupied
    n_vir: int
    memory_mb: float
    time_s: float


def _method_key(method: str) -> str:
    return method.upper()


def uses_df_hf(density_fit_hf: bool | str, method: str, nao: int) -> bool:
    """Whether the HF reference is density-fitted (see the module notes on ``density_fit_hf``)."""
    if density_fit_hf == "auto":
        return _method_key(method) in ("DF-MP2", "SCS-MP2") and nao > DF_HF_ABOVE_NAO
    return bool(density_fit_hf)


def estimate_cost(fragments: Sequence[Molecule], method: str, basis: str, frozen_core: bool = True,
                  n_calcs: float = 1.0, density_fit_hf: bool | str = "auto") -> Cost:
    """Memory and time of ``method/basis`` on the whole system (its largest
    calculation, the dimer), times ``n_calcs`` equally sized calculations."""
    mol = build_mole(fragments, basis)
    nao = mol.nao
    n_docc = mol.nelectron // 2
    o = n_docc - (n_frozen_core(mol) if frozen_core else 0)
    v = nao - n_docc
    naux = 3.5 * nao  # def2 RI / JKFIT auxiliary sets are ~3-4x the orbital basis
    m = _method_key(method)
    mem = 8.0 * nao * nao * 6  # Fock, density, orbitals and DIIS vectors
    if uses_df_hf(density_fit_hf, m, nao):
        mem += 8.0 * 1.7 * nao * nao * nao / 2  # the three-index JKFIT integrals
        t = SECONDS_PER_UNIT["df-hf"] * 1.7 * nao ** 3 * n_docc
    else:
        t = SECONDS_PER_UNIT["hf"] * nao ** 4
    if m in ("DF-MP2", "SCS-MP2"):
        mem += 8.0 * naux * o * v
        t += SECONDS_PER_UNIT["df-mp2"] * o * v * v * naux
    elif m == "MP2":
        mem += 8.0 * 2 * o * o * v * v
        t += SECONDS_PER_UNIT["mp2"] * o * nao ** 4
    elif m in ("CCSD", "CCSD(T)"):
        # incore ERIs (vvvv packed, ovvv, ...) plus amplitudes, residuals and DIIS
        mem += 8.0 * (v ** 4 / 4 + o * v ** 3 + 10 * o * o * v * v)
        t += SECONDS_PER_UNIT["ccsd"] * o * o * v ** 4
        if m == "CCSD(T)":
            t += SECONDS_PER_UNIT["(t)"] * o ** 3 * v ** 4
    return Cost(method, basis, nao, o, v, mem / 1e6, n_calcs * t + FIXED_OVERHEAD_S)


class PySCFCorrelatedHarness(Harness):
    name = "pyscf-cc"
    tier = 4
    methods = ("DF-MP2", "SCS-MP2", "MP2", "CCSD", "CCSD(T)")
    tasks = frozenset({"energy", "interaction_energy"})
    supports_open_shell = False
    engine_modules = ("pyscf",)
    default_parameters = {
        **SCF_DEFAULTS,  # of the RHF reference
        "density_fit_hf": "auto",  # True, False, or "auto": DF-HF for DF-MP2 legs over DF_HF_ABOVE_NAO
        "frozen_core": True,
        "cc_max_cycle": 100,
        "counterpoise": True,  # interaction_energy: Boys-Bernardi
        "uncorrected": False,
        "cbs": None,  # two bases, e.g. ["def2-TZVP", "def2-QZVP"], override the spec's basis
        "focal_point": True,  # CC with cbs: MP2/CBS + [CC - MP2] in delta_basis (else CC in both bases)
        "delta_basis": None,  # basis of the [CC - MP2] term; None: the cbs pair's double-zeta member
        "max_time_s": 3600,  # the cost model refuses what would take longer
    }
    model_notes = ("RHF reference, closed shell only; frozen noble-gas cores net of ECP cores; SCS-MP2 scales "
                   "DF-MP2's opposite-/same-spin parts by 6/5 and 1/3; CBS: two-point X^-3 extrapolation of "
                   "the correlation energy with HF at the larger basis; focal point for CC with cbs: DF-MP2/CBS plus "
                   "[CC - MP2] in a double-zeta basis")

    @classmethod
    def versions(cls) -> dict[str, str]:
        return {"pyscf": engine_version("pyscf")}

    scf_scratch: SCFScratch | None = None  # set while run() runs with a store (SCF restart)

    def run(self, spec: CalcSpec) -> Outcome:
        """As the base class, with each HF SCF resumable after an interruption (:func:`run_resumable`)."""
        return run_resumable(self, spec, super().run)

    def estimate_seconds(self, spec: CalcSpec) -> float:
        """The calibrated cost model (:func:`estimate_cost`) of every basis the spec runs; where it
        cannot run (no PySCF here, a basis it cannot read) a guess from the DFT SCF timings."""
        try:
            return sum(c.time_s for c in self.cost(spec))
        except (ImportError, CalcError):
            return scf_seconds(spec) * 3 * (6 if "CCSD" in spec.method.upper() else 1.5)

    # ---------------------------------------------------------------- cost
    def _bases(self, spec: CalcSpec) -> list[str]:
        cbs = self.settings(spec)["cbs"]
        if cbs:
            if len(cbs) != 2:
                raise InputError("cbs takes two bases, e.g. ['def2-TZVP', 'def2-QZVP']")
            return sorted(cbs, key=cardinal_number)
        return [spec.basis or "def2-SVP"]

    def _focal_point(self, spec: CalcSpec) -> bool:
        settings = self.settings(spec)
        return bool(settings["cbs"]) and bool(settings["focal_point"]) and "CC" in _method_key(spec.method)

    def _plan(self, spec: CalcSpec) -> list[tuple[str, str]]:
        """(method, basis) of each calculation per system: the spec's method in each basis, or for the
        focal point DF-MP2 in the cbs pair and the CC method in the delta basis."""
        bases = self._bases(spec)
        if not self._focal_point(spec):
            return [(spec.method, b) for b in bases]
        delta = self.settings(spec)["delta_basis"] or double_zeta_of(bases[0])
        if cardinal_number(delta) >= cardinal_number(bases[0]):
            raise InputError(f"delta_basis {delta} is not smaller than the cbs pair {bases[0]}/{bases[1]}")
        return [("DF-MP2", bases[0]), ("DF-MP2", bases[1]), (spec.method, delta)]

    def level_label(self, spec: CalcSpec) -> str:
        """The level as run: one basis, a CBS pair, or the focal point (spec.basis is unused with cbs)."""
        plan = self._plan(spec)
        if len(plan) == 1:
            return f"{spec.method}/{plan[0][1]}"
        if len(plan) == 2:
            return f"{spec.method}/CBS({plan[0][1]}->{plan[1][1]})"
        (_, small), (_, large), (cc, delta) = plan
        return f"{cc}/CBS focal point (DF-MP2/{small}->{large} + [{cc}-MP2]/{delta})"

    def _n_calcs(self, spec: CalcSpec) -> float:
        if spec.task != "interaction_energy":
            return 1.0
        settings = self.settings(spec)
        cp = settings["counterpoise"]
        unc = settings["uncorrected"] or not cp
        # monomers in the dimer basis cost about a dimer each; in their own basis ~1/8
        return 1.0 + (2.0 if cp else 0.0) + (0.25 if unc else 0.0)

    def cost(self, spec: CalcSpec, method: str | None = None, bases: list[str] | None = None) -> list[Cost]:
        settings = self.settings(spec)
        fz, fit = bool(settings["frozen_core"]), settings["density_fit_hf"]
        plan = [(method or spec.method, b) for b in bases] if bases else self._plan(spec)
        return [estimate_cost(spec.molecules, m, b, fz, self._n_calcs(spec), fit) for m, b in plan]

    def check(self, spec: CalcSpec) -> None:
        super().check(spec)
        costs = self.cost(spec)
        mem_mb = max(c.memory_mb for c in costs)
        time_s = sum(c.time_s for c in costs)
        avail = available_memory_mb()
        max_time = float(self.settings(spec)["max_time_s"])
        if mem_mb <= 0.8 * avail and time_s <= max_time:
            log.info("%s: estimated %.0f MB, %.0f s", spec.label, mem_mb, time_s)
            return
        big = max(costs, key=lambda c: c.time_s)
        why = []
        if mem_mb > 0.8 * avail:
            why.append(f"needs ~{mem_mb / 1e3:.1f} GB of memory, {0.8 * avail / 1e3:.1f} GB available")
        if time_s > max_time:
            # the estimate is an upper bound (S22's formic acid dimer: ~92 min estimated, 21 min run)
            why.append(f"would take ~{_human(time_s)} (max_time_s {max_time:.0f}; to run it anyway, raise it: "
                       f"-k max_time_s={10 ** math.ceil(math.log10(time_s)):.0f})")
        fits = []
        candidates = [(spec.method, "def2-TZVP"), (spec.method, "def2-SVP"), ("DF-MP2", big.basis),
                      ("DF-MP2", "def2-TZVP")]
        for m, b in candidates:
            if (m, b) == (spec.method, big.basis) and not spec.keywords.get("cbs"):
                continue
            try:
                c = self.cost(spec, m, [b])[0]
            except InputError:
                continue
            if c.memory_mb <= 0.8 * avail and c.time_s <= max_time:
                fits.append(f"{m}/{b} (~{_human(c.time_s)})")
        hint = ("; what would fit: " + ", ".join(dict.fromkeys(fits)) + ", or a smaller model system (tierchem.chem.model_systems)") if fits else \
            "; nothing at this tier fits: use a smaller model system (tierchem.chem.model_systems) or DFT (tier 3)"
        raise ResourceError(
            f"{spec.method}/{'+'.join(c.basis for c in costs)} on {spec.n_atoms} atoms "
            f"({big.nao} basis functions, {big.n_occ} active occupied, {big.n_vir} virtual) "
            + " and ".join(why) + hint)

    # ------------------------------------------------------------ engine
    def _one(self, fragments: Sequence[Molecule], spec: CalcSpec, basis: str, ghosts: Sequence[bool] | None,
             label: str, method: str) -> tuple[float, dict[str, float], str, list[str]]:
        """E_HF and the correlation energies (Eh) of one system in one basis: ``{method: e_corr}``, and for
        a coupled-cluster method also the conventional MP2 of the same orbitals (``"MP2"``)."""
        from pyscf import cc, df, mp, scf
        from pyscf.mp import dfmp2

        kw = self.settings(spec)
        mol = build_mole(fragments, basis, ghosts, max_memory_mb=default_max_memory_mb())
        if mol.spin != 0:
            raise InputError(f"{label}: {self.name} is closed-shell only")

        method = _method_key(method)
        fit = uses_df_hf(kw["density_fit_hf"], method, mol.nao)

        def make_mf(m):
            mf = scf.RHF(m)
            return mf.density_fit() if fit else mf

        run = run_scf(make_mf, mol, kw, f"{label}/{basis}", scratch=self.scf_scratch)
        mf = run.mf
        frozen = n_frozen_core(mol) if kw["frozen_core"] else 0
        if method in ("DF-MP2", "SCS-MP2"):
            pt = dfmp2.DFMP2(mf, frozen=frozen or None)
            if getattr(mf, "with_df", None) is not None:  # a DF-HF's JKFIT set is not fit for correlation
                pt.with_df = df.DF(mol, auxbasis=df.make_auxbasis(mol, mp2fit=True))
            pt.verbose = 0
            pt.kernel()
            corr = {method: pt.e_corr if method == "DF-MP2" else SCS_OS * pt.e_corr_os + SCS_SS * pt.e_corr_ss}
        elif method == "MP2":
            pt = mp.MP2(mf, frozen=frozen or None)
            pt.verbose = 0
            pt.kernel()
            corr = {method: pt.e_corr}
        else:
            mycc = cc.CCSD(mf, frozen=frozen or None)
            mycc.verbose = 0
            mycc.max_cycle = int(kw["cc_max_cycle"])
            mycc.kernel()
            if not mycc.converged:
                raise ConvergenceError(f"{label}/{basis}: CCSD did not converge in {mycc.max_cycle} "
                                       "iterations; raise cc_max_cycle")
            corr = {"MP2": float(mycc.emp2), "CCSD": mycc.e_corr}  # emp2: MP2 from the first amplitudes
            if method == "CCSD(T)":
                corr[method] = mycc.e_corr + mycc.ccsd_t()
        return float(mf.e_tot), {k: float(v) for k, v in corr.items()}, run.strategy, run.warnings

    def _energy_parts(self, fragments, spec, ghosts=None, label=None) -> dict:
        """HF and correlation energy (Eh): one basis, a CBS pair, or the focal point (:meth:`_plan`)."""
        label = label or "+".join(f.label for f in fragments)
        plan = self._plan(spec)
        parts = {(m, b): self._one(fragments, spec, b, ghosts, label, m) for m, b in plan}
        warnings = [w for p in parts.values() for w in p[3]]
        strategies = [p[2] for p in parts.values()]
        out = {"strategies": strategies, "warnings": warnings}
        if len(plan) == 1:
            (m, b), = plan
            e_hf, corr = parts[(m, b)][:2]
            return {**out, "hf": e_hf, "corr": corr[_method_key(m)]}
        (m_s, b_s), (m_l, b_l) = plan[:2]
        (_, c_s), (hf_l, c_l) = parts[(m_s, b_s)][:2], parts[(m_l, b_l)][:2]
        e_corr = helgaker_cbs(c_s[_method_key(m_s)], cardinal_number(b_s), c_l[_method_key(m_l)],
                              cardinal_number(b_l))
        if len(plan) == 3:  # focal point: + [CC - MP2] in the delta basis
            m_d, b_d = plan[2]
            c_d = parts[(m_d, b_d)][1]
            delta = c_d[_method_key(m_d)] - c_d["MP2"]
            out.update({"mp2_cbs_corr": e_corr, "delta_cc": delta})
            e_corr += delta
        return {**out, "hf": hf_l, "corr": e_corr}

    def energy(self, fragments: Sequence[Molecule], spec: CalcSpec) -> Outcome:
        p = self._energy_parts(fragments, spec)
        values = {
            "energy_kcal_mol": (p["hf"] + p["corr"]) * KCAL_PER_HARTREE,
            "energy_hartree": p["hf"] + p["corr"],
            "hf_energy_kcal_mol": p["hf"] * KCAL_PER_HARTREE,
            "correlation_energy_kcal_mol": p["corr"] * KCAL_PER_HARTREE,
            "bases": self._bases(spec),
            "cbs": len(self._bases(spec)) == 2,
            "calculations": [f"{m}/{b}" for m, b in self._plan(spec)],
        }
        if "delta_cc" in p:
            values["delta_cc_kcal_mol"] = p["delta_cc"] * KCAL_PER_HARTREE
        return Outcome(values=values, converged=True, warnings=p["warnings"])

    def task_interaction_energy(self, spec: CalcSpec) -> Outcome:
        a, b = spec.molecules
        settings = self.settings(spec)
        cp = bool(settings["counterpoise"])
        warnings: list[str] = []

        def e_of(frags, ghosts, label):
            parts = self._energy_parts(frags, spec, ghosts, label)
            warnings.extend(parts["warnings"])
            return parts

        parts = counterpoise_energies(e_of, a, b, cp, bool(settings["uncorrected"]))
        ab = parts.dimer
        values: dict = {"counterpoise": cp, "bases": self._bases(spec), "cbs": len(self._bases(spec)) == 2,
                         "calculations": [f"{m}/{b}" for m, b in self._plan(spec)]}

        def interaction(ea, eb):
            return ((ab["hf"] - ea["hf"] - eb["hf"]) * KCAL_PER_HARTREE,
                    (ab["corr"] - ea["corr"] - eb["corr"]) * KCAL_PER_HARTREE)

        if parts.monomers_dimer_basis:
            hf_i, corr_i = interaction(*parts.monomers_dimer_basis)
            values.update({"interaction_energy_cp_kcal_mol": hf_i + corr_i, "hf_interaction_kcal_mol": hf_i,
                           "correlation_interaction_kcal_mol": corr_i})
            if "delta_cc" in ab:  # the focal point's higher-order part of the (CP) interaction
                ma, mb = parts.monomers_dimer_basis
                values["delta_cc_interaction_kcal_mol"] = (ab["delta_cc"] - ma["delta_cc"] - mb["delta_cc"]) \
                    * KCAL_PER_HARTREE
        if parts.monomers:
            hf_u, corr_u = interaction(*parts.monomers)
            values["interaction_energy_uncorrected_kcal_mol"] = hf_u + corr_u
            if not cp:
                values.update({"hf_interaction_kcal_mol": hf_u, "correlation_interaction_kcal_mol": corr_u})
        choose_interaction(values, cp)
        values["dimer_energy_kcal_mol"] = (ab["hf"] + ab["corr"]) * KCAL_PER_HARTREE
        return Outcome(values=values, converged=True, warnings=warnings)


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
