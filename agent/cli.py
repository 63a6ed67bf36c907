"""The ``tierchem`` command line (Typer + Rich).

Engines and the agent are imported inside the commands, so ``tierchem --help``
starts fast. Bad input gives one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="tierchem",
    help="An AI collaborator for computational chemistry: hypotheses tested by calculations of increasing rigour.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="The shared result store.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

LEVEL_HELP = ("Tier 0-4 or a name: mmff, classical, gaff2-ep (GAFF2 with sigma-hole extra points), xtb, dft, mp2, "
              "ccsd(t).")
JSON_HELP = "Print conclusion.json's content on stdout (the other output goes to stderr)."
FRESH_HELP = ("Compute it again even when an identical earlier run finished (its kept copy is otherwise "
              "replayed into the run directory, with nothing run again).")


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr, then exit non-zero."""
    from rich.markup import escape

    text = " ".join(str(message).split())  # one line, whatever the message held
    _console(stderr=True).print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _store(cache_dir: Optional[Path], path: Optional[Path] = None):
    from ..tiers.store import ResultStore, StoreError

    try:
        return ResultStore(path if path is not None else cache_dir / "results.sqlite" if cache_dir else None)
    except StoreError as exc:
        fail(str(exc))


def _executor(name: str, store):
    from ..tiers.executors import make_executor

    try:
        return make_executor(name, store)
    except (ValueError, ImportError) as exc:
        fail(str(exc))


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=_console(stderr=True), transient=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time, so a Rich live view can redirect it."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


VERBOSE = {"level": 0}


@app.callback()
def _main(verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                      help="Log lines in the terminal too (-v: INFO, -vv: DEBUG); an "
                                      "investigation's log is always in its run directory's investigation.log.")):
    VERBOSE["level"] = verbose
    handler = _StderrHandler()
    handler.setLevel(logging.WARNING - 10 * min(verbose, 2))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, handler.level))


# --------------------------------------------------------------------- calc
def _read_molecules(smiles: list[str], file: Optional[Path], charge: int, multiplicity: Optional[int], split: bool,
                    fragment_charges: Optional[list[int]] = None):
    from ..chem import Molecule
    from ..chem.dimers import split_by_connectivity

    mols = [Molecule.from_smiles(s, multiplicity=multiplicity) for s in smiles]
    if file is not None:
        if split or file.suffix.lower() == ".xyz" and not mols:
            from rdkit.Chem import rdDetermineBonds  # noqa: F401  (fail early if RDKit is absent)

            frags = split_by_connectivity(file, charge=charge, fragment_charges=fragment_charges) \
                if file.suffix.lower() == ".xyz" else [Molecule.from_file(file, charge=charge, multiplicity=multiplicity)]
            mols.extend(frags)
        else:
            mols.append(Molecule.from_file(file, charge=charge, multiplicity=multiplicity))
    if not mols:
        fail("give a molecule: --smiles SMILES (repeat for a dimer) or --file PATH")
    return mols


