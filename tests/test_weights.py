import hashlib
import json

import pytest
import torch
from torch import nn

from common.weights import (Download, DownloadError, Record, WeightsError, fetch, load_foreign_pth,
                            load_weights, manifest_config, read_manifest, save_weights)


def _item(tmp_path, url, content):
    return Download("model.pth", (url,), hashlib.sha256(content).hexdigest(), tmp_path / "dest" / "model.pth",
                    "ask the authors")


def test_download_good_file(http_server, tmp_path):
    folder, base = http_server
    content = b"weights" * 1000
    (folder / "good.pth").write_bytes(content)
    item = _item(tmp_path, f"{base}/good.pth", content)
    assert fetch(item).read_bytes() == content
    assert fetch(item, getter=lambda *a: pytest.fail("downloaded again")) == item.destination
    assert sorted(p.name for p in item.destination.parent.iterdir()) == ["model.pth"]


def test_download_with_wrong_sha256_leaves_nothing(http_server, tmp_path):
    folder, base = http_server
    (folder / "other.pth").write_bytes(b"something else")
    item = _item(tmp_path, f"{base}/other.pth", b"the real thing")
    with pytest.raises(DownloadError, match=r"(?s)sha256 .* is not the expected.*by hand: ask the authors.*model.pth"):
        fetch(item)
    assert list(item.destination.parent.iterdir()) == []


def test_download_404_is_a_clear_error(http_server, tmp_path):
    _, base = http_server
    item = _item(tmp_path, f"{base}/missing.pth", b"x")
    with pytest.raises(DownloadError, match=r"(?s)could not download model.pth.*404.*put it at"):
        fetch(item)
    assert not item.destination.exists()


class Tiny(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.layer = nn.Linear(3, width)
        self.register_buffer("steps", torch.tensor(7))


def test_save_and_load_round_trip_with_manifest(tmp_path):
    model = Tiny()
    save_weights(model, "tiny.safetensors", Record("python -m train tiny", {"loss": 0.5}),
                 folder=tmp_path)
    entry = read_manifest(tmp_path)["tiny.safetensors"]
    assert entry["command"] == "python -m train tiny" and entry["metrics"] == {"loss": 0.5}
    fresh = Tiny()
    assert load_weights(fresh, "tiny.safetensors", folder=tmp_path)["sha256"] == entry["sha256"]
    assert torch.allclose(fresh.layer.weight, model.layer.weight, atol=1e-3)  # stored as fp16
    assert fresh.layer.weight.dtype == torch.float32 and fresh.steps.item() == 7
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_damaged_missing_or_foreign_weights_are_explained(tmp_path):
    save_weights(Tiny(), "tiny.safetensors", Record("make tiny", {}), folder=tmp_path)
    path = tmp_path / "tiny.safetensors"
    with pytest.raises(WeightsError, match="does not fit Tiny"):
        load_weights(Tiny(width=5), "tiny.safetensors", folder=tmp_path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(WeightsError, match=r"truncated or modified.*make tiny"):
        load_weights(Tiny(), "tiny.safetensors", folder=tmp_path)
    path.unlink()
    with pytest.raises(WeightsError, match="missing"):
        load_weights(Tiny(), "tiny.safetensors", folder=tmp_path)
    with pytest.raises(WeightsError, match="not in"):
        load_weights(Tiny(), "other.safetensors", folder=tmp_path)


def test_foreign_pth_loads_safely_and_damage_is_explained(tmp_path):
    path = tmp_path / "state.pth"
    torch.save({"w": torch.ones(2)}, path)
    assert torch.equal(load_foreign_pth(path)["w"], torch.ones(2))
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(WeightsError, match="could not be loaded"):
        load_foreign_pth(path)
    with pytest.raises(WeightsError, match="does not exist"):
        load_foreign_pth(tmp_path / "nope.pth")


def test_the_manifest_keeps_model_train_and_data_apart_and_the_model_block_rebuilds_the_config(tmp_path):
    from common.models.vae import VAE, VAEConfig, config_dict

    config = VAEConfig(kind="beta_h", beta=6.0, latent_dim=16)
    record = Record("python -m common.train dfc", {"pixel_mse": 0.01}, model=config_dict(config),
                    train={"steps": 5, "loss": "dfc", "beta": 0.5}, data={"name": "synth"})
    save_weights(VAE(config), "v.safetensors", record, folder=tmp_path)
    entry = read_manifest(tmp_path)["v.safetensors"]
    assert set(entry) == {"sha256", "bytes", "command", "metrics", "model", "train", "data"}
    assert manifest_config("v.safetensors", VAEConfig, tmp_path) == config   # the loss's beta stays in train
    entry["model"]["width"] = 3
    (tmp_path / "manifest.json").write_text(json.dumps({"v.safetensors": entry}))
    with pytest.raises(WeightsError, match="model block for v.safetensors does not fit VAEConfig"):
        manifest_config("v.safetensors", VAEConfig, tmp_path)
