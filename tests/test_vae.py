import pytest
import torch
from torch.distributions import Normal, kl_divergence as torch_kl

from common.data import SynthFaces
from common.latent import traversal
from common.models import LatentModel
from common.models.vae import (VAE, VAEConfig, active_dimensions, capacity, kl_divergence, reconstruct,
                               vae_loss, vae_objective)
from common.train import TrainConfig, train

SMALL = dict(latent_dim=16, channels=(8, 16, 16, 32))


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(4, 6), torch.randn(4, 6)
    expected = torch_kl(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5)


@pytest.mark.parametrize("kind, weight", [("vanilla", 1.0), ("beta_h", 4.0)])
def test_objective_is_a_per_image_sum_plus_weighted_kl(kind, weight):
    x, rec = torch.zeros(2, 3, 64, 64), torch.full((2, 3, 64, 64), 0.1)
    mu, logvar = torch.ones(2, 5), torch.zeros(2, 5)
    loss, parts = vae_objective(VAEConfig(kind=kind), x, rec, mu, logvar, step=0)
    assert parts["reconstruction"] == pytest.approx(3 * 64 * 64 * 0.01, rel=1e-5)  # a sum, not a mean
    assert parts["kl"] == pytest.approx(2.5)
    assert loss.item() == pytest.approx(parts["reconstruction"] + weight * 2.5, rel=1e-5)


def test_burgess_capacity_grows_and_pulls_kl_toward_it():
    config = VAEConfig(kind="beta_b", gamma=1000.0, c_max=25.0, c_stop_step=100)
    assert [capacity(config, s) for s in (0, 50, 100, 500)] == [0.0, 12.5, 25.0, 25.0]
    x = rec = torch.zeros(1, 3, 64, 64)
    mu, logvar = torch.full((1, 2), 5.0 ** 0.5), torch.zeros(1, 2)  # KL = 5 nats
    loss, _ = vae_objective(config, x, rec, mu, logvar, step=50)
    assert loss.item() == pytest.approx(1000.0 * abs(5.0 - 12.5))
    with pytest.raises(ValueError, match="kind"):
        VAEConfig(kind="beta")


@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
def test_vae_is_a_latent_model_with_shapes_and_ranges(upsample):
    model = VAE(VAEConfig(**SMALL, upsample=upsample)).eval()
    assert isinstance(model, LatentModel)
    x = torch.rand(3, 3, 64, 64) * 2 - 1
    z = model.encode(x)
    assert z.shape == (3, 16) and torch.equal(z, model.encode(x))  # mu: deterministic
    out = model.decode(z)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert active_dimensions(model, x, 4).shape == (4,)
    assert traversal(z[0], 2, torch.linspace(-3, 3, 5))[:, 2].tolist() == [-3.0, -1.5, 0.0, 1.5, 3.0]


def test_a_short_run_lowers_reconstruction_error():
    faces = SynthFaces(n=256, size=64, seed=0)
    images = faces.images(range(32))
    torch.manual_seed(0)
    model = VAE(VAEConfig(**SMALL))
    before = (reconstruct(model, images) - images).pow(2).mean()
    history = train(model, vae_loss, faces, TrainConfig(steps=60, batch_size=32, lr=3e-3, log_every=10, progress=False))
    after = (reconstruct(model, images) - images).pow(2).mean()
    assert after < 0.6 * before
    assert history.values["loss"][-1] < history.values["loss"][0]


def test_an_unknown_upsampling_is_refused_by_name():
    with pytest.raises(ValueError, match="bilinear"):
        VAEConfig(upsample="bilinear")
