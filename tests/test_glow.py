"""Numerical proofs for Glow, in float64 on a tiny configuration whose zero-initialised
convolutions are perturbed (so the couplings and priors are not the identity)."""

import math

import pytest
import torch

from common.models import LatentModel
from common.models.glow import (ActNorm, Coupling, FlowStep, Glow, GlowConfig, InvConv1x1, ZeroConv2d, glow_loss,
                                gaussian_log_density, squeeze, unsqueeze)

@pytest.fixture(autouse=True, scope="module")
def _float64():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def _perturb(module: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    for sub in module.modules():
        if isinstance(sub, ZeroConv2d):
            with torch.no_grad():
                sub.conv.weight.copy_(0.05 * torch.randn(sub.conv.weight.shape, generator=g))
                sub.conv.bias.copy_(0.05 * torch.randn(sub.conv.bias.shape, generator=g))
                sub.logs.copy_(0.02 * torch.randn(sub.logs.shape, generator=g))


@pytest.fixture(params=[True, False], ids=["affine", "additive"])
def tiny(request):
    torch.manual_seed(0)
    model = Glow(GlowConfig(image_size=8, levels=2, steps=2, hidden=8, affine=request.param)).double()
    model.train()
    model.flow(torch.rand(16, 3, 8, 8) - 0.5)  # data-dependent ActNorm initialisation
    model.eval()
    _perturb(model)
    return model


def test_decode_inverts_encode_to_1e8(tiny):
    assert isinstance(tiny, LatentModel)
    x = torch.rand(4, 3, 8, 8) * 2 - 1
    codes = tiny.encode(x)
    assert codes.shape == (4, tiny.latent_dim) == (4, 192)
    assert (tiny.decode(codes) - x).abs().max() < 1e-8


@pytest.mark.parametrize("make", [lambda: ActNorm(4), lambda: InvConv1x1(4), lambda: Coupling(4, 8, True),
                                  lambda: Coupling(4, 8, False), lambda: FlowStep(4, 8, True)],
                         ids=["actnorm", "invconv", "affine-coupling", "additive-coupling", "flow-step"])
def test_each_module_inverts_and_its_log_determinants_cancel(make):
    torch.manual_seed(1)
    module = make().double()
    module.train()
    x = torch.randn(3, 4, 5, 5)
    module(x)  # initialise ActNorm
    _perturb(module)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.01 * torch.randn_like(p))
    y, forward_logdet = module(x)
    back, reverse_logdet = module.reverse(y)
    assert (back - x).abs().max() < 1e-10
    assert torch.allclose(forward_logdet + reverse_logdet, torch.zeros(3), atol=1e-10)
    jacobian = torch.autograd.functional.jacobian(lambda v: module(v[None])[0][0], x[0]).reshape(100, 100)
    assert forward_logdet[0].item() == pytest.approx(torch.linalg.slogdet(jacobian)[1].item(), abs=1e-8)


def test_log_likelihood_is_log_normal_of_eps_plus_the_full_jacobian(tiny):
    x = torch.rand(3, 8, 8) - 0.5
    _, log_p = tiny.flow(x[None])

    def to_eps(v):
        eps, _ = tiny.flow(v.view(1, 3, 8, 8))
        return torch.cat([e.flatten() for e in eps])

    jacobian = torch.autograd.functional.jacobian(to_eps, x.flatten())
    eps = to_eps(x.flatten())
    expected = -0.5 * (eps ** 2).sum() - 0.5 * len(eps) * math.log(2 * math.pi) + torch.linalg.slogdet(jacobian)[1]
    assert log_p.item() == pytest.approx(expected.item(), abs=1e-8)


def test_bits_per_dim_counts_the_bin_width_once(tiny):
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    noise = torch.rand(2, 3, 8, 8)
    bins = 2 ** tiny.config.n_bits
    quantised = torch.floor((x + 1) / 2 * bins).clamp(0, bins - 1) / bins - 0.5
    _, log_p = tiny.flow(quantised + noise / bins)
    expected = (-log_p + 192 * math.log(bins)) / (192 * math.log(2))
    assert torch.allclose(tiny.bits_per_dim(x, noise), expected)


def test_codes_far_from_the_data_still_decode_to_valid_pixels(tiny):
    wild = 50.0 * torch.randn(3, tiny.latent_dim, dtype=torch.float64)
    images = tiny.decode(wild)
    assert torch.isfinite(images).all() and images.abs().max() <= 1.0


def test_squeeze_round_trip_and_actnorm_state_is_saved():
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(unsqueeze(squeeze(x)), x) and squeeze(x).shape == (2, 12, 2, 2)
    norm = ActNorm(3)
    norm.train()
    norm(x * 3 + 1)
    fresh = ActNorm(3)
    fresh.load_state_dict(norm.state_dict())
    fresh.train()
    y, _ = fresh(torch.zeros(2, 3, 4, 4))  # must not re-initialise from this batch
    assert torch.allclose(y, norm(torch.zeros(2, 3, 4, 4))[0])


