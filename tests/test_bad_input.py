"""The bad-input corpus: every case through the command line exits non-zero with one line that names
the problem, and no traceback. In-process (typer's CliRunner) so that 60 cases take seconds; the
console script's own last-resort handler is checked in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierchem.agent.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
WATER = "O 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
FILES = {
    "water.xyz": "3\nwater\n" + WATER,
    "dimer.xyz": "6\nwater dimer\n" + WATER + "O 3 0 0\nH 3.96 0 0\nH 2.76 0.93 0\n",
    "coincident.xyz": "3\n\nC 0 0 0\nC 0 0 0\nH 1.09 0 0\n",
    "short.xyz": "5\n\nO 0 0 0\nH 0.96 0 0\n",
    "letters.xyz": "1\n\nC zero 0 0\n",
    "element.xyz": "1\n\nQq 0 0 0\n",
    "header.xyz": "three\n\nC 0 0 0\n",
    "molecule.pdb": "ATOM\n",
    "empty.sdf": "garbage\n",
    "no_target.csv": "name,smiles,role\na,CCO,analog\nb,CCC,analog\n",
    "a_file": "not a folder\n",
}
NO_DIR = "/proc/tierchem-no-such-store"  # mkdir fails here, even for root
SERIES = str(REPO / "examples" / "dihalobenzenes")

# (arguments with {d} for the scratch folder, text the one error line must contain)
CASES = [
    # SMILES
    (["calc", "energy", "-s", "C1CC"], "unclosed ring"),
    (["calc", "energy", "-s", "C(C)(C)(C)(C)C"], "valence"),
    (["calc", "energy", "-s", "[Xx]"], "unknown element"),
    (["calc", "energy", "-s", "CC.O"], "disconnected fragments"),
    (["calc", "energy", "-s", "[CH3]"], "multiplicity"),
    (["calc", "energy", "-s", ""], "empty SMILES"),
    (["calc", "energy", "-s", "C(C"], "unbalanced parentheses"),
    (["calc", "energy", "-s", "C*"], "dummy atom"),
    (["calc", "energy", "-s", "C", "--multiplicity", "2"], "multiplicity 2 is impossible"),
    (["calc", "energy", "-s", "C", "--multiplicity", "0"], "multiplicity 0 is impossible"),
    (["calc", "energy", "-s", "[U]", "--tier", "dft"], "uranium (U, Z = 92) is beyond radon"),
    (["calc", "energy", "-s", "[Og]"], "beyond radon"),
    # levels, tasks, methods
    (["calc", "energy", "-s", "C", "--tier", "9"], "tier must be 0-4"),
    (["calc", "energy", "-s", "C", "--tier", "nine"], "unknown level 'nine'"),
    (["calc", "dance", "-s", "C"], "unknown task"),
    (["calc", "esp", "-s", "C", "--tier", "xtb"], "cannot run task 'esp'"),
    (["calc", "energy", "-s", "C", "--method", "B3LYP"], "does not offer method 'B3LYP'"),
    (["calc", "interaction_energy", "-s", "C"], "exactly two fragments"),
    (["calc", "interaction_energy", "-s", "C", "-s", "C", "-s", "C"], "exactly two fragments"),
    (["calc", "energy"], "give a molecule"),
    # files
    (["calc", "energy", "-f", "{d}/missing.xyz"], "no such file"),
    (["calc", "energy", "-f", "{d}/coincident.xyz", "--tier", "xtb"], "coincident atoms"),
    (["calc", "interaction_energy", "-f", "{d}/coincident.xyz"], "coincident atoms"),
    (["calc", "energy", "-f", "{d}/short.xyz"], "header says 5 atoms"),
    (["calc", "energy", "-f", "{d}/letters.xyz"], "coordinates are not numbers"),
    (["calc", "energy", "-f", "{d}/element.xyz"], "unknown element 'Qq'"),
    (["calc", "energy", "-f", "{d}/header.xyz"], "number of atoms"),
    (["calc", "energy", "-f", "{d}/molecule.pdb"], "unsupported file type"),
    (["calc", "energy", "-f", "{d}/empty.sdf"], "could not be read"),
    # charges
    (["calc", "energy", "-f", "{d}/water.xyz", "--charge", "1"], "neutral molecule (H2O)"),
    (["calc", "interaction_energy", "-f", "{d}/dimer.xyz", "--charge", "1"], "--fragment-charges 1,0"),
    (["calc", "interaction_energy", "-f", "{d}/dimer.xyz", "--fragment-charges", "1,0,0"],
     "2 fragments but 3 fragment charges"),
    (["calc", "interaction_energy", "-f", "{d}/dimer.xyz", "--fragment-charges", "one,zero"], "integers"),
    # lattice energies need a cell
    (["calc", "lattice_energy", "-f", "{d}/water.xyz", "--tier", "xtb"], "give --file CRYSTAL.cif"),
    (["calc", "lattice_energy", "-s", "O"], "a SMILES has no unit cell"),
    # engine keywords
    (["calc", "energy", "-s", "O", "--tier", "xtb", "-k", "frobnicate=1"], "unknown keyword 'frobnicate'"),
    (["calc", "energy", "-s", "O", "--tier", "xtb", "-k", "frobnicate=1"], "accepts: accuracy"),
    (["calc", "energy", "-s", "O", "--tier", "dft", "-k", "conv_tl=1e-8"], "conv_tol"),
    (["calc", "md", "-s", "O", "--tier", "classical", "-k", "stepz=10"], "unknown keyword 'stepz'"),
    (["calc", "optimize", "-s", "O", "-k", "max_step=10"], "max_steps"),
    (["calc", "energy", "-s", "O", "-k", "gradient"], "not KEY=VALUE"),
    # the store
    (["calc", "energy", "-s", "O", "--cache-dir", NO_DIR], "cannot use the result store"),
    (["calc", "energy", "-s", "O", "--cache-dir", "{d}/a_file/sub"], "writable folder"),
    (["cache", "info", "--cache-dir", NO_DIR], "cannot use the result store"),
    (["cache", "export", "zz"], "is not a result key"),
    (["cache", "export", "abc123"], "no stored result"),
    # batch and benchmark
    (["batch", "{d}/missing.csv"], "missing.csv"),
    (["batch", "{d}/water.xyz", "--task", "dance"], "unknown task"),
    (["benchmark", "x41"], "unknown dimer dataset"),
    (["benchmark", "x40", "--subset", "nosuch"], "has no system named nosuch"),
    (["benchmark", "s22", "--tier", "nine"], "unknown level"),
    (["benchmark", "x40", "--data", "{d}/nowhere"], "under the refdata folder"),
    # investigations
    (["investigate", "{d}/missing", "-q", "Why?", "--run-dir", "{d}/r1"], "no such file"),
    (["investigate", SERIES, "-q", "", "--run-dir", "{d}/r2"], "the question is empty"),
    (["investigate", SERIES, "-q", "   ", "--run-dir", "{d}/r3"], "the question is empty"),
    (["investigate", "{d}/no_target.csv", "-q", "Why?", "--run-dir", "{d}/r4"], "target"),
    (["investigate", SERIES, "-q", "Why?", "--run-dir", "{d}/r5", "--llm", "openai:gpt-4o"], "OPENAI_API_KEY"),
    (["investigate", SERIES, "-q", "Why?", "--run-dir", "{d}/r6", "--llm", "anthropic:claude-3-5-haiku"],
     "ANTHROPIC_API_KEY"),
    (["investigate", SERIES, "-q", "Why?", "--run-dir", "{d}/r7", "--llm", "bogus:model"], "unknown LLM"),
    (["investigate", SERIES, "-q", "Why?", "--run-dir", "{d}/r8", "--store", "{d}/s.sqlite", "--cache-dir",
      "{d}/c"], "not both"),
    (["investigate", SERIES, "-q", "Why?", "--run-dir", "{d}/r9", "--cache-dir", NO_DIR],
     "cannot use the result store"),
    (["resume", "{d}/nowhere"], "not an investigation"),
    (["report", "{d}/nowhere"], "not an investigation"),
    (["report", "{d}/nowhere", "--format", "pdf"], "unknown format 'pdf'"),
    (["demo", "{d}/a", "--run-dir", "{d}/b"], "two run directories"),
]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    for name, text in FILES.items():
        (d / name).write_text(text)
    return d


def test_the_corpus_is_large():
    assert len(CASES) >= 50


@pytest.mark.parametrize("args, message", CASES, ids=[f"{k:02d}-{a[0]}-{m[:24]}" for k, (a, m) in enumerate(CASES)])
def test_bad_input_is_one_line_naming_the_problem(args, message, scratch, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("TIERCHEM_LLM", raising=False)
    r = runner.invoke(app, [a.format(d=scratch) for a in args])
    assert r.exit_code != 0, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1 and len(lines) == 1, r.output
    assert message in errors[0], errors[0]


def test_the_console_script_answers_an_unforeseen_failure_in_one_line(tmp_path):
    """Beyond the corpus: whatever escapes a command is one line (``-v`` gives the traceback)."""
    code = ("import sys; from tierchem.agent import cli\n"
            "@cli.app.command('boom')\n"
            "def boom():\n    raise RuntimeError('engine exploded\\nwith detail')\n"
            "sys.argv = ['tierchem'] + sys.argv[1:]; cli.main()")
    r = subprocess.run([sys.executable, "-c", code, "boom"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["error: RuntimeError: engine exploded with detail (run with -v "
                                             "for the traceback)"]
    r = subprocess.run([sys.executable, "-c", code, "-v", "boom"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" in r.stderr