@app.command()
def calc(
    task: str = typer.Argument(..., help="energy, optimize, conformers, descriptors, interaction_energy, md, "
                                          "torsion_scan, properties, esp"),
    smiles: list[str] = typer.Option([], "--smiles", "-s", help="A molecule as SMILES; repeat for a dimer."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="XYZ (a dimer is split into monomers), SDF, "
                                        "MOL2, or a CIF (a crystal cell, for lattice_energy)."),
    level: str = typer.Option("mmff", "--tier", "-t", help=LEVEL_HELP),
    method: Optional[str] = typer.Option(None, help="Method, e.g. B3LYP-D3BJ (default: the tier's)."),
    basis: Optional[str] = typer.Option(None, help="Basis set for tiers 3-4."),
    charge: int = typer.Option(0, help="Total charge of an XYZ file."),
    fragment_charges: Optional[str] = typer.Option(None, "--fragment-charges", help="Charges of an XYZ file's "
                                                   "fragments in file order, e.g. 1,-1 for an ion pair."),
    multiplicity: Optional[int] = typer.Option(None, help="Spin multiplicity (needed for radicals)."),
    keyword: list[str] = typer.Option([], "--keyword", "-k", help="Engine keyword KEY=JSON, e.g. -k steps=1000."),
    cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR", help="Result store folder."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Take the result from the store when it "
                               "holds it (--no-cache: recompute)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
):
    """Run one calculation and print its values."""
    from ..chem.errors import MoleculeError
    from ..tiers import compute, make_spec

    if task == "lattice_energy" and (file is None or file.suffix.lower() != ".cif"):
        fail("lattice_energy needs a crystal: give --file CRYSTAL.cif (its cell and the molecules in it); "
             f"{'an XYZ, SDF or MOL2 file' if file is not None else 'a SMILES'} has no unit cell")
    try:
        keywords = {}
        if file is not None and file.suffix.lower() == ".cif":  # a crystal: its cell's molecules and cell
            from ..chem.crystal import read_cif

            crystal = read_cif(file)
            warnings = list(crystal.warnings)
            if "missing_hydrogens" in crystal.flags:
                warnings.append("the missing hydrogens were placed by RDKit from the heavy-atom geometry")
            for warning in warnings:
                _console(stderr=True).print(f"[yellow]warning:[/] {warning}", highlight=False)
            mols, keywords["cell_angstrom"] = crystal.molecules, crystal.cell_matrix.tolist()
        else:
            mols = _read_molecules(smiles, file, charge, multiplicity, split=task == "interaction_energy",
                                   fragment_charges=_int_list(fragment_charges, "--fragment-charges"))
        keywords.update(_keywords(keyword))
        spec = make_spec(task, mols, level, method=method, basis=basis, **keywords)
    except MoleculeError as exc:
        fail(str(exc))
    except ValueError as exc:  # pydantic validation and bad levels
        fail(str(exc).splitlines()[0] if "validation error" not in str(exc) else _pydantic_line(exc))
    _check_spec(spec)
    result = compute(spec, store=_store(cache_dir), use_cache=cache)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print_result(result)
    if not result.success:
        raise typer.Exit(1)


def _pydantic_line(exc: Exception) -> str:
    from ..chem.molecule import validation_line

    return validation_line(exc)


def _int_list(text: Optional[str], option: str) -> Optional[list[int]]:
    if text is None:
        return None
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        fail(f"{option} takes integers separated by commas, e.g. 1,0; got {text!r}")


def _keywords(pairs: list[str]) -> dict:
    """``-k KEY=VALUE`` options as keywords (VALUE read as JSON where it is JSON, else a string)."""
    out = {}
    for kv in pairs:
        key, sep, value = kv.partition("=")
        if not sep or not key.strip():
            fail(f"keyword {kv!r} is not KEY=VALUE (e.g. -k max_steps=200)")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _check_spec(spec) -> None:
    """Refuse what the harness would refuse (task, method, keywords, size) before any engine starts."""
    from ..tiers.errors import CalcError, EngineMissingError
    from ..tiers.harness import get_harness

    try:
        get_harness(spec.engine).check(spec)
    except EngineMissingError:
        return  # compute() reports it as a failed result
    except CalcError as exc:
        fail(str(exc))


def _print_result(result) -> None:
    from rich.table import Table

    console = _console()
    spec = result.spec
    if not result.success:
        fail(f"{spec.label} failed ({result.error.kind.value}): {result.error.message}", code=1)
    table = Table(title=f"{spec.label}  (tier {spec.tier}, {spec.engine})", show_header=True)
    table.add_column("value")
    table.add_column("result", justify="right")
    for key, value in result.values.items():
        if isinstance(value, float):
            shown = f"{value:.4f}"
        elif isinstance(value, list) and len(value) > 8:
            shown = f"[{len(value)} values]"
        else:
            shown = str(value)
        table.add_row(key, shown)
    console.print(table)
    source = "from the store" if result.from_cache else f"computed in {result.wall_time_s:.2f} s"
    console.print(f"[dim]{source}; key {result.cache_key[:12]}; {', '.join(f'{k} {v}' for k, v in result.engine_versions.items())}[/]")


