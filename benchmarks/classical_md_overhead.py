"""Overhead of tierchem's tier-1 MD over plain OpenMM on the same system.

The S22 parallel-displaced benzene dimer, vacuum, GAFF2/AM1-BCC, Langevin middle
integrator at 300 K, 1 fs, 5000 steps, energies read every 100 steps, run

* through tierchem: ``compute(make_spec("md", ...), use_cache=False)`` (spec,
  cached parameters -> parmed -> System, Context, MD loop, result object), and
* directly: ``AmberPrmtopFile`` of the same dimer topology -> System, Context,
  the same loop,

on the same platform with the same threads. Start-up (imports, the one-off
AM1-BCC parametrisation, writing the dimer prmtop) is done before timing. Each
way runs ``--repeats`` times, interleaved; the best time of each is compared, in
wall-clock seconds and in this process's CPU seconds (``time.process_time``:
what a machine shared with other jobs distorts least).

    python benchmarks/classical_md_overhead.py [--steps 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def benzene_dimer():
    from tierchem.tiers.refdata import s22_dimer

    return list(s22_dimer("Benzene_dimer_parallel_displaced").fragments)


def run_direct(prmtop: Path, positions_nm, steps: int, every: int, seed: int) -> float:
    import openmm as mm
    import openmm.app as app

    from tierchem.tiers.classical import select_platform

    t0 = time.perf_counter()
    system = app.AmberPrmtopFile(str(prmtop)).createSystem(
        nonbondedMethod=app.NoCutoff, constraints=None, rigidWater=False, removeCMMotion=True)
    integrator = mm.LangevinMiddleIntegrator(300.0, 1.0, 0.001)
    integrator.setRandomNumberSeed(seed)
    platform, props = select_platform(system.getNumParticles(), dynamics=True)
    context = mm.Context(system, integrator, platform, props)
    context.setPositions(positions_nm)
    context.setVelocitiesToTemperature(300.0, seed)
    energies = []
    for _ in range(steps // every):
        integrator.step(every)
        energies.append(context.getState(getEnergy=True).getPotentialEnergy()._value)
    context.getState(getPositions=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--every", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="tierchem-bench-") as tmp:
        os.environ.setdefault("TIERCHEM_CACHE_DIR", tmp)  # parameters cached once, below
        t_start = time.perf_counter()
        import numpy as np

        from tierchem.tiers import classical
        from tierchem.tiers.catalogue import make_spec
        from tierchem.tiers.compute import compute

        a, b = benzene_dimer()
        # Start-up: parameters (AM1-BCC) and the dimer prmtop for the direct run.
        dimer = classical.parameters(a).structure + classical.parameters(b).structure
        prmtop = Path(tmp) / "dimer.prmtop"
        dimer.save(str(prmtop), format="amber")
        positions = np.concatenate([a.coords, b.coords]) * 0.1
        platform, props = classical.select_platform(a.n_atoms + b.n_atoms, dynamics=True)
        startup = time.perf_counter() - t_start

        spec = make_spec("md", [a, b], level="classical", steps=args.steps, report_every=args.every,
                         temperature_k=300.0, timestep_fs=1.0, friction_per_ps=1.0, seed=11,
                         minimize=False, equilibration_steps=0)
        # One untimed run of each warms OpenMM's kernels/plugins.
        compute(spec, use_cache=False)
        run_direct(prmtop, positions, args.every, args.every, 11)

        t_harness, t_direct, ns_day, cpu_harness, cpu_direct = [], [], [], [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            r = compute(spec, use_cache=False)
            t_harness.append(time.perf_counter() - t0)
            cpu_harness.append(time.process_time() - c0)
            assert r.success, r.error
            ns_day.append(r.values["ns_per_day"])
            c0 = time.process_time()
            t_direct.append(run_direct(prmtop, positions, args.steps, args.every, 11))
            cpu_direct.append(time.process_time() - c0)

    h, d = min(t_harness), min(t_direct)
    print(f"system: S22 benzene dimer, {a.n_atoms + b.n_atoms} atoms, vacuum, {args.steps} steps of 1 fs, "
          f"energies every {args.every}")
    print(f"platform: {platform.getName()} {props or ''} (TIERCHEM_THREADS/OMP_NUM_THREADS="
          f"{os.environ.get('TIERCHEM_THREADS') or os.environ.get('OMP_NUM_THREADS') or 'unset'})")
    print(f"start-up (imports, AM1-BCC parameters, prmtop): {startup:.2f} s (not counted)")
    print(f"tierchem harness : best {h:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_harness)}); "
          f"production loop {max(ns_day):.0f} ns/day")
    print(f"direct OpenMM    : best {d:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_direct)}); "
          f"{args.steps * 1e-6 / d * 86400:.0f} ns/day including set-up")
    print(f"ratio tierchem/direct: {h / d:.3f}  (overhead {100 * (h / d - 1):+.1f}%, target <= +3%)")
    ch, cd = min(cpu_harness), min(cpu_direct)
    print(f"CPU seconds: tierchem best {ch:.3f}, direct best {cd:.3f}; ratio {ch / cd:.3f}")


if __name__ == "__main__":
    main()
