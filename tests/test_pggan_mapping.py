"""The PGGAN's optional mapping network z -> w (issue 48) and the scores that rank designs."""

import pytest
import torch

from common import plot
from common.judge.gan_scores import read_samples, separability
from common.models.pggan import MappingNetwork, PGGANConfig, PGGANGenerator
from common.train.recipes import PGGANRecipe, RecipeError
from common.judge.scoreboard import EDITS

MAPPED = PGGANConfig(latent_dim=32, resolution=16, channels=(32, 16, 16), mapping_layers=3)


def test_edits_live_in_w_and_training_draws_through_the_mapping():
    torch.manual_seed(0)
    generator = PGGANGenerator(MAPPED).eval()
    w = generator.sample_latent(5, seed=3)
    z = torch.randn(5, 32, generator=torch.Generator().manual_seed(3))
    assert w.shape == (5, 32) and not torch.allclose(w, z)
    with torch.no_grad():
        assert torch.allclose(generator.decode(w), generator.generate(z).clamp(-1, 1), atol=1e-6)
        assert torch.allclose(generator.map(z), w, atol=1e-6)
    assert torch.equal(generator.sample_latent(5, seed=3), w)            # seeded: the same faces again


def test_without_mapping_w_is_z_and_the_layout_stays_interfacegans():
    generator = PGGANGenerator(PGGANConfig(latent_dim=32, resolution=16, channels=(32, 16, 16)))
    z = torch.randn(4, 32)
    assert torch.equal(generator.map(z), z)
    assert not any(key.startswith("mapping") for key in generator.state_dict())
    assert any(key.startswith("mapping.layers.2") for key in PGGANGenerator(MAPPED).state_dict())


def test_the_mapping_network_learns_at_a_hundredth_of_the_rate():
    """StyleGAN's learning-rate multiplier: the stored weights are 100x the applied ones, so
    one Adam step (a fixed size in stored units) moves the applied weights 100x less."""
    mapping = MappingNetwork(8, layers=1, lr_multiplier=0.01)
    layer = mapping.layers[0]
    applied = lambda: layer.weight * layer.scale  # noqa: E731
    before = applied().detach().clone()
    optimizer = torch.optim.Adam(mapping.parameters(), lr=1e-2)
    mapping(torch.randn(16, 8)).pow(2).sum().backward()
    optimizer.step()
    moved = (applied() - before).abs().max()
    assert 0 < moved <= 1e-2 * layer.scale * 1.01
    assert before.std() == pytest.approx(2 ** 0.5 / 8 ** 0.5, rel=0.5)   # He-scaled at run time


def test_the_recipe_records_and_rebuilds_the_design():
    recipe = PGGANRecipe.from_options(steps=30, mapping_layers=4, mapping_lr=0.1, channels=(128, 128, 64, 64, 32))
    block = recipe.model_block()
    assert block["mapping_layers"] == 4 and block["channels"] == [128, 128, 64, 64, 32] and block["mapping_lr"] == 0.1
    rebuilt = PGGANRecipe.from_blocks(block, recipe.train_block() | recipe.loss_block())
    assert rebuilt.gan == recipe.gan
    assert "mapping_layers" not in PGGANRecipe.from_options(steps=30).model_block()   # today's file keeps its record
    from common.train.__main__ import build_parser, recipe_from_arguments
    parsed = recipe_from_arguments(build_parser().parse_args(recipe.command().split()[3:]))
    assert parsed.gan == recipe.gan and parsed.train.steps == 30       # the recorded command rebuilds it
    with pytest.raises(RecipeError, match="64x64 generator has 5 levels"):
        PGGANRecipe.from_options(steps=30, channels=(64, 32))


def test_separability_finds_a_planted_linear_attribute_and_not_noise():
    codes = torch.randn(4000, 16)
    planted = codes[:, 3] + 0.05 * torch.randn(4000)
    assert separability(codes, planted, EDITS[0]) > 0.95
    assert separability(codes, torch.randn(4000), EDITS[0]) < 0.75


def test_samples_are_read_in_chunks_as_if_at_once(monkeypatch):
    class Reader:          # stands in for a EditScorer: its "reading" is the image mean
        def read(self, images):
            mean = images.mean(dim=(1, 2, 3))[:, None]
            return type("Reading", (tuple,), {})((mean, mean * 2, mean * 3, mean * 4))

    import common.judge.gan_scores as scores
    generator = PGGANGenerator(MAPPED).eval()
    codes, whole = read_samples(generator, Reader(), 12, seed=1)
    monkeypatch.setattr(scores, "READ_CHUNK", 5)
    again, chunked = read_samples(generator, Reader(), 12, seed=1)
    assert torch.equal(codes, again) and all(torch.allclose(a, b) for a, b in zip(whole, chunked))
    assert whole.probabilities.shape == (12, 1)


def test_markdown_table_formats_like_the_text_table():
    rows = [{"arm": "w", "smile separability": 0.951}, {"arm": "z", "smile separability": 0.77}]
    table = plot.markdown_table(rows, {"smile": ".0%"})
    assert table.splitlines() == ["| arm | smile separability |", "|---|---|", "| w | 95% |", "| z | 77% |"]


def _benchmark(name: str):
    """A module of ``benchmarks/`` (a folder on the path of its scripts, not a package)."""
    import importlib
    import sys
    from pathlib import Path

    folder = str(Path(__file__).resolve().parent.parent / "benchmarks")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def test_a_feature_map_view_decodes_its_codes_to_the_generators_faces():
    """``pggan_smile_reach.FeatureMapView``: a sample's feature map after any stage, decoded by
    the stages after it, is the face the generator draws from the sample's latent; and the
    R^2 it reports is 1 for a linear reading and near 0 for noise."""
    reach = _benchmark("pggan_smile_reach")
    torch.manual_seed(0)
    generator = PGGANGenerator(PGGANConfig(latent_dim=32, resolution=16, channels=(32, 16, 16))).eval()
    faces = generator.decode(generator.sample_latent(6, seed=2))
    for layer in (1, 3):
        view = reach.FeatureMapView(generator, layer)
        maps = view.sample_latent(6, seed=2)
        assert maps.shape == (6, generator.config.channels[layer // 2] * (4 * 2 ** (layer // 2)) ** 2)
        assert torch.allclose(view.decode(maps), faces, atol=1e-5)
    codes = torch.randn(2000, 8)
    assert reach.linear_r2(codes, codes @ torch.arange(8.0) + 3) == pytest.approx(1.0)
    assert reach.linear_r2(codes, torch.randn(2000)) < 0.02