def test_gaussian_log_density_matches_torch():
    x, mean, logs = torch.randn(2, 3, 2, 2), torch.randn(2, 3, 2, 2), 0.3 * torch.randn(2, 3, 2, 2)
    expected = torch.distributions.Normal(mean, logs.exp()).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(gaussian_log_density(x, mean, logs), expected)


def test_additive_coupling_reverses_any_finite_code_to_finite_pixels_without_a_mask():
    torch.manual_seed(0)
    model = Glow(GlowConfig(image_size=8, levels=2, steps=2, hidden=8, affine=False))
    model.train()
    model.flow(torch.rand(16, 3, 8, 8) - 0.5)
    model.eval()
    _perturb(model)
    for scale in (1.0, 10.0, 100.0):   # per coordinate: far beyond any slider (a panel moves a code by at most 12)
        wild = scale * torch.randn(4, model.latent_dim)
        with torch.no_grad():
            assert torch.isfinite(model.reverse(wild)).all(), scale


def test_the_training_command_builds_glow_with_additive_coupling_by_default():
    from common.train.__main__ import build_parser

    assert build_parser().parse_args(["glow"]).coupling == "additive"
    assert build_parser().parse_args(["glow", "--coupling", "affine"]).coupling == "affine"


@pytest.mark.parametrize("size", [32, 64])
def test_the_recipe_builds_levels_down_to_a_4x4_top_at_either_size(size):
    from common.train.recipes import GlowRecipe

    model = GlowRecipe.from_options(image_size=size).build()
    top = model.split_latents(torch.zeros(1, model.latent_dim))[-1]
    assert top.shape[-2:] == (4, 4)


def test_an_8x8_top_at_64_px_takes_three_levels_and_names_itself_in_the_command():
    from common.train.recipes import GlowRecipe

    recipe = GlowRecipe.from_options(image_size=64, top_size=8)
    model = recipe.build()
    assert len(model.levels) == 3
    assert model.split_latents(torch.zeros(1, model.latent_dim))[-1].shape[-2:] == (8, 8)
    assert "--top-size 8" in recipe.command()
    assert "--top-size" not in GlowRecipe.from_options(image_size=64).command()


@pytest.mark.parametrize("size, top, named", [(48, 4, "48"), (64, 6, "6"), (32, 32, "twice")])
def test_levels_refuse_a_size_or_top_that_does_not_halve_down(size, top, named):
    from common.models.glow import levels_to_top

    with pytest.raises(ValueError, match=named):
        levels_to_top(size, top)


def test_a_face_noise_becomes_its_raw_latents_under_the_priors(tiny):
    """Codes are the raw latents z; the standardised eps of the same face, run through the
    learned priors (what sampling does), give back the same z."""
    x = torch.rand(3, 3, 8, 8, dtype=torch.float64) - 0.5
    with torch.no_grad():
        eps, _ = tiny.flow(x)
        noise = torch.cat([e.flatten(1) for e in eps], dim=1)
        assert torch.allclose(tiny.latents_from_noise(noise), tiny.encode(2 * x), atol=1e-8)
        assert not torch.allclose(noise, tiny.encode(2 * x), atol=1e-3)   # the priors do move them


def test_decoding_an_edited_code_never_evaluates_the_priors(tiny, monkeypatch):
    """An edit's reverse pass must not go through p(z2 | z1), whose scale extrapolates."""
    def no_prior(*args):
        raise AssertionError("the reverse pass evaluated a prior")
    codes = tiny.encode(torch.rand(2, 3, 8, 8, dtype=torch.float64) * 2 - 1)
    for level in tiny.levels:
        monkeypatch.setattr(level, "_prior", no_prior)
    with torch.no_grad():
        assert torch.isfinite(tiny.decode(codes + torch.randn_like(codes))).all()


def test_the_levels_parts_of_a_code_are_disjoint_and_sum_to_it(tiny):
    code = torch.randn(2, tiny.latent_dim)
    parts = [tiny.on_level(code, level) for level in range(len(tiny.shapes))]
    assert torch.equal(sum(parts), code)
    for level, (part, level_z, (c, h, w)) in enumerate(zip(parts, tiny.split_latents(code), tiny.shapes)):
        assert int((part != 0).sum()) == code.shape[0] * c * h * w
        assert torch.equal(tiny.split_latents(part)[level], level_z)


# --- the class-conditional top prior (issue 47) -----------------------------------------------

CONDITION = ("Smiling", "Male")


def _conditional(seed: int = 0) -> Glow:
    torch.manual_seed(seed)
    return Glow(GlowConfig(image_size=8, levels=2, steps=1, hidden=8, condition=CONDITION))


