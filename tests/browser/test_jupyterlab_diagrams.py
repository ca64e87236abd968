"""The diagrams in a real browser: JupyterLab on 127.0.0.1, driven by Playwright with Debian's chromium.

A small notebook in a temp dir shows one lit diagram and the step-through widget; the test runs
both cells, checks JupyterLab's own Mermaid renderer drew them (no parse warning) with the lit step
styled, clicks Next, checks the highlight moved, and saves a screenshot under build/browser/.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers.config import PROJECT_ROOT
from helpers.diagrams import LIT_COLOUR

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "build" / "browser"
CHAPTER = PROJECT_ROOT / "notebooks" / "02_kubernetes_auth.ipynb"
RUN_ALL = f"run-all-{CHAPTER.name}"
TRUSTED = f"trusted-{CHAPTER.name}"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing: apt-get install -y chromium fonts-liberation"),
]

CELLS = [
    "from helpers import diagrams\n"
    "diagrams.show('kubernetes-auth-flow', 'token-review')",
    "from helpers.display import stepper\n"
    "stepper('kubernetes-auth-flow', {'jwt-mounted': '<b>JWT</b> mounted in the pod',\n"
    "                                 'auth-request': '<b>POST /auth</b> sent'})",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab serving a temp dir with the test notebook and the committed chapter, started as
    `make lab` starts it; yields (base url, token, notebook name, server log)."""
    root = tmp_path_factory.mktemp("lab-root")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(notebook, root / "diagrams.ipynb")
    shutil.copy(CHAPTER, root / CHAPTER.name)   # the committed chapter, as a learner opens it
    shutil.copy(CHAPTER, root / RUN_ALL)         # a copy to run: saving it must not touch the one above
    port, token = _free_port(), secrets.token_hex(16)
    state = tmp_path_factory.mktemp("lab-state")
    # No "get notified about Jupyter news?" toast over the screenshot (news_url=None stops the fetch only).
    notification = state / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text('{"fetchNews": "false", "checkForUpdates": false}')
    # Every cell stays in the DOM, so the widths of all outputs can be measured.
    tracker = state / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    # A copy signed as trusted, as if the learner had run and saved it: the widget is drawn from the
    # state the headless run stored in the notebook (no kernel has it yet).
    from nbformat.sign import NotebookNotary
    trusted = nbformat.read(CHAPTER, as_version=4)
    # Signatures are per content: an identical copy would make the untrusted chapter trusted too.
    trusted.metadata["workshop_test_copy"] = "trusted"
    (state / "data").mkdir(mode=0o700)
    NotebookNotary(data_dir=str(state / "data")).sign(trusted)
    nbformat.write(trusted, root / TRUSTED)
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
               # A data dir of its own: no notebook signature from elsewhere makes the chapter trusted.
               JUPYTER_DATA_DIR=str(state / "data"),
               JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(state / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
               MERMAID_INK_SERVER="http://127.0.0.1:9")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.port_retries=0", "--LabApp.news_url=None", "--allow-root",
           "--LabApp.expose_app_in_browser=True", "--KernelManager.transport=ipc",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(state / "jupyterlab.log", "wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{(state / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not answer within 60 s")
            time.sleep(0.25)
        yield base, token, "diagrams.ipynb", state / "jupyterlab.log"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _svg(img) -> str:
    return urllib.parse.unquote(img.get_attribute("src").split(",", 1)[1])


def _edge_style(svg: str, edge_id: str) -> str:
    tag = re.search(rf'<path [^>]*data-id="{re.escape(edge_id)}"[^>]*>', svg)
    assert tag, f"edge {edge_id} is not in the rendered SVG"
    style = re.search(r'style="([^"]*)"', tag.group(0))
    return style.group(1) if style else ""


def _run_all_cells(page, cells: int = len(CELLS), timeout: int = 60_000) -> None:
    """Run every cell with JupyterLab's own command (the app is exposed for tests), once the
    kernel reports Idle. A run asked for while the session is still being set up is dropped
    silently, so it is asked for again if no cell has started."""
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
                           timeout=60_000)
    page.wait_for_function("() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')"
                           "?.textContent || '')", timeout=60_000)
    started = rf"""() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
                         .filter(p => /\[[\d*]+\]/.test(p.textContent)).length >= {cells}"""
    for attempt in range(3):
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        try:
            page.wait_for_function(started, timeout=10_000)
            break
        except Exception:  # playwright's TimeoutError: the request was dropped, ask again
            if attempt == 2:
                raise
    page.wait_for_function(started.replace("[\\d*]+", "\\d+"), timeout=timeout, polling=1000)


