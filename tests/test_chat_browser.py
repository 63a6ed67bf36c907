"""The notebook chat in JupyterLab in a real browser (Debian's headless Chromium, driven by Playwright).

Starts JupyterLab on 127.0.0.1 with a token in a temporary folder, opens the guided notebook, runs all
its cells, then talks to the section-5 chat as a scientist would: a message sent after Run All (when a
later cell has closed the investigation) is answered, visible, and shows how it was understood; a
"Next steering point" click finishes with the buttons usable again; the 3-D viewers load 3Dmol.js
without the network. The browser reaches nothing beyond 127.0.0.1. Skips where Chromium, JupyterLab or
Playwright is absent."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium); "
                                                         "the chat is not tried in a browser")
pytest.importorskip("jupyterlab", reason="JupyterLab not installed (pip install 'tierchem[notebook]')")
pytest.importorskip("ipykernel", reason="ipykernel is needed to run the notebook")
pytest.importorskip("ipywidgets", reason="ipywidgets is needed for the chat")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright not installed (pip install playwright)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of the guided notebook; its URL and token."""
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / "guided_investigation.ipynb", as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "guided.ipynb")  # with its kernel named: no "Select Kernel" dialog
    settings = tmp_path / "lab" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)  # every cell in the page (no windowing), so the test can find the chat
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), uuid.uuid4().hex
    env = {**os.environ, "TIERCHEM_NOTEBOOK_RUNS": str(tmp_path / "runs"), "TIERCHEM_NOTEBOOK_FULL": "0",
           "OMP_NUM_THREADS": "2", "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
           "--allow-root", "--ServerApp.terminals_enabled=False",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield url, token, tmp_path
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """End the server and the kernels it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            if sig == signal.SIGTERM:
                os.killpg(proc.pid, signal.SIGKILL)  # a kernel left behind in the group
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break
    proc.poll()


def _local_only(route):
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


@pytest.mark.slow  # ~100 s on 2 cores (a whole run in the browser); the report's browser test stays in make test
def test_chat_after_run_all_answers_and_shows_the_reading(lab):
    url, token, tmp = lab
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", _local_only)
            page.goto(f"{url}/lab/tree/guided.ipynb?token={token}", timeout=30_000)
            page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')",
                                   timeout=30_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
            try:  # JupyterLab may still ask for the kernel: take the default (Python 3)
                page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=8_000)
            except sync_api.TimeoutError:
                pass
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            # the last cell reopens the run directory and prints the transcript's length
            try:
                page.wait_for_function(
                    "[...document.querySelectorAll('.jp-OutputArea-output')]"
                    ".some(o => /transcript lines: \\d+/.test(o.innerText))",
                    timeout=300_000, polling=500)  # a whole tier-2 investigation runs first
            except sync_api.TimeoutError:
                page.screenshot(path=os.environ.get("TIERCHEM_CHAT_DEBUG", str(tmp / "run-all.png")))
                raise
            text = page.inner_text(".jp-Notebook")
            assert "Traceback" not in text and "Error" not in text.replace("error: ", ""), text[-3000:]
            assert "<py3Dmol.view" not in text and "py3Dmol.view at" not in text
            assert "Undetermined so far" in text or "Root cause" in text  # an answer, or what it needs

            chat = page.locator(".tierchem-chat")
            assert chat.count() == 1, text[text.find("5. The chat widget"):][:1500]
            status = chat.locator(".widget-html").first
            assert "running" not in status.inner_text()  # the step in cell 14 ended: not stuck
            step = chat.get_by_role("button", name="Next steering point")
            assert step.is_enabled()

            # a question in the scientist's words, after Run All closed the notebook's investigation
            box = chat.locator("input[type='text']")
            box.fill("how sure are you about the halogen bond?")
            chat.get_by_role("button", name="Send").click()
            log = chat.locator(".tc-chat")
            page.wait_for_function("document.querySelector('.tc-chat').innerText.includes('how sure are you')",
                                   timeout=15_000)
            last = log.locator(".tc-msg").last
            page.wait_for_function(
                "[...document.querySelectorAll('.tc-chat .tc-msg')].pop().innerText.includes('tierchem')",
                timeout=15_000)
            said = log.inner_text()
            assert "closed database" not in said and "could not" not in said.lower(), said[-2000:]
            assert "halogen_bond" in last.inner_text()
            assert log.locator(".tc-understood").count() >= 1  # how each message was understood
            assert log.locator(".tc-scientist").count() >= 1 and log.locator(".tc-agent").count() >= 1
            # the reply is scrolled into view inside the conversation box
            box_rect, last_rect = log.bounding_box(), last.bounding_box()
            assert last_rect["y"] + last_rect["height"] <= box_rect["y"] + box_rect["height"] + 2
            assert last_rect["y"] + last_rect["height"] > box_rect["y"]

            # a request, then a step from the button: it ends, and the buttons come back
            box.fill("reject shape_sterics the shapes are alike")
            chat.get_by_role("button", name="Send").click()
            page.wait_for_function("document.querySelector('.tc-chat').innerText.includes('Queued')", timeout=15_000)
            before = log.locator(".tc-agent").count()
            step.click()
            # the step must really run: the request is honoured (a new agent line) and the buttons come back
            page.wait_for_function(
                "(n) => { const b = [...document.querySelectorAll('.tierchem-chat button')]"
                ".find(x => x.innerText.includes('Next steering point'));"
                " const s = document.querySelector('.tierchem-chat .widget-html').innerText;"
                " return document.querySelectorAll('.tc-chat .tc-agent').length > n"
                " && document.querySelector('.tc-chat').innerText.includes('Rejected shape_sterics')"
                " && b && !b.disabled && !s.includes('running'); }", arg=before, timeout=300_000, polling=500)
            # (the rejection is waited for itself: a progress line and a not-yet-disabled button once passed
            # the wait before the step had honoured the request, under load)
            assert "Rejected shape_sterics" in log.inner_text()
            assert "closed database" not in log.inner_text()
            # the 3-D viewers loaded the shipped 3Dmol.js with no network (their waiting note is gone)
            assert page.locator("[id^='3dmolviewer_']").count() >= 2
            page.wait_for_function("!document.querySelector('.jp-Notebook').innerText.includes('waiting for 3Dmol.js')",
                                   timeout=10_000)
            if os.environ.get("TIERCHEM_CHAT_SCREENSHOT"):
                chat.screenshot(path=os.environ["TIERCHEM_CHAT_SCREENSHOT"])
        finally:
            browser.close()