# -------------------------------------------------------------------- batch
@app.command()
def batch(
    file: Path = typer.Argument(..., help="CSV (name,smiles), SDF, or a folder of XYZ/SDF/MOL2 files."),
    task: str = typer.Option("energy", help="The task to run on every molecule."),
    level: str = typer.Option("mmff", "--tier", "-t", help=LEVEL_HELP),
    method: Optional[str] = typer.Option(None),
    basis: Optional[str] = typer.Option(None),
    out: Path = typer.Option(Path("batch-results"), "--out", "-o", help="Folder for results.csv and results.json."),
    executor: str = typer.Option("local", help="local, pool[:N], dask-local[:N] or dask://HOST:PORT."),
    cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR", help="Result store folder."),
):
    """Run one task over a molecule set; bad entries are reported and the rest complete."""
    import csv

    from ..chem.errors import MoleculeError
    from ..chem.molecule_set import read_molecule_set
    from ..tiers import make_spec

    try:
        entries = read_molecule_set(file)
    except MoleculeError as exc:
        fail(str(exc))
    err = _console(stderr=True)
    good, rows = [], []
    for e in entries:
        if e.molecule is None:
            err.print(f"[yellow]skipped[/] {e.name}: {e.error}", highlight=False)
            rows.append({"name": e.name, "success": False, "error": e.error})
        else:
            good.append(e)
    try:
        specs = [make_spec(task, [e.molecule], level, method=method, basis=basis) for e in good]
    except ValueError as exc:
        fail(_pydantic_line(exc))
    store = _store(cache_dir)
    with _executor(executor, store) as ex, _progress() as progress:
        bar = progress.add_task(f"{task} ({level})", total=len(specs))
        results = ex.map(specs, progress=lambda r: progress.advance(bar))
    n_cached = 0
    for e, r in zip(good, results):
        n_cached += r.from_cache
        row = {"name": e.name, "smiles": e.molecule.smiles, "success": r.success,
               "error": None if r.success else f"{r.error.kind.value}: {r.error.message}",
               "wall_time_s": round(r.wall_time_s, 4), "from_cache": r.from_cache, "cache_key": r.cache_key}
        row.update({k: v for k, v in r.values.items() if isinstance(v, (int, float, str, bool))})
        rows.append(row)
        if not r.success:
            err.print(f"[yellow]failed[/] {e.name}: {row['error']}", highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with open(out / "results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    n_ok = sum(1 for r in rows if r["success"])
    _console().print(f"{n_ok}/{len(rows)} succeeded ({n_cached} from the store); results in {out}/results.csv and results.json")
    if n_ok == 0:
        raise typer.Exit(1)


# ------------------------------------------------------------------ crystal
@app.command()
def crystal(
    file: Path = typer.Argument(..., help="A CIF file."),
    level: list[str] = typer.Option([], "--tier", "-t", help="Pair energies at this tier (repeat): classical, "
                                    "xtb (GFN1-xTB, the lattice-energy method), dft (counterpoise, the strongest "
                                    "pairs), ce-1p (CrystalExplorer's model, occpy)."),
    pairs: bool = typer.Option(False, "--pairs", help="Print the table of symmetry-unique pairs."),
    cutoff: float = typer.Option(3.8, help="The pair shell: closest atom-atom distance (Å)."),
    radius: float = typer.Option(20.0, help="Centroid radius (Å) of the pair sums at tiers 1-2."),
    periodic: bool = typer.Option(True, "--periodic/--no-periodic", help="Compare each pair sum with the periodic "
                                  "lattice energy at the same geometry (tiers 1-2)."),
    framework: Optional[Path] = typer.Option(None, "--framework", help="Write the energy framework as PNG "
                                             "(classical shell energies when no --tier is given)."),
    fingerprint: Optional[Path] = typer.Option(None, "--fingerprint", help="Write the Hirshfeld d_i/d_e "
                                               "fingerprint as PNG (occpy)."),
    swap: list[Path] = typer.Option([], "--swap", help="Another CIF (repeat): this file's molecule relaxed in its "
                                    "packing against its own, at the --tier levels with a periodic model (classical "
                                    "by default; xtb at the cells the classical walk chose)."),
    cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR", help="Result store folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary, pairs and energies as JSON."),
):
    """A crystal structure as evidence: its summary, the symmetry-unique pairs with their contacts
    and energies per tier, and the pair-sum lattice energy against the periodic one."""
    from ..chem.errors import MoleculeError
    from ..tiers.errors import CalcError
    from . import crystal_views as views

    try:
        from ..chem.crystal import read_cif

        structure = read_cif(file)
        if structure.cell_matrix is None:
            fail(f"{file}: no readable unit cell, so no crystal packing to analyse", code=1)
        levels = list(level) or (["classical"] if framework is not None else [])   # a framework needs energies
        report = views.crystal_report(structure, levels, _store(cache_dir), cutoff, radius if level else None,
                                      periodic=periodic)
        if fingerprint is not None:
            from ..tiers.crystal_energies import hirshfeld_fingerprint

            fp = hirshfeld_fingerprint(structure)
            views.fingerprint_figure([fp]).save(fingerprint)
            report["fingerprint"] = {"path": str(fingerprint), "surface_area_angstrom2": fp.surface_area,
                                     "shares": fp.shares()}
        if framework is not None:
            name = next(iter(report["levels"]))
            views.framework_figure(structure, report["_pair_set"], report["_energies"][name],
                                   title=f"{structure.name}: energy framework, {report['levels'][name]}").save(framework)
            report["framework"] = {"path": str(framework), "level": report["levels"][name]}
        if swap:
            report["swaps"] = views.swap_report(structure, [read_cif(p) for p in swap], list(level), _store(cache_dir))
    except MoleculeError as exc:
        fail(str(exc), code=1)
    except (CalcError, ValueError, RuntimeError, ImportError, OSError) as exc:
        fail(f"{file}: {exc}", code=1)
    if as_json:
        typer.echo(json.dumps(views.public(report), indent=2, default=str))
        return
    views.print_report(report, _console(), show_pairs=pairs or bool(level))
    for key in ("framework", "fingerprint"):
        if key in report:
            _console().print(f"{key} written to {report[key]['path']}", highlight=False)


# ---------------------------------------------------------------- benchmark
@app.command()
def benchmark(
    dataset: str = typer.Argument(..., help="s22 (ships with ASE); x40, s66, xb18 dimers and x23 crystals "
                                            "(shipped in tiers/data; --data for another copy)."),
    level: str = typer.Option("mmff", "--tier", "-t", help=LEVEL_HELP),
    method: Optional[str] = typer.Option(None),
    basis: Optional[str] = typer.Option(None),
    data: Optional[Path] = typer.Option(None, envvar="TIERCHEM_REFDATA", help="Reference data folder (refdata; "
                                        "default: the copy shipped with tierchem)."),
    subset: Optional[str] = typer.Option(None, help="'small': the smallest third, for costly tiers; "
                                         "'heavy-halogens': entries with Br or I; or system names, comma-separated."),
    executor: str = typer.Option("local", help="local, pool[:N], dask-local[:N] or dask://HOST:PORT."),
    cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR", help="Result store folder."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Use the result store (--no-cache: a throw-away "
                               "store, so every calculation really runs)."),
    cbs: bool = typer.Option(False, "--cbs", help="Tier 4: extrapolate to the basis-set limit from --cbs-bases; "
                             "for CCSD(T) the focal point: DF-MP2/CBS plus [CCSD(T) - MP2] in the pair's "
                             "double-zeta basis."),
    cbs_bases: str = typer.Option("aug-cc-pVTZ,aug-cc-pVQZ", "--cbs-bases", help="The two bases of --cbs."),
    keyword: list[str] = typer.Option([], "--keyword", "-k", help="Engine keyword KEY=JSON, e.g. "
                                      "-k delta_basis=aug-cc-pVTZ."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Errors against a reference set: dimer interaction energies vs CCSD(T)/CBS, or X23 lattice
    energies per molecule; per-system errors, MAE, MSE, max."""
    import tempfile

    from rich.table import Table

    from ..tiers.benchmark import load_dataset, run_benchmark
    from ..tiers.catalogue import resolve_level
    from ..tiers.correlated import cardinal_number

    keywords = _keywords(keyword)
    if cbs:
        keywords["cbs"] = [b.strip() for b in cbs_bases.split(",") if b.strip()]
        # the spec names the pair's larger basis, as the investigation's focal-point rows do
        basis = basis or max(keywords["cbs"], key=cardinal_number, default=None)
    try:
        if resolve_level(level, method, basis).tier != 4 and "cbs" in keywords:
            fail("--cbs extrapolates correlated (tier 4) energies; use --tier mp2 or --tier 'ccsd(t)'")
        entries = load_dataset(dataset, str(data) if data else None, subset)
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    store = _store(Path(tempfile.mkdtemp(prefix="tierchem-bench-")) if not cache else cache_dir)
    with _executor(executor, store) as ex, _progress() as progress:
        bar = progress.add_task(f"{dataset} ({level})", total=len(entries))
        try:
            report = run_benchmark(dataset, entries, ex, level, method, basis,
                                   progress=lambda r: progress.advance(bar), **keywords)
        except ValueError as exc:  # a keyword the spec refuses
            fail(_pydantic_line(exc))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    quantity = "lattice energies per molecule" if dataset.lower() == "x23" else "interaction energies"
    table = Table(title=f"{dataset.upper()} {quantity} at {report.level} (kcal/mol)")
    for col in ("system", "reference", "computed", "error", "time (s)"):
        table.add_column(col, justify="left" if col == "system" else "right")
    for r in report.rows:
        table.add_row(r.name, f"{r.reference_kcal_mol:.2f}",
                      f"{r.computed_kcal_mol:.2f}" if r.computed_kcal_mol is not None else "failed",
                      f"{r.deviation:+.2f}" if r.deviation is not None else (r.error or "")[:40],
                      f"{r.wall_time_s:.2f}")
    console = _console()
    console.print(table)
    console.print(f"MAE {report.mae:.2f}  MSE {report.mse:+.2f}  max {report.max_abs:.2f} kcal/mol over "
                  f"{len(report.deviations)} systems ({report.n_failed} failed); wall time {report.wall_time_s:.1f} s")
    # Per heaviest halogen: all entries, then the C-X ones only (where GAFF2-EP puts its extra points).
    if report.by_halogen():
        for title, groups in (("by halogen", report.by_halogen()), ("C-bound halogen", report.by_halogen("C"))):
            cells = [f"{el} {g['mae_kcal_mol']:.2f}/{g['mse_kcal_mol']:+.2f} (n={g['n']})" for el, g in groups.items()]
            console.print(f"{title}, MAE/MSE kcal/mol: {', '.join(cells) or 'no such entries'}", highlight=False)


# -------------------------------------------------------------------- cache
@cache_app.command("info")
def cache_info(cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR")):
    """Where the store is, how big, and what it holds."""
    from rich.table import Table

    info = _store(cache_dir).info()
    console = _console()
    console.print(f"store: {info['path']}  ({info['count']} results, {info['size_bytes'] / 1e6:.2f} MB)")
    if info["groups"]:
        table = Table("engine", "task", "results", "succeeded")
        for g in info["groups"]:
            table.add_row(g["engine"], g["task"], str(g["count"]), str(g["succeeded"]))
        console.print(table)


@cache_app.command("export")
def cache_export(key: str = typer.Argument(..., help="A result's key, or its first characters (as `calc` prints)."),
                 qcschema: bool = typer.Option(False, "--qcschema", help="As a QCSchema AtomicResult (qcelemental) "
                                               "instead of tierchem's own JSON."),
                 out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
                 cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR")):
    """Write one stored result as JSON: tierchem's record, or QCSchema for other programs."""
    try:
        result = _store(cache_dir).find(key)
    except KeyError as exc:
        fail(exc.args[0])
    if qcschema:
        from ..tiers.qcschema import qcschema_json

        text = qcschema_json(result)
    else:
        text = result.model_dump_json(indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        _console(stderr=True).print(f"wrote {out}", highlight=False)


@cache_app.command("clear")
def cache_clear(cache_dir: Optional[Path] = typer.Option(None, envvar="TIERCHEM_CACHE_DIR"),
                yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask.")):
    """Delete every stored result."""
    store = _store(cache_dir)
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete all results in {store.path}?"):
        raise typer.Exit(1)
    _console().print(f"deleted {store.clear()} results from {store.path}")


# --------------------------------------------------------------------- demo
@app.command()
def demo(directory: Optional[Path] = typer.Argument(None, metavar="DIR", show_default=False,
                                                   help="Where the demo's run lives (default: runs/demo; "
                                                   "reused: resumes)."),
         run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="The same as DIR."),
         wait: bool = typer.Option(False, "--wait/--no-wait", help="Also finish the slow DFT confirmations and "
                                   "the tier-4 check of the decisive contact (~25 minutes more on 2 cores; the "
                                   "CCSD(T)/CBS model alone ~13 CPU-minutes) instead of leaving them to "
                                   "`tierchem resume`."),
         as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
         fresh: bool = typer.Option(False, "--fresh", help=FRESH_HELP)):
    """The main job: investigate the shipped dihalobenzene example, offline, with the built-in planner."""
    import time

    from .session import Investigation, example_path

    if directory is not None and run_dir is not None and directory != run_dir:
        fail(f"two run directories given: {directory} and --run-dir {run_dir}; give one")
    run_dir = directory or run_dir or Path("runs/demo")
    console = _console(stderr=as_json)
    try:
        example = example_path("dihalobenzenes")
        question = (example / "question.txt").read_text().strip()
        console.print(f"[bold]Question:[/] {question}\n[dim]series: {example / 'series.csv'}; run: {run_dir}[/]")
        t0 = time.perf_counter()
        if (run_dir / "checkpoints.sqlite").exists():
            inv = Investigation.open(run_dir, wait_background=wait)
        elif not fresh and (done := Investigation.replayed(example, question, run_dir, wait_background=wait)):
            inv = None
        else:
            inv = Investigation.create(example, question, run_dir, wait_background=wait, fresh=fresh)
    except _run_errors() as exc:
        fail(str(exc))
    if inv is None:
        _say_replayed(done, console, as_json)
    else:
        _drive(inv, interactive=False, as_json=as_json)
    console.print(f"[dim]wall time {time.perf_counter() - t0:.0f} s[/]")


def main() -> None:
    """The console script: anything unforeseen is one line too (``-v`` shows the traceback)."""
    try:
        app()  # usage errors, typer.Exit and Ctrl-C are click's to answer
    except Exception as exc:  # a bug or an engine failing where nothing caught it: never a bare traceback
        if VERBOSE["level"]:
            raise
        from rich.markup import escape

        _console(stderr=True).print(f"[bold red]error:[/] {escape(type(exc).__name__)}: "
                                    f"{escape(' '.join(str(exc).split()))} (run with -v for the traceback)",
                                    highlight=False, soft_wrap=True)
        sys.exit(1)


# ---- investigation commands ----


@app.command()
def investigate(
    series: Path = typer.Argument(..., help="Series file (CSV name,smiles,role or SDF) or a folder holding one."),
    question: str = typer.Option(..., "--question", "-q", help="The question about the target."),
    run_dir: Path = typer.Option(..., "--run-dir", help="Where the run lives (checkpoints, log, report)."),
    llm: Optional[str] = typer.Option(None, "--llm", help="openai:MODEL, anthropic:MODEL, ollama:MODEL or "
                                      "http(s)://HOST/v1@MODEL; default: $TIERCHEM_LLM or the built-in planner."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Pause at each steering point for commands."),
    tier_cap: int = typer.Option(3, "--tier-cap", min=0, max=4, help="Highest tier the planner may use."),
    budget_s: float = typer.Option(1800.0, "--budget-s", help="Calculation budget in seconds."),
    executor: str = typer.Option("local", "--executor", help="local, pool[:N], dask-local[:N], dask://HOST:PORT."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for background calculations before ending "
                              "(else the conclusion stays provisional until `tierchem resume`)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Result store folder (default: shared cache)."),
    store: Optional[Path] = typer.Option(None, "--store", help="The result store's SQLite file itself "
                                         "(instead of --cache-dir, which holds results.sqlite)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    fresh: bool = typer.Option(False, "--fresh", help=FRESH_HELP),
):
    """Investigate why the target of a series differs from its analogs."""
    from .session import Investigation

    if not question.strip():
        fail("the question is empty; say what you want to know, e.g. -q 'Why does the target pack "
             "differently from its analogs?'")
    if store is not None and cache_dir is not None:
        fail("give --store FILE or --cache-dir FOLDER, not both")
    store_path = store if store is not None else cache_dir / "results.sqlite" if cache_dir else None
    options = dict(llm=llm, tier_cap=tier_cap, cpu_budget_s=budget_s, executor=executor, wait_background=wait,
                   store_path=store_path)
    try:  # an interactive run is for steering: it is always run
        if not (fresh or interactive) and (done := Investigation.replayed(series, question, run_dir, **options)):
            return _say_replayed(done, _console(stderr=as_json), as_json)
        inv = Investigation.create(series, question, run_dir, **options, fresh=fresh or interactive)
    except _run_errors() as exc:
        fail(str(exc))
    _drive(inv, interactive, as_json=as_json)


@app.command()
def resume(run_dir: Path = typer.Argument(..., help="The run directory of an investigation."),
           interactive: bool = typer.Option(False, "--interactive", "-i"),
           wait: bool = typer.Option(True, "--wait/--no-wait"),
           as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
           from_record: bool = typer.Option(False, "--replay", help="Re-run it offline from its record of model "
                                            "replies into RUN_DIR/replay (as `tierchem replay`).")):
    """Continue an investigation after a stop, crash or kill -9; finished calculations come from the store."""
    from .session import Investigation

    if from_record:
        return replay(run_dir, None, as_json)
    try:
        inv = Investigation.open(run_dir, wait_background=wait)
    except _run_errors() as exc:
        fail(str(exc))
    _drive(inv, interactive, as_json=as_json)


@app.command()
def replay(run_dir: Path = typer.Argument(..., help="The run directory of an LLM-driven investigation."),
           out: Optional[Path] = typer.Option(None, "--out", help="Where the replay runs (default RUN_DIR/replay)."),
           as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """Re-run an LLM-driven investigation offline from its record of model replies (no model, no key)."""
    from .report import conclusion_json
    from .session import replay as replay_run

    try:
        v = replay_run(run_dir, out)
    except _run_errors() as exc:
        fail(str(exc))
    c = v.conclusion
    _console(stderr=as_json).print(f"[bold]Replayed conclusion:[/] {c.summary if c else 'none'}", highlight=False)
    if as_json:
        typer.echo(json.dumps(conclusion_json(v) if c else None, indent=2))


@app.command()
def report(run_dir: Path = typer.Argument(..., help="The run directory of an investigation."),
           format: str = typer.Option("md", "--format", "-f", help="md or html")):
    """Write report.md, report.html and conclusion.json for a run; print the path of the one asked for."""
    from .session import Investigation

    if format not in ("md", "html"):
        fail(f"unknown format {format!r}; use md or html")
    try:
        with Investigation.open(run_dir) as inv:
            if not inv.started:
                fail(f"{run_dir}: the investigation has not started yet")
            path = inv.report(format)
    except _run_errors() as exc:
        fail(str(exc))
    typer.echo(str(path))


@app.command()
def interpret(run_dir: Path = typer.Argument(..., help="The run directory of an investigation."),
              text: str = typer.Argument(..., help="A message to the collaborator, in your own words."),
              as_json: bool = typer.Option(False, "--json", help="The reading as JSON.")):
    """How a message would be understood: the actions it would queue (a dry run; nothing is queued)."""
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    from .interpret import read_message
    from .session import THREAD
    from .state import view

    path = run_dir / "checkpoints.sqlite"
    if not path.exists():
        fail(f"{run_dir}: not an investigation run directory (no checkpoints.sqlite)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read-only, no run lock: the run may be live
    try:
        saved = SqliteSaver(conn).get_tuple(THREAD)
    finally:
        conn.close()
    v = view(saved.checkpoint["channel_values"] if saved else {})
    reading = read_message(text, v)
    if as_json:
        typer.echo(json.dumps(reading.as_dict(v), indent=2))
        return
    for k, part in enumerate(reading.as_dict(v)["parts"], start=1):
        typer.echo(f"{k}. {part['text']!r} -> " + ("; ".join(part["commands"]) or "unsure: " + " | ".join(
            part["options"])) + (f" (priority {part['priority']})" if part["priority"] is not None else ""))
        for a in part["actions"]:
            typer.echo("   " + json.dumps(a))
    typer.echo(reading.reply(v))


@app.command()
def graph(out: Optional[Path] = typer.Option(None, "--out", help="Write the Mermaid diagram here (.mmd/.md); "
                                             "a .png needs network access (mermaid.ink) and is not attempted.")):
    """The investigation graph as a Mermaid diagram."""
    from .graph import build_graph

    mermaid = build_graph().get_graph().draw_mermaid()
    if out is None:
        typer.echo(mermaid)
    else:
        out.write_text(mermaid)
        typer.echo(str(out))


def _run_errors() -> tuple[type[Exception], ...]:
    """What opening or creating an investigation raises for bad input: one line each, exit 2."""
    from ..tiers.store import StoreError
    from .runlock import RunDirLocked
    from .series import SeriesError

    return (SeriesError, FileExistsError, FileNotFoundError, ImportError, ValueError, RunDirLocked, StoreError)


def _drive(inv, interactive: bool, as_json: bool = False) -> None:
    """Run an investigation in batch (no prompts) or pausing at each steering point; then say what it found
    (``as_json``: conclusion.json's content on stdout, the rest on stderr)."""
    from .live import LiveView

    console = _console(stderr=as_json)
    with inv:
        if not interactive:
            view = LiveView(inv, _console(stderr=True), panel=not VERBOSE["level"])  # -v: log lines instead
            inv.context.progress = view.on_result
            with view:
                inv.run(on_update=view.on_update)
        elif not _steer(inv, console):
            return
        c = inv.conclusion()
        console.print(f"[bold]{'Provisional conclusion' if c and c['provisional'] else 'Conclusion'}:[/] "
                      + (inv.state.conclusion.summary if inv.state.conclusion else "none"), highlight=False)
        console.print(f"Report: {inv.run_dir / 'report.md'}  conclusion: {inv.run_dir / 'conclusion.json'}")
        if as_json:
            typer.echo(json.dumps(c, indent=2))


def _say_replayed(done, console, as_json: bool = False) -> None:
    """What :func:`_drive` says at the end of a run, for one copied from an identical earlier run (agent.replay),
    and how to compute it again."""
    console.print(f"[bold]{'Provisional conclusion' if done.provisional else 'Conclusion'}:[/] {done.summary}",
                  highlight=False)
    console.print(f"Report: {done.run_dir / 'report.md'}  conclusion: {done.run_dir / 'conclusion.json'}")
    console.print(f"Replayed from an identical earlier run ({done.source}): no input, setting, code or engine "
                  "version differs, so nothing was run again; add --fresh to compute it again.", highlight=False)
    if as_json:
        typer.echo(done.conclusion_text())


def _steer(inv, console) -> bool:
    """Run pausing at each steering point for commands; False if the user left (the run stays resumable)."""
    from .planner import COMMANDS_HELP

    console.print("Steering commands (empty line: continue; 'quit': leave, resumable):\n" + COMMANDS_HELP,
                  highlight=False)
    while True:
        v = inv.run(until="steer")
        for t in v.transcript[-6:]:
            console.print(f"[bold]{t['speaker']}:[/] {t['text']}", highlight=False)
        if not inv.next_steps:
            return True
        console.print(inv.board(), highlight=False)
        while True:
            line = typer.prompt("steer", default="", show_default=False).strip()
            if not line:
                break
            if line in ("quit", "exit"):
                console.print(f"Left; continue with `tierchem resume {inv.run_dir}`.")
                return False
            console.print(inv.ask(line), highlight=False)


if __name__ == "__main__":
    main()
