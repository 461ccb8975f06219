"""A real browser drags a slider: JupyterLab on 127.0.0.1, Debian's Chromium driven by
Playwright. It opens notebook 00, runs all cells, drags the EditPanel's first slider
(Smiling) to its end with the keyboard and checks that the readout changed and that the
face changed where the mouth is, more than elsewhere; the screenshots are kept in
``runs/browser/``."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "runs" / "browser"
NOTEBOOK = "00_synthfaces_data.ipynb"
# Notebook 00's panel starts on faces.images(range(100, 132))[0]: training face 100 of
# face_data("train", n=2_000, seed=0) in quick mode.
PANEL_FACE = {"split": "train", "n": 2_000, "seed": 0, "index": 100}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str:
    """``FES_CHROMIUM`` (any Chromium-based browser, as the GitHub workflow sets), else ``chromium``."""
    path = os.environ.get("FES_CHROMIUM") or shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs it with apt-get (or set FES_CHROMIUM)")
        pytest.skip("chromium not installed (apt-get install chromium, or set FES_CHROMIUM)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of notebook 00; yields its base URL
    and token."""
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / NOTEBOOK)
    port, token = _free_port(), secrets.token_hex(16)
    # JupyterLab 4 renders only the cells in view; render them all so the panel exists.
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = {**os.environ, "FES_QUICK": "1", "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log = open(tmp_path / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _mouth_region() -> tuple[np.ndarray, np.ndarray]:
    """The panel's face ``[64,64,3]`` in [0,1], and ``[64,64]`` bool: where it changes when its
    smile goes from frown (-1) to broad smile (+1), grown by 2 px."""
    import torch

    from common.data import SynthFaces, changed_region
    from common.images import to_uint8

    faces = SynthFaces(n=PANEL_FACE["n"], size=64, seed=PANEL_FACE["seed"], split=PANEL_FACE["split"], cache=False)
    factors = faces.factors[PANEL_FACE["index"]]
    changed = changed_region(factors, "smile", -1.0, 1.0).float()
    grown = torch.nn.functional.max_pool2d(changed[None, None], 5, stride=1, padding=2)[0, 0] > 0
    face = to_uint8(faces.images([PANEL_FACE["index"]]))[0].astype(np.float32) / 255
    return face, grown.numpy()


def _pixels(png: bytes) -> np.ndarray:
    """A screenshot of the panel's image, back to ``[64,64,3]`` in [0,1]."""
    import io

    picture = Image.open(io.BytesIO(png)).convert("RGB").resize((64, 64), Image.BOX)
    return np.asarray(picture, dtype=np.float32) / 255


def test_a_real_browser_drags_smiling_and_the_mouth_changes(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token = jupyterlab
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        page.locator(".jp-Notebook").wait_for(timeout=60_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
        for attempt in range(3):  # a Run All sent while the kernel still connects can be dropped
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
            try:
                page.locator(".jp-InputPrompt", has_text="[1]:").wait_for(timeout=20_000)
                break
            except Exception:
                if attempt == 2:
                    raise
        panel = page.locator(".fes-edit-panel")
        try:
            panel.wait_for(timeout=180_000)
        except Exception:
            page.screenshot(path=str(SHOTS / "failure.png"), full_page=True)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            pytest.fail("no EditPanel appeared; stderr outputs: "
                        + " | ".join(errors.all_inner_texts())[-2000:] + f"; screenshot in {SHOTS}")
        panel.scroll_into_view_if_needed()
        image = panel.locator("img").first
        readout = panel.locator(".widget-readout").first
        page.wait_for_function("img => img.src.startsWith('blob:')", arg=image.element_handle())
        src_before, readout_before = image.get_attribute("src"), readout.inner_text()
        before = image.screenshot(path=str(SHOTS / "face_before.png"))
        handle = panel.locator(".noUi-handle").first
        handle.focus()
        handle.press("End")               # noUiSlider: the slider's maximum
        page.wait_for_function("([img, src]) => img.src !== src", arg=[image.element_handle(), src_before],
                               timeout=20_000)
        page.wait_for_timeout(1500)       # the full-quality image follows once the slider rests
        assert readout.inner_text() != readout_before
        after = image.screenshot(path=str(SHOTS / "face_after.png"))
        panel.screenshot(path=str(SHOTS / "edit_panel.png"))
        browser.close()
    face, mouth = _mouth_region()
    shown_before, shown_after = _pixels(before), _pixels(after)
    likeness = np.corrcoef(face.ravel(), shown_before.ravel())[0, 1]
    assert likeness > 0.8, f"the panel does not show {PANEL_FACE} (correlation {likeness:.2f}): update PANEL_FACE"
    change = np.abs(shown_after - shown_before).mean(2)
    inside, outside = change[mouth].mean(), change[~mouth].mean()
    print(f"mean change: mouth region ({mouth.sum()} px) {inside:.3f}, elsewhere {outside:.3f}")
    assert inside > 0.05, f"the mouth barely changed ({inside:.3f}); screenshots in {SHOTS}"
    assert inside > 2 * outside, f"the mouth changed no more than the rest ({inside:.3f} vs {outside:.3f})"