def test_a_conditional_glow_with_its_new_parts_at_zero_is_the_unconditional_one():
    """Adding the conditional prior to a trained Glow (``--init-from``) starts from the same density."""
    plain, conditional = _conditional(), _conditional()
    plain = Glow(GlowConfig(image_size=8, levels=2, steps=1, hidden=8))
    plain.load_state_dict({k: v for k, v in conditional.state_dict().items() if k in plain.state_dict()})
    x = torch.rand(4, 3, 8, 8) - 0.5
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    assert torch.allclose(conditional.flow(x, y)[1], plain.flow(x)[1])


def test_the_prior_shift_is_the_difference_of_the_prior_means_on_the_top_level_only():
    model = _conditional()
    for parameter in model.conditional.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    shift = model.prior_shift("Smiling")
    top = model.level_slices()[-1]
    assert shift[: top.start].abs().max() == 0 and shift[top].abs().max() > 0
    zeros = torch.zeros(1, *model.shapes[-1])
    for male in (0.0, 1.0):           # linear in y: the same whatever the other attributes
        mean_with, _ = model.levels[-1]._prior(zeros, torch.tensor([[1.0, male]]))
        mean_without, _ = model.levels[-1]._prior(zeros, torch.tensor([[0.0, male]]))
        assert torch.allclose(shift[top], (mean_with - mean_without).flatten(), atol=1e-6)
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert torch.allclose(model.decode(model.encode(x)), x, atol=1e-4)   # still exactly invertible
    with pytest.raises(ValueError, match="not 'Young'"):
        model.prior_shift("Young")


def test_training_the_conditional_glow_lowers_its_loss_and_its_head_learns_y():
    """Images whose brightness follows y[0] and whose red follows y[1]: the conditional prior
    and the head pick y up."""
    torch.manual_seed(0)
    y = (torch.rand(256, 2) > 0.5).float()
    red = torch.tensor([1.0, 0.0, 0.0])[None, :, None, None]
    x = (0.5 * y[:, :1, None, None] + 0.5 * y[:, 1:, None, None] * red - 0.4
         + 0.05 * torch.randn(256, 3, 8, 8)).clamp(-1, 1)
    model = _conditional()
    model.flow(x[:64] / 2, y[:64])                              # data-dependent ActNorm
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, head_bits = [], []
    for step in range(150):
        rows = torch.randint(256, (32,))
        loss, metrics = glow_loss(model, (x[rows], torch.cat([y[rows], torch.zeros(32, 38)], 1)), step,
                                  condition=(0, 1), classifier_weight=1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(metrics["bits_per_dim"])
        head_bits.append(metrics["attribute_bits"])
    assert sum(losses[-20:]) < 0.8 * sum(losses[:20])
    assert sum(head_bits[-20:]) / 20 < 0.5                      # 2 bits per image when it guesses
    assert torch.allclose(model.attribute_share.double(), y.mean(0).double(), atol=0.1)


def test_fitting_the_conditional_prior_puts_its_means_at_the_groups_latents():
    """The data-dependent start: the prior mean for each y is the least-squares fit of the
    top latents, so the prior shift of an attribute is the gap between the groups' latents."""
    model = _conditional()
    torch.manual_seed(1)
    y = (torch.rand(400, 2) > 0.5).float()
    x = (0.6 * y[:, :1, None, None] - 0.3 + 0.1 * torch.randn(400, 3, 8, 8)).clamp(-1, 1)
    model.flow(x[:64] / 2)                                         # data-dependent ActNorm
    model.eval()
    before = model.flow(x / 2, y)[1].mean()
    model.fit_conditional_prior(x, y)
    assert model.conditional.fitted
    top = model.split_latents(model.encode(x))[-1].flatten(1)
    gap = top[y[:, 0] == 1].mean(0) - top[y[:, 0] == 0].mean(0)
    shift = model.prior_shift("Smiling")[model.level_slices()[-1]]
    assert torch.nn.functional.cosine_similarity(shift, gap, dim=0) > 0.99
    assert float(shift.norm() / gap.norm()) == pytest.approx(1.0, abs=0.05)
    assert model.flow(x / 2, y)[1].mean() > before                # a better density than the zero start
    with torch.no_grad():
        model.conditional.prior.weight.mul_(0.1)                  # a map that lags behind the latents
    lagging = model.prior_shift("Smiling")
    model.fit_conditional_prior(x, y)                             # fitted once already: left as it is
    assert torch.equal(model.prior_shift("Smiling"), lagging)
    model.fit_conditional_prior(x, y, refit=True)                 # after training: fitted again
    assert torch.allclose(model.prior_shift("Smiling")[model.level_slices()[-1]], shift, atol=1e-4)
    holds = y[:, 0] == 1
    groups = model.prior_shift("Smiling", y[holds].mean(0), y[~holds].mean(0))[model.level_slices()[-1]]
    assert float((groups - gap).norm() / gap.norm()) < 0.02       # the fit's means follow the groups' latents
