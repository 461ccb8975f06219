import pytest
import torch
from torch import nn

from common.arithmetic import add_vector, group_direction, interpolation_row
from common.judge.metrics import checkerboard_share, high_frequency_energy
from common.models.dfc import DFCLoss, FeatureNetworkError, VGGFeatures, perceptual_loss
from common.models.vae import VAE, VAEConfig
from common.train.recipes import DFCRecipe, VAERecipe


class Planted(nn.Module):
    """A fixed two-layer feature network."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        h = torch.relu(self.a(x))
        return [h, torch.relu(self.b(h))]


def test_perceptual_loss_is_zero_for_identical_images_and_grows_with_difference():
    torch.manual_seed(0)
    features, x = Planted(), torch.rand(2, 3, 16, 16) * 2 - 1
    assert perceptual_loss(features, x, x.clone()).item() == 0.0
    small = perceptual_loss(features, x, x + 0.05 * torch.randn_like(x))
    large = perceptual_loss(features, x, x + 0.5 * torch.randn_like(x))
    assert 0 < small < large


def test_gradients_reach_the_reconstruction_only():
    torch.manual_seed(0)
    features = Planted()
    x = (torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_(True)
    x_hat = torch.zeros(2, 3, 16, 16, requires_grad=True)
    perceptual_loss(features, x, x_hat).backward()
    assert x_hat.grad is not None and x_hat.grad.abs().sum() > 0
    assert x.grad is None
    assert all(p.grad is None for p in features.parameters())


def test_dfc_loss_trains_the_decoder_not_the_feature_network():
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=8, channels=(8, 8, 16, 16)))
    features = Planted()
    loss, parts = DFCLoss(features)(model, (torch.rand(2, 3, 64, 64) * 2 - 1,), step=0)
    loss.backward()
    assert set(parts) == {"perceptual", "kl"}
    assert model.decoder[-2].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in features.parameters())


def test_vgg_path_builds_and_runs_with_random_weights():
    features = VGGFeatures(("relu1_1", "relu2_1", "relu3_1"), pretrained=False)
    maps = features(torch.zeros(1, 3, 64, 64))
    assert [m.shape[1:] for m in maps] == [(64, 64, 64), (128, 32, 32), (256, 16, 16)]
    assert len(features.body) == 12  # stops after relu3_1
    assert not any(p.requires_grad for p in features.parameters())


def test_missing_vgg_weights_are_explained(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr("torchvision.models.vgg19", offline)
    with pytest.raises(FeatureNetworkError, match=r"torch cache .*vgg19-dcbb9e9d.pth.*features='classifier'"):
        VGGFeatures(("relu1_1",), pretrained=True)


def test_arithmetic_and_interpolation_on_a_vae():
    torch.manual_seed(0)
    model = VAE(VAEConfig(latent_dim=8, channels=(8, 8, 16, 16))).eval()
    with_a, without_a = torch.rand(3, 3, 64, 64), torch.rand(4, 3, 64, 64) - 1
    direction = group_direction("A", model, with_a, without_a)
    with torch.no_grad():
        vector = model.encode(with_a).mean(0) - model.encode(without_a).mean(0)
    assert torch.allclose(direction.step, vector, atol=1e-5)
    rows = add_vector(model, without_a[:2], direction, [0.0, 1.0, 2.0])
    assert len(rows) == 2 and rows[0].shape == (3, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(rows[0][0], model.decode(model.encode(without_a[:1]))[0], atol=1e-5)
        assert torch.allclose(rows[0][2], model.decode(model.encode(without_a[:1]) + 2 * vector)[0], atol=1e-4)
    for mode in ("lerp", "slerp"):
        row = interpolation_row(model, with_a[0], without_a[0], steps=5, mode=mode)
        with torch.no_grad():
            ends = model.decode(model.encode(torch.stack([with_a[0], without_a[0]])))
        assert torch.allclose(row[0], ends[0], atol=1e-5) and torch.allclose(row[-1], ends[1], atol=1e-5)


def test_high_frequency_energy_drops_with_blur():
    x = torch.rand(2, 3, 32, 32)
    blurred = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1)
    assert (high_frequency_energy(blurred) < 0.5 * high_frequency_energy(x)).all()


def test_checkerboard_share_rises_with_a_period_two_pattern_and_falls_with_blur():
    rows, columns = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    smooth = torch.exp(-((rows - 16) ** 2 + (columns - 12) ** 2) / 60.0).expand(1, 3, 32, 32)
    checkers = 0.05 * (-1.0) ** (rows + columns)
    stripes = 0.05 * (-1.0) ** rows
    base = checkerboard_share(smooth)
    assert base < 0.01
    assert (checkerboard_share(smooth + checkers) > 10 * base).all()
    assert (checkerboard_share(smooth + stripes) > 10 * base).all()
    noise = torch.rand(2, 3, 32, 32)
    blurred = torch.nn.functional.avg_pool2d(noise, 2, stride=1, padding=1)[..., :32, :32]
    assert (checkerboard_share(blurred) < 0.2 * checkerboard_share(noise)).all()


def test_the_dfc_decoder_upsamples_by_nearest_neighbour_and_the_vae_keeps_its_transposed_convs():
    def transposed_convs(recipe) -> int:
        return sum(isinstance(m, nn.ConvTranspose2d) for m in recipe.build().decoder.modules())
    assert transposed_convs(DFCRecipe.from_options()) == 0
    assert transposed_convs(VAERecipe.from_options()) == 4
