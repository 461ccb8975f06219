"""The scoreboard's targets: which rows they apply to and when they are met."""

import pytest

from common.judge.targets import EDIT_TARGETS, edit_target_rows, family, model_target_rows


def _score(method, edit, strength, success, identity=0.05, after=12.0, before=10.0):
    return {"method": method, "edit": edit, "strength": strength, "success": success,
            "identity change": identity, "realism (FD)": after, "realism before (FD)": before}


def test_families_match_by_name_and_leave_the_others_out():
    assert family("Glow (64x64)") == "Glow" and family("VAE") == "VAE" and family("DFC-VAE") == "DFC-VAE"
    assert family("beta-VAE") is None and family("PGGAN + SeFa") is None and family("PCA baseline") is None


def test_edit_targets_read_the_right_figure_at_the_right_strength():
    rows = edit_target_rows([_score("VAE", "smile", 1.0, 0.90), _score("VAE", "smile", 2.0, 0.94),
                             _score("beta-VAE", "smile", 1.0, 0.10), _score("Glow (64x64)", "pose", 1.0, 0.5, 0.3)])
    found = {(r["method"], r["target"]): r for r in rows}
    assert found["VAE", "smile success, strength 1"]["met"] == "yes"
    assert found["VAE", "smile success, strength 2"]["met"] == "NO"          # 0.94 < 0.95
    assert found["VAE", "smile-edited FD / unedited FD"]["measured"] == pytest.approx(1.2)
    assert found["Glow (64x64)", "pose success, strength 1"]["met"] == "NO"
    assert found["Glow (64x64)", "pose identity change (data SD)"]["met"] == "NO"   # 0.3 > 0.2
    assert not any(r["method"] == "beta-VAE" for r in rows)
    assert ("VAE", "smile identity change (data SD)") in found and len(EDIT_TARGETS) == 8


def test_model_targets_take_the_largest_frequency_gap():
    metrics = {"frechet": 14.0, "sample/Male": 0.55, "data/Male": 0.46, "sample/Young": 0.70, "data/Young": 0.74}
    vae, frechet, frequency = model_target_rows(0.0035, metrics)
    assert vae["met"] == "yes" and frechet["met"] == "yes"
    assert frequency["measured"] == pytest.approx(0.09) and frequency["met"] == "NO"
