import json

import numpy as np
import pytest
import torch

from common.models.pggan import PGGANConfig, PGGANGenerator
from common.weights.interfacegan import load_interfacegan_boundaries
from common.weights import WeightsError

TINY = PGGANConfig(latent_dim=64, resolution=16, channels=(64, 32, 16))


def _load(folder, name):
    return torch.load(folder / "interfacegan_pggan" / name, weights_only=True, map_location="cpu")


@pytest.fixture(scope="module")
def tiny(fixtures):
    generator = PGGANGenerator(TINY)
    generator.load_state_dict(_load(fixtures, "pggan_tiny16_state_dict.pth"), strict=True)
    return generator.eval(), _load(fixtures, "pggan_tiny16_expected.pth")


@pytest.mark.parametrize("lod", [0, 1])
def test_tiny_fixture_outputs_are_reproduced(tiny, lod):
    generator, expected = tiny
    with torch.no_grad():
        out = generator(expected["z"], lod=lod)
    assert out.shape == (6, 3, 16, 16)
    assert torch.allclose(out, expected[f"out_lod{lod}"], atol=1e-5)


def test_pixel_norm_makes_the_generator_blind_to_latent_scale(tiny):
    generator, expected = tiny
    with torch.no_grad():
        assert torch.allclose(generator(expected["z_scaled"]), expected["out_scaled"], atol=1e-5)
        assert torch.allclose(generator(expected["z_scaled"]), generator(expected["z"]), atol=1e-5)


def test_fractional_lod_fades_between_levels(tiny):
    generator, expected = tiny
    z = expected["z"]
    with torch.no_grad():
        half = generator(z, lod=0.5)
        assert torch.allclose(half, 0.5 * (generator(z, lod=0) + generator(z, lod=1)), atol=1e-5)
        assert torch.allclose(generator(z, lod=0.999), generator(z, lod=1), atol=1e-2)


def test_the_1024_layout_matches_interfacegans_file(fixtures):
    layout = json.loads((fixtures / "interfacegan_pggan" / "pggan_celebahq_1024_layout.json").read_text())
    with torch.device("meta"):
        generator = PGGANGenerator(PGGANConfig())
    ours = {k: list(v.shape) for k, v in generator.state_dict().items()}
    assert ours == layout["state_dict_shapes"]
    assert sum(v.numel() for v in generator.parameters()) + 1 == layout["num_parameters"]


def test_bad_latents_and_configs_are_explained():
    generator = PGGANGenerator(TINY)
    with pytest.raises(ValueError, match=r"\[N, 64\]"):
        generator(torch.zeros(2, 32))
    with pytest.raises(ValueError, match="lod"):
        generator(torch.zeros(1, 64), lod=3)
    with pytest.raises(ValueError, match="power of two"):
        PGGANConfig(resolution=100)


def test_inversion_lowers_the_reconstruction_error(tiny):
    from common.models.inversion import invert

    generator, expected = tiny
    with torch.no_grad():
        target = generator.decode(expected["z"][:2])
    z, history = invert(generator, target, steps=60, lr=0.05, candidates=16)
    assert z.shape == (2, 64)
    assert history[-1] < 0.5 * history[0]
    with pytest.raises(ValueError, match="16px"):
        invert(generator, torch.zeros(1, 3, 32, 32))


def test_missing_or_wrong_real_weights_give_clear_errors(tmp_path, fixtures):
    from common.weights.interfacegan import load_interfacegan_pggan
    from common.weights import WeightsError

    with pytest.raises(WeightsError, match=r"not found.*InterFaceGAN.*dropbox"):
        load_interfacegan_pggan(tmp_path / "pggan_celebahq.pth")
    tiny = fixtures / "interfacegan_pggan" / "pggan_tiny16_state_dict.pth"
    with pytest.raises(WeightsError, match="is not InterFaceGAN's pggan_celebahq.pth"):
        load_interfacegan_pggan(tiny)
    broken = tmp_path / "broken.pth"
    broken.write_bytes(tiny.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="could not be loaded"):
        load_interfacegan_pggan(broken)


def test_registry_replaces_a_wrong_file_only_with_a_checked_one(tmp_path, fixtures):
    from dataclasses import replace

    from common.weights.interfacegan import PGGAN_CELEBAHQ
    from common.weights import DownloadError, fetch

    item = replace(PGGAN_CELEBAHQ, destination=tmp_path / "pggan_celebahq.pth")
    tiny = fixtures / "interfacegan_pggan" / "pggan_tiny16_state_dict.pth"
    with pytest.raises(DownloadError, match=r"(?s)is not InterFaceGAN's.*put it at"):
        fetch(item, getter=lambda url, target: target.write_bytes(tiny.read_bytes()))
    assert list(tmp_path.iterdir()) == []


def test_published_boundaries_load_by_name(fixtures):
    boundaries = load_interfacegan_boundaries(fixtures / "interfacegan_boundaries")
    assert {"smile", "pose", "age", "gender", "eyeglasses", "age_c_gender"} <= set(boundaries)
    assert all(b.shape == (512,) for b in boundaries.values())
    assert boundaries["smile"].norm() == pytest.approx(1.0, abs=1e-3)


def test_missing_or_malformed_boundaries_are_explained(tmp_path):
    with pytest.raises(WeightsError, match="no pggan_celebahq_\\*_boundary.npy files in"):
        load_interfacegan_boundaries(tmp_path)
    np.save(tmp_path / "pggan_celebahq_smile_boundary.npy", np.zeros((1, 128)))
    with pytest.raises(WeightsError, match="holds 128 numbers"):
        load_interfacegan_boundaries(tmp_path)
    (tmp_path / "pggan_celebahq_smile_boundary.npy").write_bytes(b"not numpy")
    with pytest.raises(WeightsError, match="not a readable .npy file"):
        load_interfacegan_boundaries(tmp_path)


def test_early_activations_are_the_4x4_stage(tiny):
    """GANSpace's features are the 4x4 stage: its to-RGB block turns them into exactly the
    coarse 4x4 image the generator renders at its lowest level of detail."""
    generator, expected = tiny
    activations = generator.activations(expected["z"], layer=1)
    assert activations.shape == (6, 64 * 4 * 4)
    with torch.no_grad():
        coarse = generator.block("output0")(activations.view(6, 64, 4, 4))
        assert torch.allclose(coarse, generator.render(expected["z"], lod=generator.levels - 1), atol=1e-5)