@contextlib.contextmanager
def _jupyterlab_page(base: str, token: str, notebook: str, failure_shot: str, width: int = 1400):
    """Chromium on a JupyterLab notebook; yields (page, requests that left the machine). A failing
    test leaves a screenshot under build/browser/."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1800})
        try:
            off_box: list[str] = []
            page.on("request", lambda r: off_box.append(r.url) if not r.url.startswith(
                ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
            page.goto(f"{base}/lab/tree/{notebook}?token={token}&reset")
            page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=60_000)
            yield page, off_box
        except Exception:
            page.screenshot(path=str(SCREENSHOTS / failure_shot))
            raise
        finally:
            browser.close()


def test_lit_diagram_and_stepper_render_in_jupyterlab(jupyterlab):
    base, token, name, _ = jupyterlab
    with _jupyterlab_page(base, token, name, "failure.png") as (page, off_box):
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)
        _run_all_cells(page)

        # 1. the lit diagram, drawn by JupyterLab's own (offline) Mermaid renderer
        page.wait_for_selector(".jp-RenderedMermaid img", timeout=60_000)
        page.wait_for_selector(".workshop-stepper .jp-RenderedMermaid img", timeout=60_000)
        assert page.locator(".jp-RenderedMermaid.jp-mod-warning").count() == 0
        lit = _svg(page.locator(".jp-RenderedMermaid img").first)
        assert "flowchart-v2" in lit
        assert f"stroke:{LIT_COLOUR}" in _edge_style(lit, "token-review")
        assert LIT_COLOUR not in _edge_style(lit, "review-result")
        assert "stepLit" in lit

        # 2. the stepper starts on arrow 1 ...
        stepper_img = page.locator(".workshop-stepper .jp-RenderedMermaid img").first
        first = _svg(stepper_img)
        assert f"stroke:{LIT_COLOUR}" in _edge_style(first, "jwt-mounted")
        assert "JWT" in page.locator(".workshop-stepper").inner_text()

        # ... and Next moves the highlight to arrow 2
        page.get_by_role("button", name="Next").click()
        page.wait_for_function(
            """(colour) => {
                const img = document.querySelector('.workshop-stepper .jp-RenderedMermaid img');
                if (!img) return false;
                const svg = new DOMParser().parseFromString(
                    decodeURIComponent(img.src.split(',').slice(1).join(',')), 'image/svg+xml');
                const edge = svg.querySelector('path[data-id="auth-request"]');
                return !!edge && (edge.getAttribute('style') || '').includes(colour);
            }""", arg=LIT_COLOUR,
            timeout=30_000)
        page.wait_for_selector(".workshop-stepper .jp-RenderedMermaid img", timeout=30_000)
        moved = _svg(page.locator(".workshop-stepper .jp-RenderedMermaid img").first)
        assert f"stroke:{LIT_COLOUR}" in _edge_style(moved, "auth-request")
        assert LIT_COLOUR not in _edge_style(moved, "jwt-mounted")
        assert "#2e7d32" in _edge_style(moved, "jwt-mounted")          # arrow 1 is now done
        assert "Step 2/8: ESO → AuthMethod" in page.locator(".workshop-stepper").inner_text()
        assert "POST /auth" in page.locator(".workshop-stepper").inner_text()
        assert page.locator(".jp-RenderedMermaid.jp-mod-warning").count() == 0

        page.locator(".workshop-stepper").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "stepper.png"), full_page=False)
        page.locator(".workshop-stepper").screenshot(path=str(SCREENSHOTS / "stepper-widget.png"))
        assert not [u for u in off_box if "mermaid" in u], off_box


WIDE_OUTPUTS = """() => {
    const notebook = document.querySelector('.jp-NotebookPanel .jp-Notebook');
    const right = notebook.getBoundingClientRect().right;
    return [...notebook.querySelectorAll('.jp-OutputArea-output')].map((o, i) => ({
        cell: [...notebook.querySelectorAll('.jp-Cell')].indexOf(o.closest('.jp-Cell')),
        width: o.scrollWidth, room: o.clientWidth, right: Math.round(o.getBoundingClientRect().right)
    })).filter(o => o.width > o.room + 1 || o.right > right + 1);
}"""


def _diagram_outputs(nb) -> int:
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if {"text/vnd.mermaid", "image/png"} & set(o.get("data", {})))


def _untrusted_checks(page, expected: int) -> None:
    drawn = ".jp-NotebookPanel .jp-RenderedMermaid img, .jp-NotebookPanel .jp-RenderedImage img"
    page.wait_for_function(f"() => [...document.querySelectorAll({drawn!r})].filter(i => i.naturalWidth > 0)"
                           f".length >= {expected}", timeout=60_000)
    assert page.locator(".jp-RenderedMermaid.jp-mod-warning").count() == 0
    assert page.locator(".jp-NotebookPanel .jp-RenderedSVG").count() == 0          # untrusted SVG is not drawn
    text = page.locator(".jp-NotebookPanel").inner_text()
    assert "VBox(" not in text and "Error displaying widget" not in text
    assert page.locator(".jp-NotebookPanel ol.workshop-steps > li").count() == 8     # the step-through, as steps
    page.wait_for_timeout(2000)                                # a renderer rewriting an output marks the tab
    assert page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0, "the notebook is marked unsaved on open"


def test_committed_chapter_reads_well_untrusted(jupyterlab):
    """The chapter as committed, opened before running anything (untrusted), then reloaded: every
    diagram drawn as an image, the step-through's fallback readable, no widget error, not marked
    unsaved, nothing wider than the notebook, no request off the machine."""
    base, token, _, _ = jupyterlab
    nb = nbformat.read(CHAPTER, as_version=4)
    expected = _diagram_outputs(nb)
    assert expected >= 9
    with _jupyterlab_page(base, token, CHAPTER.name, "chapter-failure.png", width=1280) as (page, off_box):
        _untrusted_checks(page, expected)
        assert page.evaluate(WIDE_OUTPUTS) == []
        page.locator(".jp-NotebookPanel ol.workshop-steps").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "chapter-untrusted-stepper.png"), full_page=False)
        page.reload()
        page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=60_000)
        _untrusted_checks(page, expected)
        page.locator(".jp-NotebookPanel .jp-CodeCell").nth(3).scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "chapter-untrusted.png"), full_page=False)
        assert not off_box, off_box


def test_trusted_chapter_draws_the_step_through_from_its_saved_state(jupyterlab):
    """Opened trusted before any cell ran: the step-through widget comes back from the widget state
    the headless run stored, instead of "Error displaying widget: model not found"."""
    base, token, _, _ = jupyterlab
    with _jupyterlab_page(base, token, TRUSTED, "trusted-failure.png", width=1280) as (page, _):
        page.wait_for_selector(".jp-NotebookPanel .workshop-stepper", timeout=60_000)
        stepper = page.locator(".jp-NotebookPanel .workshop-stepper")
        assert "Step 1/8" in stepper.inner_text()
        assert page.locator(".jp-NotebookPanel ol.workshop-steps").count() == 0     # the widget, not its fallback
        assert "Error displaying widget" not in page.locator(".jp-NotebookPanel").inner_text()
        stepper.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "chapter-trusted-stepper.png"), full_page=False)


@pytest.mark.timeout(600)
def test_chapter_run_all_fits_the_notebook_at_1280_px(jupyterlab):
    """Run All on the chapter in JupyterLab at 1280 px: no output is wider than the notebook panel
    (tokens and long values wrap), and the kernel runs without the TCP warning."""
    base, token, _, log = jupyterlab
    with _jupyterlab_page(base, token, RUN_ALL, "chapter-run-failure.png", width=1280) as (page, _):
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=60_000)
        _run_all_cells(page, page.locator(".jp-NotebookPanel .jp-CodeCell").count(), timeout=480_000)
        page.wait_for_function("() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')"
                               "?.textContent || '')", timeout=120_000)
        assert page.locator(".jp-NotebookPanel .jp-OutputArea-output[data-mime-type*='error']").count() == 0
        page.wait_for_timeout(1500)
        wide = page.evaluate(WIDE_OUTPUTS)
        widths = page.evaluate("""() => [document.querySelector('.jp-NotebookPanel .jp-Notebook').clientWidth,
            Math.max(...[...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')].map(o => o.scrollWidth))]""")
        print(f"notebook {widths[0]} px wide; widest output {widths[1]} px; wider than their room: {wide}")
        assert wide == [], wide
        page.locator(".jp-NotebookPanel .jp-CodeCell").nth(20).scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "chapter-run-all-1280.png"), full_page=False)
    assert "without encryption" not in log.read_text()
