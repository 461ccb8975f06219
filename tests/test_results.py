"""Measured figures are generated, never typed: docs/RESULTS.md and the README's verdict
table are exactly what `make results` writes from the manifest and notebook 05's results."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from common.results import RESULTS_JSON, markers, results_path, save_results, verdict_rows, with_block

ROOT = Path(__file__).resolve().parents[1]


def test_readme_and_results_page_are_what_make_results_writes():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "results.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_results_come_from_a_full_synthfaces_run_of_every_method():
    saved = json.loads(RESULTS_JSON.read_text())
    assert saved["data"] == "synth"
    methods = {row["method"] for row in saved["tables"]["scoreboard"]}
    for family in ("VAE", "DFC-VAE", "Glow", "PGGAN + InterFaceGAN", "Renderer (truth)"):
        assert any(method.startswith(family) for method in methods), family
    assert len({row["method"] for row in verdict_rows(saved)}) == len(methods)


def scoreboard(method: str, at_1: float, at_2: float) -> list[dict]:
    figures = {"identity change": 0.1, "realism (FD)": 20.0, "realism before (FD)": 10.0}
    return [{"method": method, "edit": "smile", "strength": s, "success": value, **figures}
            for s, value in ((1.0, at_1), (2.0, at_2))]


def test_the_verdict_follows_the_smile_targets():
    table = scoreboard("a", 0.9, 0.97) + scoreboard("b", 0.3, 0.6) + scoreboard("c", 0.1, 0.2) + scoreboard("d", 0.9, 0.9)
    rows = verdict_rows({"tables": {"scoreboard": table}})
    assert [row["smiles at +2?"] for row in rows] == ["yes", "partly", "no", "partly"]
    assert rows[0]["FD edited / unedited"] == pytest.approx(2.0)


def test_a_quick_or_celeba_run_leaves_the_published_results_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    assert results_path(quick=False, data="synth") == RESULTS_JSON
    for quick, data in ((True, "synth"), (False, "celeba")):
        path = save_results({"scoreboard": [{"method": "m", "success": float("nan")}]}, data=data, device="CPU",
                            quick=quick)
        assert path.parent == tmp_path / "results"
        assert json.loads(path.read_text())["tables"]["scoreboard"][0]["success"] is None


def test_a_generated_block_goes_between_its_markers_and_nowhere_else():
    start, end = markers("verdict")
    readme = f"intro\n{start}\nold table\n{end}\nrest\n"
    assert with_block(readme, "verdict", "new") == f"intro\n{start}\nnew\n{end}\nrest\n"
    with pytest.raises(ValueError, match="no verdict markers"):
        with_block("a README without them", "verdict", "new")
