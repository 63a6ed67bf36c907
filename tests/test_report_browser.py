"""The HTML report in a real browser (Debian's headless Chromium): it renders, every image loads,
and the console stays clean. Skips where Chromium is not installed (apt-get install chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium); "
                                                         "the HTML report is not checked in a browser")

# Marks <html data-images="ok N"> once the page has loaded and every <img> decoded (else "broken: src...").
IMAGE_CHECK = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.alt || i.src).slice(0, 60));
  document.documentElement.setAttribute('data-images', bad.length ? 'broken: ' + bad.join(' | ') : 'ok ' + imgs.length);
});
</script>"""
CONSOLE_ERRORS = re.compile(r"Uncaught|ERROR:CONSOLE|CONSOLE\(\d+\)\].*(Error|error)|Failed to load resource")


def chromium(args: list[str], tmp: Path, timeout: float = 90) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--enable-logging=stderr", "--v=0", f"--user-data-dir={tmp / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """report.html of the example, from a cheap investigation (tier cap 1: MMFF94 and GAFF2)."""
    from tierchem import Investigation, example_path

    tmp = tmp_path_factory.mktemp("browser")
    example = example_path("dihalobenzenes")
    with Investigation.create(example, (example / "question.txt").read_text().strip(), tmp / "run", tier_cap=1,
                              store_path=tmp / "store.sqlite") as inv:
        inv.run()
        return inv.report("html")


def test_report_renders_with_images_and_no_console_errors(report, tmp_path):
    page = report.read_text()
    n_img = page.count("<img ")
    assert n_img >= 4 and "<script" not in page  # the report itself runs no script
    assert "src='figures/" not in page  # figures are embedded: the page can be forwarded alone

    shot = tmp_path / "report.png"
    run = chromium(["--window-size=1280,2400", f"--screenshot={shot}", report.as_uri()], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not CONSOLE_ERRORS.search(run.stderr), run.stderr[-2000:]
    if os.environ.get("TIERCHEM_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["TIERCHEM_REPORT_SCREENSHOT"])

    # the same page with a probe script: after load, every image decoded
    probe = report.with_name("report_probe.html")
    probe.write_text(page.replace("</body>", IMAGE_CHECK + "</body>"))
    run = chromium(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert f'data-images="ok {n_img}"' in dom, re.findall(r'data-images="[^"]*"', dom) or dom[:500]
    assert not CONSOLE_ERRORS.search(run.stderr), run.stderr[-2000:]
    conclusion = report.with_name("conclusion.json").read_text()
    import json

    summary = json.loads(conclusion)["summary"]
    assert "Conclusion" in dom and summary.split(";")[0][:60] in dom.replace("&amp;", "&").replace("&#x27;", "'")
    for section in ("Hypothesis board", "Evidence per tier", "Escalation path and costs", "Method details",
                    "References"):
        assert section in dom


# Crystal series for the report's crystal section: (source, rows of (CIF, SMILES, role), question).
CRYSTAL_SERIES = {
    "x23": ("x23_series", [("naphthalene", "c1ccc2ccccc2c1", "target"), ("benzene", "c1ccccc1", "analog")],
            "Why does naphthalene pack differently from benzene?"),
    # The public-domain COD structures (issue 14): paracetamol form I with its H-bonded chains, benzene I,
    # and the densest 1,1,2-trichloroethane polymorph with its type II C-Cl···Cl-C contacts.
    "cod": ("cod_series", [("paracetamol_formI_COD7105573_100K_noZtag", "CC(=O)Nc1ccc(O)cc1", "target"),
                           ("benzene_I_COD2100348_highP_296K", "c1ccccc1", "analog"),
                           ("112-trichloroethane_COD7103365", "ClCC(Cl)Cl", "analog")],
            "Why does paracetamol pack differently from benzene and 1,1,2-trichloroethane?"),
}


@pytest.fixture(scope="module", params=sorted(CRYSTAL_SERIES))
def crystal_report(request, tmp_path_factory) -> tuple[Path, list[str]]:
    """report.html of a series with CIFs, descriptors only (tier cap 0), and its members' names: the
    crystal step still draws each crystal's energy framework and the fingerprints side by side."""
    from tierchem import Investigation

    maker, rows, question = CRYSTAL_SERIES[request.param]
    tmp = tmp_path_factory.mktemp(f"browser_crystal_{request.param}")
    folder = request.getfixturevalue(maker)(tmp / "series", rows)
    with Investigation.create(folder, question, tmp / "run", tier_cap=0, store_path=tmp / "store.sqlite") as inv:
        inv.run()
        return inv.report("html"), [name for name, _, _ in rows]


@pytest.mark.slow  # ~90 s on 2 cores per series (a crystal investigation); the report's browser test stays in make test
def test_crystal_section_renders_frameworks_and_fingerprints(crystal_report, tmp_path):
    report, members = crystal_report
    page = report.read_text()
    for alt in [f"Energy framework of {m}" for m in members] + ["Hirshfeld surface fingerprints"]:
        assert f'alt="{alt}' in page or f"alt='{alt}" in page, alt
    assert "Hirshfeld surface contacts" in page and "in the packing of" in page
    probe = report.with_name("report_probe.html")
    probe.write_text(page.replace("</body>", IMAGE_CHECK + "</body>"))
    run = chromium(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f'data-images="ok {page.count("<img ")}"' in run.stdout, re.findall(r'data-images="[^"]*"', run.stdout)
    assert not CONSOLE_ERRORS.search(run.stderr), run.stderr[-2000:]


def test_console_check_catches_errors(tmp_path):
    """The console check is not vacuous: a page with a script error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>")
    run = chromium(["--dump-dom", "--virtual-time-budget=2000", bad.as_uri()], tmp_path)
    assert CONSOLE_ERRORS.search(run.stderr), run.stderr[-2000:]
